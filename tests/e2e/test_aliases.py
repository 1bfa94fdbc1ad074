"""Every name an address has (issue 20, part 4), through the CLI against the lab.

A router configured by hand with several names on one address (the printer's reservation, its host
name with an extra alias, two more host names on its address) is imported whole: one binding with
every name. A ``hosts:`` entry with ``aliases`` gets them on the router (aliases of its host name) and
in NIPAP (the ``aliases`` avp); ``verify`` resolves each name through the lab's dnsmasq; ``explain``
and the plan show them; an extra name that is another binding's name is a conflict; removing an
extra name removes it from the router and NIPAP.
"""

from __future__ import annotations

import json
import re
import urllib.request
import xmlrpc.client
from typing import Any

import pytest

from providers.lab.seeds import VRF_NAME
from schemas import validator
from tests.e2e.conftest import Lab
from tests.web.conftest import ui

pytestmark = pytest.mark.e2e

HOST = "system static-host-mapping host-name"
PRINTER = "192.168.10.21"  # the printer's reservation and host name (the lab's seeds)
BY_HAND = [  # three more names for the printer's address, as a person would add them
    f"set {HOST} printer.lab.example alias print-server",
    f"set {HOST} scanner.lab.example inet {PRINTER}",
    f"set {HOST} ipp.lab.example inet {PRINTER}",
]
WIKI_MAC = "02:00:5e:10:20:71"
_seen: dict[str, Any] = {}


def add_host(lab: Lab, entry: str) -> None:
    text = lab.config.read_text()
    assert "hosts:\n" in text
    lab.config.write_text(text.replace("hosts:\n", "hosts:\n" + entry, 1))


def test_import_adopts_every_name_of_an_address(lab: Lab) -> None:
    lab.router_configure(*BY_HAND)
    imported = lab.cli("import", "edgemax", "--json")
    assert imported.code == 0, imported.out
    items = {i["address"]: i for i in json.loads(imported.stdout)["items"]}
    for address in ("edgemax_dhcp_mapping.LAN.printer", "edgemax_host.printer.lab.example",
                    "edgemax_host.scanner.lab.example", "edgemax_host.ipp.lab.example"):
        assert items[address]["status"] == "adopt", items[address]
    assert items["edgemax_host.printer.lab.example"]["reason"].endswith(
        "binding printer with its extra names ipp, print-server, scanner")
    assert items["edgemax_host.scanner.lab.example"]["reason"].endswith(
        f"an extra name (scanner) of binding printer, the first name of {PRINTER}")
    doc = lab.plan_json()
    assert not doc["conflicts"], doc["conflicts"]
    printer = next(b for b in doc["bindings"] if b["hostname"] == "printer")
    assert printer["ip"] == PRINTER
    nipap = next(c for c in doc["changes"] if c["address"] == "nipap_address.lan.printer")
    assert nipap["after"]["avps"]["aliases"] == "ipp,print-server,scanner"
    # the router keeps every name as it has it: no change to its host names
    assert not [c for c in doc["changes"] if c["address"].startswith("edgemax_host.")
                and c["address"].split(".", 1)[1].startswith(("printer", "scanner", "ipp"))]
    lab.apply()
    second = lab.cli("plan", "--detailed-exitcode")
    assert second.code == 0, second.out
    assert lab.nipap_by_node("printer")["avps"]["aliases"] == "ipp,print-server,scanner"  # type: ignore[index]


