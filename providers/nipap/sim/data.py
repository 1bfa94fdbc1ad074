"""The in-memory data model and rules of the NIPAP simulator (nipapd 0.32.7 semantics).

Owns: VRFs, prefixes and pools; the hierarchy "triggers" of nipap.md §2.5/§2.6 with their
exact fault texts; spec/query evaluation; allocation. Every API method is a function of
(store, session, argument struct) that returns wire values or raises ``xmlrpc.client.Fault``.
Must not: do network I/O (``simulator.py`` serves it) or import netsot's engine.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xmlrpc.client import Fault

Net = ipaddress.IPv4Network | ipaddress.IPv6Network

PREFIX_TYPES = ("reservation", "assignment", "host")
STATUSES = ("assigned", "reserved", "quarantine")
ALARM_PRIORITIES = ("warning", "low", "medium", "high", "critical")
# attributes add_prefix/edit_prefix accept (backend.py allowed_attr + the selector keys)
PREFIX_WRITABLE = (
    "authoritative_source",
    "prefix",
    "description",
    "comment",
    "pool_id",
    "tags",
    "node",
    "type",
    "country",
    "order_id",
    "customer_id",
    "vrf_id",
    "alarm_priority",
    "monitor",
    "external_key",
    "vlan",
    "status",
    "avps",
    "expires",
)
PREFIX_FIELDS = (
    "id",
    "family",
    "vrf_id",
    "vrf_rt",
    "vrf_name",
    "prefix",
    "display_prefix",
    "description",
    "comment",
    "node",
    "pool_id",
    "pool_name",
    "type",
    "indent",
    "country",
    "order_id",
    "customer_id",
    "external_key",
    "authoritative_source",
    "alarm_priority",
    "monitor",
    "vlan",
    "added",
    "last_modified",
    "total_addresses",
    "used_addresses",
    "free_addresses",
    "status",
    "expires",
    "avps",
    "tags",
    "inherited_tags",
)
SEARCH_ONLY = ("prefix_length", "children", "match", "display")
PREFIX_SPEC_KEYS = frozenset((*PREFIX_FIELDS, "prefix_length")) - {"pool_name"}
VRF_WRITABLE = ("rt", "name", "description", "tags", "avps")
POOL_WRITABLE = (
    "name",
    "description",
    "default_type",
    "ipv4_default_prefix_length",
    "ipv6_default_prefix_length",
    "tags",
    "avps",
)

OPERATORS = {
    "and": "and",
    "or": "or",
    "equals": "=",
    "=": "=",
    "not_equals": "!=",
    "!=": "!=",
    "less": "<",
    "<": "<",
    "less_or_equal": "<=",
    "<=": "<=",
    "greater": ">",
    ">": ">",
    "greater_or_equal": ">=",
    ">=": ">=",
    "is": "is",
    "is_not": "is_not",
    "like": "like",
    "regex_match": "~*",
    "regex_not_match": "!~*",
    "~": "~",
    "~*": "~*",
    "!~": "!~",
    "!~*": "!~*",
    "equals_any": "any",
    "contains": ">>",
    ">>": ">>",
    "contains_equals": ">>=",
    ">>=": ">>=",
    "contained_within": "<<",
    "<<": "<<",
    "contained_within_equals": "<<=",
    "<<=": "<<=",
}


_WHEN = "__datetime__"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_WHEN: value.isoformat()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _typed(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_WHEN}:
            return datetime.fromisoformat(value[_WHEN])
        return {k: _typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v) for v in value]
    return value


def now() -> datetime:
    """Naive UTC, second precision: what nipapd puts on the wire."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def fault(code: int, text: str) -> Fault:
    return Fault(code, text)


def parse_net(value: Any) -> Net:
    """A cidr value as PostgreSQL parses it, with nipapd's 1200 texts."""
    text = str(value).strip()
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            net = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise fault(1200, f"Invalid syntax for prefix ({value})") from None
        raise fault(
            1200,
            f"Invalid prefix ({value}); bits set to right of mask. Network address for current mask: "
            f"{net.network_address}",
        ) from None


