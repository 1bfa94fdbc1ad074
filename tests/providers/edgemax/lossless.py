"""A router model to apply netsot's plans to, and the check that nothing netsot does not own changed.

The model is the simulator's own: ``simrules.validate_path`` (what EdgeOS refuses, with its
messages) and ``simstore.set_path`` / ``delete_path`` over the shared config tree (EdgeOS's set and
delete semantics), the same code a `set`/`delete` typed over SSH runs. The check compares `show
configuration commands` before and after: every line outside the static mappings and host names
is unchanged and in order; every line a node holds besides the leaves netsot owns is unchanged on
a node that stays, and moves whole (same lines, same order) with a node that moves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.config import Config, Policy
from core.model import (
    Action,
    Address,
    Binding,
    Change,
    Desired,
    ManagedResource,
    Observation,
    Plan,
    frozen_map,
)
from core.names import short_name
from engine.plan.planner import context_for
from engine.plan.policy import apply_policy
from providers.edgemax import importer
from providers.edgemax.commands import apply_script
from providers.edgemax.extract import EdgeConfig, extract
from providers.edgemax.planner import HOST, MAPPING, observation_from_config, plan_edgemax
from providers.edgemax.sim.rules import commit_errors, validate_path
from providers.edgemax.sim.store import delete_path, set_path
from providers.importing import ImportPlan
from providers.vyatta.render import quote_command_word, render_commands
from providers.vyatta.tree import Tree


@dataclass
class _Holder:
    """What ``simstore.set_path`` / ``delete_path`` work on: the session's working tree."""

    working: Tree


def run_lines(tree: Tree, lines: Iterable[str]) -> Tree:
    """Apply `set`/`delete` lines as the simulated router does; a refused line raises ``Rejected``."""
    import shlex

    holder = _Holder(tree)
    for line in lines:
        verb, *words = shlex.split(line)
        validate_path(words, verb.capitalize())
        if verb == "set":
            set_path(holder, words)  # type: ignore[arg-type]
        else:
            delete_path(holder, words)  # type: ignore[arg-type]
    return holder.working


@dataclass
class Router:
    """One router config, read the way the provider reads it."""

    config: Config
    tree: Tree
    cfg: EdgeConfig = field(init=False)
    observation: Observation = field(init=False)

    def __post_init__(self) -> None:
        self.cfg = extract(self.tree)
        self.observation = observation_from_config(self.cfg, self.config)


def adopt_all(router: Router) -> tuple[dict[Address, ManagedResource], list[Binding], ImportPlan]:
    """What `netsot import edgemax` records (owned objects) and the bindings it stands for."""
    plan = importer.adopt(router.config, "edgemax", router.observation, {})
    owned = {Address.parse(r["address"]): ManagedResource(Address.parse(r["address"]), r["provider_id"],
                                                          frozen_map(r["attributes"]), origin="import")
             for r in plan.records()}
    bindings: dict[tuple[str, str], Binding] = {}
    facts = {str(f.address): f for f in router.observation.facts if f.address is not None}
    domains = {n.name: n.domain for n in router.config.networks}
    for c in plan.claims:
        prev = bindings.get((c.network, c.hostname))
        mac = c.mac or (prev.mac if prev else None)
        # every name of the address the router gives it, as reconcile resolves them
        names = facts[c.address].aliases or () if c.address in facts else ()
        shorts = (short_name(n.lower(), domains.get(c.network)) for n in names)
        aliases = tuple(dict.fromkeys(a for a in shorts if a != c.hostname))
        aliases = aliases or (prev.aliases if prev else ())
        bindings[(c.network, c.hostname)] = Binding(c.network, c.hostname, mac, str(c.ip), origin="import",
                                                    aliases=aliases)
    return owned, list(bindings.values()), plan


DEFAULT_POLICY = Policy()


def plan_for(router: Router, bindings: Sequence[Binding], owned: Mapping[Address, ManagedResource],
             policy: Policy = DEFAULT_POLICY) -> tuple[list[Change], list[Change]]:
    """(runnable, held) changes of the router for ``bindings``, after the safety policy (change
    thresholds lifted, as with ``--force``: they count changes, and these tests make many)."""
    changes = plan_edgemax(router.config, Desired(tuple(bindings)), router.cfg, router.observation,
                           context_for(router.config, owned))
    result = apply_policy(Plan(changes=tuple(changes)), policy, owned, force=True)
    return list(result.plan.changes), [h.change for h in result.plan.held]


def apply_changes(tree: Tree, changes: Sequence[Change]) -> Tree:
    return run_lines(tree, apply_script(changes)) if changes else tree


