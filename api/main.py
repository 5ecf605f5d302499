"""The FastAPI app: wires the routers and maps convsolve's errors to 422, once."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

import solver

from .routes import forward, health, solve
from .settings import settings

app = FastAPI(
    title="convsolve",
    version=solver.__version__,
    summary="Find the conv, transposed-conv and pooling settings that make CNN sizes line up.",
)
app.include_router(health.router)
app.include_router(forward.router)
app.include_router(solve.router)


@app.exception_handler(solver.ConvsolveError)
async def _convsolve_error(_: Request, exc: solver.ConvsolveError) -> JSONResponse:
    # Same shape as FastAPI's own validation errors: {"detail": [{type, loc, msg, ...}]}.
    body = exc.to_dict()
    body["loc"] = ["body", *body["loc"]]
    return JSONResponse(status_code=422, content={"detail": [body]})


@app.middleware("http")
async def _limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > settings.max_body_bytes):
        return JSONResponse(
            status_code=413,
            content={"detail": [{"type": "limit_exceeded", "loc": ["body"],
                                 "msg": f"request body is larger than {settings.max_body_bytes} bytes"}]},
        )
    return await call_next(request)
