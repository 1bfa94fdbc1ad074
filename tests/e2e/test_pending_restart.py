"""A written-back address reaches a running VM only when it restarts (issue 19, part 1), through the CLI
against `netsot lab up`: `lab guest add NAME --tag netsot-static` (a running VM on DHCP with a cloud-init
drive) → apply writes its static address and regenerates the drive, the VM keeps its lease address:
`pending restart` in plan, apply, verify (exit 0) and explain, its DNS name pointing where it answers →
`lab guest restart` (a stop and a start through the API) → it boots with the new address: verify OK, the
name moves there."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.test_lab_play import PlayLab

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlayLab]:
    play = PlayLab(tmp_path_factory.mktemp("pending"))
    up = play.netsot("lab", "up", "--guests", "4")
    try:
        assert up.code == 0, str(up)
        play.ok("import", "edgemax")
        play.ok("apply", "-auto-approve")
        yield play
    finally:
        play.netsot("lab", "down")


def _guest_check(play: PlayLab, name: str) -> dict[str, str]:
    run = play.netsot("verify", "-json")
    assert run.code == 0, str(run)
    checks = json.loads(run.stdout)["checks"]
    return next(c for c in checks if c["check"] == "guest" and f"({name})" in c["object"])


def _dns(play: PlayLab, fqdn: str) -> str:
    """The address the router's DNS entry for ``fqdn`` holds (as netsot recorded and verify checked it)."""
    run = play.netsot("verify", "-json")
    checks = json.loads(run.stdout)["checks"]
    check = next(c for c in checks if c["check"] == "dns" and fqdn in c["object"])
    assert check["ok"], check
    return str(check["detail"]).removeprefix("resolves to ")


def test_a_running_vm_is_pending_restart_until_restarted_through_proxmox(lab: PlayLab) -> None:
    added = lab.ok("lab", "guest", "add", "web09", "--tag", "netsot-static")
    assert "Created qemu guest web09" in added.stdout, str(added)
    leased = added.stdout.split("Leased ", 1)[1].split()[0]
    # the lab allocated a cloud-init drive through the API (valid volume syntax)
    inventory = lab.ok("inventory", "proxmox", "-json").stdout
    assert "web09" in inventory

    plan = lab.ok("plan")
    assert "pending restart" in plan.stdout, str(plan)
    doc = lab.plan()
    (writeback,) = [c for c in doc["changes"] if c["address"].startswith("proxmox_ipconfig.")
                    and c["after"]["ip"] != c["before"]["ip"]]
    new_ip = writeback["after"]["ip"].split("/")[0]
    assert new_ip != leased
    host = next(c for c in doc["changes"] if c["address"] == "edgemax_host.web09.lab.example")
    assert host["after"]["inet"] == leased, host  # the name points where the guest answers

    applied = lab.ok("apply", "-auto-approve")
    notes = applied.stdout.split("\nNotes:\n", 1)[1]
    assert "(web09): pending restart — Proxmox holds" in notes, str(applied)
    assert f"it still answers at {leased} until restarted. To finish: restart it through Proxmox" in notes

    after = lab.netsot("plan", "-detailed-exitcode")
    assert after.code == 0, str(after)  # nothing to change, but it says what waits
    assert "pending restart" in after.stdout and "to fix: restart it through Proxmox" in after.stdout
    assert "regenerate its SSH host keys" in after.stdout
    check = _guest_check(lab, "web09")
    assert check["ok"] and check["detail"].startswith("pending restart"), check
    verify = lab.netsot("verify")
    assert verify.code == 0 and "pending restart" in verify.stdout, str(verify)
    explain = lab.ok("explain", "web09")
    assert "pending restart" in explain.stdout, str(explain)
    assert _dns(lab, "web09.lab.example") == leased

    restarted = lab.ok("lab", "guest", "restart", "web09")
    assert "qmstop" in restarted.stdout and "qmstart" in restarted.stdout, str(restarted)
    check = _guest_check(lab, "web09")
    assert check["ok"] and "pending" not in check["detail"] and new_ip in check["detail"], check
    moved = lab.plan()
    host = next(c for c in moved["changes"] if c["address"] == "edgemax_host.web09.lab.example")
    assert host["after"]["inet"] == new_ip
    lab.ok("apply", "-auto-approve")
    assert lab.netsot("plan", "-detailed-exitcode").code == 0
    verify = lab.netsot("verify")
    assert verify.code == 0 and "pending restart" not in verify.stdout, str(verify)
    assert _dns(lab, "web09.lab.example") == new_ip



def test_restart_now_restarts_the_vm_through_the_api_and_nothing_waits(lab: PlayLab) -> None:
    config = lab.dir / "netsot.yaml"
    text = config.read_text()
    tag = "    writeback_tag: netsot-static\n"
    assert tag in text
    config.write_text(text.replace(tag, f"{tag}    writeback: {{restart: now, restart_timeout: 60}}\n", 1))
    lab.ok("validate")
    lab.ok("lab", "guest", "add", "web10", "--tag", "netsot-static")
    plan = lab.ok("plan").stdout
    assert "then netsot restarts web10 through Proxmox (writeback.restart: now, up to 60 s)" in plan
    assert "regenerate its SSH host keys" in plan
    doc = lab.plan()
    (writeback,) = [c for c in doc["changes"] if c["address"].startswith("proxmox_ipconfig.")]
    new_ip = writeback["after"]["ip"].split("/")[0]
    host = next(c for c in doc["changes"] if c["address"] == "edgemax_host.web10.lab.example")
    assert host["after"]["inet"] == new_ip  # it is restarted: the name points at the new address at once
    applied = lab.ok("apply", "-auto-approve").stdout
    assert "(web10) restarted through Proxmox, boots with" in applied and "pending restart" not in applied
    check = _guest_check(lab, "web10")
    assert check["ok"] and new_ip in check["detail"] and "pending" not in check["detail"], check
    assert _dns(lab, "web10.lab.example") == new_ip
    assert lab.netsot("plan", "-detailed-exitcode").code == 0
