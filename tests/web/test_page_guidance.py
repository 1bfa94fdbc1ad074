"""The status page says what is wrong and what to do, in a real browser (headless Chromium, the lab,
`netsot ui` as a subprocess).

In order on one lab: a hand edit on the router (the row's badge says *drift*, its details say the next
apply reverts it and give the `--adopt` command, which copies with one click and never wraps), a guest
claiming another host's address (badge *conflict*, the `to fix:` line and the effects on the matrix
row, the two hosts linking to each other), the address map of a network (coloured cells, tooltips,
links to host pages, a hostile guest name as text), and the links out to Proxmox and NIPAP with when
each system last saw the host.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.e2e.conftest import Lab
from tests.web.conftest import DOCS, PageServer, ui

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOSTILE = "<script>window.__pwned=3</script>"


def row(page: Any, key: str) -> Any:
    return page.locator(f'#matrix tbody tr[data-key="{key}"]')


def one_line(page: Any, selector: str) -> list[int]:
    """How many line boxes the text of each element matching ``selector`` takes."""
    return page.locator(selector).evaluate_all(
        "els => els.map(e => { const r = document.createRange(); r.selectNodeContents(e);"
        " return new Set(Array.from(r.getClientRects()).map(x => Math.round(x.top))).size; })")


@pytest.fixture(scope="module")
def servers() -> Any:
    started: list[PageServer] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def applied(lab: Lab) -> Lab:
    assert lab.cli("import", "edgemax").code == 0
    lab.apply()
    return lab


def test_a_hand_edit_says_the_apply_reverts_it_and_how_to_keep_it(applied: Lab, browser: Any,
                                                                  servers: list[PageServer]) -> None:
    lab = applied
    lab.router_configure("set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 "
                         "static-mapping web01 ip-address 192.168.10.99")
    server = ui(lab, "ui-guidance-drift")
    servers.append(server)
    browser.grant_permissions(["clipboard-read", "clipboard-write"], origin=server.url)
    page = browser.new_page()
    try:
        page.set_default_timeout(15_000)
        page.goto(server.url + "/")
        web01 = row(page, "lan/web01")
        assert web01.locator(".badge").get_attribute("data-badge") == "drift"
        assert web01.locator(".badge").inner_text() == "drift"  # words, not a colour
        web01.locator("td.why summary").click()
        text = web01.locator("td.why").inner_text()
        assert "changed on the router by hand: the next apply reverts it — keep it with" in text, text
        command = web01.locator("td.why .note code.cmd").inner_text()
        assert re.fullmatch(r"netsot apply --adopt edgemax_dhcp_mapping\.\S+web01", command), command
        # one click copies it, exactly
        web01.locator("td.why .note button.copy").click()
        page.wait_for_selector("button.copy.done")
        assert page.evaluate("navigator.clipboard.readText()") == command
        # an in-sync row has no badge; a discovered device's would say so
        assert row(page, "lan/web02").locator(".badge").count() == 0
        # commands never wrap, even on a phone
        page.set_viewport_size({"width": 360, "height": 800})
        assert set(one_line(page, "code.cmd")) == {1}
        page.set_viewport_size({"width": 1400, "height": 900})
        # the host page says the same, with the same command
        page.goto(server.url + "/host/lan/web01")
        assert page.locator("#host-title .badge").inner_text() == "drift"
        assert page.locator("main > .note code.cmd").inner_text() == command
    finally:
        page.close()
        server.stop()


def test_a_conflict_shows_what_to_do_on_its_row_and_links_both_hosts(applied: Lab, page: Any,
                                                                      servers: list[PageServer]) -> None:
    lab = applied
    lab.add_guest(299, "app05", network="lan", type_="lxc", ip="192.168.10.53/24")  # pihole's address
    server = ui(lab, "ui-guidance-conflict")
    servers.append(server)
    page.goto(server.url + "/")
    app05 = row(page, "lan/app05")
    assert app05.locator(".badge").get_attribute("data-badge") == "conflict"
    assert row(page, "lan/pihole").locator(".badge").get_attribute("data-badge") == "conflict"
    app05.locator("td.why summary").click()
    details = app05.locator("td.why .conflict")
    text = details.inner_text()
    assert "ip_claimed_twice" in text and "to fix:" in text and "effect:" in text, text
    assert details.locator(".fix").inner_text().strip() and details.locator(".effect").count() >= 1
    page.locator(".scroll").evaluate("s => { s.scrollLeft = s.scrollWidth; }")  # the row's details in view
    page.screenshot(path=str(DOCS / "status-conflict.png"), full_page=True)
    peer = details.locator("a.peer")
    assert peer.inner_text() == "lan/pihole"
    peer.click()
    page.wait_for_selector("#attributes")
    assert page.locator("#host-title").inner_text().startswith("lan/pihole")
    assert page.locator("#host-title .badge").inner_text() == "conflict"
    back = page.locator(".conflict a.peer")
    assert back.first.inner_text() == "lan/app05"
    back.first.click()
    page.wait_for_selector("#attributes")
    assert page.locator("#host-title").inner_text().startswith("lan/app05")
    server.stop()


def test_the_address_map_colours_each_address_and_links_its_host(applied: Lab, page: Any,
                                                                 servers: list[PageServer]) -> None:
    lab = applied
    lab.add_guest(297, HOSTILE, network="lan", type_="lxc", ip="192.168.10.66/24")
    server = ui(lab, "ui-guidance-map")
    servers.append(server)
    page.goto(server.url + "/")
    page.locator("a.netmap", has_text="lan").first.click()
    page.wait_for_selector("#net-title")
    assert page.locator("#net-title").inner_text().startswith("lan")
    cells = page.locator(".grid [data-ip]")
    assert cells.count() == 256  # a /24: every address, once
    web01 = page.locator('.grid [data-ip="192.168.10.7"]')
    assert web01.get_attribute("data-kind") == "binding"
    assert web01.get_attribute("href") == "/host/lan/web01"
    assert "web01" in (web01.get_attribute("title") or "")
    assert page.locator('.grid [data-ip="192.168.10.53"]').get_attribute("data-kind") == "conflict"
    assert page.locator('.grid [data-ip="192.168.10.1"]').get_attribute("data-kind") == "gateway"
    assert page.locator('.grid [data-ip="192.168.10.0"]').get_attribute("data-kind") == "reserved"
    lease = page.locator('.grid [data-ip="192.168.10.150"]')  # the lab's phone, a dynamic lease only
    assert lease.get_attribute("data-kind") == "lease"
    assert "phone-anna" in (lease.get_attribute("title") or "")
    assert lease.get_attribute("href") == "/host/lan/f0%3A18%3A98%3Aaa%3A01%3A02"
    kinds = set(cells.evaluate_all("cs => cs.map(c => c.getAttribute('data-kind'))"))
    assert {"dynamic", "free"} <= kinds
    hostile = page.locator('.grid [data-ip="192.168.10.66"]')
    assert HOSTILE in (hostile.get_attribute("title") or "")
    assert page.evaluate("window.__pwned") is None and page.locator("main script").count() == 0
    page.screenshot(path=str(DOCS / "status-addresses.png"), full_page=True)
    web01.click()
    page.wait_for_selector("#attributes")
    assert page.locator("#host-title").inner_text().startswith("lan/web01")
    assert page.goto(server.url + "/network/nope").status == 404
    server.stop()


def test_links_out_to_each_system_and_when_it_last_saw_the_host(applied: Lab, page: Any,
                                                                servers: list[PageServer]) -> None:
    lab = applied
    server = ui(lab, "ui-guidance-links")
    servers.append(server)
    page.goto(server.url + "/host/lan/web01")
    links = page.locator("#out a.out")
    hrefs = links.evaluate_all("as => as.map(a => a.getAttribute('href'))")
    pve = [h for h in hrefs if "#v1:0:=" in h]
    assert pve and re.fullmatch(r"https://[^/]+:\d+/#v1:0:=qemu%2F101:4:::::::", pve[0]), hrefs
    nipap = [h for h in hrefs if "/prefix/edit/" in h]
    assert nipap and re.fullmatch(r"http://[^/@:]+/prefix/edit/\d+", nipap[0]), hrefs  # no port, no password
    for rel in links.evaluate_all("as => as.map(a => a.getAttribute('rel'))"):
        assert rel == "noopener noreferrer"
    seen = page.locator("#out .seen").inner_text()
    assert "last seen:" in seen and "proxmox" in seen and "nipap" in seen and "ago" in seen, seen
    page.goto(server.url + "/network/lan")
    prefix = page.locator("a.out").evaluate_all("as => as.map(a => a.getAttribute('href'))")
    assert any(re.fullmatch(r"http://[^/@:]+/prefix/edit/\d+", h) for h in prefix), prefix
    server.stop()
