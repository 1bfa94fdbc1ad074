"""The Proxmox simulator's schema check: every request against the real API schema, as PVE does it.

Owns: the API schema subset (``pve-api-subset.json``, a copy of the reference's: apidata of PVE 9.1 with
the PVE 8.4 differences), matching a request to its endpoint (``/nodes/{node}/qemu/{vmid}/config``),
checking its parameters with pve-common ``JSONSchema.pm``'s rules and exact texts (unknown parameter,
type, range, enum, pattern, named formats such as ``pve-vmid``/``pve-node``/``pve-configid-list``,
property strings such as ``net[n]``/``ipconfig[n]`` with their sub-keys, aliases and ``requires``),
giving answers the JSON types the schema gives (``vmid``, ``cores``, ``onboot`` … numbers, as PVE's
config parser makes them), and the response check the tests use (the schema's ``returns`` as a JSON
Schema, validated with ``jsonschema``).
Must not: know the simulator's state or its routes; it answers only "which endpoint" and "what is wrong".
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).with_name("pve-api-subset.json")
UNKNOWN = "property is not defined in schema and the schema does not allow additional properties"
MISSING = "property is missing and it is not optional"
# What PVE puts on the wire where the schema's type differs (Perl decides, reference §2.2): nextid is a
# string ({"data":"100"}, the real sample gp8_cluster_nextid.json) although the schema says integer.
WIRE_TYPES = {("GET", "/cluster/nextid"): {"type": "string", "pattern": "^[1-9][0-9]{2,8}$"}}
_INDEXED = re.compile(r"^(.+)\[n\]$")
_INDEX = re.compile(r"^(.*?)(0|[1-9][0-9]*)$")
_INTEGER = re.compile(r"-?\d+")
_INTEGER_TEXT = re.compile(r"[+-]?\d+")  # what check_value takes for an integer (fullmatch)
_NUMBER_TEXT = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_DUPLICATE = "invalid format - duplicate key in comma-separated list property: {}\n"
_TRUE = ("1", "on", "yes", "true")
_FALSE = ("0", "off", "no", "false")


@dataclass(frozen=True)
class Endpoint:
    """One endpoint of the schema: its path template, method, apidata ``info`` and path values."""

    template: str
    method: str
    info: Mapping[str, Any]
    path_params: Mapping[str, str]

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"


@cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())


def load() -> None:
    """Read the schema and index its endpoints now (a simulator does it when it starts)."""
    _shapes()


def endpoint(method: str, parts: list[str]) -> Endpoint | None:
    """The schema's endpoint for ``method`` and the path's segments (None: not in the subset)."""
    for template, info, literals, names in _shapes().get((method, len(parts)), ()):
        # what ``_match`` decides, with the template's fixed segments and its {names} found once
        for i, text in literals:
            if parts[i] != text:
                break
        else:
            return Endpoint(template, method, info, {name: parts[i] for i, name in names})
    return None


_Shape = tuple[str, Mapping[str, Any], tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]


@cache
def _shapes() -> dict[tuple[str, int], list[_Shape]]:
    """``_routes`` with each template split into its fixed segments and its {names} (by position)."""
    return {shape: [(template, info,
                     tuple((i, w) for i, w in enumerate(want) if not (w.startswith("{") and w.endswith("}"))),
                     tuple((i, w[1:-1]) for i, w in enumerate(want) if w.startswith("{") and w.endswith("}")))
                    for template, want, info in routes]
            for shape, routes in _routes().items()}


@cache
def _routes() -> dict[tuple[str, int], list[tuple[str, tuple[str, ...], Mapping[str, Any]]]]:
    """The schema's endpoints by (method, number of path segments), in the schema's order: a request
    is matched against the few templates of its shape, not against every template (once per request)."""
    routes: dict[tuple[str, int], list[tuple[str, tuple[str, ...], Mapping[str, Any]]]] = {}
    for template, methods in schema()["paths"].items():
        want = tuple(p for p in template.strip("/").split("/") if p)
        for method, info in methods.items():
            routes.setdefault((method, len(want)), []).append((template, want, info))
    return routes


def _match(want: tuple[str, ...], parts: list[str]) -> dict[str, str] | None:
    values: dict[str, str] = {}
    for w, p in zip(want, parts, strict=True):
        if w.startswith("{") and w.endswith("}"):
            values[w[1:-1]] = p
        elif w != p:
            return None
    return values


def templates() -> Iterator[tuple[str, str]]:
    """Every (method, template) of the subset."""
    for template, methods in schema()["paths"].items():
        for method in methods:
            yield method, template


# ----------------------------------------------------------------------------- requests


def check_request(ep: Endpoint, params: Mapping[str, str], version: str = "9") -> dict[str, str]:
    """Every parameter that PVE would refuse, with its exact error text ({} when the request is good).
    ``params`` are the query and body values as sent (strings); the path's values count too."""
    pve8 = str(version).startswith(("7", "8"))
    plan = _plan(ep.method, ep.template, pve8)
    if plan.info is not ep.info:  # an endpoint not from this schema: nothing of it is remembered
        plan = _Plan(ep.key, ep.info, pve8)
    values = {**params, **ep.path_params}
    errors: dict[str, str] = {}
    for name, value in values.items():
        problem = plan.verdict(name, str(value))
        if problem is not None:
            errors[name] = problem
    for name in plan.required:
        if name not in values:
            errors[name] = MISSING
    return errors


