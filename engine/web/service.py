"""``netsot serve``: the level-triggered loop that keeps the systems in sync.

Owns: the run loop (read → plan → policy → apply what is allowed), its timing
(interval + jitter, exponential backoff per failing system), the clean stop on
SIGTERM/SIGINT, structured logs, the metrics, and what its HTTP side serves (``engine.web``: the
status page of the latest run, /healthz, /metrics, /plan).
Must not: bypass the state lock or the safety policy; it never runs two applies at once.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import random
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from core.config import Config
from core.errors import NetsotError, ProviderError, StateLocked
from engine.observe import NullObserver
from engine.safetext import VisibleFormatter

log = logging.getLogger("netsot.service")


READ_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)  # seconds per system read


@dataclass
class Metrics:
    """What the service counts, exposed through a ``prometheus_client`` registry of its own.

    The fields are the record (/healthz and the logs read them too); ``_Collector`` turns them
    into metric families at scrape time, so the exposition is prometheus_client's, with exact
    values (a timestamp keeps every digit). Read durations go into a real histogram.
    """

    runs: dict[str, int] = field(default_factory=dict)  # result -> count
    applied: dict[tuple[str, str], int] = field(default_factory=dict)  # (system, action) -> count
    errors: dict[str, int] = field(default_factory=dict)  # system -> count
    retries: dict[str, int] = field(default_factory=dict)  # system -> calls resent (transient faults)
    held: dict[str, int] = field(default_factory=dict)  # gate -> count (last run)
    up: dict[str, int] = field(default_factory=dict)  # system -> 1 if its last read succeeded
    conflicts: int = 0
    drift: int = 0
    pending: int = 0
    last_duration: float = 0.0
    last_success: float | None = None
    last_error: str | None = None
    version: str = ""
    # the last run's plan and when it was made: its document (``plan_document``, /plan) is rendered
    # when first asked for, not after every run (at 1,000 guests that costs as much as the plan)
    _plan: Any = field(default=None, repr=False)
    _plan_at: str = ""
    _plan_doc: dict[str, Any] | None = field(default=None, repr=False)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    registry: CollectorRegistry = field(init=False, repr=False)
    _reads: Histogram = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)  # per service: tests start many
        self.registry.register(_Collector(self))
        # resident memory, open fds, CPU seconds, start time: what a leak is watched by (Linux /proc)
        ProcessCollector(registry=self.registry)
        self._reads = Histogram("netsot_read_duration_seconds", "Duration of each system's read.",
                                ["system"], buckets=READ_BUCKETS, registry=self.registry)

    def read_finished(self, system: str, seconds: float, ok: bool) -> None:
        self._reads.labels(system=system).observe(seconds)
        with self.lock:
            self.up[system] = 1 if ok else 0

    def render(self) -> str:
        return generate_latest(self.registry).decode("utf-8")

    def record_plan(self, plan: Any) -> None:
        """The last run's plan (the caller holds ``lock``); its document says it was made now."""
        from engine.plan.document import _now

        self._plan, self._plan_at, self._plan_doc = plan, _now(), None

    @property
    def plan_document(self) -> dict[str, Any] | None:
        """The last run's plan document (the caller holds ``lock``), rendered once, when first asked."""
        if self._plan_doc is None and self._plan is not None:
            from engine.plan.document import plan_document
            from engine.runtime import NETSOT_VERSION

            self._plan_doc = plan_document(self._plan, netsot_version=NETSOT_VERSION,
                                           created_at=self._plan_at)
        return self._plan_doc


