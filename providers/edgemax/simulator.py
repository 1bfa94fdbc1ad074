"""A loopback double of an EdgeRouter (EdgeOS) reachable over real SSH, for tests and `netsot lab`.

Owns: the asyncssh server (host keys, password / keyboard-interactive / public-key auth, known_hosts
files), a hand-rolled PTY terminal (echo, prompts, `:` pager), the op-mode and config-mode command
interpreter with EdgeOS's exact messages, value/commit validation, active / working / saved configs,
leases, a command log, counters and fault switches.
Must not: parse or render configuration itself (``tree``/``parse``/``render``/``leases`` do that), or
be imported by the provider code path.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ipaddress
import json
import os
import re
import shlex
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from providers.edgemax import render as _render
from providers.edgemax import tree as _tree

# OpenSSH-like list, deduplicated: asyncssh's default advertises every algorithm twice in
# server-sig-algs, which crashes libssh2 (tooling.md §2, gotcha 1).
SIGNATURE_ALGS = (
    "ssh-ed25519",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "rsa-sha2-512",
    "rsa-sha2-256",
    "ssh-rsa",
)
HOST_KEY_TYPES = ("ssh-ed25519", "ssh-rsa")
VERSION_TEXT = (
    "Version:      v2.0.9-hotfix.7\n"
    "Build ID:     5611225\n"
    "Build on:     07/05/23 13:57\n"
    "Copyright:    2012-2023 Ubiquiti Networks, Inc.\n"
    "HW model:     EdgeRouter Lite 3-Port\n"
    "HW S/N:       7483C2A1B2C3\n"
    "Uptime:       10:11:12 up 42 days,  3:04,  1 user,  load average: 0.08, 0.05, 0.01"
)
CANNOT_EXIT = "Cannot exit: configuration modified.\nUse 'exit discard' to discard the changes and exit."


# ---------------------------------------------------------------------------------------------
# the config store: thin adapters over the shared tree / parse / render / leases modules
# ---------------------------------------------------------------------------------------------


def parse_boot(text: str) -> _tree.Tree:
    from providers.edgemax.parse import parse_boot as _parse_boot

    return _parse_boot(text)


def render_commands(tree: _tree.Tree) -> str:
    return _render.render_commands(tree)


def render_boot(tree: _tree.Tree) -> str:
    return _render.render_boot(tree)


def render_show(tree: _tree.Tree, *, path: Sequence[str] = (), masked: bool = True) -> str:
    """`show configuration` (masked) or config-mode `show [path]` (a space diff column per line)."""
    if path:
        node = tree.node(list(path))
        if node is None:
            return ""
        tree = _tree.Tree(_tree.make_node("", _tree.Kind.NODE, node.children))
    text = _render.render_show(tree) if masked else _render.render_boot(tree, version_trailer=False)
    return text if masked else "".join(f" {ln}\n" for ln in text.splitlines())


def set_path(tree_holder: Shell, words: Sequence[str]) -> bool:
    """``set``: False when the node already exists (EdgeOS: a success that changes nothing)."""
    try:
        tree_holder.working = tree_holder.working.set(list(words))
    except _tree.NodeExists:
        return False
    except _tree.TreeError as exc:
        raise Rejected(str(exc), "Set failed") from None
    return True


def delete_path(tree_holder: Shell, words: Sequence[str]) -> str | None:
    """``delete``: the "Nothing to delete" message when the node/value is absent, else None."""
    try:
        tree_holder.working = tree_holder.working.delete(list(words))
    except _tree.NothingToDelete as exc:
        return str(exc)
    except _tree.TreeError as exc:
        raise Rejected(str(exc), "Delete failed") from None
    return None


def render_leases(leases: Sequence[Any]) -> str:
    from providers.edgemax.leases import render_show_leases

    return render_show_leases(list(leases))


def leases_from_json(data: Any) -> list[Any]:
    from providers.edgemax.leases import Lease

    return [item if isinstance(item, Lease) else Lease(**item) for item in data]


def static_mappings(tree: _tree.Tree) -> Iterable[tuple[str, str, str, dict[str, str | None]]]:
    """(shared network, subnet, mapping name, {ip-address, mac-address}) for every static mapping."""
    for sn in tree.tag_values(["service", "dhcp-server", "shared-network-name"]):
        subnets = sn.child("subnet")
        for subnet in subnets.children if subnets else ():
            mappings = subnet.child("static-mapping")
            for mapping in mappings.children if mappings else ():
                attrs = {}
                for leaf in ("ip-address", "mac-address"):
                    child = mapping.child(leaf)
                    attrs[leaf] = child.value if child is not None else None
                yield sn.name, subnet.name, mapping.name, attrs


def static_hosts(tree: _tree.Tree) -> Iterable[tuple[str, dict[str, str | None]]]:
    for host in tree.tag_values(["system", "static-host-mapping", "host-name"]):
        inet = host.child("inet")
        yield host.name, {"inet": inet.value if inet is not None else None}


def subtree(tree: _tree.Tree, path: str) -> _tree.Node | None:
    return tree.node(path.split())


def _render_lines(node: _tree.Node) -> list[str]:
    return _render.render_boot(
        _tree.Tree(_tree.make_node("", _tree.Kind.NODE, [node])), version_trailer=False
    ).splitlines()


def diff(old: _tree.Tree, new: _tree.Tree) -> str:
    """`compare`: EdgeOS's context diff (edgeos.md §2.7) of two trees, empty when equal."""
    out: list[str] = []
    context: list[str | None] = [None]

    def emit(path: tuple[str, ...], marker: str, lines: list[str]) -> None:
        head = f"[edit {' '.join(path)}]" if path else "[edit]"
        if context[0] != head:
            out.append(head)
            context[0] = head
        out.extend(marker + ln for ln in lines)

    def walk(path: tuple[str, ...], o: _tree.Node, n: _tree.Node) -> None:
        names = sorted({c.name for c in o.children} | {c.name for c in n.children}, key=_tree.deb_version_key)
        for name in names:
            oc, nc = o.child(name), n.child(name)
            if oc == nc:
                continue
            if o.kind is _tree.Kind.TAG:  # oc / nc are tag values: render them under their tag
                if oc is None or nc is None:
                    node = nc if oc is None else oc
                    holder = _tree.make_node(o.name, _tree.Kind.TAG, [node])
                    emit(path[:-1], "+" if oc is None else "-", _render_lines(holder))
                else:
                    walk((*path, name), oc, nc)
            elif oc is None or nc is None:
                emit(path, "+" if oc is None else "-", _render_lines(nc if oc is None else oc))
            elif oc.kind is _tree.Kind.LEAF and nc.kind is _tree.Kind.LEAF and not (oc.multi or nc.multi):
                emit(path, ">", _render_lines(nc))
            elif oc.kind is _tree.Kind.LEAF or nc.kind is _tree.Kind.LEAF:
                gone = [v for v in oc.values if v not in nc.values]
                new = [v for v in nc.values if v not in oc.values]
                if gone:
                    emit(path, "-", _render_lines(_tree.make_node(name, _tree.Kind.LEAF, values=gone)))
                if new:
                    emit(path, "+", _render_lines(_tree.make_node(name, _tree.Kind.LEAF, values=new)))
            else:
                walk((*path, name), oc, nc)

    walk((), old.root, new.root)
    return "\n".join(out)


