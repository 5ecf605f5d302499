"""The FastAPI app: wires the routers and maps convsolve's errors to 422, once."""

from __future__ import annotations

import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

import solver

from .bodies import Documents
from .lifecycle import lifespan
from .limits import BodyLimit
from .observe import Observe
from .routes import docs, export, forward, health, imports, metrics, plan, schema, sizes, solve
from .settings import settings

app = FastAPI(
    title="convsolve",
    version=solver.__version__,
    summary="Find the conv, transposed-conv and pooling settings that make CNN sizes line up.",
    lifespan=lifespan,  # warm workers before serving; stop them within seconds
    docs_url=None,  # /docs and /redoc come from api/routes/docs.py, with local assets
    redoc_url=None,
)


def _openapi() -> dict[str, Any]:
    """FastAPI's OpenAPI document, saying that every body may be YAML too (api/bodies.py)."""
    if app.openapi_schema is None:
        document = FastAPI.openapi(app)
        for operations in document["paths"].values():
            for operation in operations.values():
                content = operation.get("requestBody", {}).get("content", {})
                if "application/json" in content:
                    content["application/yaml"] = {"schema": content["application/json"]["schema"]}
        app.openapi_schema = document
    return app.openapi_schema


app.openapi = _openapi  # type: ignore[method-assign]
app.mount(docs.PREFIX, docs.assets, name="static")
app.include_router(docs.router)
app.include_router(health.router)
app.include_router(metrics.router)
app.include_router(forward.router)
app.include_router(solve.router)
app.include_router(export.router)
app.include_router(sizes.router)
app.include_router(plan.router)
app.include_router(schema.router)
app.include_router(imports.router)


@app.exception_handler(solver.ConvsolveError)
async def _convsolve_error(_: Request, exc: solver.ConvsolveError) -> JSONResponse:
    # Same shape as FastAPI's own validation errors: {"detail": [{type, loc, msg, ...}]}.
    # A refusal's suggestions are a search, run when first read: not on the event loop.
    details = await run_in_threadpool(exc.details)
    for detail in details:
        detail["loc"] = ["body", *detail["loc"]]
    return JSONResponse(status_code=422, content={"detail": details})


@app.exception_handler(RequestValidationError)
async def _invalid_document(request: Request, exc: RequestValidationError) -> JSONResponse:
    # A document's errors in the library's and the CLI's words (every one, the one that
    # says best what is wrong first, paths as the user wrote them); FastAPI's own for the
    # rest.  FastAPI's body echoes the input, which may hold NaN or Infinity: JSON has neither.
    field = getattr(request.scope.get("route"), "body_field", None)
    model = field.field_info.annotation if field is not None else None
    if isinstance(model, type) and issubclass(model, BaseModel) and isinstance(exc.body, dict):
        details = solver.contract.validation_errors(model, exc.body)
        if details:
            for detail in details:
                detail["loc"] = ["body", *detail["loc"]]
            return JSONResponse(status_code=422, content={"detail": _finite(details)})
    return JSONResponse(status_code=422, content={"detail": _finite(jsonable_encoder(exc.errors()))})


@app.exception_handler(HTTPException)
async def _http_error(request: Request, exc: HTTPException) -> Any:
    # FastAPI answers a body that is not UTF-8 with a bare 400; say what is wrong, as 422.
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        return JSONResponse(status_code=422, content={"detail": [
            {"type": "json_invalid", "loc": ["body"], "msg": "the body is not JSON text in UTF-8"}]})
    return await http_exception_handler(request, exc)


#: Deeper than any body api/limits.py lets in; past it an echo is cut, not recursed into.
_ECHO_DEPTH = 100


def _finite(x: Any, depth: int = 0) -> Any:
    """Non-finite floats as strings and lone surrogates as U+FFFD, anywhere in a JSON-like
    value (to _ECHO_DEPTH levels): JSON text has neither."""
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if isinstance(x, str):
        return x.encode("utf-8", "replace").decode("utf-8") if not x.isascii() else x
    if isinstance(x, dict | list) and depth >= _ECHO_DEPTH:
        return "..."
    if isinstance(x, dict):
        return {_finite(k): _finite(v, depth + 1) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v, depth + 1) for v in x]
    return x


app.add_middleware(Documents, settings=settings)  # YAML bodies read as JSON; other types refused
app.add_middleware(BodyLimit, settings=settings)  # size and nesting depth, before parsing
app.add_middleware(Observe)  # outermost: sees every answer, 413s included
