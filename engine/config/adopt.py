"""``netsot adopt lease MAC``: a discovered device becomes a declared host in the config file.

Owns: deciding what to declare (``decide``: the lease of that MAC among the plan's discovered
devices, its name — ``--name``, else the hostname hint made a DNS label — and network; refusing a
MAC that a binding or a ``hosts:`` entry already has, naming it; "nothing to do" when the entry is
already there) and writing the ``hosts:`` entry with a round-trip YAML library (``ruamel.yaml``:
comments, order, quotes and indentation stay as they were), atomically, keeping the file's mode.
No ``ip:`` is written: the next plan allocates one from NIPAP's prefix outside the dynamic range.
Must not: change any system or the state (the next ``plan``/``apply`` does that), or name a system.
"""

from __future__ import annotations

import io
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.config import Config
from core.errors import ConfigError, NetsotError
from core.files import write_atomic
from core.model import Discovered, Plan
from core.names import normalize_mac, validate_hostname

_NOT_LABEL = re.compile(r"[^a-z0-9-]+")


def suggested_name(hint: str | None) -> str | None:
    """A lease's hostname hint as a DNS label (``Anna's iPhone`` → ``anna-s-iphone``), or None."""
    if not hint:
        return None
    text = _NOT_LABEL.sub("-", hint.split(".", 1)[0].lower()).strip("-")[:63].strip("-")
    try:
        return validate_hostname(text) if text else None
    except ValueError:
        return None


def command_for(mac: str, hint: str | None) -> str:
    """The exact command that adopts a discovered device (shown on the page and by explain)."""
    name = suggested_name(hint)
    return f"netsot adopt lease {mac}" + (f"  # as {name}" if name else " --name NAME")


@dataclass(frozen=True)
class Decision:
    """What ``adopt lease`` does: ``entry`` to add, or nothing (``message`` says why)."""

    message: str
    entry: dict[str, str] | None = None


def decide(config: Config, plan: Plan, mac_text: str, name: str | None, network: str | None) -> Decision:
    """Raise ``NetsotError`` for a refusal; return the entry to add, or a no-op."""
    try:
        mac = normalize_mac(mac_text)
    except ValueError:
        raise NetsotError(f"{mac_text!r} is not a MAC address") from None
    declared = [h for h in config.hosts if h.mac == mac]
    if declared:
        host = declared[0]
        if (name is None or name == host.name) and network in (None, host.network):
            return Decision(
                f"hosts: already declares {host.network}/{host.name} with MAC {mac}; nothing to do."
            )
        raise NetsotError(f"MAC {mac} is already declared in hosts: as {host.network}/{host.name}")
    bound = [b for b in plan.bindings if (b.mac or "").lower() == mac]
    if bound:
        b = bound[0]
        raise NetsotError(
            f"MAC {mac} is already bound: {b.network}/{b.hostname} ({b.ip}, from {b.origin}); "
            "netsot manages it already"
        )
    lease = _lease(plan, mac, network)
    net = network or lease.network
    if net is None or net not in {n.name for n in config.networks}:
        raise NetsotError(f"the lease of {mac} is in no configured network; say which with --network NET")
    chosen = _name(name, lease)
    _check_free(config, plan, net, chosen)
    entry = {"name": chosen, "network": net, "mac": mac}
    what = f"lease {lease.ip}" + (f", {lease.vendor}" if lease.vendor else "")
    entry["description"] = f"adopted from {what}"
    return Decision(f"Added the hosts: entry {net}/{chosen} (MAC {mac}).", entry)


def _lease(plan: Plan, mac: str, network: str | None) -> Discovered:
    found = [d for d in plan.discovered if d.mac == mac and network in (None, d.network)]
    if not found:
        raise NetsotError(
            f"no discovered lease has MAC {mac} (`netsot plan --show-discovered` lists them; "
            "a device whose MAC a system already knows is a binding or an unmanaged object)"
        )
    return found[0]


def _name(name: str | None, lease: Discovered) -> str:
    if name is not None:
        try:
            return validate_hostname(name)
        except ValueError as exc:
            raise NetsotError(f"--name {name!r}: {exc}") from None
    chosen = suggested_name(lease.hostname_hint)
    if chosen is None:
        raise NetsotError(f"the lease of {lease.mac} sent no usable host name; give one with --name NAME")
    return chosen


