"""The generic pieces issue #13 added to the engine: kept data, what a change loses, derived names.

* ``ObservedResource.kept`` / ``Change.kept`` / ``Change.loses`` travel through the plan document,
  show in the text plan, count in fingerprints, and ``loses`` is held by the ``loses_unmodelled``
  gate unless ``policy.delete_unmodelled``;
* a host name that is an FQDN inside its network's domain becomes its first label, any other FQDN
  stays whole; a provider's derivation (``Fact.hostname_from``) reaches the hostname provenance.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from core.config import Policy
from core.model import (
    Action,
    Address,
    Change,
    ConflictKind,
    Fact,
    ManagedResource,
    ObservedResource,
    Plan,
    Provenance,
    frozen_map,
)
from core.names import hostname_problem, short_name, validate_hostname
from engine.plan.document import plan_document
from engine.plan.policy import apply_policy
from engine.report.render import change_header, change_lines, kept_items, render_text
from schemas import validator
from tests import addresses as A
from tests.engine.reconcile.test_reconcile import M1, M2, mapping, only, pve, run

MAP = A.edgemax_dhcp_mapping("LAN", "ROOM_1_SWITCH")
KEPT = {"static-mapping-parameters": ["option domain-name-servers 1.1.1.1;"], "disable": True}


def _delete(loses: tuple[str, ...] = ("disable",)) -> Change:
    before = frozen_map({"name": "ROOM_1_SWITCH", "ip_address": "192.168.1.30"})
    return Change(Action.DELETE, MAP, before, None, "lost its source", loses=loses)


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    ("name", "domain", "short"),
    [
        ("cloud.example.com", "example.com", "cloud"),
        ("Cloud.Example.COM", "example.com", "Cloud"),
        ("a.b.example.com", "example.com", "a.b.example.com"),  # two labels: stays an FQDN
        ("example.com", "example.com", "example.com"),  # the apex itself
        ("cloud.other.org", "example.com", "cloud.other.org"),
        ("web01", "example.com", "web01"),
        ("cloud.example.com", None, "cloud.example.com"),
    ],
)
def test_short_name(name: str, domain: str | None, short: str) -> None:
    assert short_name(name, domain) == short


def test_host_names_are_dns_names_and_errors_name_the_rule() -> None:
    assert validate_hostname("cloud.other.org") == "cloud.other.org"
    assert hostname_problem("room-1-switch") is None
    assert hostname_problem("ROOM_1") == "has 'R' in label 'ROOM_1' (allowed: a-z, 0-9 and inner '-')"
    with pytest.raises(ValueError, match=r"'a\.\.b' is not a valid host name: it has an empty label"):
        validate_hostname("a..b")


def test_fqdn_guest_in_its_networks_domain_is_its_first_label_with_provenance() -> None:
    b = only(run([pve("cloud.lab.example", M1)]))
    assert b.hostname == "cloud"
    prov = b.provenance["hostname"]
    assert prov.source == "proxmox" and prov.ref == "proxmox pve1/101 net0"
    assert prov.derived == (
        "cloud: first label of cloud.lab.example, which is in the network's domain lab.example")


def test_fqdn_guest_outside_the_domain_keeps_its_fqdn_and_is_no_conflict() -> None:
    d = run([pve("cloud.other.org", M1)])
    assert d.conflicts == ()
    assert only(d).hostname == "cloud.other.org" and not only(d).provenance["hostname"].derived


def test_a_providers_derivation_reaches_the_hostname_provenance() -> None:
    fact = mapping("room-1-switch", M2, "192.168.1.30")
    derived = Fact(**{**fact.__dict__, "hostname_from": "room-1-switch derived from static-mapping name "
                                                        "ROOM_1_SWITCH"})
    own = {derived.address: ManagedResource(derived.address, "id", frozen_map({}), origin="import")}
    b = only(run([derived], own=own))
    assert b.hostname == "room-1-switch"
    assert b.provenance["hostname"].derived == "room-1-switch derived from static-mapping name ROOM_1_SWITCH"


def test_an_invalid_name_is_still_a_conflict_naming_the_rule() -> None:
    d = run([pve("web_01", M1)])
    (c,) = d.conflicts
    assert c.kind is ConflictKind.INVALID_NAME and "has '_' in label 'web_01'" in c.reason


# ------------------------------------------------------------------ kept and loses


def test_kept_counts_in_the_fingerprint() -> None:
    attrs = frozen_map({"ip_address": "192.168.1.30"})
    bare = ObservedResource(MAP, attrs)
    kept = ObservedResource(MAP, attrs, kept=frozen_map(KEPT))
    edited = ObservedResource(MAP, attrs, kept=frozen_map({**KEPT, "disable": ()}))
    assert len({bare.fingerprint, kept.fingerprint, edited.fingerprint}) == 3
    assert ObservedResource(MAP, attrs, kept=frozen_map(KEPT)).fingerprint == kept.fingerprint


def test_kept_and_loses_round_trip_and_validate() -> None:
    change = Change(Action.UPDATE, MAP, frozen_map({"ip_address": "192.168.1.30"}),
                    frozen_map({"ip_address": "192.168.1.31"}), "moved", kept=frozen_map(KEPT))
    doc = plan_document(Plan(changes=(change, _delete())), netsot_version="t",
                        created_at="2026-01-01T00:00:00Z")
    assert list(validator("plan.v1").iter_errors(doc)) == []
    assert doc["changes"][0]["kept"] == KEPT and doc["changes"][1]["loses"] == ["disable"]
    assert Change.from_dict(doc["changes"][0]) == change
    assert Change.from_dict(doc["changes"][1]) == _delete()
    plain = Change(Action.DELETE, MAP, frozen_map({}), None).to_dict()
    assert "kept" not in plain and "loses" not in plain  # documents without extras keep their shape


def test_text_plan_shows_kept_loses_and_derived() -> None:
    kept_change = Change(Action.UPDATE, MAP, frozen_map({"ip_address": "192.168.1.30"}),
                         frozen_map({"ip_address": "192.168.1.31"}), "readdressed", kept=frozen_map(KEPT),
                         provenance=frozen_map({"ip_address": Provenance("config", "ip: config", "x",
                                                                         "derived: y")}))
    data = kept_change.to_dict()
    assert change_lines(data)[-1] == (
        'kept on the router: disable, static-mapping-parameters "option domain-name-servers 1.1.1.1;"'
    )
    assert "; derived: y)" in change_lines(data)[0]
    header = change_header(_delete(("disable", "inet 2001:db8::5")).to_dict())
    assert header.endswith(
        "# lost its source; also removes what netsot does not manage: disable, inet 2001:db8::5")
    text = render_text(plan_document(Plan(changes=(kept_change,)), netsot_version="t"))
    assert "kept on the router: disable" in text


def test_kept_items_flattens_nested_children() -> None:
    assert kept_items({"flag": True, "v": ["", "a b"], "x": {"y": ["z"]}, "e": {}}) == [
        "e", "flag", 'v ""', 'v "a b"', "x y z"]


def test_policy_holds_a_change_that_loses_unmodelled_data_unless_allowed() -> None:
    owned = {MAP: ManagedResource(MAP, "1", frozen_map({}), origin="import")}
    ipam = Address.parse("nipap_address.lan.room-1-switch")
    mapping_delete = replace(_delete(), depends_on=(ipam,))
    plan = Plan(changes=(mapping_delete, Change(Action.DELETE, ipam, frozen_map({"ip": "x"}), None)))
    held = apply_policy(plan, Policy(), owned)
    gates = [(str(h.change.address), h.gate) for h in held.plan.held]
    # the IPAM record is deleted after what depends on it: it waits for the held mapping
    assert gates == [(str(MAP), "loses_unmodelled"), (str(ipam), "loses_unmodelled")]
    assert "would also remove what netsot does not manage: disable" in held.plan.held[0].reason
    assert "policy.delete_unmodelled: true" in held.plan.held[0].reason
    assert held.plan.changes == ()
    forced = apply_policy(plan, Policy(), owned, force=True)  # --force lifts thresholds only
    assert [h.gate for h in forced.plan.held] == ["loses_unmodelled", "loses_unmodelled"]
    allowed = apply_policy(plan, Policy(delete_unmodelled=True), owned)
    assert allowed.plan.held == () and len(allowed.plan.changes) == 2
    protected = apply_policy(plan, Policy(protected=("edgemax_dhcp_mapping.*",)), owned)
    assert protected.plan.held[0].gate == "protected"  # protection is named first
