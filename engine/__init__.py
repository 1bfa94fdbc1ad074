"""The engine: netsot's pipeline and its front ends, in rooms (docs/architecture.md, "The engine's rooms").

``cli/`` the command line · ``web/`` the status page, ``serve`` and ``ui`` · ``config/`` the configuration
· ``reconcile/`` facts → bindings and conflicts · ``plan/`` changes, order, safety policy, the plan
document · ``apply/`` carrying changes out, verify, history · ``report/`` what people read about a run.
At the top: ``workflow`` (the runs every front end shares), ``runtime``, ``systems``, ``observe``,
``safetext``.
"""
