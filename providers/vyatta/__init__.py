"""The Vyatta family library: what EdgeOS and VyOS share (not a kind; imports only the leaves).

Owns: the configuration tree (``tree``), the two text formats and their parsers/renderers
(``parse``, ``lenient``, ``render``), the owned/kept split of host names (``kept``), what a kind's
dialect differs by (``family.VyattaKind``), validated `set`/`delete` lines and host-name deltas
(``commands``), the observation of mappings, host names and leases (``observe``), the planner that
answers the boundary's diff (``planner``), the import decision (``importer``), the inventory text
(``inventory``) and the DNS check (``dnscheck``).
Must not: import a kind (``providers.edgemax``, ``providers.vyos``) or the provider boundary;
the kinds import this package, never the other way (a kind hands in its values and, where a
boundary type is the result, its constructors).
"""