# ---------------------------------------------------------------------------------------------
# faults, log, router state
# ---------------------------------------------------------------------------------------------


@dataclass
class Faults:
    """Switches tests flip at runtime (plain attributes; read by the server thread per command)."""

    drop_after_commands: int | None = None  # answer N more commands, then drop the connection
    fail_next_commit: bool = False  # the next commit fails with ``commit_failure`` (one-shot)
    commit_failure: str = "[ service dhcp-server ]\nFailed to start DHCP server daemon (simulated fault)"
    command_delay: float = 0.0  # seconds before answering each command
    commit_delay: float = 0.0  # seconds spent inside each commit


@dataclass
class SimLog:
    """Everything the router saw; thread-safe, read by tests."""

    entries: list[tuple[str, str]] = field(default_factory=list)  # (kind, detail)
    sessions: int = 0
    commits: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str, detail: str = "") -> None:
        with self._lock:
            self.entries.append((kind, detail))
            if kind == "session":
                self.sessions += 1
            elif kind == "commit":
                self.commits += 1

    def commands(self) -> list[str]:
        with self._lock:
            return [d for k, d in self.entries if k == "command"]

    def kinds(self, kind: str) -> list[str]:
        with self._lock:
            return [d for k, d in self.entries if k == kind]

    def clear(self) -> None:
        with self._lock:
            self.entries.clear()
            self.sessions = 0
            self.commits = 0


class Router:
    """The router's shared state: the active config, the saved file, leases, hostname."""

    def __init__(self, config_boot: str, leases: Sequence[Any], hostname: str) -> None:
        self.lock = threading.RLock()
        self.active = parse_boot(config_boot)
        self.saved_text = config_boot
        self.leases = list(leases)
        self.hostname = hostname
        self.on_commit: Callable[[Any], None] | None = None


# ---------------------------------------------------------------------------------------------
# validation (what `set`/`delete` and `commit` refuse)
# ---------------------------------------------------------------------------------------------


class Rejected(Exception):
    """A command failed; ``lines`` is the router's exact output."""

    def __init__(self, *lines: str) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Spec:
    kind: str  # node | tag | leaf | flag | any
    type: str = "txt"  # value type of a leaf / tag value
    children: Mapping[str, Spec] | None = None


def _node(**children: Spec) -> Spec:
    return Spec("node", children={k.replace("_", "-"): v for k, v in children.items()})


def _tag(vtype: str, **children: Spec) -> Spec:
    return Spec("tag", vtype, {k.replace("_", "-"): v for k, v in children.items()})


