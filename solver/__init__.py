"""convsolve: find the conv, transposed-conv and pooling settings that make sizes line up.

The layers, each importing only those below it (checked by import-linter):
    cli        the `convsolve` command (api/, the REST service, sits beside it)
    services   solve, sample, batches, importers, explain, refusal suggestions, planners, input sizes, export
    engines    forward, the normalized Problem, compiled rules, bounds, exact DP, CP-SAT
    contract   the JSON documents (pydantic models) shared by REST, CLI and Python
    rules      the size arithmetic per convention, the catalogue of layer kinds, verdicts
    errors     the exception tree
"""

from .contract import (
    ASPPPlan,
    BatchItem,
    BatchResponse,
    EncoderDecoderPlan,
    ForwardRequest,
    ForwardResponse,
    InputSizesRequest,
    InputSizesResponse,
    LayerReport,
    LayerType,
    PlanResponse,
    SampleRequest,
    SampleResponse,
    Solution,
    SolveRequest,
    SolveResponse,
    Status,
    UNetPlan,
)
from .errors import ConvsolveError, DocumentError, LayerRejected, LimitExceeded
from .rules import Rule
from .services.batch import batch, solve_batch
from .services.export import to_keras, to_torch
from .services.importers import from_keras, from_onnx, from_torch
from .services.input_sizes import input_sizes
from .services.plan import plan_aspp, plan_encoder_decoder, plan_unet
from .services.sample import sample
from .services.solve import solve
from .services.suggest import forward

__version__ = "0.1.0"

__all__ = [
    "ASPPPlan",
    "BatchItem",
    "BatchResponse",
    "EncoderDecoderPlan",
    "ConvsolveError",
    "DocumentError",
    "ForwardRequest",
    "ForwardResponse",
    "InputSizesRequest",
    "InputSizesResponse",
    "LayerRejected",
    "LayerReport",
    "LayerType",
    "LimitExceeded",
    "PlanResponse",
    "SampleRequest",
    "SampleResponse",
    "Rule",
    "Solution",
    "SolveRequest",
    "SolveResponse",
    "Status",
    "UNetPlan",
    "__version__",
    "batch",
    "forward",
    "from_keras",
    "from_onnx",
    "from_torch",
    "input_sizes",
    "plan_aspp",
    "plan_encoder_decoder",
    "plan_unet",
    "sample",
    "solve",
    "solve_batch",
    "to_keras",
    "to_torch",
]
