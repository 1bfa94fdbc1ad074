"""The Proxmox simulator's API tokens and their privileges (reference proxmox.md §1.1, §1.3, §12).

Owns: which tokens the simulator knows and the ACL each one has (privsep tokens: their own ACL;
every entry propagates), ``GET /access/permissions`` (the caller's effective privileges, per path
or for the default paths plus every ACL path, empty ones left out, as pve-access-control's
``get_effective_permissions`` does) and the privilege checks on the calls that need one, with
PVE's exact 403 text ``Permission check failed (<path>, <priv>[|<priv>…])``.
Must not: route requests or know guests beyond the path (``simulator`` does).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

# The lab's own token: what an admin grants a token it trusts (propagating from "/").
FULL_PRIVILEGES = (
    "Datastore.AllocateSpace", "SDN.Use", "Sys.Audit", "VM.Allocate", "VM.Audit", "VM.Config.Cloudinit",
    "VM.Config.Network", "VM.GuestAgent.Audit", "VM.Monitor", "VM.PowerMgmt",
)
# A read-only token: PVEAuditor-like on /vms plus what reading guest agents needs.
READ_PRIVILEGES = ("VM.Audit", "VM.GuestAgent.Audit", "VM.Monitor")
DEFAULT_PATHS = ("/", "/access", "/access/groups", "/nodes", "/pool", "/sdn", "/storage", "/vms")
PVE8_ONLY = frozenset({"VM.Monitor"})
PVE9_ONLY = frozenset({"VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted"})
USERID_RE = re.compile(r"^[^\s:/]+@[A-Za-z][A-Za-z0-9.\-_]+(?:![A-Za-z][A-Za-z0-9.\-_]+)?$")


@dataclass(frozen=True)
class SimToken:
    """One API token: ``user@realm!name=value`` and its ACL (path → privileges)."""

    user: str
    name: str
    value: str
    acl: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: {"/": FULL_PRIVILEGES})

    @property
    def tokenid(self) -> str:
        return f"{self.user}!{self.name}"


class Denied(Exception):
    """A call the token may not make: ``status`` and the reason phrase (PVE's text)."""

    def __init__(self, status: int, message: str, errors: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors


def _existing(privs: tuple[str, ...], pve9: bool) -> tuple[str, ...]:
    """The names this PVE major version knows (VM.Monitor is gone on 9, VM.GuestAgent.* new on 9)."""
    gone = PVE8_ONLY if pve9 else PVE9_ONLY
    return tuple(p for p in privs if p not in gone)


def _covers(acl_path: str, path: str) -> bool:
    """Whether an ACL entry on ``acl_path`` gives its privileges on ``path``: it is the path or a
    parent of it (all entries propagate)."""
    return acl_path == "/" or path == acl_path or path.startswith(acl_path.rstrip("/") + "/")


def effective(token: SimToken, path: str, pve9: bool) -> dict[str, int]:
    """The token's privileges on ``path``: every ACL entry on it or on a parent (all propagate)."""
    out: dict[str, int] = {}
    for acl_path, privs in token.acl.items():
        if _covers(acl_path, path):
            out.update(dict.fromkeys(_existing(privs, pve9), 1))
    return dict(sorted(out.items()))


def permissions(token: SimToken, query: Mapping[str, str], pve9: bool) -> dict[str, dict[str, int]]:
    """``GET /access/permissions``: with ``path`` that path only (even when empty); else every default
    and ACL path the token has something on."""
    unknown = sorted(set(query) - {"path", "userid"})
    if unknown:
        raise Denied(400, "Parameter verification failed.", {k: "property is not defined in schema and the "
                                                               "schema does not allow additional properties"
                                                             for k in unknown})
    userid = query.get("userid")
    if userid is not None and not USERID_RE.match(userid):
        raise Denied(400, "Parameter verification failed.",
                     {"userid": "value does not match the regex pattern"})
    if userid not in (None, token.tokenid):
        raise Denied(403, "Permission check failed (/access, Sys.Audit)")
    if "path" in query:
        return {query["path"]: effective(token, query["path"], pve9)}
    paths = sorted({*DEFAULT_PATHS, *token.acl})
    return {p: privs for p in paths if (privs := effective(token, p, pve9))}


_GUEST = re.compile(r"^/nodes/[^/]+/(qemu|lxc)/(\d+)(/.*)?$")
_CREATE = re.compile(r"^/nodes/[^/]+/(qemu|lxc)$")


def required(method: str, path: str, params: Mapping[str, str],
             pve9: bool) -> tuple[str, tuple[str, ...]] | None:
    """The ACL path and the privileges (any of them) ``method path`` needs; None for calls every token
    may make (lists are filtered instead, own task status)."""
    if method == "POST" and (m := _CREATE.match(path)):
        return f"/vms/{params.get('vmid', '')}", ("VM.Allocate",)
    m = _GUEST.match(path)
    if m is None:
        return None
    gtype, acl, rest = m.group(1), f"/vms/{m.group(2)}", m.group(3) or ""
    if method == "DELETE" and not rest:
        return acl, ("VM.Allocate",)
    if method == "POST" and rest.startswith("/status/"):
        return acl, ("VM.PowerMgmt",)
    if method == "PUT" and rest == "/config":
        nets = any(re.fullmatch(r"net\d+", k) for k in params)
        if gtype == "lxc" or nets:
            return acl, ("VM.Config.Network",)
        return acl, ("VM.Config.Cloudinit", "VM.Config.Network")
    if method == "GET" and rest == "/agent/network-get-interfaces":
        return acl, (("VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted") if pve9 else ("VM.Monitor",))
    if method == "GET" and rest in ("/config", "/pending", "/interfaces", "/status/current", "/cloudinit"):
        return acl, ("VM.Audit",)
    return None


def authorize(token: SimToken, method: str, path: str, params: Mapping[str, str], pve9: bool) -> None:
    """Raise ``Denied`` (403, PVE's text) when ``token`` lacks what the call needs."""
    need = required(method, path, params, pve9)
    if need is None:
        return
    acl, privs = need
    # what ``effective(token, acl, pve9)`` would hold, asked directly: does an entry covering ``acl``
    # give one of ``privs`` this version knows (no sorted dict built per request)
    wanted = _existing(privs, pve9)
    if any(_covers(on, acl) and any(p in given for p in wanted) for on, given in token.acl.items()):
        return
    raise Denied(403, f"Permission check failed ({acl}, {'|'.join(privs)})")
