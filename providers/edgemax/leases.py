"""DHCP leases: parse `show dhcp leases` and ISC dhcpd.leases, render the table (for the simulator).

Owns: the frozen :class:`Lease`, the fixed-width table format (edgeos.md §3.5) including the
`Warning: leased IP address [N] not in any of the pools` lines, and the ISC lease file.
Must not: decide what a lease means for bindings, or do I/O. A bad row of `show dhcp leases` makes
that one lease unusable (``LeaseTable.unusable`` says which and why; a client name holding a line
break or a control character is one), never the whole table; ``parse_show_leases`` and the ISC
parser raise ``ProviderDataError("edgemax", "<source>:<line>: …")`` instead.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.errors import ProviderDataError
from core.names import mac_or_text
from providers.vyatta.observe import iso_expiry as iso_expiry

HEADER = (
    "IP address      Hardware Address   Lease expiration     Pool       Client Name\n"
    "----------      ----------------   ----------------     ----       -----------\n"
)
ROW_FORMAT = "%-16s%-19s%-21s%-11s%s"
_WARNING = re.compile(r"^Warning: leased IP address \[(\d+)\] not in any of the pools\s*$")
_DATE = re.compile(r"^\d{4}/\d{2}/\d{2}$")
_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}$")
_PROMPT = re.compile(r"^[\w.\-]+@[\w.\-]+(?::\S*)?\s*[$#>](?:\s.*)?$")


@dataclass(frozen=True)
class Lease:
    ip: str
    mac: str | None
    expires: str | None  # "YYYY/MM/DD HH:MM:SS" as the router prints it
    pool: str | None  # the shared-network-name
    hostname: str | None  # None when the client sent none ("?")

    def to_dict(self) -> dict[str, str | None]:
        return {"ip": self.ip, "mac": self.mac, "expires": self.expires, "pool": self.pool,
                "hostname": self.hostname}  # fmt: skip


@dataclass(frozen=True)
class LeaseTable:
    leases: tuple[Lease, ...] = ()
    warnings: tuple[str, ...] = ()  # IPs the router says are leased outside every pool
    unusable: tuple[str, ...] = ()  # "<source>:<line>: …" for every row left out, with the reason


def _fail(source: str, lineno: int, what: str) -> ProviderDataError:
    return ProviderDataError("edgemax", f"{source}:{lineno}: {what}")


def _ip(text: str, source: str, lineno: int) -> str:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise _fail(source, lineno, f"not an IP address: {text[:40]!r}") from None


def read_show_leases(text: str, source: str = "show dhcp leases") -> LeaseTable:
    """The leases and the "not in any of the pools" warnings of `show dhcp leases`; a row that cannot
    be read is left out and listed in ``unusable`` with the reason."""
    leases: list[Lease] = []
    warnings: list[str] = []
    unusable: list[str] = []
    broken: int | None = None  # the line of a row whose client name went on past a line break
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or _PROMPT.match(line) or line.startswith(("IP address", "----------")):
            continue
        match = _WARNING.match(line)
        if match:
            number = int(match.group(1))
            if number > 0xFFFFFFFF:
                unusable.append(f"{source}:{lineno}: lease warning with an impossible address {number}")
            else:
                warnings.append(str(ipaddress.IPv4Address(number)))
            continue
        try:
            lease = _row(line, source, lineno)
        except ProviderDataError as err:
            if leases and broken is None and _not_a_row_start(line):
                last = leases.pop()  # the previous row's client name holds a line break
                broken = lineno - 1
                unusable.append(f"{source}:{broken}: the lease of {last.ip} ({last.mac or 'no MAC'}) is left "
                                f"out: its client name holds a line break (it goes on with {line[:40]!r})")
            elif broken is None or not _not_a_row_start(line):
                unusable.append(str(err).removeprefix("edgemax: "))
            continue
        broken = None
        if _CONTROL.search(raw.rstrip("\r")):
            unusable.append(f"{source}:{lineno}: the lease of {lease.ip} ({lease.mac or 'no MAC'}) is left "
                            "out: its client name holds a control character")
            continue
        leases.append(lease)
    return LeaseTable(tuple(leases), tuple(warnings), tuple(unusable))


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _not_a_row_start(line: str) -> bool:
    """Whether a line cannot begin a lease row (its first word is no IP address)."""
    try:
        ipaddress.ip_address(line.split()[0])
    except ValueError:
        return True
    return False


def _row(line: str, source: str, lineno: int) -> Lease:
    tokens = line.split()
    if len(tokens) < 5:
        raise _fail(source, lineno, f"not a lease row: {line[:60]!r}")
    ip = _ip(tokens[0], source, lineno)
    mac = mac_or_text(tokens[1])
    if _DATE.match(tokens[2]) and _TIME.match(tokens[3]):
        expires, pool, name_tokens = f"{tokens[2]} {tokens[3]}", tokens[4], tokens[5:]
    else:  # hand-edited or unknown date format: the last two columns are pool and name
        expires, pool, name_tokens = " ".join(tokens[2:-2]), tokens[-2], tokens[-1:]
    name = " ".join(name_tokens)
    return Lease(ip, mac, expires or None, pool, None if name in ("", "?") else name)


def parse_show_leases(text: str, source: str = "show dhcp leases") -> list[Lease]:
    """The lease rows of `show dhcp leases`, strictly: a row that cannot be read raises (use
    :func:`read_show_leases` for the warnings and for leaving bad rows out)."""
    table = read_show_leases(text, source)
    if table.unusable:
        raise ProviderDataError("edgemax", table.unusable[0])
    return list(table.leases)


def render_show_leases(leases: Iterable[Lease], warnings: Sequence[str] = ()) -> str:
    """`show dhcp leases` exactly as EdgeOS prints it (warnings first, then the table)."""
    out = [f"Warning: leased IP address [{int(ipaddress.IPv4Address(ip))}] not in any of the pools\n"
           for ip in warnings]  # fmt: skip
    out.append(HEADER)
    for lease in leases:
        row = ROW_FORMAT % (
            lease.ip,
            lease.mac or "",
            lease.expires or "",
            lease.pool or "",
            lease.hostname or "?",
        )
        out.append(row + "\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# ISC dhcpd.leases

_ISC_TIME = re.compile(r"^\d+ (\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2})$")


def parse_dhcpd_leases(text: str, source: str = "dhcpd.leases", *, active_only: bool = True) -> list[Lease]:
    """Leases of an ISC dhcpd lease file; the last block of an IP wins (the file is a log).

    The pool comes from the `#shared-network: NAME` comment EdgeOS's dhcpd writes in each
    lease. With ``active_only`` (default) only leases in `binding state active` are returned.
    """
    latest: dict[str, tuple[Lease, str | None]] = {}
    current: dict[str, str | None] | None = None
    depth = 0
    start_line = 0
    for lineno, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if current is not None and line.startswith("#shared-network:"):
                current["pool"] = line.split(":", 1)[1].strip() or None
            continue
        if current is None:
            if depth == 0 and line.startswith("lease ") and line.endswith("{"):
                addr = line[len("lease ") : -1].strip()
                current = {"ip": _ip(addr, source, lineno), "pool": None, "mac": None, "ends": None,
                           "hostname": None, "state": None}  # fmt: skip
                start_line = lineno
                continue
            depth += line.count("{") - line.count("}")  # other blocks (host, failover, server-duid)
            if depth < 0:
                raise _fail(source, lineno, "unexpected '}'")
            continue
        if line == "}":
            lease = Lease(
                current["ip"] or "", current["mac"], current["ends"], current["pool"], current["hostname"]
            )
            latest.pop(lease.ip, None)  # keep file order of the last occurrence
            latest[lease.ip] = (lease, current["state"])
            current = None
            continue
        statement = line.rstrip(";").strip()
        if statement.startswith("hardware ethernet "):
            current["mac"] = mac_or_text(statement.split()[-1])
        elif statement.startswith("client-hostname "):
            current["hostname"] = statement[len("client-hostname ") :].strip().strip('"') or None
        elif statement.startswith("ends "):
            match = _ISC_TIME.match(statement[len("ends ") :])
            current["ends"] = match.group(1) if match else None
        elif statement.startswith("binding state "):
            current["state"] = statement[len("binding state ") :].strip()
        elif statement.startswith("lease "):
            raise _fail(source, lineno, f"lease block starting at line {start_line} is never closed")
    if current is not None:
        raise _fail(source, start_line, "lease block is never closed")
    return [lease for lease, state in latest.values() if not active_only or state in (None, "active")]
