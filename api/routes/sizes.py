from __future__ import annotations

from fastapi import APIRouter

import solver

from ..pool import pool

router = APIRouter(prefix="/v1", tags=["input sizes"])


@router.post("/input-sizes", response_model=solver.InputSizesResponse,
             responses={422: {"description": "A malformed design, or a range past the limit"}})
async def input_sizes(request: solver.InputSizesRequest) -> solver.InputSizesResponse:
    """Which input sizes in a range a design accepts (and round-trips, if asked), said
    compactly ("multiples of 16 from 64"), with the nearest ones to a given size."""
    return await pool.run(solver.input_sizes, request)