def host_text(net: Net) -> str:
    """The inet rendering used in duplicate-key texts and find_free results (no /32, /128)."""
    return str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)


def normalize_rt(rt: Any) -> str:
    text = "" if rt is None else str(rt).strip()
    m = re.fullmatch(r"(\d+):(\d+)", text)
    if m:
        return f"{int(m.group(1))}:{int(m.group(2))}"
    m = re.fullmatch(r"(\d+\.\d+\.\d+\.\d+):(\d+)", text)
    if m:
        try:
            return f"{ipaddress.IPv4Address(m.group(1))}:{int(m.group(2))}"
        except ValueError:
            pass
    raise fault(1200, f"Invalid input for column rt: '{rt}' (must be ASN:n or IPv4:n)")


@dataclass
class Session:
    """Who is calling: the authenticated user and the auth dict they sent."""

    user: str
    readonly: bool
    source: str
    trusted: bool = False


class Store:
    """All NIPAP objects; every public method takes the store lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        t = now()
        self.vrfs: dict[int, dict[str, Any]] = {
            0: {
                "id": 0,
                "rt": None,
                "name": "default",
                "description": "The default VRF, typically the Internet.",
                "tags": [],
                "avps": {},
                "added": t,
            }
        }
        # Change prefixes only through put_prefix / drop_prefix: they keep ``_by_vrf`` in step.
        self.prefixes: dict[int, dict[str, Any]] = {}
        self.nets: dict[int, Net] = {}
        self._by_vrf: dict[int, dict[Net, int]] = {}  # vrf id → net → prefix id
        self.pools: dict[int, dict[str, Any]] = {}
        self._next = {"vrf": 1, "prefix": 1, "pool": 1}

    def snapshot(self) -> dict[str, Any]:
        """Everything the store holds as JSON-able data (ids kept), for a lab that persists NIPAP."""
        with self.lock:
            return {"vrfs": [_plain(v) for v in self.vrfs.values()],
                    "prefixes": [_plain(p) for p in self.prefixes.values()],
                    "pools": [_plain(p) for p in self.pools.values()], "next": dict(self._next)}

    def restore(self, data: dict[str, Any]) -> None:
        """The store as ``snapshot`` left it: the same objects with the same ids."""
        with self.lock:
            self.vrfs = {int(v["id"]): _typed(v) for v in data["vrfs"]}
            self.pools = {int(p["id"]): _typed(p) for p in data["pools"]}
            self.prefixes, self.nets, self._by_vrf = {}, {}, {}
            for rec in data["prefixes"]:
                rec = _typed(rec)
                self.put_prefix(int(rec["id"]), rec, ipaddress.ip_network(rec["prefix"], strict=False))
            self._next = {k: int(v) for k, v in data["next"].items()}

    def next_id(self, kind: str) -> int:
        value = self._next[kind]
        self._next[kind] = value + 1
        return value

    def put_prefix(self, pid: int, rec: dict[str, Any], net: Net) -> None:
        """Insert or replace a prefix record (the VRF of an existing prefix never changes)."""
        old = self.nets.get(pid)
        if old is not None:
            self._by_vrf[self.prefixes[pid]["vrf_id"]].pop(old, None)
        self.prefixes[pid] = rec
        self.nets[pid] = net
        self._by_vrf.setdefault(rec["vrf_id"], {})[net] = pid

    def drop_prefix(self, pid: int) -> None:
        rec = self.prefixes.pop(pid, None)
        net = self.nets.pop(pid, None)
        if rec is not None and net is not None:
            self._by_vrf.get(rec["vrf_id"], {}).pop(net, None)

    # ------------------------------------------------------------------ tree helpers
    def index(self, vrf_id: int) -> dict[Net, int]:
        """net → prefix id of one VRF, kept up to date on every change (read-only for callers):
        rebuilding it for every insert made loading thousands of hosts quadratic."""
        return self._by_vrf.get(vrf_id, {})

    def ancestors_of(self, vrf_id: int, net: Net) -> list[int]:
        """The prefixes strictly containing ``net``, nearest first (``Tree.ancestors`` of one prefix)."""
        idx = self.index(vrf_id)
        out: list[int] = []
        cur = self.parent_of(vrf_id, net, idx)
        while cur is not None:
            out.append(cur)
            cur = self.parent_of(vrf_id, self.nets[cur], idx)
        return out

    def parent_of(self, vrf_id: int, net: Net, idx: dict[Net, int] | None = None) -> int | None:
        """The longest existing prefix strictly containing ``net`` in that VRF."""
        idx = self.index(vrf_id) if idx is None else idx
        for length in range(net.prefixlen - 1, -1, -1):
            pid = idx.get(net.supernet(new_prefix=length))
            if pid is not None:
                return pid
        return None

    def tree(self, vrf_id: int) -> Tree:
        return Tree(self, vrf_id)

    def tree_of(self, pid: int) -> Tree:
        return Tree(self, self.prefixes[pid]["vrf_id"])

    # ------------------------------------------------------------------ rendering
    def vrf_out(self, vrf_id: int) -> dict[str, Any]:
        v = self.vrfs[vrf_id]
        out = {k: v[k] for k in ("id", "rt", "name", "description")}
        out["tags"] = list(v["tags"])
        out["avps"] = dict(v["avps"])
        tree = self.tree(vrf_id)
        for fam, tag in ((4, "v4"), (6, "v6")):
            mine = [i for i in tree.order if self.nets[i].version == fam]
            top = [i for i in mine if tree.parent[i] is None]
            total = sum(self.nets[i].num_addresses for i in top)
            used = sum(tree.used(i) for i in top)
            out[f"num_prefixes_{tag}"] = str(len(mine))
            out[f"total_addresses_{tag}"] = str(total)
            out[f"used_addresses_{tag}"] = str(used)
            out[f"free_addresses_{tag}"] = str(total - used)
        return out

    def prefix_out(
        self, pid: int, tree: Tree | None = None, search: bool = False, match: bool = True
    ) -> dict[str, Any]:
        p = self.prefixes[pid]
        net = self.nets[pid]
        if tree is None and p["type"] == "host":
            # a host has no children: its ancestors come from the index, without a whole tree
            ancestors, used, children = self.ancestors_of(p["vrf_id"], net), net.num_addresses, 0
        else:
            tree = self.tree_of(pid) if tree is None else tree
            ancestors, used, children = tree.ancestors(pid), tree.used(pid), len(tree.children.get(pid, ()))
        vrf = self.vrfs[p["vrf_id"]]
        pool = self.pools.get(p["pool_id"]) if p["pool_id"] is not None else None
        display = str(net)
        if p["type"] == "host" and ancestors:
            display = f"{net.network_address}/{self.nets[ancestors[0]].prefixlen}"
        inherited: list[str] = []
        for a in ancestors:
            for tag in self.prefixes[a]["tags"]:
                if tag not in inherited:
                    inherited.append(tag)
        total = net.num_addresses
        out = {
            "id": pid,
            "family": net.version,
            "vrf_id": p["vrf_id"],
            "vrf_rt": vrf["rt"],
            "vrf_name": vrf["name"],
            "prefix": str(net),
            "display_prefix": display,
            "pool_id": p["pool_id"],
            "pool_name": pool["name"] if pool else None,
            "indent": len(ancestors),
            "inherited_tags": sorted(inherited),
            "total_addresses": str(total),
            "used_addresses": str(used),
            "free_addresses": str(total - used),
        }
        for key in (
            "description",
            "comment",
            "node",
            "type",
            "country",
            "order_id",
            "customer_id",
            "external_key",
            "authoritative_source",
            "alarm_priority",
            "monitor",
            "vlan",
            "added",
            "last_modified",
            "status",
            "expires",
        ):
            out[key] = p[key]
        out["tags"] = list(p["tags"])
        out["avps"] = dict(p["avps"])
        if search:
            out.update(
                prefix_length=net.prefixlen,
                children=children,
                match=match,
                display=True,
            )
        return out

    def sort_key(self, pid: int) -> tuple[Any, ...]:
        p = self.prefixes[pid]
        rt = self.vrfs[p["vrf_id"]]["rt"]
        net = self.nets[pid]
        return (rt is not None, rt or "", net.version, int(net.network_address), net.prefixlen)

    # ------------------------------------------------------------------ lookups
    def get_vrf(self, spec: dict[str, Any], prefix: str = "vrf_") -> int:
        """backend._get_vrf: by vrf_id / vrf_rt / vrf_name, else the default VRF (id 0).

        Names match exactly, as nipapd's ``list_vrf`` does (an SQL equality), although
        ``add_vrf`` refuses names that differ only in case (a unique index on ``lower(name)``).
        """
        if prefix + "id" in spec:
            vid = spec[prefix + "id"]
            vid = 0 if vid is None else vid
            found = [i for i in self.vrfs if i == vid]
        elif prefix + "rt" in spec:
            found = [i for i, v in self.vrfs.items() if v["rt"] == spec[prefix + "rt"]]
        elif prefix + "name" in spec:
            found = [i for i, v in self.vrfs.items() if v["name"] == spec[prefix + "name"]]
        else:
            found = [0]
        if not found:
            raise fault(1300, "No matching VRF found.")
        return found[0]

    def match_vrf_spec(self, spec: Any) -> list[int]:
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            raise fault(1000, "invalid VRF specification")
        for key in spec:
            if key not in ("id", "rt", "name"):
                raise fault(1120, f"Key '{key}' not allowed in VRF spec.")
        if len(spec) > 1:
            raise fault(1120, "VRF specification contains too many keys, specify VRF id, vrf or name.")
        if "id" in spec and spec["id"] is not None and not isinstance(spec["id"], int):
            raise fault(1200, f"Invalid input for VRF id: '{spec['id']}'")
        out = []
        for vid, v in self.vrfs.items():
            if "id" in spec and vid != spec["id"]:
                continue
            if "rt" in spec and v["rt"] != spec["rt"]:
                continue
            if "name" in spec and v["name"] != spec["name"]:  # exact, as nipapd's SQL equality
                continue
            out.append(vid)
        return sorted(out, key=lambda i: (self.vrfs[i]["rt"] is not None, self.vrfs[i]["rt"] or ""))

    def match_pool_spec(self, spec: Any) -> list[int]:
        spec = spec or {}
        if not isinstance(spec, dict):
            raise fault(1000, "invalid pool specification")
        for key in spec:
            if key not in ("id", "name"):
                raise fault(1120, f"Key '{key}' not allowed in pool spec.")
        return sorted(
            i
            for i, p in self.pools.items()
            if ("id" not in spec or i == spec["id"])
            and ("name" not in spec or str(p["name"]).lower() == str(spec["name"]).lower())
        )

    def match_prefix_spec(self, spec: Any) -> list[int]:
        if not isinstance(spec, dict):
            raise fault(1000, "invalid prefix specification")
        if "id" in spec and len(spec) > 1:
            raise fault(1120, "If 'id' specified, no other keys are allowed.")
        for key in spec:
            if key not in PREFIX_SPEC_KEYS:
                raise fault(1120, f"Key '{key}' not allowed in prefix spec.")
        spec = dict(spec)
        if "vrf_id" in spec and spec["vrf_id"] is None:
            spec["vrf_id"] = 0
        want_net = parse_net(spec["prefix"]) if spec.get("prefix") is not None else None
        out = []
        for pid in self.prefixes:
            row = None
            ok = True
            for key, value in spec.items():
                if key == "prefix" and want_net is not None:
                    ok = self.nets[pid] == want_net
                elif key in self.prefixes[pid] and key not in ("prefix",):
                    ok = self.prefixes[pid][key] == value
                else:
                    row = row or self.prefix_out(pid, search=True)
                    ok = row.get(key) == value
                if not ok:
                    break
            if ok:
                out.append(pid)
        return sorted(out, key=self.sort_key)


class Tree:
    """A snapshot of one VRF's prefix tree: parents, children and used space in O(n log n)."""

    def __init__(self, store: Store, vrf_id: int) -> None:
        self.store = store
        nets = store.nets
        self.order = sorted(
            (i for i, p in store.prefixes.items() if p["vrf_id"] == vrf_id),
            key=lambda i: (nets[i].version, int(nets[i].network_address), nets[i].prefixlen),
        )
        self.parent: dict[int, int | None] = {}
        self.children: dict[int, list[int]] = {}
        stack: list[tuple[int, int, int, int]] = []  # (version, start, end, pid)
        for pid in self.order:
            net = nets[pid]
            start, end = int(net.network_address), int(net.broadcast_address)
            while stack and not (
                stack[-1][0] == net.version and stack[-1][1] <= start and end <= stack[-1][2]
            ):
                stack.pop()
            parent = stack[-1][3] if stack else None
            self.parent[pid] = parent
            if parent is not None:
                self.children.setdefault(parent, []).append(pid)
            stack.append((net.version, start, end, pid))

    def ancestors(self, pid: int) -> list[int]:
        out: list[int] = []
        cur = self.parent.get(pid)
        while cur is not None:
            out.append(cur)
            cur = self.parent.get(cur)
        return out

    def used(self, pid: int) -> int:
        nets = self.store.nets
        if self.store.prefixes[pid]["type"] == "host":
            return nets[pid].num_addresses
        return sum(nets[c].num_addresses for c in self.children.get(pid, ()))


