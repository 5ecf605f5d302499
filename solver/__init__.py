"""convsolve: find the conv, transposed-conv and pooling settings that make sizes line up.

Modules:
    _arith      per-axis size formulas and rejection rules (PyTorch, TensorFlow, ONNX), written once
    _document   the JSON contract (pydantic models) shared by REST, CLI and Python
    _forward    the forward engine: sizes, channels, params, MACs, receptive field
    _problem    a solve document checked and normalized into variables and tensors
    _exact      the exact engine: dynamic programming over intermediate sizes
    _cpsat      the CP-SAT model (the only module importing ortools)
    _explain    why a problem has no solution, and repairs that work
    _solve      solve(): engines, ranking, statuses
    _export     a forward document as PyTorch (or Keras) code
    _sizes      the input sizes a design accepts
    _plan       planners: U-Net, ASPP, ... turned into solve documents
    _errors     the exception tree
    cli         the `convsolve` command
"""

from .contract import (
    ASPPPlan,
    EncoderDecoderPlan,
    ForwardRequest,
    ForwardResponse,
    InputSizesRequest,
    InputSizesResponse,
    LayerReport,
    LayerType,
    PlanResponse,
    Solution,
    SolveRequest,
    SolveResponse,
    Status,
    UNetPlan,
)
from .errors import ConvsolveError, DocumentError, LayerRejected, LimitExceeded
from .rules import Rule
from .services.export import to_keras, to_torch
from .services.input_sizes import input_sizes
from .services.plan import plan_aspp, plan_encoder_decoder, plan_unet
from .services.solve import solve
from .services.suggest import forward

__version__ = "0.1.0"

__all__ = [
    "ASPPPlan",
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
    "Rule",
    "Solution",
    "SolveRequest",
    "SolveResponse",
    "Status",
    "UNetPlan",
    "__version__",
    "forward",
    "input_sizes",
    "plan_aspp",
    "plan_encoder_decoder",
    "plan_unet",
    "solve",
    "to_keras",
    "to_torch",
]
