"""Loading ``netsot.yaml``: find it, parse it, validate it and report every problem located.

Owns: the config search order, YAML → schema (assembled by ``engine.config.schema``) → each
system's own settings models (from its descriptor) → pydantic ``Config`` → cross-checks, each
problem as ``file:line:column key: message``; the secret check for ``netsot validate``; the
config digest that saved plans carry.
Must not: resolve secrets while loading, or put a secret value in a message or the digest.
"""

from __future__ import annotations

import difflib
import hashlib
import ipaddress
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from jsonschema import ValidationError as SchemaError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError

from core.config import Config, split_key
from core.errors import ConfigError, ConfigProblem, SecretError
from core.names import normalize_mac
from core.secrets import SECRET_RE, Secret
from engine.config import schema as configschema
from engine.config.yamlpos import Document, Path_, parse
from providers import registry

ENV_VAR = "NETSOT_CONFIG"
DEFAULT_NAME = "netsot.yaml"
STATE_SECRET: Path_ = ("state", "dsn")
_JSON_TYPES = {
    "string": "a string", "integer": "an integer", "number": "a number", "boolean": "true or false",
    "object": "a mapping", "array": "a list", "null": "null",
}
_CIDR_HINT = "is not an IPv4 network in CIDR form (e.g. 192.168.1.0/24)"


def secret_paths(data: Any) -> tuple[Path_, ...]:
    """Where secrets sit in a config (raw data or ``Config``): the state DSN and each system's own."""
    providers = data.providers if isinstance(data, Config) else (
        data.get("providers") if isinstance(data, Mapping) else None)
    out: list[Path_] = [STATE_SECRET]
    for key in providers if isinstance(providers, Mapping) else ():
        name = split_key(str(key))[0]
        if name in registry.names():
            out += [("providers", key, field) for field in registry.kind(name).secrets]
    return tuple(out)


def _secret_keys() -> frozenset[str]:
    return frozenset({STATE_SECRET[-1], *(f for k in registry.kinds() for f in k.secrets)})


def find_config(explicit: str | None) -> Path:
    """``--config``, then ``$NETSOT_CONFIG``, then ``./netsot.yaml``."""
    for value, origin in ((explicit, "--config"), (os.environ.get(ENV_VAR), f"${ENV_VAR}")):
        if value:
            path = Path(value).expanduser()
            if not path.is_file():
                raise ConfigError(f"configuration file {value} (from {origin}) does not exist")
            return path
    path = Path(DEFAULT_NAME)
    if path.is_file():
        return path
    raise ConfigError(
        f"no configuration found: pass --config FILE, set ${ENV_VAR}, or create ./{DEFAULT_NAME}"
    )


def load_config(path: str | Path) -> Config:
    """Parse and validate ``path``; raise one ConfigError carrying every problem found."""
    doc = _read(path)
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError([doc.problem((), f"the top level must be a mapping of keys, not {_kind(data)}")])
    problems = list(doc.problems)
    problems += _schema_problems(doc)
    problems += _secret_syntax(doc)
    problems += _cross_checks(doc)
    problems += _instance_checks(doc)
    problems += _source_checks(doc)
    config, model_problems = _build(doc, Path(path).resolve().parent, str(path))
    problems += _unrelated(model_problems, problems, doc)
    if problems or config is None:
        raise ConfigError(_sorted(problems))
    return config


def config_from_data(data: Mapping[str, Any], source: str = "<data>") -> Config:
    """A ``Config`` from already-parsed data (tests, generated configs): the same checks as a file,
    without line numbers; file references resolve against the current folder."""
    doc = Document(source, dict(data))
    problems = _schema_problems(doc) + _secret_syntax(doc) + _cross_checks(doc) + _instance_checks(doc)
    problems += _source_checks(doc)
    config, model_problems = _build(doc, Path.cwd(), None)
    problems += _unrelated(model_problems, problems, doc)
    if problems or config is None:
        raise ConfigError(_sorted(problems))
    return config


