"""`netsot verify`: check the live systems really serve what the state says netsot wrote.

Owns: one read per configured system, then per owned object a check — DNS names resolve
through the router's resolver (``edgemax.dns_server``), DHCP mappings and host entries read back
from the router, NIPAP hosts carry the right node/IP/MAC, guests whose agent reports addresses
hold the planned IP — rendered as a table or JSON, exit 0 when all pass, 1 otherwise.
Must not: change anything (no lock, no state write) or print (the CLI prints the result).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from engine.config import Config
from engine.errors import NetsotError
from engine.model import Address, Observation
from engine.runtime import open_backend, open_providers
from engine.safetext import visible
from state.model import ResourceState, State

DNS_TIMEOUT = 2.0


@dataclass(frozen=True)
class Check:
    check: str  # "dns", "router", "nipap", "guest", "read"
    object: str
    ok: bool
    detail: str


# ----------------------------------------------------------------------------- reading


def _read(config: Config) -> tuple[dict[str, Observation], list[Check]]:
    """One ``read()`` per configured system; a system that cannot be read is a failed check."""
    observations: dict[str, Observation] = {}
    failed: list[Check] = []
    with open_providers(config) as providers:
        for name, provider in providers.items():
            try:
                observations[name] = provider.read()
            except NetsotError as exc:
                failed.append(Check("read", name, False, f"cannot read {name}: {exc}"))
    return observations, failed


# ----------------------------------------------------------------------------- checks


def _managed(state: State, rtype: str) -> list[ResourceState]:
    return [r for a, r in sorted(state.resources.items()) if Address.parse(a).type == rtype]


def _observed(obs: Observation | None, res: ResourceState) -> Mapping[str, Any] | None:
    """The live object for a state entry: same address, else the same provider id."""
    if obs is None:
        return None
    address = Address.parse(res.address)
    found = obs.resources.get(address)
    if found is None and res.provider_id:
        found = next((r for r in obs.resources.values()
                      if r.address.type == address.type and r.provider_id == res.provider_id), None)
    return found.attributes if found is not None else None


def _compare(live: Mapping[str, Any], want: Mapping[str, Any], keys: tuple[str, ...]) -> list[str]:
    out = []
    for key in keys:
        if key in want and _norm(live.get(key)) != _norm(want.get(key)):
            out.append(f"{key} is {live.get(key)!s}, expected {want.get(key)!s}")
    return out


def _norm(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _system_checks(state: State, observations: Mapping[str, Observation], rtype: str, label: str,
                   system: str, keys: tuple[str, ...], where: str) -> list[Check]:
    out = []
    for res in _managed(state, rtype):
        if system not in observations:
            continue  # the read failure is already reported
        live = _observed(observations[system], res)
        if live is None:
            out.append(Check(label, res.address, False, f"missing {where}"))
            continue
        problems = _compare(live, res.attributes, keys)
        detail = "; ".join(problems) if problems else "matches the state (" + ", ".join(
            f"{k} {res.attributes[k]}" for k in keys if res.attributes.get(k) not in (None, "")) + ")"
        out.append(Check(label, res.address, not problems, detail))
    return out


def _dns_checks(config: Config, state: State) -> list[Check]:
    hosts = _managed(state, "edgemax_host")
    if not hosts:
        return []
    settings = config.providers.edgemax
    server = settings.dns_server if settings is not None else None
    if not server:
        return [Check("dns", "router resolver", True,
                      "not checked: providers.edgemax.dns_server is not set (no DNS server to ask)")]
    import dns.exception
    import dns.resolver

    host, _, port = server.rpartition(":") if ":" in server else (server, "", "53")
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port) if port.isdigit() else 53
    resolver.lifetime = resolver.timeout = DNS_TIMEOUT
    out: list[Check] = []
    for res in hosts:
        name = str(res.attributes.get("host_name") or Address.parse(res.address).name)
        want = str(res.attributes.get("inet") or res.attributes.get("ip") or "")
        try:
            answer = resolver.resolve(name, "A", search=False)
        except dns.resolver.NXDOMAIN:
            detail = f"does not resolve (NXDOMAIN from {server}), expected {want}"
            out.append(Check("dns", name, False, detail))
            continue
        except dns.resolver.NoAnswer:
            out.append(Check("dns", name, False, f"{server} has no A record, expected {want}"))
            continue
        except dns.resolver.NoNameservers:
            out.append(Check("dns", name, False, f"{server} refused to answer (is the name in its zone?)"))
            continue
        except dns.exception.Timeout:
            # the resolver is down: one clear failure instead of a timeout per name
            return [*out, Check("dns", "router resolver", False,
                                f"no answer from the router's DNS server {server} within {DNS_TIMEOUT:g} s")]
        except (dns.exception.DNSException, OSError) as exc:
            out.append(Check("dns", name, False, f"lookup through {server} failed: {exc}"))
            continue
        got = sorted(r.address for r in answer)
        ok = want in got
        detail = f"resolves to {', '.join(got)}" + ("" if ok else f", expected {want}")
        out.append(Check("dns", name, ok, detail))
    return out


def _guest_checks(state: State, observations: Mapping[str, Observation]) -> list[Check]:
    """A NIC whose guest agent (or LXC) reports addresses must hold the IP NIPAP gave it."""
    obs = observations.get("proxmox")
    if obs is None:
        return []
    planned: dict[tuple[str, str], tuple[str, str]] = {}
    for res in _managed(state, "nipap_address"):
        mac, ip = res.attributes.get("mac"), res.attributes.get("ip")
        network = Address.parse(res.address).name.split(".", 1)[0]
        if mac and ip:
            planned[(network, str(mac).lower())] = (str(ip), res.address)
    out = []
    for fact in sorted(obs.facts, key=lambda f: f.ref):
        agent_ips = tuple(fact.extra.get("agent_ips") or ())
        if not agent_ips or not fact.mac or not fact.network:
            continue
        want = planned.get((fact.network, fact.mac.lower()))
        if want is None:
            continue
        ip, address = want
        label = f"{fact.ref} ({fact.hostname})"
        ok = ip in agent_ips
        detail = (f"the guest holds {ip} ({address})" if ok else
                  f"the guest reports {', '.join(agent_ips)}, but {address} planned {ip}")
        out.append(Check("guest", label, ok, detail))
    return out


def checks(config: Config, *, force_state: bool = False) -> list[Check]:
    """Every check, in a stable order."""
    state = open_backend(config, force=force_state).load()
    observations, out = _read(config)
    out += _dns_checks(config, state)
    out += _system_checks(state, observations, "edgemax_dhcp_mapping", "router", "edgemax",
                          ("ip_address", "mac_address"), "on the router")
    out += _system_checks(state, observations, "edgemax_host", "router", "edgemax", ("inet",),
                          "on the router")
    out += _system_checks(state, observations, "nipap_address", "nipap", "nipap", ("ip", "hostname", "mac"),
                          "in NIPAP")
    out += _system_checks(state, observations, "proxmox_ipconfig", "proxmox", "proxmox", ("ip",),
                          "on Proxmox")
    out += _guest_checks(state, observations)
    return out


# ----------------------------------------------------------------------------- output


def render_table(results: list[Check]) -> str:
    if not results:
        return "Nothing to verify: the state is empty (run `netsot apply` first).\n"
    rows = [("CHECK", "OBJECT", "RESULT", "DETAIL")]
    rows += [(visible(c.check), visible(c.object), "ok" if c.ok else "FAIL", visible(c.detail))
             for c in results]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows]
    failed = [c for c in results if not c.ok]
    lines.append("")
    if failed:
        lines.append(f"Verify failed: {len(failed)} of {len(results)} checks found a problem:")
        lines += [f"  - {visible(c.check)} {visible(c.object)}: {visible(c.detail)}" for c in failed]
    else:
        lines.append(f"Verify passed: all {len(results)} checks agree with the state.")
    return "\n".join(lines) + "\n"


def run(config: Config, as_json: bool = False, *, force_state: bool = False) -> tuple[str, int]:
    """The CLI entry: (output, exit code)."""
    results = checks(config, force_state=force_state)
    ok = all(c.ok for c in results)
    if as_json:
        text = json.dumps({"ok": ok, "checks": [asdict(c) for c in results]}, indent=2) + "\n"
    else:
        text = render_table(results)
    return text, 0 if ok else 1
