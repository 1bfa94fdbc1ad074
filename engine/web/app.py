"""The HTTP side of ``netsot serve --listen`` and ``netsot ui``: the status page, the host pages and the
JSON/Prometheus endpoints, on Starlette, served by uvicorn in a thread.

Owns: the routes (``/`` the binding matrix, ``/host/{network}/{name}``, ``/network/{name}`` the
address map, ``/plan``, ``/metrics``,
``/healthz``, ``/static/…``, and for ``ui`` ``POST /refresh``, which only re-reads), the bearer
token on every route but ``/healthz`` (a header, or the cookie ``/login`` sets from the same token),
server-rendered Jinja2 templates with autoescaping (every value is also shown with its control
characters escaped), the security headers (a CSP without inline script or style: the page loads no
CDN and works offline and without JavaScript), and the server thread's start and stop.
Must not: change a system or the state (nothing on the page does; refresh re-reads), or name a system.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import json
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from core.config import WebSettings
from engine.report.status import Matrix, ReadHealth, RunInfo, Snapshot
from engine.safetext import visible
from engine.web.guard import (
    SECURITY_HEADERS,
    BodyLimit,
    LoginAttempts,
    SameSite,
    protocol_class,
    session_value,
)

log = logging.getLogger("netsot.service")

COOKIE = "netsot_token"
OPEN_PATHS = ("/healthz", "/login", "/static/")
@dataclass(frozen=True)
class View:
    """What the page shows now: the latest snapshot and its matrix (None before the first good run),
    each system's read health, the run, and the last error."""

    snapshot: Snapshot | None
    matrix: Matrix | None
    health: tuple[ReadHealth, ...] = ()
    run: RunInfo | None = None
    error: str = ""
    stale_after: float = 900.0  # a system's data is stale this long after its last good read
    mode: str = "serve"


@dataclass
class Endpoints:
    """What a front end plugs into the app (the service, or ``ui``)."""

    view: Callable[[], View]
    health: Callable[[], tuple[int, dict[str, Any]]]
    plan: Callable[[], dict[str, Any] | None]
    metrics: Callable[[], str] | None = None
    refresh: Callable[[], None] | None = None  # ``ui``: re-read every system now
    token: str | None = field(default=None, repr=False)
    web: WebSettings = field(default_factory=WebSettings)  # the ``web:`` limits and allowed host names


def is_loopback(listen: str) -> bool:
    """Whether ``HOST:PORT`` listens on loopback only (``localhost``, 127.0.0.0/8, ::1)."""
    host = listen.rpartition(":")[0].strip("[]") or "0.0.0.0"
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: where it points is not ours to know


# ----------------------------------------------------------------------------- templates


def _finalize(value: Any) -> Any:
    """Every string shown on a page has its control characters escaped (autoescape does the HTML); a
    macro's output (Markup) was made of values finalized one by one, and is kept as it is."""
    return visible(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def _clock(value: float | None) -> str:
    if value is None:
        return "—"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))


def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("engine.web", "templates"),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["age"] = _age
    env.filters["clock"] = _clock
    env.filters["path"] = lambda text: quote(str(text), safe="")
    env.filters["json"] = lambda value: json.dumps(value, sort_keys=True, ensure_ascii=False)
    return env


_ENV: Environment | None = None


def _env() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = environment()
    return _ENV


def render_status(
    view: View,
    *,
    query: str = "",
    network: str = "",
    sort: str = "",
    now: float | None = None,
    can_refresh: bool = False,
) -> str:
    """The status page as HTML (also what ``make bench`` times)."""
    from engine.web.page import status_context

    ctx = status_context(view, query=query, network=network, sort=sort, now=now or time.time())
    return _env().get_template("status.html").render(**ctx, can_refresh=can_refresh)


def render_host(view: View, network: str, name: str, now: float | None = None) -> str | None:
    from engine.web.page import host_context

    ctx = host_context(view, network, name, now or time.time())
    if ctx is None:
        return None
    return _env().get_template("host.html").render(**ctx)


def render_network(view: View, network: str, now: float | None = None) -> str | None:
    """A network's address map (None: no such network, or no run yet)."""
    from engine.web.page import network_context

    ctx = network_context(view, network, now or time.time())
    if ctx is None:
        return None
    return _env().get_template("network.html").render(**ctx)


def render_message(title: str, text: str, view: View | None = None, now: float | None = None) -> str:
    from engine.web.page import health_rows

    rows = health_rows(view, now or time.time()) if view is not None else []
    return _env().get_template("message.html").render(title=title, text=text, health=rows)


# ----------------------------------------------------------------------------- the app


class _Guard(BaseHTTPMiddleware):
    """Bearer token on every path but the open ones; the security headers on every answer."""

    def __init__(self, app: Any, token: str | None) -> None:
        super().__init__(app)
        self.token = token
        self.session = session_value(token) if token is not None else None

    async def dispatch(self, request: Request, call_next: Any) -> Response:
        path = request.url.path
        if self.token is not None and not path.startswith(OPEN_PATHS) and not authorized(request, self.token):
            response: Response = _unauthorized(request)
        else:
            response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response


