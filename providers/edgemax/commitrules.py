"""EdgeOS's commit rules, foreseen: which planned changes the router would refuse, and why.

One refused rule discards the whole configure session, so every other change of the run would
fail with it (edgeos.md §11). ``foresee`` takes the changes of one router the plan would send,
works out the router's DHCP and host-name config after them, and returns a ``commit_rule``
conflict (the router's own text, a ``to fix:`` line) for each change that would break a rule:

* a subnet left with no start-stop range and no active static mapping (ISC mode: a ``disable``d
  mapping does not count; dnsmasq mode: it does, §11.3);
* a mapping IP outside its subnet, a new subnet overlapping another (rules 5 and 13);
* a duplicate IP across mappings, or a duplicate MAC in one shared network: EdgeOS never checks
  them (§11.2), so netsot must never write them;
* a second ``inet`` value on a host name, unless the router is known to keep several (§11.5): on a
  single-valued router the second `set … inet` silently replaces the first.

Also: the DNS names netsot does not publish for a disabled reservation (``unpublished``), and the
warnings that say why.
Must not: do I/O, or share code with the simulator's checks (``simcommit``), which implement the
reference independently.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any, NamedTuple

from core.ipv4 import ip_int
from core.model import Action, Address, Binding, Change, Conflict, ConflictKind, Observation
from providers.edgemax.descriptor import HOST_TYPE, MAPPING_TYPE
from providers.edgemax.extract import EdgeConfig
from providers.vyatta import records
from providers.vyatta.family import label as _label
from providers.vyatta.records import MappingRecord

RULE_3 = "No DHCP start-stop range or active static-mapping set for subnet {cidr}"
RULE_3_DNSMASQ = "at least one dhcp range or a static mapping must be defined for dhcp subnet {cidr}"
RULE_5 = ("Static DHCP lease IP '{ip}' under static mapping '{name}' under shared network name '{sn}' "
          "is outside of the DHCP lease network '{cidr}'.")
RULE_13 = "Conflicting subnet ranges: {a} overlaps {b}"


class _Mapping(NamedTuple):
    """A static mapping as the router will hold it (a named tuple, not a frozen dataclass: one is made
    for every mapping of the router and of the plan, thousands per plan, and a tuple is made in one step)."""

    shared: str
    subnet: str
    name: str
    ip: str | None
    mac: str | None
    disabled: bool
    change: Address | None = None  # the change that writes it (None: the router's, untouched)


def inet_multi(cfg: EdgeConfig, setting: str = "auto") -> bool:
    """Whether the router keeps several ``inet`` values on one host name: the setting, else (auto)
    whether its own config already shows two (a single-valued template cannot hold them)."""
    if setting != "auto":
        return setting == "multi"
    return any(len(h.inet) > 1 for h in cfg.host_mappings)


def _disabled(kept: Mapping[str, Any]) -> bool:
    return "disable" in kept


@lru_cache(maxsize=1024)
def _net(cidr: str) -> ipaddress.IPv4Network | None:
    """``cidr`` parsed (once: a plan asks for the few subnets of a router thousands of times)."""
    try:
        return ipaddress.IPv4Network(cidr, strict=False)
    except ValueError:
        return None


def _inside(ip: str | None, cidr: str) -> bool:
    net = _net(cidr)
    if net is None or ip is None:
        return False
    # a dotted quad as an integer, without ``ipaddress`` (thousands per plan); it judges anything else
    value = ip_int(ip) if isinstance(ip, str) else None
    if value is not None:
        return int(net.network_address) <= value <= int(net.broadcast_address)
    try:
        return ipaddress.IPv4Address(ip) in net
    except ValueError:
        return False


class _Router:
    """The router's static mappings before and after the changes."""

    def __init__(self, cfg: EdgeConfig, changes: Sequence[Change]) -> None:
        self.cfg = cfg
        self.ranged = {(sn.name, s.cidr) for sn in cfg.shared_networks for s in sn.subnets if s.ranges}
        self.subnets = {(sn.name, s.cidr) for sn in cfg.shared_networks for s in sn.subnets}
        self.off = {sn.name for sn in cfg.shared_networks if sn.disabled}
        self.before = {(sn.name, s.cidr, m.name): _Mapping(sn.name, s.cidr, m.name, m.ip, m.mac, m.disabled)
                       for sn, s, m in cfg.mappings()}
        self.after = dict(self.before)
        self.removing: dict[tuple[str, str], list[Address]] = {}  # subnet → changes taking a mapping out
        # change → the static mapping it replaces (None: it makes a new one), each read once
        self.replaced: dict[Address, MappingRecord | None] = {}
        for change in changes:
            if change.address.type == MAPPING_TYPE:
                self._apply(change)

    def _apply(self, change: Change) -> None:
        before, after = records.mapping(change, before=True), records.mapping(change)
        self.replaced[change.address] = before
        old = before.place if before is not None else None
        gone = self.after.pop(old, None) if old is not None else None
        leaves = after is None or after.place[:2] != (old or ())[:2]
        if old is not None and leaves:
            self.removing.setdefault(old[:2], []).append(change.address)
        if after is None:
            return
        disabled = gone.disabled if gone is not None else _disabled(change.kept)
        mac = (after.mac_address or "").lower() or None
        self.after[after.place] = _Mapping(*after.place, after.ip_address, mac, disabled, change.address)

    def serves(self, mappings: Iterable[_Mapping], subnet: tuple[str, str]) -> bool:
        if subnet in self.ranged:
            return True
        return any((m.shared, m.subnet) == subnet and (self.cfg.dnsmasq or not m.disabled) for m in mappings)


