"""The status page in a real browser: the lab, `netsot serve` / `netsot ui` as subprocesses, headless
Chromium.

The story runs in order on one lab: import + apply (every host green, resolves after verify), a hand
edit on the router (its cell turns amber with the reason), a guest claiming another host's IP (both
rows red, each naming both claimants), search, the host page's provenance, hostile names (text, never
markup), the token, the page without JavaScript; screenshots of the matrix and a host page go to
$NETSOT_SCREENSHOTS (`make screenshots`: docs/), else a scratch directory.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest

from providers.edgemax.leases import Lease
from tests.e2e.conftest import Lab
from tests.web.conftest import DOCS, PageServer, serve, ui

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

HOSTILE_LEASE = "<img/src=x/onerror=window.__pwned=1>'\"&amp;\x1b[2J"  # a lease name has no spaces
HOSTILE_GUEST = "<script>window.__pwned=2</script>\x1b[2J\u202e"  # markup, an escape, a bidi override


def cell(page: Any, network: str, name: str, column: str) -> Any:
    """The matrix cell of ``network/name`` in the column whose key ends with ``column``."""
    row = page.locator(f'#matrix tbody tr[data-key="{network}/{name}"]')
    return row.locator(f'td[data-col$="{column}"]')


def rows_of(page: Any) -> list[str]:
    return page.locator("#matrix tbody tr:not(.hidden)").evaluate_all(
        "rows => rows.map(r => r.getAttribute('data-key'))")


def get(url: str, token: str | None = None) -> tuple[int, str]:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.fixture(scope="module")
def servers() -> Any:
    started: list[PageServer] = []
    yield started
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def applied(lab: Lab) -> dict[str, Any]:
    assert lab.cli("import", "edgemax").code == 0
    lab.apply()
    verify = lab.cli("verify")
    assert verify.code == 0, verify.out
    return lab.plan_json()


def test_serve_shows_every_host_green_after_import_and_apply(lab: Lab, applied: dict[str, Any], page: Any,
                                                          servers: list[PageServer]) -> None:
    server = serve(lab, "serve-green")
    servers.append(server)
    deadline = time.monotonic() + 60
    while get(server.url + "/healthz")[0] != 200:  # the first run reads, plans (nothing to apply)
        assert time.monotonic() < deadline, server.text()[-3000:]
        time.sleep(0.2)
    page.goto(server.url + "/")
    page.wait_for_selector("#matrix")
    keys = set(rows_of(page))
    bindings = {f"{b['network']}/{b['hostname']}" for b in applied["bindings"]}
    assert bindings and bindings <= keys, sorted(bindings - keys)
    for key in bindings:
        row = page.locator(f'#matrix tbody tr[data-key="{key}"]')
        assert row.get_attribute("data-state") == "ok", (key, row.inner_text())
        classes = row.locator("td.cell").evaluate_all("tds => tds.map(t => t.className)")
        assert not [c for c in classes if "c-amber" in c or "c-red" in c], (key, classes)
    # the router's DNS answers for a managed name (from the last verify), the NIPAP host is there
    assert "c-ok" in (cell(page, "lan", "web01", "resolves").get_attribute("class") or "")
    assert "c-ok" in (cell(page, "lan", "web01", "nipap_address").get_attribute("class") or "")
    assert page.locator("#run-outcome").inner_text() == "ok"
    for system in ("nipap", "edgemax", "proxmox"):
        assert "read" in page.locator(f"#health-{system}").inner_text()
    # the JSON endpoints keep working beside the page
    code, body = get(server.url + "/plan")
    assert code == 200 and json.loads(body)["format_version"] == "1"
    assert get(server.url + "/healthz")[0] == 200
    server.stop()


def test_a_hand_edited_reservation_turns_its_cell_amber_with_the_reason(
        lab: Lab, applied: dict[str, Any], page: Any, servers: list[PageServer]) -> None:
    lab.router_configure("set service dhcp-server shared-network-name LAN subnet 192.168.10.0/24 "
                         "static-mapping web01 ip-address 192.168.10.99")
    server = ui(lab, "ui-drift")
    servers.append(server)
    page.goto(server.url + "/")
    reservation = cell(page, "lan", "web01", "edgemax_dhcp_mapping")
    assert "c-amber" in (reservation.get_attribute("class") or "")
    reason = reservation.get_attribute("title") or ""
    assert "192.168.10.99" in reason and "192.168.10.7" in reason and "by hand" in reason, reason
    row = page.locator('#matrix tbody tr[data-key="lan/web01"]')
    assert row.get_attribute("data-state") == "amber"
    row.locator("td.why summary").click()
    assert "192.168.10.99" in row.locator("td.why").inner_text()
    # its other cells stay green: only what changed is amber
    assert "c-ok" in (cell(page, "lan", "web01", "edgemax_host").get_attribute("class") or "")
    server.stop()


def test_a_conflict_is_red_with_both_claimants(lab: Lab, applied: dict[str, Any], page: Any,
                                               servers: list[PageServer]) -> None:
    lab.add_guest(299, "app05", network="lan", type_="lxc", ip="192.168.10.53/24")  # pihole's address
    server = ui(lab, "ui-conflict")
    servers.append(server)
    page.goto(server.url + "/")
    for name in ("app05", "pihole"):
        row = page.locator(f'#matrix tbody tr[data-key="lan/{name}"]')
        assert row.get_attribute("data-state") == "red", name
        red = row.locator("td.c-red")
        assert red.count() >= 1
        reason = red.first.get_attribute("title") or ""
        assert "ip_claimed_twice" in reason and "app05" in reason and "pihole" in reason, reason
    assert "1" in page.locator("#counts li.red").inner_text()
    page.goto(server.url + "/host/lan/app05")
    conflict = page.locator(".conflict").first.inner_text()
    assert "ip_claimed_twice" in conflict and "to fix:" in conflict, conflict
    explained = lab.cli("explain", "lan/app05").out
    assert "  ! ip_claimed_twice:" in explained and "      to fix: " in explained, explained
    server.stop()


def test_search_filters_rows_and_the_host_page_shows_provenance(lab: Lab, applied: dict[str, Any], page: Any,
                                                                 servers: list[PageServer]) -> None:
    server = ui(lab, "ui-search")
    servers.append(server)
    page.goto(server.url + "/")
    everything = rows_of(page)
    page.fill("#q", "web0")
    assert sorted(rows_of(page)) == ["lan/web01", "lan/web02"]
    web01_mac = page.locator('#matrix tbody tr[data-key="lan/web01"]').get_attribute("data-mac")
    page.fill("#q", web01_mac)
    assert rows_of(page) == ["lan/web01"]
    page.fill("#q", "10.20.0.")
    assert rows_of(page) and all(k.startswith("servers/") for k in rows_of(page))
    page.fill("#q", "")
    page.select_option("#network", "servers")
    assert rows_of(page) and all(k.startswith("servers/") for k in rows_of(page))
    page.select_option("#network", "")
    assert rows_of(page) == everything
    page.screenshot(path=str(DOCS / "status-matrix.png"), full_page=True)
    page.click('#matrix tbody tr[data-key="lan/web01"] td.name a')
    page.wait_for_selector("#attributes")
    assert page.locator("#host-title").inner_text().startswith("lan/web01")
    attributes = page.locator("#attributes").inner_text()
    assert "ip: config > nipap > proxmox > edgemax" in attributes, attributes
    assert "from nipap 192.168.10.7" in attributes and "from proxmox pve1/101 net0" in attributes
    assert "192.168.10.99" in attributes  # what the hand-edited reservation says
    assert "192.168.10.99" in page.locator(".change").inner_text()  # the planned revert and why
    assert page.locator("#history tr").count() > 1  # the apply that created it
    page.screenshot(path=str(DOCS / "status-host.png"), full_page=True)
    server.stop()


def test_hostile_names_render_as_text(lab: Lab, applied: dict[str, Any], page: Any,
                                      servers: list[PageServer]) -> None:
    lab.router.set_leases([Lease("192.168.10.160", "52:54:00:12:34:56", "2030/01/01 00:00:00", "LAN",
                                 HOSTILE_LEASE)])
    lab.add_guest(298, HOSTILE_GUEST, network="lan", type_="lxc")
    server = ui(lab, "ui-hostile")
    servers.append(server)
    page.goto(server.url + "/")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#matrix img").count() == 0 and page.locator("main script").count() == 0
    text = page.locator("#matrix").inner_text()
    assert "<img/src=x/onerror=window.__pwned=1>'\"&amp;" in text, text[-2000:]
    body = page.locator("body").inner_text()
    # control characters shown as escapes (the guest's name is lower-cased on the way)
    assert "<script>window.__pwned=2</script>\\x1b[2j\\u202e" in body
    assert "\x1b" not in body and "\u202e" not in body
    page.locator('#matrix tbody tr[data-mac="52:54:00:12:34:56"] td.name a').click()
    page.wait_for_selector("#attributes")
    assert page.evaluate("window.__pwned") is None
    assert "<img/src=x" in page.locator("#host-title").inner_text()
    server.stop()


def test_the_token_guards_the_page_and_login_sets_a_cookie(lab: Lab, applied: dict[str, Any], page: Any,
                                                            servers: list[PageServer]) -> None:
    token_file = lab.paths.root / "page.token"
    token_file.write_text("p4ge-t0ken-long-enough\n")
    token_file.chmod(0o600)
    server = ui(lab, "ui-token", "--token-file", str(token_file))
    servers.append(server)
    assert get(server.url + "/")[0] == 401
    assert get(server.url + "/host/lan/web01")[0] == 401
    assert get(server.url + "/plan")[0] == 401
    assert get(server.url + "/plan", "p4ge-t0ken-long-enough")[0] == 200
    assert get(server.url + "/healthz")[0] == 200
    page.goto(server.url + "/login")
    page.fill("input[name=token]", "wrong")
    page.click("button[type=submit]")
    assert "not the token" in page.locator("main").inner_text()
    page.fill("input[name=token]", "p4ge-t0ken-long-enough")
    page.click("button[type=submit]")
    page.wait_for_selector("#matrix")
    server.stop()


def test_the_page_works_without_javascript(lab: Lab, applied: dict[str, Any], browser: Any,
                                           servers: list[PageServer]) -> None:
    server = ui(lab, "ui-nojs")
    servers.append(server)
    context = browser.browser.new_context(java_script_enabled=False) if browser.browser else None
    if context is None:  # a persistent context has no parent browser: a page of it with JS off
        pytest.fail("no browser to open a context without JavaScript")
    try:
        page = context.new_page()
        page.goto(server.url + "/")
        assert page.locator("#matrix tbody tr").count() > 10
        page.fill("#q", "web01")
        page.click("form.filters button[type=submit]")  # the server filters
        keys = page.locator("#matrix tbody tr").evaluate_all("rs => rs.map(r => r.getAttribute('data-key'))")
        assert keys == ["lan/web01"]
    finally:
        context.close()
        server.stop()
