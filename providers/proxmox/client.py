"""All Proxmox I/O: proxmoxer over HTTPS with an API token, one session per worker thread.

Owns: building ``ProxmoxAPI`` objects (thread-local, per-call timeouts, TLS verification),
the handful of API calls netsot makes, boolean → 0/1 conversion, and turning every
proxmoxer / requests failure into a netsot ``ProviderError`` with one clear sentence.
Must not: interpret guest data (see ``mapping``) or ever put the token value in a message.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import ssl
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import requests
from proxmoxer import ProxmoxAPI
from proxmoxer.core import ResourceException

from core.errors import (
    ChangedUnderneath,
    ProviderAuthError,
    ProviderDataError,
    ProviderError,
    ProviderRejected,
    ProviderTimeout,
    ProviderUnavailable,
)
from providers.proxmox.http import ResponseTooLarge
from providers.proxmox.settings import ProxmoxSettings

SYSTEM = "proxmox"
NODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*$")

# Agent answers that only mean "no data now" (qemu-server Agent.pm / QMPClient.pm texts).
AGENT_NO_DATA_RE = re.compile(
    r"^(No QEMU guest agent configured"
    r"|VM \d+ is not running"
    r"|QEMU guest agent is not running"
    r"|VM \d+ (qmp|qga) command '[^']*' failed - got timeout)"
)
CHANGED_RE = re.compile(r"checksum mismatch|detected modified configuration")
T = TypeVar("T")


class NodeUnavailable(ProviderUnavailable):
    """A cluster node behind pveproxy cannot be reached (595/596); other nodes may be fine."""

    def __init__(self, node: str, message: str) -> None:
        self.node = node
        super().__init__(SYSTEM, message)


class NodeTimeout(ProviderTimeout):
    """A request about one node's guests did not finish in time."""

    def __init__(self, node: str, message: str) -> None:
        self.node = node
        super().__init__(SYSTEM, message)


class CappedAdapter(requests.adapters.HTTPAdapter):
    """Reads every answer as a stream and stops past ``limit`` bytes (by Content-Length, before reading
    a byte, or while reading), so a huge answer costs neither the memory nor the time to read it all."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit

    def send(self, request: Any, stream: bool = False, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = super().send(request, stream=True, **kwargs)
        length = response.headers.get("Content-Length", "")
        if length.strip().isdigit() and int(length) > self.limit:
            response.close()
            raise ResponseTooLarge(self.limit)
        body = bytearray()
        for chunk in response.iter_content(65536):
            body += chunk
            if len(body) > self.limit:
                response.close()
                raise ResponseTooLarge(self.limit)
        response._content = bytes(body)
        response._content_consumed = True
        return response


def to_api_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """proxmoxer sends Python booleans as ``True``; PVE wants ``1``/``0``. ``None`` is dropped."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, list | tuple):
            value = ",".join(str(int(v) if isinstance(v, bool) else v) for v in value)
        out[key] = value
    return out


def _check_node(node: str) -> str:
    if not isinstance(node, str) or not NODE_RE.match(node):
        raise ProviderDataError(SYSTEM, f"invalid node name {node!r}")
    return node


