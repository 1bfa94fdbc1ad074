"""Frozen value types shared by the engine, the state store and the providers.

Owns: resource addresses, observations (what a system says now), facts (binding claims used by
reconcile), origin references, bindings (the desired truth), changes, conflicts, drift,
held-back changes, apply outcomes and the plan itself.
Must not: do I/O, or import anything outside ``core``.

An address is ``<type>.<name>`` for the default instance of a system and
``<type>[<instance>].<name>`` for a named one (``edgemax_dhcp_mapping[cabin].LAN.web01``).
The type starts with the system's kind (``edgemax_…``); which types exist, what they depend on
and how a binding names them is declared by each system's descriptor (``providers/*/descriptor.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from itertools import chain
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from core import fields as _fields

EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen_map(data: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    """A read-only copy of ``data`` (lists become tuples so the value stays immutable)."""
    if not data:
        return EMPTY
    # a frozen map's dict is copied in C (``dict()`` of a proxy goes key by key)
    copy = data.copy() if type(data) is MappingProxyType else dict(data)
    # plans freeze tens of thousands of mappings, nearly all of immutable values only: one C-level pass
    # over the values' types tells, and the copy is kept as it is
    if type(copy) is dict and _IMMUTABLE.issuperset(map(type, copy.values())):
        return MappingProxyType(copy)
    return MappingProxyType({k: _freeze(v) if isinstance(v, _MUTABLE) else v for k, v in copy.items()})


_MUTABLE = (list, dict)
# types whose values are neither lists nor dicts (exact types: a subclass goes the long way)
_IMMUTABLE = frozenset({str, int, bool, float, type(None), tuple, MappingProxyType})


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return frozen_map(value)
    return value


def to_jsonable(value: Any) -> Any:
    """Plain JSON types from frozen values (mappings → dict, tuples → list, enums → str)."""
    if type(value) in _PLAIN:  # most values: returned before the slower checks (an ABC's for Mapping)
        return value
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [to_jsonable(v) for v in value]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, Address):
        return str(value)
    return value


_PLAIN = frozenset({str, int, float, bool, type(None)})  # exact types ``to_jsonable`` returns as they are


def _json_default(value: Any) -> Any:
    # Called by the C encoder only for what JSON cannot encode natively: the same conversions as
    # ``to_jsonable`` (StrEnum values are str and tuples are lists to the encoder already).
    if type(value) is MappingProxyType:  # a frozen map (NIPAP avps): its dict's C-level copy
        return value.copy()
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, Address):
        return str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_json_default)
# The C encoder ``_CANONICAL.encode`` builds on every call, built once (no circular-reference
# markers: frozen values cannot contain themselves). Same output; None where CPython lacks it.
_C_CANONICAL = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _json_default, json.encoder.encode_basestring_ascii, None, ":", ",", True, False, True
    )
    if getattr(json.encoder, "c_make_encoder", None) is not None
    else None
)


def fingerprint(attributes: Mapping[str, Any]) -> str:
    """Stable sha256 of attributes, used to detect that an object changed since a plan.

    The digest of ``json.dumps(to_jsonable(attributes), sort_keys=True, separators=(",", ":"))``
    (saved plans stay comparable across versions), computed without the recursive copy: plans
    fingerprint every object read, tens of thousands per plan at scale.
    """
    return _digest(attributes.copy() if type(attributes) is MappingProxyType else attributes)


_sha256 = hashlib.sha256

if _C_CANONICAL is not None:
    def _digest(data: Any) -> str:
        """``fingerprint`` of ``data`` that the C encoder takes as it is (a dict, not a frozen map)."""
        # the encoder's chunks joined (one for an object this small); it encodes a top-level str as
        # ``_CANONICAL.encode`` does. Chosen once here: a plan digests every object read (~57,000)
        return _sha256("".join(_C_CANONICAL(data, 0)).encode()).hexdigest()
else:  # a Python without the C encoder: the same text, built by the pure-Python one
    def _digest(data: Any) -> str:
        """``fingerprint`` of ``data`` that the C encoder takes as it is (a dict, not a frozen map)."""
        return _sha256(_CANONICAL.encode(data).encode()).hexdigest()


_T = TypeVar("_T")


class _cached(Generic[_T]):
    """``functools.cached_property`` without its lock: the value, computed on first access, is stored
    in the instance's ``__dict__``. Python 3.11's takes a class-wide lock on every first access, and a
    plan makes one per object read (tens of thousands); on frozen values a rare second computation in
    a racing thread gives the same value."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.name = func.__name__
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.func(instance)
        return value


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


