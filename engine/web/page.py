"""What the status page's templates get: the matrix filtered and sorted, the run, each system's
health with its age, the networks' address use, and one host's explanation.

Owns: ``status_context`` (the query: search text over name / MAC / IP / vendor, a network filter,
the sort key; each shown row's details from ``engine.web.pagedetail``), ``host_context``,
``network_context`` (the address map, ``engine.web.addressmap``) and ``health_rows`` (a system's data
is *stale* when its last good read is older than the view's ``stale_after``, or its last read failed).
Must not: do I/O, produce HTML (the templates do, with autoescaping), or name a system.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.ipv4 import ip_int
from engine.report.status import Matrix, Row

SORTS = ("network", "name", "ip", "mac", "state")
_STATE_ORDER = {"red": 0, "amber": 1, "new": 2, "ok": 3, "absent": 4}


def health_rows(view: Any, now: float) -> list[dict[str, Any]]:
    out = []
    for h in view.health:
        age = now - h.last_ok if h.last_ok is not None else None
        stale = (not h.ok) or age is None or age > view.stale_after
        out.append(
            {
                "system": h.system,
                "ok": h.ok,
                "age": age,
                "stale": stale,
                "error": h.error,
                "seconds": h.seconds,
            }
        )
    return out


def _sort_key(sort: str) -> Any:
    if sort == "ip":
        return lambda r: (ip_int(r.ip) or 0, r.network, r.name)
    if sort == "mac":
        return lambda r: (r.mac or "", r.network, r.name)
    if sort == "state":
        return lambda r: (_STATE_ORDER.get(r.state, 9), r.network, r.name)
    if sort == "name":
        return lambda r: (r.name, r.network)
    return None  # the matrix's own order: network, then name


def select(rows: Sequence[Row], query: str, network: str, sort: str) -> list[Row]:
    """The rows a search (every word must match name, MAC, IP, network or vendor) and a network keep."""
    words = query.lower().split()
    out = [
        r for r in rows if (not network or r.network == network) and all(w in r.search_text for w in words)
    ]
    key = _sort_key(sort)
    return sorted(out, key=key) if key is not None else out


def _groups(matrix: Matrix) -> list[dict[str, Any]]:
    groups: list[dict[str, Any]] = []
    for column in matrix.columns:
        if groups and groups[-1]["title"] == column.group:
            groups[-1]["span"] += 1
        else:
            groups.append({"title": column.group, "span": 1})
    return groups


def status_context(view: Any, *, query: str, network: str, sort: str, now: float) -> dict[str, Any]:
    matrix: Matrix = view.matrix
    sort = sort if sort in SORTS else "network"
    rows = select(matrix.rows, query, network, sort)
    run = view.run
    details = _details(view)
    return {
        "matrix": matrix,
        "details": {r.key: details.of(r) for r in rows} if details is not None else {},
        "groups": _groups(matrix),
        "rows": rows,
        "shown": len(rows),
        "total": len(matrix.rows),
        "query": query,
        "network": network,
        "sort": sort,
        "sorts": SORTS,
        "networks": [n.name for n in matrix.networks],
        "usage": matrix.networks,
        "counts": matrix.counts,
        "run": run,
        "run_age": now - run.at if run is not None else None,
        "next_in": (run.next_at - now) if run is not None and run.next_at is not None else None,
        "health": health_rows(view, now),
        "error": view.error,
        "mode": view.mode,
        "verify_at": view.snapshot.verify.time if view.snapshot and view.snapshot.verify else None,
        "discovered": [r for r in rows if r.kind == "discovered"],
        "adopt": {r.key: _adopt(r) for r in matrix.rows if r.kind == "discovered"},
        "now": now,
    }


def _details(view: Any) -> Any:
    from engine.web.pagedetail import Details

    return Details(view.snapshot, view.matrix) if view.snapshot is not None else None


def network_context(view: Any, network: str, now: float) -> dict[str, Any] | None:
    """The address map of one network (None: no such network, or no run yet)."""
    from engine.web.addressmap import LABELS, address_map

    if view.matrix is None or view.snapshot is None:
        return None
    try:
        net = view.snapshot.config.network(network)
    except KeyError:
        return None
    return {
        "map": address_map(view.snapshot, view.matrix, net),
        "labels": LABELS,
        "health": health_rows(view, now),
        "mode": view.mode,
    }


def _adopt(row: Row) -> str:
    from engine.config.adopt import command_for

    return command_for(row.mac or "", row.name or None)


def host_context(view: Any, network: str, name: str, now: float) -> dict[str, Any] | None:
    from engine.report.explain import explain

    matrix: Matrix | None = view.matrix
    if matrix is None or view.snapshot is None:
        return None
    row = matrix.row(network, name)
    if row is None:
        return None
    doc = explain(view.snapshot, matrix, row)
    details = _details(view)
    return {
        "row": row,
        "detail": details.of(row),
        "doc": doc,
        "health": health_rows(view, now),
        "run": view.run,
        "run_age": now - view.run.at if view.run else None,
        "mode": view.mode,
        "now": now,
    }