class _Collector:
    """The service's record as metric families, built under its lock at every scrape."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Metric]:
        m = self.metrics
        with m.lock:
            runs = {(r,): m.runs.get(r, 0) for r in sorted({"ok", "partial", "error", *m.runs})}
            yield _family(GaugeMetricFamily, "netsot_build_info", "The running netsot (always 1).",
                          ["version"], {(m.version,): 1})
            yield _family(CounterMetricFamily, "netsot_runs", "Service runs by result.", ["result"], runs)
            applied = dict(sorted(m.applied.items()))
            yield _family(CounterMetricFamily, "netsot_changes_applied",
                          "Changes applied by system and action.", ["system", "action"], applied)
            yield _family(CounterMetricFamily, "netsot_apply_retries",
                          "Calls resent during apply after a transient fault or a lost race, by system.",
                          ["system"], _keyed(m.retries))
            yield _family(CounterMetricFamily, "netsot_errors", "Failed runs by the system that failed.",
                          ["system"], _keyed(m.errors))
            yield _family(GaugeMetricFamily, "netsot_up", "1 if the last read of the system succeeded.",
                          ["system"], _keyed(m.up))
            yield _family(GaugeMetricFamily, "netsot_held_changes",
                          "Changes held back by a policy gate in the last run.", ["gate"], _keyed(m.held))
            for name, doc, value in (
                ("netsot_conflicts", "Conflicts in the last plan.", m.conflicts),
                ("netsot_drift", "Objects changed outside netsot in the last plan.", m.drift),
                ("netsot_pending_changes", "Changes the last plan wanted to make.", m.pending),
                ("netsot_run_duration_seconds", "Duration of the last run.", m.last_duration),
                ("netsot_last_success_timestamp_seconds", "Unix time of the last successful run.",
                 m.last_success),
            ):
                if value is not None:  # no timestamp before the first success
                    yield _family(GaugeMetricFamily, name, doc, [], {(): value})


def _keyed(values: Mapping[str, float]) -> dict[tuple[str, ...], float]:
    return {(k,): v for k, v in sorted(values.items())}


def _family(kind: type[CounterMetricFamily] | type[GaugeMetricFamily], name: str, doc: str, labels: list[str],
            values: Mapping[tuple[str, ...], float]) -> Metric:
    family = kind(name, doc, labels=labels)
    for key, value in values.items():
        family.add_metric(list(key), value)
    return family


class ReadObserver(NullObserver):
    """Feeds the service's metrics from the engine's read events: duration and up/down per system."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics
        self.failed: set[str] = set()

    def read_failed(self, system: str, error: BaseException) -> None:
        self.failed.add(system)
        with self.metrics.lock:
            self.metrics.up[system] = 0

    def read_finished(self, system: str, seconds: float) -> None:
        self.metrics.read_finished(system, seconds, ok=system not in self.failed)


class _Both(NullObserver):
    """Reports the read events to the metrics and to the page's health record."""

    def __init__(self, *observers: Any) -> None:
        self.observers = observers

    def read_failed(self, system: str, error: BaseException) -> None:
        for o in self.observers:
            o.read_failed(system, error)

    def read_finished(self, system: str, seconds: float) -> None:
        for o in self.observers:
            o.read_finished(system, seconds)


@dataclass(frozen=True)
class ServiceOptions:
    interval: float = 300.0
    jitter: float = 0.1  # fraction of the interval
    backoff_max: float = 3600.0
    once: bool = False
    listen: str | None = None  # "127.0.0.1:9107"
    force: bool = False
    stale_after: float | None = None  # /healthz turns 503 this long after the last success
    force_state: bool = False  # --force-state: accept a state file older than its backup
    lock_timeout: float = 0.0  # --lock-timeout: how long a run waits for a state lock another run holds
    token: str | None = field(default=None, repr=False)  # --token-file: the bearer token HTTP requires
    watch_interval: float = 1.0  # --watch-interval: seconds between the watch's polls (0: no watch)

    def stale_limit(self) -> float:
        """Seconds without a successful run before /healthz reports "stale" (default 3 intervals, >= 60s)."""
        return self.stale_after if self.stale_after is not None else max(3 * self.interval, 60.0)


