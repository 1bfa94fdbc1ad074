"""``show dhcp server leases`` of VyOS 1.4 / 1.5 (vyos.md §4): tabulate's "simple" table.

Owns: reading the table by the column positions its dashes line gives (a blank Hostname cell
stays blank instead of shifting the columns), into the lease shape ``inventory edgemax`` uses.
Must not: do I/O. A text that is no such table is a ``ProviderDataError`` naming the line.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ProviderDataError
from core.names import mac_or_text

HEADER = ("IP Address", "MAC address", "State", "Lease start", "Lease expiration", "Remaining", "Pool",
          "Hostname", "Origin")  # fmt: skip


@dataclass(frozen=True)
class Lease:
    ip: str
    mac: str | None
    expires: str | None  # "YYYY/MM/DD HH:MM:SS" as the router prints it
    pool: str | None
    hostname: str | None
    state: str = "active"

    def to_dict(self) -> dict[str, str | None]:
        return {"ip": self.ip, "mac": self.mac, "expires": self.expires, "pool": self.pool,
                "hostname": self.hostname}  # fmt: skip


def _spans(dashes: str) -> list[tuple[int, int]]:
    spans, i = [], 0
    while i < len(dashes):
        if dashes[i] == "-":
            j = i
            while j < len(dashes) and dashes[j] == "-":
                j += 1
            spans.append((i, j))
            i = j
        else:
            i += 1
    return spans


def parse_leases(text: str, source: str = "show dhcp server leases") -> tuple[Lease, ...]:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ()
    if len(lines) < 2 or (set(lines[1].strip()) != {"-", " "} and set(lines[1].strip()) != {"-"}):
        raise ProviderDataError("vyos", f"{source}:1: not a lease table (no dashes line under the header)")
    spans = _spans(lines[1])
    header = tuple(lines[0][a:b if k + 1 < len(spans) else None].strip() for k, (a, b) in enumerate(spans))
    if header[:len(HEADER)] != HEADER[:len(header)] or "IP Address" not in header:
        raise ProviderDataError("vyos", f"{source}:1: unexpected columns {list(header)}")
    out = []
    for n, line in enumerate(lines[2:], 3):
        cells = [line[a:(spans[k + 1][0] if k + 1 < len(spans) else None)].strip()
                 for k, (a, _) in enumerate(spans)]  # fmt: skip
        row = dict(zip(header, cells, strict=True))
        if not row.get("IP Address"):
            raise ProviderDataError("vyos", f"{source}:{n}: a lease row without an IP address")
        out.append(Lease(row["IP Address"], mac_or_text(row.get("MAC address")),
                         row.get("Lease expiration") or None, row.get("Pool") or None,
                         row.get("Hostname") or None, row.get("State") or "active"))
    return tuple(out)
