from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Request

import solver

from .. import examples
from ..errors import BODY, BUSY, invalid
from ..pool import pool
from ..settings import settings

router = APIRouter(prefix="/v1", tags=["input sizes"])


@router.post("/input-sizes", response_model=solver.InputSizesResponse,
             responses={**BODY, **invalid("A malformed design, or a range past the limit"), **BUSY})
async def input_sizes(body: Annotated[solver.InputSizesRequest, Body(openapi_examples=examples.INPUT_SIZES)],
                      request: Request) -> solver.InputSizesResponse:
    """Which input sizes in a range a design accepts (and round-trips, if asked), said
    compactly ("multiples of 16 from 64"), with the nearest ones to a given size.
    The sweep stops at its time_limit_s, capped by the server, or when the client goes."""
    return await pool.run(solver.input_sizes, body, max_time_s=settings.budget(body),
                          disconnected=request.is_disconnected)
