"""One hostile lease must not stop everything: a client name holding CR/LF (or a control character) in
the router's `show dhcp leases` makes that one lease unusable — listed with the reason — while plan,
apply and the status page keep working (the lab's router simulator over SSH)."""

from __future__ import annotations

import dataclasses

import pytest

from providers.edgemax.leases import HEADER, Lease, read_show_leases
from tests.faults.harness import FaultLab, no_traceback

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_lease_name_with_a_line_break_leaves_only_that_lease_out(lab: FaultLab) -> None:
    with lab.router.sim.router.lock:
        current: list[Lease] = list(lab.router.sim.router.leases)
    template = current[0]
    hostile = [dataclasses.replace(template, ip="192.168.10.151", mac="f0:18:98:aa:01:03",
                                   hostname="evil\r\nname")]
    lab.router.set_leases([*current, *hostile])
    plan = lab.cli("plan", "--show-discovered")
    no_traceback(plan)
    assert plan.code == 0, str(plan)
    assert "the lease of 192.168.10.151 (f0:18:98:aa:01:03) is left out: its client name holds a line break" \
        in plan.out, plan.out
    assert template.hostname in plan.out  # the other leases are still read and listed
    applied = lab.apply()
    assert applied.code == 0, str(applied)
    assert lab.cli("plan", "--detailed-exitcode").code == 0


def test_the_parser_lists_each_unusable_row_and_keeps_the_rest() -> None:
    text = HEADER + (
        "192.168.1.10    00:11:22:33:44:55  2026/11/29 08:00:00  LAN        evil\r\n"
        "name\n"
        "192.168.1.11    00:11:22:33:44:56  2026/11/29 08:00:00  LAN        bell\x07ring\n"
        "999.1.1.1       00:11:22:33:44:57  2026/11/29 08:00:00  LAN        bad-ip\n"
        "192.168.1.12    00:11:22:33:44:58  2026/11/29 08:00:00  LAN        fine\n"
    )
    table = read_show_leases(text)
    assert [lease.hostname for lease in table.leases] == ["fine"]
    assert table.unusable == (
        "show dhcp leases:3: the lease of 192.168.1.10 (00:11:22:33:44:55) is left out: its client name "
        "holds a line break (it goes on with 'name')",
        "show dhcp leases:5: the lease of 192.168.1.11 (00:11:22:33:44:56) is left out: its client name "
        "holds a control character",
        "show dhcp leases:6: not an IP address: '999.1.1.1'",
    )
