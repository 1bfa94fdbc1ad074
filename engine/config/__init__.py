"""The configuration: finding, parsing and validating ``netsot.yaml`` (``load``, ``schema``, ``yamlpos``),
and the commands that write or check one (``init``, ``adopt``, ``doctor``).

A pipeline room: never imports ``engine.cli`` or ``engine.web``.
"""
