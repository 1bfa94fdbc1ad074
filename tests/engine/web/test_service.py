"""The service loop over the in-test provider: one cycle, policy gates, metrics, HTTP, lock, timing."""

from __future__ import annotations

import json
import random
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engine.config.load import load_config
from engine.runtime import NETSOT_VERSION
from engine.web.service import JsonFormatter, Service, ServiceOptions
from providers.registry import register, unregister
from state.backend import FileBackend

from .._fake import CONFIG, PASSWORD, FakeSystem, fake_provider


@pytest.fixture()
def setup(tmp_path, monkeypatch):
    monkeypatch.setenv("NETSOT_TEST_NIPAP_PASSWORD", PASSWORD)
    path = tmp_path / "netsot.yaml"
    path.write_text(CONFIG)
    system = FakeSystem()
    register("nipap", fake_provider(system))
    try:
        yield load_config(path), system, FileBackend(tmp_path / "netsot.state.json")
    finally:
        unregister("nipap")


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a Prometheus exposition, parsed by prometheus_client: (name, labels) → value."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_run_once_applies_creates_and_records_metrics(setup):
    config, system, backend = setup
    service = Service(config, ServiceOptions(once=True))
    assert service.run_once() is True
    assert sorted(system.objects) == ["nipap_address.lan.nas", "nipap_address.lan.printer"]
    assert sorted(backend.load().resources) == ["nipap_address.lan.nas", "nipap_address.lan.printer"]
    found = samples(service.metrics.render())
    assert found[("netsot_changes_applied_total", (("action", "create"), ("system", "nipap")))] == 2
    assert found[("netsot_runs_total", (("result", "ok"),))] == 1
    assert ("netsot_last_success_timestamp_seconds", ()) in found
    # level-triggered: the next cycle finds nothing to do
    assert service.run_once() is True
    assert system.writes == ["create nipap_address.lan.nas", "create nipap_address.lan.printer"]


def test_runs_read_the_state_file_again_only_when_it_changed(setup, monkeypatch):
    """#24: the service keeps its state backend between runs (an event's run does not parse and validate
    the whole state again), yet a state written by another process between runs is the one it uses."""
    from state import codec

    config, _system, backend = setup
    service = Service(config, ServiceOptions(once=True))
    assert service.run_once() is True
    reads: list[str] = []
    real = codec.loads_versioned
    monkeypatch.setattr(codec, "loads_versioned", lambda text, at: reads.append(at) or real(text, at))
    assert service.run_once() is True
    assert reads == []
    with backend.lock("test"):  # another process: `netsot state rm`
        forgot = backend.save(backend.load().forget("nipap_address.lan.nas"))
    reads.clear()
    assert service.run_once() is True
    assert len(reads) == 1
    assert service.metrics.plan_document["prior_state"]["serial"] == forgot.serial


def test_the_plan_document_is_rendered_when_asked_for_and_dated_by_its_run(setup, monkeypatch):
    """#24: a run records its plan; /plan renders the document once, when first asked, with the time
    of the run that made the plan (rendering it after every event's run cost as much as the plan)."""
    from engine.plan import document as render

    config, _system, _backend = setup
    rendered: list[str] = []
    real = render.plan_document
    monkeypatch.setattr(render, "plan_document", lambda plan, **kw: rendered.append("x") or real(plan, **kw))
    monkeypatch.setattr(render, "_now", lambda: "2026-12-07T09:00:00Z")
    service = Service(config, ServiceOptions(once=True))
    assert service.run_once() is True
    assert rendered == []
    monkeypatch.setattr(render, "_now", lambda: "2026-12-07T10:00:00Z")
    with service.metrics.lock:
        doc = service.metrics.plan_document
        assert service.metrics.plan_document is doc
    assert rendered == ["x"] and doc is not None
    assert doc["created_at"] == "2026-12-07T09:00:00Z"
    assert [c["address"] for c in doc["changes"]] == ["nipap_address.lan.nas", "nipap_address.lan.printer"]


def test_service_never_deletes_an_object_owned_only_by_its_marker(setup):
    config, system, _backend = setup
    service = Service(config, ServiceOptions(once=True))
    service.run_once()
    system.objects["nipap_address.lan.gone"] = {"ip": "192.168.1.50", "hostname": "gone", "mac": None}
    system.marked.add("nipap_address.lan.gone")
    # netsot's marker, not in the state, nothing wants it: never planned for deletion (#15, a lost
    # or fresh state is safe); the plan lists it as unmanaged
    service.run_once()
    assert "nipap_address.lan.gone" in system.objects
    doc = service.metrics.plan_document
    assert doc["changes"] == [] and doc["held"] == []
    marker = "carries netsot's marker but is not in the state, and nothing wants it now"
    assert [(u["address"], u["reason"].split(" (")[0]) for u in doc["unmanaged"]] == [
        ("nipap_address.lan.gone", marker)]


def request(url: str, token: str | None = None) -> tuple[int, dict[str, str], str]:
    """Status, headers (names lower-cased: HTTP header names are case-insensitive) and body."""
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read().decode()


