"""The batched push's rows (#24 section 1): the Ansible comparison's lines, verdict and a failed
install said plainly (running Ansible itself needs the venv, ~75 s to install: that is the bench's
job, not a test's), and the router part's split between the provider's call and the engine."""

from __future__ import annotations

from pathlib import Path

from bench.ansible import ensure_ansible, mapping_lines
from bench.measure import Row
from bench.report import ansible_target

NAME = "netsot >= 40x faster than Ansible's edgeos_config for 100 mappings (same simulator)"


def test_the_lines_are_the_ones_netsot_renders_for_new_hosts() -> None:
    lines = mapping_lines(3)
    assert len(lines) == 12 and all(line.startswith("set ") for line in lines)
    assert sum("static-mapping" in line for line in lines) == 6  # ip-address + mac-address each
    assert sum("static-host-mapping host-name" in line for line in lines) == 6  # alias + inet each
    assert len(set(lines)) == len(lines)


def test_the_verdict_is_the_push_ratio_and_the_process_ratio_is_shown() -> None:
    ours = Row("ansible-100-netsot", 100, "netsot", 2.0, None, {"edgemax": 409}, 1, 1,
               notes="400 lines as one process; in the session 0.50s")
    theirs = Row("ansible-100-ansible", 100, "ansible", 40.0, None, {"edgemax": 412}, 1, 1,
                 notes="in the task 30.00s; Ansible / netsot = 60.0x for the push (task vs session), "
                       "20.0x as processes (start-up included)")
    verdict, name, evidence = ansible_target([ours, theirs])
    assert (verdict, name) == ("PASS", NAME)
    assert "60.0x for the push" in evidence and "20.0x as processes" in evidence
    slow = Row.from_dict({**theirs.to_dict(), "notes": theirs.notes.replace("60.0x", "39.9x")})
    assert ansible_target([ours, slow])[0] == "MISS"
    assert ansible_target([])[0] == "n/a"
    failed = Row("ansible-100", 100, "ansible", 0.0, None, notes="Ansible not run: pip exited 1")
    assert ansible_target([failed]) == ("n/a", NAME, "Ansible not run: pip exited 1")


def test_an_install_that_cannot_happen_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    reason = ensure_ansible(blocker / "venv")
    assert isinstance(reason, str) and reason


def test_the_router_part_shows_the_providers_call_beside_the_whole_span() -> None:
    """The router figure spans batch start → last outcome recorded; the first outcome comes right
    after the provider's call returned, so the split shows what the engine's bookkeeping adds."""
    from types import SimpleNamespace

    from bench.measure import TimingObserver
    from bench.report import targets

    timing = TimingObserver()
    timing.batch_started("edgemax", [1, 2])
    for _ in range(2):
        timing.change_finished(SimpleNamespace(address=SimpleNamespace(system="edgemax")))
    text = timing.apply_text()
    assert text.startswith("batches: edgemax 2 changes ") and "(the system's call " in text
    apply = Row("lab-1000", 1000, "apply", 9.0, 1.0, {}, 1, 1,
                notes="batches: nipap 1001 changes 5.00s; "
                      "edgemax 2000 changes 2.50s (the system's call 1.80s)")
    verdict, _, evidence = next(t for t in targets([apply]) if t[1].startswith("the router part"))
    assert verdict == "MISS" and "2.50s for 2000 router changes" in evidence and "call 1.80s" in evidence
