"""The boundary between the engine and a system: the Provider protocol and the system descriptor.

Owns: the ``Provider`` contract, the ``PlanContext`` the engine hands to ``plan``,
and ``SystemKind`` — everything a system declares about itself so the engine can loop over
systems without naming one: its settings models and config schema fragment, secret fields,
resource types (identity, attributes, roles and the roles they depend on), the addresses a
binding produces there, its name rule, its default precedence and its optional hooks.
Must not: import a concrete provider, or anything of netsot but ``core``.

Provider contract (each provider package implements it in ``provider.py``):

* ``Provider(config, settings, instance="")`` — built by the engine for each configured system
  instance; ``config`` is the whole :class:`core.config.Config`, ``settings`` the instance's
  own section, ``instance`` its name ("" for the default instance of a kind). Construction must
  not do I/O.
* ``read() -> Observation`` — what the system holds now. Must raise ``ProviderError``
  subclasses (never a library exception) and must not change anything. A read that misses
  objects says why in ``Observation.incomplete``.
* ``wants(desired, observed, ctx) -> diffing.Wanted`` — pure: what this system should hold for the
  networks it serves (``config.networks_of(key)``), one ``Want`` per object, naming what each depends on
  — another system's objects through ``ctx.role_address``. The shared diff (``providers.diffing``, which
  the engine calls) makes every change, and owns the rule: only owned objects, never an address in
  ``desired.blocked``. Subclass ``diffing.Wanting`` for ``plan``. (A provider not moved yet writes
  ``plan(desired, observed, ctx) -> list[Change]`` itself, under the same rule; targeting is the
  engine's.)
* ``apply(changes) -> ApplyResult`` — one batch (one graph level of this system). Returns one
  outcome per change; a failure of the whole batch is a failed outcome for each change, not an
  exception, unless the system cannot be reached at all.
* ``close()`` — release sessions; safe to call twice.
* optional ``recall(observation, owned) -> Observation`` — the observation refined with what netsot's
  state records of this system's objects (``owned``: only this instance's) and the system itself cannot
  say, e.g. a written-back address a guest has not taken yet (``Fact.answers_at`` / ``Fact.waiting``).
  Pure; the engine calls it after every read, before reconciling (plan, verify).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from core.config import Network, NetworkSettings, SystemSettings
from core.fields import Field, check_declaration
from core.model import (
    EMPTY,
    Address,
    ApplyResult,
    Change,
    Desired,
    ManagedResource,
    Observation,
)

# The roles a resource can play for the resources of other systems.
ROLE_ADDRESS = "address"  # the binding's record in the IPAM (what DHCP, DNS and write-back follow)
ROLE_NETWORK = "network"  # the network's own record in the IPAM


@dataclass(frozen=True)
class ResourceType:
    """One kind of object a system manages.

    ``identity`` names the fields that identify an object (DiffSync's identifiers: they make its
    address); ``attributes`` the ones netsot compares, writes and reads back in ``verify`` — the two never
    overlap. ``fields`` types every key a record of it holds (identity, attributes and what else its
    changes carry, e.g. a host's description): with them the type is *checked* — its declaration when it
    is made (``core.fields.check_declaration``, a ``DeclarationError``) and every ``Change.before`` /
    ``after`` of it when the change is made (a misspelt key is a ``FieldError`` at once). ``role``
    is what the resource is to other systems (``ROLE_ADDRESS``); ``requires`` the roles of
    other systems' resources it depends on for the same binding. A ``pseudo`` type describes a
    condition of the whole system (the router's config is saved): planned and applied, never
    recorded in state.
    """

    name: str
    identity: tuple[str, ...]
    attributes: tuple[str, ...]
    role: str | None = None
    requires: tuple[str, ...] = ()
    pseudo: bool = False
    label: str = ""  # for people: "DHCP reservation"
    column: str = ""  # its column title on the status page, short: "reservation" (default: label)
    fields: tuple[Field, ...] = ()  # typed keys of its records (empty: an unchecked, legacy declaration)

    def __post_init__(self) -> None:
        check_declaration(self.name, self.identity, self.attributes, self.fields)


# (network, binding host name, instance key) -> resource type name -> address
BindingAddresses = Callable[[Network, str, str], Mapping[str, Address]]
# a proposed name -> None, or what is wrong with it ("is not a valid host name for EdgeOS (...)")
NameRule = Callable[[str], "str | None"]
# (instance key, its settings) -> what in them weakens security, one sentence each (warned on every run)
InsecureCheck = Callable[[str, Any], "list[str]"]
# (the instance's settings, what the object is — an origin's ``noun`` ("guest") or a resource type
# name — and its details: an origin's ``data``, or a resource's ``name`` and ``provider_id``) -> the
# URL of that object in the system's own web UI, or None where it has no page of its own
WebLink = Callable[[Any, str, Mapping[str, Any]], "str | None"]


@dataclass(frozen=True)
class Hooks:
    """Optional extras, each a ``"module:function"`` imported only when used.

    * ``inventory(config, from_file, as_json, key) -> str`` — ``netsot inventory``;
    * ``importer(config, key, observation, owned, facts, address_of, only=None, verdicts_only=False)
      -> ImportPlan`` — ``netsot import``: what to adopt from this system's observation, and why
      (pure; ``facts`` are the other sources' facts, ``address_of(network, name)`` the IPAM address
      adopted entries depend on; ``only``, when given, the objects whose verdicts are wanted — the
      importer still weighs the whole observation, so a verdict is the one ``netsot import``
      gives; ``verdicts_only``: the plan's Unmanaged section asks only for each item's status and
      a refusal's reason, so an adopted item may leave out its reason, record and claim);
    * ``import_read(config, key, from_file) -> Observation`` — read for an import (e.g. from a
      backup file instead of the live system);
    * ``import_one(config, key, observation, address, ident, owned, facts, address_of) -> ImportItem``
      — ``netsot import ADDR ID``: the one object ``ident`` names in the system's own terms (a
      host id or IP, ``node/vmid/netN``, a config path); it must raise ``NetsotError`` (one
      sentence) when no such object exists or when it is not ``address``, and returns the item
      (``adopt`` with its state record, ``conflict`` with the reason, or ``managed``);
    * ``adopt(config, key, observation, claims, owned) -> list[ImportItem]`` — when another
      system's import adopts bindings (``BindingClaim``), the objects of this system that belong
      to them;
    * ``verify(config, key, observation, state_resources) -> list[Check]`` — system-specific
      checks of ``netsot verify`` (the engine already reads every owned object back);
    * ``lab`` — ``"module:OBJECT"``: the system's part of the embedded lab, a ``LabSystem`` (below;
      it lives in the kind's ``sim/`` package: seed, start, its config block, lease / guest operations);
    * ``doctor(config, key) -> list[DoctorCheck]`` — ``netsot doctor``: reachable, TLS / host key as
      pinned, authenticated, and each privilege netsot needs to read and to write; changes nothing;
    * ``init`` — an ``InitHook`` for ``netsot init``: the system's command-line options, and
      ``connect(answers, ui)``, which asks for what is missing, trusts TLS / host keys only through
      ``ui.trust``, stores secrets through ``ui.secret``, reads the system (never writes) and returns
      an ``InitSystem`` (its settings and what it knows of the networks), or None to leave it out.
    * ``watch(provider) -> watcher`` — ``serve``'s cheap change detection between full reads: an object
      with ``poll() -> list[str]`` (what changed since the last poll, one line each; cheap requests
      only), ``full_read(provider, observation)`` (a full read happened: the new baseline),
      ``refresh(cached) -> Observation | None`` (the cached observation with only what the polls
      named re-read; None when nothing is pending), ``applied(changes)`` (netsot changed these
      objects: re-read them next time) and ``close()`` (see ``engine.web.events``).
    """

    inventory: str | None = None
    importer: str | None = None
    import_read: str | None = None
    watch: str | None = None
    import_one: str | None = None
    adopt: str | None = None
    verify: str | None = None
    lab: str | None = None
    doctor: str | None = None
    init: str | None = None


LAB_ROLES = ("hypervisor", "ipam", "router")  # the lab's parts, in the order its config lists them


class LabRunning(Protocol):
    """A simulator the lab started (``LabSystem.start``): where it listens, and how it stops (saving what
    it holds, so the next ``lab up`` resumes it)."""

    @property
    def port(self) -> int: ...

    def stop(self) -> None: ...


class LabSystem(Protocol):
    """A system's part of the embedded lab (``netsot lab``), named by ``Hooks.lab``.

    The lab (``providers/lab/``) knows sites, networks, guests and leases (``providers.lab.homelab``) and
    a lab folder's files (``providers.lab.runner.Paths``, as one site sees them); it names no system. A
    kind joins it through this object, in its ``sim/`` package (the only product-side place that starts
    its simulator):

    * ``role`` — the part it plays: ``ipam`` (one for every site), ``hypervisor`` or ``router`` (one per
      site); ``process`` — its lab process's name (``router``; a further site's is ``router.cabin``);
      ``default`` — the lab runs it in its role unless told otherwise (``lab up --router cabin=KIND``);
      ``saves`` — globs, under the lab's ``run/`` folder, of what its simulator saves when it stops;
    * ``seed(paths, labs)`` — write its seed files (``labs``: the ``Homelab`` of each site it serves: one
      for a per-site system, every site's for the ``ipam``) into ``paths.site_seeds``;
    * ``start(paths, options)`` — in the lab's process for it (``python -m providers.lab.runner``): start
      the simulator from what it saved (``paths.state_dir(...)``) or else its seeds, wired to the lab (a
      router: its commit hook writes the site's ``paths.hosts_file`` for dnsmasq — ``options["reload"]``,
      when given, tells dnsmasq — and ``paths.dhcp_file`` (``{"static": {mac: ip}}``) for the guests'
      DHCP clients; it re-reads ``paths.leases_file`` when ``netsot lab lease add`` changes it and writes
      the text it applied to ``<leases file>.applied``); returns a ``LabRunning``;
    * ``provider(paths, port, dns_port)`` — its block under ``providers:`` of the lab's ``netsot.yaml``
      (YAML lines indented four spaces, secrets as ``${file:secrets/…}`` references);
    * ``network(network)`` — its ``networks[].<kind>`` settings for a lab network (flow-mapping body,
      without braces and without ``instance``), or "" when it has none;
    * ``describe(paths, port)`` — its line in ``lab up``'s output (``ssh ubnt@127.0.0.1 -p 2222 …``);
    * optional ``shell = True`` — a router a person logs in to with the lab's SSH key (``netsot lab ssh``);
    * optional ``guests`` — a hypervisor's ``add(workdir, name, **options)``, ``rm``, ``set`` and ``restart``
      (``netsot lab guest …``, through the simulator's own API);
    * optional ``readonly`` — (pattern, replacement) pairs that turn its block of the lab's config into an
      identity that may read and not write (``netsot-readonly.yaml``, for ``netsot doctor``'s ✗ side).

    The lab's own operations work on every kind through the lab folder: ``lab lease add`` writes the
    site's ``router-leases.json`` (rows ``ip``, ``mac``, ``expires``, ``pool``, ``hostname``) that the
    router's ``start`` watches (``providers.lab.runner.LeaseWatcher``).
    """

    role: str
    process: str
    default: bool
    saves: tuple[str, ...]
    title: str

    def seed(self, paths: Any, labs: Sequence[Any]) -> None: ...

    def start(self, paths: Any, options: Mapping[str, Any]) -> LabRunning: ...

    def provider(self, paths: Any, port: int, dns_port: int | None) -> str: ...

    def network(self, network: Any) -> str: ...

    def describe(self, paths: Any, port: int) -> str: ...


@dataclass(frozen=True)
class InitSubnet:
    """A network as one system knows it, for ``netsot init``; ``settings`` are its ``networks[].<kind>``."""

    prefix: str
    name: str = ""  # a network name this system suggests ("" = none)
    gateway: str = ""
    domain: str = ""
    dhcp_range: tuple[str, str] | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""  # what the system calls it (a description), for a comment


@dataclass(frozen=True)
class InitPlacement:
    """Where a system puts addresses without knowing their network (a hypervisor's bridge and VLAN):
    ``netsot init`` gives ``settings`` to the network holding most of ``addresses`` ("a.b.c.d" or
    "a.b.c.d/len"; one with a length makes its network known even when no other system has it)."""

    settings: Mapping[str, Any]
    addresses: tuple[str, ...]
    label: str = ""  # e.g. "vmbr0 VLAN 20", for comments


@dataclass(frozen=True)
class InitSystem:
    """What ``netsot init`` learned from one system: its ``providers.<key>`` settings (YAML-ready values;
    secrets as ``${file:…}`` references) with a comment per setting, and what it knows of the networks."""

    key: str
    settings: Mapping[str, Any]
    comments: Mapping[str, str] = field(default_factory=dict)
    subnets: tuple[InitSubnet, ...] = ()
    placements: tuple[InitPlacement, ...] = ()
    notes: tuple[str, ...] = ()


@runtime_checkable
class InitUI(Protocol):
    """How a system's ``netsot init`` step talks to the person (or to ``--yes`` and the flags)."""

    @property
    def outdir(self) -> Any: ...  # the folder of the config being written (a Path)

    def ask(self, question: str, flag: str, *, default: str | None = None, secret: bool = False) -> str: ...

    def trust(self, what: str, fingerprint: str, pinned: str | None, flag: str) -> None: ...

    def secret(self, name: str, value: str) -> str: ...

    def write(self, name: str, text: str, mode: int = 0o644) -> str: ...

    def say(self, text: str) -> None: ...


@dataclass(frozen=True)
class InitHook:
    """A system's part of ``netsot init`` (see ``Hooks``)."""

    options: Callable[[], Sequence[Any]]  # click options, named after the system (--pve-url…)
    connect: Callable[[Mapping[str, Any], InitUI], InitSystem | None]


@dataclass(frozen=True)
class DoctorCheck:
    """One line of ``netsot doctor``: what was checked, whether it passed, and for a failure the exact
    fix (a command to run, a setting to change). ``needed=False``: advice, not a failure."""

    what: str
    ok: bool
    detail: str = ""
    fix: str = ""
    needed: bool = True


def _no_addresses(network: Network, name: str, key: str) -> Mapping[str, Address]:
    return EMPTY


@dataclass(frozen=True)
class SystemKind:
    """What a system declares about itself (one per package, in ``descriptor.py``)."""

    name: str  # the kind: "edgemax"
    title: str  # for people: "EdgeRouter (EdgeOS)"
    provider: str  # "module:Class" of the Provider, imported on first use
    settings: type[SystemSettings]
    network_settings: type[NetworkSettings]
    schema: str  # "module:file.json": its JSON Schema fragment (settings + per-network)
    secrets: tuple[str, ...] = ()  # settings fields that hold secrets
    # settings fields naming files (when they are strings) -> what the file is ("CA bundle"): each
    # must exist at load, and the provider gets it as an absolute path
    files: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    resource_types: tuple[ResourceType, ...] = ()
    # attribute ("ip", "hostname", "mac") -> rank in the default precedence (lower wins; absent: never)
    precedence: Mapping[str, int] = field(default_factory=lambda: EMPTY)
    binding_addresses: BindingAddresses = _no_addresses
    name_rule: NameRule | None = None
    insecure: InsecureCheck | None = None
    origins: bool = False  # its facts can create bindings (guests, IPAM hosts)
    check_label: str = ""  # how ``verify`` names its read-back checks ("router"); default: the kind
    location: str = ""  # where its objects live, for messages ("on the router"); default: "in <title>"
    # what a binding's origin object is here, for the status page's origin column ("guest NIC");
    # empty: no column of its own (its origins are one of its resource types, e.g. an IPAM host)
    origin_label: str = ""
    hooks: Hooks = Hooks()
    web_link: WebLink | None = None  # the status page's links out (None: the system has no web UI)

    def resource_type(self, name: str) -> ResourceType | None:
        for rtype in self.resource_types:
            if rtype.name == name:
                return rtype
        return None

    def role_type(self, role: str) -> ResourceType | None:
        for rtype in self.resource_types:
            if rtype.role == role:
                return rtype
        return None


@dataclass(frozen=True)
class PlanContext:
    """What the engine knows besides the observation: ownership, options and other systems.

    ``role_address(role, network, hostname)`` is the address of the resource that plays ``role``
    for that binding in the system serving its network (None when no configured system does):
    how a DHCP reservation names the IPAM record it depends on without naming the IPAM.
    """

    owned: Mapping[Address, ManagedResource] = field(default_factory=lambda: EMPTY)
    options: Mapping[str, Any] = field(default_factory=lambda: EMPTY)  # e.g. {"allow_prefix_create": True}
    roles: Callable[[str, str, str], Address | None] | None = None

    def is_owned(self, address: Address) -> bool:
        return address in self.owned

    def role_address(self, role: str, network: str, hostname: str) -> Address | None:
        return self.roles(role, network, hostname) if self.roles is not None else None


@runtime_checkable
class Provider(Protocol):
    """A system's read / plan / apply.

    Optional (looked up with ``getattr``, not part of the protocol): ``foresee(changes) ->
    Sequence[Conflict]`` — of the changes of this system the plan would send (after conflicts and
    ``--target``), those the system would refuse at commit under one of its own rules, as
    ``commit_rule`` conflicts whose ``blocked`` names them. The engine holds them and what waits for
    them (``engine.plan.foresight``), and applies the rest.
    """

    name: str

    def read(self) -> Observation: ...

    def plan(self, desired: Desired, observed: Observation, ctx: PlanContext) -> list[Change]: ...

    def apply(self, changes: Sequence[Change]) -> ApplyResult: ...

    def close(self) -> None: ...


__all__ = [
    "ROLE_ADDRESS",
    "ROLE_NETWORK",
    "Field",
    "Hooks",
    "PlanContext",
    "Provider",
    "ResourceType",
    "SystemKind",
    "WebLink",
]