# ---------------------------------------------------------------------- query trees
def _coerce(value: Any, like: Any) -> Any:
    if isinstance(like, bool) and isinstance(value, str):
        return value.lower() in ("true", "t", "1", "yes")
    if isinstance(like, int) and not isinstance(like, bool) and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    return value


def _compare(op: str, a: Any, b: Any, key: str) -> bool:
    if key in ("prefix", "display_prefix") and a is not None and b is not None:
        a, b = ipaddress.ip_network(str(a), strict=False), parse_net(b)
        if a.version != b.version:
            return False
        a, b = (int(a.network_address), a.prefixlen), (int(b.network_address), b.prefixlen)
    elif isinstance(a, datetime) and isinstance(b, str):
        b = _timestamp(b)  # PostgreSQL casts the string to timestamptz (nipap.md §9.4)
    else:
        b = _coerce(b, a)
    if op == "=":
        return a is None if b is None else a == b
    if op == "!=":
        return a is not None if b is None else a != b
    if a is None or b is None:
        return False
    try:
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    except TypeError:
        raise fault(1000, "Unhandled data error.") from None


def _timestamp(text: str) -> datetime:
    """A string as PostgreSQL reads a ``timestamptz`` literal, as naive UTC (the session timezone); a
    string that is no timestamp is the data error nipapd reports as 1000 ``Unhandled data error.``"""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise fault(1000, "Unhandled data error.") from None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