class _Foresight:
    def __init__(self, cfg: EdgeConfig, changes: Sequence[Change], key: str, multi: bool,
                 networks: Mapping[str, str]) -> None:
        self.cfg, self.key, self.multi, self.networks = cfg, key, multi, networks
        self.changes = changes  # one per address (a plan's), read in order: no index needed
        self.router = _Router(cfg, changes)
        self.out: list[Conflict] = []
        self.held: set[Address] = set()

    def ref(self, m: _Mapping) -> str:
        return f"{_label(self.key)} static-mapping {m.shared}/{m.name}"

    def add(self, reason: str, objects: Sequence[str], blocked: Sequence[Address], fix: str,
            effects: Sequence[str], shared: str | None = None) -> None:
        fresh = tuple(a for a in dict.fromkeys(blocked) if a not in self.held)
        if not fresh:
            return
        self.held.update(fresh)
        self.out.append(Conflict(ConflictKind.COMMIT_RULE, reason, tuple(objects),
                                 self.networks.get(shared or ""), fresh, (), fix, tuple(effects)))

    # -- DHCP --------------------------------------------------------------------------------
    def unserved_subnets(self) -> None:
        r = self.router
        if self.cfg.dhcp_disabled:
            return
        for subnet, removers in sorted(r.removing.items()):
            sn, cidr = subnet
            if sn in r.off or not r.serves(r.before.values(), subnet) or r.serves(r.after.values(), subnet):
                continue
            rule = (RULE_3_DNSMASQ if self.cfg.dnsmasq else RULE_3).format(cidr=cidr)
            # hold one change: the mapping it keeps serves the subnet, the others may go
            active = [a for a in removers if self._counts(r.before, self._before(a))]
            held = sorted(active or removers, key=str)[-1]
            gone = self._before(held)  # a remover replaces a mapping the router has
            assert gone is not None
            name = gone.name
            disabled = [m.name for m in r.after.values() if (m.shared, m.subnet) == subnet and m.disabled]
            also = (f" (its other mappings are disabled: {', '.join(disabled)}; the router does not count "
                    "them)" if disabled and not self.cfg.dnsmasq else "")
            self.add(
                f"taking {name} out of subnet {cidr} of {sn} would leave the subnet with no DHCP range and "
                f"no active static mapping{also}; the router refuses such a commit: \"{rule}\"",
                [f"{_label(self.key)} static-mapping {sn}/{name}", f"{_label(self.key)} subnet {sn}/{cidr}"],
                [held],
                f"on the router, add a start-stop range to subnet {cidr} of shared network {sn}, or keep "
                f"another active static mapping in it; the next run then takes {name} out",
                [f"{name} keeps its DHCP reservation on the router until then"], sn)

    def _before(self, address: Address) -> MappingRecord | None:
        """The static mapping the change at ``address`` replaces (None: it makes a new one)."""
        return self.router.replaced[address]

    def _counts(self, mappings: Mapping[tuple[str, str, str], _Mapping],
                record: MappingRecord | None) -> bool:
        """Whether the mapping ``record`` names counts for "range or active mapping" (it exists and is
        not disabled; in dnsmasq mode a disabled one counts too)."""
        if record is None:
            return False
        m = mappings.get(record.place)
        return m is not None and (self.cfg.dnsmasq or not m.disabled)

    def outside(self) -> None:
        for m in self.router.after.values():
            if m.change is None or m.ip is None or _inside(m.ip, m.subnet):
                continue
            rule = RULE_5.format(ip=m.ip, name=m.name, sn=m.shared, cidr=m.subnet)
            self.add(f"{m.ip} is outside subnet {m.subnet}; the router refuses that commit: \"{rule}\"",
                     [self.ref(m)], [m.change],
                     f"give {m.name} an address inside {m.subnet}, or add the subnet holding {m.ip} to "
                     f"shared network {m.shared} on the router", [], m.shared)

    def new_subnets(self) -> None:
        r = self.router
        live = {s for s in r.subnets if s[0] not in r.off}
        # only a change's mapping in a subnet the router lacks makes one (the router's own are many)
        making = (m for m in r.after.values()
                  if m.change is not None and (m.shared, m.subnet) not in r.subnets and m.shared not in r.off)
        for m in sorted(making, key=lambda m: (m.shared, m.subnet, m.name)):
            subnet = (m.shared, m.subnet)
            mine = _net(m.subnet)
            for sn, cidr in sorted(live):
                if (sn, cidr) == subnet:
                    continue  # made by an earlier mapping of this run: this one joins it
                other = _net(cidr)
                if mine is None or other is None or not mine.overlaps(other):
                    continue
                rule = RULE_13.format(a=cidr, b=m.subnet)
                self.add(f"{m.name} would create subnet {m.subnet} in shared network {m.shared}, which "
                         f"overlaps {cidr} of {sn}; the router refuses that commit: \"{rule}\"",
                         [self.ref(m), f"{_label(self.key)} subnet {sn}/{cidr}"], [m.change],
                         f"set networks[].edgemax.shared_network of this network to {sn}, or change the "
                         f"network's prefix to match the router's subnet", [], m.shared)
                break
            live.add(subnet)

    def duplicates(self) -> None:
        by_ip: dict[str, list[_Mapping]] = {}
        by_mac: dict[tuple[str, str], list[_Mapping]] = {}
        for m in self.router.after.values():
            if m.ip:
                by_ip.setdefault(m.ip, []).append(m)
            if m.mac:
                by_mac.setdefault((m.shared, m.mac), []).append(m)
        for what, groups in (("IP", by_ip), ("MAC", by_mac)):
            shared = [(value, group) for value, group in groups.items() if len(group) > 1]  # few of many
            for value, group in sorted(shared, key=lambda kv: str(kv[0])):
                writing = [m.change for m in group if m.change is not None and self._writes(m, what)]
                if not writing:
                    continue  # a duplicate the router already holds is not netsot's to add
                shown = value if isinstance(value, str) else value[1]
                self.add(f"{what} {shown} would be on {len(group)} static mappings "
                         f"({', '.join(sorted(m.name for m in group))}); EdgeOS never checks this, so netsot "
                         "does not write it (dhcpd would serve one of them at random)",
                         [self.ref(m) for m in group], writing,
                         f"remove the other mapping of {shown} on the router, or give the host another "
                         f"{'address' if what == 'IP' else 'MAC'}", [], group[0].shared)

    def _writes(self, m: _Mapping, what: str) -> bool:
        """Whether ``m``'s change writes its IP (or MAC) anew (a create, or a changed value)."""
        assert m.change is not None
        before = self._before(m.change)
        old_ip, old_mac = (before.ip_address, before.mac_address) if before is not None else (None, None)
        if what == "IP":
            return old_ip != m.ip
        return (old_mac or "").lower() != m.mac

    # -- host names ---------------------------------------------------------------------------
    def second_inet(self) -> None:
        if self.multi:
            return
        for change in self.changes:
            # only a host name that keeps an inet of its own can get a second one: read no other record
            if change.address.type != HOST_TYPE or change.after is None or not change.kept.get("inet"):
                continue
            before, after = records.host(change, before=True), records.host(change)
            assert after is not None
            kept = [str(v) for v in change.kept.get("inet", ())]
            old_name, old_inet = (before.host_name, before.inet) if before is not None else (None, None)
            renamed = change.action is Action.UPDATE and old_name != after.host_name
            writes_inet = change.action is Action.CREATE or renamed or old_inet != after.inet
            if not kept or not after.inet or not writes_inet:
                continue
            host = after.host_name
            self.add(
                f"host name {host} holds inet {', '.join(kept)}; adding inet {after.inet} needs a "
                "router that keeps several inet values on one host name, and this one is not known to (on a "
                "single-valued router the second `set … inet` silently replaces the first)",
                [f"{_label(self.key)} static-host-mapping {host}"], [change.address],
                f"remove inet {', '.join(kept)} from host name {host} on the router, or, if this router "
                f"keeps several inet values, set providers.{self.key}.inet_values: multi",
                [f"{host} keeps only {', '.join(kept)} until then"])

    def run(self) -> list[Conflict]:
        self.unserved_subnets()
        self.outside()
        self.new_subnets()
        self.duplicates()
        self.second_inet()
        return self.out