_ADDRESS = re.compile(r"^([a-z][a-z0-9]*_[a-z0-9_]+)(?:\[([a-z][a-z0-9_-]{0,31})\])?\.(.+)$", re.S)


@dataclass(frozen=True, order=True)
class Address:
    """A Terraform-like resource address, e.g. ``nipap_address.lan.web01``.

    ``instance`` names the system instance for all but the default one of a kind
    (``edgemax_dhcp_mapping[cabin].LAN.web01``).
    """

    type: str
    name: str
    instance: str = ""

    def __post_init__(self) -> None:
        # the fields' hash, made once: a plan of 10,000 bindings hashes addresses about a million times
        # (sets and dicts keyed by address). Pickled without it (a str's hash differs between processes).
        # (Not set with the fields in one ``__dict__`` step like ``Change``: that makes the instance's dict a
        # plain one, and an address's fields are read far more often than addresses are made.)
        object.__setattr__(self, "_hash", hash((self.type, self.name, self.instance)))

    def __hash__(self) -> int:
        return self._hash  # type: ignore[attr-defined,no-any-return]

    def __getstate__(self) -> dict[str, str]:
        return {"type": self.type, "name": self.name, "instance": self.instance}

    def __setstate__(self, state: Mapping[str, str]) -> None:
        for key, value in state.items():
            object.__setattr__(self, key, value)
        self.__post_init__()

    def __str__(self) -> str:
        if self.instance:
            return f"{self.type}[{self.instance}].{self.name}"
        return f"{self.type}.{self.name}"

    @property
    def kind(self) -> str:
        """The system kind owning this resource type (``nipap_address`` → ``nipap``)."""
        return self.type.split("_", 1)[0]

    @property
    def system(self) -> str:
        """The key of the system instance holding it: ``edgemax`` or ``edgemax.cabin``."""
        kind = self.type.split("_", 1)[0]
        return f"{kind}.{self.instance}" if self.instance else kind

    @classmethod
    def parse(cls, text: str) -> Address:
        match = _ADDRESS.match(text)
        if match is None:
            raise ValueError(f"not a resource address: {text!r} (expected TYPE.NAME or TYPE[INSTANCE].NAME)")
        rtype, instance, name = match.groups()
        return cls(rtype, name, instance or "")

    @classmethod
    def of(cls, rtype: str, name: str, system: str = "") -> Address:
        """The address of ``rtype`` named ``name`` in system instance ``system`` (a key or "")."""
        _, _, instance = system.partition(".")
        return cls(rtype, name, instance)


@dataclass(frozen=True, init=False)  # __init__ below: the dataclass's, in one step
class Provenance:
    """Where a value came from and which rule chose it.

    ``derived`` says how the value was derived from what the source holds, when it is not that
    thing itself ("room-1-switch derived from static-mapping name ROOM_1_SWITCH").
    """

    source: str  # "config", "proxmox", "nipap", "edgemax", "lease", "allocator", "state"
    rule: str  # e.g. "precedence ip: config > nipap > proxmox > edgemax" or "first free address"
    ref: str = ""  # the object that supplied it, e.g. "proxmox pve1/101 net0"
    derived: str = ""

    def __init__(self, source: str, rule: str, ref: str = "", derived: str = "") -> None:
        # one step (see ``Change.__init__``): reconcile gives every value of every binding one
        d = self.__dict__  # field by field, in field order (see ``Change.__init__``)
        d["source"] = source
        d["rule"] = rule
        d["ref"] = ref
        d["derived"] = derived

    def to_dict(self) -> dict[str, str]:
        out = {"source": self.source, "rule": self.rule, "ref": self.ref}
        if self.derived:
            out["derived"] = self.derived
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Provenance:
        return cls(str(data["source"]), str(data["rule"]), str(data.get("ref", "")),
                   str(data.get("derived", "")))


