"""The plan document's views for people: text and Markdown (its JSON is ``engine.plan.document``).

Owns: ``render_text``, ``render_markdown`` and the pieces other views reuse (summary line, change
and drift lines, conflict groups). They read ONLY the document that ``engine.plan.document`` makes.
Must not: print, decide anything, look at a ``Plan`` object, or change the document's format.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.errors import ConfigError
from engine.report.wrap import wrap_text
from engine.safetext import visible, visible_data
from providers import registry

SYMBOL = {"create": "+", "update": "~", "delete": "-"}
VERB = {"create": "create", "update": "update", "delete": "delete"}
MD_ICON = {"create": "➕ create", "update": "🔄 update", "delete": "➖ delete"}
GITHUB_COMMENT_LIMIT = 65_536

_ANSI = {"green": "\033[32m", "yellow": "\033[33m", "red": "\033[31m", "magenta": "\033[35m",
         "bold": "\033[1m", "dim": "\033[2m", "reset": "\033[0m"}
_PRECEDENCE_RULE = re.compile(r"^[a-z_]+: [a-z]+( > [a-z]+)*$")
_ACTION_COLOR = {"create": "green", "update": "yellow", "delete": "red"}


# --------------------------------------------------------------------------- shared helpers


def summary_line(doc: Mapping[str, Any]) -> str:
    """``Plan: 2 to add, 0 to change, 1 to destroy. 1 conflict blocks 2 objects.`` or the no-change line."""
    s = doc["summary"]
    if doc.get("mode") == "refresh-only":
        n = s["drift"]
        if not n:
            return "Refresh only: nothing changed outside netsot; the state already matches."
        what = f"{n} {_plural(n, 'object')} changed outside netsot"
        return f"Refresh only: {what} will be recorded as they are."
    if not (s["create"] or s["update"] or s["delete"] or s["conflicts"] or s["held"]):
        return "No changes. The systems match the configuration."
    line = f"Plan: {s['create']} to add, {s['update']} to change, {s['delete']} to destroy."
    if s["conflicts"]:
        n, objs = s["conflicts"], blocked_object_count(doc)
        verb = "blocks" if n == 1 else "block"
        if objs:
            line += f" {n} {_plural(n, 'conflict')} {verb} {objs} {_plural(objs, 'object')}."
        else:
            who = "it blocks" if n == 1 else "they block"
            line += f" {n} {_plural(n, 'conflict')} ({who} no object netsot manages)."
    if s["held"]:
        line += f" {s['held']} {_plural(s['held'], 'change')} held back by policy."
    return line


def blocked_object_count(doc: Mapping[str, Any]) -> int:
    """How many distinct objects the conflicts block: exactly what the plan lists under "not touched"."""
    return len({a for c in doc["conflicts"] for a in c["blocked"]})


GROUP_LIST = 10  # a grouped conflict names at most this many hosts / objects in the text view


def conflict_groups(conflicts: Sequence[Mapping[str, Any]]) -> list[list[Mapping[str, Any]]]:
    """Conflicts of one cause together: the same kind, network and fix (185 hosts without a free
    address in one network are one item); each group in document order."""
    groups: dict[tuple[Any, ...], list[Mapping[str, Any]]] = {}
    for c in conflicts:
        key = (c["kind"], c.get("network"), c.get("fix") or c["reason"]) if c.get("fix") else (id(c),)
        groups.setdefault(key, []).append(c)
    return list(groups.values())


def common_cause(group: Sequence[Mapping[str, Any]]) -> tuple[str, list[str]] | None:
    """(the shared reason, each member's subject) when every reason reads ``<subject>: <same cause>``."""
    parts = [c["reason"].partition(": ") for c in group]
    causes = {p[2] for p in parts}
    if len(causes) != 1 or any(not p[1] for p in parts):
        return None
    return causes.pop(), [p[0] for p in parts]


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def format_value(value: Any) -> str:
    """A value as the plan shows it: bare strings (quoted when empty or padded), JSON otherwise."""
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value if value and value.strip() == value and "\n" not in value else json.dumps(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def format_provenance(prov: Mapping[str, Any] | None) -> str:
    """``(nipap, rule ip: config > nipap > proxmox > edgemax)``; the ref follows after ``from``."""
    if not prov:
        return ""
    rule = str(prov.get("rule", "")).removeprefix("precedence ")
    if _PRECEDENCE_RULE.match(rule):  # "ip: config > nipap > …" is a precedence list
        rule = "rule " + rule
    text = f"{prov.get('source', '')}, {rule}" if rule else str(prov.get("source", ""))
    if prov.get("ref"):
        text += f", from {prov['ref']}"
    if prov.get("derived"):
        text += f"; {prov['derived']}"
    return f"({text})"


def kept_items(kept: Mapping[str, Any] | None) -> list[str]:
    """What an object holds besides netsot's attributes, one ``path value`` per item.

    ``{"inet": ["2001:db8::5"], "disable": True, "x": {"y": ["z"]}}`` → ``inet 2001:db8::5``,
    ``disable``, ``x y z``; a value with blanks (or an empty one) is shown in double quotes.
    """
    out: list[str] = []

    def walk(prefix: str, data: Mapping[str, Any]) -> None:
        for key in sorted(data):
            value, here = data[key], f"{prefix}{key}"
            if isinstance(value, Mapping):
                if value:
                    walk(here + " ", value)
                else:
                    out.append(here)
            elif isinstance(value, list | tuple):
                out.extend(f"{here} {_word(v)}" for v in value)
            else:
                out.append(here)

    walk("", kept or {})
    return out


def _word(value: Any) -> str:
    text = str(value)
    return text if text and not any(c.isspace() for c in text) else json.dumps(text, ensure_ascii=False)


def changes_by_system(changes: Sequence[Mapping[str, Any]]) -> list[tuple[str, list[Mapping[str, Any]]]]:
    """Changes grouped per system (known systems first), each group in plan order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for change in changes:
        groups.setdefault(change["system"], []).append(change)
    return sorted(groups.items(), key=lambda kv: registry.rank(kv[0]))  # truth first


def change_lines(change: Mapping[str, Any]) -> list[str]:
    """The attribute lines of one change: values for create/delete, ``old -> new`` for update."""
    before, after = change.get("before") or {}, change.get("after") or {}
    prov = change.get("provenance") or {}
    action = change["action"]
    if action == "create":
        keys, show = sorted(after), (lambda k: format_value(after[k]))
    elif action == "delete":
        keys, show = sorted(before), (lambda k: format_value(before[k]))
    else:
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        show = lambda k: f"{format_value(before.get(k))} -> {format_value(after.get(k))}"  # noqa: E731
    width = max((len(k) for k in keys), default=0)
    lines = []
    for key in keys:
        text = f"{key.ljust(width)} = {show(key)}"
        origin = format_provenance(prov.get(key)) if action != "delete" else ""
        lines.append(f"{text}  {origin}" if origin else text)
    if action == "update":
        hidden = len(set(before) | set(after)) - len(keys)
        if hidden:
            lines.append(f"# ({hidden} unchanged {_plural(hidden, 'attribute')} hidden)")
    kept = kept_items(change.get("kept")) if action != "delete" else []
    if kept:
        lines.append(f"kept {_location(change.get('system', ''))}: {', '.join(kept)}")
    return lines


def _location(system: str) -> str:
    """Where a system's objects live, for people ("on the router"), from its descriptor."""
    try:
        kind = registry.kind_of(system)
    except ConfigError:  # a document from elsewhere may name a system this netsot does not know
        return "on the system"
    return kind.location or f"in {kind.title}"


def change_header(change: Mapping[str, Any]) -> str:
    notes = []
    if change.get("moved_from"):
        notes.append(f"moved from {change['moved_from']}")
    if change.get("replaces") and change["replaces"] != change["address"]:
        notes.append(f"replaces {change['replaces']}")
    if change.get("drift"):
        notes.append("reverts a change made outside netsot")
    if change.get("reason"):
        notes.append(change["reason"])
    if change.get("loses"):
        notes.append(f"also removes what netsot does not manage: {', '.join(change['loses'])}")
    head = f"{SYMBOL[change['action']]} {change['address']}"
    return head + (f"  # {'; '.join(notes)}" if notes else "")


def drift_lines(drift: Mapping[str, Any]) -> list[str]:
    expected, actual = drift.get("expected"), drift.get("actual")
    if actual is None:
        return ["deleted outside netsot"]
    if expected is None:
        return ["created outside netsot"]
    keys = sorted(k for k in set(expected) | set(actual) if expected.get(k) != actual.get(k))
    return [f"{k}: expected {format_value(expected.get(k))}, found {format_value(actual.get(k))}"
            for k in keys]


# --------------------------------------------------------------------------- text


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, text: str, *styles: str) -> str:
        if not self.enabled or not styles:
            return text
        return "".join(_ANSI[s] for s in styles) + text + _ANSI["reset"]


def render_text(doc: Mapping[str, Any], color: bool = False, show_unmanaged: bool = False,
                show_discovered: bool = False, width: int | None = None) -> str:
    """The Terraform-like human view: conflicts, drift, changes per system, held, warnings, the
    unmanaged objects (a count unless ``show_unmanaged``), the discovered devices (a count unless
    ``show_discovered`` or ``show_unmanaged``), summary; lines wrapped at ``width`` with hanging
    indents (None: not wrapped).

    Every string of the document is shown with its control characters escaped (``visible_data``),
    so no name or reason from a system can start a line of its own or repaint the terminal.
    """
    paint = _Paint(color)
    summary = summary_line(doc)  # counted on the real document: escaping may merge look-alikes
    doc = visible_data(dict(doc))
    out: list[str] = []
    if doc.get("mode") == "refresh-only":
        out += [paint("Refresh only: netsot records what the systems hold now as the expected state; "
                      "it changes nothing on them.", "bold"), ""]
    if doc["conflicts"]:
        out += _text_conflicts(doc["conflicts"], paint)
    if doc["drift"]:
        out += _text_drift(doc["drift"], paint)
    if doc["changes"]:
        out += _text_changes(doc["changes"], paint)
    if doc["held"]:
        out.append(paint(f"Held back by policy ({len(doc['held'])}):", "bold"))
        out.append("")
        for held in doc["held"]:
            change = held["change"]
            out.append(f"  {SYMBOL[change['action']]} {change['address']}  [{held['gate']}] {held['reason']}")
        out.append("")
    if doc["warnings"]:
        out.append(paint("Warnings:", "bold", "yellow"))
        out.append("")
        out += [f"  - {w}" for w in doc["warnings"]]
        out.append("")
    if doc.get("unmanaged"):
        out += _text_unmanaged(doc["unmanaged"], paint, show_unmanaged)
    if doc.get("discovered"):
        out += _text_discovered(doc["discovered"], paint, show_discovered or show_unmanaged)
    out.append(paint(summary, "bold"))
    return wrap_text("\n".join(out), width) + "\n"


def _text_unmanaged(items: Sequence[Mapping[str, Any]], paint: _Paint, expanded: bool) -> list[str]:
    head = (f"Unmanaged ({len(items)}): objects in the managed networks that netsot neither owns "
            "nor will touch")
    if not expanded:
        return [paint(head, "bold") + " (`netsot plan --show-unmanaged` lists them).", ""]
    out = [paint(head + ":", "bold"), ""]
    by_system: dict[str, list[Mapping[str, Any]]] = {}
    for item in items:
        by_system.setdefault(item["system"], []).append(item)
    for system in sorted(by_system, key=registry.rank):
        group = by_system[system]
        out.append(f"  {system} ({len(group)}):")
        for item in group:
            out.append(f"    {item['address']}  {item['reason']}")
            where = _where(item)
            if where:
                out.append(f"        {where}")
            if item.get("adopt"):
                out.append(f"        to adopt: {item['adopt']}")
        out.append("")
    return out


def _where(item: Mapping[str, Any]) -> str:
    """``ip 192.168.10.81, MAC 0c:8b:95:00:00:81, id 77``: how a person finds an unmanaged object."""
    parts = [f"{label} {item[key]}" for key, label in (("ip", "ip"), ("mac", "MAC"), ("id", "id"))
             if item.get(key)]
    return ", ".join(parts)


def _text_discovered(items: Sequence[Mapping[str, Any]], paint: _Paint, expanded: bool) -> list[str]:
    head = (f"Discovered ({len(items)}): devices with a dynamic lease that no binding knows "
            "(`netsot adopt lease MAC` declares one)")
    if not expanded:
        return [paint(head, "bold") + "; `netsot plan --show-discovered` lists them.", ""]
    out = [paint(head + ":", "bold"), ""]
    for item in items:
        out.append(f"  ? {discovered_line(item)}")
    out.append("")
    return out


def discovered_line(item: Mapping[str, Any]) -> str:
    """``lan  192.168.10.150  f0:18:98:aa:01:02  phone-anna  (Apple, Inc.; lease until …; edgemax)``."""
    notes = [n for n in (item.get("vendor") or "vendor unknown",
                         f"lease until {item['expires']}" if item.get("expires") else "",
                         item.get("system", "")) if n]
    return (f"{item.get('network') or '-'}  {item.get('ip') or '-'}  {item['mac']}  "
            f"{item.get('hostname_hint') or '(no name sent)'}  ({'; '.join(notes)})")


def _text_conflicts(conflicts: Iterable[Mapping[str, Any]], paint: _Paint) -> list[str]:
    items = list(conflicts)
    out = [paint(f"Conflicts ({len(items)}): the objects involved are not changed.", "bold", "red"), ""]
    for group in conflict_groups(items):
        out += _text_conflict(group[0], paint) if len(group) == 1 else _text_conflict_group(group, paint)
        out.append("")
    return out


def _text_conflict(c: Mapping[str, Any], paint: _Paint) -> list[str]:
    out = [paint(f"  ! {c['kind']}", "red") + f": {c['reason']}"]
    if c.get("network"):
        out.append(f"      network: {c['network']}")
    out.append(f"      objects: {', '.join(c['objects']) or '(none)'}")
    if c["blocked"]:
        out.append(f"      not touched: {', '.join(c['blocked'])}")
    if c.get("fix"):
        out.append(f"      to fix: {c['fix']}")
    out += [f"      effect: {e}" for e in c.get("effects") or ()]
    return out


def _shortlist(items: Sequence[str]) -> str:
    if len(items) <= GROUP_LIST:
        return ", ".join(items)
    more = len(items) - GROUP_LIST
    return ", ".join(items[:GROUP_LIST]) + f", … ({more} more; the JSON plan lists them all)"


def _text_conflict_group(group: Sequence[Mapping[str, Any]], paint: _Paint) -> list[str]:
    """One item for conflicts of one cause: the count, the cause, who is affected, one fix."""
    first, n = group[0], len(group)
    shared = common_cause(group)
    head = shared[0] if shared else first["reason"]
    out = [paint(f"  ! {first['kind']} ({n} conflicts)", "red") + f": {head}"]
    if first.get("network"):
        out.append(f"      network: {first['network']}")
    if shared:
        out.append(f"      hosts: {_shortlist(shared[1])}")
    else:
        out += [f"      - {c['reason']}" for c in group[:GROUP_LIST]]
        if n > GROUP_LIST:
            out.append(f"      … {n - GROUP_LIST} more (the JSON plan lists them all)")
    blocked = sorted({a for c in group for a in c["blocked"]})
    if blocked:
        out.append(f"      not touched ({len(blocked)}): {_shortlist(blocked)}")
    out.append(f"      to fix: {first['fix']}")
    effects = [e for c in group for e in c.get("effects") or ()]
    out += [f"      effect: {e}" for e in effects[:3]]
    if len(effects) > 3:
        out.append(f"      effect: … and the same for {len(effects) - 3} more")
    return out


def _text_drift(drifts: Iterable[Mapping[str, Any]], paint: _Paint) -> list[str]:
    items = list(drifts)
    out = [paint(f"Drift (changed outside netsot) ({len(items)}):", "bold", "magenta"), ""]
    for d in items:
        out.append(paint(f"  ~ {d['address']}", "magenta") + f"  ({d['resolution']}) {d['reason']}")
        out += [f"      {line}" for line in drift_lines(d)]
        out.append("")
    return out


def _text_changes(changes: Sequence[Mapping[str, Any]], paint: _Paint) -> list[str]:
    out = ["netsot will perform the following actions:", ""]
    legend = sorted({c["action"] for c in changes}, key=list(SYMBOL).index)
    out += [f"  {paint(SYMBOL[a], _ACTION_COLOR[a])} {VERB[a]}" for a in legend]
    out.append("")
    for system, group in changes_by_system(changes):
        out.append(paint(f"{system} ({len(group)} {_plural(len(group), 'change')}):", "bold"))
        for change in group:
            out.append("  " + paint(change_header(change), _ACTION_COLOR[change["action"]]))
            out += [f"      {line}" for line in change_lines(change)]
        out.append("")
    return out


# --------------------------------------------------------------------------- markdown


def render_markdown(doc: Mapping[str, Any], max_chars: int = 60_000) -> str:
    """A PR-comment body: summary, conflicts, a table per system, ``<details>`` with the full diff.

    Always shorter than ``max_chars`` (GitHub rejects comments over 65,536 characters): the
    details go first, then table rows, and an explicit note says how many changes are missing.
    """
    budget = _Budget(max_chars - 300)  # room for the truncation note and closing tags
    budget.add("### netsot plan\n\n")
    budget.add(f"**{summary_line(doc)}**\n\n")
    budget.add_section(*_md_conflicts(doc["conflicts"]), "conflicts")
    budget.add_section(*_md_drift(doc["drift"]), "drift entries")
    budget.add_section(*_md_held(doc["held"]), "held changes")
    budget.add_section("#### Warnings\n\n", [f"- {_md_text(w)}\n" for w in doc["warnings"]], "warnings")
    budget.add_section(*_md_unmanaged(doc.get("unmanaged") or ()), "unmanaged objects")
    budget.add_section(*_md_discovered(doc.get("discovered") or ()), "discovered devices")
    groups = changes_by_system(doc["changes"])
    shown = _md_tables(groups, budget)
    detailed = _md_details(groups, shown, budget)
    missing_rows = len(doc["changes"]) - len(shown)
    missing_details = len(shown) - detailed
    if missing_rows:
        budget.force(f"\n… {missing_rows} more {_plural(missing_rows, 'change')} "
                     "not shown (see the JSON plan)\n")
    elif missing_details:
        budget.force(f"\n… details of {missing_details} more {_plural(missing_details, 'change')} "
                     "not shown (see the JSON plan)\n")
    text = budget.text()
    if len(text) >= max_chars:  # only when even the head is too big for a tiny limit
        note = "\n… truncated (see the JSON plan)\n"
        text = text[: max(0, max_chars - len(note) - 1)] + note
    return text


class _Budget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def fits(self, text: str, reserve: int = 0) -> bool:
        return self.size + len(text) + reserve <= self.limit

    def add(self, text: str, reserve: int = 0) -> bool:
        if not self.fits(text, reserve):
            return False
        self.force(text)
        return True

    def force(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def add_section(self, head: str, items: Sequence[str], what: str) -> None:
        """A section's head and items; items past half the budget are counted, not shown."""
        if not items:
            return
        cap = self.limit // 2
        self.force(head)
        for i, item in enumerate(items):
            if self.size + len(item) > cap:
                rest = len(items) - i
                self.force(f"\n… {rest} more {what} not shown (see the JSON plan)\n\n")
                return
            self.force(item)
        self.force("\n")

    def text(self) -> str:
        return "".join(self.parts)


_MD_PUNCT = re.compile(r"([\\`*_\[\]#!~|])")
_WWW = re.compile(r"(?i)\b(www)\.")
_ZWSP = "\u200b"


def _md_text(text: Any) -> str:
    """Untrusted text as inert Markdown, safe inside a table cell or list item.

    Control characters become visible escapes; HTML is entity-escaped; Markdown punctuation is
    backslash-escaped, so ``[text](http://…)``, emphasis, images and code spans stay text (with
    its brackets escaped, a parenthesis means nothing); and the triggers of GitHub's autolinks (the
    ``//`` of a URL, ``www.``, the ``@`` of an address or a mention) get a zero-width space, so a
    bare ``http://…`` does not become a live link either.
    """
    out = visible(str(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _no_autolinks(_MD_PUNCT.sub(r"\\\1", out))


def _no_autolinks(text: str) -> str:
    while "//" in text:
        text = text.replace("//", "/" + _ZWSP + "/")
    return _WWW.sub(r"\1" + _ZWSP + ".", text).replace("@", "@" + _ZWSP)


def _md_code(text: Any) -> str:
    """A code span (never markup, never a link); a backtick would end it early, so it becomes '."""
    return "`" + visible(str(text)).replace("`", "'").replace("|", "\\|") + "`"


def _md_conflicts(conflicts: Sequence[Mapping[str, Any]]) -> tuple[str, list[str]]:
    head = (f"#### ⛔ Conflicts ({len(conflicts)}): the objects involved are not changed\n\n"
            "| Kind | Reason | Objects | To fix |\n|---|---|---|---|\n")
    rows = []
    for group in conflict_groups(conflicts):
        first = group[0]
        shared = common_cause(group) if len(group) > 1 else None
        kind = _md_code(first["kind"]) + (f" ×{len(group)}" if len(group) > 1 else "")
        reason = shared[0] if shared else "<br>".join(_md_text(c["reason"]) for c in group[:GROUP_LIST])
        objects = sorted({o for c in group for o in c["objects"]})
        shown = objects[:GROUP_LIST]
        if len(objects) > GROUP_LIST:
            shown.append(f"… {len(objects) - GROUP_LIST} more")
        fix = _md_text(first.get("fix") or "")
        effects = [e for c in group for e in c.get("effects") or ()][:3]
        if effects:
            fix += "<br>" + "<br>".join("effect: " + _md_text(e) for e in effects)
        rows.append(f"| {kind} | {_md_text(reason) if shared else reason} | "
                    f"{'<br>'.join(_md_text(o) for o in shown)} | {fix} |\n")
    return head, rows


def _md_drift(drifts: Sequence[Mapping[str, Any]]) -> tuple[str, list[str]]:
    head = (f"#### Drift (changed outside netsot) ({len(drifts)})\n\n"
            "| Address | Resolution | What changed |\n|---|---|---|\n")
    return head, [
        f"| {_md_code(d['address'])} | {_md_text(d['resolution'])} | "
        f"{'<br>'.join(_md_text(x) for x in drift_lines(d))} |\n"
        for d in drifts
    ]


def _md_unmanaged(items: Sequence[Mapping[str, Any]]) -> tuple[str, list[str]]:
    head = (f"#### Unmanaged ({len(items)}): objects netsot neither owns nor will touch\n\n"
            "| Object | Why | To adopt |\n|---|---|---|\n")
    return head, [f"| {_md_code(u['address'])} | {_md_text(u['reason'])} | {_md_text(u['adopt'])} |\n"
                  for u in items]


def _md_discovered(items: Sequence[Mapping[str, Any]]) -> tuple[str, list[str]]:
    head = (f"#### Discovered ({len(items)}): devices with a dynamic lease that no binding knows\n\n"
            "| Network | IP | MAC | Name sent | Vendor | Lease until |\n|---|---|---|---|---|---|\n")
    return head, [f"| {_md_text(d.get('network') or '-')} | {_md_code(d.get('ip') or '-')} | "
                  f"{_md_code(d['mac'])} | "
                  f"{_md_text(d.get('hostname_hint') or '')} | {_md_text(d.get('vendor') or '')} | "
                  f"{_md_text(d.get('expires') or '')} |\n" for d in items]


def _md_held(held: Sequence[Mapping[str, Any]]) -> tuple[str, list[str]]:
    head = f"#### Held back by policy ({len(held)})\n\n| Change | Gate | Reason |\n|---|---|---|\n"
    return head, [
        f"| {SYMBOL[h['change']['action']]} {_md_code(h['change']['address'])} | {_md_code(h['gate'])} | "
        f"{_md_text(h['reason'])} |\n"
        for h in held
    ]


def _md_summary_cell(change: Mapping[str, Any]) -> str:
    before, after = change.get("before") or {}, change.get("after") or {}
    if change["action"] == "create":
        parts = [f"{k}={format_value(after[k])}" for k in sorted(after)]
    elif change["action"] == "delete":
        parts = [f"{k}={format_value(before[k])}" for k in sorted(before)]
    else:
        keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        parts = [f"{k}: {format_value(before.get(k))} → {format_value(after.get(k))}" for k in keys]
    text = ", ".join(parts)
    if len(text) > 160:
        text = text[:157] + "..."
    return _md_text(text)


def _md_tables(groups: list[tuple[str, list[Mapping[str, Any]]]], budget: _Budget) -> list[str]:
    """One table per system; returns the addresses of the rows that fit."""
    shown: list[str] = []
    if not groups:
        return shown
    budget.add("#### Changes\n\n")
    for system, group in groups:
        head = f"**{system}** ({len(group)})\n\n| Action | Address | Values |\n|---|---|---|\n"
        if not budget.add(head, reserve=200):
            break
        for change in group:
            row = (f"| {MD_ICON[change['action']]} | {_md_code(change['address'])} | "
                   f"{_md_summary_cell(change)} |\n")
            if not budget.add(row):
                budget.force("\n")
                return shown
            shown.append(change["address"])
        budget.force("\n")
    return shown


Groups = list[tuple[str, list[Mapping[str, Any]]]]


def _md_details(groups: Groups, shown: Sequence[str], budget: _Budget) -> int:
    """A ``<details>`` diff per system for the shown changes, while the budget lasts. Returns how many."""
    visible = set(shown)
    count = 0
    closing = "```\n\n</details>\n\n"
    for system, group in groups:
        items = [c for c in group if c["address"] in visible]
        if not items:
            continue
        head = f"<details><summary>Details: {system} ({len(items)})</summary>\n\n```diff\n"
        if not budget.add(head, reserve=len(closing) + 50):
            return count
        for change in items:
            block = "".join(f"{line}\n" for line in _diff_block(change))
            if not budget.add(block, reserve=len(closing)):
                budget.force(closing)
                return count
            count += 1
        budget.force(closing)
    return count


def _diff_block(change: Mapping[str, Any]) -> list[str]:
    sym = SYMBOL[change["action"]]
    # `diff` highlighting colours lines by their first character; "~" has none, so updates use "!".
    mark = "!" if sym == "~" else sym
    lines = [f"{mark} {visible(change_header(change)[2:])}".replace("```", "'''")]
    lines += [f"{mark}     {visible(line)}".replace("```", "'''") for line in change_lines(change)]
    return lines
