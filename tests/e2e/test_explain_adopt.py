"""`netsot explain`, discovery and `netsot adopt lease` through the CLI against the lab.

A device that only took a dynamic lease is listed as discovered (plan, inventory) with its vendor; adopting
it writes a hosts: entry that keeps the config file's comments and mode, and the next plan gives it a NIPAP
address outside the dynamic range, a reservation and a DNS name. `explain` finds a host by name, IP, MAC
or address and prints why it is as it is; its JSON matches schemas/explain.v1.schema.json.
"""

from __future__ import annotations

import ipaddress
import json
import stat

import pytest

from schemas import validator
from tests.e2e.conftest import Lab

pytestmark = pytest.mark.e2e

PHONE = "f0:18:98:aa:01:02"  # phone-anna's lease (the lab's seeds)
NAMELESS = "3c:22:fb:10:20:30"  # a lease that sent no host name


@pytest.fixture(scope="module")
def applied(lab: Lab) -> Lab:
    assert lab.cli("import", "edgemax").code == 0
    lab.apply()
    return lab


def test_leases_nothing_knows_are_discovered_with_their_vendor(applied: Lab) -> None:
    doc = applied.plan_json()
    assert not list(validator("plan.v1").iter_errors(doc))
    found = {d["mac"]: d for d in doc["discovered"]}
    assert set(found) == {PHONE, NAMELESS}, found  # the guests' own leases are bindings, not discoveries
    phone = found[PHONE]
    assert (phone["network"], phone["ip"], phone["hostname_hint"], phone["vendor"]) == (
        "lan", "192.168.10.150", "phone-anna", "Apple, Inc.")
    assert phone["expires"] and phone["expires"].endswith("Z") and doc["summary"]["discovered"] == 2
    text = applied.cli("plan").out
    assert "Discovered (2)" in text and PHONE not in text
    listed = applied.cli("plan", "--show-discovered").out
    assert PHONE in listed and "Apple, Inc." in listed and "phone-anna" in listed
    inventory = applied.cli("inventory", "edgemax")
    assert inventory.code == 0 and "Apple, Inc." in inventory.out
    assert json.loads(applied.cli("inventory", "edgemax", "--json").out)["leases"][0]["vendor"]


def test_explain_by_name_ip_mac_and_address(applied: Lab) -> None:
    result = applied.cli("explain", "web01", "--json")
    assert result.code == 0, result.out
    doc = json.loads(result.out)
    assert not list(validator("explain.v1").iter_errors(doc)), list(validator("explain.v1").iter_errors(doc))
    ip = next(a for a in doc["attributes"] if a["attribute"] == "ip")
    assert ip["winner"] == doc["host"]["ip"] and ip["provenance"]["source"] == "nipap"
    assert ip["provenance"]["rule"].endswith("ip: config > nipap > proxmox > edgemax")
    assert any(v["ref"].startswith("proxmox pve1/101") for v in
               next(a for a in doc["attributes"] if a["attribute"] == "mac")["values"])
    objects = {o["address"] for o in doc["objects"]}
    assert objects >= {"nipap_address.lan.web01", "edgemax_dhcp_mapping.LAN.web01"}
    assert any(e["address"] == "nipap_address.lan.web01" and e["action"] == "create" for e in doc["history"])
    for query in (doc["host"]["ip"], doc["host"]["mac"], "edgemax_dhcp_mapping.LAN.web01", "lan/web01"):
        other = json.loads(applied.cli("explain", query, "--json").out)
        assert other["host"]["name"] == "web01", query
    text = applied.cli("explain", "web01").out
    assert "rule ip: config > nipap > proxmox > edgemax" in text and "History (newest first):" in text
    several = applied.cli("explain", "gitlab")  # a NIC on each network
    assert several.code == 0 and "2 hosts match" in several.out and "lan/gitlab" in several.out
    many = json.loads(applied.cli("explain", "gitlab", "--json").out)
    assert not list(validator("explain.v1").iter_errors(many)) and len(many["matches"]) == 2
    missing = applied.cli("explain", "no-such-host")
    assert missing.code == 1 and missing.out.startswith("Error: no host matches")
    lease = json.loads(applied.cli("explain", PHONE, "--json").out)
    assert lease["host"]["kind"] == "discovered" and lease["adopt"].startswith(f"netsot adopt lease {PHONE}")


def test_adopt_lease_declares_the_device_and_the_next_plan_gives_it_everything(applied: Lab) -> None:
    config = applied.config
    config.chmod(0o640)
    before = config.read_text()
    bound = applied.cli("adopt", "lease", applied.mappings()["LAN.web01"]["mac"])
    assert bound.code == 1 and "already bound: lan/web01" in bound.out, bound.out
    nameless = applied.cli("adopt", "lease", NAMELESS)
    assert nameless.code == 1 and "--name NAME" in nameless.out
    assert config.read_text() == before  # refusals write nothing
    result = applied.cli("adopt", "lease", PHONE.upper())
    assert result.code == 0, result.out
    assert "lan/phone-anna" in result.out
    after = config.read_text()
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert after.startswith(before.split("\npolicy:")[0].rstrip("\n"))  # everything before is untouched
    assert "# a device that is not a guest" in after and after.rstrip().endswith(
        before.rstrip().split("\n")[-1])  # comments and the policy block stay
    assert f'    mac: "{PHONE}"' in after and "  - name: phone-anna\n    network: lan\n" in after
    again = applied.cli("adopt", "lease", PHONE)
    assert again.code == 0 and "nothing to do" in again.out and config.read_text() == after
    assert applied.cli("validate").code == 0
    doc = applied.plan_json()
    creates = {c["address"]: c for c in doc["changes"] if c["action"] == "create"}
    assert {"nipap_address.lan.phone-anna", "edgemax_dhcp_mapping.LAN.phone-anna",
            "edgemax_host.phone-anna.lab.example"} <= set(creates), sorted(creates)
    ip = ipaddress.ip_address(creates["nipap_address.lan.phone-anna"]["after"]["ip"])
    assert not ipaddress.ip_address("192.168.10.100") <= ip <= ipaddress.ip_address("192.168.10.199")
    assert creates["edgemax_dhcp_mapping.LAN.phone-anna"]["after"]["mac_address"] == PHONE
    assert PHONE not in {d["mac"] for d in doc["discovered"]}
