"""The shared leaves of netsot: value types, errors, configuration models and name rules.

Owns: what the engine, the state store and every provider share — ``core.model`` (addresses,
facts, observations, bindings, changes, plans), ``core.errors`` (the one exception tree),
``core.config`` (the generic configuration models), ``core.names`` (MAC and host-name rules),
``core.secrets`` (secret references) and ``core.ipv4`` (integer IPv4 helpers).
Must not: import anything of netsot outside ``core`` (``tests/test_imports.py`` enforces it).
"""
