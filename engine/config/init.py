"""``netsot init``: a working, commented ``netsot.yaml`` from the systems of a homelab.

Owns: the conversation (``Wizard``: questions, trust on first use only through a confirmed or
given fingerprint, secrets into ``secrets/`` at mode 0600, undoing the files it wrote when it
fails), merging what each system reported (``merge``: one network per prefix; a hypervisor's
placements go to the network holding its guests' addresses), and writing the config (``render``)
after checking it loads. Each system's own part is its descriptor's ``init`` hook.
Must not: know any system, or write anything to a system.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.config import Config
from core.errors import ConfigError, NetsotError
from core.files import write_atomic
from core.probe import same_fingerprint
from providers import registry
from providers.base import InitHook, InitSystem

Net = ipaddress.IPv4Network


class InitRefused(NetsotError):
    """``netsot init`` stopped (nothing trusted without a confirmed fingerprint, a missing answer)."""


# ----------------------------------------------------------------------------- the conversation


class Wizard:
    """``InitUI`` for the terminal: prompts when a person is there, flags otherwise."""

    def __init__(
        self,
        outdir: Path,
        *,
        interactive: bool,
        assume_yes: bool,
        echo: Callable[[str], None],
        prompt: Callable[..., Any],
        confirm: Callable[..., bool],
        force: bool = False,
    ) -> None:
        self._outdir, self.interactive, self.assume_yes = outdir, interactive, assume_yes
        self._echo, self._prompt, self._confirm = echo, prompt, confirm
        self.force = force
        self.created: list[Path] = []
        self._replaced: dict[Path, bytes] = {}  # what --force replaced, put back by ``undo``

    @property
    def outdir(self) -> Path:
        return self._outdir

    def say(self, text: str) -> None:
        self._echo(text)

    def ask(self, question: str, flag: str, *, default: str | None = None, secret: bool = False) -> str:
        if not self.interactive or self.assume_yes:
            if default is not None:
                return default
            raise InitRefused(f"{question}: give {flag} (there is nobody to ask)")
        return str(
            self._prompt(question, default=default, hide_input=secret, show_default=bool(default))
        ).strip()

    def trust(self, what: str, fingerprint: str, pinned: str | None, flag: str) -> None:
        self.say(f"{what} presents the fingerprint {fingerprint}")
        if pinned:
            if not same_fingerprint(pinned, fingerprint):
                raise InitRefused(
                    f"{what}: its fingerprint {fingerprint} is not the {flag} given ({pinned}); "
                    "nothing was trusted — someone may be in the middle, or the wrong host answered"
                )
            self.say(f"  it matches {flag}: trusted")
            return
        if self.assume_yes or not self.interactive:
            raise InitRefused(
                f"{what}: not trusted. Compare {fingerprint} with the one the system itself shows, "
                f"then give it with {flag} (--yes never trusts an unconfirmed key)"
            )
        if not self._confirm("  Is this the fingerprint the system itself shows? Trust it", default=False):
            raise InitRefused(f"{what}: not trusted; nothing was written")

    def _path(self, name: str) -> Path:
        path = self._outdir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _put(self, path: Path, text: str, mode: int) -> None:
        """Write ``path``; a different file already there is replaced only with --force (and kept
        aside until the run succeeds)."""
        if path.exists():
            old = path.read_bytes()
            if old != text.encode() and not self.force:
                raise InitRefused(f"{path} exists with other content; give --force to replace it")
            self._replaced.setdefault(path, old)
        else:
            self.created.append(path)
        write_atomic(path, text, mode=mode)

    def secret(self, name: str, value: str) -> str:
        folder = self._outdir / "secrets"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._put(folder / name, value.strip() + "\n", 0o600)
        return f"${{file:secrets/{name}}}"

    def write(self, name: str, text: str, mode: int = 0o644) -> str:
        self._put(self._path(name), text, mode)
        return name

    def undo(self) -> None:
        """Remove what this run wrote and put back what it replaced (a failed init leaves the folder as
        it found it)."""
        for path in reversed(self.created):
            path.unlink(missing_ok=True)
        for path, old in self._replaced.items():
            path.write_bytes(old)
        secrets = self._outdir / "secrets"
        if secrets.is_dir() and not any(secrets.iterdir()):
            secrets.rmdir()


def hooks() -> list[tuple[str, InitHook]]:
    """Every kind's ``init`` hook, in the registry's order."""
    found = []
    for kind in registry.kinds():
        hook = registry.hook(kind.name, "init")
        if isinstance(hook, InitHook):
            found.append((kind.name, hook))
    return found


# ----------------------------------------------------------------------------- merging


@dataclass
class Draft:
    """One network while merging: what the systems said of its prefix."""

    prefix: Net
    name: str = ""
    gateway: str = ""
    domain: str = ""
    dhcp_range: tuple[str, str] | None = None
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)  # system key -> networks[].<kind>
    known_by: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _net(text: str) -> Net | None:
    try:
        return ipaddress.IPv4Network(text, strict=False)
    except ValueError:
        return None


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return slug[:63] if slug and slug[0].isalpha() else ""


def merge(systems: Sequence[InitSystem]) -> tuple[list[Draft], list[str]]:
    """One draft per prefix, and notes about what could not be placed."""
    drafts: dict[Net, Draft] = {}
    notes: list[str] = []
    for system in systems:
        for sub in system.subnets:
            net = _net(sub.prefix)
            if net is None:
                notes.append(f"{system.key}: {sub.prefix!r} is not an IPv4 network; left out")
                continue
            d = drafts.setdefault(net, Draft(net))
            d.name = d.name or _slug(sub.name)
            d.gateway, d.domain = d.gateway or sub.gateway, d.domain or sub.domain
            d.dhcp_range = d.dhcp_range or sub.dhcp_range
            if sub.settings:
                d.settings.setdefault(system.key, dict(sub.settings))
            d.known_by.append(system.key)
            if sub.note:
                d.notes.append(f"{system.key}: {sub.note}")
    for system in systems:
        for place in system.placements:
            votes: Counter[Net] = Counter()
            for addr in place.addresses:
                if "/" in addr and (net := _net(addr)) is not None:
                    drafts.setdefault(net, Draft(net))
                    votes[net] += 1
                    continue
                try:
                    ip = ipaddress.IPv4Address(addr.split("/")[0])
                except ValueError:
                    continue
                inside = [n for n in drafts if ip in n]
                if inside:
                    votes[max(inside, key=lambda n: n.prefixlen)] += 1
            if not votes:
                notes.append(
                    f"{system.key}: {place.label or dict(place.settings)} carries no address in a known "
                    f"network; add that network by hand with {dict(place.settings)}"
                )
                continue
            net = votes.most_common(1)[0][0]
            d = drafts[net]
            if system.key in d.settings and d.settings[system.key] != dict(place.settings):
                d.notes.append(f"{system.key}: also seen on {place.label or dict(place.settings)}")
                continue
            d.settings[system.key] = dict(place.settings)
            if system.key not in d.known_by:
                d.known_by.append(system.key)
    ordered = sorted(drafts.values(), key=lambda d: (d.prefix.network_address, d.prefix.prefixlen))
    used: set[str] = set()
    for d in ordered:
        base = d.name or "net-" + str(d.prefix.network_address).replace(".", "-")
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        d.name = name
        used.add(name)
    return ordered, notes


def _required_fields(kind_name: str) -> list[str]:
    model = registry.kind(kind_name).network_settings
    return [k for k, f in model.model_fields.items() if f.is_required()]


# ----------------------------------------------------------------------------- writing


def _scalar(value: Any) -> str:
    if isinstance(value, str) and re.fullmatch(r"\$\{[a-z]+:[^}\n]+\}", value):
        return value
    return yaml.safe_dump({"v": value}, default_flow_style=True, width=1000).strip()[4:-1]


def _flow(mapping: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in mapping.items()) + "}"


def _instance_settings(key: str, settings: Mapping[str, Any], default_key: bool) -> dict[str, Any]:
    out = dict(settings)
    instance = key.partition(".")[2]
    if instance and not default_key:
        out = {"instance": instance, **out}
    return out


def render(systems: Sequence[InitSystem], drafts: Sequence[Draft], notes: Sequence[str], schema: str) -> str:
    keys = [s.key for s in systems]
    lines = [
        f"# yaml-language-server: $schema={schema}",
        f"# netsot.yaml written by `netsot init` on {dt.date.today().isoformat()} from what the systems "
        "hold.",
        "# Secrets are files under secrets/ (mode 0600), referenced, never copied into this file.",
        "# Check it with `netsot validate`, then `netsot doctor`.",
    ]
    for system in systems:
        lines += [f"# {system.key}: {note}" for note in system.notes]
    lines += [f"# TODO {note}" for note in notes]
    lines += [
        "version: 1",
        "",
        "state:",
        "  path: netsot.state.json   # relative to this file (a service: /var/lib/netsot/netsot.state.json)",
        "",
        "providers:",
    ]
    for system in systems:
        lines.append(f"  {system.key}:")
        for k, v in system.settings.items():
            comment = system.comments.get(k)
            lines.append(f"    {k}: {_scalar(v)}" + (f"   # {comment}" if comment else ""))
    lines += ["", "networks:"]
    active = 0
    for d in drafts:
        served = [k for k in keys if k in d.settings]
        block = [f"- name: {d.name}", f"  prefix: {d.prefix}"]
        block += (
            [f"  gateway: {d.gateway}"]
            if d.gateway
            else ["  # gateway: not known (the router's default-router)"]
        )
        block += [f"  domain: {d.domain}"] if d.domain else ["  # domain: not known"]
        if d.dhcp_range:
            block.append(f"  dhcp_range: {{start: {d.dhcp_range[0]}, stop: {d.dhcp_range[1]}}}")
        for key in keys:
            kind = key.partition(".")[0]
            if key in d.settings:
                default_key = key == kind
                block.append(f"  {kind}: {_flow(_instance_settings(key, d.settings[key], default_key))}")
            elif _required_fields(kind):
                fields = ", ".join(f"{f}: …" for f in _required_fields(kind))
                block.append(
                    f"  # {kind}: {{{fields}}}   TODO {key} did not show this network; fill in if it "
                    "serves it"
                )
            elif key not in d.known_by:
                block.append(
                    f"  # TODO {key} does not hold {d.prefix}: add it there (or let netsot: see its settings)"
                )
        block += [f"  # {note}" for note in d.notes]
        if served:
            active += 1
            lines += ["  " + line for line in block]
        else:
            lines.append(
                f"  # TODO {d.prefix} is known only to {', '.join(d.known_by) or 'no system'}: no system "
                "that serves networks matched it. Fill in and uncomment if netsot should manage it:"
            )
            lines += ["  # " + line for line in block]
        lines.append("")
    if not active:
        lines[-1:] = ["  []   # TODO no network could be matched: add them (see the comments above)", ""]
    lines += ["policy:", "  delete: plan   # deletes are planned; an approved apply carries them out", ""]
    return "\n".join(lines)


def write_config(path: Path, text: str) -> Config:
    """Write ``path`` only after the text loads as a valid config (a temp file next to it first)."""
    from engine.config.load import check_secrets, load_config

    tmp = path.with_name(f".{path.name}.init")
    write_atomic(tmp, text, mode=0o644)
    try:
        config = load_config(tmp)
        problems = check_secrets(config)
        if problems:
            raise ConfigError(problems)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)
    return config


def next_steps(path: Path, systems: Sequence[InitSystem], drafts: Sequence[Draft]) -> str:
    rel = os.path.relpath(path)
    todo = sum(1 for d in drafts if not any(s.key in d.settings for s in systems))
    importers = [s.key for s in systems if registry.kind_of(s.key).hooks.importer]
    lines = [
        f"Wrote {rel} ({len(drafts) - todo} networks"
        + (f"; {todo} to fill in, see its TODO comments" if todo else "")
        + "). Nothing was changed on "
        "any system.",
        "Next steps:",
        f"  netsot --config {rel} validate",
        f"  netsot --config {rel} doctor          # reachable? may netsot read and write?",
    ]
    lines += [f"  netsot --config {rel} import {key}    # adopt what is there" for key in importers]
    lines += [f"  netsot --config {rel} plan", f"  netsot --config {rel} apply"]
    return "\n".join(lines) + "\n"


def run(path: Path, answers: Mapping[str, Any], wizard: Wizard) -> str:
    """Ask each system, merge, write ``path``; returns the closing text. Undoes its files on failure."""
    from schemas import __file__ as schemas_init

    try:
        systems: list[InitSystem] = []
        for _kind, hook in hooks():
            found = hook.connect(answers, wizard)
            if found is not None:
                systems.append(found)
        if not systems:
            raise InitRefused("no system was given: nothing to write (see netsot init --help)")
        drafts, notes = merge(systems)
        schema = str(Path(schemas_init).parent / "config.schema.json")
        write_config(path, render(systems, drafts, notes, schema))
    except BaseException:
        wizard.undo()
        raise
    return next_steps(path, systems, drafts)
