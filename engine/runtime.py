"""Runtime glue: the state backend and the providers a configuration asks for.

Owns: turning a ``Config`` into a live ``StateBackend`` and one provider per configured
system instance (through the registry, never a concrete import), and closing them all.
Must not: print, plan or apply; secrets are resolved only here and inside providers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from typing import TYPE_CHECKING

from core.config import Config, split_key
from core.errors import ConfigError
from providers import registry
from providers.base import Provider

if TYPE_CHECKING:
    from state.backend import StateBackend

log = logging.getLogger(__name__)


def _version() -> str:
    try:
        return metadata.version("netsot")
    except metadata.PackageNotFoundError:  # running from a checkout that was never installed
        return "0.1.0"


NETSOT_VERSION = _version()


def open_backend(config: Config, *, force: bool = False) -> StateBackend:
    """The state backend of ``config``: a file next to the config file, or PostgreSQL.

    ``force`` (``--force-state``) accepts a stored state that went backwards (``StateRegressed``).
    """
    settings = config.state
    if settings.backend == "file":
        from state.backend import FileBackend

        return FileBackend(config.resolve_path(settings.path), force=force)
    if settings.dsn is None:
        raise ConfigError("state.dsn is required when state.backend is postgres")
    from state.postgres import PostgresBackend

    return PostgresBackend(settings.dsn.resolve(), settings.key, force=force)


def with_parallelism(config: Config, limit: int | None) -> Config:
    """``config`` with every system's concurrency (a settings model's ``max_workers``) capped at
    ``limit`` (``--parallelism N``); the systems read their own settings, so none is named here."""
    if limit is None:
        return config
    capped = {}
    for key, settings in config.providers.items():
        current = getattr(settings, "max_workers", None)
        if "max_workers" in type(settings).model_fields and isinstance(current, int) and current > limit:
            settings = settings.model_copy(update={"max_workers": limit})
        capped[key] = settings
    return config.model_copy(update={"providers": capped})


def build_providers(config: Config, only: tuple[str, ...] | None = None) -> dict[str, Provider]:
    """One provider per configured system instance (or those in ``only``), keyed by instance key,
    in the registry's order.

    Construction does no I/O (the protocol says so); if one constructor fails, the ones
    already built are closed before the error propagates.
    """
    built: dict[str, Provider] = {}
    try:
        for key in registry.ordered(config.providers):
            if only is not None and key not in only:
                continue
            kind, instance = split_key(key)
            cls = registry.provider_class(kind)
            settings = config.settings(key)
            built[key] = cls(config, settings, instance) if instance else cls(config, settings)
    except BaseException:
        close_providers(built)
        raise
    return built


def close_providers(providers: dict[str, Provider]) -> None:
    """Close every provider; a failing close is logged, never raised."""
    for name, provider in providers.items():
        try:
            provider.close()
        except Exception as exc:  # closing is best effort: the run's own error matters more
            log.warning("close_providers: %s failed to close: %s", name, exc)


@contextmanager
def open_providers(config: Config, only: tuple[str, ...] | None = None) -> Iterator[dict[str, Provider]]:
    """``with open_providers(config) as providers:`` — built on entry, all closed on exit."""
    providers = build_providers(config, only)
    try:
        yield providers
    finally:
        close_providers(providers)


