"""`netsot init`'s merge and render, without systems: prefixes joined across systems, a hypervisor's
placements voted onto networks by address, unmatched things as TODO comments, and the text loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import ConfigError, NetsotError
from engine.config.init import Wizard, merge, render, write_config
from engine.config.load import load_config
from providers.base import InitPlacement, InitSubnet, InitSystem

SCHEMA = str(Path(__file__).resolve().parents[3] / "schemas" / "config.schema.json")

IPAM = InitSystem(
    "nipap",
    {"url": "http://n:1337/XMLRPC", "username": "u", "password": "${file:secrets/p}"},
    subnets=(
        InitSubnet("192.168.1.0/24", note="assignment home"),
        InitSubnet("172.16.0.0/24", note="assignment lab"),
    ),
)
ROUTER = InitSystem(
    "edgemax",
    {"host": "r", "username": "u", "private_key": "/k", "known_hosts": "kh"},
    subnets=(
        InitSubnet(
            "192.168.1.0/24",
            name="LAN",
            gateway="192.168.1.1",
            domain="home.arpa",
            dhcp_range=("192.168.1.100", "192.168.1.199"),
            settings={"shared_network": "LAN"},
        ),
        InitSubnet("10.0.30.0/24", name="LAN", settings={"shared_network": "LAN"}),
    ),
)
HYPER = InitSystem(
    "proxmox",
    {"host": "p", "user": "u@pve", "token_name": "t", "token_value": "${file:secrets/t}"},
    placements=(
        InitPlacement({"bridge": "vmbr0"}, ("192.168.1.20", "192.168.1.21", "10.0.30.5"), "vmbr0 (untagged)"),
        InitPlacement({"bridge": "vmbr0", "vlan": 40}, ("10.40.0.9/24",), "vmbr0 VLAN 40"),
        InitPlacement({"bridge": "vmbr1"}, ("203.0.113.7",), "vmbr1 (untagged)"),
    ),
)


def test_merge_joins_by_prefix_and_votes_placements() -> None:
    drafts, notes = merge([IPAM, ROUTER, HYPER])
    by = {str(d.prefix): d for d in drafts}
    assert set(by) == {"192.168.1.0/24", "172.16.0.0/24", "10.0.30.0/24", "10.40.0.0/24"}
    lan = by["192.168.1.0/24"]
    assert (lan.name, lan.gateway, lan.domain) == ("lan-2", "192.168.1.1", "home.arpa")  # 10.0.30.0 is first
    assert lan.settings == {
        "edgemax": {"shared_network": "LAN"},
        "proxmox": {"bridge": "vmbr0"},
    }  # 2 of 3 votes
    assert by["10.0.30.0/24"].name == "lan" and "proxmox" not in by["10.0.30.0/24"].settings
    assert by["10.40.0.0/24"].settings == {"proxmox": {"bridge": "vmbr0", "vlan": 40}}  # known from a /len
    assert by["172.16.0.0/24"].settings == {} and by["172.16.0.0/24"].name == "net-172-16-0-0"
    assert notes == [
        "proxmox: vmbr1 (untagged) carries no address in a known network; add that network by "
        "hand with {'bridge': 'vmbr1'}"
    ]


def test_render_loads_and_comments_what_it_could_not_match(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    for name in ("p", "t"):
        (tmp_path / "secrets" / name).write_text("x\n")
    drafts, notes = merge([IPAM, ROUTER, HYPER])
    text = render([IPAM, ROUTER, HYPER], drafts, notes, SCHEMA)
    config = write_config(tmp_path / "netsot.yaml", text)
    assert [n.name for n in config.networks] == ["lan", "net-10-40-0-0", "lan-2"]
    assert "  # TODO 172.16.0.0/24 is known only to nipap" in text
    assert "# TODO proxmox: vmbr1 (untagged) carries no address" in text
    assert "    # proxmox: {bridge: …}   TODO proxmox did not show this network" in text  # 10.0.30.0/24
    assert "    # edgemax: {shared_network: …}   TODO edgemax did not show this network" in text  # VLAN 40
    assert load_config(tmp_path / "netsot.yaml").providers["nipap"].password.reference == "${file:secrets/p}"


def test_write_config_refuses_text_that_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        write_config(tmp_path / "netsot.yaml", "version: 1\nproviders: {nosuch: {}}\n")
    assert list(tmp_path.iterdir()) == []


def test_the_wizard_undoes_its_files(tmp_path: Path) -> None:
    wizard = Wizard(
        tmp_path,
        interactive=False,
        assume_yes=True,
        echo=lambda _t: None,
        prompt=lambda *_a, **_k: "",
        confirm=lambda *_a, **_k: False,
    )
    assert wizard.secret("token", "s3cret") == "${file:secrets/token}"
    assert (tmp_path / "secrets" / "token").stat().st_mode & 0o777 == 0o600
    wizard.write("known_hosts", "x\n")
    wizard.undo()
    assert list(tmp_path.iterdir()) == []


def test_the_commands_and_each_systems_init_options_are_registered(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from engine.cli.main import cli

    runner = CliRunner()
    top = runner.invoke(cli, ["--help"]).output
    assert "  doctor " in top and "  init " in top
    helptext = runner.invoke(cli, ["init", "--help"]).output
    for flag in (
        "--pve-url",
        "--pve-fingerprint",
        "--ca-bundle",
        "--router-host-key",
        "--known-hosts",
        "--nipap-url",
        "--nipap-vrf",
        "--yes",
        "--force",
    ):
        assert flag in helptext, flag
    refused = runner.invoke(cli, ["--config", str(tmp_path / "netsot.yaml"), "init", "--yes"])
    assert refused.exit_code == 1 and "no system was given" in refused.output
    assert list(tmp_path.iterdir()) == []


def test_the_wizard_replaces_a_different_file_only_with_force_and_puts_it_back(tmp_path: Path) -> None:
    (tmp_path / "known_hosts").write_text("mine\n")
    wizard = Wizard(
        tmp_path,
        interactive=False,
        assume_yes=True,
        echo=lambda _t: None,
        prompt=lambda *_a, **_k: "",
        confirm=lambda *_a, **_k: False,
    )
    with pytest.raises(NetsotError, match="give --force"):
        wizard.write("known_hosts", "theirs\n")
    assert wizard.write("known_hosts", "mine\n") == "known_hosts"  # the same content is fine
    forced = Wizard(
        tmp_path,
        interactive=False,
        assume_yes=True,
        echo=lambda _t: None,
        prompt=lambda *_a, **_k: "",
        confirm=lambda *_a, **_k: False,
        force=True,
    )
    forced.write("known_hosts", "theirs\n")
    assert (tmp_path / "known_hosts").read_text() == "theirs\n"
    forced.undo()
    assert (tmp_path / "known_hosts").read_text() == "mine\n"
