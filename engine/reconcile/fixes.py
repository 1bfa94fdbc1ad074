"""What resolves a conflict, and what it means on the network until then (``Conflict.fix``/``effects``).

Owns: one "to fix:" sentence per conflict kind naming the exact action — the object on its system
(by the fact's ref, which names the system: ``proxmox pve1/210 net0``), the system by its
descriptor's title (the IPAM), or the config key (``networks[0].dhcp_range``, ``hosts[1].ip``) —
and the effect lines: which of a binding's objects netsot leaves alone meanwhile (by the
descriptors' resource labels).
Must not: decide conflicts, or name a system in a string of its own (refs and descriptors do).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from core.config import Config
from core.model import Address, Provenance
from core.names import HOSTNAME_RULE
from engine.reconcile.grouping import FactView, Group
from providers import registry
from providers.base import ROLE_ADDRESS

# ------------------------------------------------------------------------------ where a value lives


def network_key(config: Config, network: str, field: str) -> str:
    """``networks[0].dhcp_range`` for ``network``'s ``field`` in the config."""
    for i, net in enumerate(config.networks):
        if net.name == network:
            return f"networks[{i}].{field}"
    return f"networks[].{field}"


def host_key(config: Config, name: str | None, field: str) -> str | None:
    """``hosts[1].ip`` when ``name`` is a ``hosts:`` entry."""
    for i, host in enumerate(config.hosts):
        if host.name == name:
            return f"hosts[{i}].{field}"
    return None


def value_at(g: Group, attribute: str) -> str:
    """Where the group's winning ``attribute`` comes from, as a place to change it."""
    prov = g.provenance.get(attribute)
    return _place(g.systems.config, prov, _origin_refs(g), g.hostname, attribute)


def _place(config: Config, prov: Provenance | None, fallback: str, name: str | None, attribute: str) -> str:
    if prov is None:
        return fallback
    if prov.source == "config":
        key = host_key(config, name, "name" if attribute == "hostname" else attribute)
        return f"{key} in the config" if key else "the config"
    if prov.source == "allocator":
        return f"the address the allocator picked ({prov.ref or 'the network'})"
    return prov.ref or fallback


def _origin_refs(g: Group) -> str:
    return ", ".join(sorted(o.fact.ref for o in g.origins)) or g.key


def ipam_title(g: Group) -> str:
    """The title of the system holding the network's addresses (the ``address`` role), or "the IPAM"."""
    for serving in g.systems.serving(g.network.name):
        if serving.kind.role_type(ROLE_ADDRESS) is not None:
            return serving.kind.title
    return "the IPAM"


# ------------------------------------------------------------------------------ the fixes


def mac_twice(groups: Sequence[Group]) -> str:
    refs = sorted({o.fact.ref for g in groups for o in g.origins})
    return (f"give each of {', '.join(refs)} its own MAC address (change it on the object itself), "
            "or remove the one that is stale")


def ipam_host_elsewhere(g: Group, made: FactView, other: FactView) -> str:
    return (f"if {made.fact.ref} is the same device, give it {other.ip} (or delete it) in "
            f"{ipam_title(g)}; if it is another device, give it its own MAC there")


def no_name(g: Group) -> str:
    return f"give {_origin_refs(g)} a host name ({HOSTNAME_RULE})"


def bad_name(g: Group) -> str:
    return f"rename it at {value_at(g, 'hostname')} to a valid host name ({HOSTNAME_RULE})"


def bad_mac(g: Group) -> str:
    return (f"give the NIC at {value_at(g, 'mac')} a unicast MAC address (the lowest bit of the first "
            "octet must be 0), or remove the binding")


def name_clash(g: Group, foreign: Iterable[FactView]) -> str:
    others = ", ".join(sorted({f.fact.ref for f in foreign}))
    return (f"rename {_origin_refs(g)}, or rename or delete {others} (netsot does not own it; if it is the "
            "same device with a new NIC, delete the stale entry)")


def shared_name(name: str, members: Sequence[Group]) -> str:
    refs = "; ".join(f"{m.mac or 'no MAC'} at {_origin_refs(m)}" for m in members)
    return f"keep {name} on one MAC and rename the others ({refs})"


def alias_taken(name: str, members: Sequence[Group]) -> str:
    """An extra name that another binding has too: remove it where the extra name is declared."""
    holders = [m for m in members if name in m.aliases]
    places = "; ".join(f"{m.key} at {value_at(m, 'aliases')}" for m in holders)
    return f"give {name} to one host only: remove it from the extra names of {places}"


def bad_alias(g: Group, alias: str) -> str:
    return f"remove or rename the extra name {alias} at {value_at(g, 'aliases')} ({HOSTNAME_RULE})"


def outside(g: Group, why: str) -> str:
    prefix = network_key(g.systems.config, g.network.name, "prefix")
    return f"change the IP at {value_at(g, 'ip')} to {why} (or, if the network moved, {prefix})"


def in_range(g: Group, rng: str) -> str:
    dhcp = network_key(g.systems.config, g.network.name, "dhcp_range")
    return (f"change the IP at {value_at(g, 'ip')} to one outside {rng}, or shrink {dhcp} so it leaves "
            f"{g.ip} out")


def gateway(g: Group) -> str:
    key = network_key(g.systems.config, g.network.name, "gateway")
    return f"change the IP at {value_at(g, 'ip')}: {g.ip} is the gateway ({key})"


def static_disagrees(g: Group, f: FactView) -> str:
    hint = f.fact.writable_hint or "allow netsot to write it"
    return (f"{hint} (netsot then writes {g.ip} into it), or change the static IP on {f.fact.ref} to "
            f"{g.ip} yourself, or make its {f.ip} win at {value_at(g, 'ip')}")


def claimed_twice(ip: str, claimants: Sequence[Group], foreign: Sequence[FactView],
                  spare: Sequence[FactView]) -> str:
    where = [f"{g.key} at {value_at(g, 'ip')}" for g in claimants]
    others = [f.fact.ref for f in foreign if f not in spare]
    text = f"decide which host keeps {ip} and give the others another address"
    if where:
        text += f": change it for {'; '.join(where)}"
    if others:
        text += f"; or readdress or delete {', '.join(sorted(others))} (netsot does not own it)"
    return text


def no_free(g: Group) -> str:
    config = g.systems.config
    dhcp = network_key(config, g.network.name, "dhcp_range")
    prefix = network_key(config, g.network.name, "prefix")
    return (f"free an address in {g.network.prefix}: delete hosts nobody uses in {ipam_title(g)}, shrink "
            f"{dhcp}, or give the network a larger {prefix}")


# ------------------------------------------------------------------------------ effects


def effects(blocked: Iterable[tuple[Group, Iterable[Address]]]) -> tuple[str, ...]:
    """One line per binding: which of its objects netsot leaves alone until the conflict is fixed."""
    out = []
    for g, addresses in blocked:
        labels = sorted({_label(a.type) for a in addresses})
        if labels:
            out.append(f"{g.key}: netsot creates, changes or deletes none of its {_and(labels)} until this "
                       "is fixed")
    return tuple(out)


def _label(type_name: str) -> str:
    rtype = registry.resource_type(type_name)
    return rtype.label if rtype is not None and rtype.label else type_name


def _and(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
