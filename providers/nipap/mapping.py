"""Pure NIPAP mapping: prefix rows → Observation, and Desired + Observation → Changes.

Owns: resource naming (``nipap_prefix.<net>``, ``nipap_address.<net>.<node>``), the ownership
marker (avps ``managed-by: netsot``), the avps netsot writes, and the planning rules
(create / update / move / delete of owned hosts; never unowned or blocked objects).
Must not: do I/O or import pynipap (``client.py``) — everything here is testable on plain dicts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from core.config import Config, Network
from core.errors import PlanError
from core.ipv4 import ip_int
from core.model import (
    Action,
    Address,
    Binding,
    Change,
    Desired,
    Fact,
    Observation,
    ObservedResource,
    OriginRef,
    frozen_map,
)
from core.names import mac_or_text, validate_hostname
from providers.base import PlanContext
from providers.nipap.descriptor import ADDRESS_TYPE, host_address, prefix_address
from providers.nipap.settings import NipapSettings

SYSTEM = "nipap"
OWNER_KEY, OWNER = "managed-by", "netsot"
MAC_KEY, BINDING_KEY = "mac", "netsot-binding"
VMID_KEY = "proxmox-vmid"  # written from a guest origin's annotations; read back for the fact
ANNOTATION_KEYS = (VMID_KEY,)  # avps that are origin annotations (reported as Fact.annotations)
# the host's extra names besides its node name, comma-separated (``www,api``): read from every host,
# written on netsot's own hosts from the binding's extra names (left out when it has none)
ALIASES_KEY = "aliases"
# avps netsot writes: its own, plus what a binding's origins annotate (e.g. "proxmox-vmid")
OUR_AVPS = (OWNER_KEY, MAC_KEY, VMID_KEY, BINDING_KEY, ALIASES_KEY)
# the ``authoritative_source`` netsot's client sends (client.NipapClient's default): nipapd stamps it on
# every prefix netsot ADDS and never changes it on an edit, so it says who made a host
NETSOT_SOURCE = "netsot"


def aliases_of(avps: Mapping[str, str]) -> tuple[str, ...] | None:
    """The extra names a host's ``aliases`` avp lists (None: no such avp, so it says nothing)."""
    if ALIASES_KEY not in avps:
        return None
    words = (w.strip().lower() for w in str(avps[ALIASES_KEY]).replace(" ", ",").split(","))
    return tuple(dict.fromkeys(w for w in words if w))


def _host_ip(row: Mapping[str, Any]) -> str:
    text = str(row["prefix"])
    head, _, length = text.partition("/")
    if length == "32" and ip_int(head) is not None:
        return head  # the common case, without ``ipaddress`` (a canonical dotted quad already)
    return str(ipaddress.ip_network(text, strict=False).network_address)


def host_attributes(row: Mapping[str, Any], mac_avp: str = MAC_KEY) -> dict[str, Any]:
    avps = {str(k): str(v) for k, v in (row.get("avps") or {}).items()}
    # the configured avp first: ``mac`` is also netsot's own avp, and a person's host may hold both
    return {
        "ip": _host_ip(row),
        "hostname": row.get("node"),
        "mac": mac_or_text(avps.get(mac_avp) or avps.get(MAC_KEY)),
        "description": row.get("description"),
        "avps": avps,
    }


def is_owned_row(row: Mapping[str, Any]) -> bool:
    return (row.get("avps") or {}).get(OWNER_KEY) == OWNER


def maker(row: Mapping[str, Any]) -> str | None:
    """Who made the host, as nipapd stamped it (``authoritative_source``); None when unknown."""
    source = row.get("authoritative_source")
    return str(source) if source else None


def made_by_someone_else(row: Mapping[str, Any]) -> bool:
    """The host was made in NIPAP by another source than netsot (a person, another tool)."""
    source = maker(row)
    return source is not None and source != NETSOT_SOURCE


def _name_for(row: Mapping[str, Any], taken: set[str]) -> str:
    node = row.get("node")
    if node:
        try:
            name = validate_hostname(str(node).lower())
        except ValueError:
            name = ""
        if name and name not in taken:
            return name
    return f"id{row['id']}"


