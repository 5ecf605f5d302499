"""The contract: the JSON documents every front door speaks, by family, and how they are read."""

from .batch import MAX_BATCH, BatchItem, BatchResponse, SolveBatch
from .documents import DOCUMENTS, DocumentKind, json_schema
from .forward import (
    ForwardRequest,
    ForwardResponse,
    LayerReport,
)
from .imports import ImportedModel, KerasImport, OnnxImport
from .layers import (
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    Add,
    AvgPool,
    Concat,
    Conv,
    ConvTranspose,
    Crop,
    Layer,
    LayerType,
    Match,
    MaxPool,
    Upsample,
    convention_defaults,
)
from .parse import (
    MAX_NESTING,
    parse,
    per_axis,
    resize_settings,
    validation_errors,
)
from .plans import (
    ASPPPlan,
    AxisFactor,
    Design,
    EncoderDecoderPlan,
    Factor,
    Level,
    PlanResponse,
    UNetPlan,
)
from .sample import MAX_DRAWS, SampleRequest, SampleResponse, ScoreBound
from .sizes import (
    AxisSizes,
    InputSizesRequest,
    InputSizesResponse,
    Nearest,
)
from .solve import (
    AxisTarget,
    Conflict,
    Explanation,
    Goal,
    Objective,
    Prefer,
    Repair,
    Solution,
    SolveRequest,
    SolveResponse,
    Status,
    Target,
    Tie,
)
from .values import (
    MAX_CHANNELS,
    MAX_LAYERS,
    MAX_PARAM,
    MAX_SIZE,
    BoolParam,
    Channels,
    Choices,
    Convention,
    Domain,
    InputChannels,
    InputSize,
    Int,
    PaddingMode,
    PaddingParam,
    Param,
    Range,
    Size,
    StrictModel,
    TensorName,
)