class ProxmoxClient:
    """The Proxmox VE API as netsot uses it. Thread-safe: each thread gets its own session."""

    def __init__(self, settings: ProxmoxSettings) -> None:
        self._settings = settings
        self._local = threading.local()
        self._token: str | None = None
        self._lazy_lock = threading.Lock()  # the token and the TLS context are made once, on first use
        self._tls: ssl.SSLContext | None = None  # one for every thread's lean connection

    # ------------------------------------------------------------------ plumbing

    @property
    def endpoint(self) -> str:
        return f"https://{self._settings.host}:{self._settings.port}"

    def _token_value(self) -> str:
        with self._lazy_lock:
            if self._token is None:
                self._token = self._settings.token_value.resolve()
            return self._token

    def _tls_context(self) -> ssl.SSLContext:
        from providers.proxmox.http import tls_context

        with self._lazy_lock:
            if self._tls is None:
                self._tls = tls_context(self._settings.verify_tls)
            return self._tls

    def _api(self, agent: bool) -> ProxmoxAPI:
        attr = "agent_api" if agent else "api"
        api = getattr(self._local, attr, None)
        if api is None:
            s = self._settings
            api = ProxmoxAPI(
                s.host,
                port=s.port,
                user=s.user,
                token_name=s.token_name,
                token_value=self._token_value(),
                verify_ssl=s.verify_tls,
                timeout=s.agent_timeout if agent else s.timeout,
            )
            if not _lean_session(api, self._local, s, self._token_value(),
                                 s.agent_timeout if agent else s.timeout, self._tls_context):
                _skip_unused_environment(api, s.verify_tls is True)
                if isinstance(s.verify_tls, str):
                    _trust_pinned_certificates(api)
                _cap_responses(api, s.max_response_bytes)
                sibling = getattr(self._local, "api" if agent else "agent_api", None)
                if sibling is not None:
                    _share_connections(api, sibling)
            setattr(self._local, attr, api)
        return api

    def _call(
        self,
        method: str,
        parts: Sequence[Any],
        *,
        node: str | None = None,
        agent: bool = False,
        params: Mapping[str, Any] | None = None,
        handle: Callable[[ResourceException], T] | None = None,
    ) -> Any:
        path = "/" + "/".join(str(p) for p in parts)
        api = self._api(agent)
        kwargs = to_api_params(params or {})
        try:
            # the path as the call's arguments (``api.get("nodes", node, …)``): proxmoxer joins it to
            # its base URL once, where ``api(parts).get()`` joins twice (~10 % of a call's CPU)
            if method == "GET":
                return _json_or_fail(api.get(*parts, **kwargs), method, path)
            if method == "POST":
                return _json_or_fail(api.post(*parts, **kwargs), method, path)
            return _json_or_fail(api.put(*parts, **kwargs), method, path)
        except ResponseTooLarge as exc:
            raise ProviderDataError(
                SYSTEM, f"{method} {path}: the answer from {self.endpoint} is larger than {exc.limit} bytes; "
                "refused without reading the rest (providers.proxmox.max_response_bytes raises the limit)"
            ) from None
        except ResourceException as exc:
            if handle is not None:
                return handle(exc)
            raise self._translate(exc, method, path, node) from None
        except requests.exceptions.SSLError:
            raise ProviderAuthError(
                SYSTEM,
                f"TLS verification failed for {self.endpoint}; set verify_tls to a CA bundle "
                "(the cluster's pve-root-ca.pem) or fix the certificate",
            ) from None
        except requests.exceptions.Timeout:
            limit = self._settings.agent_timeout if agent else self._settings.timeout
            where = f"node {node} ({method} {path})" if node else f"{method} {path}"
            message = f"no answer from {where} within {limit:g} s"
            if node:
                raise NodeTimeout(node, message) from None
            raise ProviderTimeout(SYSTEM, message) from None
        except requests.exceptions.ConnectionError as exc:
            reason = _short_reason(exc)
            raise ProviderUnavailable(SYSTEM, f"cannot connect to {self.endpoint}: {reason}") from None
        except requests.exceptions.RequestException as exc:
            raise ProviderError(SYSTEM, f"{method} {path} failed: {type(exc).__name__}") from None
        except ValueError as exc:  # e.g. proxmoxer's JSON decoding
            raise ProviderDataError(SYSTEM, f"{method} {path}: unreadable answer ({exc})") from None

    def _translate(self, exc: ResourceException, method: str, path: str, node: str | None) -> ProviderError:
        code = int(exc.status_code)
        reason = str(exc.content or "").strip() or str(exc.status_message or "")
        errors = exc.errors if isinstance(exc.errors, Mapping) and "errors" not in exc.errors else None
        where = f"{method} {path}"
        if code == 401:
            return ProviderAuthError(
                SYSTEM,
                f"authentication failed: {reason} (check user, token_name and token_value of "
                f"{self._settings.user}!{self._settings.token_name})",
            )
        if code == 403:
            return ProviderAuthError(SYSTEM, f"permission denied for {where}: {reason}")
        if code == 400:
            detail = "; ".join(f"{k}: {str(v).strip()}" for k, v in (errors or {}).items())
            return ProviderRejected(
                SYSTEM, f"{where} rejected: {reason}" + (f" ({detail})" if detail else "")
            )
        if code in (595, 596, 597, 599):
            target = node or "the target node"
            message = f"node {target} is unreachable ({code} {reason})"
            return NodeUnavailable(node, message) if node else ProviderUnavailable(SYSTEM, message)
        if code == 500 and CHANGED_RE.search(reason):
            return ChangedUnderneath(SYSTEM, f"{path} changed underneath us ({reason}); run plan again")
        return ProviderError(SYSTEM, f"{where} failed: {code} {reason}")

    # ------------------------------------------------------------------ reads

    def version(self) -> dict[str, Any]:
        return self._call("GET", ["version"])

    def nodes(self) -> list[dict[str, Any]]:
        return self._call("GET", ["nodes"])

    def permissions(self, path: str) -> dict[str, Any]:
        """The token's own effective privileges on ``path`` (``GET /access/permissions``): priv →
        propagate."""
        answer = self._call("GET", ["access", "permissions"], params={"path": path})
        return dict((answer or {}).get(path) or {})

    def connect(self) -> None:
        """Open this thread's connection ahead of its first request: a read worker's TLS handshake then
        overlaps the guest list's request instead of following it. Best effort: a connection that
        fails here is left to the first request, which meets the failure again and reports it."""
        from providers.proxmox.http import LeanSession

        session = self._api(False)._store.get("session")
        if isinstance(session, LeanSession):
            with contextlib.suppress(OSError):
                session.connection.open(session.timeout)

    def cluster_resources_vms(self) -> list[dict[str, Any]]:
        data = self._call("GET", ["cluster", "resources"], params={"type": "vm"})
        if not isinstance(data, list):
            raise ProviderDataError(SYSTEM, "/cluster/resources did not return a list")
        return data

    def cluster_tasks(self) -> list[dict[str, Any]]:
        """``GET /cluster/tasks``: the recent worker tasks of every node (proxmox.md §3.12)."""
        data = self._call("GET", ["cluster", "tasks"])
        if not isinstance(data, list):
            raise ProviderDataError(SYSTEM, "/cluster/tasks did not return a list")
        return data

    def qemu_config(self, node: str, vmid: int) -> dict[str, Any]:
        return self._config("qemu", node, vmid)

    def lxc_config(self, node: str, vmid: int) -> dict[str, Any]:
        return self._config("lxc", node, vmid)

    def guest_config(self, gtype: str, node: str, vmid: int) -> dict[str, Any]:
        return self._config(gtype, node, vmid)

    def _config(self, gtype: str, node: str, vmid: int) -> dict[str, Any]:
        data = self._call("GET", ["nodes", _check_node(node), gtype, int(vmid), "config"], node=node)
        if not isinstance(data, dict):
            raise ProviderDataError(SYSTEM, f"config of {node}/{vmid} is not an object")
        return data

    def agent_interfaces(self, node: str, vmid: int) -> list[dict[str, Any]] | None:
        """The agent's ``result`` list, or None when the guest/agent has nothing to say."""

        def no_data(exc: ResourceException) -> None:
            if exc.status_code == 500 and AGENT_NO_DATA_RE.match(str(exc.content or "")):
                return None
            raise self._translate(exc, "GET", path, node) from None

        parts = ["nodes", _check_node(node), "qemu", int(vmid), "agent", "network-get-interfaces"]
        path = "/" + "/".join(map(str, parts))
        data = self._call("GET", parts, node=node, agent=True, handle=no_data)
        if data is None:
            return None
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, dict) and "error" in result:
            return None  # agent answered 200 with an error object (Unsupported, CommandDisabled)
        if not isinstance(result, list):
            raise ProviderDataError(SYSTEM, f"agent answer of {node}/{vmid} has no result list")
        return result

    def lxc_interfaces(self, node: str, vmid: int) -> list[dict[str, Any]] | None:
        """``ip a`` of a container, or None when stopped or on PVE 7 (501)."""

        def no_data(exc: ResourceException) -> None:
            if exc.status_code == 501:
                return None
            raise self._translate(exc, "GET", path, node) from None

        parts = ["nodes", _check_node(node), "lxc", int(vmid), "interfaces"]
        path = "/" + "/".join(map(str, parts))
        data = self._call("GET", parts, node=node, handle=no_data)
        if data is None:
            return None
        if not isinstance(data, list):
            raise ProviderDataError(SYSTEM, f"interfaces of {node}/{vmid} is not a list")
        return data

    # ------------------------------------------------------------------ writes

    def set_qemu_config(self, node: str, vmid: int, digest: str | None, **params: Any) -> None:
        self._set("qemu", node, vmid, digest, params)

    def set_lxc_config(self, node: str, vmid: int, digest: str | None, **params: Any) -> None:
        self._set("lxc", node, vmid, digest, params)

    def _set(self, gtype: str, node: str, vmid: int, digest: str | None, params: Mapping[str, Any]) -> None:
        body = dict(params)
        if digest:
            body["digest"] = digest
        self._call("PUT", ["nodes", _check_node(node), gtype, int(vmid), "config"], node=node, params=body)

    def regenerate_cloudinit(self, node: str, vmid: int) -> None:
        """``PUT …/qemu/{vmid}/cloudinit``: rebuild the drive from the config (``VM.Config.Cloudinit``)."""
        self._call("PUT", ["nodes", _check_node(node), "qemu", int(vmid), "cloudinit"], node=node)

    def power(self, gtype: str, node: str, vmid: int, action: str, **params: Any) -> str:
        """``POST …/status/{start|stop|shutdown|reboot}`` (``VM.PowerMgmt``): the worker task's UPID."""
        if action not in ("start", "stop", "shutdown", "reboot"):
            raise ProviderDataError(SYSTEM, f"unknown power action {action!r}")
        upid = self._call("POST", ["nodes", _check_node(node), gtype, int(vmid), "status", action], node=node,
                          params=params)
        if not isinstance(upid, str) or not upid.startswith("UPID:"):
            raise ProviderDataError(SYSTEM, f"{action} of {node}/{vmid} returned no task id")
        return upid

    def task_status(self, node: str, upid: str) -> dict[str, Any]:
        data = self._call("GET", ["nodes", _check_node(node), "tasks", upid, "status"], node=node)
        if not isinstance(data, dict):
            raise ProviderDataError(SYSTEM, f"task status of {upid} is not an object")
        return data

    def wait_task(self, node: str, upid: str, timeout: float, poll: float = 0.5) -> None:
        """Until the task stopped; a failed task (``exitstatus`` not OK / WARNINGS) or the time raises."""
        deadline = time.monotonic() + timeout
        while True:
            status = self.task_status(node, upid)
            if status.get("status") == "stopped":
                exit_status = str(status.get("exitstatus", ""))
                if exit_status != "OK" and not exit_status.startswith("WARNINGS"):
                    kind = status.get("type", "")
                    raise ProviderError(SYSTEM, f"task {kind} on {node} failed: {exit_status}")
                return
            if time.monotonic() >= deadline:
                raise ProviderTimeout(SYSTEM, f"task {upid} on {node} did not finish within {timeout:g} s")
            time.sleep(poll)

    def close(self) -> None:
        """Drop this thread's sessions (other threads' sessions go with their thread-locals)."""
        for attr in ("api", "agent_api"):
            api = getattr(self._local, attr, None)
            if api is not None:
                session = api._store.get("session")  # proxmoxer keeps its requests.Session here
                if session is not None:
                    session.close()
                setattr(self._local, attr, None)
        self._local.connection = None


