"""`netsot inventory proxmox`: JSON (schema-valid) and table output, live and from a saved file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.config import Config
from core.errors import ConfigError, ProviderDataError
from providers.proxmox import inventory
from providers.proxmox.sim.server import SimHandle, seed_from_fixtures
from schemas import validator
from tests.providers.proxmox.conftest import lab_seed, make_config


@pytest.mark.integration
def test_live_json_and_table(sim: SimHandle) -> None:
    config = make_config(sim)
    doc = json.loads(inventory.run(config, None, True))
    assert list(validator("proxmox.inventory").iter_errors(doc)) == []
    db = next(g for g in doc if g["vmid"] == 102)
    assert db["name"] == "DB01" and [n["id"] for n in db["nics"]] == ["net0", "net1", "net2"]
    assert db["nics"][1] == {
        "id": "net1",
        "mac": "bc:24:11:00:01:12",
        "bridge": "vmbr0",
        "vlan": 20,
        "ip": "10.20.0.5/24",
        "gateway": "10.20.0.1",
        "agent_ips": ["10.20.0.5"],
        "network": "iot",  # the configured network the NIC feeds
    }
    assert 9000 not in {g["vmid"] for g in doc}
    table = inventory.run(config, None, False)
    assert table.splitlines()[0].split()[:5] == ["NODE", "VMID", "TYPE", "NAME", "STATUS"]
    assert "web01" in table and "9 guest(s), 11 NIC(s)" in table
    assert "warning: node pve3 is unreachable (595 Connection refused)" in table


def test_from_saved_json_and_from_seed(tmp_path: Path) -> None:
    saved = tmp_path / "inv.json"
    saved.write_text(
        json.dumps(
            [
                {
                    "node": "pve1",
                    "vmid": 5,
                    "type": "lxc",
                    "name": "c",
                    "status": "running",
                    "tags": [],
                    "nics": [],
                }
            ]
        )
    )
    assert json.loads(inventory.run(None, str(saved), True))[0]["vmid"] == 5
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps(lab_seed()))
    doc = json.loads(inventory.run(None, str(seed), True))
    assert len(doc) == 11 and list(validator("proxmox.inventory").iter_errors(doc)) == []
    fixtures = tmp_path / "fixtures.json"
    fixtures.write_text(json.dumps(seed_from_fixtures()))
    assert "test-qemu-windows" in inventory.run(None, str(fixtures), False)


def test_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"node": "pve1", "vmid": "5"}]))
    with pytest.raises(ProviderDataError, match=r"does not match proxmox\.inventory"):
        inventory.run(None, str(bad), True)
    bad.write_text("{not json")
    with pytest.raises(ProviderDataError, match="cannot read"):
        inventory.run(None, str(bad), True)
    with pytest.raises(ConfigError, match=r"providers\.proxmox is not configured"):
        inventory.run(Config(), None, True)