class _Plan:
    """What ``check_request`` needs of one endpoint and PVE major version, worked out once; and the
    verdicts on the values it checked (a pure function of the name and the value: a node name or a
    flag recurs on every request, a vmid on the few calls about that guest)."""

    MAX_VERDICTS = 4096  # past that many, values are checked and not remembered (a client sends any)
    MAX_REMEMBERED = 256  # characters of name and value: a longer one (a description, an SSH key) is not kept

    def __init__(self, key: str, info: Mapping[str, Any], pve8: bool) -> None:
        self.info = info
        spec = info.get("parameters") or {}
        self.props: Mapping[str, Any] = spec.get("properties") or {}
        self.additional = bool(spec.get("additionalProperties", 0))
        self.pve8 = pve8
        self.differences = schema()["pve8_differences"].get(key, {}) if pve8 else {}
        self.only9 = set(self.differences.get("params_only_in_9", ()))
        self.required = tuple(name for name, prop in self.props.items()
                              if not _INDEXED.match(name) and not prop.get("optional"))
        self.verdicts: dict[tuple[str, str], str | None] = {}

    def verdict(self, name: str, value: str) -> str | None:
        """Why PVE refuses ``value`` for parameter ``name`` (None: accepted)."""
        key = (name, value)
        if key in self.verdicts:  # (no KeyError raised per unseen value)
            return self.verdicts[key]
        problem = self._check(name, value)
        if len(self.verdicts) < self.MAX_VERDICTS and len(name) + len(value) <= self.MAX_REMEMBERED:
            self.verdicts[key] = problem
        return problem

    def _check(self, name: str, value: str) -> str | None:
        prop = _property(self.props, name)
        if prop is None or name in self.only9:
            if not self.additional or name in self.only9:
                return UNKNOWN
            return None
        keys = self.differences.get("property_string_keys", {}).get(_collapsed(self.props, name), {})
        return check_value(name, value, prop, self.pve8, keys)


@cache
def _plan(method: str, template: str, pve8: bool) -> _Plan:
    return _Plan(f"{method} {template}", schema()["paths"][template][method], pve8)


