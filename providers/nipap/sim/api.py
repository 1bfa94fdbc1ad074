"""The XML-RPC methods of the NIPAP simulator, implemented on ``simdata.Store``.

Owns: argument handling, validation order and fault texts of every nipapd 0.32.7 method
(nipap.md §3.3-§3.7), allocation (first fit) and the write rules (§2.5/§2.6).
Must not: authenticate (``simulator.py`` does that) or do network I/O.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from xmlrpc.client import DateTime

from providers.nipap.sim.data import (
    ALARM_PRIORITIES,
    POOL_WRITABLE,
    PREFIX_FIELDS,
    PREFIX_TYPES,
    PREFIX_WRITABLE,
    SEARCH_ONLY,
    STATUSES,
    VRF_WRITABLE,
    Net,
    Session,
    Store,
    Tree,
    check_sql,
    evaluate,
    fault,
    host_text,
    normalize_rt,
    now,
    page,
    parse_net,
    search_options,
    smart_query,
)

VERSION = "0.32.7"
DB_VERSION = 7
PREFIX_SEARCH_VARS = frozenset(PREFIX_FIELDS + SEARCH_ONLY) - {"match", "display"}


# ---------------------------------------------------------------------- helpers
def _dup(vrf_id: int, net: Net) -> Exception:
    return fault(
        1400, f"Duplicate value for 'prefix', the value '{vrf_id}, {host_text(net)}' is already in use."
    )


def _check_avps(avps: Any) -> dict[str, str]:
    if avps is None:
        return {}
    if not isinstance(avps, dict):
        raise fault(1000, "Unable to execute query: invalid input syntax for type hstore")
    for key, value in avps.items():
        if not isinstance(key, str) or key == "":
            raise fault(1200, "Invalid AVP key: keys must be non-empty strings")
        if not isinstance(value, str):
            raise fault(
                1000,
                f"Unable to execute query: function hstore(text[], {type(value).__name__}[]) does not exist",
            )
    return dict(avps)


def _check_tags(tags: Any) -> list[str]:
    if tags is None:
        return []
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise fault(1000, "Unhandled data error.")
    return list(tags)  # stored as sent: nipapd keeps duplicates (nipap.md §9.3)


def _parse_expires(value: Any, on_add: bool) -> datetime | None:
    if isinstance(value, DateTime):
        if on_add:  # nipapd's add_prefix does not unwrap xmlrpc DateTime (nipap.md §7.7)
            raise TypeError("can't adapt type 'DateTime'")
        return datetime.strptime(value.value, "%Y%m%dT%H:%M:%S")
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if value is None or str(value).strip().lower() in ("never", "infinity", ""):
        return None
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(str(value).strip(), fmt)
        except ValueError:
            continue
    return now()  # unparseable text silently becomes "now" (nipap.md §2.2)


def _check_attr(attr: dict[str, Any], required: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    for key in required:
        if key not in attr:
            raise fault(1110, f"missing attribute {key}")
    for key in attr:
        if key not in allowed:
            raise fault(1120, f"extraneous attribute {key}")


def _resolve_pool(store: Store, attr: dict[str, Any]) -> None:
    """pool_id / pool_name in attr → attr['pool_id'] (1100 for a missing pool)."""
    if "pool_id" not in attr and "pool_name" not in attr:
        return
    if "pool_id" in attr:
        pid = attr["pool_id"]
        if pid is not None and pid not in store.pools:
            raise fault(1100, "non-existing pool specified")
    else:
        name = attr.pop("pool_name")
        pid = None
        if name is not None:
            found = store.match_pool_spec({"name": name})
            if not found:
                raise fault(1100, "non-existing pool specified")
            pid = found[0]
    attr.pop("pool_name", None)
    attr["pool_id"] = pid


def _resolve_vrf(store: Store, attr: dict[str, Any]) -> int:
    vid = store.get_vrf(attr)
    attr.pop("vrf_rt", None)
    attr.pop("vrf_name", None)
    attr["vrf_id"] = vid
    return vid


def _validate_values(rec: dict[str, Any]) -> None:
    if rec.get("type") is None:
        raise fault(1000, 'Unable to execute query: null value in column "type" violates not-null constraint')
    if rec["type"] not in PREFIX_TYPES or rec.get("status") not in STATUSES:
        raise fault(1000, "Unhandled data error.")
    if rec.get("alarm_priority") is not None and rec["alarm_priority"] not in ALARM_PRIORITIES:
        raise fault(1000, "Unhandled data error.")
    if rec.get("vlan") is not None and not isinstance(rec["vlan"], int):
        raise fault(1000, "Unhandled data error.")


def _check_tree(
    store: Store, rec: dict[str, Any], net: Net, exclude: int | None = None, old_type: str | None = None
) -> None:
    """The PL/pgSQL prefix trigger (nipap.md §2.5) followed by the unique index."""
    vrf_id, ptype = rec["vrf_id"], rec["type"]
    idx = store.index(vrf_id)
    if exclude is not None:  # an edit: the prefix itself does not count (a copy, edits are rare)
        idx = {n: i for n, i in idx.items() if i != exclude}
    if ptype == "host" and net.prefixlen != net.max_prefixlen:
        raise fault(1200, "Prefix of type host must have all bits set in netmask")
    parent = store.parent_of(vrf_id, net, idx)
    if ptype == "host":
        if parent is None:
            raise fault(1200, "Prefix of type host must have a parent (covering) prefix of type assignment")
        if store.prefixes[parent]["type"] != "assignment":
            raise fault(
                1200,
                f"Parent prefix ({store.nets[parent]}) is of type "
                f"{store.prefixes[parent]['type']} but must be of type 'assignment'",
            )
    elif parent is not None and store.prefixes[parent]["type"] != "reservation":
        raise fault(
            1200,
            f"Parent prefix ({store.nets[parent]}) is of type "
            f"{store.prefixes[parent]['type']} but must be of type 'reservation'",
        )
    if net.prefixlen == net.max_prefixlen:
        inside: list[int] = []  # nothing but itself fits in a host-sized prefix
    else:
        inside = [i for n, i in idx.items() if n != net and n.version == net.version and n.subnet_of(net)]
    if (
        old_type is not None
        and old_type != ptype
        and ({old_type, ptype} != {"reservation", "assignment"} or inside)
    ):
        raise fault(1200, "Changing type is not allowed")
    if ptype == "assignment" and any(store.prefixes[i]["type"] != "host" for i in inside):
        raise fault(1200, "Prefix of type 'assignment' must not have any subnets other than of type 'host'")
    if rec.get("node") is not None:
        if ptype == "reservation":
            raise fault(1200, "Not allowed to set 'node' value for prefixes of type 'reservation'.")
        if ptype == "assignment" and net.prefixlen != net.max_prefixlen:
            raise fault(
                1200,
                "Not allowed to set 'node' value for prefixes of type 'assignment' which do "
                "not have all bits set in netmask.",
            )
    if net in idx:
        raise _dup(vrf_id, net)


def _check_pool_vrf(store: Store, rec: dict[str, Any], exclude: int | None = None) -> None:
    if rec.get("pool_id") is None:
        return
    for pid, p in store.prefixes.items():
        if pid != exclude and p["pool_id"] == rec["pool_id"] and p["vrf_id"] != rec["vrf_id"]:
            raise fault(1200, "All prefixes in a pool must be in the same VRF")


# ---------------------------------------------------------------------- allocation
def free_prefixes(store: Store, vrf_id: int, sources: list[Net], wpl: int, count: int) -> list[Net]:
    """Ascending first fit over each source block, in list order (functions.plsql find_free_prefix)."""
    existing = set(store.index(vrf_id))
    out: list[Net] = []
    for src in sources:
        if wpl < src.prefixlen or wpl > src.max_prefixlen:
            continue
        size = 1 << (src.max_prefixlen - wpl)
        lo, hi = int(src.network_address), int(src.broadcast_address)
        blockers = sorted(
            (int(p.network_address), int(p.broadcast_address))
            for p in existing
            if p.version == src.version and p != src and p.subnet_of(src)
        )
        merged: list[list[int]] = []
        for start, end in blockers:
            if merged and start <= merged[-1][1] + 1:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        skip_ends = wpl == src.max_prefixlen and src.prefixlen < src.max_prefixlen - 1
        cur, j = lo, 0
        while len(out) < count and cur + size - 1 <= hi:
            end = cur + size - 1
            while j < len(merged) and merged[j][1] < cur:
                j += 1
            if j < len(merged) and merged[j][0] <= end:
                nxt = merged[j][1] + 1
                cur = lo + ((nxt - lo + size - 1) // size) * size
                continue
            cand = ipaddress.ip_network((cur, wpl))
            if not (skip_ends and cur in (lo, hi)) and cand not in existing and cand not in out:
                out.append(cand)
            cur += size
        if len(out) >= count:
            break
    return out


def _ffp_sources(store: Store, args: dict[str, Any]) -> tuple[list[Net], int]:
    """find_free_prefix argument rules (backend.py find_free_prefix) → (source blocks, length)."""
    if "count" in args:
        if int(args["count"]) > 1000:
            raise fault(1200, "count over the maximum result size")
    else:
        args["count"] = 1
    sources: list[Net] = []
    wpl = 0
    if "from-pool" in args:
        if "from-prefix" in args:
            raise fault(1100, "specify 'from-pool' OR 'from-prefix'")
        if "family" not in args:
            raise fault(1110, "'family' must be specified with 'from-pool' mode")
        if args["family"] not in (4, 6):
            raise fault(1200, "incorrect family specified, must be 4 or 6")
        pools = store.match_pool_spec(args["from-pool"])
        if not pools:
            raise fault(1300, "Non-existent pool specified")
        pool = store.pools[pools[0]]
        members = sorted(
            (store.nets[i] for i, p in store.prefixes.items() if p["pool_id"] == pools[0]),
            key=lambda n: (n.version, int(n.network_address)),
        )
        if not members:
            raise fault(1100, "No prefixes in pool")
        sources = [n for n in members if n.version == args["family"]]
        if not sources:
            raise fault(1100, f"No prefixes of family {args['family']} in pool")
        if "prefix_length" not in args:
            wpl = pool[f"ipv{args['family']}_default_prefix_length"] or 0
    elif "from-prefix" in args:
        if not isinstance(args["from-prefix"], list):
            raise fault(1100, "from-prefix should be a list")
        if "prefix_length" not in args:
            raise fault(1110, "'prefix_length' must be specified with 'from-prefix'")
        if "family" in args:
            raise fault(1120, "'family' is superfluous when in 'from-prefix' mode")
        for text in args["from-prefix"]:
            net = ipaddress.ip_network(str(text), strict=False)
            if sources and net.version != sources[0].version:
                raise fault(1100, "mixing of address-family is not allowed for 'from-prefix' arg")
            sources.append(net)
    else:
        raise fault(1110, "missing 'from-pool' or 'from-prefix'")
    if "prefix_length" in args:
        try:
            wpl = int(args["prefix_length"])
        except (TypeError, ValueError):
            raise fault(1200, "prefix length must be integer") from None
    family = sources[0].version if sources else 4
    top = 32 if family == 4 else 128
    if wpl < 0 or wpl > top:
        raise fault(
            1200, f"the specified wanted prefix length argument must be between 0 and {top} for ipv{family}"
        )
    return sources, wpl


# ---------------------------------------------------------------------- prefix methods
DupHook = Callable[[str], bool]


def add_prefix(store: Store, s: Session, arg: dict[str, Any], dup_hook: DupHook | None = None) -> Any:
    attr = dict(arg.get("attr") or {})
    args = dict(arg.get("args") or {})
    _resolve_pool(store, attr)
    attr["authoritative_source"] = s.source
    if "prefix" in attr:
        if "from-pool" in args or "from-prefix" in args:
            raise fault(1120, "specify 'prefix' or 'from-prefix' or 'from-pool'")
    elif ("from-pool" in args) == ("from-prefix" in args):
        raise fault(1120, "specify 'prefix' or 'from-prefix' or 'from-pool'")
    mode = "manual" if "prefix" in attr else "alloc"
    if mode == "manual":
        vid = _resolve_vrf(store, attr)
    else:
        if "from-pool" in args:
            pools = store.match_pool_spec(args["from-pool"])
            if not pools:
                raise fault(1300, "Non-existent pool specified")
            pool = store.pools[pools[0]]
            attr.setdefault("type", pool["default_type"])
            implied = _pool_vrf(store, pools[0])
            if not any(k in attr for k in ("vrf_id", "vrf_rt", "vrf_name")):
                attr["vrf_id"] = implied
            vid = _resolve_vrf(store, attr)
            if implied is not None and vid != implied:
                raise fault(1100, "VRF must be the same as the pools implied VRF")
        else:
            vid = _resolve_vrf(store, attr)
        sources, wpl = _ffp_sources(store, args)
        found = free_prefixes(store, vid, sources, wpl, 1)
        if not found:
            raise fault(1300, "no free prefix found")
        attr["prefix"] = str(found[0])
    _check_attr(attr, ("prefix", "authoritative_source"), PREFIX_WRITABLE)
    if "description" not in attr and "node" not in attr:
        raise fault(1110, "Either description or node must be specified.")
    rec = _new_record(attr)
    net = parse_net(rec["prefix"])
    rec["prefix"] = str(net)
    _validate_values(rec)
    if rec["country"] is not None:
        if len(str(rec["country"])) != 2 or not str(rec["country"]).isalpha():
            raise fault(1200, " Please enter a two letter country code according to ISO 3166-1 alpha-2")
        rec["country"] = str(rec["country"]).upper()
    _check_tree(store, rec, net)
    _check_pool_vrf(store, rec)
    if dup_hook is not None and dup_hook(mode):
        raise _dup(vid, net)  # simulated lost race: another worker inserted it first
    pid = store.next_id("prefix")
    rec["id"] = pid
    store.put_prefix(pid, rec, net)
    if rec["type"] == "host":
        _touch_family(store, rec["vrf_id"], net, rec["last_modified"])
    return store.prefix_out(pid)


def _touch_family(store: Store, vrf_id: int, net: Net, stamp: Any) -> None:
    """Adding or removing a host is an UPDATE of its parent, and the trigger cascade updates every host
    beside it: their ``last_modified`` moves too (nipap.md §9.4)."""
    parent = store.parent_of(vrf_id, net)
    if parent is None:
        return
    top = store.nets[parent]
    store.prefixes[parent]["last_modified"] = stamp
    for other, pid in store.index(vrf_id).items():
        if other.version == top.version and other != top and other.subnet_of(top) \
                and store.prefixes[pid]["type"] == "host":
            store.prefixes[pid]["last_modified"] = stamp


def _new_record(attr: dict[str, Any]) -> dict[str, Any]:
    t = now()
    rec: dict[str, Any] = {
        "vrf_id": 0,
        "prefix": None,
        "type": None,
        "status": "assigned",
        "description": None,
        "comment": None,
        "node": None,
        "pool_id": None,
        "country": None,
        "order_id": None,
        "customer_id": None,
        "external_key": None,
        "authoritative_source": None,
        "alarm_priority": None,
        "monitor": None,
        "vlan": None,
        "tags": [],
        "avps": {},
        "expires": None,
        "added": t,
        "last_modified": t,
    }
    for key, value in attr.items():
        rec[key] = value
    rec["status"] = rec["status"] or "assigned"
    rec["tags"] = _check_tags(rec["tags"])
    rec["avps"] = _check_avps(rec["avps"])
    rec["expires"] = _parse_expires(attr.get("expires"), on_add=True)
    return rec


def _pool_vrf(store: Store, pool_id: int) -> int | None:
    for p in store.prefixes.values():
        if p["pool_id"] == pool_id:
            return p["vrf_id"]
    return None


def edit_prefix(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    spec = arg.get("prefix")
    attr = dict(arg.get("attr") or {})
    _resolve_pool(store, attr)
    # since nipapd 0.31.2 the VRF is resolved only when attr names one; without, a prefix keeps its own
    vid = _resolve_vrf(store, attr) if {"vrf_id", "vrf_rt", "vrf_name"} & set(attr) else None
    _check_attr(attr, (), PREFIX_WRITABLE)
    matched = store.match_prefix_spec(spec if spec is not None else {})
    staged: list[tuple[int, dict[str, Any], Net]] = []
    for pid in matched:
        old = store.prefixes[pid]
        if vid is not None and old["vrf_id"] != vid:
            raise fault(1200, "Changing VRF is not allowed")
        rec = dict(old)
        for key, value in attr.items():
            rec[key] = value
        rec["tags"] = _check_tags(rec["tags"])
        rec["avps"] = _check_avps(rec["avps"])
        if "expires" in attr:
            rec["expires"] = _parse_expires(attr["expires"], on_add=False)
        if "country" in attr and old["country"] is None:
            pass  # the country check runs on UPDATE only when the old value was non-NULL
        elif (
            "country" in attr
            and rec["country"] is not None
            and (len(str(rec["country"])) != 2 or not str(rec["country"]).isalpha())
        ):
            raise fault(1200, " Please enter a two letter country code according to ISO 3166-1 alpha-2")
        net = parse_net(rec["prefix"])
        rec["prefix"] = str(net)
        _validate_values(rec)
        _check_tree(store, rec, net, exclude=pid, old_type=old["type"])
        _check_pool_vrf(store, rec, exclude=pid)
        rec["last_modified"] = now()
        staged.append((pid, rec, net))
    for pid, rec, net in staged:
        store.put_prefix(pid, rec, net)
    out = []
    for pid, _, _ in staged:
        out.append(store.prefix_out(pid, search=True))
    return out


def remove_prefix(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    spec = dict(arg.get("prefix") or {})
    recursive = bool(arg.get("recursive", False))
    if "id" in spec:
        ids = store.match_prefix_spec(spec)
        pid = ids[0]  # IndexError → fault 1, exactly like nipapd
        spec = {"prefix": store.prefixes[pid]["prefix"], "vrf_id": store.prefixes[pid]["vrf_id"]}
    elif "prefix" not in spec:
        raise fault(1110, "missing prefix or id of prefix")
    matched = store.match_prefix_spec(spec)
    doomed: list[int] = []
    if recursive:
        others = {k: v for k, v in spec.items() if k != "prefix"}
        top = parse_net(spec["prefix"])
        for pid in store.match_prefix_spec(others) if others else list(store.prefixes):
            if store.nets[pid].version == top.version and store.nets[pid].subnet_of(top):
                doomed.append(pid)
    else:
        for pid in matched:
            p, net = store.prefixes[pid], store.nets[pid]
            if p["type"] == "assignment" and any(
                q["type"] == "host" and store.nets[i].subnet_of(net)
                for i, q in store.prefixes.items()
                if q["vrf_id"] == p["vrf_id"] and store.nets[i].version == net.version and i != pid
            ):
                raise fault(1200, f"Prohibited delete, prefix ({net}) contains hosts.")
        doomed = matched
    gone = [(store.prefixes[pid]["vrf_id"], store.nets[pid]) for pid in doomed
            if store.prefixes[pid]["type"] == "host"]
    for pid in doomed:
        store.drop_prefix(pid)
    stamp = now()
    for vrf_id, net in gone:
        if store.parent_of(vrf_id, net) is not None:
            _touch_family(store, vrf_id, net, stamp)
    return None


def list_prefix(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    spec = arg.get("prefix")
    trees: dict[int, Tree] = {}
    return [
        store.prefix_out(pid, _tree(store, trees, pid))
        for pid in store.match_prefix_spec({} if spec is None else spec)
    ]


def _tree(store: Store, trees: dict[int, Tree], pid: int) -> Tree:
    vid = store.prefixes[pid]["vrf_id"]
    if vid not in trees:
        trees[vid] = store.tree(vid)
    return trees[vid]


def _search_rows(
    store: Store, matched: list[int], opts: dict[str, Any], trees: dict[int, Tree]
) -> list[dict[str, Any]]:
    rows: dict[int, tuple[bool, bool]] = {pid: (True, True) for pid in matched}
    for pid in matched:
        tree = _tree(store, trees, pid)
        pdepth = opts["parents_depth"]
        for depth, anc in enumerate(tree.ancestors(pid), start=1):
            shown = pdepth == -1 or depth <= pdepth
            if shown or opts["include_all_parents"]:
                prev = rows.get(anc, (False, False))
                rows[anc] = (prev[0], True)  # display: the row contains a matching row (nipap.md §9.3)
        cdepth = opts["children_depth"]
        frontier, depth = [pid], 0
        while frontier:
            depth += 1
            frontier = [c for f in frontier for c in tree.children.get(f, ())]
            shown = cdepth == -1 or depth <= cdepth
            if not (shown or opts["include_all_children"]):
                break
            for c in frontier:
                prev = rows.get(c, (False, False))
                rows[c] = (prev[0], prev[1] or shown)
    out = []
    for pid in sorted(rows, key=store.sort_key):
        row = store.prefix_out(pid, _tree(store, trees, pid), search=True, match=rows[pid][0])
        row["display"] = rows[pid][1]
        out.append(row)
    return out


def _all_search_rows(store: Store, trees: dict[int, Tree]) -> dict[int, dict[str, Any]]:
    return {pid: store.prefix_out(pid, _tree(store, trees, pid), search=True) for pid in store.prefixes}


def search_prefix(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    query = arg.get("query")
    opts = search_options(arg.get("search_options"), prefix_opts=True)
    if not isinstance(query, dict) or "val1" not in query:
        raise fault(1110, "'val1' must be specified")
    check_sql(query, PREFIX_SEARCH_VARS)
    trees: dict[int, Tree] = {}
    rows = _all_search_rows(store, trees)
    matched = [pid for pid, row in rows.items() if evaluate(query, row, PREFIX_SEARCH_VARS)]
    return {"search_options": opts, "result": page(_search_rows(store, matched, opts, trees), opts)}


def smart_search_prefix(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    opts = search_options(arg.get("search_options"), prefix_opts=True)
    text = str(arg.get("query_string") or "")
    try:
        query, tokens = smart_query(text)
    except ValueError:
        return {
            "interpretation": {},
            "search_options": opts,
            "error": True,
            "error_message": "query interpretation failed",
            "result": [],
        }
    extra = arg.get("extra_query")
    if extra:
        query = extra if query is None else {"operator": "and", "val1": query, "val2": extra}
    trees: dict[int, Tree] = {}
    rows = _all_search_rows(store, trees)
    matched = [pid for pid, row in rows.items() if query is None or evaluate(query, row, PREFIX_SEARCH_VARS)]
    interpretation = {"operator": "and", "tokens": tokens, "query": query} if tokens else {}
    return {
        "interpretation": interpretation,
        "search_options": opts,
        "error": False,
        "result": page(_search_rows(store, matched, opts, trees), opts),
    }


def find_free_prefix(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    args = arg.get("args")
    if not isinstance(args, dict):
        raise fault(1100, "invalid input, please provide dict as args")
    args = dict(args)
    vrf = arg.get("vrf")
    vids = store.match_vrf_spec(vrf or {"id": 0})
    if not vids:
        raise fault(1300, "No matching VRF found.")
    sources, wpl = _ffp_sources(store, args)
    return [host_text(n) for n in free_prefixes(store, vids[0], sources, wpl, int(args["count"]))]


# ---------------------------------------------------------------------- VRF methods
def add_vrf(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    attr = dict(arg.get("attr") or {})
    _check_attr(attr, ("rt", "name"), VRF_WRITABLE)
    rec = {
        "rt": normalize_rt(attr["rt"]),
        "name": attr["name"],
        "description": attr.get("description"),
        "tags": _check_tags(attr.get("tags")),
        "avps": _check_avps(attr.get("avps")),
        "added": now(),
    }
    _vrf_unique(store, rec, None)
    vid = store.next_id("vrf")
    rec["id"] = vid
    store.vrfs[vid] = rec
    return store.vrf_out(vid)


def _vrf_unique(store: Store, rec: dict[str, Any], exclude: int | None) -> None:
    if not rec.get("name"):
        raise fault(1200, "VRF name must not be empty")
    for vid, v in store.vrfs.items():
        if vid == exclude:
            continue
        if rec["rt"] is not None and v["rt"] == rec["rt"]:
            raise fault(1400, f"Duplicate value for 'VRF RT', the value '{rec['rt']}' is already in use.")
        if str(v["name"]).lower() == str(rec["name"]).lower():
            raise fault(1400, f"Duplicate value for 'VRF name', the value '{rec['name']}' is already in use.")


def list_vrf(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    return [store.vrf_out(v) for v in store.match_vrf_spec(arg.get("vrf"))]


def edit_vrf(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    attr = dict(arg.get("attr") or {})
    _check_attr(attr, (), VRF_WRITABLE)
    out = []
    for vid in store.match_vrf_spec(arg.get("vrf")):
        rec = dict(store.vrfs[vid])
        rec.update(attr)
        if "rt" in attr:
            if vid == 0:
                if attr["rt"] is not None:
                    raise fault(1200, "Invalid input for column rt, the default VRF (id 0) can not have a RT")
            else:
                rec["rt"] = normalize_rt(attr["rt"])
        rec["tags"] = _check_tags(rec["tags"])
        rec["avps"] = _check_avps(rec["avps"])
        _vrf_unique(store, rec, vid)
        store.vrfs[vid] = rec
        out.append(store.vrf_out(vid))
    return out


def remove_vrf(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    for vid in store.match_vrf_spec(arg.get("vrf")):
        if vid == 0:
            raise fault(1200, "Prohibited delete of default VRF (id=0).")
        for pid in [i for i, p in store.prefixes.items() if p["vrf_id"] == vid]:
            store.drop_prefix(pid)
        store.vrfs.pop(vid)
    return None


def search_vrf(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    query = arg.get("query") or {}
    opts = search_options(arg.get("search_options"), prefix_opts=False)
    rows = [store.vrf_out(v) for v in store.match_vrf_spec({})]
    allowed = frozenset(rows[0]) if rows else frozenset()
    result = [r for r in rows if not query or evaluate(query, r, allowed)]
    return {"search_options": opts, "result": page(result, opts)}


def smart_search_vrf(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    opts = search_options(arg.get("search_options"), prefix_opts=False)
    words = str(arg.get("query_string") or "").split()
    rows = [store.vrf_out(v) for v in store.match_vrf_spec({})]
    result = [
        r
        for r in rows
        if all(
            any(w.lower() in str(r.get(k) or "").lower() for k in ("rt", "name", "description"))
            for w in words
        )
    ]
    return {
        "interpretation": {"tokens": words},
        "search_options": opts,
        "error": False,
        "result": page(result, opts),
    }


# ---------------------------------------------------------------------- pool methods
def _pool_out(store: Store, pool_id: int) -> dict[str, Any]:
    p = store.pools[pool_id]
    members = sorted(
        (store.nets[i] for i, q in store.prefixes.items() if q["pool_id"] == pool_id),
        key=lambda n: (n.version, int(n.network_address)),
    )
    vid = _pool_vrf(store, pool_id)
    vrf = store.vrfs.get(vid) if vid is not None else None
    out = {
        k: p[k]
        for k in (
            "id",
            "name",
            "description",
            "default_type",
            "ipv4_default_prefix_length",
            "ipv6_default_prefix_length",
        )
    }
    out.update(
        tags=list(p["tags"]),
        avps=dict(p["avps"]),
        prefixes=[str(n) for n in members],
        vrf_id=vid,
        vrf_rt=vrf["rt"] if vrf else None,
        vrf_name=vrf["name"] if vrf else None,
    )
    for fam in (4, 6):
        mine = [n for n in members if n.version == fam]
        total = sum(n.num_addresses for n in mine)
        out[f"member_prefixes_v{fam}"] = str(len(mine))
        out[f"total_addresses_v{fam}"] = str(total)
        out[f"used_addresses_v{fam}"] = "0" if not mine else None
        out[f"free_addresses_v{fam}"] = "0" if not mine else None
        out[f"used_prefixes_v{fam}"] = None
        out[f"free_prefixes_v{fam}"] = None
        out[f"total_prefixes_v{fam}"] = None
    return out


def add_pool(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    attr = dict(arg.get("attr") or {})
    _check_attr(attr, ("name", "description", "default_type"), POOL_WRITABLE)
    rec = {k: attr.get(k) for k in POOL_WRITABLE}
    rec["tags"], rec["avps"] = _check_tags(rec["tags"]), _check_avps(rec["avps"])
    _pool_checks(store, rec, None)
    pid = store.next_id("pool")
    rec["id"] = pid
    store.pools[pid] = rec
    return _pool_out(store, pid)


def _pool_checks(store: Store, rec: dict[str, Any], exclude: int | None) -> None:
    if rec["default_type"] is not None and rec["default_type"] not in PREFIX_TYPES:
        raise fault(1000, "Unhandled data error.")
    for fam, top in ((4, 32), (6, 128)):
        value = rec.get(f"ipv{fam}_default_prefix_length")
        if value is not None and not (1 <= int(value) <= top):
            raise fault(1200, f"Default IPv{fam} prefix length must be an integer between 1 and {top}.")
    for pid, p in store.pools.items():
        if pid != exclude and str(p["name"]).lower() == str(rec["name"]).lower():
            raise fault(
                1400, f"Duplicate value for 'pool name', the value '{rec['name']}' is already in use."
            )


def list_pool(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    return [_pool_out(store, p) for p in store.match_pool_spec(arg.get("pool"))]


def edit_pool(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    spec = arg.get("pool") or {}
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ("id", "name"):
        raise fault(1120, "pool specification must contain exactly one of 'id' or 'name'")
    attr = dict(arg.get("attr") or {})
    _check_attr(attr, (), POOL_WRITABLE)
    out = []
    for pid in store.match_pool_spec(spec):
        rec = dict(store.pools[pid])
        rec.update(attr)
        rec["tags"], rec["avps"] = _check_tags(rec["tags"]), _check_avps(rec["avps"])
        _pool_checks(store, rec, pid)
        store.pools[pid] = rec
        out.append(_pool_out(store, pid))
    return out


def remove_pool(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    for pid in store.match_pool_spec(arg.get("pool")):
        store.pools.pop(pid)
        for p in store.prefixes.values():
            if p["pool_id"] == pid:
                p["pool_id"] = None  # FK ON DELETE SET NULL
    return None


def search_pool(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    query = arg.get("query")
    opts = search_options(arg.get("search_options"), prefix_opts=False)
    if not isinstance(query, dict) or "val1" not in query:
        raise KeyError("val1")  # nipapd gives fault 1 <class 'KeyError'>:'val1' for {}
    rows = [_pool_out(store, p) for p in store.match_pool_spec({})]
    allowed = frozenset(rows[0]) if rows else frozenset(POOL_WRITABLE) | {"id"}
    return {"search_options": opts, "result": page([r for r in rows if evaluate(query, r, allowed)], opts)}


def smart_search_pool(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    opts = search_options(arg.get("search_options"), prefix_opts=False)
    words = str(arg.get("query_string") or "").split()
    rows = [_pool_out(store, p) for p in store.match_pool_spec({})]
    result = [
        r
        for r in rows
        if all(any(w.lower() in str(r.get(k) or "").lower() for k in ("name", "description")) for w in words)
    ]
    return {
        "interpretation": {"tokens": words},
        "search_options": opts,
        "error": False,
        "result": page(result, opts),
    }


# ---------------------------------------------------------------------- misc
def version(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    return VERSION


def db_version(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    return DB_VERSION


def echo(store: Store, s: Session, arg: dict[str, Any]) -> Any:
    # the store lock is not held for echo (see simulator._call), so sleeping blocks only this worker
    if arg.get("sleep"):
        time.sleep(float(arg["sleep"]))
    return arg.get("message")


# name → (function, needs read-write). ASN methods are intentionally absent (not needed).
METHODS: dict[str, tuple[Callable[..., Any], bool]] = {
    "version": (version, False),
    "db_version": (db_version, False),
    "echo": (echo, False),
    "add_vrf": (add_vrf, True),
    "list_vrf": (list_vrf, False),
    "edit_vrf": (edit_vrf, True),
    "remove_vrf": (remove_vrf, True),
    "search_vrf": (search_vrf, False),
    "smart_search_vrf": (smart_search_vrf, False),
    "add_pool": (add_pool, True),
    "list_pool": (list_pool, False),
    "edit_pool": (edit_pool, True),
    "remove_pool": (remove_pool, True),
    "search_pool": (search_pool, False),
    "smart_search_pool": (smart_search_pool, False),
    "add_prefix": (add_prefix, True),
    "list_prefix": (list_prefix, False),
    "edit_prefix": (edit_prefix, True),
    "remove_prefix": (remove_prefix, True),
    "search_prefix": (search_prefix, False),
    "smart_search_prefix": (smart_search_prefix, False),
    "find_free_prefix": (find_free_prefix, False),
}
