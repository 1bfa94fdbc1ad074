"""What people read about a run: the plan's text and Markdown views (``render``), the status
matrix (``status``), ``netsot explain``, the dependency graph as DOT.

A pipeline room: never imports ``engine.cli`` or ``engine.web``.
"""
