"""A lab you can play with (#16), through the CLI against `netsot lab up` (real background processes):
`lab guest add|rm|set`, `lab lease add`, `lab ssh`, two-site aware, everything persisting across
`lab down` / `lab up`; and README's tour scenarios as the copy-paste command sequences README shows
(a new guest, a removed guest, a hand edit on the router, a conflict and its fix). One lab (two sites)
for the module; the tests run in file order, each scenario starting from an applied, empty plan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.integration, pytest.mark.timeout(600)]


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str]) -> None:
        self.code, self.stdout, self.stderr = proc.returncode, proc.stdout, proc.stderr

    def __str__(self) -> str:
        return f"exit {self.code}\n{self.stdout}\n{self.stderr}"

    def json(self) -> Any:
        return json.loads(self.stdout)


class PlayLab:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.dir = root / ".netsot-lab"

    def netsot(self, *args: str, stdin: str | None = None, timeout: float = 180) -> Run:
        """`netsot ARGS` run from the folder README's commands assume (NETSOT_CONFIG set, as README says)."""
        env = {**os.environ, "PYTHONPATH": str(REPO), "NETSOT_CONFIG": str(self.dir / "netsot.yaml"),
               "NO_COLOR": "1"}
        proc = subprocess.run([sys.executable, "-m", "engine", *args], cwd=self.root, capture_output=True,
                              text=True, timeout=timeout, env=env, input=stdin,
                              stdin=None if stdin is not None else subprocess.DEVNULL, check=False)
        return Run(proc)

    def ok(self, *args: str, stdin: str | None = None) -> Run:
        result = self.netsot(*args, stdin=stdin)
        assert result.code == 0, str(result)
        return result

    def plan(self) -> dict[str, Any]:
        return self.ok("plan", "-json").json()

    def clean(self) -> None:
        assert self.netsot("plan", "-detailed-exitcode").code == 0, str(self.netsot("plan"))


@pytest.fixture(scope="module")
def play(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlayLab]:
    lab = PlayLab(tmp_path_factory.mktemp("play"))
    up = lab.netsot("lab", "up", "--sites", "2")
    try:
        assert up.code == 0, str(up)
        yield lab
    finally:
        lab.netsot("lab", "down")


def test_the_tours_starting_point(play: PlayLab) -> None:
    play.ok("import", "edgemax")
    play.ok("import", "edgemax.cabin")
    play.ok("apply", "-auto-approve")
    play.clean()


def test_scenario_a_new_guest(play: PlayLab) -> None:
    added = play.ok("lab", "guest", "add", "web03")
    assert "Created qemu guest web03" in added.stdout and "Leased 192.168.10." in added.stdout
    changes = {c["address"]: c for c in play.plan()["changes"]}
    new = {"nipap_address.lan.web03", "edgemax_dhcp_mapping.LAN.web03", "edgemax_host.web03.lab.example"}
    assert new <= set(changes)
    reservation = changes["edgemax_dhcp_mapping.LAN.web03"]
    assert "effect: web03 leaves its dynamic address 192.168.10." in reservation["reason"], reservation
    assert "at its next DHCP renewal" in reservation["reason"]
    play.ok("apply", "-auto-approve")
    play.clean()


def test_scenario_a_removed_guest(play: PlayLab) -> None:
    removed = play.ok("lab", "guest", "rm", "backup")
    assert "Removed lxc guest backup" in removed.stdout
    deletes = {c["address"] for c in play.plan()["changes"] if c["action"] == "delete"}
    gone = {"nipap_address.lan.backup", "edgemax_dhcp_mapping.LAN.backup", "edgemax_host.backup.lab.example"}
    assert gone <= deletes
    play.ok("apply", "-auto-approve")
    play.clean()


HAND_EDIT = ("configure\n"
             "set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 static-mapping web01 "
             "ip-address 192.168.10.99\n"
             "commit\nsave\nexit\nexit\n")


