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
    _routes()


def endpoint(method: str, parts: list[str]) -> Endpoint | None:
    """The schema's endpoint for ``method`` and the path's segments (None: not in the subset)."""
    for template, want, info in _routes().get((method, len(parts)), ()):
        found = _match(want, parts)
        if found is not None:
            return Endpoint(template, method, info, found)
    return None


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
    spec = ep.info.get("parameters") or {}
    props: Mapping[str, Any] = spec.get("properties") or {}
    pve8 = str(version).startswith(("7", "8"))
    differences = schema()["pve8_differences"].get(ep.key, {}) if pve8 else {}
    only9 = set(differences.get("params_only_in_9", ()))
    values = {**params, **ep.path_params}
    errors: dict[str, str] = {}
    for name, value in values.items():
        prop = _property(props, name)
        if prop is None or name in only9:
            if not spec.get("additionalProperties", 0) or name in only9:
                errors[name] = UNKNOWN
            continue
        keys = differences.get("property_string_keys", {}).get(_collapsed(props, name), {})
        problem = check_value(name, str(value), prop, pve8, keys)
        if problem is not None:
            errors[name] = problem
    for name, prop in props.items():
        if not _INDEXED.match(name) and not prop.get("optional") and name not in values:
            errors[name] = MISSING
    return errors


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
        if not re.fullmatch(r"[+-]?\d+", value):
            return f"type check ('integer') failed - got '{value}'"
    elif kind == "number" and not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", value):
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
        named = schema()["named_formats"].get(fmt)
        if isinstance(named, dict) and not {"regex", "rule", "error"} & set(named):  # pve-qm-ipconfig
            return _property_string(path, value, _named_property_string(fmt), pve8, {})
        problem = check_format(fmt, value)
        if problem is not None:
            return f"invalid format - {problem}\n"
    return None


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
        props = spec["properties"]
        # a number (not a bool) is already what any schema type makes of it: not visited (the
        # cluster's resource list has ~17 numbers per guest)
        return {k: v if type(v) in (int, float) else _typed(v, _property(props, k) or {})
                for k, v in data.items()}
    return data


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
