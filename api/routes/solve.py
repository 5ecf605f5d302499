from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import StreamingResponse

import solver

from .. import examples
from ..errors import BODY, BUSY, invalid
from ..observe import SOLVES
from ..pool import pool
from ..settings import settings

router = APIRouter(prefix="/v1", tags=["solve"])


@router.post(
    "/solve",
    response_model=solver.SolveResponse,
    responses={**BODY, **invalid("A malformed document, or domains past the limits"), **BUSY},
)
async def solve(body: Annotated[solver.SolveRequest, Body(openapi_examples=examples.SOLVE)], request: Request,
                response: Response) -> solver.SolveResponse:
    """Enumerate, rank and count the layer settings that reach the target sizes.

    An impossible problem answers 200 with status "infeasible".  The solver runs
    off the event loop, within the request's time_limit_s capped by the server.
    """
    result = await pool.run(solver.solve, body, max_time_s=settings.budget(body),
                            disconnected=request.is_disconnected)
    SOLVES.labels(result.status.value).inc()
    response.headers["X-Solve-Seconds"] = f"{result.elapsed_s:.3f}"
    return result


@router.post(
    "/solve/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/x-ndjson": {}},
                     "description": "A line with the answer but its solutions, then one line per solution"},
               **BODY, **invalid("A malformed document, or domains past the limits"), **BUSY},
)
async def solve_stream(body: Annotated[solver.SolveRequest, Body(openapi_examples=examples.SOLVE)],
                       request: Request) -> StreamingResponse:
    """The answer of /v1/solve as NDJSON: a first line with the status, count and the
    rest, then one solution a line, best first, so a client can stop reading early.
    A client that goes away while the solver runs stops it."""
    result = await pool.run(solver.solve, body, max_time_s=settings.budget(body),
                            disconnected=request.is_disconnected)
    SOLVES.labels(result.status.value).inc()

    async def lines() -> AsyncIterator[str]:
        yield result.model_dump_json(exclude={"solutions"}) + "\n"
        for solution in result.solutions:
            yield solution.model_dump_json() + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson",
                             headers={"X-Solve-Seconds": f"{result.elapsed_s:.3f}"})


@router.post(
    "/solve/batch",
    response_model=solver.BatchResponse,
    responses={**BODY, **invalid("A body that is not a list of 1 to 32 documents"), **BUSY},
)
async def solve_batch(body: Annotated[solver.contract.SolveBatch, Body(openapi_examples=examples.BATCH)],
                      request: Request, response: Response) -> solver.BatchResponse:
    """Answer up to 32 solve documents, one after the other, within the server's cap on
    one solve (CONVSOLVE_MAX_SOLVE_SECONDS) in all.

    Each item is the document's answer, or its errors (as a 422's detail) in its place:
    one bad document never fails the batch.  Documents not reached in time answer
    "timeout".  For larger batches, `convsolve batch` or solver.batch run locally or on Ray.
    """
    result = await pool.run(solver.solve_batch, body, max_time_s=settings.max_solve_seconds,
                            disconnected=request.is_disconnected)
    response.headers["X-Solve-Seconds"] = f"{result.elapsed_s:.3f}"
    return result


@router.post(
    "/sample",
    response_model=solver.SampleResponse,
    responses={**BODY, **invalid("A malformed document, or domains past the limits"), **BUSY},
)
async def sample(body: Annotated[solver.SampleRequest, Body(openapi_examples=examples.SAMPLE)],
                 request: Request, response: Response) -> solver.SampleResponse:
    """Draw n designs uniformly at random from the solutions of a solve document.

    The same document and seed draw the same designs (as the library and the CLI do);
    `within` bounds a score.  When the solutions cannot be counted in time, the designs
    come from random parts of the domains and `uniform` is false.
    """
    result = await pool.run(solver.sample, body, max_time_s=settings.budget(body),
                            disconnected=request.is_disconnected)
    response.headers["X-Solve-Seconds"] = f"{result.elapsed_s:.3f}"
    return result
