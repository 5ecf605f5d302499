from __future__ import annotations

from fastapi import APIRouter, Response

import solver

from ..observe import SOLVES
from ..pool import pool
from ..settings import settings

router = APIRouter(prefix="/v1", tags=["solve"])


@router.post(
    "/solve",
    response_model=solver.SolveResponse,
    responses={422: {"description": "A malformed document, or domains past the limits"}},
)
async def solve(request: solver.SolveRequest, response: Response) -> solver.SolveResponse:
    """Enumerate, rank and count the layer settings that reach the target sizes.

    An impossible problem answers 200 with status "infeasible".  The solver runs
    off the event loop, within the request's time_limit_s capped by the server.
    """
    result = await pool.run(solver.solve, request, max_time_s=settings.max_solve_seconds)
    SOLVES.labels(result.status.value).inc()
    response.headers["X-Solve-Seconds"] = f"{result.elapsed_s:.3f}"
    return result