def test_a_token_guards_every_endpoint_but_healthz(setup):
    config, _system, _backend = setup
    service = Service(config, ServiceOptions(once=True, interval=60, token="s3cr3t-t0ken"))
    host, port = service.start_http("127.0.0.1:0")
    try:
        service.run_once()
        base = f"http://{host}:{port}"
        assert request(base + "/healthz")[0] == 200
        for path in ("/metrics", "/plan", "/nowhere"):
            for token in (None, "wrong", "s3cr3t-t0ke"):
                code, headers, body = request(base + path, token)
                assert code == 401 and headers["www-authenticate"].startswith("Bearer"), (path, token)
                assert "s3cr3t" not in body
        assert request(base + "/metrics", "s3cr3t-t0ken")[0] == 200
        assert json.loads(request(base + "/plan", "s3cr3t-t0ken")[2])["format_version"] == "1"
    finally:
        service.stop_http()
    assert "s3cr3t" not in repr(service.options)


def test_token_file_must_be_private_and_non_empty(tmp_path):
    from core.errors import NetsotError
    from engine.web.service import read_token

    path = tmp_path / "token"
    with pytest.raises(NetsotError, match="cannot read it"):
        read_token(str(path))
    path.write_text("  \n")
    path.chmod(0o600)
    with pytest.raises(NetsotError, match="is empty"):
        read_token(str(path))
    path.write_text("t0ken-0123456789\n")
    path.chmod(0o640)
    with pytest.raises(NetsotError, match=r"readable by group or others \(mode 0640\); .*chmod 600"):
        read_token(str(path))
    path.chmod(0o600)
    assert read_token(str(path)) == "t0ken-0123456789"
    path.write_text("t0ken\n")  # 5 characters: too short to be a secret
    with pytest.raises(NetsotError, match="holds a token of 5 characters; use at least 16"):
        read_token(str(path))


