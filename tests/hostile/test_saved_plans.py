"""Saved plans edited after `plan --out`: `apply FILE` and `show FILE` refuse them, over the simulators.

A saved plan is the approval for `apply FILE`, so its content must be exactly what was reviewed:
an edited planned IP (or any other byte of the document) is refused before anything is read or
written, and the systems and the state stay as they were.
"""

from __future__ import annotations

import json

import pytest

from tests.faults.harness import FaultLab, error_sentence, no_traceback

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_an_edited_planned_ip_is_refused_and_nothing_is_applied(lab: FaultLab) -> None:
    plan_file = lab.paths.root / "tfplan"
    planned = lab.cli("plan", "--out", str(plan_file))
    assert planned.code == 0, str(planned)
    doc = json.loads(plan_file.read_text())
    create = next(c for c in doc["changes"]
                  if c["action"] == "create" and c["address"].startswith("nipap_address."))
    old_ip = create["after"]["ip"]
    create["after"]["ip"] = old_ip.rsplit(".", 1)[0] + ".222"  # a free address of the same network
    plan_file.write_text(json.dumps(doc, indent=2, sort_keys=True))
    hosts_before, router_before = lab.nipap_hosts(), lab.router_entries()

    for args in (("apply", str(plan_file)), ("show", str(plan_file))):
        result = lab.cli(*args)
        no_traceback(result)
        assert result.code == 1, str(result)
        assert "was modified after it was saved" in error_sentence(result)

    assert lab.nipap_hosts() == hosts_before
    assert lab.router_entries() == router_before
    assert not lab.state_path.exists()


def test_an_edited_plan_with_a_recomputed_checksum_is_refused_by_its_signature(lab: FaultLab) -> None:
    from engine.plan.document import sealed

    plan_file = lab.paths.root / "tfplan-resealed"
    planned = lab.cli("plan", "--out", str(plan_file))
    assert planned.code == 0, str(planned)
    key = lab.state_path.with_name(lab.state_path.name + ".plan-key")
    assert key.stat().st_mode & 0o777 == 0o600 and key.read_text().strip() not in plan_file.read_text()
    doc = json.loads(plan_file.read_text())
    assert doc["signature"].startswith("hmac-sha256:")
    create = next(c for c in doc["changes"]
                  if c["action"] == "create" and c["address"].startswith("nipap_address."))
    create["after"]["ip"] = create["after"]["ip"].rsplit(".", 1)[0] + ".222"
    plan_file.write_text(json.dumps(sealed(doc), indent=2, sort_keys=True))  # the checksum matches again
    hosts_before = lab.nipap_hosts()
    result = lab.cli("apply", str(plan_file))
    no_traceback(result)
    assert result.code == 1, str(result)
    assert "was not made by this netsot with this state" in error_sentence(result)
    assert lab.nipap_hosts() == hosts_before and not lab.state_path.exists()
    del doc["signature"]  # without its signature it is refused just the same
    plan_file.write_text(json.dumps(sealed(doc)))
    assert "is not signed" in error_sentence(lab.cli("apply", str(plan_file)))
    fresh = lab.paths.root / "tfplan-fresh"  # the untouched plan applies
    assert lab.cli("plan", "--out", str(fresh)).code == 0
    applied = lab.cli("apply", str(fresh))
    assert applied.code == 0, str(applied)
