from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.concurrency import run_in_threadpool

import solver
from solver.services.importers import import_keras, import_onnx

from .. import examples
from ..errors import BODY, invalid

router = APIRouter(prefix="/v1", tags=["import"])


@router.post(
    "/import/onnx",
    response_model=solver.contract.ImportedModel,
    responses={**BODY, **invalid("Not base64, not an ONNX graph, or a node convsolve cannot state (named)")},
)
async def onnx_graph(body: Annotated[solver.contract.OnnxImport, Body(openapi_examples=examples.IMPORT_ONNX)],
                     ) -> solver.contract.ImportedModel:
    """An ONNX graph's spatial path as a forward document in the onnx convention.

    Send the .onnx file's bytes as base64; a graph saved without its weights imports
    alike (the body limit, CONVSOLVE_MAX_BODY_BYTES, is 256 KiB by default).  Size-keeping
    nodes are folded and named; a node convsolve cannot state answers 422 naming it.
    Needs onnx on the server (`pip install 'convsolve[onnx]'`); without it, a 422 says so.
    PyTorch modules are imported by the library and the CLI only: the service runs no
    user code.
    """
    return await run_in_threadpool(import_onnx, body)


@router.post(
    "/import/keras",
    response_model=solver.contract.ImportedModel,
    responses={**BODY, **invalid("Not a Keras model's config, or a layer convsolve cannot state (named)")},
)
async def keras_model(body: Annotated[solver.contract.KerasImport, Body(openapi_examples=examples.IMPORT_KERAS)],
                      ) -> solver.contract.ImportedModel:
    """A Keras model's spatial path as a forward document in the tensorflow convention.

    Send `model.get_config()` (or the JSON `model.to_json()` writes) as `model`:
    Sequential or functional, channels last.  Size-keeping layers (and a layer's
    activation) are folded and named; a layer convsolve cannot state answers 422 naming it.
    """
    return await run_in_threadpool(import_keras, body)