def foresee(cfg: EdgeConfig, changes: Sequence[Change], key: str, *, multi: bool,
            networks: Mapping[str, str] | None = None) -> list[Conflict]:
    """The ``commit_rule`` conflicts of ``changes`` (one router's) against its config ``cfg``.

    ``networks`` maps a shared network to the netsot network it serves (for the conflict's network).
    Each conflict blocks the changes that break its rule; the others are fine to send together.
    """
    return _Foresight(cfg, changes, key, multi, networks or {}).run()


# ---------------------------------------------------------------------------------------------
# disabled reservations: no DNS name


def disabled_warnings(cfg: EdgeConfig, key: str, named: Iterable[str]) -> list[str]:
    """One warning per disabled static mapping of a shared network in ``named`` (those serving a
    network with a DNS domain): the router does not serve it (ISC mode), netsot publishes no name
    for it."""
    if cfg.dnsmasq:
        return []  # dnsmasq mode serves a disabled mapping all the same (edgeos.md §11.3)
    shared = set(named)
    return [f"{_label(key)}: static mapping {sn.name}/{m.name} is disabled on the router (`disable`): "
            "it is not served, so netsot publishes no DNS name for it (one it finds is left as it is)"
            for sn, _, m in cfg.mappings() if m.disabled and not sn.disabled and sn.name in shared]