def observe(
    config: Config, vrf: Mapping[str, Any], rows: Iterable[Mapping[str, Any]], key: str = SYSTEM,
    settings: NipapSettings | None = None,
) -> Observation:
    """The Observation of the networks instance ``key`` serves, from one VRF's prefix rows.

    A host netsot did not make (no ``managed-by`` avp) is a binding of its own — an origin fact —
    when ``settings.bindings`` says so (``tagged``: the host or its prefix carries ``binding_tag``)
    and it has a node name and a MAC; any other host is read for conflicts and says why not.
    """
    rules = settings if settings is not None else NipapSettings.model_construct()
    rows = [r for r in rows if r.get("vrf_id", 0) == vrf["id"]]
    by_prefix = {str(r["prefix"]): r for r in rows if r.get("type") != "host"}
    hosts = sorted((r for r in rows if r.get("type") == "host"), key=lambda r: r["id"])
    resources: dict[Address, ObservedResource] = {}
    facts: list[Fact] = []
    warnings: list[str] = []
    missing: list[str] = []
    prefix_ids: dict[str, int] = {}
    vrf_label = _vrf_label(vrf)
    served = config.networks_of(key)
    nets = sorted(served, key=lambda n: n.prefix.prefixlen, reverse=True)  # most specific first
    label = _label(key)
    for net in served:
        row = by_prefix.get(str(net.prefix))
        if row is None:
            missing.append(net.name)
            warnings.append(f"{label}: network {net.name}: prefix {net.prefix} does not exist in {vrf_label}")
            continue
        if row.get("type") != "assignment":
            missing.append(net.name)
            warnings.append(
                f"{label}: network {net.name}: prefix {net.prefix} in {vrf_label} is a "
                f"{row.get('type')}, not an assignment, so it cannot hold hosts"
            )
        prefix_ids[net.name] = int(row["id"])
        addr = prefix_address(net.name, key)
        attrs = {"prefix": str(row["prefix"]), "type": row.get("type"), "description": row.get("description")}
        resources[addr] = ObservedResource(addr, frozen_map(attrs), str(row["id"]), is_owned_row(row))
    # IPv4 networks as integer ranges, most specific first: ``ipaddress`` membership tests
    # dominated reading thousands of hosts
    spans4 = [(n, int(n.prefix.network_address), int(n.prefix.broadcast_address))
              for n in nets if n.prefix.version == 4]
    taken: dict[str, set[str]] = {}
    for row in hosts:
        ip_text = _host_ip(row)
        value = ip_int(ip_text)
        if value is not None:
            net = next((n for n, lo, hi in spans4 if lo <= value <= hi), None)
        else:
            ip = ipaddress.ip_address(ip_text)
            net = next((n for n in nets if ip in n.prefix), None)
        if net is None:
            continue
        names = taken.setdefault(net.name, set())
        name = _name_for(row, names)
        names.add(name)
        addr = host_address(net.name, name, key)
        attrs = host_attributes(row, rules.mac_avp)
        ref = f"{label} {attrs['ip']} (id {row['id']})"
        # A host someone else made that qualifies as a binding is the SOURCE, whatever netsot's marker
        # on it says (an older netsot wrote it after an import): never owned, never a target.
        foreign = made_by_someone_else(row)
        marked = is_owned_row(row)
        why_not = "" if marked and not foreign else _not_a_binding(row, attrs, rules, key)
        origin = not why_not and (foreign or not marked)
        owned = marked and not origin
        if origin and marked:
            warnings.append(f"{label}: host {attrs['ip']} (id {row['id']}, node {row.get('node')}) was made "
                            f"in NIPAP by {maker(row)} and is a binding's source, yet carries netsot's "
                            f"marker (avps {OWNER_KEY}, {BINDING_KEY}); netsot never changes it: remove "
                            "those avps in NIPAP when convenient")
        resources[addr] = ObservedResource(addr, frozen_map(attrs), str(row["id"]), owned,
                                           unmanaged_reason="" if owned else why_not,
                                           adopt_hint=_hint(why_not, rules, key))
        facts.append(
            Fact(
                source=SYSTEM,
                ref=ref,
                network=net.name,
                hostname=row.get("node"),
                mac=attrs["mac"],
                ip=attrs["ip"],
                origin=origin,
                address=addr,
                origin_ref=OriginRef(SYSTEM, key.partition(".")[2], f"id {row['id']}", ref, "host", addr)
                if origin else None,
                description=str(row.get("description") or ref) if origin else "",
                extra=frozen_map(
                    {"prefix_id": int(row["id"]), "owned": owned, "vmid": attrs["avps"].get(VMID_KEY),
                     "made_by": maker(row)}
                ),
                owned=owned,
                annotations=frozen_map({k: attrs["avps"][k] for k in ANNOTATION_KEYS if k in attrs["avps"]}),
                aliases=aliases_of(attrs["avps"]),
            )
        )
    data = {
        "vrf_id": vrf["id"],
        "vrf": vrf_label,
        "missing_prefixes": tuple(missing),
        "prefix_ids": frozen_map(prefix_ids),
    }
    return Observation(key, frozen_map(resources), tuple(facts), tuple(warnings), frozen_map(data))


