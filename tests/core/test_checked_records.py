"""#24: a record is checked against its declared fields quickly (the usual class of each field type first),
and refused exactly as before."""

from enum import StrEnum
from types import MappingProxyType

import pytest

from core import fields
from core.errors import FieldError
from core.fields import Field

DECLARED = fields.check_declaration(
    "t_thing", ("name",), ("n", "on", "names", "avps", "ip"),
    [Field("name", "str"), Field("n", "int"), Field("on", "bool"), Field("names", "strs"),
     Field("avps", "map"), Field("ip", "str", True)])


class Colour(StrEnum):
    RED = "red"


def test_the_usual_and_the_other_accepted_classes_pass() -> None:
    fields.check_record(DECLARED, {"name": "a", "n": 3, "on": True, "names": ("a",),
                                   "avps": MappingProxyType({"k": "v"}), "ip": None}, "here")
    fields.check_record(DECLARED, {"name": Colour.RED, "names": ["a"], "avps": {"k": "v"}}, "here")


@pytest.mark.parametrize(("record", "message"), [
    ({"n": True}, "here: n of t_thing is a int, not bool True"),
    ({"on": 1}, "here: on of t_thing is a bool, not int 1"),
    ({"name": None}, "here: name of t_thing may not be empty"),
    ({"names": "a"}, "here: names of t_thing is a strs, not str 'a'"),
    ({"nam": "a"}, "here holds 'nam', which t_thing does not declare"),
])
def test_a_wrong_value_or_an_undeclared_key_is_refused(record: dict[str, object], message: str) -> None:
    with pytest.raises(FieldError) as info:
        fields.check_record(DECLARED, record, "here")
    assert str(info.value).startswith(message)


class _Named:
    """An address whose text is counted: a change's check makes it only for an error."""

    def __init__(self) -> None:
        self.made = 0

    def __str__(self) -> str:
        self.made += 1
        return "t_thing.x"


def test_a_change_names_its_address_only_when_it_is_refused() -> None:
    fields.declare("t_checked", ("name",), ("n",), [Field("name", "str"), Field("n", "int")])
    try:
        address = _Named()
        fields.check_change("t_checked", address, {"name": "a", "n": 1}, {"name": "a", "n": 2})
        assert address.made == 0
        with pytest.raises(FieldError) as info:
            fields.check_change("t_checked", address, {"name": "a", "n": 1}, {"name": "a", "n": "2"})
        assert str(info.value).startswith("the change of t_thing.x: after: n of t_checked is a int, not str")
        assert address.made == 1
    finally:
        fields.forget(["t_checked"])
