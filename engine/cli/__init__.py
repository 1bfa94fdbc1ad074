"""The command line: ``netsot``'s commands, their options, prompts, exit codes and what they print.

``entry`` is the console script (its fast path answers ``version`` and ``--help`` alone), ``main`` the
core workflow commands and the root of the rest, ``app`` the click application and error boundary,
``output`` what is printed. May import every room of the engine; nothing in the engine imports it.
"""
