from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

import solver
from solver.contract.values import Described

from .. import examples
from ..errors import BODY, invalid

router = APIRouter(prefix="/v1", tags=["export"])


class ExportResponse(Described):
    language: str = "python"
    #: A runnable module: an nn.Module class `Net` (torch) or a function `build_net`
    #: returning a keras.Model (keras), wiring every layer, skip and sum.
    code: str


@router.post("/export/torch", response_model=ExportResponse,
             responses={**BODY, **invalid("A layer PyTorch would reject, or a malformed document")})
async def export_torch(request: Annotated[solver.ForwardRequest, Body(openapi_examples=examples.EXPORT_TORCH)],
                       ) -> ExportResponse:
    """A forward document (for example a solution's layers) as PyTorch code; in the
    tensorflow or onnx convention, its translation with the padding as pad layers."""
    return ExportResponse(code=solver.to_torch(request))


@router.post("/export/keras", response_model=ExportResponse,
             responses={**BODY, **invalid("Not the tensorflow convention, a layer TensorFlow would "
                                               "reject, or a malformed document")})
async def export_keras(request: Annotated[solver.ForwardRequest, Body(openapi_examples=examples.EXPORT_KERAS)],
                       ) -> ExportResponse:
    """A forward document in the tensorflow convention as Keras 3 code."""
    return ExportResponse(code=solver.to_keras(request))