_ENV_BUNDLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


def _json_or_fail(data: Any, method: str, path: str) -> Any:
    """proxmoxer hands back ``{"errors": <raw body>}`` for an answer that is not JSON: say so, and where."""
    if isinstance(data, dict) and set(data) == {"errors"} and isinstance(data["errors"], bytes | bytearray):
        raw = bytes(data["errors"])
        try:
            json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            raise ProviderDataError(SYSTEM, f"{method} {path}: the answer is not valid JSON: not UTF-8 text "
                                            f"(byte {err.start})") from None
        except ValueError as err:
            where = (f"line {err.lineno} column {err.colno} (char {err.pos})"
                     if isinstance(err, json.JSONDecodeError) else "")
            reason = err.msg if isinstance(err, json.JSONDecodeError) else str(err)
            raise ProviderDataError(SYSTEM, f"{method} {path}: the answer is not valid JSON: {reason} at "
                                            f"{where}") from None
        raise ProviderDataError(SYSTEM, f"{method} {path}: the answer is JSON without a 'data' member")
    return data


def _cap_responses(api: ProxmoxAPI, limit: int) -> None:
    """Every answer of this API's session is read through a ``CappedAdapter``."""
    session = api._store.get("session")  # proxmoxer keeps its requests.Session here
    if isinstance(session, requests.Session):
        session.mount("https://", CappedAdapter(limit))