def check_secrets(config: Config) -> list[ConfigProblem]:
    """Resolve every secret once and report those that cannot be resolved (values never kept)."""
    file = config.source_path or "<config>"
    try:
        doc = _read(config.source_path) if config.source_path else Document(file)
    except ConfigError:
        doc = Document(file)
    problems = []
    for path in secret_paths(config):
        secret = _get(config, path)
        if not isinstance(secret, Secret):
            continue
        try:
            empty = not secret.resolve()
        except SecretError as exc:
            problems.append(doc.problem(path, str(exc)))
            continue
        if empty:
            problems.append(doc.problem(path, f"{secret.reference} resolves to an empty value"))
    return problems


def config_digest(config: Config) -> str:
    """sha256 of the canonical configuration; secrets count by reference, never by value."""
    data = _canonical(config.model_dump(exclude={"source_path"}))
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------- helpers


def _read(path: str | Path) -> Document:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(file, None, None, "", "the file is not UTF-8 text")]) from None
    except OSError as exc:
        problem = ConfigProblem(file, None, None, "", f"cannot read the file: {exc.strerror}")
        raise ConfigError([problem]) from None
    return parse(text, file)


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number",
            type(None): "null"}.get(type(value), type(value).__name__)


def _show(value: Any, path: Path_) -> str:
    """A value for a message, hidden when the key holds a secret."""
    return "<hidden>" if path and path[-1] in _secret_keys() else repr(value)


def _sorted(problems: Iterable[ConfigProblem]) -> list[ConfigProblem]:
    unique = dict.fromkeys(problems)
    return sorted(unique, key=lambda p: (p.line or 0, p.column or 0, p.key, p.message))


def _schema_problems(doc: Document) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    for err in configschema.validator().iter_errors(doc.data):
        out += _from_schema_error(err, doc)
    return out


def _from_schema_error(err: SchemaError, doc: Document) -> list[ConfigProblem]:
    path: Path_ = tuple(err.absolute_path)
    kind, value, inst = err.validator, err.validator_value, err.instance
    if kind == "additionalProperties" and isinstance(inst, dict):
        known = sorted(err.schema.get("properties", {}))
        out = []
        for extra in sorted(set(inst) - set(known), key=str):
            close = difflib.get_close_matches(str(extra), known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "allowed: " + ", ".join(known)
            out.append(doc.problem((*path, extra), f"unknown key {extra!r} ({hint})", at_key=True))
        return out
    if kind == "required" and isinstance(inst, dict):
        return [doc.problem((*path, k), f"missing required key {k!r}") for k in value if k not in inst]
    if kind == "type":
        wanted = " or ".join(_JSON_TYPES[t] for t in ([value] if isinstance(value, str) else value))
        return [doc.problem(path, f"must be {wanted}, not {_kind(inst)}")]
    shown = _show(inst, path)
    if kind == "pattern":
        message = _pattern_message(err.schema, shown)
    elif kind == "enum":
        message = f"must be one of {', '.join(map(str, value))} (got {shown})"
    elif kind == "const":
        message = f"must be {value!r} (got {shown})"
    elif kind in ("minimum", "maximum", "exclusiveMinimum"):
        op = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">"}[kind]
        message = f"must be {op} {value} (got {shown})"
    elif kind == "minLength":
        message = "must not be empty"
    elif kind == "minItems":
        message = "must list at least one item"
    elif kind == "uniqueItems":
        message = "lists the same item twice"
    else:
        message = err.message
    return [doc.problem(path, message)]


def _pattern_message(schema: Mapping[str, Any], shown: str) -> str:
    description = str(schema.get("description", ""))
    if "CIDR" in description or "network, e.g." in description:
        return f"{shown} {_CIDR_HINT}"
    if "IPv4 address" in description:
        return f"{shown} is not an IPv4 address"
    if "DNS label" in description:
        return f"{shown} is not a valid host name (one DNS label: a-z, 0-9 and inner '-', at most 63)"
    if "Network name" in description:
        return f"{shown} is not a valid network name (letters, digits, '-', '_')"
    if schema.get("x-netsot-message"):  # a system's own rule, said its own way
        return f"{shown} {schema['x-netsot-message']}"
    if "duration" in description:
        return f"{shown} is not a duration (e.g. 30m, 24h, 7d)"
    return f"{shown} does not match {schema.get('pattern')}"


