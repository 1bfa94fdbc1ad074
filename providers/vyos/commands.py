"""The ``/configure`` operations netsot sends to VyOS, per dialect (vyos.md §2, §3).

Owns: the word paths of a DHCP static mapping (1.4 ``mac-address``; 1.5 ``mac``) and of a static
host mapping (multi ``inet``, ``alias``), the name rules each dialect enforces at ``set`` (checked
before anything is sent, with VyOS's own words), and the 1.5 rule that a subnet netsot writes a
mapping into must already hold its ``subnet-id`` — netsot never invents one.
The paths and the value checks (IPv4 addresses, MACs) are the Vyatta library's (``family``,
``commands.Lines``), as the EdgeOS kind's; the name rules and their error texts are VyOS's own.
Must not: decide what to change (the planner) or send anything (``client``/``transact``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from core.errors import ProviderRejected
from providers.vyatta.commands import HOST_NAME_RE, Lines
from providers.vyatta.family import host_path as host_path
from providers.vyatta.family import mapping_path as mapping_path
from providers.vyos.client import Op
from providers.vyos.descriptor import VYATTA

MAC_LEAF = {"1.4": "mac-address", "1.5": "mac"}
_MAPPING_NAME = {"1.4": re.compile(r"[-_a-zA-Z0-9.]+"), "1.5": re.compile(r"[A-Za-z0-9][-.A-Za-z0-9]*")}
_MAPPING_ERROR = {
    "1.4": "Invalid static mapping name, may only be alphanumeric, dot and hyphen",
    "1.5": "Invalid static mapping hostname",
}
# the library's value checks, with this kind's name in their errors (the MAC leaf is per dialect)
VALUES = Lines(VYATTA)



def check_mapping_name(name: str, dialect: str) -> None:
    if not _MAPPING_NAME[dialect].fullmatch(name):
        raise ProviderRejected("vyos", f"static mapping {name!r}: {_MAPPING_ERROR[dialect]} (VyOS {dialect})")


def check_host_name(name: str) -> None:
    if not HOST_NAME_RE.fullmatch(name):
        rule = "Host-name must be alphanumeric and can contain hyphens"
        raise ProviderRejected("vyos", f"host name {name!r}: {rule}")


def require_subnet_id(subnet: str, subnet_ids: Mapping[str, str], dialect: str) -> None:
    """1.5 refuses a subnet without ``subnet-id``; netsot uses the router's and never makes one up."""
    if dialect == "1.5" and subnet not in subnet_ids:
        raise ProviderRejected(
            "vyos", f"subnet {subnet} has no subnet-id on the router (VyOS 1.5 requires one; netsot never "
            f"invents it): set it first, e.g. `set service dhcp-server shared-network-name <SN> subnet "
            f"{subnet} subnet-id <N>` with an N no other subnet uses")


def set_mapping(dialect: str, shared_network: str, subnet: str, name: str, ip: str | None, mac: str | None,
                subnet_ids: Mapping[str, str]) -> list[Op]:
    """The ops writing netsot's leaves of a static mapping (its kept children are not touched)."""
    check_mapping_name(name, dialect)
    require_subnet_id(subnet, subnet_ids, dialect)
    base = mapping_path(shared_network, subnet, name)
    ops = []
    if ip is not None:
        ops.append(Op("set", (*base, "ip-address", VALUES.valid_ipv4(ip))))
    if mac is not None:
        ops.append(Op("set", (*base, MAC_LEAF[dialect], VALUES.router_mac(mac))))
    return ops


def delete_mapping(shared_network: str, subnet: str, name: str) -> list[Op]:
    return [Op("delete", mapping_path(shared_network, subnet, name))]


def set_host(host_name: str, inet: Sequence[str], aliases: Sequence[str] = (),
             drop_inet: Sequence[str] = (), drop_aliases: Sequence[str] = ()) -> list[Op]:
    """Ops adding ``inet``/``aliases`` values and removing only the owned values ``drop_*`` (multi leaves)."""
    check_host_name(host_name)
    base = host_path(host_name)
    ops = [Op("delete", (*base, "inet", v)) for v in drop_inet]
    ops += [Op("delete", (*base, "alias", a)) for a in drop_aliases]
    ops += [Op("set", (*base, "inet", VALUES.valid_ipv4(v))) for v in inet]
    ops += [Op("set", (*base, "alias", a)) for a in aliases]
    return ops


def delete_host(host_name: str) -> list[Op]:
    return [Op("delete", host_path(host_name))]
