"""serve's event path over the in-test provider: the partial run plans from the cache (never from an
empty observation), reads again only what changed or what netsot changed, and a failed run leaves no
cache to plan from."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from core.errors import NetsotError, ProviderError
from core.model import Observation
from engine.config.load import load_config
from engine.web.events import Events
from engine.web.service import Service, ServiceOptions
from providers.registry import register, unregister

from .._fake import CONFIG, PASSWORD, FakeSystem, fake_provider


@pytest.fixture()
def setup(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("NETSOT_TEST_NIPAP_PASSWORD", PASSWORD)
    path = tmp_path / "netsot.yaml"
    path.write_text(CONFIG)
    system = FakeSystem()
    register("nipap", fake_provider(system))
    try:
        config = load_config(path)
        service = Service(config, ServiceOptions(watch_interval=0.01))
        events = Events(config, 0.01)  # no start(): the test gives it its watchers
        service._events = events
        yield service, events, system
    finally:
        unregister("nipap")


class FakeWatch:
    """A watcher that reports the notes it is given, and counts what the events asked of it."""

    def __init__(self, *notes: list[str], fresh: Observation | None = None,
                 fail: BaseException | None = None) -> None:
        self.notes = list(notes)
        self.fresh = fresh
        self.fail = fail
        self.refreshed = 0
        self.applied_changes: list[Any] = []

    def poll(self) -> list[str]:
        if self.fail is not None:
            raise self.fail
        return self.notes.pop(0) if self.notes else []

    def full_read(self, provider: Any, observation: Observation) -> None:
        pass

    def refresh(self, cached: Observation) -> Observation | None:
        self.refreshed += 1
        return self.fresh

    def applied(self, changes: Any) -> None:
        self.applied_changes.extend(changes)

    def close(self) -> None:
        pass


def test_a_partial_run_plans_from_the_cache_not_from_an_empty_observation(setup: Any) -> None:
    service, events, system = setup
    assert service.run_once() is True  # the full read: two creates
    assert system.reads == 1 and len(system.writes) == 2
    assert events.dirty == {"nipap"}  # netsot changed it: the next partial run reads it again
    assert service.run_once(events=events) is True
    assert system.reads == 2 and events.dirty == set()
    # nothing changed, nothing read: the cached observation is planned from. Were it empty, the
    # two objects would be created again.
    assert service.run_once(events=events) is True
    assert system.reads == 2
    assert system.writes == ["create nipap_address.lan.nas", "create nipap_address.lan.printer"]


def test_a_watched_system_is_told_what_netsot_changed(setup: Any) -> None:
    service, events, system = setup
    watch = FakeWatch()
    events.watchers = {"nipap": watch}
    assert service.run_once() is True
    assert sorted(str(c.address) for c in watch.applied_changes) == ["nipap_address.lan.nas",
                                                                     "nipap_address.lan.printer"]
    assert events.dirty == set()  # the watcher reads it again, not the events
    assert service.run_once(events=events) is True
    assert watch.refreshed == 1 and system.reads == 1


def test_a_failed_partial_run_leaves_no_cache_until_the_next_full_read(setup: Any) -> None:
    service, events, system = setup
    assert service.run_once() is True
    system.fail_read = ProviderError("nipap", "connection refused")
    assert service.run_once(events=events) is False  # nipap is dirty: read again, and that fails
    assert events.cache is None
    with pytest.raises(NetsotError, match="no complete read"):
        events.observations({})
    system.fail_read = None
    assert service.run_once() is True  # the full read gives the cache back
    assert events.cache is not None


def test_waiting_runs_on_what_a_watcher_saw(setup: Any, caplog: pytest.LogCaptureFixture) -> None:
    service, events, system = setup
    events.watchers = {"nipap": FakeWatch([], ["nipap: 192.168.1.9/32 changed"])}
    assert service.run_once() is True
    with caplog.at_level(logging.INFO, logger="netsot.service"):
        events.wait(service, 0.3)
    runs = [r for r in caplog.records if r.getMessage() == "event run finished"]
    assert len(runs) == 1
    assert runs[0].fields["trigger"] == ["nipap: 192.168.1.9/32 changed"]  # type: ignore[attr-defined]
    assert system.reads == 1  # the fake watcher had nothing to re-read: the cache was planned from


def test_a_failing_watch_is_logged_once_and_the_service_goes_on(setup: Any,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    _service, events, _system = setup
    events.watchers = {"nipap": FakeWatch(fail=RuntimeError("boom"))}
    with caplog.at_level(logging.INFO, logger="netsot.service"):
        assert events.poll() == [] and events.poll() == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == ["watching nipap failed: RuntimeError: boom "
                        "(the full read every --interval still runs)"]


def test_a_partial_run_that_found_the_lock_held_is_tried_again(setup: Any) -> None:
    service, events, _system = setup
    watch = FakeWatch(["nipap: 192.168.1.9/32 changed"])
    events.watchers = {"nipap": watch}
    assert service.run_once() is True
    attempts: list[bool] = []
    real = service.run_once

    def locked_once(events: Any = None) -> bool:
        attempts.append(events is not None)
        return False if len(attempts) == 1 else real(events=events)  # the first finds the lock held

    service.run_once = locked_once
    events.wait(service, 0.3)
    assert attempts[:2] == [True, True]  # the same change again at the next poll, without a new note
    # the second got as far as its reads (one refresh); after each run that wrote to the watched
    # system, the prefetch read it again at once (the full run's, and the second's: two more)
    assert watch.refreshed == 3
    assert len(attempts) == 2  # and went through: nothing more to try


def test_what_netsot_changed_is_read_again_between_runs_not_in_the_next_one(setup: Any) -> None:
    """#24: the systems the last run wrote are read again while the service waits (prefetch), so the
    next partial run plans from the cache at once; a prefetch that fails leaves them to that run."""
    service, events, system = setup
    watch = FakeWatch()
    events.watchers = {"other": watch}
    assert service.run_once() is True  # creates two objects in the unwatched fake system
    assert events.dirty == {"nipap"} and system.reads == 1
    events.prefetch()
    assert system.reads == 2 and events.dirty == set() and watch.refreshed == 0  # "other" was not written
    assert service.run_once(events=events) is True
    assert system.reads == 2  # nothing left to read in the run
    assert system.writes == ["create nipap_address.lan.nas", "create nipap_address.lan.printer"]
    system.objects.pop("nipap_address.lan.nas")
    assert service.run_once() is True  # a full read: the object made again
    system.fail_read = ProviderError("nipap", "connection refused")
    events.prefetch()  # fails: logged, the system stays to be read
    assert events.dirty == {"nipap"} and events.cache is not None
    system.fail_read = None
    assert service.run_once(events=events) is True
    assert events.dirty == set() and system.reads == 5


def test_a_failed_full_read_leaves_no_cache_either(setup: Any) -> None:
    service, events, system = setup
    assert service.run_once() is True
    events.wait(service, 0.05)  # nothing seen; the full run is due
    system.fail_read = ProviderError("nipap", "connection refused")
    assert service.run_once() is False
    assert events.cache is None  # the partial runs wait for a full read that succeeds