_PG_SYMBOL = {"like": "~~", "any": "=", "is": "=", "is_not": "<>"}
_HSTORE_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*"((?:[^"\\]|\\.)*)"')


def _hstore(text: Any) -> dict[str, str] | None:
    """An hstore literal (``"k"=>"v", ...``) as a dict; None when PostgreSQL could not parse it."""
    pairs = _HSTORE_PAIR.findall(str(text))
    rest = _HSTORE_PAIR.sub("", str(text)).replace(",", "").strip()
    return None if rest or not pairs else dict(pairs)


def check_sql(query: Any, allowed: frozenset[str]) -> None:
    """What PostgreSQL refuses in the SQL nipapd builds from a query, before any row is read:
    ``avps`` is a search variable (it is in ``_prefix_spec``) but an hstore column, so comparing it
    with a text value fails with fault 1000 and PostgreSQL's text (nipap.md §9.3)."""
    if not isinstance(query, dict):
        return
    if isinstance(query.get("val1"), dict):
        check_sql(query["val1"], allowed)
        check_sql(query.get("val2"), allowed)
        return
    if query.get("val1") != "avps" or "avps" not in allowed or "val2" not in query:
        return
    op = OPERATORS.get(query.get("operator"))
    if op is None or op in ("and", "or"):
        return  # evaluate() answers with 1130
    val = query["val2"]
    if op in ("=", "!="):
        if val is None or _hstore(val) is not None:
            return  # a valid hstore literal compares as one
        raise fault(1000, f"Unexpected end of string\nLINE 97:                         WHERE  inp.avps {op} "
                          f"'{val}' \n{' ' * 51}^\n")
    where = f"COALESCE(inp.avps, '') LIKE '{val}'" if op == "like" else f"inp.avps {op} '{val}'"
    raise fault(1000, f"Unable to execute query: operator does not exist: hstore {_PG_SYMBOL.get(op, op)} "
                      f"unknown\nLINE 97: ...                    WHERE  {where}...\n{' ' * 62}^\n"
                      "HINT:  No operator matches the given name and argument types. You might need to add "
                      "explicit type casts.\n")


