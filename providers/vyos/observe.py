"""A VyOS router as an Observation: what ``read`` found (either dialect), observed by the Vyatta library.

Owns: turning ``read``'s mappings and host names into the library's entries — the MAC leaf (``mac``
in 1.5, ``mac-address`` in 1.4) is one attribute; a kept value of the API's JSON shape becomes the
kept shape of ``ObservedResource`` (``description``, ``disable``, ``option``, ``duid``, unknown
children: shown, never lost) — and the kind's ``Observation.data`` (leases, the dialect the tree's
shape shows, the subnet ids). Resources, binding facts, every name of an address, leases and the
``saved`` pseudo resource are ``providers/vyatta/observe.py``'s, as for EdgeOS.
Must not: do I/O or decide what to change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from core.config import Config
from core.model import Observation, frozen_map
from providers.vyatta import observe
from providers.vyos.descriptor import VYATTA
from providers.vyos.leases import Lease
from providers.vyos.read import StaticMapping, VyosConfig

SYSTEM = "vyos"


def kept_shape(value: Any) -> Any:
    """A ``read`` kept value (the API's JSON shape) in the kept shape of ``ObservedResource``:
    a leaf's values as a list, ``True`` for a valueless child, a mapping for a node."""
    if isinstance(value, Mapping):
        if not value:
            return True
        return frozen_map({k: kept_shape(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return True if value == "" else [str(value)]


def mapping_kept(m: StaticMapping) -> Mapping[str, Any]:
    kept = {k: kept_shape(v) for k, v in m.kept.items()}
    if m.duid is not None:
        kept["duid"] = [m.duid]
    return frozen_map(kept)


def observation(cfg: VyosConfig, config: Config, key: str = SYSTEM, leases: Sequence[Lease] = (),
                unsaved: bool | None = None, warnings: Sequence[str] = ()) -> Observation:
    """The router as an Observation. ``unsaved``: whether committed config is not saved (None:
    unknown, e.g. a file read offline — the ``saved`` pseudo resource is then left out)."""
    mappings = [observe.MappingEntry(m.shared_network, m.subnet, m.name, m.ip, m.mac, mapping_kept(m),
                                     m.disabled) for m in cfg.mappings]
    hosts = [observe.HostEntry(h.host_name, h.inet, h.aliases, {k: kept_shape(v) for k, v in h.kept.items()})
             for h in cfg.hosts]
    data = {"leases": [le.to_dict() for le in leases], "dialect_shape": cfg.shape,
            "subnet_ids": dict(cfg.subnet_ids), **({"unsaved": unsaved} if unsaved is not None else {})}
    return observe.observation(VYATTA, config, key, mappings, hosts, leases,
                               saved=None if unsaved is None else not unsaved, warnings=warnings, data=data)
