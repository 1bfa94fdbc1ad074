"""`netsot verify` for a Vyatta-family router (EdgeOS, VyOS): every managed DNS name resolves through the
router's resolver.

Owns: the DNS check of each owned host-name resource (the kind's ``host_type``) against the instance's
``dns_server`` — one query per name: its
host name and each of its aliases but the host name's own first label (the binding's extra names) —
(dnspython, a short timeout, one clear failure when the resolver does not answer at all).
Must not: change anything, or check what the engine checks for every system (the read-back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.config import Config
from core.model import Address, Check

DNS_TIMEOUT = 2.0


def checks(config: Config, key: str, resources: Sequence[Any], host_type: str) -> list[Check]:
    """One check per name of every owned ``host_type`` resource of instance ``key``."""
    hosts = [r for r in resources if Address.parse(r.address).type == host_type]
    if not hosts:
        return []
    settings = config.providers.get(key)
    server = settings.dns_server if settings is not None else None
    if not server:
        return [Check("dns", "router resolver", True,
                      f"not checked: providers.{key}.dns_server is not set (no DNS server to ask)")]
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
        for query in names_of(name, res.attributes.get("aliases") or ()):
            check = _check(resolver, server, query, want, res.address)
            if check is None:  # the resolver is down: one clear failure instead of a timeout per name
                why = f"no answer from the router's DNS server {server} within {DNS_TIMEOUT:g} s"
                return [*out, Check("dns", "router resolver", False, why)]
            out.append(check)
    return out


def names_of(host_name: str, aliases: Sequence[Any]) -> list[str]:
    """The names to resolve for one host name: itself, then every alias but its own first label."""
    label = host_name.split(".", 1)[0].lower()
    out = [host_name]
    out += [str(a) for a in aliases if str(a).lower() != label and str(a).lower() != host_name.lower()]
    return list(dict.fromkeys(out))


def _check(resolver: Any, server: str, name: str, want: str, address: str) -> Check | None:
    """One name's DNS check; None when the resolver does not answer at all."""
    import dns.exception
    import dns.resolver

    try:
        answer = resolver.resolve(name, "A", search=False)
    except dns.resolver.NXDOMAIN:
        detail = f"does not resolve (NXDOMAIN from {server}), expected {want}"
        return Check("dns", name, False, detail, address)
    except dns.resolver.NoAnswer:
        return Check("dns", name, False, f"{server} has no A record, expected {want}", address)
    except dns.resolver.NoNameservers:
        return Check("dns", name, False, f"{server} refused to answer (is the name in its zone?)", address)
    except dns.exception.Timeout:
        return None
    except (dns.exception.DNSException, OSError) as exc:
        return Check("dns", name, False, f"lookup through {server} failed: {exc}", address)
    got = sorted(r.address for r in answer)
    ok = want in got
    detail = f"resolves to {', '.join(got)}" + ("" if ok else f", expected {want}")
    return Check("dns", name, ok, detail, address)
