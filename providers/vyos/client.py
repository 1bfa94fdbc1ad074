"""netsot's client of VyOS's HTTPS API (vyos.md §5): one ``requests`` session, key in every body.

Owns: TLS as configured — verified against a CA bundle, or the server certificate pinned by its
SHA-256 fingerprint (VyOS's certificate is self-signed by default) — never unverified; the API
key; the calls netsot makes (``/retrieve`` showConfig of a path, ``/show`` op-mode text, one
``/configure`` with a list of operations and an optional ``confirm_time``, the ``confirm`` op,
``/config-file`` save); the reply envelope ``{success, data, error}`` and its status codes turned
into netsot's errors (401 → ProviderAuthError, 400 → ProviderRejected with VyOS's text, …).
Must not: decide what to change, or log the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from core.errors import (
    ProviderAuthError,
    ProviderDataError,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)

SYSTEM = "vyos"
EMPTY_PATH = "Configuration under specified path is empty"


@dataclass(frozen=True)
class Op:
    """One ``/configure`` operation: ``set`` or ``delete`` of a word path (the value its last word)."""

    op: str
    path: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"op": self.op, "path": list(self.path)}


class _PinnedAdapter(HTTPAdapter):
    """Checks the server certificate's SHA-256 fingerprint instead of a CA chain (urllib3 pinning)."""

    def __init__(self, fingerprint: str) -> None:
        self._pin = fingerprint.upper().removeprefix("SHA256:").replace(":", "").replace(" ", "").lower()
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["assert_fingerprint"] = self._pin
        kwargs["cert_reqs"] = "CERT_NONE"  # the pin replaces the chain: the cert is self-signed
        super().init_poolmanager(*args, **kwargs)


class VyosClient:
    """One router's API. ``ca_bundle`` or ``fingerprint`` must be given (never unverified TLS)."""

    def __init__(self, url: str, key: str, *, ca_bundle: str | None = None, fingerprint: str | None = None,
                 timeout: float = 60.0) -> None:
        if not ca_bundle and not fingerprint:
            raise ProviderError(SYSTEM, "TLS needs a CA bundle (ca_bundle) or a pinned certificate "
                                "fingerprint (fingerprint)")
        self.url = url.rstrip("/")
        self._key = key
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or CA variables from the environment
        self.fingerprint = fingerprint
        if fingerprint:
            self.session.mount("https://", _PinnedAdapter(fingerprint))
            self.session.verify = False
        else:
            self.session.verify = str(ca_bundle)

    def close(self) -> None:
        self.session.close()

    # -- the calls ---------------------------------------------------------------------------
    def show_config(self, path: Sequence[str]) -> Any:
        """``showConfig`` of ``path`` as JSON (None when nothing is configured there)."""
        try:
            return self._post("/retrieve", {"op": "showConfig", "path": list(path), "configFormat": "json"})
        except ProviderRejected as err:
            if EMPTY_PATH in str(err):
                return None
            raise

    def show(self, path: Sequence[str]) -> str:
        """The text an op-mode ``show`` command prints (``["dhcp", "server", "leases"]``)."""
        data = self._post("/show", {"op": "show", "path": list(path)})
        if not isinstance(data, str):
            what = type(data).__name__
            raise ProviderDataError(SYSTEM, f"/show {' '.join(path)} answered {what}, not text")
        return data

    def configure(self, ops: Sequence[Op], confirm_minutes: int | None = None) -> str | None:
        """Every operation in ONE ``/configure`` call (one commit); ``confirm_minutes``: commit-confirm."""
        body: dict[str, Any] = {"commands": [o.to_json() for o in ops]}
        if confirm_minutes is not None:
            body["confirm_time"] = int(confirm_minutes)
        data = self._post("/configure", body)
        return data if isinstance(data, str) else None

    def confirm(self) -> str | None:
        data = self._post("/configure", {"op": "confirm"})
        return data if isinstance(data, str) else None

    def save(self) -> str:
        data = self._post("/config-file", {"op": "save"})
        return data if isinstance(data, str) else ""

    # -- the envelope ------------------------------------------------------------------------
    def _post(self, endpoint: str, body: Mapping[str, Any]) -> Any:
        try:
            payload = {**body, "key": self._key}
            reply = self.session.post(self.url + endpoint, json=payload, timeout=self.timeout)
        except requests.exceptions.SSLError as err:
            how = f"the pinned fingerprint {self.fingerprint}" if self.fingerprint else "the CA bundle"
            raise ProviderUnavailable(SYSTEM, f"TLS verification of {self.url} failed against {how}: "
                                      f"{_reason(err)}") from None
        except requests.exceptions.Timeout:
            late = f"{self.url}{endpoint} did not answer in {self.timeout:g}s"
            raise ProviderTimeout(SYSTEM, late) from None
        except requests.exceptions.RequestException as err:
            raise ProviderUnavailable(SYSTEM, f"cannot reach {self.url}: {_reason(err)}") from None
        try:
            envelope = reply.json()
        except ValueError:
            bad = f"{endpoint} answered HTTP {reply.status_code} without JSON"
            raise ProviderDataError(SYSTEM, bad) from None
        if not isinstance(envelope, dict) or "success" not in envelope:
            shown = str(envelope)[:200]
            raise ProviderDataError(SYSTEM, f"{endpoint} answered HTTP {reply.status_code}: {shown}")
        error = str(envelope.get("error") or envelope.get("detail") or "").strip()
        if reply.status_code == 401:
            raise ProviderAuthError(SYSTEM, f"{error or 'unauthorized'} (check the API key)")
        if reply.status_code == 400:
            raise ProviderRejected(SYSTEM, error)
        if reply.status_code != 200 or not envelope["success"]:
            raise ProviderError(SYSTEM, f"{endpoint} failed (HTTP {reply.status_code}): {error}")
        return envelope.get("data")


def _reason(err: Exception) -> str:
    text = str(err)
    return text if len(text) < 300 else text[:300] + "…"