@dataclass(frozen=True)
class ObservedResource:
    """One object of a managed resource type as a system reports it now.

    ``owned_marker`` is true when the object itself says netsot owns it (NIPAP avps).
    Objects not in state and without the marker are read for conflicts, never changed.

    ``attributes`` are exactly what netsot manages on the object; ``kept`` is everything else the
    object holds (children and values netsot does not model), which every change must leave as it
    is: child name → ``True`` (a valueless child), a sequence of values, or a mapping of the same
    shape (``{"inet": ["2001:db8::5"], "disable": True}``). It counts in the fingerprint, so a
    saved plan goes stale when someone edits it.
    """

    address: Address
    attributes: Mapping[str, Any]
    provider_id: str | None = None
    owned_marker: bool = False
    # when netsot does not own it: why it leaves it alone, and what would adopt it (for the plan's
    # Unmanaged section; empty: the engine says what it knows)
    unmanaged_reason: str = ""
    adopt_hint: str = ""
    kept: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    # the object's id as `netsot import ADDR ID` takes it, when ``provider_id`` is not that (Proxmox)
    import_id: str = ""

    @property
    def fingerprint(self) -> str:
        """The digest a saved plan compares to tell that this object changed."""
        return _digest(self.fingerprint_data())

    def fingerprint_data(self) -> Any:
        """What ``fingerprint`` digests: the attributes, with ``kept`` beside them when there is any."""
        if self.kept:
            return {"attributes": self.attributes, "kept": self.kept}
        attributes = self.attributes
        return attributes.copy() if type(attributes) is MappingProxyType else attributes


@dataclass(frozen=True)
class OriginRef:
    """The object a binding originates from (a guest NIC, a host record), named by its system.

    ``kind``/``instance`` say which system holds it; ``label`` names it for people
    (``proxmox pve1/101 net0``), ``noun`` says what it is (``guest``). ``address`` is the
    resource netsot manages on that object, if any. ``annotations`` are key/values the origin
    wants recorded next to the binding (the IPAM keeps them, e.g. a VM id). ``data`` is the
    origin system's own detail: only that system's provider reads it.
    """

    kind: str
    instance: str
    object: str  # the object within its system, e.g. "pve1/101" (two parts of one object share it)
    label: str
    noun: str = "object"
    address: Address | None = None
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    data: Mapping[str, Any] = field(default_factory=lambda: EMPTY)

    @property
    def system(self) -> str:
        return f"{self.kind}.{self.instance}" if self.instance else self.kind

    @property
    def object_label(self) -> str:
        """The label without the system's name: ``pve1/101 net0``."""
        return self.label.split(" ", 1)[1] if " " in self.label else self.label


@dataclass(frozen=True)
class Fact:
    """A claim about a binding (network, hostname, MAC, IP) made by one source.

    ``source`` is a system kind or ``"config"`` (a ``hosts:`` entry). ``origin`` facts create
    bindings (guest NICs, config hosts, imported objects); other facts inform precedence and
    conflicts; ``discovery`` facts (DHCP leases) are only ever listed, never support a binding.

    The typed fields are what the engine reads: ``owned`` (the object carries netsot's marker),
    ``domain`` (a DNS entry: its name counts in every network of that domain), ``in_use``
    (addresses the object is seen using, e.g. a guest agent's report), ``static_ip`` (the
    source's own configuration pins ``ip``) with ``ip_writable`` / ``writable_hint`` (whether
    ``netsot may rewrite it, and how to allow it), ``origin_ref``, ``description`` and ``annotations``;
    ``hostname_from`` says how ``hostname`` was derived from the object's own name when it is not
    that name (``"derived from static-mapping name ROOM_1_SWITCH"``): it travels into the
    binding's hostname provenance. ``extra`` is the source system's own detail: the engine never
    reads it.
    """

    source: str
    ref: str
    network: str | None
    hostname: str | None
    mac: str | None
    ip: str | None
    origin: bool = False
    address: Address | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    owned: bool = False
    discovery: bool = False
    domain: str | None = None
    in_use: tuple[str, ...] = ()
    static_ip: bool = False
    ip_writable: bool = False
    writable_hint: str = ""
    origin_ref: OriginRef | None = None
    description: str = ""
    # what the object records about the origin it belongs to (an IPAM host's copy of a guest's
    # ``OriginRef.annotations``): it links them when both the name and the MAC changed
    annotations: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    # what the plan should say about this object when it originates a binding (one line each)
    notes: tuple[str, ...] = ()
    hostname_from: str = ""
    # a DHCP lease (``discovery``): the host name the client sent, as sent (``hostname`` is its
    # lower-cased form), and when the lease ends (ISO 8601 UTC, ``2026-05-01T12:00:00Z``; None: never)
    hostname_hint: str | None = None
    lease_expires: str | None = None
    # where the object answers now when a change of its address has not reached it yet (a guest that
    # keeps its old address until it restarts): DNS follows it until the object reports ``ip``
    answers_at: str | None = None
    # why it still answers there, in the system's words (``pending restart``); empty: nothing is waiting
    waiting: str = ""
    # every name the object gives the host besides or including ``hostname`` (a config host's
    # ``aliases``, an IPAM avp, the router's names on one address); None: the object says nothing
    # about extra names (it has no opinion), () : it says there are none
    aliases: tuple[str, ...] | None = None

    def fingerprint_data(self) -> dict[str, Any]:
        """What a saved plan compares to tell that this fact changed: ``{"network": …, "hostname": …,
        "mac": …, "ip": …, **extra}`` (``extra`` wins), plus ``in_use`` and ``aliases`` when set."""
        # built from a copy of ``extra`` (a C-level copy of a frozen map's dict, about 4x faster than
        # merging it key by key; every fact read is fingerprinted): the key order differs, and the
        # canonical JSON sorts the keys
        extra = self.extra
        data: dict[str, Any] = extra.copy() if type(extra) is MappingProxyType else dict(extra)
        data.setdefault("network", self.network)
        data.setdefault("hostname", self.hostname)
        data.setdefault("mac", self.mac)
        data.setdefault("ip", self.ip)
        if self.in_use:
            data["in_use"] = self.in_use
        if self.aliases is not None:
            data["aliases"] = self.aliases
        return data


