"""#24: ``frozen_map`` keeps a copy of scalar-only mappings as it is and still freezes every list and dict."""

from collections import OrderedDict
from types import MappingProxyType

from core.model import EMPTY, frozen_map


class Names(list[str]):
    pass


def test_scalars_are_copied_and_lists_and_dicts_of_any_class_are_frozen() -> None:
    source = {"ip": "192.168.1.5", "n": 3, "on": False, "none": None, "names": ("a",)}
    frozen = frozen_map(source)
    assert type(frozen) is MappingProxyType and frozen == source and list(frozen) == list(source)
    source["ip"] = "changed"
    assert frozen["ip"] == "192.168.1.5"  # a copy, not a view
    nested = frozen_map({"a": [1, [2]], "b": OrderedDict(c=[3]), "c": Names(["x"]), "d": "e"})
    assert nested == {"a": (1, (2,)), "b": {"c": (3,)}, "c": ("x",), "d": "e"}
    assert type(nested["b"]) is MappingProxyType and type(nested["c"]) is tuple


def test_a_frozen_map_is_copied_and_empty_input_gives_the_shared_empty_map() -> None:
    first = frozen_map({"ip": "192.168.1.5"})
    again = frozen_map(first)
    assert again == first and again is not first and type(again) is MappingProxyType
    assert frozen_map({}) is EMPTY and frozen_map(None) is EMPTY
