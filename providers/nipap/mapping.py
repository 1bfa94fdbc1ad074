"""Pure NIPAP mapping: prefix rows → Observation, and Desired → what NIPAP should hold (``wanted``).

Owns: resource naming (``nipap_prefix.<net>``, ``nipap_address.<net>.<node>``), the ownership
marker (avps ``managed-by: netsot``), the avps netsot writes, and NIPAP's special cases of the shared
diff (``providers.diffing``, which owns the ownership rule): a renamed binding moves its owned host of
the same MAC, an update keeps the avps others wrote, missing prefixes are made (``manage_prefixes``) and
never deleted, a delete says who made the host.
Must not: do I/O or import pynipap (``client.py``) — everything here is testable on plain dicts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cache
from operator import itemgetter
from typing import Any

from core.config import Config
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
from providers import diffing
from providers.base import PlanContext
from providers.diffing import Want, Wanted
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
_OUR_AVPS = frozenset(OUR_AVPS)
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
    return _desired_host(binding, binding.key, current_avps)


def _desired_host(binding: Binding, binding_key: str,
                  current_avps: Mapping[str, str] | None) -> dict[str, Any]:
    # ``desired_host`` with the binding's key made once by the caller (plans ask for every binding)
    ours = {OWNER_KEY: OWNER, BINDING_KEY: binding_key}
    if binding.mac:
        ours[MAC_KEY] = binding.mac
    if binding.aliases:
        ours[ALIASES_KEY] = ",".join(binding.aliases)
    for ref in binding.origin_refs:  # what the origins want recorded with the binding
        for k, v in ref.annotations.items():
            ours.setdefault(k, v)
    avps = ours
    if current_avps and not _OUR_AVPS.issuperset(current_avps):  # someone else's avps are kept
        avps = {k: v for k, v in current_avps.items() if k not in _OUR_AVPS and k not in ours}
        avps.update(ours)
    return {
        "ip": binding.ip,
        "hostname": binding.hostname,
        "mac": binding.mac,
        "description": binding.description or _default_description(binding),
        "avps": dict(sorted(avps.items())),  # the keys are unique: items sort by them alone
    }


def _default_description(b: Binding) -> str:
    ref = b.first_origin
    if ref is not None:
        return f"{b.origin or ref.kind} {ref.object_label}"
    return f"{b.origin or 'netsot'} {b.key}"


def plan_changes(
    config: Config, manage_prefixes: bool, desired: Desired, observed: Observation, ctx: PlanContext,
    key: str = SYSTEM,
) -> list[Change]:
    """The changes that make NIPAP hold ``desired``: the shared diff (``providers.diffing``) of ``wanted``."""
    return diffing.diff(wanted(config, manage_prefixes, desired, observed, ctx, key), desired, observed, ctx)


def wanted(
    config: Config, manage_prefixes: bool, desired: Desired, observed: Observation, ctx: PlanContext,
    key: str = SYSTEM,
) -> Wanted:
    """What NIPAP should hold: a host per binding of the networks ``key`` serves (a renamed binding names
    its owned host of the same MAC as the one it moves), and each missing network prefix (with
    ``manage_prefixes``); owned hosts no binding wants are deleted by the diff, prefixes never."""
    blocked = desired.blocked
    blocked_keys = {k for c in desired.conflicts for k in c.blocked_keys}
    networks = {n.name: n for n in config.networks_of(key)}
    # (key, binding) of every binding of these networks, in key order (the key is made once per binding)
    keyed = sorted(((b.key, b) for b in desired.bindings if b.network in networks), key=itemgetter(0))
    if blocked_keys:
        keyed = [(k, b) for k, b in keyed if k not in blocked_keys]
    bindings = [b for _, b in keyed]
    wants: list[Want] = []
    creating_prefix: dict[str, Address] = {}
    allow_create = manage_prefixes or bool(ctx.options.get("allow_prefix_create"))
    for name in sorted({b.network for b in bindings}):
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
            creating_prefix[name] = addr
            after = {"prefix": str(net.prefix), "type": "assignment",
                     "description": f"netsot network {net.name}"}
            wants.append(Want(addr, frozen_map(after), origin="config", updates=False,
                              reason="network prefix missing in NIPAP (manage_prefixes)"))
    resources = observed.resources

    @cache
    def by_mac() -> dict[str, list[Address]]:  # a renamed binding's candidates: asked only for a new host
        return _by_mac(resources)

    # the observed hosts of this instance by name (a binding's key names its host): a binding whose host
    # is there wants it under the observation's own address object, so every later lookup of it (the
    # diff's, ownership's, the plan's) is an identity hit, and no address is made for it
    instance = key.partition(".")[2]
    named = {a.name: a for a in resources if a.type == ADDRESS_TYPE and a.instance == instance}
    binding_of: dict[Address, Binding] = {}
    for binding_key, b in keyed:
        addr = named.get(binding_key) or host_address(b.network, b.hostname, key)
        binding_of[addr] = b
        there = resources.get(addr)
        moves = () if there is not None or not b.mac else tuple(
            a for a in by_mac().get(b.mac, ()) if a.name.startswith(f"{b.network}."))
        # an existing host keeps the avps others wrote (``merge`` does the same for a moved one)
        after = _desired_host(b, binding_key, there.attributes.get("avps") if there is not None else None)
        wants.append(Want(addr, after, reason="new host binding",
                          provenance=b.provenance, origin=b.origin, moves_from=moves))

    @cache
    def makers() -> dict[Address, Any]:  # who made each object: asked only when the diff deletes one
        return {f.address: f.extra.get("made_by") for f in observed.facts if f.address is not None}

    def merge(want: Want, seen: ObservedResource) -> Mapping[str, Any]:
        if not want.moves_from:  # its own host: ``after`` already keeps that host's avps
            return want.attributes
        return desired_host(binding_of[want.address], seen.attributes.get("avps"))  # moved: its avps kept

    def finish(change: Change, want: Want | None, seen: ObservedResource | None) -> Change:
        if change.action is Action.DELETE:
            made_by = makers().get(change.address)
            adopted = made_by if made_by and made_by != NETSOT_SOURCE else ""
            return replace(change, adopted=f"made in NIPAP by {adopted}" if adopted else "")
        if change.action is Action.CREATE:
            prefix = creating_prefix.get(change.address.name.split(".", 1)[0]) \
                if change.address.type == ADDRESS_TYPE else None
            return replace(change, depends_on=(*change.depends_on, prefix)) if prefix else change
        assert want is not None
        return replace(change, reason=_update_reason(change, binding_of[want.address]))

    return Wanted(tuple(wants), prune=frozenset({ADDRESS_TYPE}), merge=merge, finish=finish,
                  delete_reason="owned by netsot and no longer bound to any host", sort_key=_change_order)


def _change_order(c: Change) -> tuple[str, str]:
    return (str(c.address), c.action.value)


def _update_reason(change: Change, b: Binding) -> str:
    before, after = change.before or {}, change.after or {}
    if change.moved_from:
        return f"renamed from {change.moved_from.name.split('.', 1)[1]}"
    if (before.get("avps") or {}).get(OWNER_KEY) != OWNER:
        return f"adopts it: writes netsot's marker ({OWNER_KEY}: {OWNER}) into the host"
    if before.get("mac") != after.get("mac") and "mac" in b.provenance and before.get("mac"):
        return f"MAC changed on {b.provenance['mac'].ref}"
    return "attributes differ"


def _by_mac(resources: Mapping[Address, ObservedResource]) -> dict[str, list[Address]]:
    """Hosts by their MAC, each list in address order: a renamed binding's candidates (the diff takes the
    first netsot may change). An index, not a scan: thousands of new bindings stay linear."""
    out: dict[str, list[Address]] = {}
    for addr, res in resources.items():
        if addr.type != ADDRESS_TYPE:
            continue
        mac = res.attributes.get("mac")
        if mac:
            out.setdefault(mac, []).append(addr)
    for addrs in out.values():
        if len(addrs) > 1:
            addrs.sort(key=_address_order)
    return out


def _address_order(address: Address) -> tuple[str, str]:
    # the order of ``sorted(hosts)`` (one type, one instance), without dataclass comparisons
    return (address.type, address.name)


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