def test_http_endpoints(setup):
    config, _system, _backend = setup
    service = Service(config, ServiceOptions(once=True, interval=60))
    host, port = service.start_http("127.0.0.1:0")
    try:
        base = f"http://{host}:{port}"
        code, body = get(base + "/healthz")
        assert code == 503 and json.loads(body)["status"] == "starting"
        code, _ = get(base + "/plan")
        assert code == 503
        service.run_once()
        code, body = get(base + "/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"
        code, body = get(base + "/metrics")
        assert code == 200 and "# TYPE netsot_runs_total counter" in body
        assert samples(body)[("netsot_up", (("system", "nipap"),))] == 1
        code, body = get(base + "/plan")
        assert code == 200 and json.loads(body)["format_version"] == "1"
        assert get(base + "/nope")[0] == 404
    finally:
        service.stop_http()


def test_metrics_are_exact_and_say_which_system_is_up(setup):
    """prometheus_client's exposition: a timestamp keeps every digit (no 6-significant-digit
    rounding), big counters stay exact, plus build info, per-system up and read durations."""
    config, system, _backend = setup
    now = 1_796_212_345.678901
    service = Service(config, ServiceOptions(once=True), clock=lambda: now)
    assert service.run_once() is True
    service.metrics.runs["ok"] = 12_345_678  # a long-running service's counter
    found = samples(service.metrics.render())
    assert found[("netsot_last_success_timestamp_seconds", ())] == now
    assert found[("netsot_runs_total", (("result", "ok"),))] == 12_345_678
    assert found[("netsot_build_info", (("version", NETSOT_VERSION),))] == 1
    assert found[("netsot_up", (("system", "nipap"),))] == 1
    assert found[("netsot_read_duration_seconds_count", (("system", "nipap"),))] == 1
    assert found[("netsot_read_duration_seconds_bucket", (("le", "+Inf"), ("system", "nipap")))] == 1
    system.fail_read = OSError("boom")
    assert service.run_once() is False
    found = samples(service.metrics.render())
    assert found[("netsot_up", (("system", "nipap"),))] == 0
    assert found[("netsot_read_duration_seconds_count", (("system", "nipap"),))] == 2
    assert found[("netsot_errors_total", (("system", "nipap"),))] == 1
    assert found[("netsot_last_success_timestamp_seconds", ())] == now  # the last success, kept
    assert Service(config, ServiceOptions()).metrics.registry is not service.metrics.registry


def test_locked_state_fails_fast_and_is_reported(setup):
    config, system, backend = setup
    service = Service(config, ServiceOptions(once=True))
    with backend.lock("apply"):
        assert service.run_once() is False
    assert system.writes == []
    assert "locked" in (service.metrics.last_error or "")
    assert service.metrics.errors == {"lock": 1}


def test_provider_failure_backs_off_exponentially_and_recovers(setup):
    config, system, _backend = setup
    service = Service(config, ServiceOptions(once=True, interval=10, jitter=0.0, backoff_max=35))
    system.fail_read = OSError("boom")
    for expected in (10, 20, 35):
        assert service.run_once() is False
        assert service.next_delay(random.Random(1)) == pytest.approx(expected)
    assert service.metrics.errors == {"nipap": 3}
    system.fail_read = None
    assert service.run_once() is True
    assert service.next_delay(random.Random(1)) == pytest.approx(10)


def test_jitter_stays_within_bounds():
    service = Service.__new__(Service)
    service.options = ServiceOptions(interval=100, jitter=0.1)
    service.failures = {}
    rng = random.Random(7)
    delays = [service.next_delay(rng) for _ in range(200)]
    assert min(delays) >= 90 and max(delays) <= 110
    assert len({round(d, 3) for d in delays}) > 100


def test_serve_once_exit_codes(setup):
    config, system, _backend = setup
    assert Service(config, ServiceOptions(once=True)).serve() == 0
    system.fail_read = OSError("down")
    assert Service(config, ServiceOptions(once=True)).serve() == 1


def test_json_log_lines(setup):
    import logging

    record = logging.LogRecord("netsot.service", logging.INFO, __file__, 1, "run finished", (), None)
    record.fields = {"applied": 2}
    line = JsonFormatter().format(record)
    data = json.loads(line)
    assert data["msg"] == "run finished" and data["applied"] == 2 and data["level"] == "info"
    assert PASSWORD not in line


def wait_until(what: str, probe, timeout: float = 20.0):
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_an_unexpected_error_fails_one_cycle_and_the_service_keeps_serving(setup, monkeypatch, caplog):
    """A bug or a library's surprise in one cycle (here a KeyError, then a MemoryError, out of the
    planner) is a failed run: counted on /metrics, reported by /healthz, logged at ERROR with its
    traceback once per cause, backed off; the loop goes on and the next cycle applies."""
    import logging
    import threading

    from engine import workflow

    config, system, _backend = setup
    real = workflow.plan_run
    surprises = [KeyError("vmid"), KeyError("vmid"), MemoryError()]

    def plan_run(*args, **kwargs):
        if surprises:
            raise surprises.pop(0)
        return real(*args, **kwargs)

    monkeypatch.setattr(workflow, "plan_run", plan_run)
    service = Service(config, ServiceOptions(interval=0.05, jitter=0.0, backoff_max=0.2,
                                             listen="127.0.0.1:0"))
    caplog.set_level(logging.INFO, logger="netsot")
    thread = threading.Thread(target=service.serve, name="serve-under-test", daemon=True)
    thread.start()
    try:
        http = wait_until("the HTTP side", lambda: service._http)
        base = f"http://127.0.0.1:{http.address[1]}"
        wait_until("the third cycle to fail", lambda: service.metrics.runs.get("error", 0) >= 3)
        code, body = get(base + "/healthz")
        assert code == 503 and json.loads(body)["status"] == "failing"
        assert "unexpected error: MemoryError" in json.loads(body)["last_error"]
        wait_until("a cycle to succeed", lambda: service.metrics.runs.get("ok", 0) >= 1)
        assert thread.is_alive()
        assert sorted(system.objects) == ["nipap_address.lan.nas", "nipap_address.lan.printer"]
        found = samples(get(base + "/metrics")[1])
        assert found[("netsot_runs_total", (("result", "error"),))] == 3
        assert found[("netsot_errors_total", (("system", "internal"),))] == 3
        code, body = get(base + "/healthz")
        assert code == 200 and json.loads(body)["status"] == "ok"
    finally:
        service.stop()
        thread.join(10)
    assert not thread.is_alive()
    failed = [r for r in caplog.records if r.getMessage().startswith("run failed with an unexpected error")]
    assert [r.levelno for r in failed] == [logging.ERROR] * 3
    assert [r.exc_info is not None for r in failed] == [True, False, True]  # one traceback per cause
    assert "KeyError: 'vmid'" in failed[0].getMessage() and "same cause" in failed[1].getMessage()
    line = json.loads(JsonFormatter().format(failed[0]))
    assert "Traceback (most recent call last)" in line["traceback"] and line["system"] == "internal"


def test_an_unexpected_error_backs_off_like_any_failure(setup, monkeypatch):
    from engine import runtime

    config, _system, _backend = setup

    def broken(*args, **kwargs):
        raise ValueError("a surprise while opening the state")

    monkeypatch.setattr(runtime, "open_backend", broken)
    service = Service(config, ServiceOptions(once=True, interval=10, jitter=0.0, backoff_max=35))
    for expected in (10, 20, 35):
        assert service.run_once() is False
        assert service.next_delay(random.Random(1)) == pytest.approx(expected)
    assert service.metrics.errors == {"internal": 3}
    assert Service(config, ServiceOptions(once=True)).serve() == 1  # --once: exit 1, no traceback exit


def test_metrics_carry_the_process_series(setup):
    """What a leak is watched by, as prometheus_client's process collector exposes it."""
    import os
    import time

    config, _system, _backend = setup
    service = Service(config, ServiceOptions(once=True))
    found = samples(service.metrics.render())
    assert found[("process_resident_memory_bytes", ())] > 1_000_000
    assert found[("process_open_fds", ())] == pytest.approx(len(os.listdir("/proc/self/fd")), abs=3)
    assert found[("process_cpu_seconds_total", ())] > 0
    assert time.time() - 86400 < found[("process_start_time_seconds", ())] <= time.time()