def evaluate(query: Any, row: dict[str, Any], allowed: frozenset[str]) -> bool:
    """Evaluate a search query tree (nipap.md §3.5) on one rendered row."""
    if not isinstance(query, dict):
        raise fault(1100, "Invalid query: must be a struct")
    if "val1" not in query:
        raise fault(1110, "'val1' must be specified")
    op_name = query.get("operator")
    if isinstance(query["val1"], dict):
        if OPERATORS.get(op_name) not in ("and", "or"):
            raise fault(1130, f"No such operator {op_name}")
        v1 = evaluate(query["val1"], row, allowed)
        if OPERATORS[op_name] == "and" and not v1:
            return False
        if OPERATORS[op_name] == "or" and v1:
            return True
        return evaluate(query.get("val2"), row, allowed)
    key = query["val1"]
    if "val2" not in query:
        raise fault(1110, f"Value (val2 in API) for '{key}' must be specified")
    if key not in allowed:
        raise fault(1100, f"Search variable '{key}' unknown")
    if op_name not in OPERATORS or OPERATORS[op_name] in ("and", "or"):
        raise fault(1130, f"No such operator {op_name}")
    op = OPERATORS[op_name]
    val = query["val2"]
    if key == "vrf_id" and val is None:
        val = 0
    col = row.get(key)
    if key == "avps" and op in ("=", "!=") and val is not None:
        same = col == _hstore(val)  # check_sql let only hstore literals through
        return same if op == "=" else not same
    if op in ("=", "!=", "<", "<=", ">", ">="):
        return _compare(op, col, val, key)
    if op in ("is", "is_not"):
        same = col is None if val is None else col == _coerce(val, col)
        return same if op == "is" else not same
    if op == "any":
        return val in (col or [])
    if op in ("like", "~", "~*", "!~", "!~*"):
        text = "" if col is None else str(col)
        if op == "like":
            pattern = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(val))
            return re.fullmatch(pattern, text, re.S) is not None
        flags = re.I if op.endswith("*") else 0
        try:
            hit = re.search(str(val), text, flags) is not None
        except re.error:
            raise fault(1000, "Unable to execute query: invalid regular expression") from None
        return hit if not op.startswith("!") else not hit
    # IP containment
    if col is None:
        return False
    a = ipaddress.ip_network(str(col), strict=False)
    b = ipaddress.ip_network(str(val), strict=False) if "/" in str(val) else parse_net(val)
    if a.version != b.version:
        return False
    if op == ">>":
        return b.subnet_of(a) and a != b
    if op == ">>=":
        return b.subnet_of(a)
    if op == "<<":
        return a.subnet_of(b) and a != b
    return a.subnet_of(b)