@dataclass(frozen=True)
class Observation:
    """What one system instance says now: its resources, its binding facts and warnings.

    ``incomplete`` lists why the read missed objects (``"3 guests unread"``): while it is not
    empty, an object missing from ``resources`` is not proof that it was deleted.
    ``data`` is the system's own detail (leases, flags): the engine never reads it.
    """

    system: str
    resources: Mapping[Address, ObservedResource] = field(default_factory=lambda: EMPTY)
    facts: tuple[Fact, ...] = ()
    warnings: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    incomplete: tuple[str, ...] = ()

    def fingerprints(self) -> dict[str, str]:
        """Fingerprint of every object read: resources by address, facts as ``fact:<ref>``."""
        return dict(self._fingerprints)

    def fingerprint_keys(self) -> Iterator[str]:
        """The keys of ``fingerprints()`` in their order, without digesting anything."""
        yield from map(str, self.resources)
        for f in self.facts:
            yield f"fact:{f.ref}"

    @_cached  # frozen: computed once however many plans (serve's partial runs) use it
    def _fingerprints(self) -> dict[str, str]:
        # Not cached on each resource as well: that made every resource's ``__dict__`` (23,000 more
        # dicts per engine-10000 plan, each walked again by the first garbage collection after it)
        digests = chain((_digest(r.fingerprint_data()) for r in self.resources.values()),
                        (_digest(f.fingerprint_data()) for f in self.facts))  # a fact's: a dict already
        return dict(zip(self.fingerprint_keys(), digests, strict=True))


def merged_fingerprints(observations: Iterable[Observation]) -> dict[str, str]:
    """The fingerprints of every object the observations read, sorted by key (a later one's wins)."""
    parts = [o._fingerprints for o in observations]  # read, never changed: no copies
    # the keys in order first, then every value put in its place (all in C: at 10,000 bindings it is
    # ~57,000 of them; sorting the items instead compares tuples, and a comprehension looks each one up)
    out = dict.fromkeys(sorted(chain.from_iterable(parts)))
    for part in parts:
        out.update(part)
    return out


class Fingerprints(Mapping[str, str]):
    """``merged_fingerprints`` of some observations, digested when they are first read.

    What was read (the keys) costs little; the digests — sha256 over each object's canonical JSON, about a
    fifth of planning 10,000 bindings — only a saved plan and the JSON document need. The text plan,
    apply's confirmation, ``serve``'s runs and the status page (which asks only what was read) never read
    them, so they are not made for those. Equal to, and pickled as, the merged dict itself.
    """

    __slots__ = ("_keys", "_lock", "_merged", "_observations")

    def __init__(self, observations: Iterable[Observation]) -> None:
        self._observations = tuple(observations)
        self._merged: dict[str, str] | None = None
        self._keys: dict[str, None] | None = None
        self._lock = threading.Lock()

    def _digests(self) -> dict[str, str]:
        merged = self._merged
        if merged is None:
            with self._lock:  # the status page's thread and a run's may ask at once
                if self._merged is None:
                    self._merged = merged_fingerprints(self._observations)
                merged = self._merged
        return merged

    def _read(self) -> Mapping[str, Any]:
        """The keys in order (those of the digests once they exist)."""
        if self._merged is not None:
            return self._merged
        if self._keys is None:
            # the keys of ``merged_fingerprints``, in its order
            self._keys = dict.fromkeys(sorted(chain.from_iterable(o.fingerprint_keys()
                                                                  for o in self._observations)))
        return self._keys

    def __getitem__(self, key: str) -> str:
        return self._digests()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._read())

    def __len__(self) -> int:
        return len(self._read())

    def __contains__(self, key: object) -> bool:
        return key in self._read()

    def __repr__(self) -> str:
        return f"Fingerprints({len(self)} objects read)"

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self._digests()),))  # (a mapping proxy cannot be pickled)


