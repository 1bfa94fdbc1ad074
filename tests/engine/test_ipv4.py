"""Unit tests of the integer IPv4 helpers reconcile uses (parsing must agree with ``ipaddress``)."""

from __future__ import annotations

import ipaddress

import pytest

from core.config import Network
from core.ipv4 import Span, canon_ip, ip_int, ip_text


@pytest.mark.parametrize("text", ["10.0.0.1", "0.0.0.0", "255.255.255.255", "192.168.1.10"])
def test_ip_int_agrees_with_ipaddress_and_round_trips(text: str) -> None:
    assert ip_int(text) == int(ipaddress.IPv4Address(text))
    assert ip_text(ip_int(text) or 0) == text


@pytest.mark.parametrize("text", [None, "", "10.0.0", "10.0.0.256", "10.0.0.01", "10.0.0.-1", "a.b.c.d",
                                  "10.0.0.1.2", "１.2.3.4"])
def test_ip_int_rejects_what_ipaddress_rejects(text: str | None) -> None:
    assert ip_int(text) is None


def test_canon_ip_keeps_unparseable_text_for_the_conflict_report() -> None:
    assert canon_ip(" 10.0.0.7 ") == "10.0.0.7"
    assert canon_ip("not-an-ip") == "not-an-ip"
    assert canon_ip(None) is None


def test_span_of_a_network_with_gateway_and_dhcp_range() -> None:
    net = Network(name="lan", prefix="192.168.1.0/24", gateway="192.168.1.1",
                  dhcp_range={"start": "192.168.1.100", "stop": "192.168.1.199"})
    span = Span.of(net)
    base = ip_int("192.168.1.0") or 0
    assert (span.first, span.last) == (base, base + 255)
    assert span.usable == (base + 1, base + 254)
    assert span.gateway == base + 1
    assert span.dynamic == (base + 100, base + 199)


def test_span_of_a_point_to_point_network_uses_both_addresses() -> None:
    span = Span.of(Network(name="p2p", prefix="10.9.0.0/31"))
    assert span.usable == (span.first, span.last)
    assert span.gateway is None and span.dynamic is None