def _property(props: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    if name in props:
        return props[name]
    match = _INDEX.match(name)
    if match is None:
        return None
    prop = props.get(f"{match.group(1)}[n]")
    if prop is None:
        return None
    low, high = prop.get("x-index-range") or (0, 0)
    return prop if low <= int(match.group(2)) <= high else None


def _collapsed(props: Mapping[str, Any], name: str) -> str:
    if name in props:
        return name
    match = _INDEX.match(name)
    return f"{match.group(1)}[n]" if match else name


def check_value(path: str, value: str, prop: Mapping[str, Any], pve8: bool = False,
                keys: Mapping[str, Any] | None = None) -> str | None:
    """Why PVE refuses ``value`` for a property (``check_prop`` of JSONSchema.pm), or None."""
    kind = prop.get("type", "string")
    if kind == "boolean":
        if value not in ("0", "1"):
            return f"type check ('boolean') failed - got '{value}'"
    elif kind == "integer":
        if not _INTEGER_TEXT.fullmatch(value):
            return f"type check ('integer') failed - got '{value}'"
    elif kind == "number" and not _NUMBER_TEXT.fullmatch(value):
        return f"type check ('number') failed - got '{value}'"
    return _constraints(path, value, prop, pve8, keys)


def _constraints(path: str, value: str, prop: Mapping[str, Any], pve8: bool,
                 keys: Mapping[str, Any] | None) -> str | None:
    if "maxLength" in prop and len(value) > int(prop["maxLength"]):
        return f"value may only be {prop['maxLength']} characters long"
    if "minLength" in prop and len(value) < int(prop["minLength"]):
        return f"value must be at least {prop['minLength']} characters long"
    if prop.get("type") in ("integer", "number"):
        number = float(value)
        if "maximum" in prop and number > float(prop["maximum"]):
            return f"value must have a maximum value of {prop['maximum']}"
        if "minimum" in prop and number < float(prop["minimum"]):
            return f"value must have a minimum value of {prop['minimum']}"
    if "enum" in prop and value not in [str(e) for e in prop["enum"]]:
        listed = ", ".join(map(str, prop["enum"]))
        return f"value '{value}' does not have a value in the enumeration '{listed}'"
    pattern = prop.get("pattern")
    if pattern and not _compiled(pattern).fullmatch(value):
        return "value does not match the regex pattern"
    fmt = prop.get("format")
    if isinstance(fmt, dict):
        return _property_string(path, value, fmt, pve8, keys or {})
    if isinstance(fmt, str):
        if _names_a_property_string(fmt):  # pve-qm-ipconfig
            return _property_string(path, value, _named_property_string(fmt), pve8, {})
        problem = check_format(fmt, value)
        if problem is not None:
            return f"invalid format - {problem}\n"
    return None


@cache
def _names_a_property_string(fmt: str) -> bool:
    """Whether a named format is a property string's keys (not a regex or a rule)."""
    named = schema()["named_formats"].get(fmt)
    return isinstance(named, dict) and not {"regex", "rule", "error"} & set(named)


def _python_regex(perl: str) -> str:
    return perl.replace("(?^:", "(?:").replace("(?^i:", "(?i:")


@cache
def _compiled(perl: str) -> re.Pattern[str]:
    """A schema pattern made Python's and compiled, once per pattern (not per checked value)."""
    return re.compile(_python_regex(perl))


def _named_property_string(fmt: str) -> dict[str, Any]:
    return {k: v for k, v in schema()["named_formats"][fmt].items() if not k.startswith("_")}


# ----------------------------------------------------------------------------- named formats


def check_format(fmt: str, value: str) -> str | None:
    """The first line of PVE's error for a value of a named format (None: good, or a format this
    subset does not describe: PVE's storage and hardware formats are not checked here)."""
    if fmt.endswith("-list") and fmt != "pve-configid-list":
        item_fmt = fmt.removesuffix("-list")
        for item in (i for i in re.split(r"[,;\s\x00]+", value) if i):
            problem = check_format(item_fmt, item)
            if problem is not None:
                return problem
        return None
    if fmt == "pve-configid-list":
        for item in (i for i in re.split(r"[,;\s\x00]+", value) if i):
            if check_format("pve-configid", item) is not None:
                return f"invalid configuration ID '{item}'"
        return None
    if fmt == "address-list":
        return next((p for i in re.split(r"[,;\s\x00]+", value) if i
                     if (p := check_format("address", i)) is not None), None)
    rule = _RULES.get(fmt)
    if rule is not None:
        return None if rule(value) else _format_error(fmt, value)
    named = schema()["named_formats"].get(fmt)
    if isinstance(named, dict) and "regex" in named:
        return None if _compiled(named["regex"]).search(value) else _format_error(fmt, value)
    return None


def _format_error(fmt: str, value: str) -> str:
    text = str(schema()["named_formats"][fmt]["error"])
    return text.replace("<value>", value).replace("<id>", value)


def _ipv4(value: str) -> bool:
    return re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", value) is not None and _is(ipaddress.IPv4Address, value)


def _ipv6(value: str) -> bool:
    return ":" in value and _is(ipaddress.IPv6Address, value)


def _is(kind: type, value: str) -> bool:
    try:
        kind(value)
    except ValueError:
        return False
    return True


def _cidr(value: str, v6: bool) -> bool:
    address, slash, length = value.partition("/")
    if not slash or not length.isdigit():
        return False
    if v6:
        return _ipv6(address) and 8 <= int(length) <= 128
    return _ipv4(address) and 8 <= int(length) <= 32


_LABEL = r"([a-zA-Z0-9]([a-zA-Z0-9\-]*[a-zA-Z0-9])?)"
_DNS = re.compile(rf"^({_LABEL}\.)*{_LABEL}$")
_HOTPLUG = ("network", "disk", "cpu", "memory", "usb", "cloudinit")
_RULES = {
    "ipv4": _ipv4,
    "ipv6": _ipv6,
    "ip": lambda v: _ipv4(v) or _ipv6(v),
    "address": lambda v: _ipv4(v) or _ipv6(v) or _DNS.match(v) is not None,
    "CIDRv4": lambda v: _cidr(v, False),
    "CIDRv6": lambda v: _cidr(v, True),
    "CIDR": lambda v: _cidr(v, False) or _cidr(v, True),
    "pve-ipv4-config": lambda v: v in ("dhcp", "manual") or _cidr(v, False),
    "pve-ipv6-config": lambda v: v in ("auto", "dhcp", "manual") or _cidr(v, True),
    "lxc-ip-with-ll-iface": lambda v: _ipv4(v) or _ipv6(v)
    or re.fullmatch(r"fe80:[0-9a-fA-F:]*%\S+", v) is not None,
    "pve-hotplug-features": lambda v: v in ("0", "1") or all(
        f in _HOTPLUG for f in re.split(r"[,;\s]+", v) if f),
}


# ----------------------------------------------------------------------------- property strings


def _property_string(param: str, value: str, fmt: Mapping[str, Any], pve8: bool,
                     versions: Mapping[str, Any]) -> str | None:
    """``parse_property_string`` + ``check_object``: the error text PVE gives, or None."""
    only9 = set(versions.get("only_in_9", ())) if pve8 else set()
    only8 = set(versions.get("only_in_8", ())) if pve8 else set()
    default_key = next((k for k, v in fmt.items() if v.get("default_key")), None)
    parsed: dict[str, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        key, eq, sub = part.partition("=")
        if not eq:
            if default_key is None:
                return "invalid format - value without key, but schema does not define a default key\n"
            if default_key in parsed:
                return _DUPLICATE.format(default_key)
            parsed[default_key] = part
            continue
        if not key:
            return "invalid format - missing key in comma-separated list property\n"
        if key in only8:
            parsed[key] = sub
            continue
        spec = fmt.get(key)
        if spec is None or key in only9:
            return f"invalid format - invalid key in comma-separated list property: {key}\n"
        if "alias" in spec:
            if "keyAlias" in spec:  # virtio=<MAC>: model=virtio, macaddr=<MAC>
                if spec["keyAlias"] in parsed:
                    return _DUPLICATE.format(spec["keyAlias"])
                parsed[spec["keyAlias"]] = key
            key = spec["alias"]
        if key in parsed:
            return _DUPLICATE.format(key)
        parsed[key] = sub
    problems: dict[str, str] = {}
    for key, sub in parsed.items():
        spec = fmt.get(key)
        if spec is None:
            continue  # a PVE 8 key the 9.x schema lost: accepted, not described
        problem = _sub_value(f"{param}.{key}", sub, spec)
        if problem is not None:
            problems[f"{param}.{key}"] = problem.rstrip("\n")
    for key, spec in fmt.items():
        if "alias" in spec or key in parsed:
            continue
        if not spec.get("optional") and "default" not in spec:
            problems.setdefault(f"{param}.{key}", MISSING)
    for key, spec in fmt.items():
        required = spec.get("requires")
        if required and key in parsed and required not in parsed:
            problems.setdefault(
                f"{param}.{required}",
                f"missing property - '{param}.{key}' requires this property" if pve8
                else f"missing property required by '{param}.{key}'")
    if not problems:
        return None
    lines = "".join(f"{k}: {v}\n" for k, v in sorted(problems.items()))
    return f"invalid format - format error\n{lines}\n"


def _sub_value(path: str, value: str, spec: Mapping[str, Any]) -> str | None:
    if spec.get("type") == "boolean":  # inside a property string: 1|0|on|off|yes|no|true|false
        if value.lower() not in _TRUE + _FALSE:
            return f"type check ('boolean') failed - got '{value}'"
        return None
    return check_value(path, value, spec)


# ----------------------------------------------------------------------------- answers


def wire_types(ep: Endpoint, data: Any) -> Any:
    """``data`` with the JSON types the schema's ``returns`` gives: a number or boolean the simulator
    keeps as text (a config written by ``PUT``) becomes a number, as PVE's config parser makes it."""
    if (ep.method, ep.template) in WIRE_TYPES:
        return data
    return _typed(data, ep.info.get("returns") or {})


def _typed(data: Any, spec: Mapping[str, Any]) -> Any:
    kind = spec.get("type")
    if isinstance(data, str):
        if kind in ("integer", "boolean") and _INTEGER.fullmatch(data):
            return int(data)
        if kind == "number" and _NUMBER.fullmatch(data):
            return float(data) if "." in data else int(data)
        return data
    if isinstance(data, bool):
        return int(data) if kind in ("integer", "boolean") else data
    if isinstance(data, list) and isinstance(spec.get("items"), Mapping):
        return [_typed(item, spec["items"]) for item in data]
    if isinstance(data, dict) and isinstance(spec.get("properties"), Mapping):
        subs = _subspecs(spec["properties"])
        out = {}
        for k, v in data.items():
            cls = type(v)
            if cls is int or cls is float:
                # a number (not a bool) is already what any schema type makes of it: not visited
                # (the cluster's resource list has ~17 numbers per guest)
                out[k] = v
                continue
            sub = subs.get(k)
            if sub is None:
                sub = subs.find(k)
            # text the schema types as text stays as it is (most of a config): not visited
            out[k] = v if cls is str and sub.get("type") not in _NUMERIC else _typed(v, sub)
        return out
    return data


_NUMERIC = frozenset({"integer", "boolean", "number"})


class _SubSpecs(dict[str, Mapping[str, Any]]):
    """The spec of each key of an object spec's ``properties`` (``name[n]`` ones by their index),
    found once per key: an answer's keys recur on every answer of the endpoint."""

    MAX_KEYS = 4096  # past that many different keys, a key's spec is found and not remembered

    def __init__(self, props: Mapping[str, Any]) -> None:
        super().__init__()
        self.props = props

    def find(self, key: str) -> Mapping[str, Any]:
        sub = _property(self.props, key) or {}
        if len(self) < self.MAX_KEYS:
            self[key] = sub
        return sub


_SUBSPECS: dict[int, _SubSpecs] = {}


def _subspecs(props: Mapping[str, Any]) -> _SubSpecs:
    """The ``_SubSpecs`` of a ``properties`` mapping of the schema (which holds them for good: the
    id cannot be another object's while the entry keeps ``props`` alive)."""
    subs = _SUBSPECS.get(id(props))
    if subs is None or subs.props is not props:
        subs = _SUBSPECS[id(props)] = _SubSpecs(props)
    return subs


def response_schema(method: str, template: str) -> dict[str, Any]:
    """The endpoint's ``returns`` as a JSON Schema (draft 2020-12): ``optional`` → ``required``,
    ``name[n]`` → a pattern of its index range, Perl patterns made Python's."""
    wire = WIRE_TYPES.get((method, template))
    if wire is not None:
        return dict(wire)
    return _json_schema(schema()["paths"][template][method].get("returns") or {})


def _json_schema(spec: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    kind = spec.get("type")
    if kind == "boolean":
        out["enum"] = [0, 1, True, False]
    elif kind in ("integer", "number", "string", "array", "object", "null"):
        out["type"] = kind
    if "enum" in spec and kind != "boolean":
        out["enum"] = list(spec["enum"])
    if "pattern" in spec and kind == "string":
        out["pattern"] = _python_regex(str(spec["pattern"]))
    if isinstance(spec.get("items"), Mapping):
        out["items"] = _json_schema(spec["items"])
    props = spec.get("properties")
    if isinstance(props, Mapping):
        plain: dict[str, Any] = {}
        patterns: dict[str, Any] = {}
        for name, sub in props.items():
            indexed = _INDEXED.match(name)
            if indexed:
                low, high = sub.get("x-index-range") or (0, 31)
                numbers = "|".join(str(i) for i in range(low, high + 1))
                patterns[f"^{re.escape(indexed.group(1))}({numbers})$"] = _json_schema(sub)
            else:
                plain[name] = _json_schema(sub)
        out["properties"] = plain
        if patterns:
            out["patternProperties"] = patterns
        out["required"] = sorted(n for n, s in props.items()
                                 if not _INDEXED.match(n) and not s.get("optional"))
        # more fields than the schema names are allowed: PVE itself adds some (a task's ``tokenid``)
    return out


def check_response(method: str, template: str, data: Any) -> list[str]:
    """Where an answer's data differs from the schema's ``returns`` (empty: it matches)."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(response_schema(method, template))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(data)'}: {e.message}"
            for e in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))]
