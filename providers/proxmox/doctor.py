"""``netsot doctor`` for a Proxmox VE cluster: reachable, TLS as pinned, the token authenticates, and
the token holds every privilege netsot needs (reference proxmox.md §1.3, §12), asked of the cluster
through ``GET /access/permissions`` — never by trying a write.

Owns: the least-privilege role (per PVE major version), which privilege each job needs on which
ACL path, and the exact ``pveum`` commands that grant a missing one.
Must not: change anything on the cluster.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.config import Config
from core.errors import NetsotError, ProviderAuthError
from core.probe import tcp_error, tls_peer
from providers.base import DoctorCheck
from providers.proxmox.client import ProxmoxClient
from providers.proxmox.settings import ProxmoxSettings

ROLE = "NetsotSync"
ROLE_PRIVS = {8: ("VM.Audit", "VM.Monitor", "VM.Config.Cloudinit", "VM.Config.Network", "SDN.Use"),
              9: ("VM.Audit", "VM.GuestAgent.Audit", "VM.Config.Cloudinit", "VM.Config.Network", "SDN.Use")}
SDN_PATH = "/sdn/zones/localnetwork"


@dataclass(frozen=True)
class Need:
    """A privilege (any of ``privs``) on ``path`` that netsot needs for ``job``."""

    path: str
    privs: tuple[str, ...]
    job: str


def needs(major: int) -> tuple[Need, ...]:
    """What netsot's reads and writes need on this PVE major version."""
    agent = ("VM.GuestAgent.Audit", "VM.GuestAgent.Unrestricted") if major >= 9 else ("VM.Monitor",)
    return (
        Need("/vms", ("VM.Audit",), "read: guests and their configs"),
        Need("/vms", agent, "read: guest agents' addresses"),
        Need("/vms", ("VM.Config.Cloudinit", "VM.Config.Network"),
             "write: VM cloud-init ipconfig (write-back)"),
        Need("/vms", ("VM.Config.Network",), "write: LXC guests' netN (write-back)"),
        Need(SDN_PATH, ("SDN.Use",), "write: LXC netN on a bridge"),
    )


def grant_commands(settings: ProxmoxSettings, major: int, path: str) -> str:
    """The ``pveum`` commands that give the token (and its user: privsep=1 tokens get the intersection)
    the least-privilege role on ``path``."""
    privs = ",".join(ROLE_PRIVS[9 if major >= 9 else 8])
    token = f"{settings.user}!{settings.token_name}"
    return (f"pveum role add {ROLE} --privs \"{privs}\"   (once; `pveum role modify {ROLE} --privs …` "
            f"if it exists)\n"
            f"pveum acl modify {path} --users {settings.user} --roles {ROLE}\n"
            f"pveum acl modify {path} --tokens '{token}' --roles {ROLE}")


def _major(version: str) -> int:
    head = version.split(".", 1)[0].split("-", 1)[0]
    return int(head) if head.isdigit() else 8


def _tls(settings: ProxmoxSettings, config: Config) -> DoctorCheck:
    where = f"{settings.host}:{settings.port}"
    if settings.verify_tls is False:
        return DoctorCheck("TLS certificate verified", False, "verify_tls is false: the token is sent to "
                           "whoever answers", "pin the cluster's CA: `netsot init` shows its fingerprint, "
                           "or copy /etc/pve/pve-root-ca.pem here and set verify_tls: <that file>")
    cafile = None if settings.verify_tls is True else str(config.resolve_path(str(settings.verify_tls)))
    try:
        peer = tls_peer(settings.host, settings.port, cafile)
    except OSError as exc:
        return DoctorCheck("TLS certificate verified", False, f"no TLS handshake with {where}: {exc}",
                           "is this pveproxy's port (8006)?")
    pinned = f"against {cafile}" if cafile else "against the system CAs"
    if not peer.verified:
        return DoctorCheck("TLS certificate verified", False,
                           f"{peer.error} ({pinned}); the server presents SHA-256 {peer.fingerprint}",
                           "if that fingerprint is your cluster's (`pvenode cert info` on a node), set "
                           "verify_tls to the cluster CA /etc/pve/pve-root-ca.pem copied here")
    return DoctorCheck("TLS certificate verified", True, f"{pinned}; SHA-256 {peer.fingerprint}")


def run(config: Config, key: str) -> list[DoctorCheck]:
    settings: ProxmoxSettings = config.settings(key)
    where = f"{settings.host}:{settings.port}"
    problem = tcp_error(settings.host, settings.port, min(float(settings.timeout), 5.0))
    if problem:
        return [DoctorCheck(f"reachable at {where}", False, problem,
                            "check host and port (pveproxy listens on 8006) and any firewall in between")]
    checks = [DoctorCheck(f"reachable at {where}", True), _tls(settings, config)]
    if not checks[-1].ok and settings.verify_tls is not False:
        return checks
    client = ProxmoxClient(settings)
    token = f"{settings.user}!{settings.token_name}"
    try:
        version = str(client.version().get("version", ""))
    except ProviderAuthError as exc:
        fix = ("check token_name and the secret token_value points to "
               f"(`pveum user token list {settings.user}`), or make a new one: "
               f"pveum user token add {settings.user} {settings.token_name} --privsep 1")
        return [*checks, DoctorCheck(f"token {token} authenticates", False, str(exc).split(": ", 1)[-1], fix)]
    except NetsotError as exc:
        return [*checks, DoctorCheck(f"token {token} authenticates", False, str(exc))]
    finally:
        client.close()
    checks.append(DoctorCheck(f"token {token} authenticates", True, f"Proxmox VE {version}"))
    major = _major(version)
    held: dict[str, dict[str, object]] = {}
    client = ProxmoxClient(settings)
    try:
        for need in needs(major):
            if need.path not in held:
                held[need.path] = client.permissions(need.path)
            has = [p for p in need.privs if p in held[need.path]]
            what = f"{' or '.join(need.privs)} on {need.path} ({need.job})"
            lacks = f"the token lacks {' and '.join(need.privs)}"
            checks.append(DoctorCheck(what, True) if has else DoctorCheck(
                what, False, lacks, grant_commands(settings, major, need.path)))
    except NetsotError as exc:
        checks.append(DoctorCheck("privileges (GET /access/permissions)", False, str(exc)))
    finally:
        client.close()
    return checks