class Service:
    """One service instance: ``run_once()`` is a full cycle; ``serve()`` loops until stopped."""

    def __init__(self, config: Config, options: ServiceOptions, *, clock: Callable[[], float] = time.time):
        self.config = config
        self.options = options
        from engine.runtime import NETSOT_VERSION

        self.metrics = Metrics(version=NETSOT_VERSION)
        self.stop_event = threading.Event()
        self.failures: dict[str, int] = {}  # consecutive failures per system
        self._clock = clock
        self._http: Any = None  # engine.web.app.Server
        self._view: Any = None  # engine.web.app.View of the latest run
        self._health: dict[str, Any] = {}  # system -> status.ReadHealth
        self.next_at: float | None = None
        self._causes: set[str] = set()  # the unexpected failures whose traceback was logged
        self._events: Any = None  # engine.web.events.Events while serve() watches (--watch-interval)
        # the state backend of every run: a file backend re-reads the state only when the file changed, so
        # an event's run does not parse and validate thousands of resources again
        self._backend: Any = None

    # -- one cycle -----------------------------------------------------------------
    def run_once(self, events: Any = None) -> bool:
        """Read, plan, apply what the policy allows. Returns True on success.

        With ``events`` (``engine.web.events.Events``) it is a partial run: the observations are the cache
        of the last read with only what changed read again; everything else is the same."""
        from engine import runtime, workflow  # lazy: keeps `netsot --help` fast
        from engine.plan.planner import read_all

        started = self._clock()
        try:
            if self._backend is None:
                self._backend = runtime.open_backend(self.config, force=self.options.force_state)
            backend = self._backend
            health = workflow.HealthObserver(self._clock, self._health)
            with backend.lock("serve", timeout=self.options.lock_timeout), \
                    runtime.open_providers(self.config) as providers:
                state = backend.load()
                try:
                    if events is not None:
                        observations = events.observations(providers)
                    else:
                        observations = read_all(providers, _Both(ReadObserver(self.metrics), health))
                        if self._events is not None:
                            self._events.full_read(providers, observations)
                finally:
                    self._health = health.health
                result = workflow.plan_run(self.config, providers, state, force=self.options.force,
                                           service=True, observations=observations)
                state = workflow.record_approval(backend, state, result)
                report = None
                adopt = any(d.resolution == "adopt" for d in result.plan.drift)
                if (result.plan.changes or adopt) and not self.stop_event.is_set():
                    report = workflow.apply_run(result.plan, providers, backend, state)
                if self._events is not None:
                    self._events.applied(result.plan, report)
                self._record(result, report, started)
                self._publish(backend, result, report, observations)
                fields = {**self._summary(result, report),
                          "duration_seconds": round(self._clock() - started, 3)}
                if events is not None:
                    fields["trigger"] = list(events.trigger)
                log.info("event run finished" if events is not None else "run finished",
                         extra={"fields": fields, "detail": run_detail(fields)})
                return report is None or not report.failed
        except StateLocked as exc:
            self._fail("lock", exc, started, count_failure=False)
        except ProviderError as exc:
            self._fail(exc.system, exc, started)
        except NetsotError as exc:
            self._fail("netsot", exc, started)
        except Exception as exc:  # a bug or a library's surprise fails this cycle, not the service
            self._fail_unexpected(exc, started)
        return False

    def _publish(self, backend: Any, result: Any, report: Any, observations: Any) -> None:
        """The status page's view of this run (built once here, served until the next run)."""
        self._lock_warned = False  # this cycle held the lock: a later skipped cycle warns again
        from engine.apply import history
        from engine.report import status
        from engine.web import app as web

        now = self._clock()
        applied: dict[str, str] = {}
        if report is not None:
            applied.update({str(o.address): "applied" for o in report.applied})
            applied.update({str(o.address): o.error or "failed" for o in report.failed})
            applied.update({str(o.address): o.error or "skipped" for o in report.skipped})
        outcome = "ok" if report is None or not report.failed else "partial"
        run = status.RunInfo("serve", now, outcome, None, len(report.applied) if report else 0,
                             len(report.failed) if report else 0)
        health = tuple(self._health[k] for k in sorted(self._health))
        snapshot = status.Snapshot(self.config, result.plan, observations, now, health, run,
                                   history.load_verify(history.record_of(backend, history.VERIFY)),
                                   tuple(history.read(history.record_of(backend, history.HISTORY))), applied)
        self._view = web.View(snapshot, status.build(snapshot), health, run, "", self.options.stale_limit(),
                              "serve")

    def view(self) -> Any:
        """The page's view now: the latest good run, with the current read health and last error."""
        from engine.web import app as web

        health = tuple(self._health[k] for k in sorted(self._health))
        with self.metrics.lock:
            error = self.metrics.last_error or ""
        base = self._view
        if base is None:
            return web.View(None, None, health, None, error, self.options.stale_limit(), "serve")
        run = base.run
        if run is not None and self.next_at is not None:
            from dataclasses import replace

            run = replace(run, next_at=self.next_at)
        return web.View(base.snapshot, base.matrix, health, run, error, base.stale_after, "serve")

    def _record(self, result: Any, report: Any, started: float) -> None:
        m = self.metrics
        with m.lock:
            outcome = "ok" if report is None or not report.failed else "partial"
            m.runs[outcome] = m.runs.get(outcome, 0) + 1
            if report is not None:
                for o in report.applied:
                    key = (o.address.system, _action_of(result.plan, o.address))
                    m.applied[key] = m.applied.get(key, 0) + 1
                for system, n in getattr(report, "retries", {}).items():
                    m.retries[system] = m.retries.get(system, 0) + n
            m.held = {}
            for h in result.plan.held:
                m.held[h.gate] = m.held.get(h.gate, 0) + 1
            m.conflicts = len(result.plan.conflicts)
            m.drift = len(result.plan.drift)
            m.pending = len(result.plan.changes) + len(result.plan.held)
            m.last_duration = self._clock() - started
            m.record_plan(result.plan)
            if outcome == "ok":
                m.last_success = self._clock()
                m.last_error = None
                self.failures.clear()

    def _fail(self, system: str, exc: Exception, started: float, *, count_failure: bool = True,
              logged: bool = False) -> None:
        m = self.metrics
        with m.lock:
            m.runs["error"] = m.runs.get("error", 0) + 1
            m.errors[system] = m.errors.get(system, 0) + 1
            m.last_error = str(exc)
            m.last_duration = self._clock() - started
        if count_failure:
            self.failures[system] = self.failures.get(system, 0) + 1
        if isinstance(exc, StateLocked):
            self._skipped_locked(exc)
            return
        if not logged:
            log.error("run failed: %s", exc, extra={"fields": {"system": system}})

    def _fail_unexpected(self, exc: Exception, started: float) -> None:
        """A failure no part of netsot foresaw: counted and backed off like any other (system
        ``internal``), logged at ERROR with its traceback the first time its cause is seen, and in one
        line when the same cause comes back (a loop failing every cycle does not flood the log)."""
        cause = failure_cause(exc)
        first = cause not in self._causes
        self._causes.add(cause)
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        self._fail("internal", RuntimeError(f"unexpected error: {text}"), started, logged=True)
        fields = {"system": "internal", "error_type": type(exc).__name__, "cause": cause}
        if first:
            log.error("run failed with an unexpected error: %s", text, exc_info=exc, extra={"fields": fields})
        else:
            log.error("run failed with an unexpected error: %s (the same cause as before; its traceback "
                      "was logged once)", text, extra={"fields": fields})

    def _skipped_locked(self, exc: StateLocked) -> None:
        """Another process holding the state lock is not an error of this one: one warning while it lasts
        (then a debug line per skipped cycle); a cycle that gets the lock again ends the episode."""
        if getattr(self, "_lock_warned", False):
            log.debug("cycle skipped: %s", exc, extra={"fields": {"system": "lock"}})
            return
        self._lock_warned = True
        log.warning("another process holds the state lock (%s); skipping cycles until it is released — is a "
                    "second `netsot serve` running on this state?", exc, extra={"fields": {"system": "lock"}})

    @staticmethod
    def _summary(result: Any, report: Any) -> dict[str, Any]:
        return {
            "planned": len(result.plan.changes),
            "held": len(result.plan.held),
            "conflicts": len(result.plan.conflicts),
            "drift": len(result.plan.drift),
            "applied": len(report.applied) if report else 0,
            "failed": len(report.failed) if report else 0,
            "skipped": len(report.skipped) if report else 0,
            "retries": sum(getattr(report, "retries", {}).values()) if report else 0,
        }

    # -- timing --------------------------------------------------------------------
    def next_delay(self, rng: random.Random | None = None) -> float:
        """Interval ± jitter; after failures, exponential backoff on the worst failing system."""
        rng = rng or random.Random()
        base = self.options.interval
        worst = max(self.failures.values(), default=0)
        if worst:
            base = min(self.options.backoff_max, self.options.interval * (2 ** (worst - 1)))
        spread = base * self.options.jitter
        return max(0.0, base + rng.uniform(-spread, spread))

    # -- loop ------------------------------------------------------------------------
    def serve(self) -> int:
        self._install_signals()
        if self.options.listen:
            self.start_http(self.options.listen)
        if not self.options.once and self.options.watch_interval > 0:
            from engine.web.events import Events

            self._events = Events(self.config, self.options.watch_interval)
            self._events.start()
        try:
            while not self.stop_event.is_set():
                ok = self.run_once()
                if self.options.once:
                    return 0 if ok else 1
                delay = self.next_delay()
                self.next_at = self._clock() + delay
                worst = max(self.failures.values(), default=0)
                if worst:
                    log.info("next run in %.1f s (backing off after %d failed run(s) in a row)", delay, worst,
                             extra={"fields": {"delay_s": round(delay, 3), "failed_runs": worst}})
                if self._events is not None:
                    self._events.wait(self, delay)  # polls, and runs on what changed, until the next full run
                else:
                    self.stop_event.wait(delay)
            return 0
        finally:
            if self._events is not None:
                self._events.close()
            self.stop_http()
            log.info("stopped")

    def stop(self) -> None:
        self.stop_event.set()

    def _install_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return

        def handler(signum: int, _frame: Any) -> None:
            log.info("received %s: finishing the current step, then stopping", signal.Signals(signum).name)
            self.stop_event.set()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    # -- HTTP ------------------------------------------------------------------------
    def start_http(self, listen: str) -> tuple[str, int]:
        """Serve the status page and the endpoints on ``listen`` (``engine.web``); returns the bound
        address."""
        from engine.web import app as web

        def plan() -> dict[str, Any] | None:
            with self.metrics.lock:
                return self.metrics.plan_document

        endpoints = web.Endpoints(view=self.view, health=self.health, plan=plan, metrics=self.metrics.render,
                                  token=self.options.token, web=self.config.web)
        self._http = web.Server(web.make_app(endpoints), listen, self.config.web)
        host, port = self._http.start()
        log.info("listening on http://%s:%s", host, port)
        return host, port

    def authorized(self, header: str | None) -> bool:
        """Whether a request with this ``Authorization`` header may see the guarded endpoints: always
        without a token, else a matching ``Bearer`` token (compared in constant time)."""
        token = self.options.token
        if token is None:
            return True
        scheme, _, given = (header or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())

    def stop_http(self) -> None:
        if self._http is not None:
            self._http.stop()
            self._http = None

    def health(self) -> tuple[int, dict[str, Any]]:
        m = self.metrics
        with m.lock:
            if m.last_success is None:
                return 503, {"status": "starting" if not m.runs else "failing", "last_error": m.last_error}
            age = self._clock() - m.last_success
            healthy = age <= self.options.stale_limit()
            body = {
                "status": "ok" if healthy else "stale",
                "last_success_age_seconds": round(age, 3),
                "last_error": m.last_error,
            }
            return (200 if healthy else 503), body


