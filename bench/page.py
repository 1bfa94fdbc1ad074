"""The status page benchmark: the binding matrix and its HTML for many bindings, without sockets.

Owns: a plan of ``guests`` guests from the socket-free engine benchmark's in-memory observations
(``bench.engine_only.build``), then timing ``status.build`` (the matrix) and the status page's render
(``engine.web.app.render_status``, the Jinja2 templates) — what one page view costs the server.
Must not: open sockets or write files.
"""

from __future__ import annotations

import time

from bench.measure import Row, peak_rss_mb
from engine.plan.planner import make_plan
from engine.report import status
from engine.web import app as web
from state.model import State


def run_page(guests: int, repeat: int = 5) -> Row:
    from bench.engine_only import build

    config, providers, observations, _ = build(guests)
    plan = make_plan(config, providers, State(), observations=observations)
    snapshot = status.Snapshot(config, plan, observations, time.time())
    best_matrix = best_html = float("inf")
    size = 0
    for _ in range(repeat):
        start = time.perf_counter()
        matrix = status.build(snapshot)
        built = time.perf_counter()
        html = web.render_status(web.View(snapshot, matrix, mode="serve"))
        done = time.perf_counter()
        best_matrix, best_html = min(best_matrix, built - start), min(best_html, done - built)
        size = len(html)
    return Row(f"page-{guests}", guests, "page", best_matrix + best_html, None, {}, 0, 0, peak_rss_mb(),
               f"{len(matrix.rows)} rows x {len(matrix.columns)} columns: matrix {best_matrix * 1000:.0f} ms "
               f"+ HTML {best_html * 1000:.0f} ms ({size / 1e6:.1f} MB), best of {repeat}")