def owned_after(
    owned: Mapping[Address, ManagedResource], applied: Sequence[Change]
) -> dict[Address, ManagedResource]:
    """The state after ``applied``: what netsot records for each change."""
    out = dict(owned)
    for c in applied:
        if c.action is Action.DELETE:
            out.pop(c.address, None)
        elif c.after is not None:
            prev = out.get(c.address)
            out[c.address] = ManagedResource(c.address, c.provider_id, c.after,
                                             origin=prev.origin if prev else c.origin or "import")
    return out


# ------------------------------------------------------------------ the check


def _paths(observation: Observation) -> dict[tuple[str, ...], set[str] | None]:
    """Each managed node's path → the relative `set` lines netsot owns on it (None: a mapping, whose
    owned leaves are its single-valued ``ip-address`` and ``mac-address``, however spelled)."""
    out: dict[tuple[str, ...], set[str] | None] = {}
    for address, res in observation.resources.items():
        if address.type not in (MAPPING, HOST) or not res.provider_id:
            continue
        a = res.attributes
        own: set[str] | None = None
        if address.type == HOST:
            own = {f"alias {quote_command_word(x)}" for x in a.get("aliases", ())}
            if a.get("inet"):
                own.add(f"inet {quote_command_word(str(a['inet']))}")
        out[tuple(res.provider_id.split(" "))] = own
    return out


def _owned_line(rest: str, own: set[str] | None) -> bool:
    if own is None:
        return rest.startswith(("ip-address ", "mac-address "))
    return rest in own


@dataclass(frozen=True)
class Split:
    outside: tuple[str, ...]  # lines outside every managed node, in order
    kept: dict[tuple[str, ...], tuple[str, ...]]  # node path → the lines it holds besides netsot's


def split(tree: Tree, observation: Observation, also: Iterable[tuple[str, ...]] = ()) -> Split:
    paths = _paths(observation)
    nodes = sorted(set(paths) | set(also), key=len, reverse=True)
    outside: list[str] = []
    kept: dict[tuple[str, ...], list[str]] = {p: [] for p in paths}
    for line in render_commands(tree).splitlines():
        words = line.split(" ")
        node = next((p for p in nodes if tuple(words[1 : 1 + len(p)]) == p), None)
        if node is None:
            outside.append(line)
            continue
        rest = " ".join(words[1 + len(node) :])
        if not _owned_line(rest, paths.get(node)):
            kept.setdefault(node, []).append(rest)
    return Split(tuple(outside), {p: tuple(v) for p, v in kept.items()})


def assert_nothing_unowned_changed(before: Router, after_tree: Tree, applied: Sequence[Change] = ()) -> None:
    """Only owned leaves changed; a node's other lines are gone only where an applied change said
    so in its ``loses`` (a delete the user allowed with ``policy.delete_unmodelled``)."""
    after = Router(before.config, after_tree)
    both = set(_paths(before.observation)) | set(_paths(after.observation))
    old, new = split(before.tree, before.observation, both), split(after_tree, after.observation, both)
    # EdgeOS leaves an emptied parent in place (§2.2: `delete … stop` leaves an empty `start`): a
    # parent of the nodes netsot manages that lost its last child is structure, not a user's line
    parents = {" ".join(("set", *p[:n])) for p in both for n in range(1, len(p))}
    if [x for x in old.outside if x not in parents] != [x for x in new.outside if x not in parents]:
        diff = sorted(set(old.outside) ^ set(new.outside))[:6]
        raise AssertionError(f"a line outside the mappings and host names changed: {diff}")
    for path in set(old.kept) & set(new.kept):
        assert old.kept[path] == new.kept[path], f"{' '.join(path)}: what netsot does not own changed"
    declared = {tuple(c.provider_id.split(" ")): c.loses for c in applied
                if c.action is Action.DELETE and c.loses and c.provider_id}
    for path, loses in declared.items():
        lost = old.kept.get(path)
        assert lost == loses, f"{' '.join(path)} lost {lost}, the plan said {loses}"
    gone = Counter(v for p, v in old.kept.items() if p not in new.kept and v and p not in declared)
    came = Counter(v for p, v in new.kept.items() if p not in old.kept and v)
    assert gone == came, f"kept lines lost or invented by a move: {gone - came} / {came - gone}"


def assert_commits(before: Tree, after: Tree) -> None:
    """Netsot's lines never make a commit fail that did not fail before."""
    new = [e for e in commit_errors(after) if e not in commit_errors(before)]
    assert new == [], new


def kept_of(router: Router, address: str) -> Any:
    return router.observation.resources[Address.parse(address)].kept
