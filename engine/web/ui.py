"""``netsot ui``: the status page for a one-off look, without the reconcile loop.

Owns: one read + plan (``workflow.look_run``: nothing applied, no state written, no lock taken),
serving it through ``engine.web`` (the page, /host, /plan, /healthz; no /metrics), re-reading on
the page's refresh button, and stopping cleanly on SIGTERM/SIGINT.
Must not: apply, write the state, or take the lock — a `serve` or `apply` may run beside it.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

from core.config import Config
from engine.report import status
from engine.runtime import NETSOT_VERSION
from engine.web import app as web

log = logging.getLogger("netsot.ui")


@dataclass(frozen=True)
class UiOptions:
    listen: str = "127.0.0.1:9108"
    token: str | None = None
    force_state: bool = False
    stale_after: float = 900.0


class Look:
    """The latest look and how to take another (one at a time)."""

    def __init__(self, config: Config, options: UiOptions) -> None:
        self.config, self.options = config, options
        self._lock = threading.Lock()
        self._view = web.View(None, None, mode="ui", stale_after=options.stale_after)
        self._health: dict[str, status.ReadHealth] = {}
        self._doc: dict[str, Any] | None = None

    def refresh(self) -> None:
        from engine.plan.document import plan_document
        from engine.workflow import look_run

        with self._lock:
            look = look_run(
                self.config, force_state=self.options.force_state, previous=self._health, mode="ui"
            )
            self._health = {h.system: h for h in look.health}
            if look.snapshot is None:
                self._view = web.View(
                    self._view.snapshot,
                    self._view.matrix,
                    look.health,
                    self._view.run,
                    look.error,
                    self.options.stale_after,
                    "ui",
                )
                log.error("read failed: %s", look.error)
                return
            self._doc = plan_document(look.snapshot.plan, netsot_version=NETSOT_VERSION)
            self._view = web.View(
                look.snapshot,
                status.build(look.snapshot),
                look.health,
                look.snapshot.run,
                "",
                self.options.stale_after,
                "ui",
            )

    def view(self) -> web.View:
        return self._view

    def plan(self) -> dict[str, Any] | None:
        return self._doc

    def health(self) -> tuple[int, dict[str, Any]]:
        view = self._view
        if view.snapshot is None:
            return 503, {"status": "failing" if view.error else "starting", "last_error": view.error or None}
        age = time.time() - view.snapshot.taken_at
        return 200, {"status": "ok", "last_read_age_seconds": round(age, 3), "last_error": view.error or None}


def run(config: Config, options: UiOptions) -> int:
    """Read once, serve until stopped."""
    from engine.web.service import setup_logging

    setup_logging("text")
    look = Look(config, options)
    look.refresh()
    endpoints = web.Endpoints(
        view=look.view, health=look.health, plan=look.plan, refresh=look.refresh, token=options.token,
        web=config.web,
    )
    server = web.Server(web.make_app(endpoints), options.listen, config.web)
    host, port = server.start()
    shown = f"[{host}]" if ":" in host else host
    log.info("listening on http://%s:%s", shown, port)
    print(f"netsot ui: the status page is at http://{shown}:{port}/ (Ctrl-C stops it)", flush=True)
    stop = threading.Event()

    def handler(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    try:
        stop.wait()
    finally:
        server.stop()
    return 0