@dataclass(frozen=True, init=False)  # __init__ below: the dataclass's, in one step
class ManagedResource:
    """A resource netsot owns, as recorded in state (the engine's view for providers)."""

    address: Address
    provider_id: str | None
    attributes: Mapping[str, Any]
    dependencies: tuple[Address, ...] = ()
    origin: str = ""  # the source kind that created the binding, "config" or "import"
    status: str = "managed"  # "managed" or "orphaned" (lost its source, waiting for deletion)
    orphaned_since: str | None = None
    # who made it: "made" (netsot created it), "adopted" (import, or an apply took it over), or "unknown"
    # (a state from before netsot recorded it); netsot never deletes an adopted object on its own
    ownership: str = "made"

    def __init__(self, address: Address, provider_id: str | None, attributes: Mapping[str, Any],
                 dependencies: tuple[Address, ...] = (), origin: str = "", status: str = "managed",
                 orphaned_since: str | None = None, ownership: str = "made") -> None:
        # one step (see ``Change.__init__``): one per owned object, every plan
        d = self.__dict__  # field by field, in field order (see ``Change.__init__``)
        d["address"] = address
        d["provider_id"] = provider_id
        d["attributes"] = attributes
        d["dependencies"] = dependencies
        d["origin"] = origin
        d["status"] = status
        d["orphaned_since"] = orphaned_since
        d["ownership"] = ownership


@dataclass(frozen=True)
class Binding:
    """The desired truth for one host on one network, with per-attribute provenance."""

    network: str
    hostname: str
    mac: str | None
    ip: str
    # keys: "ip", "hostname", "mac"
    provenance: Mapping[str, Provenance] = field(default_factory=lambda: EMPTY)
    origin: str = ""  # the source kind of the best-ranked origin, "config" or "import"
    origin_refs: tuple[OriginRef, ...] = ()  # every system object the binding originates from
    sources: tuple[str, ...] = ()  # every source that reported this binding
    description: str = ""
    # where the host answers now while a change of its address waits for it (``Fact.answers_at`` of
    # its origin; None when it answers at ``ip``): the DNS name follows it until the host reports ``ip``
    answers_at: str | None = None
    waiting: str = ""  # ``pending restart``: the origin's words for what the change waits for
    # the binding's extra names besides ``hostname`` (its canonical name), in the winning source's
    # order; their provenance is ``provenance["aliases"]``
    aliases: tuple[str, ...] = ()

    @property
    def dns_ip(self) -> str:
        """The address a DNS name of this host points at: where it answers now."""
        return self.answers_at or self.ip

    @property
    def names(self) -> tuple[str, ...]:
        """Every name of the binding: the canonical one first, then its extra names."""
        return (self.hostname, *self.aliases)

    @property
    def key(self) -> str:
        return f"{self.network}.{self.hostname}"

    def origin_in(self, system: str) -> OriginRef | None:
        """The first origin object held by system instance ``system``."""
        for ref in self.origin_refs:
            if ref.system == system:
                return ref
        return None

    @property
    def first_origin(self) -> OriginRef | None:
        return self.origin_refs[0] if self.origin_refs else None


class ConflictKind(StrEnum):
    IP_CLAIMED_TWICE = "ip_claimed_twice"
    HOSTNAME_ON_TWO_MACS = "hostname_on_two_macs"
    MAC_IN_TWO_BINDINGS = "mac_in_two_bindings"
    IP_OUTSIDE_NETWORK = "ip_outside_network"
    IP_IN_DYNAMIC_RANGE = "ip_in_dynamic_range"
    STATIC_IP_DISAGREES = "static_ip_disagrees"
    INVALID_NAME = "invalid_name"
    INVALID_MAC = "invalid_mac"
    NO_FREE_ADDRESS = "no_free_address"
    # a change its system would refuse at commit (one of the system's own rules, foreseen by its
    # provider): held with the rule's text, the rest of the run goes ahead
    COMMIT_RULE = "commit_rule"


