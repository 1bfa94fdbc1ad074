"""The EdgeMax provider: read, plan and apply against one EdgeRouter over one SSH session.

Owns: wiring the session (I/O) to the pure modules — ``parse``/``extract``/``leases`` for read,
``planner`` for plan, ``commands`` for the apply script — and turning one configure session into
one outcome per change (all applied, or all failed with the router's own message).
Must not: build command lines, parse output or touch scrapli itself (``session`` does the I/O).
"""

from __future__ import annotations

from collections.abc import Sequence

from core.config import Config, system_key
from core.errors import ConfigError, ProviderError, ProviderRejected
from core.model import ApplyResult, Change, ChangeOutcome, Conflict, Desired, Observation
from providers.base import PlanContext
from providers.diffing import Wanted, Wanting
from providers.edgemax import commands, commitrules, extract, leases, planner
from providers.edgemax.extract import EdgeConfig
from providers.edgemax.session import EdgeSession
from providers.edgemax.settings import EdgemaxSettings
from providers.vyatta import parse
from providers.vyatta.tree import Tree


class EdgemaxProvider(Wanting):
    """``Provider`` for an EdgeRouter; construction does no I/O, the session opens on first use."""

    name = "edgemax"

    def __init__(self, config: Config, settings: EdgemaxSettings | None = None, instance: str = "") -> None:
        self.key = system_key("edgemax", instance)
        settings = settings if settings is not None else config.providers.get(self.key)
        if settings is None:
            raise ConfigError(f"providers.{self.key} is not configured")
        self.config = config
        self.settings = settings
        self._session: EdgeSession | None = None
        self._observed_cfg: EdgeConfig | None = None
        self._observed_tree: Tree | None = None  # the router's configuration as last read / applied

    @property
    def session(self) -> EdgeSession:
        if self._session is None:
            self._session = EdgeSession(self.settings, self.config)
        return self._session

    def read(self) -> Observation:
        """`show configuration commands` + `show dhcp leases` + `compare saved` over the one session.

        `compare saved` (in config mode, left with `exit discard`) finds committed changes that
        were never saved, e.g. by an apply killed between its commit and its save; a router that
        refuses it reads fine, with a warning and without the ``edgemax_config.saved`` object.
        """
        commands_text = self.session.show_commands()
        leases_text = self.session.show_leases()
        saved = self.session.compare_saved()
        tree = parse.parse_any(commands_text, "show configuration commands")
        cfg = extract.extract(tree)
        self._observed_tree = tree
        table = leases.read_show_leases(leases_text)
        observed_leases = list(table.leases)
        self._observed_cfg = cfg
        warnings = (f"{planner.label(self.key)}: {saved.warning}",) if saved.refused else ()
        warnings += tuple(f"{planner.label(self.key)}: {problem}" for problem in table.unusable)
        return planner.observation_from_config(cfg, self.config, observed_leases, saved.diff, self.key,
                                               warnings)

    def wants(self, desired: Desired, observed: Observation, ctx: PlanContext) -> Wanted:
        """What the router should hold, for the shared diff (``providers.diffing``)."""
        # the planner picks subnets from the router's shared networks as last read; without a
        # read on this instance it falls back to the configured networks (no I/O in plan)
        cfg = self._observed_cfg if self._observed_cfg is not None else extract.extract(Tree.empty())
        return planner.wanted_edgemax(self.config, desired, cfg, observed, ctx, self.key)

    def foresee(self, changes: Sequence[Change]) -> list[Conflict]:
        """The changes of ``changes`` (this router's, as the plan would send them) that break one
        of EdgeOS's commit rules, as ``commit_rule`` conflicts (the engine holds them)."""
        cfg = self._observed_cfg if self._observed_cfg is not None else extract.extract(Tree.empty())
        networks = {}
        for n in self.config.networks_of(self.key):
            own = n.settings_for("edgemax")
            if own is not None:
                networks.setdefault(own.shared_network, n.name)
        multi = commitrules.inet_multi(cfg, self.settings.inet_values)
        return commitrules.foresee(cfg, changes, self.key, multi=multi, networks=networks)

    def apply(self, changes: Sequence[Change]) -> ApplyResult:
        """Every change in ONE configure session: all applied, or all failed (nothing saved)."""
        if not changes:
            return ApplyResult()
        try:
            lines = commands.apply_script(list(changes))
        except ProviderRejected as err:  # a value failed our own validation: nothing is sent
            return self._failed(changes, str(err), (str(err),))
        self.session.open()  # unreachable / refused credentials: the whole run stops (raises)
        try:
            # the `saved` pseudo-resource has no line: it asks the session to save regardless
            saved = planner.saved_address(self.key)
            result = self.session.configure(lines, save=any(c.address == saved for c in changes),
                                            before=self._observed_tree)
        except ProviderRejected as err:
            self._observed_tree = None  # unknown now (e.g. changed behind netsot's back): read it anew
            return self._failed(changes, str(err), (str(err),))
        except ProviderError as err:
            # the connection died mid-apply: nothing was saved, the router dropped the session;
            # the next run re-reads and converges
            self._observed_tree = None
            return self._failed(changes, str(err), (str(err),))
        self._observed_tree = result.after
        log = tuple(x for x in (result.compare, *result.notes, result.commit_output) if x)
        outcomes = tuple(
            ChangeOutcome(
                address=c.address,
                status="applied",
                provider_id=c.provider_id,
                attributes=c.after,
            )
            for c in changes
        )
        return ApplyResult(outcomes=outcomes, log=log)

    @staticmethod
    def _failed(changes: Sequence[Change], error: str, log: tuple[str, ...]) -> ApplyResult:
        return ApplyResult(
            outcomes=tuple(
                ChangeOutcome(c.address, "failed", error=error, provider_id=c.provider_id) for c in changes
            ),
            log=log,
        )

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None
