"""`netsot verify` for VyOS: each managed DNS name is asked of the router's resolver (a real dnsmasq
serving the hosts file VyOS would write from the simulator's running config)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.model import Binding, Desired
from engine.cli.main import cli
from engine.plan.planner import context_for
from providers.lab.dns import Dnsmasq, find_dnsmasq
from providers.vyos.provider import VyosProvider
from providers.vyos.sim.lab import hosts_text as render_hosts
from providers.vyos.sim.server import SimHandle, start
from tests.providers.vyos.fixtures import LAB, lab_config, vyos_settings

DNSMASQ = find_dnsmasq()


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SimHandle]:
    handle = start(LAB["1.5"], dialect="1.5", state_dir=tmp_path)
    yield handle
    handle.stop()


def test_verify_asks_the_routers_resolver_for_every_managed_name(sim: SimHandle, tmp_path: Path) -> None:
    assert DNSMASQ is not None, "dnsmasq is a system package of this project (make setup)"
    hosts = tmp_path / "hosts"
    hosts.write_text("")
    dns = Dnsmasq(DNSMASQ, hosts, ["lab.example"], tmp_path / "dnsmasq.log")
    dns.start()
    try:
        config = tmp_path / "netsot.yaml"
        config.write_text(f"""\
version: 1
state: {{path: state.json}}
providers:
  vyos: {{url: "{sim.url}", api_key: "${{env:VYOS_KEY}}", ca_bundle: "{sim.ca_path}",
          dns_server: "127.0.0.1:{dns.port}"}}
networks:
  - {{name: lan, prefix: 192.168.1.0/24, domain: lab.example, vyos: {{shared_network: LAN}}}}
hosts:
  - {{name: web01, network: lan, ip: 192.168.1.20, mac: "bc:24:11:00:00:01", aliases: [www]}}
""")
        runner = CliRunner(env={"VYOS_KEY": sim.key})
        base = ["--no-color", "--config", str(config)]
        assert runner.invoke(cli, [*base, "apply", "--auto-approve"]).exit_code == 0
        bad = runner.invoke(cli, [*base, "verify"])  # the resolver has not got the names yet
        assert bad.exit_code != 0 and "web01.lab.example" in bad.output, bad.output
        assert "NXDOMAIN" in bad.output
        hosts.write_text(render_hosts(sim.router.running))
        dns.reload()
        good = runner.invoke(cli, [*base, "verify"])
        assert good.exit_code == 0, good.output
        assert "web01.lab.example" in good.output and "www.lab.example" in good.output
    finally:
        dns.stop()


@pytest.mark.parametrize("resolves", [False, True])
def test_commit_confirm_is_confirmed_only_when_the_names_resolve(sim: SimHandle, tmp_path: Path,
                                                                resolves: bool) -> None:
    assert DNSMASQ is not None
    hosts = tmp_path / "hosts"
    # resolves: the router's resolver answers, as VyOS's does once the commit wrote /etc/hosts
    hosts.write_text("192.168.1.20 web01.lab.example web01\n" if resolves else "")
    dns = Dnsmasq(DNSMASQ, hosts, ["lab.example"], tmp_path / "dnsmasq.log")
    dns.start()
    try:
        settings = vyos_settings(sim, commit_confirm=3, dns_server=f"127.0.0.1:{dns.port}")
        web = Binding("lan", "web01", "bc:24:11:00:00:01", "192.168.1.20", origin="config")
        p = VyosProvider(lab_config(settings), settings)
        result = p.apply(p.plan(Desired(bindings=(web,)), p.read(), context_for(p.config)))
        p.close()
        ops = [c.get("op") for c in sim.calls("/configure")]
        assert sim.calls("/configure")[0]["confirm_time"] == 3
        if resolves:
            assert {o.status for o in result.outcomes} == {"applied"}, result.outcomes
            assert ops == [None, "confirm"] and len(sim.calls("/config-file")) == 1
            assert sim.router.pending_confirm is None
        else:
            assert {o.status for o in result.outcomes} == {"failed"}
            assert "left unconfirmed" in str(result.outcomes[0].error)
            assert ops == [None] and sim.calls("/config-file") == []  # no confirm, no save
            assert sim.router.pending_confirm is not None  # the router reverts when its timer runs out
    finally:
        dns.stop()