def _lean_session(api: ProxmoxAPI, local: threading.local, s: ProxmoxSettings, token: str,
                  timeout: float, tls: Callable[[], ssl.SSLContext]) -> bool:
    """Send ``api``'s requests through this thread's lean keep-alive connection (``http``): half
    the CPU of requests + urllib3 per call. Not when the environment names a proxy or a CA bundle
    that requests would honour (then requests stays, and behaves exactly as configured)."""
    if any(k.lower().endswith("_proxy") for k in os.environ):
        return False
    if s.verify_tls is True and any(os.environ.get(k) for k in _ENV_BUNDLES):
        return False
    from providers.proxmox.http import Connection, LeanSession

    conn = getattr(local, "connection", None)
    if conn is None:
        conn = local.connection = Connection(s.host, s.port, tls(), s.max_response_bytes)
    api._store["session"] = LeanSession(conn, f"PVEAPIToken={s.user}!{s.token_name}={token}", timeout)
    return True


def _skip_unused_environment(api: ProxmoxAPI, system_cas: bool) -> None:
    """Let requests skip its per-request environment lookups when no variable could matter.

    With ``trust_env`` requests scans the whole environment for proxy settings on EVERY request
    (~0.2 ms CPU each, a sixth of a request's cost: thousands per read). It only matters when a
    ``*_proxy`` variable is set, or a CA-bundle variable while ``verify_tls`` is true (a CA file
    or false wins over the environment; netrc is never used: the token is the auth), so then it
    stays on and everything works as before.
    """
    if any(k.lower().endswith("_proxy") for k in os.environ):
        return
    if system_cas and any(os.environ.get(k) for k in _ENV_BUNDLES):
        return
    session = api._store.get("session")  # proxmoxer keeps its requests.Session here
    if isinstance(session, requests.Session):
        session.trust_env = False


