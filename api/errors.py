"""The error answers every route can give, described once for the OpenAPI schema.

Every error body has FastAPI's validation-error shape, {"detail": [{type, loc, msg, ...}]},
whoever answers: the body limits (413, 422), its content type (415), validation and convsolve's own errors (422),
the pool (503).
"""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict

from solver.contract.values import Described


class ErrorDetail(Described):
    """One thing wrong.  convsolve's refusals add fields: layer, name, axis, rule, suggestions."""

    model_config = ConfigDict(extra="allow")

    #: Machine-readable kind: pydantic's ("missing", "int_type", ...), "layer_rejected",
    #: "document_error", "limit_exceeded", "busy".
    type: str
    #: Where in the request: ["body", "layers", 0, "kernel_size"]; [] for the service as a whole.
    loc: list[str | int]
    msg: str


class ErrorResponse(Described):
    detail: list[ErrorDetail]


def invalid(description: str) -> dict[int | str, dict[str, Any]]:
    """422, with what the route refuses (and what every route refuses: api/limits.py)."""
    return {422: {"model": ErrorResponse, "description": f"{description}; or JSON nested deeper than the "
                                                         "server's limit (CONVSOLVE_MAX_JSON_DEPTH, 32 by default)"}}


#: Every route that reads a body (api/limits.py, api/bodies.py).
BODY: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse,
          "description": "The body is larger than the server's limit (CONVSOLVE_MAX_BODY_BYTES, 256 KiB by default)"},
    415: {"model": ErrorResponse,
          "description": "The body is sent with no content type, or one other than application/json and "
                         "application/yaml"},
}

#: Every route that runs in the pool (api/pool.py).
BUSY: dict[int | str, dict[str, Any]] = {503: {
    "model": ErrorResponse,
    "description": "Every solver is busy and the queue is full, or the service is stopping: retry later",
    "headers": {"Retry-After": {"description": "Seconds to wait before retrying", "schema": {"type": "integer"}}}}}