def _leaf(vtype: str = "txt") -> Spec:
    return Spec("leaf", vtype)


FLAG, ANY = Spec("flag"), Spec("any")
ENABLE = _leaf("enable|disable")
_STATIC_MAPPING = _tag(
    "mapping-name",
    ip_address=_leaf("ipv4"),
    mac_address=_leaf("macaddr"),
    disable=FLAG,
    static_mapping_parameters=_leaf(),
)
_SUBNET = _tag(
    "ipv4net",
    default_router=_leaf("ipv4"),
    dns_server=_leaf("ipv4"),
    domain_name=_leaf(),
    lease=_leaf("u32"),
    start=_tag("ipv4", stop=_leaf("ipv4")),
    exclude=_leaf("ipv4"),
    unifi_controller=_leaf("ipv4"),
    ntp_server=_leaf("ipv4"),
    wins_server=_leaf("ipv4"),
    smtp_server=_leaf("ipv4"),
    pop_server=_leaf("ipv4"),
    time_server=_leaf("ipv4"),
    bootfile_name=_leaf(),
    bootfile_server=_leaf(),
    tftp_server_name=_leaf(),
    wpad_url=_leaf(),
    time_offset=_leaf(),
    client_prefix_length=_leaf("u32"),
    server_identifier=_leaf("ipv4"),
    ip_forwarding=ANY,
    failover=ANY,
    static_route=ANY,
    subnet_parameters=_leaf(),
    static_mapping=_STATIC_MAPPING,
)
_DHCP = _node(
    disabled=_leaf("true|false"),
    hostfile_update=ENABLE,
    static_arp=ENABLE,
    use_dnsmasq=ENABLE,
    global_parameters=_leaf(),
    dynamic_dns_update=ANY,
    shared_network_name=_tag(
        "pool-name",
        authoritative=ENABLE,
        disable=FLAG,
        description=_leaf(),
        shared_network_parameters=_leaf(),
        subnet=_SUBNET,
    ),
)
_DNS_FORWARDING = _node(
    cache_size=_leaf("u32"),
    listen_on=_leaf(),
    except_interface=_leaf(),
    name_server=_leaf("ipv4,ipv6"),
    system=FLAG,
    dhcp=_leaf(),
    domain=_tag("txt", server=_leaf()),
    options=_leaf(),
    force_public_dns_boost=FLAG,
)
# Top-level nodes EdgeOS knows; only the subtrees netsot writes are modelled strictly.
SCHEMA = Spec(
    "node",
    children={
        **{
            name: ANY
            for name in (
                "firewall",
                "interfaces",
                "load-balance",
                "port-forward",
                "protocols",
                "policy",
                "traffic-control",
                "traffic-policy",
                "vpn",
                "zone-policy",
                "custom-attribute",
                "high-availability",
            )
        },
        "service": Spec(
            "node",
            children={
                "dhcp-server": _DHCP,
                "dns": Spec("node", children={"forwarding": _DNS_FORWARDING, "dynamic": ANY}),
            },
        ),
        "system": Spec(
            "node",
            children={
                "host-name": _leaf("host-name"),
                "domain-name": _leaf("domain"),
                "static-host-mapping": _node(
                    host_name=_tag("host-name", inet=_leaf("ipv4,ipv6"), alias=_leaf())
                ),
            },
        ),
    },
)
# Children not listed under `service` / `system` (gui, ssh, nat, login, ntp…) are accepted as-is.
OPEN_NODES = {("service",), ("system",)}

