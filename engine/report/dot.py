"""The plan's dependency graph as Graphviz DOT (``netsot graph``), rendered from the plan document.

Owns: one node per change (its action symbol and address as the label, one cluster per system
instance) and one edge per ordering constraint of the plan (``engine.plan.planner.change_edges``: an
edge ``A -> B`` means A runs after B), plus the delete → create order of a ``--replace``. The
output is stable: nodes, clusters and edges are sorted, so two runs of one plan give one text.
Must not: read a system, or order anything itself (the edges are the plan's own).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from engine.plan import replacing
from engine.plan.document import plan_from_document
from engine.plan.planner import change_edges
from engine.report.render import SYMBOL
from providers import registry

REPLACED_SUFFIX = " (replaced: delete)"


def _q(text: str) -> str:
    """A DOT string: JSON escaping is a valid DOT quoted ID (quotes and backslashes escaped)."""
    return json.dumps(text, ensure_ascii=False)


def plan_dot(doc: Mapping[str, Any]) -> str:
    """``digraph`` text of the document's changes and the order between them."""
    plan = plan_from_document(doc)
    first, rest = replacing.split(plan)
    nodes: dict[str, tuple[str, str]] = {}  # id -> (system, label)
    for change in first:
        nodes[str(change.address) + REPLACED_SUFFIX] = (change.system, f"- {change.address} (replace)")
    for change in rest:
        mark = "+/-" if replacing.is_replacement(change) else SYMBOL[change.action.value]
        nodes[str(change.address)] = (change.system, f"{mark} {change.address}")
    edges = {(str(a), str(b)) for a, b in change_edges(rest)}
    edges |= {(str(c.address), str(c.address) + REPLACED_SUFFIX) for c in rest if replacing.is_replacement(c)}
    lines = ["digraph netsot {",
             "  // an edge A -> B: A runs after B (creates after what they depend on, deletes before)",
             '  rankdir = "RL";',
             '  node [shape = "box"];']
    by_system: dict[str, list[str]] = {}
    for node, (system, _label) in nodes.items():
        by_system.setdefault(system, []).append(node)
    for system in sorted(by_system, key=registry.rank):
        lines.append(f"  subgraph {_q('cluster_' + system)} {{")
        lines.append(f"    label = {_q(system)};")
        lines += [f"    {_q(n)} [label = {_q(nodes[n][1])}];" for n in sorted(by_system[system])]
        lines.append("  }")
    lines += [f"  {_q(a)} -> {_q(b)};" for a, b in sorted(edges)]
    lines.append("}")
    return "\n".join(lines) + "\n"