def unpublished(wanted: Mapping[Address, Binding], observation: Observation) -> dict[Address, str]:
    """Host names netsot neither publishes nor changes nor deletes: those of a binding whose
    reservation on the router is disabled. → {host address: why}. ``wanted`` maps the address of each
    wanted object to the binding that wants it."""
    if observation.data.get("dnsmasq"):
        return {}  # dnsmasq mode serves (and names) a disabled mapping all the same (edgeos.md §11.3)
    off = set()
    # the router's disabled mappings that a binding wants: each mapping read once, no lookup per wanted object
    for address, seen in observation.resources.items():
        if address.type != MAPPING_TYPE or not _disabled(seen.kept):
            continue
        binding = wanted.get(address)
        if binding is None:
            continue
        mac = str(seen.attributes.get("mac_address") or "").lower()
        if mac and mac == str(binding.mac or "").lower():  # the device's own reservation
            off.add((binding.network, binding.hostname))
    if not off:  # no wanted reservation is disabled (the usual router): no host name to look for
        return {}
    return {address: (f"its DHCP reservation is disabled on the router (`disable`), so netsot publishes no "
                      f"DNS name for {binding.hostname}")
            for address, binding in wanted.items()
            if address.type == HOST_TYPE and (binding.network, binding.hostname) in off}
