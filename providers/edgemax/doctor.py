"""``netsot doctor`` for an EdgeRouter: reachable, its SSH host key as pinned in ``known_hosts``, the
user logs in, may read the configuration (admin level: operators get "Must be an admin user"),
and may enter configuration mode and run ``compare`` (left with ``exit discard``).

Must not: set, commit or save anything.
"""

from __future__ import annotations

import shutil
import subprocess

from core.config import Config
from core.errors import NetsotError, ProviderAuthError
from core.probe import tcp_error
from providers.base import DoctorCheck
from providers.edgemax.session import NO_CHANGES, EdgeSession
from providers.edgemax.settings import EdgemaxSettings

ADMIN_FIX = ("give the user the admin level (operators can neither show the configuration nor configure); "
             "on the router:\nconfigure\nset system login user {user} level admin\ncommit ; save ; exit")


def refused_read(text: str) -> str | None:
    """Why ``show configuration commands`` did not show a configuration (an operator-level user gets
    "Must be an admin user to run this command." instead, edgeos.md §1.1), or None when it did."""
    if any(line.startswith("set ") for line in text.splitlines()):
        return None
    return next((line.strip() for line in text.splitlines() if line.strip()), "no configuration shown")


def _pinned(settings: EdgemaxSettings, config: Config) -> DoctorCheck:
    """Whether known_hosts holds an entry for the router (the mismatch case shows when connecting)."""
    path = config.resolve_path(settings.known_hosts)
    name = settings.host if settings.port == 22 else f"[{settings.host}]:{settings.port}"
    scan = f"ssh-keyscan -p {settings.port} {settings.host}"
    fix = (f"run `netsot init` (it shows the key's fingerprint and asks), or compare "
           f"`{scan} | ssh-keygen -lf -` with `ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub` on the "
           f"router, then `{scan} >> {path}`")
    if not path.is_file():
        return DoctorCheck("host key pinned", False, f"{path} does not exist", fix)
    keygen = shutil.which("ssh-keygen")
    if keygen:
        found = subprocess.run([keygen, "-F", name, "-f", str(path)], capture_output=True, text=True,
                               check=False)
        if found.returncode != 0 or not found.stdout.strip():
            return DoctorCheck("host key pinned", False, f"{path} has no key for {name}", fix)
    return DoctorCheck("host key pinned", True, f"in {path}")


def run(config: Config, key: str) -> list[DoctorCheck]:
    settings: EdgemaxSettings = config.settings(key)
    where = f"{settings.host}:{settings.port}"
    problem = tcp_error(settings.host, settings.port, min(float(settings.timeout), 5.0))
    if problem:
        return [DoctorCheck(f"reachable at {where}", False, problem,
                            "check host and port, and that SSH is enabled on the router "
                            "(set service ssh port 22)")]
    checks = [DoctorCheck(f"reachable at {where}", True), _pinned(settings, config)]
    if not checks[-1].ok:
        return checks
    login = f"user {settings.username} logs in ({'key' if settings.private_key else 'password'})"
    with EdgeSession(settings, config) as session:
        try:
            session.open()
        except ProviderAuthError as exc:
            text = str(exc).split(": ", 1)[-1]
            if "host key" in text:
                return [*checks[:-1], DoctorCheck("host key as pinned", False, text,
                                                  "the router's key changed or known_hosts holds another "
                                                  "host's key: verify the router's key before replacing it")]
            return [*checks, DoctorCheck(login, False, text,
                                         "check username and key/password; for key auth on the router: "
                                         f"configure; loadkey {settings.username} <public key file>; "
                                         "commit ; save")]
        except NetsotError as exc:
            return [*checks, DoctorCheck(login, False, str(exc))]
        checks.append(DoctorCheck(login, True))
        try:
            refused = refused_read(session.show_commands())
            if refused:
                checks.append(DoctorCheck("read: show configuration commands", False, refused,
                                          ADMIN_FIX.format(user=settings.username)))
                return checks
            checks.append(DoctorCheck("read: show configuration commands", True))
        except NetsotError as exc:
            checks.append(DoctorCheck("read: show configuration commands", False, str(exc).split(": ", 1)[-1],
                                      ADMIN_FIX.format(user=settings.username)))
            return checks
        try:
            out = session.compare_working()
            detail = "no pending changes" if out.startswith(NO_CHANGES) else (out.splitlines() or [""])[0]
            checks.append(DoctorCheck("write: configure and compare", True, detail))
        except NetsotError as exc:
            checks.append(DoctorCheck("write: configure and compare", False, str(exc).split(": ", 1)[-1],
                                      ADMIN_FIX.format(user=settings.username)))
    return checks