def test_scenario_a_hand_edit_on_the_router(play: PlayLab) -> None:
    play.ok("lab", "ssh", stdin=HAND_EDIT)
    doc = play.plan()
    assert [d["address"] for d in doc["drift"]] == ["edgemax_dhcp_mapping.LAN.web01"]
    (change,) = [c for c in doc["changes"] if c["address"] == "edgemax_dhcp_mapping.LAN.web01"]
    assert change["before"]["ip_address"] == "192.168.10.99" and change["drift"]
    assert "effect: web01 moves from 192.168.10.99 to ." in change["reason"]
    play.ok("apply", "-auto-approve")
    play.clean()


def test_scenario_a_conflict_says_how_to_fix_it(play: PlayLab) -> None:
    play.ok("lab", "guest", "add", "app05", "--type", "lxc", "--ip", "192.168.10.53")  # pihole's address
    result = play.netsot("plan", "-detailed-exitcode")
    assert result.code == 3, str(result)
    assert "! ip_claimed_twice: 192.168.10.53 is claimed by lan.app05" in result.stdout
    assert "to fix: decide which host keeps 192.168.10.53 and give the others another address: change it " \
        "for lan.app05 at proxmox pve1/" in result.stdout
    assert "effect: lan.app05: netsot creates, changes or deletes none of its" in result.stdout
    play.ok("lab", "guest", "set", "app05", "--ip", "192.168.10.54")
    assert play.plan()["conflicts"] == []
    play.ok("apply", "-auto-approve")
    play.clean()


def test_a_device_joins_and_gets_a_reservation_once_declared(play: PlayLab) -> None:
    joined = play.ok("lab", "lease", "add", "f0:18:98:aa:99:01", "--hostname", "phone-bob")
    leased = joined.stdout.split()[1]
    assert leased.startswith("192.168.10.")
    assert f"{leased}  f0:18:98:aa:99:01" in play.ok("inventory", "edgemax").stdout
    play.clean()  # a lease is discovery only: nothing to do until the device is declared
    config = play.dir / "netsot.yaml"
    config.write_text(config.read_text().replace(
        "    description: Synology NAS\n",
        "    description: Synology NAS\n"
        "  - name: phone-bob\n    network: lan\n    mac: \"f0:18:98:aa:99:01\"\n"))
    (change,) = [c for c in play.plan()["changes"] if c["address"] == "edgemax_dhcp_mapping.LAN.phone-bob"]
    assert f"effect: phone-bob leaves its dynamic address {leased} for ." in change["reason"], change
    play.ok("apply", "-auto-approve")
    play.clean()


def test_guest_set_renames_and_changes_a_mac(play: PlayLab) -> None:
    changed = play.ok("lab", "guest", "set", "web03", "--mac", "bc:24:11:00:00:33")
    assert "net0 MAC bc:24:11:00:00:33" in changed.stdout
    changes = {c["address"]: c for c in play.plan()["changes"]}
    assert changes["edgemax_dhcp_mapping.LAN.web03"]["after"]["mac_address"] == "bc:24:11:00:00:33"
    play.ok("apply", "-auto-approve")
    play.clean()


def test_the_cabin_is_a_site_of_its_own(play: PlayLab) -> None:
    added = play.ok("lab", "guest", "add", "cam01", "--site", "cabin")
    assert "on cab1" in added.stdout
    addresses = {c["address"] for c in play.plan()["changes"]}
    assert "edgemax_dhcp_mapping[cabin].CABIN.cam01" in addresses and "nipap_address.cabin.cam01" in addresses
    play.ok("apply", "-auto-approve")
    play.clean()


def test_bad_input_is_one_sentence(play: PlayLab) -> None:
    missing = play.netsot("lab", "guest", "rm", "nosuchguest")
    assert missing.code == 1
    assert missing.stderr.strip() == ("Error: the lab's Proxmox has no guest 'nosuchguest' (`netsot "
                                      "inventory proxmox` lists them)")
    bad_mac = play.netsot("lab", "lease", "add", "not-a-mac")
    assert bad_mac.code == 1 and "is not a MAC address" in bad_mac.stderr
    taken = play.netsot("lab", "guest", "add", "x", "--node", "pve9")
    assert taken.code == 1 and "--node 'pve9' is not a node of this site (pve1, pve2, pve3)" in taken.stderr