def test_a_host_with_aliases_gets_them_on_the_router_and_in_nipap(lab: Lab) -> None:
    add_host(lab, f"  - name: wiki\n    network: lan\n    mac: \"{WIKI_MAC}\"\n    aliases: [docs, kb]\n")
    assert lab.cli("validate").code == 0
    doc = lab.plan_json()
    assert not list(validator("plan.v1").iter_errors(doc))
    by = {c["address"]: c for c in doc["changes"]}
    host = by["edgemax_host.wiki.lab.example"]
    assert host["action"] == "create"
    assert host["after"]["aliases"] == ["wiki", "docs.lab.example", "kb.lab.example"]
    assert host["provenance"]["aliases"]["source"] == "config"
    assert by["nipap_address.lan.wiki"]["after"]["avps"]["aliases"] == "docs,kb"
    wiki = next(b for b in doc["bindings"] if b["hostname"] == "wiki")
    assert wiki["aliases"] == ["docs", "kb"] and wiki["provenance"]["aliases"]["source"] == "config"
    text = lab.cli("plan").out
    assert 'aliases   = ["wiki", "docs.lab.example", "kb.lab.example"]' in text
    lab.apply()
    ip = lab.nipap_by_node("wiki")["ip"]  # type: ignore[index]
    _seen["wiki"] = ip
    assert lab.host_entries()["wiki.lab.example"] == (ip,)
    for name in ("wiki.lab.example", "docs.lab.example", "kb.lab.example"):
        assert lab.resolve_eventually(name, ip) == ip, name
    assert lab.cli("plan", "--detailed-exitcode").code == 0


def test_verify_resolves_every_name(lab: Lab) -> None:
    ip = _seen["wiki"]
    result = lab.cli("verify", "--json")
    assert result.code == 0, result.out
    checks = {c["object"]: c for c in json.loads(result.stdout)["checks"] if c["check"] == "dns"}
    for name in ("docs.lab.example", "kb.lab.example", "wiki.lab.example"):
        assert checks[name]["ok"] and ip in checks[name]["detail"], checks.get(name)
    for name in ("print-server", "scanner.lab.example", "ipp.lab.example", "printer.lab.example"):
        assert checks[name]["ok"] and PRINTER in checks[name]["detail"], checks.get(name)
    # a name the router stops serving is a failed check of that one name
    lab.router_configure(f"delete {HOST} wiki.lab.example alias kb.lab.example")
    assert lab.resolve_eventually("kb.lab.example", None) is None
    broken = lab.cli("verify", "--json")
    assert broken.code == 1
    failed = [c["object"] for c in json.loads(broken.stdout)["checks"] if not c["ok"]]
    assert failed == ["kb.lab.example"], failed
    assert lab.cli("plan", "--detailed-exitcode").code == 2  # the plan puts it back
    lab.apply()
    assert lab.resolve_eventually("kb.lab.example", ip) == ip


def test_explain_finds_a_host_by_an_extra_name_and_shows_them(lab: Lab) -> None:
    result = lab.cli("explain", "docs", "--json")
    assert result.code == 0, result.out
    doc = json.loads(result.out)
    assert not list(validator("explain.v1").iter_errors(doc))
    assert (doc["host"]["name"], doc["host"]["aliases"]) == ("wiki", ["docs", "kb"])
    aliases = next(a for a in doc["attributes"] if a["attribute"] == "aliases")
    assert aliases["winner"] == "docs, kb" and aliases["provenance"]["source"] == "config"
    text = lab.cli("explain", "lan/wiki").out
    assert "also named: docs, kb" in text
    printer = json.loads(lab.cli("explain", "scanner", "--json").out)
    assert printer["host"]["name"] == "printer" and "scanner" in printer["host"]["aliases"]


def test_the_status_page_shows_every_name_and_finds_a_host_by_one(lab: Lab) -> None:
    server = ui(lab, "ui-aliases")
    try:
        with urllib.request.urlopen(server.url + "/", timeout=30) as resp:
            page = resp.read().decode()
        row = page[page.index('data-key="lan/wiki"'):]
        row = row[:row.index("</tr>")]
        assert "+ docs, kb" in row
        with urllib.request.urlopen(server.url + "/?q=kb", timeout=30) as resp:  # the server filters
            found = re.findall(r'data-key="([^"]+)"', resp.read().decode())
        assert found == ["lan/wiki"], found
        with urllib.request.urlopen(server.url + "/host/lan/wiki", timeout=30) as resp:
            assert "also named docs, kb" in resp.read().decode()
    finally:
        server.stop()


