"""``netsot doctor`` for NIPAP: reachable, TLS (for https), the user authenticates, the VRF and each
managed network's prefix exist, and the user may add and remove hosts.

The write checks leave nothing behind: an ``add_prefix`` without a prefix (refused for a read-only
user with fault 1520 before anything else, for a read-write user with an input fault) and a
``remove_prefix`` whose spec carries a random description (a silent no-op for a read-write user;
reference nipap.md §3.3, §6). Must not: create, change or remove anything in NIPAP.
"""

from __future__ import annotations

import urllib.parse
import uuid
from typing import Any

from core.config import Config
from core.errors import NetsotError, ProviderAuthError
from core.probe import tcp_error, tls_peer
from providers.base import DoctorCheck
from providers.nipap.client import NipapClient, NotFound
from providers.nipap.settings import NipapSettings

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _rw_fix(settings: NipapSettings) -> str:
    user = settings.username
    return (f"the NIPAP user {user} is read-only; on the nipapd host make it read-write:\n"
            f"nipap-passwd delete -u {user}\n"
            f"nipap-passwd add -u {user} -p '<its password>' -n 'netsot'   (without -r: read-write)")


def _probe(client: NipapClient, what: str, method: str, settings: NipapSettings, **args: Any) -> DoctorCheck:
    """A write the server refuses before it changes anything: 1520 means read-only, any other fault or
    a no-op answer means the user may make that kind of call."""
    try:
        client._raw(method, what, **args)
    except ProviderAuthError as exc:
        return DoctorCheck(what, False, str(exc).rsplit(": ", 1)[-1], _rw_fix(settings))
    except NetsotError:
        pass  # refused for its (deliberately incomplete) input: the permission check passed
    return DoctorCheck(what, True)


def _transport(settings: NipapSettings, host: str, port: int) -> DoctorCheck:
    scheme = urllib.parse.urlsplit(settings.url).scheme
    if scheme == "https":
        try:
            peer = tls_peer(host, port, None)
        except OSError as exc:
            return DoctorCheck("TLS certificate verified", False, str(exc), "is this nipapd's https port?")
        if not peer.verified:
            return DoctorCheck("TLS certificate verified", False,
                               f"{peer.error}; the server presents SHA-256 {peer.fingerprint}",
                               "give nipapd (or its reverse proxy) a certificate the system CAs trust, or "
                               "add its CA to the system store (update-ca-certificates)")
        return DoctorCheck("TLS certificate verified", True, f"SHA-256 {peer.fingerprint}")
    if host in LOOPBACK:
        return DoctorCheck("transport", True, "plain HTTP on loopback")
    return DoctorCheck("transport", False, "plain HTTP: the password crosses the network unencrypted",
                       "serve nipapd's XML-RPC behind https (a reverse proxy) and use an https:// url",
                       needed=False)


def run(config: Config, key: str) -> list[DoctorCheck]:
    settings: NipapSettings = config.settings(key)
    parts = urllib.parse.urlsplit(settings.url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    problem = tcp_error(host, port, min(float(settings.timeout), 5.0))
    if problem:
        return [DoctorCheck(f"reachable at {host}:{port}", False, problem,
                            "check the url (nipapd listens on 1337 by default, path /XMLRPC) and any "
                            "firewall")]
    checks = [DoctorCheck(f"reachable at {host}:{port}", True), _transport(settings, host, port)]
    if not checks[-1].ok and checks[-1].needed:
        return checks
    client = NipapClient(settings, source="netsot-doctor")
    try:
        return checks + _with_client(config, key, settings, client)
    finally:
        client.close()


def _with_client(config: Config, key: str, settings: NipapSettings, client: NipapClient) -> list[DoctorCheck]:
    label = settings.vrf or "the default VRF"
    auth = f"user {settings.username} authenticates"
    try:
        vrf = client.find_vrf(settings.vrf)
    except NotFound:
        return [DoctorCheck(auth, True), DoctorCheck(f"VRF {label} readable", False, "no such VRF",
                                                     f"create it in NIPAP (nipap vrf add rt <rt> name "
                                                     f"{label}) or set providers.nipap.vrf to an existing "
                                                     "one")]
    except ProviderAuthError as exc:
        return [DoctorCheck(auth, False, str(exc).split(": ", 1)[-1],
                            f"on the nipapd host: nipap-passwd add -u {settings.username} -p '<password>' "
                            "-n netsot (or fix password)")]
    except NetsotError as exc:
        return [DoctorCheck(auth, False, str(exc))]
    checks = [DoctorCheck(auth, True), DoctorCheck(f"VRF {label} readable", True, f"id {vrf.get('id')}")]
    vrf_id = int(vrf.get("id") or 0)
    for net in config.networks_of(key):
        what = f"prefix {net.prefix} of network {net.name}"
        try:
            rows = client.list_prefixes({"vrf_id": vrf_id, "prefix": str(net.prefix)})
        except NetsotError as exc:
            checks.append(DoctorCheck(what, False, str(exc)))
            continue
        if not rows:
            checks.append(DoctorCheck(what, True, "missing: netsot creates it (manage_prefixes)")
                          if settings.manage_prefixes else
                          DoctorCheck(what, False, f"not in VRF {label}",
                                      "add it in NIPAP as an assignment (nipap address add prefix "
                                      f"{net.prefix} type assignment vrf_rt <rt> description {net.name}), "
                                      "or set manage_prefixes: true"))
        elif rows[0].get("type") != "assignment":
            checks.append(DoctorCheck(what, False, f"is a {rows[0].get('type')}, hosts need an assignment",
                                      "change its type to assignment in NIPAP"))
        else:
            checks.append(DoctorCheck(what, True, "assignment"))
    probe = f"netsot doctor probe {uuid.uuid4()}"
    checks.append(_probe(client, "may add hosts", "add_prefix", settings, attr={}, args={}))
    nets = config.networks_of(key)
    spec = {"prefix": f"{nets[0].prefix.network_address}/32" if nets else "192.0.2.0/32", "vrf_id": vrf_id,
            "type": "host", "description": probe}
    checks.append(_probe(client, "may remove hosts", "remove_prefix", settings, prefix=spec))
    return checks
