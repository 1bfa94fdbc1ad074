"""The inventory document's text form, shared by the Vyatta-family kinds (``inventory edgemax``/``vyos``).

Owns: rendering the document (DHCP static mappings, static host mappings, leases with their MAC
vendor, the dnsmasq line for EdgeOS) as the table ``netsot inventory KIND`` prints.
Must not: build or validate the document (each kind's ``inventory``) or do I/O.
"""

from __future__ import annotations

from typing import Any

from core.vendors import vendor_of


def render_text(doc: dict[str, Any], *, dnsmasq_line: bool = True) -> str:
    """The table; ``dnsmasq_line``: say whether dnsmasq serves DNS (EdgeOS's choice; VyOS has none)."""
    lines = [f"DHCP static mappings ({len(doc['dhcp_static_mappings'])}):"]
    for m in doc["dhcp_static_mappings"]:
        ip, mac = m["ip_address"] or "-", m["mac_address"] or "-"
        lines.append(f"  {m['shared_network']:<12} {m['subnet']:<18} {m['name']:<20} {ip:<15} {mac}")
    lines.append(f"Static host mappings ({len(doc['static_host_mappings'])}):")
    for h in doc["static_host_mappings"]:
        aliases = f"  (aliases: {', '.join(h['aliases'])})" if h["aliases"] else ""
        lines.append(f"  {h['host_name']:<32} {', '.join(h['inet']) or '-'}{aliases}")
    lines.append(f"Leases ({len(doc['leases'])}):")
    for le in doc["leases"]:
        vendor = vendor_of(le["mac"]) or "vendor unknown"
        lines.append(
            f"  {le['ip']:<15} {le['mac'] or '-':<17} {le['pool'] or '-':<12} {le['hostname'] or '?':<20} "
            f"{vendor}"
        )
    if dnsmasq_line:
        lines.append(f"dnsmasq: {'enabled' if doc['dnsmasq'] else 'disabled'}")
    lines += [f"Warning: {w}" for w in doc.get("warnings", ())]
    return "\n".join(lines) + "\n"