@dataclass(frozen=True)
class Conflict:
    """Something precedence cannot settle. The objects involved are not changed."""

    kind: ConflictKind
    reason: str  # one line
    objects: tuple[str, ...]  # human refs of everything involved
    network: str | None = None
    blocked: tuple[Address, ...] = ()  # resource addresses that must not be touched
    blocked_keys: tuple[str, ...] = ()  # binding keys that must not be planned
    # the exact action that resolves it (which system, which object, or which config key), one line
    fix: str = ""
    # what it means on the network until it is fixed ("app05 gets no DHCP reservation …"), one line each
    effects: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "reason": self.reason,
            "objects": list(self.objects),
            "network": self.network,
            "blocked": [str(a) for a in self.blocked],
            "blocked_keys": list(self.blocked_keys),
            "fix": self.fix,
            "effects": list(self.effects),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Conflict:
        return cls(
            ConflictKind(data["kind"]),
            data["reason"],
            tuple(data.get("objects", ())),
            data.get("network"),
            tuple(Address.parse(a) for a in data.get("blocked", ())),
            tuple(data.get("blocked_keys", ())),
            str(data.get("fix", "")),
            tuple(data.get("effects", ())),
        )


@dataclass(frozen=True)
class Desired:
    """Output of reconcile: the bindings to enforce, what could not be settled, and notes about
    the bindings that the plan shows as warnings."""

    bindings: tuple[Binding, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def blocked(self) -> frozenset[Address]:
        return frozenset(a for c in self.conflicts for a in c.blocked)


@dataclass(frozen=True, init=False)  # __init__ below: the dataclass's, in one step
class Change:
    """One planned change of one resource.

    ``drift`` marks a change that reverts (or adopts) a hand edit made on the system.
    ``moved_from`` is set when the resource keeps its identity but changes address
    (e.g. a renamed guest keeps its NIPAP host and IP).
    ``kept`` is what the object holds besides the attributes netsot manages (the shape of
    ``ObservedResource.kept``): the change leaves it on the system, or writes it to the object's new
    place. ``loses`` lists, one line each, what else the change removes from the system (a delete
    of an object that holds more than netsot manages); the safety policy holds such changes.
    ``adopted`` says who made an object netsot adopted rather than made (``made in NIPAP by
    nipap-www``): netsot never deletes such an object on its own (the policy's ``adopted`` gate).
    """

    action: Action
    address: Address
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reason: str = ""
    provenance: Mapping[str, Provenance] = field(default_factory=lambda: EMPTY)
    depends_on: tuple[Address, ...] = ()
    provider_id: str | None = None
    drift: bool = False
    moved_from: Address | None = None
    origin: str = ""
    # a create that takes the place of an object deleted in the same plan (a rename done as create +
    # delete): the two are applied together or held together, never one without the other
    replaces: Address | None = None
    kept: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    loses: tuple[str, ...] = ()
    adopted: str = ""

    def __init__(self, action: Action, address: Address, before: Mapping[str, Any] | None,
                 after: Mapping[str, Any] | None, reason: str = "",
                 provenance: Mapping[str, Provenance] = EMPTY, depends_on: tuple[Address, ...] = (),
                 provider_id: str | None = None, drift: bool = False, moved_from: Address | None = None,
                 origin: str = "", replaces: Address | None = None, kept: Mapping[str, Any] = EMPTY,
                 loses: tuple[str, ...] = (), adopted: str = "") -> None:
        # the fields set in one step: a frozen dataclass's own __init__ makes a call per field (15), and a
        # plan makes a change per object it touches, more with ``replace`` (tests/core pins the signature).
        # Stored one by one in field order, not by ``update(**fields)``: the instance's dict then stays a
        # split one sharing the class's keys (192 bytes for a Change, 464 after an update, which makes it a
        # combined table), and the stores cost less than building the keywords (1.0 -> 0.7 us)
        d = self.__dict__
        d["action"] = action
        d["address"] = address
        d["before"] = before
        d["after"] = after
        d["reason"] = reason
        d["provenance"] = provenance
        d["depends_on"] = depends_on
        d["provider_id"] = provider_id
        d["drift"] = drift
        d["moved_from"] = moved_from
        d["origin"] = origin
        d["replaces"] = replaces
        d["kept"] = kept
        d["loses"] = loses
        d["adopted"] = adopted
        if address.type in _fields.TYPED:  # declared, checked fields (core.fields)
            _fields.check_change(address.type, address, before, after)

    @property
    def system(self) -> str:
        return self.address.system

    def value(self, key: str, *, before: bool = False) -> Any:
        """``after[key]`` (``before[key]`` with ``before=True``; None when absent). For a typed resource type
        a key it does not declare is a ``FieldError``: a misspelt key fails where it is read, not silently."""
        record = self.before if before else self.after
        return _fields.get(_fields.TYPED.get(self.address.type), record or EMPTY, key)

    def changed_attributes(self) -> tuple[str, ...]:
        before, after = self.before or EMPTY, self.after or EMPTY
        keys = sorted(set(before) | set(after))
        return tuple(k for k in keys if before.get(k) != after.get(k))

    def to_dict(self) -> dict[str, Any]:
        out = {
            "action": self.action.value,
            "address": str(self.address),
            "system": self.system,
            "before": to_jsonable(self.before) if self.before is not None else None,
            "after": to_jsonable(self.after) if self.after is not None else None,
            "reason": self.reason,
            "provenance": {k: p.to_dict() for k, p in self.provenance.items()},
            "depends_on": [str(a) for a in self.depends_on],
            "provider_id": self.provider_id,
            "drift": self.drift,
            "moved_from": str(self.moved_from) if self.moved_from else None,
            "replaces": str(self.replaces) if self.replaces else None,
            "origin": self.origin,
        }
        if self.kept:  # only when there is any: plans of objects without extras keep their shape
            out["kept"] = to_jsonable(self.kept)
        if self.loses:
            out["loses"] = list(self.loses)
        if self.adopted:
            out["adopted"] = self.adopted
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        return cls(
            action=Action(data["action"]),
            address=Address.parse(data["address"]),
            before=frozen_map(data["before"]) if data.get("before") is not None else None,
            after=frozen_map(data["after"]) if data.get("after") is not None else None,
            reason=data.get("reason", ""),
            provenance=MappingProxyType(
                {k: Provenance.from_dict(v) for k, v in (data.get("provenance") or {}).items()}
            ),
            depends_on=tuple(Address.parse(a) for a in data.get("depends_on", ())),
            provider_id=data.get("provider_id"),
            drift=bool(data.get("drift", False)),
            moved_from=Address.parse(data["moved_from"]) if data.get("moved_from") else None,
            replaces=Address.parse(data["replaces"]) if data.get("replaces") else None,
            origin=data.get("origin", ""),
            kept=frozen_map(data.get("kept") or {}),
            loses=tuple(str(x) for x in data.get("loses") or ()),
            adopted=str(data.get("adopted") or ""),
        )


# The dataclass's own __init__ (not one ``__dict__`` step like ``Change``): a plan keeps every drift and
# unmanaged object it makes (20,000+ at 10,000 bindings), and a one-step dict is one more object each for
# the garbage collection that follows the plan to walk (``engine.plan.planner.gc_paused``)
@dataclass(frozen=True)
class Drift:
    """A hand edit found on a system: what netsot expected, what it found, what it will do."""

    address: Address
    expected: Mapping[str, Any] | None  # from state (what netsot last wrote)
    actual: Mapping[str, Any] | None  # what the system has now (None: deleted by hand)
    resolution: str  # "revert" or "adopt"
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "address": str(self.address),
            "system": self.address.system,
            "expected": to_jsonable(self.expected) if self.expected is not None else None,
            "actual": to_jsonable(self.actual) if self.actual is not None else None,
            "resolution": self.resolution,
            "reason": self.reason,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Drift:
        return cls(
            Address.parse(data["address"]),
            frozen_map(data["expected"]) if data.get("expected") is not None else None,
            frozen_map(data["actual"]) if data.get("actual") is not None else None,
            data["resolution"],
            data["reason"],
        )


@dataclass(frozen=True)
class Held:
    """A change the safety policy holds back, and the gate that holds it."""

    change: Change
    # "threshold", "protected", "orphan_grace", "delete_budget", "delete_policy", "loses_unmodelled",
    # "adopted"
    gate: str
    reason: str
    unit: str = ""  # the binding held whole (``lan/camera``), when its changes are held as one

    def to_dict(self) -> dict[str, Any]:
        out = {"change": self.change.to_dict(), "gate": self.gate, "reason": self.reason}
        if self.unit:
            out["unit"] = self.unit
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Held:
        return cls(Change.from_dict(data["change"]), data["gate"], data["reason"],
                   str(data.get("unit") or ""))


@dataclass(frozen=True)  # the dataclass's own __init__, as ``Drift``'s
class Unmanaged:
    """An object a system holds in a managed network that netsot neither owns nor will touch."""

    address: Address
    reason: str  # "not imported", "MAC … is used by 2 static mappings in LAN", "forgotten by state rm …"
    adopt: str = ""  # what would make netsot manage it (a command, or what to change where)
    # how a person finds it: its IP and MAC, and its id in its system (a NIPAP prefix id, a router
    # config path, a Proxmox node/vmid/netN: what `netsot import ADDR ID` takes)
    ip: str | None = None
    mac: str | None = None
    ident: str = ""

    @property
    def system(self) -> str:
        return self.address.system

    def to_dict(self) -> dict[str, Any]:
        return {"address": str(self.address), "system": self.system, "reason": self.reason,
                "adopt": self.adopt, "ip": self.ip, "mac": self.mac, "id": self.ident}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Unmanaged:
        return cls(Address.parse(data["address"]), data["reason"], data.get("adopt", ""), data.get("ip"),
                   data.get("mac"), str(data.get("id") or ""))


@dataclass(frozen=True)
class Discovered:
    """A device seen only through a dynamic DHCP lease: its MAC matches no binding and no object a
    system holds (``netsot adopt lease MAC`` declares it as a host)."""

    network: str | None
    mac: str
    ip: str | None
    hostname_hint: str | None  # the name the client sent, if any
    expires: str | None  # ISO 8601 UTC, None: unknown or never
    system: str  # the instance key of the DHCP server that leased it
    vendor: str = ""  # from the MAC's OUI (packaged table; "" when unknown)
    ref: str = ""  # "lease 192.168.10.150"

    def to_dict(self) -> dict[str, Any]:
        return {"network": self.network, "mac": self.mac, "ip": self.ip, "hostname_hint": self.hostname_hint,
                "expires": self.expires, "system": self.system, "vendor": self.vendor, "ref": self.ref}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Discovered:
        return cls(data.get("network"), data["mac"], data.get("ip"), data.get("hostname_hint"),
                   data.get("expires"), data["system"], data.get("vendor", ""), data.get("ref", ""))


@dataclass(frozen=True)
class Plan:
    """The plan: ordered changes plus conflicts, drift, held-back changes, unmanaged objects,
    discovered devices and warnings.

    ``fingerprints`` maps the address of every object the plan read to its fingerprint,
    so a saved plan can be checked object by object before it is applied.
    """

    changes: tuple[Change, ...] = ()
    conflicts: tuple[Conflict, ...] = ()
    drift: tuple[Drift, ...] = ()
    held: tuple[Held, ...] = ()
    warnings: tuple[str, ...] = ()
    fingerprints: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    config_digest: str = ""
    unmanaged: tuple[Unmanaged, ...] = ()
    refresh_only: bool = False  # --refresh-only: record what the systems hold, change nothing
    lineage: str | None = None
    serial: int | None = None
    bindings: tuple[Binding, ...] = field(default=(), compare=False)
    discovered: tuple[Discovered, ...] = ()

    def counts(self) -> dict[str, int]:
        out = {"create": 0, "update": 0, "delete": 0}
        for c in self.changes:
            out[c.action.value] += 1
        return out

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)


@dataclass(frozen=True)
class ChangeOutcome:
    """What happened to one change during apply."""

    address: Address
    status: str  # "applied", "failed", "skipped"
    error: str | None = None
    provider_id: str | None = None
    attributes: Mapping[str, Any] | None = None  # the object as written (None for deletes)
    retries: int = 0  # calls re-sent after a transient fault (deadlock, reset, 502/503) or a lost race


@dataclass(frozen=True)
class Check:
    """One result of ``netsot verify``: what was checked, on which object, and what was found."""

    check: str  # "dns", "router", "nipap", "guest", "read", …
    object: str
    ok: bool
    detail: str
    address: str = ""  # the resource address checked, when the check is about one (the status page uses it)


@dataclass(frozen=True)
class ApplyResult:
    """The outcomes of one provider batch."""

    outcomes: tuple[ChangeOutcome, ...] = ()
    log: tuple[str, ...] = ()  # e.g. the router's `compare` output
