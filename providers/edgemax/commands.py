"""Planned EdgeMax changes as EdgeOS `set`/`delete` lines — the Vyatta library's, with EdgeOS's rules.

Owns: nothing of its own but the binding of ``providers/vyatta/commands.py`` to this kind
(``descriptor.VYATTA``: errors say ``edgemax`` and ``EdgeOS``, static-mapping names are EdgeOS's
``^[-_a-zA-Z0-9.]+$``, the MAC leaf is ``mac-address``): strict validation of every value, the exact
lines of creates, deletes and leaf-by-leaf updates, every word quoted so no value can inject a
command or another path, and ``apply_script`` — all deletes, then all sets, one bad value rejecting
the whole batch.
Must not: talk to the router (``session.py`` / ``provider.py`` do) or decide what to change.
"""

from __future__ import annotations

from providers.edgemax.descriptor import VYATTA
from providers.vyatta.commands import Lines

LINES = Lines(VYATTA, mac_leaf="mac-address")

apply_script = LINES.apply_script
change_lines = LINES.change_lines
mapping_lines = LINES.mapping_lines
host_lines = LINES.host_lines
mapping_update_lines = LINES.mapping_update_lines
host_update_lines = LINES.host_update_lines
router_mac = LINES.router_mac