_IPV4 = re.compile(r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$")
_MAC = re.compile(r"^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$")
_WORD = re.compile(r"^[-A-Za-z0-9_.:/@+=,]+$")
_NAMES = {
    "mapping-name": (re.compile(r"^[-_a-zA-Z0-9.]+$"), 'invalid static-mapping name "{}"'),
    "pool-name": (re.compile(r"^[-_a-zA-Z0-9.]+$"), 'invalid DHCP pool name "{}"'),
    "host-name": (re.compile(r"^[A-Za-z0-9][-.A-Za-z0-9]*[A-Za-z0-9]$"), "invalid host name {}"),
    "domain": (re.compile(r"^[A-Za-z0-9][-.A-Za-z0-9]*$"), "invalid domain name {}"),
}


def _is_ipv4(v: str) -> bool:
    m = _IPV4.match(v)
    return bool(m) and all(int(g) <= 255 for g in m.groups())


def _check_value(vtype: str, value: str, op: str) -> None:
    for ch, label in (("'", "single quote (')"), ('"', 'double quote (")'), ("\n", "newline")):
        if ch in value:
            raise Rejected(
                f"Cannot use the {label} character in a value string",
                "Value validation failed",
                f"{op} failed",
            )
    ok = True
    if vtype == "ipv4":
        ok = _is_ipv4(value)
    elif vtype == "ipv4net":
        addr, _, plen = value.partition("/")
        ok = _is_ipv4(addr) and plen.isdigit() and int(plen) <= 32
    elif vtype == "macaddr":
        ok = bool(_MAC.match(value))
    elif vtype == "u32":
        ok = value.isdigit() and int(value) < 2**32
    elif vtype == "ipv4,ipv6":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            ok = False
    elif "|" in vtype:
        if value not in vtype.split("|"):
            choices = " or ".join(f"'{c}'" for c in vtype.split("|"))
            raise Rejected(f"Must be either {choices}", "", "Value validation failed", f"{op} failed")
    elif vtype in _NAMES:
        regex, message = _NAMES[vtype]
        if not regex.match(value):
            raise Rejected(message.format(value), "", "Value validation failed", f"{op} failed")
    if not ok:
        raise Rejected(
            f'"{value}" is not a valid value of type "{vtype}"', "Value validation failed", f"{op} failed"
        )


def validate_path(words: Sequence[str], op: str) -> None:
    """Raise :class:`Rejected` with EdgeOS's messages when ``words`` is not a valid set/delete path."""
    invalid = Rejected("The specified configuration node is not valid", f"{op} failed")
    spec, i, trail = SCHEMA, 0, ()
    while i < len(words):
        word = words[i]
        if spec.kind == "any":
            if any(c in w for w in words[i:] for c in "\n\"'") or not _WORD.match(word):
                _check_value("txt", " ".join(words[i:]), op)
                raise invalid
            return
        if spec.kind in ("leaf", "flag"):
            if spec.kind == "flag" or i != len(words) - 1:
                raise invalid
            _check_value(spec.type, word, op)
            return
        if spec.kind == "tag":
            _check_value(spec.type, word, op)
            spec, i = Spec("node", children=spec.children), i + 1
            continue
        child = (spec.children or {}).get(word)
        if child is None:
            if trail in OPEN_NODES and _WORD.match(word):
                spec, i = ANY, i + 1
                continue
            raise invalid
        spec, i, trail = child, i + 1, (*trail, word)
    if op == "Set" and spec.kind in ("leaf", "tag"):
        raise Rejected("The specified configuration node requires a value", "Set failed")


def commit_errors(tree: Any) -> list[tuple[str, list[str]]]:
    """What a commit of ``tree`` refuses, as ``(block path, message lines)`` (edgeos.md §4.3)."""
    errors: list[tuple[str, list[str]]] = []
    dhcp: list[str] = []
    for sn, cidr, name, attrs in static_mappings(tree):
        ip, mac = attrs.get("ip-address"), attrs.get("mac-address")
        if ip is None:
            dhcp += [
                f"No static DHCP lease IP address specified for static mapping '{name}'",
                f"under shared network name '{sn}'.",
            ]
        elif ipaddress.IPv4Address(ip) not in ipaddress.IPv4Network(cidr, strict=False):
            dhcp += [
                f"Static DHCP lease IP '{ip}' under static mapping '{name}'",
                f"under shared network name '{sn}' is outside of the DHCP lease network '{cidr}'.",
            ]
        if mac is None:
            dhcp += [
                f"No static DHCP lease MAC address specified for static mapping '{name}'",
                f"under shared network name '{sn}'.",
            ]
    if dhcp:
        dhcp.append("DHCP server configuration commit aborted due to error(s).")
        errors.append(("service dhcp-server", dhcp))
    for host, attrs in static_hosts(tree):
        if not attrs.get("inet"):
            errors.append(
                (
                    f"system static-host-mapping host-name {host}",
                    ["IP address for the static mapping must be set"],
                )
            )
    return errors


# ---------------------------------------------------------------------------------------------
# the shell: one per SSH channel
# ---------------------------------------------------------------------------------------------


class Dropped(Exception):
    """The drop-connection fault fired."""


class Shell:
    """Op mode and config mode of one vbash login session."""

    def __init__(self, sim: Simulator, user: str, process: asyncssh.SSHServerProcess) -> None:
        self.sim, self.router, self.user, self.process = sim, sim.router, user, process
        self.pty = process.get_terminal_type() is not None
        self.rows = (process.get_terminal_size()[1] or 24) if self.pty else 0
        self.pager = self.pty
        self.working: Any = None  # the config-mode working tree, None in op mode
        self.committed_unsaved = False
        self.events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.raw = False
        self.nl = "\r\n" if self.pty else "\n"

    # -- terminal ---------------------------------------------------------------------------
    @property
    def prompt(self) -> str:
        host = self.router.hostname
        if self.working is not None:
            return f"[edit]{self.nl}{self.user}@{host}# "
        return f"{self.user}@{host}:~$ "

    def write(self, text: str) -> None:
        self.process.stdout.write(text.replace("\r\n", "\n").replace("\n", self.nl))

    async def reader(self) -> None:
        """Turn input bytes into line / key events; echo characters on arrival, never the line end."""
        buf, last_cr = "", False
        try:
            while True:
                try:
                    data = await self.process.stdin.read(4096)
                except asyncssh.TerminalSizeChanged as change:
                    self.rows = change.height or self.rows
                    continue
                except (asyncssh.BreakReceived, asyncssh.SignalReceived):
                    continue
                if not data:
                    break
                echo: list[str] = []  # one write per chunk: per-character packets cost ~8 ms a line
                for ch in data:
                    if self.raw:
                        await self.events.put(("key", ch))
                        continue
                    if ch == "\n" and last_cr:
                        last_cr = False
                        continue
                    last_cr = ch == "\r"
                    if ch in "\r\n":
                        self._echo(echo)
                        await self.events.put(("line", buf))
                        buf = ""
                    elif ch in "\x7f\x08":
                        if buf:
                            buf = buf[:-1]
                            echo.append("\b \b")
                    elif ch == "\x03":
                        buf = ""
                        echo.append("^C")
                        self._echo(echo)
                        await self.events.put(("line", ""))
                    elif ch == "\x04" and not buf and self.working is None:
                        await self.events.put(("eof", ""))
                    elif ch >= " " or ch == "\t":
                        buf += ch
                        echo.append(ch)
                self._echo(echo)
        except (asyncssh.Error, OSError, asyncio.CancelledError):
            pass
        await self.events.put(("eof", ""))

    def _echo(self, pending: list[str]) -> None:
        if pending and self.pty:
            self.process.stdout.write("".join(pending))
        pending.clear()

    async def page(self, text: str) -> None:
        """Print op-mode output through the pager (`:` prompt) unless paging was disabled."""
        lines = text.split("\n") if text else []
        if not (self.pager and self.pty) or len(lines) < self.rows:
            self.write(text + "\n" if text else "")
            return
        pos, step = 0, max(self.rows - 1, 1)
        self.raw = True
        try:
            while pos < len(lines):
                self.write("\n".join(lines[pos : pos + step]) + "\n")
                pos += step
                if pos >= len(lines):
                    break
                self.process.stdout.write(":")
                kind, key = await self.events.get()
                self.process.stdout.write("\r \r")
                if kind == "eof" or key in "qQ":
                    break
                step = 1 if key in "\r\n" else max(self.rows - 1, 1)
        finally:
            self.raw = False

    async def run(self) -> int:
        self.sim.log.add("session", f"{self.user} pty={self.pty} rows={self.rows}")
        reader = asyncio.ensure_future(self.reader())
        self.write(f"Welcome to EdgeOS\n\n{self.prompt}")
        try:
            while True:
                kind, line = await self.events.get()
                if kind == "eof":
                    return 0
                if kind != "line":
                    continue
                if self.pty:
                    self.process.stdout.write("\r\n")
                if line.strip():
                    self.sim.log.add("command", line)
                    self.sim.before_command()
                    if self.sim.faults.command_delay:
                        await asyncio.sleep(self.sim.faults.command_delay)
                    if await self.execute(line.strip()) == "exit":
                        return 0
                self.write(self.prompt)
        finally:
            reader.cancel()
            if self.working is not None:
                self.sim.log.add("discarded", "session ended inside configure")

    # -- dispatch ---------------------------------------------------------------------------
    async def execute(self, line: str) -> str | None:
        if self.working is not None:
            return await self.config_command(line)
        return await self.op_command(line)

    def out(self, *lines: str) -> None:
        for text in lines:
            self.write(text + "\n")

    async def op_command(self, line: str) -> str | None:
        no_page = False
        for pipe in ("| cat", "|cat", "| no-more", "|no-more"):
            if line.endswith(pipe):
                line, no_page = line[: -len(pipe)].rstrip(), True
        try:
            words = shlex.split(line)
        except ValueError:
            self.out("-vbash: syntax error: unterminated quoted string")
            return None
        text = self.op_output(words, line)
        if text is None:
            return "exit" if words == ["exit"] else None
        if no_page or not words or words[0] != "show":
            self.write(text + "\n" if text else "")
        else:
            await self.page(text)
        return None

    def op_output(self, words: list[str], line: str) -> str | None:
        """Text of an op-mode command (None when it changes state instead of printing)."""
        r = self.router
        match words:
            case ["exit"] | ["logout"]:
                return None
            case ["configure"]:
                with r.lock:
                    self.working = r.active.copy()
                return None
            case ["show", "configuration", "commands"]:
                with r.lock:
                    return render_commands(r.active).rstrip("\n")
            case ["show", "configuration"]:
                with r.lock:
                    return render_show(r.active, masked=True).rstrip("\n")
            case ["show", "dhcp", "leases"]:
                with r.lock:
                    return render_leases(r.leases).rstrip("\n")
            case ["show", "version"]:
                return VERSION_TEXT
            case ["show", "host", "name"]:
                return r.hostname
            case ["cat", "/config/config.boot"]:
                with r.lock:
                    return r.saved_text.rstrip("\n")
            case ["terminal", "length", n] if n.isdigit():
                self.pager = n != "0"
                if n != "0":
                    self.rows = int(n)
                return ""
            case ["terminal", "width", n] if n.isdigit():
                return ""
            case ["terminal", "pager", *_] | ["stty", *_]:
                return ""
            case ["export", env] if env.startswith("VYATTA_PAGER="):
                self.pager = env.split("=", 1)[1] not in ("cat", "")
                return ""
            case ["show", *rest] | ["terminal", *rest] | ["configure", *rest]:
                return f"\n  Invalid command: {words[0]} [{rest[0] if rest else ''}]\n"
            case []:
                return ""
            case _:
                return f"-vbash: {words[0]}: command not found"

    async def config_command(self, line: str) -> str | None:
        try:
            words = shlex.split(line)
        except ValueError:
            self.out("-vbash: syntax error: unterminated quoted string")
            return None
        try:
            await self.config_words(words)
        except Rejected as err:
            self.out(*err.lines)
        except Exception as exc:  # a simulator bug must show up in the log, not kill the session
            self.sim.log.add("internal_error", f"{line!r}: {exc!r}")
            self.out(f"Internal simulator error: {exc}", f"{(words or ['Command'])[0].capitalize()} failed")
        return None

    def _changed(self) -> bool:
        with self.router.lock:
            return self.working != self.router.active

    async def config_words(self, words: list[str]) -> None:
        r = self.router
        match words:
            case ["set"]:
                raise Rejected("Need to specify the config node to set")
            case ["set", *path]:
                validate_path(path, "Set")
                if not set_path(self, path):
                    self.out("The specified configuration node already exists")
            case ["delete", *path] if path:
                validate_path(path, "Delete")
                missing = delete_path(self, path)
                if missing:
                    self.out(missing)
            case ["compare"]:
                with r.lock:
                    text = diff(r.active, self.working)
                self.out(text or "No changes between working and active configurations")
            case ["compare", "saved"]:
                with r.lock:
                    text = diff(parse_boot(r.saved_text), self.working)
                if text:
                    self.out(text)
            case ["commit"] | ["commit", "comment", _]:
                await self.commit(" ".join(words[2:]))
            case ["discard"]:
                changed = self._changed()
                with r.lock:
                    self.working = r.active.copy()
                self.out("Changes have been discarded" if changed else "No changes have been discarded")
            case ["save"]:
                if self._changed():
                    self.out("Warning: you have uncommitted changes that will not be saved.", "")
                self.out("Saving configuration to '/config/config.boot'...")
                with r.lock:
                    r.saved_text = render_boot(r.active)
                self.committed_unsaved = False
                self.sim.log.add("save")
                self.out("Done")
            case ["exit"]:
                if self._changed():
                    self.out(*CANNOT_EXIT.split("\n"))
                    return
                self.leave()
            case ["exit", "discard"]:
                self.leave()
            case ["exit", arg]:
                self.out(f"Invalid argument \"{arg}\" for 'exit'")
            case ["show", *path]:
                with r.lock:
                    text = render_show(self.working, path=path, masked=False)
                self.out(text.rstrip("\n") if text.strip() else "Configuration under specified path is empty")
            case ["run", *op] if op:
                text = self.op_output(op, " ".join(op))
                if text:
                    self.out(text)
            case ["run"]:
                self.out("Incomplete command")
            case _:
                self.out(f"-vbash: {words[0] if words else ''}: command not found")

    def leave(self) -> None:
        if self.committed_unsaved:
            self.out("Warning: configuration changes have not been saved.")
        self.working = None
        self.committed_unsaved = False

    async def commit(self, comment: str) -> None:
        r, faults = self.router, self.sim.faults
        if not self._changed():
            self.out("No configuration changes to commit")
            return
        if faults.commit_delay:
            await asyncio.sleep(faults.commit_delay)
        if faults.fail_next_commit:
            faults.fail_next_commit = False
            self.sim.log.add("commit_failed", "fault")
            self.out(*faults.commit_failure.split("\n"), "", "Commit failed")
            return
        errors = commit_errors(self.working)
        if errors:
            self.sim.log.add("commit_failed", "; ".join(p for p, _ in errors))
            for path, lines in errors:
                self.out(f"[ {path} ]", *lines, "")
            self.out("Commit failed")
            return
        with r.lock:
            dhcp_changed = subtree(self.working, "service dhcp-server") != subtree(
                r.active, "service dhcp-server"
            )
            r.active = self.working.copy()
            active = r.active.copy()
        self.committed_unsaved = True
        self.sim.log.add("commit", comment)
        if dhcp_changed:
            self.out(
                "[ service dhcp-server ]",
                "Stopping DHCP server daemon...",
                "Starting DHCP server daemon...",
                "",
            )
        if r.on_commit is not None:
            try:
                r.on_commit(active)
            except Exception as exc:  # the hook belongs to the lab; never break the router for it
                self.sim.log.add("on_commit_error", repr(exc))


# ---------------------------------------------------------------------------------------------
# SSH server
# ---------------------------------------------------------------------------------------------


class _Auth(asyncssh.SSHServer):
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.sim.log.add("connect", str(conn.get_extra_info("peername")))

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        ok = self.sim.users.get(username) == password
        self.sim.log.add("auth", f"password {username} {'ok' if ok else 'refused'}")
        return ok

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> Any:
        return "", "", "", [("Password: ", False)]

    def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> bool:
        return len(responses) == 1 and self.validate_password(username, responses[0])

    def public_key_auth_supported(self) -> bool:
        return bool(self.sim.client_keys)

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        ok = username in self.sim.users and key.public_data in self.sim.client_keys
        self.sim.log.add("auth", f"publickey {username} {'ok' if ok else 'refused'}")
        return ok


class Simulator:
    """The router plus its SSH server; runs on one asyncio loop."""

    def __init__(
        self,
        state_dir: Path,
        *,
        config_boot: str,
        leases: Sequence[Any] = (),
        users: Mapping[str, str] | None = None,
        authorized_keys: str | Path | None = None,
        hostname: str = "edge",
    ) -> None:
        self.state_dir = Path(state_dir)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.router = Router(config_boot, leases, hostname)
        self.users = dict(users or {"ubnt": "password"})
        self.client_keys = _load_client_keys(authorized_keys)
        self.log = SimLog()
        self.faults = Faults()
        self.port = 0
        self._server: asyncssh.SSHAcceptor | None = None
        self._connections: set[asyncssh.SSHServerConnection] = set()
        self.host_keys = [_host_key(self.state_dir, t) for t in HOST_KEY_TYPES]

    @property
    def known_hosts(self) -> Path:
        return self.state_dir / "known_hosts"

    @property
    def known_hosts_wrong(self) -> Path:
        return self.state_dir / "known_hosts_wrong"

    def before_command(self) -> None:
        n = self.faults.drop_after_commands
        if n is None:
            return
        if n <= 0:
            self.faults.drop_after_commands = None
            self.log.add("dropped", "fault")
            raise Dropped()
        self.faults.drop_after_commands = n - 1

    async def handle(self, process: asyncssh.SSHServerProcess) -> None:
        conn = process.get_extra_info("connection")
        user = process.get_extra_info("username") or "ubnt"
        status = 0
        try:
            if process.command:
                status = self.exec_command(process, process.command)
            else:
                status = await Shell(self, user, process).run()
        except Dropped:
            conn.abort()
            return
        except (asyncssh.Error, OSError, BrokenPipeError):
            return
        with contextlib.suppress(Exception):
            process.exit(status)

    def exec_command(self, process: asyncssh.SSHServerProcess, command: str) -> int:
        """An exec channel (no interactive vbash): only plain programs and the op wrapper work."""
        self.log.add("exec", command)
        words = command.split()
        wrapper = "/opt/vyatta/bin/vyatta-op-cmd-wrapper"
        shell = Shell(self, "ubnt", process)
        if words[:1] == [wrapper] or words == ["cat", "/config/config.boot"]:
            text = shell.op_output(words[1:] if words[0] == wrapper else words, command)
            process.stdout.write((text or "") + "\n")
            return 0
        process.stdout.write(f"Invalid command: [{words[0] if words else ''}]\n")
        return 1

    async def start(self, port: int = 0) -> None:
        self._server = await asyncssh.create_server(
            lambda: _Auth(self),
            "127.0.0.1",
            port,
            server_host_keys=self.host_keys,
            process_factory=self.handle,
            line_editor=False,
            signature_algs=list(SIGNATURE_ALGS),
            keepalive_interval=0,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._write_known_hosts()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    def _write_known_hosts(self) -> None:
        def line(key: asyncssh.SSHKey) -> str:
            return f"[127.0.0.1]:{self.port} {' '.join(key.export_public_key().decode().split()[:2])}\n"

        good = [line(k) for k in self.host_keys]
        # another router's keys of every type: strict checking must refuse all of them
        wrong = [line(_host_key(self.state_dir, t, prefix="wrong_host")) for t in HOST_KEY_TYPES]
        self.known_hosts.write_text("".join(good))
        self.known_hosts_wrong.write_text("".join(wrong))


_KEY_CACHE: dict[bytes, asyncssh.SSHKey] = {}


def _host_key(state_dir: Path, key_type: str, prefix: str = "ssh_host") -> asyncssh.SSHKey:
    """Load or create a host key, so a restarted router keeps its identity."""
    path = state_dir / f"{prefix}_{'ed25519' if key_type == 'ssh-ed25519' else 'rsa'}_key"
    if path.exists():
        data = path.read_bytes()
        if data not in _KEY_CACHE:  # loading an RSA key validates it: ~0.15 s, paid once per process
            _KEY_CACHE[data] = asyncssh.import_private_key(data)
        return _KEY_CACHE[data]
    key = (
        asyncssh.generate_private_key(key_type, key_size=2048)
        if key_type == "ssh-rsa"
        else (asyncssh.generate_private_key(key_type))
    )
    key.write_private_key(str(path))
    path.chmod(0o600)
    return key


def _load_client_keys(authorized_keys: str | Path | None) -> set[bytes]:
    """Public key blobs from an authorized_keys file (Path) or text (str)."""
    if authorized_keys is None:
        return set()
    text = authorized_keys.read_text() if isinstance(authorized_keys, Path) else authorized_keys
    keys: set[bytes] = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keys.add(asyncssh.import_public_key(line).public_data)
    return keys


# ---------------------------------------------------------------------------------------------
# running it: in a background thread (tests) or standalone (lab)
# ---------------------------------------------------------------------------------------------


class SimHandle:
    """A simulator running on its own loop in a daemon thread."""

    def __init__(self, sim: Simulator, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.sim, self._loop, self._thread = sim, loop, thread

    @property
    def port(self) -> int:
        return self.sim.port

    @property
    def known_hosts(self) -> Path:
        return self.sim.known_hosts

    @property
    def known_hosts_wrong(self) -> Path:
        return self.sim.known_hosts_wrong

    @property
    def log(self) -> SimLog:
        return self.sim.log

    @property
    def faults(self) -> Faults:
        return self.sim.faults

    @property
    def router(self) -> Router:
        return self.sim.router

    def set_on_commit(self, callback: Callable[[Any], None] | None) -> None:
        self.sim.router.on_commit = callback

    def active_tree(self) -> Any:
        with self.sim.router.lock:
            return self.sim.router.active.copy()

    def active_commands(self) -> str:
        with self.sim.router.lock:
            return render_commands(self.sim.router.active)

    def saved_text(self) -> str:
        with self.sim.router.lock:
            return self.sim.router.saved_text

    def set_leases(self, leases: Iterable[Any]) -> None:
        with self.sim.router.lock:
            self.sim.router.leases = list(leases)

    def stop(self) -> None:
        if not self._loop.is_running():
            return
        fut = asyncio.run_coroutine_threadsafe(self.sim.stop(), self._loop)
        with contextlib.suppress(Exception):
            fut.result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def __enter__(self) -> SimHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_simulator(
    state_dir: Path,
    *,
    config_boot: str,
    leases: Sequence[Any] = (),
    users: Mapping[str, str] | None = None,
    authorized_keys: str | Path | None = None,
    hostname: str = "edge",
    port: int = 0,
    on_commit: Callable[[Any], None] | None = None,
) -> SimHandle:
    """Start a simulated router on 127.0.0.1 (a free port unless ``port``) in a background thread.

    ``on_commit(active_tree)`` runs (in the simulator's thread) after every successful commit.
    """
    sim = Simulator(
        state_dir,
        config_boot=config_boot,
        leases=leases,
        users=users,
        authorized_keys=authorized_keys,
        hostname=hostname,
    )
    sim.router.on_commit = on_commit
    loop = asyncio.new_event_loop()
    started = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(sim.start(port))
        except BaseException as exc:
            failure.append(exc)
            started.set()
            return
        started.set()
        loop.run_forever()
        with contextlib.suppress(Exception):
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=run, name=f"edgemax-sim-{state_dir.name}", daemon=True)
    thread.start()
    if not started.wait(30) or failure:
        raise RuntimeError(f"the EdgeOS simulator did not start: {failure[0] if failure else 'timeout'}")
    return SimHandle(sim, loop, thread)


def load_leases(path: Path) -> list[Any]:
    """Leases from a JSON file: a list of objects with the fields of ``leases.Lease``."""
    return leases_from_json(json.loads(path.read_text()))


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m providers.edgemax.simulator", description=__doc__)
    ap.add_argument("--state-dir", type=Path, required=True)
    ap.add_argument("--config-boot", type=Path, required=True)
    ap.add_argument("--leases", type=Path)
    ap.add_argument("--user", default="ubnt")
    ap.add_argument("--password-file", type=Path)
    ap.add_argument("--authorized-keys", type=Path)
    ap.add_argument("--hostname", default="edge")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    password = args.password_file.read_text().strip() if args.password_file else "password"
    sim = Simulator(
        args.state_dir,
        config_boot=args.config_boot.read_text(),
        leases=load_leases(args.leases) if args.leases else (),
        users={args.user: password},
        authorized_keys=args.authorized_keys,
        hostname=args.hostname,
    )

    async def serve() -> None:
        await sim.start(args.port)
        info = {
            "port": sim.port,
            "pid": os.getpid(),
            "known_hosts": str(sim.known_hosts),
            "started": time.time(),
        }
        tmp = args.state_dir / "edgemax.json.tmp"
        tmp.write_text(json.dumps(info))
        tmp.replace(args.state_dir / "edgemax.json")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await sim.stop()

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