def failure_cause(exc: BaseException) -> str:
    """What makes two unexpected failures the same: the exception's type and the line that raised it
    (its message may carry ids or addresses that change every time)."""
    import traceback

    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {os.path.basename(frames[-1].filename)}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__module__}.{type(exc).__qualname__}{where}"


def _action_of(plan: Any, address: Any) -> str:
    for change in plan.changes:
        if change.address == address:
            return change.action.value
    return "unknown"


def run_detail(fields: Mapping[str, Any]) -> str:
    """``planned 3, applied 3, held 0, conflicts 1, duration 1.2s`` (the text log's view of a run)."""
    text = (f"planned {fields['planned']}, applied {fields['applied']}, held {fields['held']}, "
            f"conflicts {fields['conflicts']}")
    if fields.get("failed"):
        text += f", failed {fields['failed']}"
    if fields.get("skipped"):
        text += f", skipped {fields['skipped']}"
    return text + f", duration {fields.get('duration_seconds', 0):.1f}s"


class TextFormatter(VisibleFormatter):
    """The text log: a record's ``detail`` (the counts of a run) follows its message."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        detail = getattr(record, "detail", "")
        if not detail:
            return super().formatMessage(record)
        clean = logging.makeLogRecord(record.__dict__)
        clean.msg, clean.args = f"{record.getMessage()}: {detail}", ()
        clean.message = clean.msg
        return super().formatMessage(clean)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg and any ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        data.update(getattr(record, "fields", {}) or {})
        if record.exc_info:  # the traceback stays in the one line, as a field
            data["traceback"] = self.formatException(record.exc_info)
        return json.dumps(data, sort_keys=True, default=str)


def setup_logging(fmt: str = "text", level: int = logging.INFO) -> None:
    """One handler on the root logger, so library records (scrapli, urllib3, warnings) share the format.

    In ``json`` mode every line on stderr must parse, so nothing may bypass this handler.
    Other libraries log at WARNING and above; netsot's own loggers at ``level``.
    """
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    ours = logging.getLogger("netsot")
    ours.handlers[:] = []
    ours.setLevel(level)
    ours.propagate = True
    logging.captureWarnings(True)

    def thread_crashed(args: threading.ExceptHookArgs) -> None:
        name = args.thread.name if args.thread else "?"
        log.error("thread %s crashed: %s: %s", name, args.exc_type.__name__, args.exc_value)

    threading.excepthook = thread_crashed


MIN_TOKEN_LENGTH = 16  # a shorter bearer token is refused at start-up


def read_token(path: str) -> str:
    """The bearer token in ``path``: a private (0600-like), non-empty file; anything else is refused."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError as err:
        raise NetsotError(f"--token-file {path}: cannot read it: {err.strerror}") from None
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise NetsotError(f"--token-file {path} is readable by group or others (mode "
                              f"{stat.S_IMODE(mode):04o}); make it private: chmod 600 {path}")
        try:
            token = handle.read().decode("utf-8").strip()
        except UnicodeDecodeError:
            raise NetsotError(f"--token-file {path} is not UTF-8 text") from None
    if not token:
        raise NetsotError(f"--token-file {path} is empty; put the bearer token in it")
    if any(c.isspace() for c in token):
        raise NetsotError(f"--token-file {path} holds more than one word; a bearer token has no spaces")
    if len(token) < MIN_TOKEN_LENGTH:
        raise NetsotError(f"--token-file {path} holds a token of {len(token)} characters; use at least "
                          f"{MIN_TOKEN_LENGTH} (e.g. `openssl rand -hex 24 > {path}`)")
    return token


def run(config: Config, options: ServiceOptions, log_format: str = "text") -> int:
    """Entry point used by ``netsot serve``."""
    setup_logging(log_format)
    return Service(config, options).serve()