def _check_free(config: Config, plan: Plan, network: str, name: str) -> None:
    for host in config.hosts:
        if host.network == network and host.name == name:
            raise NetsotError(f"hosts: already has {network}/{name} (MAC {host.mac}); choose another --name")
    for b in plan.bindings:
        if b.network == network and b.hostname == name:
            raise NetsotError(
                f"{network}/{name} is already a binding (MAC {b.mac}, from {b.origin}); choose another --name"
            )


# ----------------------------------------------------------------------------- the YAML edit


def add_host(text: str, entry: dict[str, str]) -> str:
    """``text`` (a netsot.yaml) with ``entry`` appended to ``hosts:``, everything else as it was."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString
    from ruamel.yaml.util import load_yaml_guess_indent

    try:
        _, indent, offset = load_yaml_guess_indent(text)
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        yaml.width = 4096
        offset = offset or 0
        yaml.indent(mapping=max(2, (indent or 2) - offset), sequence=indent or 2, offset=offset)
        data = yaml.load(text)
    except YAMLError as exc:
        raise ConfigError(f"cannot edit the config file: {exc}") from None
    if not isinstance(data, CommentedMap):
        raise ConfigError("cannot edit the config file: it is not a mapping")
    hosts = data.get("hosts")
    if hosts is None:
        hosts = data["hosts"] = CommentedSeq()
    if not isinstance(hosts, CommentedSeq):
        raise ConfigError("cannot edit the config file: hosts: is not a list")
    hosts.fa.set_block_style()
    item = CommentedMap()
    for key, value in entry.items():
        item[key] = DoubleQuotedScalarString(value) if key == "mac" else value
    _move_trailing_blank_lines(hosts, item)
    hosts.append(item)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def _move_trailing_blank_lines(hosts: Any, item: Any) -> None:
    """The blank lines after the last entry stay after the list (they separate it from what follows)."""
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    if not len(hosts) or not hasattr(hosts[-1], "ca") or not hosts[-1]:
        return
    prev = hosts[-1]
    comment = prev.ca.items.get(list(prev.keys())[-1])
    token = comment[2] if comment and len(comment) > 2 else None
    if token is None or not isinstance(token.value, str):
        return
    head, _, rest = token.value.partition("\n")
    if rest and not rest.strip():
        token.value = head + "\n"
        item.ca.items[list(item.keys())[-1]] = [
            None,
            None,
            CommentToken("\n" + rest, CommentMark(0), None),
            None,
        ]


def write_entry(path: Path, entry: dict[str, str]) -> None:
    """Append ``entry`` to the config file at ``path`` (atomic; the file keeps its mode)."""
    try:
        text = path.read_text(encoding="utf-8")
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    new = add_host(text, entry)
    try:
        write_atomic(path, new, mode)
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}") from None


def run(
    config: Config, path: Path, mac: str, name: str | None, network: str | None, *, force_state: bool = False
) -> tuple[str, int]:
    """``netsot adopt lease MAC``: read + plan (nothing applied), decide, write the entry."""
    from engine.workflow import look_run

    try:
        normalize_mac(mac)
    except ValueError:
        raise NetsotError(f"{mac!r} is not a MAC address") from None
    if any(h.mac == normalize_mac(mac) for h in config.hosts):  # a no-op or a refusal needs no read
        return decide(config, Plan(), mac, name, network).message + "\n", 0
    look = look_run(config, force_state=force_state, mode="cli")
    if look.snapshot is None:
        raise NetsotError(look.error)
    decision = decide(config, look.snapshot.plan, mac, name, network)
    if decision.entry is None:
        return decision.message + "\n", 0
    write_entry(path, decision.entry)
    return (
        f"{decision.message[:-1]} to {path}.\nThe next `netsot plan` gives it an address from NIPAP's "
        "prefix outside the dynamic range, a DHCP reservation and a DNS name "
        "(review with `netsot plan`, then `netsot apply`).\n"
    ), 0