def smart_query(text: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """A subset of smart_parsing.py: prefix, address, #tag, attr=value and bare words (ANDed)."""
    tokens = shlex.split(text)
    parts: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for tok in tokens:
        parts.append(_smart_token(tok))
    query: dict[str, Any] | None = None
    for q, _ in parts:
        query = q if query is None else {"operator": "and", "val1": query, "val2": q}
    return query, [i for _, i in parts]


def _expand_short(tok: str) -> str:
    addr, _, length = tok.partition("/")
    if re.fullmatch(r"\d+(\.\d+){0,2}", addr) and length.isdigit():
        octets = addr.split(".")
        return ".".join(octets + ["0"] * (4 - len(octets))) + "/" + length
    return tok


def _smart_token(tok: str) -> tuple[dict[str, Any], dict[str, Any]]:
    if tok.startswith("#") and len(tok) > 1:
        tag = tok[1:]
        q = {
            "operator": "or",
            "val1": {"operator": "equals_any", "val1": "tags", "val2": tag},
            "val2": {"operator": "equals_any", "val1": "inherited_tags", "val2": tag},
        }
        return q, {"string": tok, "interpretation": "tag", "attribute": "tag", "operator": "equals_any"}
    if "/" in tok:
        try:
            net = ipaddress.ip_network(_expand_short(tok), strict=False)
            q = {"operator": "contained_within_equals", "val1": "prefix", "val2": str(net)}
            return q, {
                "string": tok,
                "interpretation": f"IPv{net.version} prefix",
                "attribute": "prefix",
                "operator": "contained_within_equals",
                "expanded": str(net),
            }
        except ValueError:
            pass
    try:
        addr = ipaddress.ip_address(tok)
        q = {"operator": "contains_equals", "val1": "prefix", "val2": str(addr)}
        return q, {
            "string": tok,
            "interpretation": f"IPv{addr.version} address",
            "attribute": "prefix",
            "operator": "contains_equals",
        }
    except ValueError:
        pass
    if "=" in tok and not tok.startswith("="):
        key, _, value = tok.partition("=")
        q = {"operator": "equals", "val1": key, "val2": value}
        return q, {"string": tok, "interpretation": key, "attribute": key, "operator": "equals"}
    cols = ("comment", "description", "node", "order_id", "customer_id")
    q: dict[str, Any] = {"operator": "regex_match", "val1": cols[0], "val2": re.escape(tok)}
    for col in cols[1:]:
        q = {
            "operator": "or",
            "val1": q,
            "val2": {"operator": "regex_match", "val1": col, "val2": re.escape(tok)},
        }
    return q, {
        "string": tok,
        "interpretation": "text",
        "attribute": "description or comment or node or order_id or customer_id",
        "operator": "regex_match",
    }


def search_options(opts: Any, prefix_opts: bool) -> dict[str, Any]:
    """Normalise search_options as nipapd does (and echo them back)."""
    opts = dict(opts or {})
    out: dict[str, Any] = {}
    if prefix_opts:
        for key in ("include_all_parents", "include_all_children", "include_neighbors"):
            value = opts.get(key, False)
            if value not in (True, False):
                raise fault(
                    1200,
                    f"Invalid value for option '{key}'. Only true and false valid. Supplied value: '{value}'",
                )
            out[key] = bool(value)
        for key in ("parents_depth", "children_depth"):
            try:
                out[key] = int(opts.get(key, 0))
            except (TypeError, ValueError):
                raise fault(1200, f"Invalid value for option '{key}'. Only integer values allowed.") from None
        out["parent_prefix"] = opts.get("parent_prefix")
    if "max_result" in opts and opts["max_result"] in (None, False):
        out["max_result"] = opts["max_result"]
    else:
        try:
            out["max_result"] = int(opts.get("max_result", 50))
        except (TypeError, ValueError):
            raise fault(1200, "Invalid value for option 'max_result'. Only integer values allowed.") from None
    try:
        out["offset"] = int(opts.get("offset", 0))
    except (TypeError, ValueError):
        raise fault(1200, "Invalid value for option 'offset'. Only integer values allowed.") from None
    return out


def page(rows: list[Any], opts: dict[str, Any]) -> list[Any]:
    rows = rows[opts["offset"] :]
    if opts["max_result"] not in (None, False):
        rows = rows[: opts["max_result"]]
    return rows


Method = Callable[[Store, Session, dict[str, Any]], Any]
