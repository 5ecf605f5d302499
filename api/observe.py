"""Request ids, one access-log line per request, and Prometheus metrics.

Plain ASGI middleware: every request gets an id (the client's X-Request-ID, or a new
one), echoed in the answer; its route, status and duration go to the log and to the
metrics.  A solve reports its own time in the X-Solve-Seconds header, logged too.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("convsolve.access")

REQUESTS = Counter("convsolve_requests_total", "HTTP requests answered", ["method", "route", "status"])
LATENCY = Histogram("convsolve_request_seconds", "Time to answer, by route", ["route"],
                    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
SOLVES = Counter("convsolve_solve_status_total", "Solve answers by status", ["status"])


def _route(scope: Scope) -> str:
    """The route template a request is counted under: FastAPI's route when it ran, else
    the app route whose path matches (the docs pages; a body refused before routing);
    "unmatched" for paths the app has no route for."""
    route = scope.get("route")
    if route is not None:
        return str(route.path)
    return _matching(getattr(scope.get("app"), "routes", ()), scope) or "unmatched"


def _matching(routes: Any, scope: Scope) -> str | None:
    """The path of the first route matching the request, within included routers too."""
    for candidate in routes:
        if candidate.matches(scope)[0] == Match.NONE:
            continue
        inner = getattr(candidate, "original_router", None)  # an included APIRouter
        found = _matching(inner.routes, scope) if inner is not None else getattr(candidate, "path", None)
        if found:
            return str(found)
    return None


class Observe:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        answer: dict[str, Any] = {"status": 500, "solve": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                out = [(k, v) for k, v in message.get("headers", [])]
                answer["solve"] = next((v.decode() for k, v in out if k == b"x-solve-seconds"), None)
                message["headers"] = [*out, (b"x-request-id", rid.encode("latin-1"))]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = _route(scope)
            REQUESTS.labels(scope["method"], route, str(answer["status"])).inc()
            LATENCY.labels(route).observe(seconds)
            solve = f" solve={answer['solve']}s" if answer["solve"] else ""
            log.info("%s %s %s %s %.1fms%s", rid, scope["method"], scope["path"], answer["status"],
                     seconds * 1000, solve)
