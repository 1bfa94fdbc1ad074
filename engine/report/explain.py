"""``netsot explain`` and the host page: why one host is as it is, from one snapshot.

Owns: finding hosts by name (``NAME`` or ``NETWORK/NAME``), IP, MAC or resource address
(``find``); the explanation of one row (``explain``): every attribute with the value each source
reports, the winner and the provenance that chose it, each system object with its state and
attributes, the planned changes and why, the conflicts with their objects, held / drift /
unmanaged notes, and the history; its JSON document (``schemas/explain.v1.schema.json``) and
its text view.
Must not: do I/O, or name a system.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.ipv4 import ip_int
from core.model import Address, Fact, to_jsonable
from core.names import normalize_mac
from engine.apply import history as history_module
from engine.report.render import format_provenance, format_value
from engine.report.status import Matrix, Row, Snapshot
from engine.safetext import visible

FORMAT_VERSION = "1"
ATTRIBUTES = ("hostname", "aliases", "ip", "mac")
HISTORY_LIMIT = 10


def find(matrix: Matrix, query: str) -> list[Row]:
    """The rows ``query`` names: ``NETWORK/NAME``, a resource address, a MAC, an IP or a host name."""
    text = query.strip()
    if "/" in text:
        network, _, name = text.partition("/")
        return [r for r in matrix.rows
                if r.network == network and (name.lower() in (r.name, r.mac) or name.lower() in r.aliases)]
    if _is_address(text):
        return [r for r in matrix.rows if text in r.addresses()]
    mac = _mac(text)
    if mac is not None:
        return [r for r in matrix.rows if (r.mac or "").lower() == mac]
    if ip_int(text) is not None:
        return [r for r in matrix.rows if r.ip == text]
    name = text.lower()
    return [r for r in matrix.rows if r.name == name or name in r.aliases]


def _is_address(text: str) -> bool:
    try:
        Address.parse(text)
    except ValueError:
        return False
    return True


def _mac(text: str) -> str | None:
    try:
        return normalize_mac(text)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- the explanation


def explain(snapshot: Snapshot, matrix: Matrix, row: Row) -> dict[str, Any]:
    """The explanation document of one row (JSON types only; validated by the schema in tests)."""
    addresses = set(row.addresses())
    plan = snapshot.plan
    binding = next((b for b in plan.bindings if b.network == row.network and b.hostname == row.name), None)
    facts = _facts_of(snapshot, row, addresses)
    doc: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "host": {
            "kind": row.kind,
            "network": row.network,
            "name": row.name,
            "aliases": list(row.aliases),
            "mac": row.mac,
            "ip": row.ip,
            "origin": row.origin,
            "state": row.state,
            "vendor": row.vendor,
            "expires": row.expires,
        },
        "attributes": [a for a in (_attribute(a, binding, facts, snapshot, row) for a in ATTRIBUTES)
                       if a["attribute"] != "aliases" or a["winner"] or any(v["value"] for v in a["values"])],
        "objects": [_object(c, matrix, snapshot) for c in row.cells if c.state != "na"],
        "changes": [_change(c) for c in plan.changes if str(c.address) in addresses],
        "conflicts": [
            c.to_dict()
            for c in plan.conflicts
            if f"{row.network}.{row.name}" in c.blocked_keys or addresses & {str(a) for a in c.blocked}
        ],
        "held": [
            {"address": str(h.change.address), "gate": h.gate, "reason": h.reason}
            for h in plan.held
            if str(h.change.address) in addresses or h.unit == f"{row.network}/{row.name}"
        ],
        "drift": [
            {"address": str(d.address), "resolution": d.resolution, "reason": d.reason}
            for d in plan.drift
            if str(d.address) in addresses
        ],
        "unmanaged": [u.to_dict() for u in plan.unmanaged if str(u.address) in addresses],
        "history": [
            e.to_dict() for e in history_module.for_addresses(snapshot.history, addresses, HISTORY_LIMIT)
        ],
        "adopt": _adopt_command(row) if row.kind == "discovered" else "",
        "verified_at": snapshot.verify.time if snapshot.verify else None,
    }
    return doc


def _facts_of(snapshot: Snapshot, row: Row, addresses: set[str]) -> list[tuple[str, Fact]]:
    """Every fact about this host: same network and MAC, or one of its objects, or its name when it
    has no MAC."""
    out = []
    mac = (row.mac or "").lower()
    for key, obs in snapshot.observations.items():
        for f in obs.facts:
            if f.network != row.network and not (f.domain and f.address and str(f.address) in addresses):
                continue
            mine = (mac and (f.mac or "").lower() == mac) or (
                f.address is not None and str(f.address) in addresses
            )
            if mine or (not mac and f.hostname == row.name):
                out.append((key, f))
    return out


def _attribute(
    name: str, binding: Any, facts: Sequence[tuple[str, Fact]], snapshot: Snapshot, row: Row
) -> dict[str, Any]:
    def said(f: Fact) -> Any:
        value = getattr(f, name)
        if name == "aliases" and value is not None:  # the names besides the host's own
            value = [a for a in dict.fromkeys(value) if a not in (row.name, f.hostname)]
        return _text(value)

    values = [
        {"source": f.source, "system": key, "ref": f.ref, "value": said(f), "lease": f.discovery}
        for key, f in facts
        if getattr(f, name) is not None
    ]
    for host in snapshot.config.hosts:
        if host.network == row.network and host.name == row.name:
            value = {"hostname": host.name, "ip": str(host.ip) if host.ip else None, "mac": host.mac,
                     "aliases": _text(host.aliases)}[name]
            if value is not None:
                values.insert(
                    0,
                    {
                        "source": "config",
                        "system": "config",
                        "ref": f"hosts: {host.name}",
                        "value": value,
                        "lease": False,
                    },
                )
    winner = _text(getattr(binding, name)) if binding is not None else None
    prov = binding.provenance.get(name) if binding is not None else None
    return {
        "attribute": name,
        "winner": winner,
        "provenance": prov.to_dict() if prov else None,
        "values": sorted(values, key=lambda v: (v["system"], v["ref"])),
    }


def _text(value: Any) -> Any:
    """A list of names (the extra names) as one value, ``www, api`` (``""``: none); others as they are."""
    if isinstance(value, tuple | list):
        return ", ".join(str(v) for v in value)
    return value


def _object(cell: Any, matrix: Matrix, snapshot: Snapshot) -> dict[str, Any]:
    attributes = None
    if cell.address:
        address = Address.parse(cell.address)
        obs = snapshot.observations.get(address.system)
        found = obs.resources.get(address) if obs is not None else None
        attributes = to_jsonable(found.attributes) if found is not None else None
    return {
        "column": matrix.title(cell.column),
        "address": cell.address or None,
        "state": cell.state,
        "text": cell.text,
        "reason": cell.reason,
        "attributes": attributes,
    }


def _change(change: Any) -> dict[str, Any]:
    before, after = change.before or {}, change.after or {}
    keys = change.changed_attributes() if change.action.value == "update" else sorted(after or before)
    return {
        "action": change.action.value,
        "address": str(change.address),
        "reason": change.reason,
        "attributes": [
            {
                "key": k,
                "before": to_jsonable(before.get(k)),
                "after": to_jsonable(after.get(k)),
                "provenance": change.provenance[k].to_dict() if k in change.provenance else None,
            }
            for k in keys
        ],
    }


def _adopt_command(row: Row) -> str:
    from engine.config.adopt import command_for

    return command_for(row.mac or "", row.name or None)


# ----------------------------------------------------------------------------- text


def render_text(doc: Mapping[str, Any]) -> str:
    """The explanation for a terminal; every value from a system is shown with control characters escaped."""
    host = doc["host"]
    out = [
        f"{_v(host['network'])}/{_v(host['name'] or '(no name)')}  {_v(host['mac'] or '-')}  "
        f"{_v(host['ip'] or '-')}  [{host['kind']}, {host['state']}]"
    ]
    if host.get("aliases"):
        out.append(f"  also named: {_v(', '.join(host['aliases']))}")
    if host["kind"] == "discovered":
        out.append(
            f"  a dynamic lease only: {_v(host['vendor'] or 'vendor unknown')}, "
            f"lease until {_v(host['expires'] or '?')}"
        )
        out.append(f"  to declare it: {_v(doc['adopt'])}")
    out += ["", "Attributes (winner, the rule that chose it, and what each source says):"]
    for attr in doc["attributes"]:
        out += _attribute_lines(attr)
    out += ["", "Objects:"]
    for obj in doc["objects"]:
        where = f" {_v(obj['address'])}" if obj["address"] else ""
        out.append(f"  [{obj['state']:>6}] {_v(obj['column'])}{where}: {_v(obj['reason'])}")
    out += _section("Planned changes", [_change_lines(c) for c in doc["changes"]])
    out += _section(
        "Conflicts",
        [
            [f"  ! {c['kind']}: {_v(c['reason'])}", f"      objects: {_v(', '.join(c['objects']))}",
             *([f"      to fix: {_v(c['fix'])}"] if c.get("fix") else []),
             *(f"      effect: {_v(e)}" for e in c.get("effects") or ())]
            for c in doc["conflicts"]
        ],
    )
    out += _section(
        "Held back by policy",
        [[f"  {_v(h['address'])} [{h['gate']}] {_v(h['reason'])}"] for h in doc["held"]],
    )
    out += _section(
        "Drift", [[f"  {_v(d['address'])} ({d['resolution']}) {_v(d['reason'])}"] for d in doc["drift"]]
    )
    out += _section("Unmanaged", [[f"  {_v(u['address'])} {_v(u['reason'])}"] for u in doc["unmanaged"]])
    out += _section(
        "History (newest first)", [_history_lines(e) for e in doc["history"]], empty="  none recorded"
    )
    return "\n".join(out) + "\n"


def _v(value: Any) -> str:
    return visible(str(value))


def _attribute_lines(attr: Mapping[str, Any]) -> list[str]:
    prov = format_provenance(attr["provenance"]) if attr["provenance"] else "(no winner)"
    lines = [f"  {attr['attribute']:<8} = {_v(format_value(attr['winner']))}  {_v(prov)}"]
    for value in attr["values"]:
        lease = " (lease)" if value["lease"] else ""
        lines.append(f"      {_v(value['ref'])}{lease}: {_v(format_value(value['value']))}")
    return lines


def _change_lines(change: Mapping[str, Any]) -> list[str]:
    symbol = {"create": "+", "update": "~", "delete": "-"}[change["action"]]
    lines = [
        f"  {symbol} {_v(change['address'])}" + (f"  # {_v(change['reason'])}" if change["reason"] else "")
    ]
    for a in change["attributes"]:
        value = (
            f"{format_value(a['before'])} -> {format_value(a['after'])}"
            if change["action"] == "update"
            else format_value(a["after"] if change["action"] != "delete" else a["before"])
        )
        prov = f"  {format_provenance(a['provenance'])}" if a["provenance"] else ""
        lines.append(f"      {a['key']} = {_v(value)}{_v(prov)}")
    return lines


def _history_lines(entry: Mapping[str, Any]) -> list[str]:
    changed = ", ".join(
        f"{k} {format_value(v.get('before'))} -> {format_value(v.get('after'))}"
        for k, v in sorted((entry.get("changed") or {}).items())
    )
    error = f" ({entry['error']})" if entry.get("error") else ""
    return [
        f"  {entry['time']}  {entry['action']} {_v(entry['address'])}  {entry['status']}{_v(error)}"
        + (f"  {_v(changed)}" if changed else "")
    ]


def _section(title: str, blocks: Iterable[list[str]], empty: str = "") -> list[str]:
    items = list(blocks)
    if not items and not empty:
        return []
    out = ["", f"{title}:"]
    for block in items:
        out += block
    if not items:
        out.append(empty)
    return out


def render_matches(rows: Sequence[Row], query: str) -> str:
    lines = [f"{len(rows)} hosts match {visible(query)}; name one (`netsot explain NETWORK/NAME`):"]
    lines += [f"  {_v(r.key)}  {_v(r.mac or '-')}  {_v(r.ip or '-')}  [{r.kind}]" for r in rows]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- the command


def run(config: Any, query: str, as_json: bool = False, *, force_state: bool = False) -> tuple[str, int]:
    """``netsot explain QUERY``: one read + plan (no apply, no state write, no lock), then explain.

    One match: its explanation. Several: the list (name one of them). None: an error (exit 1).
    """
    import json

    from core.errors import NetsotError
    from engine.report import status
    from engine.workflow import look_run

    look = look_run(config, force_state=force_state, mode="cli")
    if look.snapshot is None:
        raise NetsotError(look.error)
    matrix = status.build(look.snapshot)
    rows = find(matrix, query)
    if not rows:
        raise NetsotError(
            f"no host matches {query!r} (try a host name, NETWORK/NAME, an IP, a MAC or a "
            "resource address; `netsot plan --show-discovered` lists discovered devices)"
        )
    if len(rows) > 1:
        if as_json:
            matches = [
                {"network": r.network, "name": r.name, "mac": r.mac, "ip": r.ip, "kind": r.kind} for r in rows
            ]
            return json.dumps(
                {"format_version": FORMAT_VERSION, "query": query, "matches": matches},
                indent=2,
                sort_keys=True,
            ) + "\n", 0
        return render_matches(rows, query), 0
    doc = explain(look.snapshot, matrix, rows[0])
    doc["query"] = query
    return (
        json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n" if as_json else render_text(doc)
    ), 0
