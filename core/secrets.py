"""Secret references: ``${env:NAME}``, ``${file:PATH}`` or a literal, resolved only when needed.

Owns: the ``Secret`` value (``repr``/``str`` never show the value) and the pydantic field type
``SecretField`` that settings models use for every secret.
Must not: resolve eagerly, log, or let a value reach state, plans or messages.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator

from core.errors import SecretError

SECRET_RE = re.compile(r"^\$\{(env|file):([^}]+)\}$")


class Secret:
    """A secret reference (``${env:NAME}``, ``${file:PATH}``) or a literal, resolved lazily.

    ``repr`` and ``str`` never show the value.
    """

    __slots__ = ("_base", "_ref")

    def __init__(self, ref: str, base: Path | None = None) -> None:
        self._ref = ref
        self._base = base

    @property
    def reference(self) -> str:
        """The reference text if it is one (safe to show), else ``"<literal>"``."""
        return self._ref if SECRET_RE.match(self._ref) else "<literal>"

    def resolve(self) -> str:
        match = SECRET_RE.match(self._ref)
        if not match:
            return self._ref
        kind, name = match.groups()
        if kind == "env":
            if name not in os.environ:
                raise SecretError(f"environment variable {name} is not set (referenced as ${{env:{name}}})")
            return os.environ[name]
        path = Path(name).expanduser()
        if not path.is_absolute() and self._base is not None:
            path = self._base / path
        try:
            return path.read_text().strip()
        except OSError as exc:
            raise SecretError(f"cannot read secret file {path}: {exc.strerror}") from None

    def __repr__(self) -> str:
        return f"Secret({self.reference!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._ref == self._ref

    def __hash__(self) -> int:
        return hash(self._ref)


def _to_secret(value: Any) -> Secret:
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError("must be a string or a ${env:NAME} / ${file:PATH} reference")
    return Secret(value)


SecretField = Annotated[Secret, BeforeValidator(_to_secret)]
