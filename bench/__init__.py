"""netsot's benchmark harness (``python -m bench`` / ``make bench``).

Owns: synthetic labs of N guests (``scenarios``), running read → plan → apply against the three
simulators, each in its own process (``run``, ``simproc``), the socket-free engine benchmark
(``engine_only``), counters and lower bounds (``measure``) and the table/targets (``report``).
Must not: patch what it measures.
"""
