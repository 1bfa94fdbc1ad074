"""Injection: hostile guest names, tags and descriptions seeded into Proxmox, then plan + apply.

The router must see no command outside the expected static-mapping / static-host-mapping
shapes (plus the session's fixed op/config commands); bad names become ``invalid_name``
conflicts; everything else applies.
"""

from __future__ import annotations

import json
import re

import pytest

from providers.lab.homelab import LabGuest, LabNic, mac_for
from providers.proxmox.sim.seed import proxmox_guest
from tests.faults.harness import SHAPES_OK, FaultLab, no_traceback

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HOSTILE_NAMES = [
    'evil"quote', "o'brien", "semi;colon", "new\nline", "$(reboot)", "`id`", "a&&b", "p|ipe",
    "ünïcödé", "nul\x00byte", "x" * 300, "sp ace", "-dash", "tab\there", "back\\slash", "a}b{c",
]
SESSION_COMMANDS = {"terminal length 0", "terminal width 512", "show configuration commands",
                    "show dhcp leases", "configure", "compare", "compare saved", "save", "exit",
                    "exit discard", "discard"}
# what one value may look like inside a generated line: a plain word or a single-quoted one
VALUE = r"(?:[A-Za-z0-9._:/-]+|'[^'\n]*')"
SHAPES = [
    re.compile(rf"^(set|delete) service dhcp-server shared-network-name {VALUE} subnet {VALUE} "
               rf"static-mapping {VALUE}( (ip-address|mac-address) {VALUE})?$"),
    re.compile(rf"^(set|delete) system static-host-mapping host-name {VALUE}( (inet|alias) {VALUE})?$"),
    re.compile(r'^commit( comment "[A-Za-z0-9 ._:/-]{1,80}")?$'),
]


def _seed_hostile(lab: FaultLab) -> dict[int, str]:
    guests = {}
    for i, name in enumerate([*HOSTILE_NAMES, "tagged-a", "tagged-b"]):
        vmid = 500 + i
        guest = LabGuest(vmid, name, "qemu" if i % 2 else "lxc", "pve1", "running",
                         (LabNic("lan", mac_for(vmid)),), agent="linux" if i % 2 else "none")
        entry = proxmox_guest(guest)
        entry["config"]["description"] = "desc `id` $(reboot) ; && | \n \x00 " + name
        if name.startswith("tagged"):
            entry["config"]["tags"] = "evil;tag;$(x);a&&b;`id`" if name.endswith("a") else "x|y;é;ok"
        lab.pve.handle.add_guest(entry)
        guests[vmid] = name
    lab.pve.guests.refresh()
    return guests


def test_hostile_names_never_reach_the_router_as_commands(lab: FaultLab) -> None:
    guests = _seed_hostile(lab)
    plan = lab.cli("plan", "--json")
    assert plan.code == 0, str(plan)
    doc = json.loads(plan.stdout)
    invalid = [c for c in doc["conflicts"] if c["kind"] == "invalid_name"]
    flagged = {int(o.split("/")[1].split()[0])
               for c in invalid for o in c["objects"] if o.startswith("proxmox ")}
    hostile = {vmid for vmid, name in guests.items() if not name.startswith("tagged")}
    assert flagged == hostile, f"hostile names not flagged as invalid_name: {sorted(hostile - flagged)}"
    tagged = {vmid for vmid, name in guests.items() if name.startswith("tagged")}
    warned = " ".join(doc.get("warnings", []))
    planned = " ".join(c["address"] for c in doc["changes"])
    for vmid in tagged:  # a hostile tag either reads as a plain word or the guest is skipped with a warning
        assert guests[vmid] in planned or f"{vmid}" in warned, (guests[vmid], warned)
    lab.router.log.clear()
    result = lab.apply()
    no_traceback(result)
    commands = lab.router.log.commands()
    assert "configure" in commands, "the good guests must still be applied"
    for command in commands:
        if command in SESSION_COMMANDS:
            continue
        assert command.startswith((*SHAPES_OK, "commit")), f"unexpected router command: {command!r}"
        assert any(s.match(command) for s in SHAPES), f"router command outside the shapes: {command!r}"
    for kind, detail in lab.router.log.entries:
        assert kind not in ("internal_error",), (kind, detail)
    # the ordinary guests applied; names the router cannot hold are in no system
    assert {"edgemax_host.web01.lab.example", "nipap_address.lan.web01"} <= lab.state_addresses()
    names_on_router = " ".join(lab.router_entries())
    for name in guests.values():
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", name):
            assert name not in names_on_router, name
    assert result.code in (0, 1), str(result)
    second = lab.apply()
    assert second.code == 0, str(second)
    lab.assert_consistent()


FORGED = "\r\nPlan: 0 to add, 0 to change, 0 to destroy."


def test_names_cannot_forge_plan_lines_or_markdown_links(lab: FaultLab) -> None:
    """A guest and a NIPAP host whose names carry CR/LF + a fake summary, a Unicode line separator,
    an ANSI escape and Markdown/URL payloads: the text plan keeps one summary line (the real one)
    and no raw control character; the Markdown plan has no live link and no foreign HTML."""
    from providers.lab.runner import NIPAP_USER
    from providers.lab.seeds import VRF_RT
    from tests.hostile.inert import assert_inert_markdown, assert_inert_text
    from tests.providers.nipap.conftest import rpc_for

    names = [f"web{FORGED}", "x\u2028Plan: 9 to add, 0 to change, 0 to destroy.", "esc\x1b[2Jclear",
             "[click](http://evil.example)", "http://evil.example/x", "www.evil.example", "@admin"]
    for i, name in enumerate(names):
        vmid = 600 + i
        guest = LabGuest(vmid, name, "lxc", "pve1", "running", (LabNic("lan", mac_for(vmid)),))
        lab.pve.handle.add_guest(proxmox_guest(guest))
    lab.pve.guests.refresh()
    rpc = rpc_for(lab.nipap.url(NIPAP_USER, lab.paths.secret("nipap_password")))
    vrf_id = rpc("list_vrf", vrf={"rt": VRF_RT})[0]["id"]
    rpc("add_prefix", attr={"prefix": "192.168.10.240/32", "type": "host", "node": f"nas2{FORGED}",
                            "description": f"[x](http://evil.example){FORGED}", "vrf_id": vrf_id})

    text = lab.cli("plan")
    assert text.code == 0, str(text)
    assert_inert_text(text.stdout)
    assert "Plan: 0 to add" not in text.stdout.splitlines()[-1]
    markdown = lab.cli("plan", "--format", "markdown")
    assert markdown.code == 0, str(markdown)
    assert "evil" in markdown.stdout  # the payloads are shown, as text
    assert_inert_markdown(markdown.stdout)
