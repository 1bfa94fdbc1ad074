"""#24: fingerprints are computed faster and stay byte for byte what saved plans compare.

The digests below were made by the code before the speed work (saved plans compare them across
versions): they must never change.
"""

import hashlib
import json
import pickle
import threading
from types import MappingProxyType

from core.model import (
    Action,
    Address,
    Fact,
    Fingerprints,
    Observation,
    ObservedResource,
    fingerprint,
    frozen_map,
    merged_fingerprints,
    to_jsonable,
)

WEB = Address("nipap_address", "lan.web01")


def _observation() -> Observation:
    res = ObservedResource(WEB, frozen_map({"ip": "192.168.1.5", "hostname": "web01", "n": 3, "off": False,
                                            "avps": {"mac": "aa", "managed-by": "netsot"}, "none": None,
                                            "aliases": ["www", "w\u00e9b"]}))
    kept = ObservedResource(Address("edgemax_host", "lan.web01"), frozen_map({"inet": ["1.2.3.4"]}),
                            kept=frozen_map({"inet": ["2001:db8::5"], "disable": True, "sub": {"x": ["y"]}}))
    guest = Fact("proxmox", "pve1/101 net0", "lan", "web01", "bc:24:11:aa:bb:01", None,
                 extra=frozen_map({"vmid": 101, "tags": ["a", "b"], "network": "extra-wins", "dep": WEB,
                                   "act": Action.CREATE}),
                 in_use=("192.168.1.7",), aliases=())
    host = Fact("nipap", "r2", None, "db01", None, "192.168.1.9")
    return Observation("nipap", frozen_map({WEB: res, kept.address: kept}), (guest, host))


def test_the_digests_of_resources_and_facts_are_the_ones_saved_plans_hold() -> None:
    assert _observation().fingerprints() == {
        "nipap_address.lan.web01": "60618bc9162d49ea50386ad22b4abd39b637bd12474fc8483db0030f9afaadf2",
        "edgemax_host.lan.web01": "71ee21d1be0e7beb793f81c478e2146c5ab518445cd3dd77307aef4dd9b18102",
        "fact:pve1/101 net0": "07fcc16702d73c03572b814ced3178dc386a214830d053b5290c1cd3492f585b",
        "fact:r2": "608badd905a787da730923ba2599cacca0cdec6eaf41c3969b4f4f979cfc90a9",
    }


def test_a_fingerprint_is_the_sha256_of_the_canonical_json_of_the_plain_values() -> None:
    obs = _observation()
    for address, resource in obs.resources.items():
        data = ({"attributes": resource.attributes, "kept": resource.kept} if resource.kept
                else resource.attributes)
        text = json.dumps(to_jsonable(data), sort_keys=True, separators=(",", ":"))
        assert obs.fingerprints()[str(address)] == hashlib.sha256(text.encode()).hexdigest()
        assert fingerprint(dict(resource.attributes)) == fingerprint(resource.attributes)
    nested = frozen_map({"a": {"b": {"c": [1, {"d": None}]}}})
    assert fingerprint(nested) == hashlib.sha256(b'{"a":{"b":{"c":[1,{"d":null}]}}}').hexdigest()


def test_a_facts_extra_wins_over_its_typed_fields_and_in_use_and_aliases_count_when_set() -> None:
    guest, host = _observation().facts
    assert guest.fingerprint_data() == {"network": "extra-wins", "hostname": "web01", "ip": None,
                                        "mac": "bc:24:11:aa:bb:01", "vmid": 101, "tags": ("a", "b"),
                                        "dep": WEB, "act": Action.CREATE, "in_use": ("192.168.1.7",),
                                        "aliases": ()}
    assert host.fingerprint_data() == {"network": None, "hostname": "db01", "mac": None, "ip": "192.168.1.9"}
    plain = Fact("nipap", "r3", "lan", "x", None, None, extra={"ip": "1.2.3.4"})  # not frozen: still read
    assert plain.fingerprint_data() == {"network": "lan", "hostname": "x", "mac": None, "ip": "1.2.3.4"}
    assert type(guest.extra) is MappingProxyType and "in_use" not in guest.extra  # the fact is left as it was


def test_an_observations_fingerprints_are_not_kept_on_each_resource_too() -> None:
    """The observation keeps them (once per observation); a copy on every resource made each one's
    ``__dict__``, thousands of dicts per plan that the next garbage collection walks again."""
    obs = _observation()
    digests = obs.fingerprints()
    for address, resource in obs.resources.items():
        assert "fingerprint" not in vars(resource)
        assert resource.fingerprint == digests[str(address)]


def test_merged_fingerprints_are_sorted_by_key_and_a_later_observation_wins() -> None:
    first = _observation()
    other = Address("edgemax_dhcp_mapping", "LAN.aaa")
    second = Observation("edgemax", {other: ObservedResource(other, frozen_map({"ip": "10.0.0.1"}))},
                         (Fact("edgemax", "r2", "lan", "db01", None, "10.0.0.9"),))  # the same ref as nipap's
    merged = merged_fingerprints([first, second])
    assert list(merged) == sorted({**first.fingerprints(), **second.fingerprints()})
    assert merged == {**first.fingerprints(), **second.fingerprints()}
    assert merged["fact:r2"] == second.fingerprints()["fact:r2"] != first.fingerprints()["fact:r2"]
    merged.clear()
    assert first.fingerprints() and second.fingerprints()  # their own stay as they were


def _two() -> list[Observation]:
    other = Address("edgemax_dhcp_mapping", "LAN.aaa")
    second = Observation("edgemax", {other: ObservedResource(other, frozen_map({"ip": "10.0.0.1"}))},
                         (Fact("edgemax", "r2", "lan", "db01", None, "10.0.0.9"),))
    return [_observation(), second]


def test_a_plans_fingerprints_tell_what_was_read_without_digesting_it() -> None:
    """The text plan, apply's confirmation and the status page ask only what was read: no digest is made
    for them. The keys are those of ``merged_fingerprints``, in its order."""
    observations = _two()
    fps = Fingerprints(observations)
    expected = merged_fingerprints(_two())
    assert list(fps) == list(expected) and len(fps) == len(expected)
    assert "fact:r2" in fps and "nipap_address.lan.nothing" not in fps
    assert frozenset(fps) == frozenset(expected)
    assert all(not o.__dict__.get("_fingerprints") for o in observations)  # nothing digested yet
    assert fps["fact:r2"] == expected["fact:r2"]  # the first value asked for digests them all
    assert dict(fps) == expected and list(fps.items()) == list(expected.items())


def test_a_plans_fingerprints_equal_and_pickle_as_the_merged_digests() -> None:
    fps = Fingerprints(_two())
    expected = merged_fingerprints(_two())
    assert fps == expected and fps == MappingProxyType(expected) and fps == Fingerprints(_two())
    copy = pickle.loads(pickle.dumps(fps))
    assert type(copy) is dict and copy == expected


def test_a_plans_fingerprints_are_digested_once_when_threads_ask_at_once() -> None:
    fps = Fingerprints(_two())
    seen: list[dict[str, str]] = []
    threads = [threading.Thread(target=lambda: seen.append(dict(fps.items()))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 and all(s == merged_fingerprints(_two()) for s in seen)
    assert fps._digests() is fps._digests()  # one merged dict, made once
