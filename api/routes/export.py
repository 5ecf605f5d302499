from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

import solver

router = APIRouter(prefix="/v1", tags=["export"])


class ExportResponse(BaseModel):
    language: str = "python"
    #: A runnable module: an nn.Module class `Net` wiring every layer, skip and sum.
    code: str


@router.post("/export/torch", response_model=ExportResponse,
             responses={422: {"description": "A layer PyTorch would reject, or a malformed document"}})
async def export_torch(request: solver.ForwardRequest) -> ExportResponse:
    """A forward document (for example a solution's layers) as PyTorch code."""
    return ExportResponse(code=solver.to_torch(request))
