"""The status page and the long-running front ends: ``netsot serve`` (``service``, its watch path
``events``) and ``netsot ui``; the HTTP side (``app``, ``guard``), the page's parts and its templates.

May import the pipeline rooms and the top of the engine, never ``engine.cli``.
"""
