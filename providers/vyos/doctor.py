"""``netsot doctor`` for a VyOS router: the API reachable, its TLS certificate as configured (CA bundle
or pinned fingerprint), the key accepted, the DHCP server and host names readable, the leases shown,
and the dialect netsot will speak (with 1.5's ``subnet-id`` on every served subnet).

Must not: send ``/configure`` or ``/config-file``: the write side cannot be probed without writing, and
every VyOS key has full rights (the check says so instead).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from core.config import Config
from core.errors import NetsotError, ProviderAuthError, ProviderUnavailable
from core.probe import tcp_error
from providers.base import DoctorCheck
from providers.vyos.descriptor import served
from providers.vyos.inventory import LEASES, client_for, read_router
from providers.vyos.provider import subnets_of
from providers.vyos.read import dialect, read
from providers.vyos.settings import VyosSettings

KEY_FIX = ("on the router: configure; set service https api keys id netsot key '<KEY>'; (1.5: set service "
           "https api rest); commit ; save — and give the same key as providers.{key}.api_key")


PIN_FIX = ("compare what `openssl s_client -connect HOST:443 </dev/null | openssl x509 -noout -fingerprint "
           "-sha256` shows with the router's own certificate before trusting it")


def _detail(exc: Exception) -> str:
    return str(exc).split(": ", 1)[-1]


def run(config: Config, key: str) -> list[DoctorCheck]:
    settings: VyosSettings = config.settings(key)
    parts = urlsplit(settings.url)
    host, port = parts.hostname or "", parts.port or 443
    where = f"{host}:{port}"
    problem = tcp_error(host, port, min(float(settings.timeout), 5.0))
    if problem:
        return [DoctorCheck(f"reachable at {where}", False, problem,
                            "check the url, and that the router's HTTPS API is on (set service https api …)")]
    checks = [DoctorCheck(f"reachable at {where}", True)]
    tls = f"TLS as pinned ({'fingerprint' if settings.fingerprint else 'CA bundle'})"
    client = client_for(config, settings)
    try:
        try:
            tree = read_router(client)
        except ProviderUnavailable as exc:
            return [*checks, DoctorCheck(tls, False, _detail(exc), PIN_FIX)]
        except ProviderAuthError as exc:
            return [*checks, DoctorCheck(tls, True),
                    DoctorCheck("API key accepted", False, _detail(exc), KEY_FIX.format(key=key))]
        except NetsotError as exc:
            return [*checks, DoctorCheck(tls, True), DoctorCheck("read: /retrieve showConfig", False,
                                                                 _detail(exc))]
        checks += [DoctorCheck(tls, True), DoctorCheck("API key accepted", True),
                   DoctorCheck("read: /retrieve showConfig (dhcp-server, static-host-mapping)", True)]
        try:
            client.show(list(LEASES))
            checks.append(DoctorCheck("read: /show dhcp server leases", True))
        except NetsotError as exc:
            checks.append(DoctorCheck("read: /show dhcp server leases", False, _detail(exc)))
        cfg = read(tree)
        spoken = dialect(None, cfg, settings.dialect_override)
        how = "as configured" if settings.dialect_override else "from the router's config"
        checks.append(DoctorCheck(f"dialect {spoken}", True, how))
        if spoken == "1.5":
            subnets = subnets_of(tree)
            missing = sorted({s for n in served(config, key)
                              for s in subnets.get(n.settings_for("vyos").shared_network, ())
                              if s not in cfg.subnet_ids})
            if missing:
                checks.append(DoctorCheck("subnet-id on every served subnet", False, ", ".join(missing),
                                          "VyOS 1.5 requires one; netsot never invents it: set service "
                                          "dhcp-server shared-network-name SN subnet CIDR subnet-id N"))
        checks.append(DoctorCheck("write: /configure and /config-file", True,
                                  "not probed (it would write); every VyOS API key has full rights",
                                  needed=False))
    finally:
        client.close()
    return checks
