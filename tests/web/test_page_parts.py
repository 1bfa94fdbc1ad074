"""The pure parts of the status page's guidance (no browser): the address map of a large prefix is capped,
what each address is, hostile names in the new views stay text, and the links out never carry a
credential."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace

from core.model import Address, Binding, Conflict, ConflictKind, Drift, Fact, Observation, Plan
from engine.config.load import config_from_data
from engine.report import status
from engine.web import app as web
from engine.web.addressmap import MAX_BLOCKS, address_map
from engine.web.pagedetail import Details, drift_note
from providers.nipap.weblinks import web_link as nipap_link
from providers.proxmox.weblinks import web_link as proxmox_link

HOSTILE = "<script>window.__pwned=1</script>\x1b[2J"


def _config() -> object:
    return config_from_data({
        "version": 1,
        "state": {"path": "/nonexistent/netsot.state.json"},
        "providers": {"nipap": {"url": "http://nipap.lab:1337/XMLRPC", "username": "netsot",
                                "password": "pw"}},
        "networks": [
            {"name": "big", "prefix": "10.1.0.0/16", "gateway": "10.1.0.1",
             "dhcp_range": {"start": "10.1.200.0", "stop": "10.1.250.255"}},
            {"name": "lan", "prefix": "192.168.10.0/24", "gateway": "192.168.10.1"},
        ],
    })


def _snapshot(plan: Plan, facts: tuple[Fact, ...] = ()) -> status.Snapshot:
    observations = {"edgemax": Observation("edgemax", facts=facts)}
    return status.Snapshot(_config(), plan, observations, time.time())  # type: ignore[arg-type]


def test_a_16_shows_only_the_blocks_that_hold_something_and_says_so() -> None:
    bindings = tuple(Binding("big", f"h{n}", None, f"10.1.{n * 3}.7") for n in range(40))
    snapshot = _snapshot(Plan(bindings=bindings))
    matrix = status.build(snapshot)
    amap = address_map(snapshot, matrix, snapshot.config.network("big"))
    assert amap.total_blocks == 256 and amap.busy_blocks == 40  # the gateway's block holds h0 too
    assert len(amap.blocks) == MAX_BLOCKS and sum(len(b.cells) for b in amap.blocks) == MAX_BLOCKS * 256
    assert "/16 has 256 /24 blocks" in amap.note and f"the first {MAX_BLOCKS} of 40" in amap.note
    first = amap.blocks[0]
    assert first.first == "10.1.0.0"
    kinds = {c.ip: c.kind for c in first.cells}
    assert kinds["10.1.0.0"] == "reserved" and kinds["10.1.0.1"] == "gateway"
    assert kinds["10.1.0.7"] == "binding"
    assert kinds["10.1.0.8"] == "free"
    assert amap.counts["binding"] == 40
    html = web.render_network(web.View(snapshot, matrix), "big")
    assert html is not None and html.count('data-ip="') == MAX_BLOCKS * 256 and "hold something" in html


def test_each_address_says_what_it_is_and_hostile_names_stay_text() -> None:
    facts = (
        Fact("edgemax", "static-mapping printer", "lan", "printer", "aa:bb:cc:00:00:01", "192.168.10.40"),
        Fact("edgemax", "lease 192.168.10.150", "lan", HOSTILE, "aa:bb:cc:00:00:02", "192.168.10.150",
             discovery=True),
    )
    web01 = Binding("lan", "web01", "aa:bb:cc:00:00:03", "192.168.10.7")
    snapshot = _snapshot(Plan(bindings=(web01,)), facts)
    matrix = status.build(snapshot)
    amap = address_map(snapshot, matrix, snapshot.config.network("lan"))
    cells = {c.ip: c for b in amap.blocks for c in b.cells}
    assert len(cells) == 256 and not amap.note
    assert cells["192.168.10.7"].kind == "binding" and cells["192.168.10.7"].href == "/host/lan/web01"
    assert cells["192.168.10.40"].kind == "reservation" and "printer" in cells["192.168.10.40"].title
    assert cells["192.168.10.150"].kind == "lease" and HOSTILE in cells["192.168.10.150"].title
    html = web.render_network(web.View(snapshot, matrix), "lan") or ""
    assert "<script>" not in html and "&lt;script&gt;window.__pwned=1&lt;/script&gt;\\x1b[2J" in html
    assert "\x1b" not in html
    assert web.render_network(web.View(snapshot, matrix), "nope") is None


def test_a_row_names_its_state_and_the_other_hosts_of_its_conflict() -> None:
    a = Address.parse("edgemax_dhcp_mapping.LAN.web01")
    conflict = Conflict(ConflictKind.IP_CLAIMED_TWICE, "192.168.10.7 is claimed twice", ("x", "y"), "lan",
                        (), ("lan.web01", f"lan.{HOSTILE.lower()}"), "give one of them another address",
                        ("web01 gets no reservation",))
    plan = Plan(bindings=(Binding("lan", "web01", None, "192.168.10.7"),), conflicts=(conflict,),
                drift=(Drift(a, {"ip": "192.168.10.7"}, {"ip": "192.168.10.99"}, "revert", "changed"),))
    snapshot = _snapshot(plan)
    matrix = status.build(snapshot)
    details = Details(snapshot, matrix)
    row = matrix.row("lan", "web01")
    assert row is not None
    detail = details.of(row)
    assert detail.badge == "conflict" and detail.badge_class == "red"
    (note,) = detail.conflicts
    assert note.fix == "give one of them another address" and note.effects == ("web01 gets no reservation",)
    assert [p.key for p in note.peers] == [f"lan/{HOSTILE.lower()}"]
    html = web.render_status(web.View(snapshot, matrix))
    assert "<script>window" not in html and "to fix:" in html
    assert 'href="/host/lan/%3Cscript%3Ewindow.__pwned%3D1%3C%2Fscript%3E%1B%5B2j"' in html
    text = drift_note(plan.drift[0])
    assert text.text == "changed on the router by hand: the next apply reverts it — keep it with"
    assert text.command == "netsot apply --adopt edgemax_dhcp_mapping.LAN.web01"
    assert drift_note(Drift(a, {"ip": "1"}, None, "revert", "gone")).command == ""


def test_links_out_never_carry_a_credential() -> None:
    nipap = SimpleNamespace(url="https://netsot:s3cret@[2001:db8::5]:1337/XMLRPC")
    assert nipap_link(nipap, "nipap_prefix", {"provider_id": "12"}) == "https://[2001:db8::5]/prefix/edit/12"
    assert nipap_link(nipap, "nipap_prefix", {"provider_id": "1 or 1=1"}) is None
    script = SimpleNamespace(url="javascript:alert(1)")
    assert nipap_link(script, "nipap_prefix", {"provider_id": "1"}) is None
    pve = SimpleNamespace(host="pve1.lab", port=8006)
    assert proxmox_link(pve, "guest", {"type": "qemu", "vmid": 101}) == \
        "https://pve1.lab:8006/#v1:0:=qemu%2F101:4:::::::"
    assert proxmox_link(pve, "guest", {"type": "lxc", "vmid": "x"}) is None
    assert re.match(r"https://\[::1\]:8006/", proxmox_link(SimpleNamespace(host="::1", port=8006), "guest",
                                                          {"type": "lxc", "vmid": 7}) or "")


def test_the_badge_says_held_pending_or_in_sync_and_a_waiting_write_back_says_why() -> None:
    from core.model import Action, Change, Held

    nipap = Address.parse("nipap_address.lan.web01")
    create = Change(Action.CREATE, nipap, None, {"ip": "192.168.10.7", "hostname": "web01"})
    bindings = (Binding("lan", "web01", None, "192.168.10.7"),)
    badges = {}
    for label, plan in (("held", Plan(bindings=bindings, held=(Held(create, "threshold", "too many"),))),
                        ("pending", Plan(bindings=bindings, changes=(create,))),
                        ("none", Plan(bindings=bindings))):
        snapshot = _snapshot(plan)
        matrix = status.build(snapshot)
        row = matrix.row("lan", "web01")
        assert row is not None
        badges[label] = Details(snapshot, matrix).of(row).badge
    assert badges == {"held": "held", "pending": "pending", "none": "none"}
    waiting = Binding("lan", "web01", None, "192.168.10.7", waiting="pending restart",
                      answers_at="192.168.10.9")
    snapshot = _snapshot(Plan(bindings=(waiting,)))
    matrix = status.build(snapshot)
    row = matrix.row("lan", "web01")
    assert row is not None
    detail = Details(snapshot, matrix).of(row)
    assert detail.badge == "pending" and detail.notes[0].text.startswith("pending restart:")