def test_an_extra_name_that_is_another_hosts_name_is_a_conflict(lab: Lab) -> None:
    before = lab.config.read_text()
    add_host(lab, "  - name: wiki2\n    network: lan\n    mac: \"02:00:5e:10:20:72\"\n    aliases: [web01]\n")
    try:
        doc = lab.plan_json()
        found = [c for c in doc["conflicts"] if "web01" in c["reason"] and "extra name" in c["reason"]]
        assert len(found) == 1, doc["conflicts"]
        conflict = found[0]
        assert conflict["kind"] == "hostname_on_two_macs"
        assert conflict["reason"].startswith("name web01 in domain lab.example is ")
        assert "an extra name of lan.wiki2" in conflict["reason"] and "the host name of lan.web01" in (
            conflict["reason"])
        fix = "remove it from the extra names of lan.wiki2 at hosts[0].aliases in the config"
        assert fix in conflict["fix"]
        assert not [c for c in doc["changes"] if "wiki2" in c["address"] or ".web01" in c["address"]]
        assert lab.cli("plan", "--detailed-exitcode").code == 3
    finally:
        lab.config.write_text(before)


def test_removing_an_extra_name_removes_it_everywhere(lab: Lab) -> None:
    ip = _seen["wiki"]
    lab.config.write_text(lab.config.read_text().replace("aliases: [docs, kb]", "aliases: [docs]"))
    doc = lab.plan_json()
    by = {c["address"]: c for c in doc["changes"]}
    assert set(by) == {"edgemax_host.wiki.lab.example", "nipap_address.lan.wiki"}, set(by)
    assert by["edgemax_host.wiki.lab.example"]["after"]["aliases"] == ["wiki", "docs.lab.example"]
    assert by["nipap_address.lan.wiki"]["after"]["avps"]["aliases"] == "docs"
    lab.apply()
    assert lab.resolve_eventually("kb.lab.example", None) is None
    assert lab.resolve_eventually("docs.lab.example", ip) == ip
    assert lab.cli("plan", "--detailed-exitcode").code == 0


def _nipap_ui(lab: Lab) -> Any:
    """NIPAP's API as its web UI uses it (XML-RPC, another authoritative source than netsot)."""
    password = lab.paths.secret("nipap_password")
    proxy = xmlrpc.client.ServerProxy(f"http://netsot:{password}@127.0.0.1:{lab.nipap.port}/XMLRPC",
                                      allow_none=True)

    def call(method: str, **args: Any) -> Any:
        return getattr(proxy, method)({"auth": {"authoritative_source": "nipap-www"}, **args})

    return call


def test_the_aliases_avp_of_a_host_made_in_nipap_names_it_on_the_router(lab: Lab) -> None:
    call = _nipap_ui(lab)
    vrf = call("list_vrf", vrf={"name": VRF_NAME})[0]
    row = call("add_prefix", attr={"prefix": "192.168.10.78/32", "type": "host", "node": "camera",
                                   "vrf_id": vrf["id"], "tags": ["netsot"],
                                   "avps": {"mac": "0c:8b:95:00:11:44", "aliases": "front-door, yard"}})
    doc = lab.plan_json()
    by = {c["address"]: c for c in doc["changes"] if "camera" in c["address"]}
    assert set(by) == {"edgemax_dhcp_mapping.LAN.camera", "edgemax_host.camera.lab.example"}, set(by)
    host = by["edgemax_host.camera.lab.example"]
    assert host["after"]["aliases"] == ["camera", "front-door.lab.example", "yard.lab.example"]
    assert host["provenance"]["aliases"]["ref"] == f"nipap 192.168.10.78 (id {row['id']})"
    lab.apply()
    assert lab.resolve_eventually("front-door.lab.example", "192.168.10.78") == "192.168.10.78"
    assert lab.cli("verify").code == 0
    # NIPAP is the truth: an extra name removed there leaves the router; NIPAP's host stays the user's
    call("edit_prefix", prefix={"id": row["id"]},
         attr={"vrf_id": vrf["id"], "avps": {"mac": "0c:8b:95:00:11:44", "aliases": "yard"}})
    doc = lab.plan_json()
    assert [(c["address"], c["action"]) for c in doc["changes"]] == [
        ("edgemax_host.camera.lab.example", "update")]
    assert doc["changes"][0]["after"]["aliases"] == ["camera", "yard.lab.example"]
    lab.apply()
    assert lab.resolve_eventually("front-door.lab.example", None) is None
    assert lab.nipap_by_node("camera")["avps"] == {"mac": "0c:8b:95:00:11:44", "aliases": "yard"}  # type: ignore[index]