def _not_a_binding(row: Mapping[str, Any], attrs: Mapping[str, Any], rules: NipapSettings,
                   key: str) -> str:
    """Why a host made in NIPAP is not a binding ("" when it is one)."""
    if rules.bindings == "none":
        return f"hosts made in NIPAP are not bindings (providers.{key}.bindings: none)"
    if not row.get("node"):
        return "has no node name, so it cannot be a binding"
    if not attrs.get("mac"):
        return f"has no MAC (avp {rules.mac_avp}), so it cannot be a binding"
    tags = {*(row.get("tags") or ()), *(row.get("inherited_tags") or ())}
    if rules.bindings == "tagged" and rules.binding_tag not in tags:
        return f"is not tagged {rules.binding_tag}"
    return ""


def _hint(why_not: str, rules: NipapSettings, key: str) -> str:
    if why_not.startswith("is not tagged"):
        return (f"tag the host (or its prefix) {rules.binding_tag} in NIPAP, "
                f"or set providers.{key}.bindings: all")
    return ""


def _label(key: str) -> str:
    """How messages and refs name the instance: ``nipap`` or ``nipap[lab]``."""
    kind, _, instance = key.partition(".")
    return f"{kind}[{instance}]" if instance else kind


def _vrf_label(vrf: Mapping[str, Any]) -> str:
    if vrf["id"] == 0:
        return "the default VRF"
    return f"VRF {vrf.get('rt')} ({vrf.get('name')})"


