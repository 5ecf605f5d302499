from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

import solver

from .. import examples
from ..errors import BODY, invalid

router = APIRouter(prefix="/v1", tags=["forward"])


@router.post(
    "/forward",
    response_model=solver.ForwardResponse,
    responses={**BODY, **invalid("A layer PyTorch would reject, or a malformed document")},
)
async def forward(request: Annotated[solver.ForwardRequest, Body(openapi_examples=examples.FORWARD)],
                  ) -> solver.ForwardResponse:
    """Output size, channels, parameters, MACs and receptive field of every layer.

    Microseconds of arithmetic: it runs on the event loop, no thread hop needed.
    """
    return solver.forward(request)
