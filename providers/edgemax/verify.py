"""`netsot verify` for the router: every managed DNS name resolves through the router's resolver.

Owns: the DNS check of each owned ``edgemax_host`` against ``dns_server`` (dnspython, a short
timeout, one clear failure when the resolver does not answer at all).
Must not: change anything, or check what the engine checks for every system (the read-back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.config import Config
from core.model import Address, Check, Observation
from providers.edgemax.descriptor import HOST_TYPE

DNS_TIMEOUT = 2.0


def checks(config: Config, key: str, observation: Observation | None,
           resources: Sequence[Any]) -> list[Check]:
    hosts = [r for r in resources if Address.parse(r.address).type == HOST_TYPE]
    if not hosts:
        return []
    settings = config.providers.get(key)
    server = settings.dns_server if settings is not None else None
    if not server:
        return [Check("dns", "router resolver", True,
                      f"not checked: providers.{key}.dns_server is not set (no DNS server to ask)")]
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
            out.append(Check("dns", name, False, detail, res.address))
            continue
        except dns.resolver.NoAnswer:
            out.append(Check("dns", name, False, f"{server} has no A record, expected {want}", res.address))
            continue
        except dns.resolver.NoNameservers:
            out.append(Check("dns", name, False, f"{server} refused to answer (is the name in its zone?)",
                             res.address))
            continue
        except dns.exception.Timeout:
            # the resolver is down: one clear failure instead of a timeout per name
            return [*out, Check("dns", "router resolver", False,
                                f"no answer from the router's DNS server {server} within {DNS_TIMEOUT:g} s")]
        except (dns.exception.DNSException, OSError) as exc:
            out.append(Check("dns", name, False, f"lookup through {server} failed: {exc}", res.address))
            continue
        got = sorted(r.address for r in answer)
        ok = want in got
        detail = f"resolves to {', '.join(got)}" + ("" if ok else f", expected {want}")
        out.append(Check("dns", name, ok, detail, res.address))
    return out
