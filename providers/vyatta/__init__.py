"""The Vyatta family library: what EdgeOS and VyOS share (not a kind; imports only the leaves).

Owns: the configuration tree (``tree``), the two text formats and their parsers/renderers
(``parse``, ``lenient``, ``render``) and the owned/kept split of host names (``kept``).
Must not: import a kind (``providers.edgemax``, ``providers.vyos``) or the provider boundary;
the kinds import this package, never the other way.
"""
