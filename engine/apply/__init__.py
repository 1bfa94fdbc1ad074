"""Apply: a plan's changes carried out in provider batches (``applier``), checked against the systems
(``verify``) and remembered next to the state (``history``).

A pipeline room: never imports ``engine.cli`` or ``engine.web``.
"""