def authorized(request: Request, token: str) -> bool:
    """A matching ``Authorization: Bearer`` header, or the login cookie holding the session value derived
    from the token (both compared in constant time)."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), session_value(token).encode())


def _unauthorized(request: Request) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="netsot"'}
    if "text/html" in request.headers.get("accept", ""):
        html = render_message(
            "Sign in", "This netsot needs its token: open /login, or send 'Authorization: Bearer <token>'."
        )
        return HTMLResponse(html, status_code=401, headers=headers)
    return JSONResponse(
        {"error": "unauthorized: send Authorization: Bearer <token>"}, status_code=401, headers=headers
    )


def make_app(endpoints: Endpoints) -> Starlette:
    """The ASGI app of one front end."""

    async def index(request: Request) -> Response:
        view = endpoints.view()
        if view.matrix is None:
            text = (
                f"No successful read yet: {view.error}"
                if view.error
                else "Waiting for the first run to read every system…"
            )
            return HTMLResponse(render_message("netsot", text, view), status_code=503)
        q = request.query_params
        html = render_status(
            view,
            query=q.get("q", ""),
            network=q.get("network", ""),
            sort=q.get("sort", ""),
            can_refresh=endpoints.refresh is not None,
        )
        return HTMLResponse(html)

    async def host(request: Request) -> Response:
        view = endpoints.view()
        network, name = request.path_params["network"], request.path_params["name"]
        html = render_host(view, network, name) if view.matrix is not None else None
        if html is None:
            return HTMLResponse(
                render_message("Not found", f"No host {network}/{name} in the last run."), status_code=404
            )
        return HTMLResponse(html)

    async def network(request: Request) -> Response:
        name = request.path_params["name"]
        html = render_network(endpoints.view(), name)
        if html is None:
            text = f"No network {name} in the last run."
            return HTMLResponse(render_message("Not found", text), status_code=404)
        return HTMLResponse(html)

    async def plan(request: Request) -> Response:
        doc = endpoints.plan()
        if doc is None:
            return JSONResponse({"error": "no plan yet"}, status_code=503)
        return Response(json.dumps(doc, sort_keys=True), media_type="application/json")

    async def metrics(request: Request) -> Response:
        if endpoints.metrics is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        return PlainTextResponse(endpoints.metrics(), media_type="text/plain; version=0.0.4")

    async def healthz(request: Request) -> Response:
        code, body = endpoints.health()
        return JSONResponse(body, status_code=code)

    async def refresh(request: Request) -> Response:
        if endpoints.refresh is None:
            return JSONResponse({"error": "not found"}, status_code=404)
        await asyncio.to_thread(endpoints.refresh)
        return RedirectResponse("/", status_code=303)

    attempts = LoginAttempts(endpoints.web.login_attempts)

    async def login(request: Request) -> Response:
        return await _login(request, endpoints.token, attempts)

    async def not_found(request: Request, exc: Exception) -> Response:
        return JSONResponse({"error": "not found"}, status_code=404)

    routes = [
        Route("/", index),
        Route("/host/{network}/{name}", host),
        Route("/network/{name}", network),
        Route("/plan", plan),
        Route("/metrics", metrics),
        Route("/healthz", healthz),
        Route("/refresh", refresh, methods=["POST"]),
        Route("/login", login, methods=["GET", "POST"]),
        Mount("/static", StaticFiles(packages=[("engine.web", "static")]), name="static"),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(BodyLimit, max_bytes=endpoints.web.max_body_bytes),
            Middleware(SameSite, settings=endpoints.web, attempts=attempts),
            Middleware(_Guard, token=endpoints.token),
        ],
        exception_handlers={404: not_found},
    )


async def _login(request: Request, token: str | None, attempts: LoginAttempts) -> Response:
    """A form that takes the token once and keeps a session value derived from it in an HttpOnly,
    SameSite=Strict cookie; failed logins count against the client (``SameSite`` answers 429)."""
    if request.method == "GET" or token is None:
        return HTMLResponse(_env().get_template("login.html").render(failed=False, needed=token is not None))
    form = (await request.body()).decode("utf-8", "replace")
    from urllib.parse import parse_qs

    given = (parse_qs(form).get("token") or [""])[0].strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        attempts.failed(request.client.host if request.client else "?")
        return HTMLResponse(
            _env().get_template("login.html").render(failed=True, needed=True), status_code=401
        )
    response = RedirectResponse("/", status_code=303)
    response.set_cookie(COOKIE, session_value(token), httponly=True, samesite="strict", path="/")
    return response


# ----------------------------------------------------------------------------- the server thread


class Server:
    """uvicorn serving one app from a thread, on a socket bound before the thread starts (so a busy
    port is an error here, and port 0 tells its real port at once)."""

    def __init__(self, app: Starlette, listen: str, settings: WebSettings | None = None) -> None:
        import uvicorn

        host, _, port = listen.rpartition(":")
        host = host.strip("[]") or "127.0.0.1"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, int(port)))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(128)
        self.address = self.sock.getsockname()[:2]
        settings = settings or WebSettings()
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=2,
            http=protocol_class(settings), limit_concurrency=settings.max_connections,
            h11_max_incomplete_event_size=2 * settings.max_header_bytes, timeout_keep_alive=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="netsot-http", daemon=True)

    def _run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self) -> tuple[str, int]:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        return str(self.address[0]), int(self.address[1])

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()