class _PinnedAdapter(requests.adapters.HTTPAdapter):
    """TLS against the CA bundle ``verify_tls`` names only (never the system CAs besides), where a
    certificate in it is a trust anchor even when it is not a CA: the server's own certificate that
    ``netsot init`` pinned after its fingerprint was confirmed (OpenSSL's partial-chain flag)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # hostname check and CERT_REQUIRED; no default CAs
        ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
        kwargs["ssl_context"] = ctx
        super().init_poolmanager(*args, **kwargs)


def _trust_pinned_certificates(api: ProxmoxAPI) -> None:
    session = api._store.get("session")  # proxmoxer keeps its requests.Session here
    if isinstance(session, requests.Session):
        session.mount("https://", _PinnedAdapter())


def _share_connections(api: ProxmoxAPI, sibling: ProxmoxAPI) -> None:
    """Both APIs of a thread (normal and agent timeout) send through ONE connection pool.

    Otherwise a thread reading configs and agent answers keeps two keep-alive connections and
    pays two TLS handshakes. The timeout is chosen per request from each API's own settings, so
    sharing the adapter (urllib3's pool) changes nothing else; the pool stays thread-local.
    """
    session = api._store.get("session")  # proxmoxer keeps its requests.Session here
    other = sibling._store.get("session")
    if isinstance(session, requests.Session) and isinstance(other, requests.Session):
        session.mount("https://", other.get_adapter("https://"))


def _short_reason(exc: Exception) -> str:
    text = str(exc)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "No route to host",
        "Network is unreachable",
        "Connection reset",
        "timed out",
    ):
        if marker in text:
            return marker
    return type(exc).__name__