# ---------------------------------------------------------------------- planning
def desired_host(binding: Binding, current_avps: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The attributes of the NIPAP host prefix for a binding (foreign avps are kept)."""
    ours = {OWNER_KEY: OWNER, BINDING_KEY: binding.key}
    if binding.mac:
        ours[MAC_KEY] = binding.mac
    if binding.aliases:
        ours[ALIASES_KEY] = ",".join(binding.aliases)
    for ref in binding.origin_refs:  # what the origins want recorded with the binding
        for k, v in ref.annotations.items():
            ours.setdefault(k, v)
    avps = {k: v for k, v in (current_avps or {}).items() if k not in OUR_AVPS and k not in ours}
    avps.update(ours)
    return {
        "ip": binding.ip,
        "hostname": binding.hostname,
        "mac": binding.mac,
        "description": binding.description or _default_description(binding),
        "avps": dict(sorted(avps.items())),
    }


def _default_description(b: Binding) -> str:
    ref = b.first_origin
    if ref is not None:
        return f"{b.origin or ref.kind} {ref.object_label}"
    return f"{b.origin or 'netsot'} {b.key}"


def _plain(attrs: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(attrs)
    if "avps" in out:
        out["avps"] = dict(out["avps"] or {})
    return out


def _owned(addr: Address, res: ObservedResource, ctx: PlanContext) -> bool:
    return res.owned_marker or ctx.is_owned(addr)


def plan_changes(
    config: Config, manage_prefixes: bool, desired: Desired, observed: Observation, ctx: PlanContext,
    key: str = SYSTEM,
) -> list[Change]:
    blocked = desired.blocked
    blocked_keys = {k for c in desired.conflicts for k in c.blocked_keys}
    networks = {n.name: n for n in config.networks_of(key)}
    bindings = [b for b in desired.bindings if b.network in networks and b.key not in blocked_keys]
    changes: list[Change] = []
    creating_prefix: set[str] = set()
    allow_create = manage_prefixes or bool(ctx.options.get("allow_prefix_create"))
    needed = {b.network for b in bindings}
    for name in sorted(needed):
        net = networks[name]
        addr = prefix_address(name, key)
        res = observed.resources.get(addr)
        if res is not None:
            if res.attributes.get("type") != "assignment":
                raise PlanError(
                    f"nipap: prefix {net.prefix} of network {name} is a {res.attributes.get('type')}"
                    ", not an assignment; hosts can only live in an assignment"
                )
            continue
        if not allow_create:
            raise PlanError(
                f"nipap: prefix {net.prefix} of network {name} does not exist in "
                f"{observed.data.get('vrf', 'NIPAP')}; create it in NIPAP as an assignment, "
                "or set providers.nipap.manage_prefixes: true"
            )
        if addr not in blocked:
            creating_prefix.add(name)
            changes.append(_prefix_create(net, key))
    # a host that originates a binding is its source, never a target — whatever the state says
    sources = {f.address for f in observed.facts if f.origin and f.address is not None}
    makers = {f.address: f.extra.get("made_by") for f in observed.facts if f.address is not None}
    hosts = {a: r for a, r in observed.resources.items() if a.type == ADDRESS_TYPE}
    owned_by_mac = _owned_by_mac(hosts, ctx, sources)
    consumed: set[Address] = set()
    for b in sorted(bindings, key=lambda b: b.key):
        addr = host_address(b.network, b.hostname, key)
        if addr in blocked:
            consumed.add(addr)
            continue
        change = _plan_binding(b, addr, hosts, consumed, ctx, blocked, owned_by_mac, sources)
        if change is None:
            continue
        if change.action is Action.CREATE and b.network in creating_prefix:
            change = _with_dep(change, prefix_address(b.network, key))
        changes.append(change)
    for addr, res in sorted(hosts.items(), key=_by_address):
        if addr in consumed or addr in blocked or addr in sources or not _owned(addr, res, ctx):
            continue
        made_by = makers.get(addr)
        adopted = made_by if made_by and made_by != NETSOT_SOURCE else ""
        changes.append(
            Change(
                Action.DELETE,
                addr,
                frozen_map(_plain(res.attributes)),
                None,
                reason="owned by netsot and no longer bound to any host",
                provider_id=res.provider_id,
                adopted=f"made in NIPAP by {adopted}" if adopted else "",
            )
        )
    return sorted(changes, key=lambda c: (str(c.address), c.action.value))


def _by_address(item: tuple[Address, ObservedResource]) -> tuple[str, str]:
    # the order of ``sorted(hosts.items())`` (addresses are unique), without dataclass comparisons
    return (item[0].type, item[0].name)


def _owned_by_mac(
    hosts: Mapping[Address, ObservedResource], ctx: PlanContext, sources: set[Address]
) -> dict[str, list[tuple[Address, ObservedResource]]]:
    """Owned hosts by their MAC, each list in address order: what ``_find_moved`` searches.

    A binding's source host is never among them, whatever the state says: netsot never moves it.
    """
    out: dict[str, list[tuple[Address, ObservedResource]]] = {}
    for addr, res in sorted(hosts.items(), key=_by_address):
        mac = res.attributes.get("mac")
        if mac and addr not in sources and _owned(addr, res, ctx):
            out.setdefault(mac, []).append((addr, res))
    return out


def _prefix_create(net: Network, key: str) -> Change:
    after = {"prefix": str(net.prefix), "type": "assignment", "description": f"netsot network {net.name}"}
    return Change(
        Action.CREATE,
        prefix_address(net.name, key),
        None,
        frozen_map(after),
        reason="network prefix missing in NIPAP (manage_prefixes)",
        origin="config",
    )


def _with_dep(change: Change, dep: Address) -> Change:
    return Change(
        change.action,
        change.address,
        change.before,
        change.after,
        change.reason,
        change.provenance,
        (*change.depends_on, dep),
        change.provider_id,
        change.drift,
        change.moved_from,
        change.origin,
    )


def _find_moved(
    b: Binding, owned_by_mac: Mapping[str, list[tuple[Address, ObservedResource]]], consumed: set[Address]
) -> tuple[Address, ObservedResource] | None:
    """An owned host of this network that is this binding under another name (same MAC).

    Searches the owned hosts with the binding's MAC only (``_owned_by_mac``): scanning every
    host for every new binding made planning thousands of new hosts quadratic.
    """
    if not b.mac:
        return None
    prefix = f"{b.network}."
    for addr, res in owned_by_mac.get(b.mac, ()):
        if addr not in consumed and addr.name.startswith(prefix):
            return addr, res
    return None


def _plan_binding(
    b: Binding,
    addr: Address,
    hosts: Mapping[Address, ObservedResource],
    consumed: set[Address],
    ctx: PlanContext,
    blocked: frozenset[Address],
    owned_by_mac: Mapping[str, list[tuple[Address, ObservedResource]]],
    sources: set[Address],
) -> Change | None:
    res = hosts.get(addr)
    moved_from: Address | None = None
    if res is None:
        found = _find_moved(b, owned_by_mac, consumed)
        if found is not None and found[0] not in blocked:
            moved_from, res = found
    if res is None:
        after = desired_host(b)
        return Change(
            Action.CREATE,
            addr,
            None,
            frozen_map(after),
            reason="new host binding",
            provenance=b.provenance,
            origin=b.origin,
        )
    consumed.add(moved_from or addr)
    if (moved_from or addr) in sources or not _owned(moved_from or addr, res, ctx):
        return None  # someone else's host, or a binding's source: read, never changed
    before = _plain(res.attributes)
    after = desired_host(b, before.get("avps"))
    if before == after and moved_from is None:
        return None
    if moved_from:
        reason = f"renamed from {moved_from.name.split('.', 1)[1]}"
    elif (before.get("avps") or {}).get(OWNER_KEY) != OWNER:
        reason = f"adopts it: writes netsot's marker ({OWNER_KEY}: {OWNER}) into the host"
    elif before.get("mac") != after.get("mac") and "mac" in b.provenance and before.get("mac"):
        reason = f"MAC changed on {b.provenance['mac'].ref}"
    else:
        reason = "attributes differ"
    return Change(
        Action.UPDATE,
        addr,
        frozen_map(before),
        frozen_map(after),
        reason=reason,
        provenance=b.provenance,
        provider_id=res.provider_id,
        moved_from=moved_from,
        origin=b.origin,
    )


def edit_attr(before: Mapping[str, Any] | None, after: Mapping[str, Any]) -> dict[str, Any]:
    """The minimal ``edit_prefix`` attr that turns ``before`` into ``after``."""
    before = before or {}
    attr: dict[str, Any] = {}
    if before.get("ip") != after.get("ip"):
        attr["prefix"] = f"{after['ip']}/{128 if ':' in str(after['ip']) else 32}"
    if before.get("hostname") != after.get("hostname"):
        attr["node"] = after.get("hostname")
    if before.get("description") != after.get("description"):
        attr["description"] = after.get("description")
    if dict(before.get("avps") or {}) != dict(after.get("avps") or {}):
        attr["avps"] = dict(after.get("avps") or {})
    return attr


def summarize(changes: Sequence[Change]) -> dict[str, int]:
    out = {"create": 0, "update": 0, "delete": 0}
    for c in changes:
        out[c.action.value] += 1
    return out
