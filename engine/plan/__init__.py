"""Planning: every system read, the bindings reconciled, each provider's changes ordered (``planner``),
what conflicts hold and the safety policy allows (``foresight``, ``policy``, ``units``, ``replacing``), and
the saved plan (``document``: the versioned plan document, ``saved``, ``sign``).

A pipeline room: never imports ``engine.cli`` or ``engine.web``.
"""
