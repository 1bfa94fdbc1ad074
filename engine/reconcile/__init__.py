"""Reconcile: observations + config + ownership → desired bindings and conflicts (``bindings``), from
groups of facts (``grouping``), per-attribute precedence, allocation, conflicts and their fixes.

A pipeline room: never imports ``engine.cli`` or ``engine.web``.
"""
