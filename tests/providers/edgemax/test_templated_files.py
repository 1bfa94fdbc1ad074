"""Templated router files: a line netsot cannot parse *outside* what it reads is a warning naming
the line (``inventory`` / ``import --from-file``); inside what it reads it stays an error.

A real templated VyOS-style file (placeholders such as ``${WAN_IP}`` for the site's addresses, 138
static mappings) used to be refused as a whole, losing every mapping.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Config, Network, StateSettings
from core.errors import ProviderDataError
from engine.cli.output import import_output
from engine.workflow import import_run
from providers.edgemax import inventory
from providers.edgemax.settings import EdgemaxNetwork
from providers.vyatta.lenient import parse_file

REPO = Path(__file__).resolve().parents[3]
SN = "set service dhcp-server shared-network-name 'LAN' subnet '10.1.0.0/16'"
TEMPLATED = [
    "#!/bin/vbash",
    "source /opt/vyatta/etc/functions/script-template",
    "configure",
    "set interfaces ethernet eth0 address ${WAN_IP}",  # line 4
    "set interfaces ethernet eth0 description \"uplink to ${ISP}\"",  # line 5
    "set system host-name ${SITE}-gw",  # line 6
    f"{SN} default-router '10.1.0.1'",
    f"{SN} start '10.1.200.1' stop '10.1.200.99'",
    *(line for i in range(138) for line in (
        f"{SN} static-mapping 'dev{i:03d}' ip-address '10.1.{i // 200}.{i % 200 + 10}'",
        f"{SN} static-mapping 'dev{i:03d}' mac-address '52:54:00:00:{i // 256:02x}:{i % 256:02x}'")),
    "commit",
    "save",
]
PLACEHOLDER_INSIDE = f"{SN} static-mapping 'dev999' ip-address ${{DEV_IP}}"
BOOT = """interfaces {
    ethernet ${LAN_IF} {
        address 10.1.0.1/16
        description "LAN"
    }
}
service {
    dhcp-server {
        shared-network-name LAN {
            subnet 10.1.0.0/16 {
                static-mapping web01 {
                    ip-address 10.1.0.20
                    mac-address 52:54:00:00:00:01
                }
            }
        }
    }
}
system {
    host-name ${SITE}-gw
}
"""


def test_placeholders_outside_what_netsot_reads_are_warnings_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "site.sh"
    path.write_text("\n".join(TEMPLATED) + "\n")
    doc = json.loads(inventory.run(None, str(path), True))
    assert len(doc["dhcp_static_mappings"]) == 138
    assert [w.split(";")[0] for w in doc["warnings"]] == [
        "site.sh:4: unquoted brace in '${WAN_IP}' (a template placeholder?): quote the value",
        "site.sh:5: a template placeholder (shell expansion in a double-quoted word is not supported: "
        "'uplink to ${ISP}')",
        "site.sh:6: unquoted brace in '${SITE}-gw' (a template placeholder?): quote the value",
    ]
    assert doc["warnings"][0].endswith(
        "skipped line 4 (interfaces ethernet eth0 address: outside what netsot reads)")
    text = inventory.run(None, str(path), False)
    assert "DHCP static mappings (138):" in text
    assert "Warning: site.sh:6: unquoted brace in '${SITE}-gw'" in text


def test_a_placeholder_inside_what_netsot_reads_is_still_an_error(tmp_path: Path) -> None:
    path = tmp_path / "site.sh"
    path.write_text("\n".join([*TEMPLATED[:8], PLACEHOLDER_INSIDE]) + "\n")
    with pytest.raises(ProviderDataError, match=r"site\.sh:9: unquoted brace in '\$\{DEV_IP\}'"):
        inventory.run(None, str(path), True)
    with pytest.raises(ProviderDataError, match=r"r\.boot:12: invalid node name"):
        parse_file(BOOT.replace("10.1.0.20", "${WEB_IP}"), "r.boot")


def test_a_config_boot_template_skips_a_placeholder_block_and_line() -> None:
    tree, warnings = parse_file(BOOT, "site.boot")
    assert [w.split(";")[1] for w in warnings] == [
        " skipped lines 2-5 (interfaces ethernet: outside what netsot reads)",
        " skipped line 20 (system host-name: outside what netsot reads)",
    ]
    assert tree.value(["service", "dhcp-server", "shared-network-name", "LAN", "subnet", "10.1.0.0/16",
                       "static-mapping", "web01", "ip-address"]) == "10.1.0.20"
    assert tree.node(["interfaces"]) is None or tree.node(["interfaces", "ethernet"]) is None


def test_import_from_a_templated_file_adopts_and_notes_the_skipped_lines(tmp_path: Path) -> None:
    path = tmp_path / "site.sh"
    path.write_text("\n".join(TEMPLATED) + "\n")
    lan = Network(name="lan", prefix="10.1.0.0/16", domain="lab.example",  # type: ignore[arg-type]
                  edgemax=EdgemaxNetwork(shared_network="LAN"))
    config = Config(networks=(lan,), state=StateSettings(path=str(tmp_path / "state.json")))
    outcome = import_run(config, "edgemax", str(path), True)
    assert outcome.plan.to_dict()["summary"]["adopt"] == 138
    out = import_output(outcome, True, False)
    assert out.startswith("Note: site.sh:4: unquoted brace in '${WAN_IP}' (a template placeholder?)")


def _inventory_cli(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine", "--no-color", "inventory", "edgemax",
                           "--from-file", str(path)], capture_output=True, text=True, timeout=120,
                          cwd=str(path.parent), env={**os.environ, "PYTHONPATH": str(REPO), "NO_COLOR": "1"},
                          check=False)


def test_the_cli_inventory_from_a_templated_file(tmp_path: Path) -> None:
    path = tmp_path / "site.sh"
    path.write_text("\n".join(TEMPLATED) + "\n")
    proc = _inventory_cli(path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "DHCP static mappings (138):" in proc.stdout
    assert "Warning: site.sh:4: unquoted brace in '${WAN_IP}'" in proc.stdout
    path.write_text("\n".join([*TEMPLATED[:8], PLACEHOLDER_INSIDE]) + "\n")
    proc = _inventory_cli(path)
    assert proc.returncode == 1 and "site.sh:9: unquoted brace" in proc.stdout + proc.stderr


def test_a_broken_shape_is_never_skipped() -> None:
    # an unclosed block outside what netsot reads would swallow the rest of the file if skipped
    unclosed = BOOT.replace("        description \"LAN\"\n    }\n", "        description \"LAN\"\n", 1)
    with pytest.raises(ProviderDataError, match=r"never closed|unexpected"):
        parse_file(unclosed.replace("ethernet ${LAN_IF} {", "ethernet eth1 {"), "site.boot")