def _secret_syntax(doc: Document) -> list[ConfigProblem]:
    out = []
    for path in secret_paths(doc.data):
        value = _get(doc.data, path)
        if isinstance(value, str) and value.startswith("${") and not SECRET_RE.match(value):
            out.append(doc.problem(path, "malformed secret reference (use ${env:NAME} or ${file:PATH})"))
    return out


def _get(root: Any, path: Path_) -> Any:
    cur = root
    for part in path:
        if isinstance(cur, Mapping):
            cur = cur.get(part)
        elif isinstance(cur, BaseModel):
            cur = getattr(cur, str(part), None)
        else:
            return None
    return cur


def _net(value: Any, strict: bool = True) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(value, strict=strict) if isinstance(value, str) else None
    except ValueError:
        return None


def _ip(value: Any) -> ipaddress.IPv4Address | None:
    try:
        return ipaddress.IPv4Address(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _cross_checks(doc: Document) -> list[ConfigProblem]:
    """Checks across entries, on the raw data so they run even when other parts are invalid."""
    nets = doc.data.get("networks")
    hosts = doc.data.get("hosts")
    out: list[ConfigProblem] = []
    prefixes: dict[str, ipaddress.IPv4Network | None] = {}
    for i, net in enumerate(nets if isinstance(nets, list) else []):
        if not isinstance(net, dict):
            continue
        name, prefix = net.get("name"), _net(net.get("prefix"))
        if isinstance(name, str):
            if name in prefixes:
                first = (doc.where(("networks", _first(nets, name), "name")) or ("?",))[0]
                out.append(doc.problem(("networks", i, "name"),
                                       f"duplicate network name {name!r} (first on line {first})"))
            else:
                prefixes[name] = prefix
        loose = _net(net.get("prefix"), strict=False)
        if prefix is None and loose is not None:
            out.append(doc.problem(("networks", i, "prefix"),
                                   f"{net['prefix']!r} has host bits set (the network is {loose})"))
        if prefix is not None:
            out += _inside_network(doc, ("networks", i), net, prefix)
        rng = net.get("dhcp_range")
        start, stop = (_ip(rng.get("start")), _ip(rng.get("stop"))) if isinstance(rng, dict) else (None, None)
        if start and stop and stop < start:
            out.append(doc.problem(("networks", i, "dhcp_range", "stop"), f"{stop} is before start {start}"))
    out += _files_exist(doc)
    out += _overlapping_networks(doc, nets if isinstance(nets, list) else [])
    out += _shared_domains(doc, nets if isinstance(nets, list) else [])
    for j, host in enumerate(hosts if isinstance(hosts, list) else []):
        if isinstance(host, dict):
            out += _check_host(doc, j, host, prefixes)
    out += _duplicate_hosts(doc, hosts if isinstance(hosts, list) else [])
    return out


def _instance_checks(doc: Document) -> list[ConfigProblem]:
    """Every network's system instance exists, and is named where a kind has no default one."""
    providers, nets = doc.data.get("providers"), doc.data.get("networks")
    if not isinstance(providers, dict) or not isinstance(nets, list):
        return []
    keys = [str(k) for k in providers]
    out: list[ConfigProblem] = []
    for i, net in enumerate(nets):
        if not isinstance(net, dict):
            continue
        for kind in registry.names():
            own = net.get(kind)
            if not isinstance(own, dict):
                continue
            instance = own.get("instance")
            of_kind = [k for k in keys if split_key(k)[0] == kind]
            if isinstance(instance, str):
                if f"{kind}.{instance}" not in keys:
                    known = ", ".join(of_kind) or "none"
                    out.append(doc.problem(("networks", i, kind, "instance"),
                                           f"no system {kind}.{instance} is configured under providers "
                                           f"(configured {kind}: {known})"))
            elif len(of_kind) > 1 and kind not in keys:
                out.append(doc.problem(("networks", i, kind),
                                       f"several {kind} instances are configured ({', '.join(of_kind)}) and "
                                       f"none is the default ({kind}): say which one serves this network "
                                       "with instance: NAME"))
    return out


def _source_checks(doc: Document) -> list[ConfigProblem]:
    """A precedence list names only ``config`` and configured systems: the schema allows every
    registered kind, but a kind with no instance under ``providers`` is no source here."""
    providers, precedence = doc.data.get("providers"), doc.data.get("precedence")
    if not isinstance(precedence, dict):
        return []
    allowed = registry.configured_sources(providers if isinstance(providers, dict) else ())
    out: list[ConfigProblem] = []
    for attribute, order in precedence.items():
        for i, source in enumerate(order if isinstance(order, list) else []):
            if source in registry.names() and source not in allowed:
                out.append(doc.problem(("precedence", attribute, i),
                                       f"{source} is registered but not configured under providers, so it "
                                       f"is no source here (sources: {', '.join(allowed)})"))
    return out


def _config_path(doc: Document, value: str) -> Path:
    """A path written in the config: ``~`` expanded, relative to the config file's folder."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else Path(doc.file).resolve().parent / path


def file_paths(data: Any) -> dict[Path_, str]:
    """Where settings name files that must exist, and what each file is (each system's descriptor
    says which fields)."""
    providers = data.get("providers") if isinstance(data, Mapping) else None
    out: dict[Path_, str] = {}
    for key in providers if isinstance(providers, Mapping) else ():
        name = split_key(str(key))[0]
        if name in registry.names():
            out.update({("providers", key, field): what for field, what in registry.kind(name).files.items()})
    return out


def _files_exist(doc: Document) -> list[ConfigProblem]:
    """A settings field naming a file (a CA bundle, …) must name a readable file now, not at first use."""
    out = []
    for where, what in file_paths(doc.data).items():
        value = _get(doc.data, where)
        if not isinstance(value, str):
            continue  # e.g. verify_tls: true
        if not value:
            out.append(doc.problem(where, f"must name a {what} file, not an empty string"))
            continue
        path = _config_path(doc, value)
        if not path.is_file():
            shown = "" if str(path) == value else f" ({path})"
            out.append(doc.problem(where, f"the {what} {value}{shown} does not exist or is not a file"))
        elif not os.access(path, os.R_OK):
            out.append(doc.problem(where, f"the {what} {path} cannot be read"))
    return out


def _line_of(doc: Document, path: Path_) -> Any:
    return (doc.where(path) or ("?",))[0]


def _overlapping_networks(doc: Document, nets: list[Any]) -> list[ConfigProblem]:
    """No two networks may share an address: the same prefix twice, or one inside another."""
    out = []
    seen: list[tuple[int, str, ipaddress.IPv4Network]] = []
    for i, net in enumerate(nets):
        prefix = _net(net.get("prefix")) if isinstance(net, dict) else None
        if prefix is None:
            continue
        name = str(net.get("name", f"#{i + 1}"))
        for j, other_name, other in seen:
            if prefix.overlaps(other):
                how = "is the same prefix as" if prefix == other else "overlaps"
                line = _line_of(doc, ("networks", j, "prefix"))
                out.append(doc.problem(("networks", i, "prefix"),
                                       f"{prefix} {how} network {other_name} ({other}, line {line}); "
                                       "networks must not overlap"))
                break
        seen.append((i, name, prefix))
    return out


def _shared_domains(doc: Document, nets: list[Any]) -> list[ConfigProblem]:
    """Networks sharing a domain must say which one owns its names: exactly one ``dns_owner: true``."""
    by_domain: dict[str, list[int]] = {}
    for i, net in enumerate(nets):
        if isinstance(net, dict) and isinstance(net.get("domain"), str) and net["domain"]:
            by_domain.setdefault(net["domain"].lower().rstrip("."), []).append(i)
    out = []
    for domain, members in by_domain.items():
        if len(members) < 2:
            continue
        names = [str(nets[i].get("name", f"#{i + 1}")) for i in members]
        owners = [i for i in members if nets[i].get("dns_owner") is True]
        listed = ", ".join(names[:-1]) + f" and {names[-1]}"
        if not owners:
            out.append(doc.problem(("networks", members[1], "domain"),
                                   f"networks {listed} share domain {domain}: set dns_owner: true on the one "
                                   "that owns names in it"))
        elif len(owners) > 1:
            both = ", ".join(str(nets[i].get("name")) for i in owners)
            out.append(doc.problem(("networks", owners[1], "dns_owner"),
                                   f"networks {both} all set dns_owner: true for domain {domain}; "
                                   "only one network may own a domain's names"))
    return out


def _first(nets: list[Any], name: str) -> int:
    return next(i for i, n in enumerate(nets) if isinstance(n, dict) and n.get("name") == name)


def _inside_network(doc: Document, path: Path_, net: dict[str, Any], prefix: ipaddress.IPv4Network) -> list:
    out = []
    checks: list[tuple[Path_, Any]] = [(("gateway",), net.get("gateway"))]
    rng = net.get("dhcp_range")
    if isinstance(rng, dict):
        checks += [(("dhcp_range", "start"), rng.get("start")), (("dhcp_range", "stop"), rng.get("stop"))]
    for sub, value in checks:
        ip = _ip(value)
        if ip is not None and ip not in prefix:
            out.append(doc.problem((*path, *sub), f"{ip} is outside the network prefix {prefix}"))
    return out


def _check_host(doc: Document, j: int, host: dict[str, Any], prefixes: Mapping[str, Any]) -> list:
    out = []
    network, ip = host.get("network"), _ip(host.get("ip"))
    if isinstance(network, str) and network not in prefixes:
        known = ", ".join(sorted(prefixes)) or "none"
        out.append(doc.problem(("hosts", j, "network"), f"unknown network {network!r} (defined: {known})"))
    prefix = prefixes.get(network) if isinstance(network, str) else None
    if ip is not None and prefix is not None:
        if ip not in prefix:
            out.append(doc.problem(("hosts", j, "ip"), f"{ip} is outside network {network} ({prefix})"))
        elif prefix.prefixlen < 31 and ip in (prefix.network_address, prefix.broadcast_address):
            which = "network" if ip == prefix.network_address else "broadcast"
            out.append(doc.problem(("hosts", j, "ip"), f"{ip} is the {which} address of {prefix}"))
    return out


def _duplicate_hosts(doc: Document, hosts: list[Any]) -> list[ConfigProblem]:
    """Name, MAC and IP must each be unique within a network."""
    out = []
    seen: dict[tuple[str, str, str], int] = {}
    for j, host in enumerate(hosts):
        if not isinstance(host, dict) or not isinstance(host.get("network"), str):
            continue
        for field in ("name", "mac", "ip"):
            value = host.get(field)
            if not isinstance(value, str):
                continue
            try:
                norm = normalize_mac(value) if field == "mac" else value.strip().lower()
            except ValueError:
                continue
            key = (host["network"], field, norm)
            if key in seen:
                line = (doc.where(("hosts", seen[key], field)) or ("?",))[0]
                out.append(doc.problem(("hosts", j, field),
                                       f"{field} {value} is used twice on network {host['network']} "
                                       f"(first on line {line})"))
            else:
                seen[key] = j
    out += _alias_names(doc, hosts)
    return out


def _alias_names(doc: Document, hosts: list[Any]) -> list[ConfigProblem]:
    """An extra name (``hosts[].aliases``) must not be another host's name or extra name in its network."""
    out = []
    names: dict[tuple[str, str], tuple[Any, ...]] = {}
    for j, host in enumerate(hosts):
        if not isinstance(host, dict) or not isinstance(host.get("network"), str):
            continue
        if isinstance(host.get("name"), str):
            names[(host["network"], host["name"].strip().lower())] = ("hosts", j, "name")
    for j, host in enumerate(hosts):
        aliases = host.get("aliases") if isinstance(host, dict) else None
        if not isinstance(aliases, list) or not isinstance(host.get("network"), str):
            continue
        for k, alias in enumerate(aliases):
            if not isinstance(alias, str):
                continue
            key = (host["network"], alias.strip().lower())
            first = names.get(key)
            if first is not None and first[1] != j:
                line = (doc.where(first) or ("?",))[0]
                what = "the name" if first[2] == "name" else "an alias"
                out.append(doc.problem(("hosts", j, "aliases", k),
                                       f"alias {alias} is {what} of another host on network "
                                       f"{host['network']} (line {line})"))
            elif first is None:
                names[key] = ("hosts", j, "aliases", k)
    return out


def _build(doc: Document, base: Path, source_path: str | None
           ) -> tuple[Config | None, list[tuple[Path_, str]]]:
    """The typed ``Config``; secret file references bind to ``base``."""
    data = dict(doc.data)
    for spath in secret_paths(data):
        parent = _get(data, spath[:-1])
        if isinstance(parent, dict) and isinstance(parent.get(spath[-1]), str):
            # Bind file references to the config's folder (copy: the document keeps raw data).
            _set_copy(data, spath, Secret(parent[spath[-1]], base))
    for where in file_paths(data):
        value = _get(data, where)
        if isinstance(value, str) and value:  # the client gets an absolute path, whatever the cwd
            _set_copy(data, where, _config_path(doc, value).as_posix())
    problems: list[tuple[Path_, str]] = []
    if isinstance(data.get("providers"), dict):
        data["providers"] = _typed_providers(data["providers"], problems, doc)
    if isinstance(data.get("networks"), list):
        data["networks"] = [_typed_network(i, n, problems, doc) for i, n in enumerate(data["networks"])]
    if problems:
        return None, problems
    data["source_path"] = source_path
    try:
        return Config.model_validate(data), []
    except PydanticError as exc:
        return None, [(_loc_path(doc.data, e["loc"]), _pyd_message(e)) for e in exc.errors()]


def _typed(model: type[BaseModel], value: Any, where: Path_, problems: list[tuple[Path_, str]],
           doc: Document) -> BaseModel | None:
    """``value`` validated by a system's own settings model; errors located under ``where``."""
    try:
        return model.model_validate(value)
    except PydanticError as exc:
        problems += [(_loc_path(doc.data, (*where, *e["loc"])), _pyd_message(e)) for e in exc.errors()]
        return None


def _typed_providers(raw: dict[str, Any], problems: list[tuple[Path_, str]], doc: Document) -> dict:
    """``providers:`` with every instance's settings validated by its kind's model (unknown kinds
    are left out: the schema has reported them)."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = split_key(str(key))[0]
        if name not in registry.names() or not isinstance(value, dict):
            continue
        typed = _typed(registry.kind(name).settings, value, ("providers", key), problems, doc)
        if typed is not None:
            out[key] = typed
    return out


def _typed_network(i: int, raw: Any, problems: list[tuple[Path_, str]], doc: Document) -> Any:
    """One network with each system's part validated by that kind's per-network model."""
    if not isinstance(raw, dict):
        return raw
    out = dict(raw)
    for key, value in raw.items():
        if key in registry.names():
            if not isinstance(value, dict):
                out.pop(key)
                continue
            typed = _typed(registry.kind(key).network_settings, value, ("networks", i, key), problems, doc)
            if typed is None:
                out.pop(key)
            else:
                out[key] = typed
    return out


def _set_copy(root: dict[str, Any], path: Path_, value: Any) -> None:
    cur = root
    for part in path[:-1]:
        cur[part] = dict(cur[part])
        cur = cur[part]
    cur[path[-1]] = value


def _loc_path(data: Any, loc: tuple[Any, ...]) -> Path_:
    out: list[str | int] = []
    cur = data
    for n, part in enumerate(loc):
        found = (isinstance(cur, dict) and part in cur) or (
            isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur)
        )
        if found:
            cur = cur[part]
        elif not (n == len(loc) - 1 and isinstance(cur, dict) and isinstance(part, str)):
            continue  # a union member tag such as "bool" or "function-after[…]"
        out.append(part)
    return tuple(out)


def _pyd_message(error: Mapping[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "missing required key"
    message = str(error["msg"])
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _unrelated(model: list[tuple[Path_, str]], found: list[ConfigProblem], doc: Document) -> list:
    """Model errors not already explained by a schema or cross-check problem at a related key."""
    known = [tuple(p.key.replace("[", ".[").split(".")) for p in found]
    out = []
    for path, message in model:
        mine = tuple(doc.problem(path, message).key.replace("[", ".[").split("."))
        if any(k[: len(mine)] == mine or mine[: len(k)] == k for k in known):
            continue
        out.append(doc.problem(path, message))
    return out


def _canonical(value: Any) -> Any:
    if isinstance(value, Secret):
        return {"secret": value.reference}
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)