def test_a_removed_guest_releases_its_lease_and_leases_expire(play: PlayLab) -> None:
    """The lab's router gives addresses back as a real one does: a destroyed guest's lease is released,
    a lease ends at its expiry (the lab's clock), and its address goes to the next device."""
    import time

    added = play.ok("lab", "guest", "add", "tmp01", "--mac", "bc:24:11:00:00:71")
    leased = added.stdout.split("Leased ")[1].split()[0]
    assert "bc:24:11:00:00:71" in play.ok("inventory", "edgemax").stdout
    removed = play.ok("lab", "guest", "rm", "tmp01")
    assert f"Released the lease of {leased} (bc:24:11:00:00:71) on the router's LAN pool" in removed.stdout
    assert "bc:24:11:00:00:71" not in play.ok("inventory", "edgemax").stdout
    play.clean()

    short = play.ok("lab", "lease", "add", "f0:18:98:aa:99:71", "--hostname", "tv", "--lease-time", "10")
    first = short.stdout.split()[1]
    assert first == leased  # the released address was free again
    assert f"{first}  f0:18:98:aa:99:71" in play.ok("inventory", "edgemax").stdout
    deadline = time.monotonic() + 40
    while "f0:18:98:aa:99:71" in play.ok("inventory", "edgemax").stdout:
        assert time.monotonic() < deadline, "the 10-second lease never expired"
        time.sleep(1)
    again = play.ok("lab", "lease", "add", "f0:18:98:aa:99:72", "--lease-time", "1")
    assert again.stdout.split()[1] == first  # the expired lease's address goes to the next device
    leases = json.loads((play.dir / "router-leases.json").read_text())
    assert "f0:18:98:aa:99:71" not in {x["mac"] for x in leases}  # the expired lease is gone from the file
    bad = play.netsot("lab", "lease", "add", "f0:18:98:aa:99:73", "--lease-time", "0")
    assert bad.code == 1 and "--lease-time 0 is not a number of seconds above 0" in bad.stderr
    play.clean()


def test_everything_persists_across_lab_down_and_up(play: PlayLab) -> None:
    play.ok("lab", "down")
    up = play.ok("lab", "up", "--sites", "2")
    assert "Resumed the systems as they were when the lab stopped" in up.stdout
    assert "Kept your edits of" in up.stdout and "phone-bob" in (play.dir / "netsot.yaml").read_text()
    guests = play.ok("inventory", "proxmox").stdout
    assert " web03 " in guests and " app05 " in guests and " backup " not in guests
    assert "f0:18:98:aa:99:01" in play.ok("inventory", "edgemax").stdout
    assert " cam01 " in play.ok("inventory", "proxmox.cabin").stdout
    play.clean()  # NIPAP, the routers and the clusters kept what netsot applied
    assert "Verify passed" in play.ok("verify").stdout


def test_lab_commands_need_a_running_lab(tmp_path: Path) -> None:
    idle = PlayLab(tmp_path)
    for args in (("lab", "guest", "add", "x"), ("lab", "lease", "add", "f0:18:98:00:00:01"), ("lab", "ssh")):
        result = idle.netsot(*args)
        assert result.code == 1, str(result)
        assert result.stderr.strip() == (f"Error: no lab is running in {idle.dir}; start it with "
                                         "`netsot lab up --dir .netsot-lab`")


def test_readme_shows_exactly_these_commands() -> None:
    """The tour's copy-paste blocks are the commands the scenarios above run (kept in step)."""
    readme = (REPO / "README.md").read_text()
    for line in ("netsot lab up ", "export NETSOT_CONFIG=.netsot-lab/netsot.yaml", "netsot import edgemax",
                 "netsot apply -auto-approve", "netsot lab guest add web03\n", "netsot lab guest rm backup\n",
                 "netsot lab ssh <<'EOF'\n" + HAND_EDIT + "EOF\n",
                 "netsot lab guest add app05 --type lxc --ip 192.168.10.53\n", "netsot plan -out tfplan\n",
                 "netsot apply tfplan", "netsot lab guest set app05 --ip 192.168.10.54",
                 "netsot lab lease add f0:18:98:aa:99:01 --hostname\nphone-bob"):
        assert line in readme, line
