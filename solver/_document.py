"""The JSON contract shared by the REST API, the CLI and the Python API.

A concrete value is an int (the same on every axis) or a list with one int per axis,
as in PyTorch's `kernel_size=3` vs `kernel_size=(1, 3)`.  In a solve document a
searchable parameter may instead be a domain, `{"min": 1, "max": 7}` or
`{"choices": [1, 3, 5]}`: a scalar domain is shared by every axis, a list of domains
searches each axis on its own.
"""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, Strict, model_validator

# Bounds that keep documents sane; the solver's own limits live in its settings.
MAX_SIZE = 1 << 20
MAX_PARAM = 1 << 16
MAX_CHANNELS = 1 << 20
MAX_LAYERS = 256

# Strict: JSON `true` is not a kernel size.
Size = Annotated[int, Strict(), Field(ge=1, le=MAX_SIZE)]
Int = Annotated[int, Strict(), Field(ge=-MAX_PARAM, le=MAX_PARAM)]
Channels = Annotated[int, Strict(), Field(ge=-MAX_CHANNELS, le=MAX_CHANNELS)]
#: The input's channels: a layer's may be wrong (its rule says why), the input's is a count.
InputChannels = Annotated[int, Strict(), Field(ge=1, le=MAX_CHANNELS)]
#: A padding mode; each convention takes some of them (see _arith.PADDING_MODES).
PaddingMode = Literal["same", "valid", "same_upper", "same_lower"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Range(_Strict):
    """All integers from min to max, inclusive."""

    min: Int
    max: Int

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min > self.max:
            raise ValueError(f"min {self.min} is larger than max {self.max}")
        return self


class Choices(_Strict):
    """An explicit list of allowed values: ints (within the parameters' bounds), padding
    modes, or true/false for ceil_mode."""

    choices: Annotated[list[Int | bool | PaddingMode], Field(min_length=1, max_length=1024)]


Domain = Range | Choices
# A parameter: a value, one value per axis, a domain shared by all axes, or per-axis domains.
Param = Int | Domain | Annotated[list[Int | Domain], Field(min_length=1, max_length=3)]
#: Padding: pixels, or a mode of the document's convention ("same" and "valid" in
#: pytorch and tensorflow; "same_upper", "same_lower" and "valid" in onnx).
PaddingParam = Int | PaddingMode | Domain | Annotated[
    list[Int | Domain], Field(min_length=1, max_length=3)
]
#: Whose size rules a document follows.
Convention = Literal["pytorch", "tensorflow", "onnx"]
BoolParam = bool | Choices


@unique
class LayerType(StrEnum):
    CONV = "conv"
    CONV_TRANSPOSE = "conv_transpose"
    MAX_POOL = "max_pool"
    AVG_POOL = "avg_pool"
    UPSAMPLE = "upsample"
    ADAPTIVE_AVG_POOL = "adaptive_avg_pool"
    ADAPTIVE_MAX_POOL = "adaptive_max_pool"
    CONCAT = "concat"
    ADD = "add"
    CROP = "crop"


TensorName = Annotated[str, Field(min_length=1, max_length=200)]


class _LayerBase(_Strict):
    #: Names the layer and its output tensor, for `input`, joins, ties and targets.
    name: TensorName | None = None
    #: The tensor this layer reads: "input" or a layer's name; default: the layer before.
    input: TensorName | None = None


class _Weighted(_LayerBase):
    kernel_size: Param
    stride: Param = 1
    dilation: Param = 1
    in_channels: Channels | None = None
    out_channels: Channels | None = None
    groups: Channels = 1
    bias: bool = True


class Conv(_Weighted):
    """torch.nn.Conv1d/2d/3d; keras Conv1D/2D/3D; ONNX Conv."""

    type: Literal["conv"]
    padding: PaddingParam = 0
    #: onnx only: the end padding, when it differs from `padding` (then the beginning's).
    padding_end: Param | None = None


class ConvTranspose(_Weighted):
    """torch.nn.ConvTranspose1d/2d/3d; keras Conv1D/2D/3DTranspose; ONNX ConvTranspose."""

    type: Literal["conv_transpose"]
    padding: PaddingParam = 0
    padding_end: Param | None = None
    #: Extra rows at the end; null: 0, except in tensorflow where Keras infers the output.
    output_padding: Param | None = None
    #: onnx only: the output size, the padding worked out from it.
    output_shape: Size | Annotated[list[Size], Field(min_length=1, max_length=3)] | None = None


class MaxPool(_LayerBase):
    """torch.nn.MaxPool1d/2d/3d; stride defaults to kernel_size."""

    type: Literal["max_pool"]
    kernel_size: Param
    stride: Param | None = None
    padding: PaddingParam = 0
    padding_end: Param | None = None
    dilation: Param = 1
    ceil_mode: BoolParam = False


class AvgPool(_LayerBase):
    """torch.nn.AvgPool1d/2d/3d; stride defaults to kernel_size."""

    type: Literal["avg_pool"]
    kernel_size: Param
    stride: Param | None = None
    padding: PaddingParam = 0
    padding_end: Param | None = None
    ceil_mode: BoolParam = False


class Upsample(_LayerBase):
    """torch.nn.Upsample: exactly one of scale_factor and size."""

    type: Literal["upsample"]
    scale_factor: (
        Annotated[float, Field(gt=0, le=1024)]
        | Annotated[list[Annotated[float, Field(gt=0, le=1024)]], Field(min_length=1, max_length=3)]
        | None
    ) = None
    size: Size | Annotated[list[Size], Field(min_length=1, max_length=3)] | None = None
    mode: Literal["nearest", "linear", "bilinear", "bicubic", "trilinear"] = "nearest"

    @model_validator(mode="after")
    def _one_of(self) -> Upsample:
        if (self.scale_factor is None) == (self.size is None):
            raise ValueError("upsample needs exactly one of scale_factor and size")
        return self


class _Adaptive(_LayerBase):
    output_size: Size | Annotated[list[Size | None], Field(min_length=1, max_length=3)]


class AdaptiveAvgPool(_Adaptive):
    """torch.nn.AdaptiveAvgPool1d/2d/3d; a null entry keeps that axis' size."""

    type: Literal["adaptive_avg_pool"]


class AdaptiveMaxPool(_Adaptive):
    """torch.nn.AdaptiveMaxPool1d/2d/3d; a null entry keeps that axis' size."""

    type: Literal["adaptive_max_pool"]


class _Join(_Strict):
    name: TensorName | None = None
    #: The tensors joined; their spatial sizes must be equal.
    inputs: Annotated[list[TensorName], Field(min_length=2, max_length=64)]


class Concat(_Join):
    """torch.cat along channels (a U-Net skip, ASPP branches): spatial sizes must match."""

    type: Literal["concat"]


class Add(_Join):
    """Element-wise sum (a residual connection): sizes and channels must match."""

    type: Literal["add"]


class Crop(_LayerBase):
    """Centre crop of `input` to the spatial size of the tensor `to` (the original U-Net's
    skips): x[..., d//2 : d//2 + size] on each axis, d the difference of sizes."""

    type: Literal["crop"]
    to: TensorName


Layer = Annotated[
    Conv | ConvTranspose | MaxPool | AvgPool | Upsample | AdaptiveAvgPool | AdaptiveMaxPool
    | Concat | Add | Crop,
    Field(discriminator="type"),
]

InputSize = Annotated[list[Size], Field(min_length=1, max_length=3)]


def _convention_defaults(convention: str, layers: list[Any]) -> None:
    """What a left-out field means outside PyTorch: Keras pads 'valid' by default, and an
    ONNX pool's strides default to 1 (PyTorch's padding is 0, a pool's stride its kernel)."""
    for layer in layers:
        if convention == "tensorflow" and "padding" in type(layer).model_fields \
                and "padding" not in layer.model_fields_set:
            layer.padding = "valid"
        if convention == "onnx" and isinstance(layer, MaxPool | AvgPool) and layer.stride is None:
            layer.stride = 1


class ForwardRequest(_Strict):
    """A stack of layers applied to an input of the given spatial size."""

    input_size: InputSize
    in_channels: InputChannels | None = None
    layers: Annotated[list[Layer], Field(max_length=MAX_LAYERS)]
    convention: Convention = "pytorch"

    @model_validator(mode="after")
    def _defaults(self) -> ForwardRequest:
        _convention_defaults(self.convention, self.layers)
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "input_size": [224, 224],
                    "in_channels": 3,
                    "layers": [
                        {"type": "conv", "kernel_size": 7, "stride": 2, "padding": 3,
                         "out_channels": 64, "bias": False, "name": "conv1"},
                        {"type": "max_pool", "kernel_size": 3, "stride": 2, "padding": 1},
                    ],
                }
            ]
        },
    )


class LayerReport(BaseModel):
    """What one layer does to the tensor."""

    index: int
    name: str | None
    type: LayerType
    input_size: list[int]
    output_size: list[int]
    #: Padding actually applied per axis, as [begin, end] (asymmetric for padding='same').
    #: A transposed conv's is what it cuts from (i-1)*s + e before output_padding adds
    #: rows at the end, as PyTorch's padding: [p, p] there; negative when the output is longer.
    padding: list[list[int]] | None
    in_channels: int | None
    out_channels: int | None
    params: int | None
    macs: int | None
    #: Receptive field per axis, in input pixels, after this layer (null when not exact).
    receptive_field: list[int | float] | None
    #: Distance in input pixels between neighbouring outputs (cumulative stride).
    jump: list[int | float] | None


class ForwardResponse(BaseModel):
    input_size: list[int]
    output_size: list[int]
    in_channels: int | None
    out_channels: int | None
    params: int | None
    macs: int | None
    receptive_field: list[int | float] | None
    layers: list[LayerReport]


# --- the solve document --------------------------------------------------------------

#: A target per axis: a size, a range, or "input" (the same as the network input).
AxisTarget = Size | Range
Target = (
    Size
    | Range
    | Literal["input"]
    | Annotated[list[AxisTarget], Field(min_length=1, max_length=3)]
)


@unique
class Goal(StrEnum):
    """What "best" means; a list of goals is lexicographic (the first one decides)."""

    FEWEST_PARAMS = "fewest_params"
    FEWEST_MACS = "fewest_macs"
    LEAST_PADDING = "least_padding"
    SMALLEST_KERNELS = "smallest_kernels"
    SMALLEST_DILATION = "smallest_dilation"
    LARGEST_RECEPTIVE_FIELD = "largest_receptive_field"


class Prefer(_Strict):
    """Closeness to preferred values, e.g. {"prefer": {"stride": 2}}: the sum of |v - want|."""

    prefer: dict[
        Literal["kernel_size", "stride", "padding", "padding_end", "dilation", "output_padding"], Int
    ] = Field(min_length=1)


Objective = Goal | Prefer


class Tie(_Strict):
    """Parameters shared between layers: every listed layer takes the same values."""

    layers: Annotated[list[TensorName | Annotated[int, Strict(), Field(ge=0)]], Field(min_length=2)]
    params: Annotated[
        list[Literal["kernel_size", "stride", "padding", "padding_end", "dilation", "output_padding",
                     "ceil_mode"]],
        Field(min_length=1),
    ]


class SolveRequest(_Strict):
    """Which settings of the searchable parameters take the input to the target."""

    input_size: InputSize | None = None
    #: Several input sizes the one design must handle; excludes input_size.
    input_sizes: Annotated[list[InputSize], Field(min_length=1, max_length=16)] | None = None
    in_channels: InputChannels | None = None
    #: Size of the last layer's output.
    target_size: Target | None = None
    #: Targets on named tensors (layer names).
    targets: dict[TensorName, Target] = Field(default_factory=dict, max_length=MAX_LAYERS)
    layers: Annotated[list[Layer], Field(min_length=1, max_length=MAX_LAYERS)]
    ties: Annotated[list[Tie], Field(max_length=MAX_LAYERS)] = Field(default_factory=list)
    objective: Objective | Annotated[list[Objective], Field(max_length=8)] | None = None
    #: How many solutions to list at most (the best ones when there is an objective).
    limit: Annotated[int, Strict(), Field(ge=0, le=10_000)] = 100
    #: Wall-clock budget; the server caps it.
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    #: The `next_cursor` of the previous page: the next `limit` solutions, in rank order.
    cursor: Annotated[str, Field(max_length=200)] | None = None
    convention: Convention = "pytorch"

    @model_validator(mode="after")
    def _defaults(self) -> SolveRequest:
        _convention_defaults(self.convention, self.layers)
        return self

    @model_validator(mode="after")
    def _one_input(self) -> SolveRequest:
        if (self.input_size is None) == (self.input_sizes is None):
            raise ValueError("give exactly one of input_size and input_sizes")
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "input_size": [572, 572],
                    "target_size": [388, 388],
                    "layers": [
                        {"type": "conv", "kernel_size": {"min": 1, "max": 5},
                         "padding": {"min": 0, "max": 2}},
                        {"type": "max_pool", "kernel_size": 2},
                        {"type": "conv_transpose", "kernel_size": 2, "stride": 2},
                    ],
                    "objective": "smallest_kernels",
                    "limit": 10,
                }
            ]
        },
    )


@unique
class Status(StrEnum):
    COMPLETE = "complete"
    LIMIT = "limit"
    TIMEOUT = "timeout"
    INFEASIBLE = "infeasible"


class Solution(BaseModel):
    #: Every parameter explicit, one int per axis: a valid forward document's layers.
    layers: list[dict[str, Any]]
    #: Output size of every layer, for each input size (one list per input size).
    sizes: list[list[list[int]]]
    #: The objective's value, one number per goal (lexicographic), when ranked; sums
    #: over axes (a 7x7 receptive field scores 14).
    score: list[int | float] | None = None


class Conflict(BaseModel):
    """One constraint among those that cannot hold together."""

    #: Index of the layer in the document; null for a target or the input.
    layer: int | None
    name: str | None = None
    #: The spatial axis; null when the conflict is not about one axis.
    axis: int | None
    #: A stable id: a solver.Rule value, target_unreachable, domain_too_narrow, ...
    rule: str
    message: str


class Repair(BaseModel):
    """A change to the document that makes it solvable (checked by solving it)."""

    message: str
    #: The changed solve document; it has solutions.
    document: dict[str, Any]


class Explanation(BaseModel):
    message: str
    conflicts: list[Conflict]
    repairs: list[Repair]
    #: Set when the time limit cut the search short: which repairs were not tried.
    note: str | None = None


class SolveResponse(BaseModel):
    status: Status
    #: Exact number of solutions in the domains; null when it could not be counted.
    count: int | None
    solutions: list[Solution]
    #: Which engine answered: "exact" (over intermediate sizes) or "cpsat".
    engine: str
    elapsed_s: float
    message: str | None = None
    #: With status "infeasible": why, and the smallest changes that work.
    explanation: Explanation | None = None
    #: Send it back as `cursor` (same document otherwise) for the next page; null on the last.
    next_cursor: str | None = None


# --- valid input sizes ---------------------------------------------------------------

class InputSizesRequest(_Strict):
    """A concrete design and a range of input sizes to try, per axis."""

    layers: Annotated[list[Layer], Field(min_length=1, max_length=MAX_LAYERS)]
    in_channels: InputChannels | None = None
    #: Sizes to try on each axis: one range for every axis, or one per axis.
    range: Range | Annotated[list[Range], Field(min_length=1, max_length=3)]
    #: The size you have: the answer gives the nearest valid sizes around it.
    input_size: InputSize | None = None
    #: Only sizes whose output equals the input (an autoencoder, a U-Net).
    round_trip: bool = False
    convention: Convention = "pytorch"
    #: Wall-clock budget for the sweep; the server caps it.
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0

    @model_validator(mode="after")
    def _defaults(self) -> InputSizesRequest:
        _convention_defaults(self.convention, self.layers)
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "input_size": [500, 500], "range": {"min": 64, "max": 1024}, "round_trip": True,
            "layers": [{"type": "max_pool", "kernel_size": 2}, {"type": "max_pool", "kernel_size": 2},
                       {"type": "upsample", "scale_factor": 4}]}]},
    )


class Nearest(BaseModel):
    requested: int
    #: The largest valid size not above the request, and how much to crop to reach it.
    below: int | None
    crop: int | None
    #: The smallest valid size not below the request, and how much to pad to reach it.
    above: int | None
    pad: int | None


class AxisSizes(BaseModel):
    axis: int
    count: int
    #: The valid sizes said compactly: "multiples of 16 from 64", "every size from 3", ...
    pattern: str
    sizes: list[int]
    nearest: Nearest | None = None


class InputSizesResponse(BaseModel):
    #: "complete", or "timeout" (then axes is empty and message says why).
    status: Status = Status.COMPLETE
    axes: list[AxisSizes]
    message: str


# --- planners ------------------------------------------------------------------------

Factor = Annotated[int, Strict(), Field(ge=1, le=16)]
AxisFactor = Factor | Annotated[list[Factor], Field(min_length=1, max_length=3)]


class UNetPlan(_Strict):
    """A U-Net: `depth` levels down and up, skips joining each level's two sides."""

    input_size: InputSize
    depth: Annotated[int, Field(ge=1, le=7)] = 4
    in_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 1
    #: Channels at the first level, doubled at every level down.
    base_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 64
    #: Channels of a final 1x1 conv (the classes); none without it.
    out_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] | None = None
    convs_per_level: Annotated[int, Field(ge=1, le=4)] = 2
    #: "same" (padding keeps the size), "valid" (no padding), or "search" (kernel_size
    #: and padding searched, shared by every conv).
    conv: Literal["same", "valid", "search"] = "same"
    kernel_size: Param = 3
    padding: Param = Field(default_factory=lambda: Range(min=0, max=2))
    down: Literal["max_pool", "avg_pool", "strided_conv"] = "max_pool"
    up: Literal["conv_transpose", "upsample"] = "conv_transpose"
    #: Down/up factor of every level: an int, or one per axis ([1, 2, 2] for thin volumes).
    factor: AxisFactor = 2
    #: Or one factor per level (each an int or per axis), first level first.
    level_factors: Annotated[list[AxisFactor], Field(min_length=1, max_length=7)] | None = None
    #: "match": skips need equal sizes; "crop": the encoder side is centre-cropped (the paper).
    skip: Literal["match", "crop"] = "match"
    #: The output size, "same" as the input, or null for any.
    output_size: InputSize | Literal["same"] | None = "same"
    objective: Objective | Annotated[list[Objective], Field(max_length=8)] | None = None
    limit: Annotated[int, Strict(), Field(ge=0, le=1000)] = 5
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0

    #: Whose size rules the design follows (see the solve document's `convention`).
    convention: Convention = "pytorch"

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"input_size": [572, 572], "depth": 4, "conv": "valid", "skip": "crop", "output_size": None},
        {"input_size": [32, 128, 128], "depth": 3, "level_factors": [[1, 2, 2], 2, 2], "base_channels": 32},
    ]})


class ASPPPlan(_Strict):
    """DeepLab's atrous spatial pyramid pooling: parallel dilated branches that keep the
    bottleneck's size, concatenated."""

    #: The feature map the branches see; or give input_size and output_stride.
    bottleneck_size: InputSize | None = None
    input_size: InputSize | None = None
    output_stride: Annotated[int, Field(ge=1, le=64)] | None = None
    #: The dilation rates, or a range to search.
    rates: Annotated[list[Annotated[int, Field(ge=1, le=512)]], Field(min_length=1, max_length=8)] | Range = Field(
        default_factory=lambda: [6, 12, 18])
    kernel_size: Annotated[int, Field(ge=1, le=15)] = 3
    #: The padding each branch may use (searched).
    padding: Range = Field(default_factory=lambda: Range(min=0, max=256))
    in_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 2048
    channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 256
    #: The image-level branch: global average pooling, 1x1 conv, upsampled back.
    image_pooling: bool = True
    limit: Annotated[int, Strict(), Field(ge=0, le=1000)] = 5
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    #: Whose size rules the design follows (see the solve document's `convention`).
    convention: Convention = "pytorch"

    @model_validator(mode="after")
    def _size(self) -> ASPPPlan:
        if (self.bottleneck_size is None) == (self.input_size is None or self.output_stride is None):
            raise ValueError("give bottleneck_size, or input_size and output_stride")
        return self

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"input_size": [513, 513], "output_stride": 16, "rates": [6, 12, 18]},
        {"bottleneck_size": [33, 33], "rates": {"min": 1, "max": 40}},
    ]})


class Level(BaseModel):
    level: int
    #: Output size of the level's encoder side, and of its decoder side.
    encoder: list[int]
    decoder: list[int] | None


class Design(BaseModel):
    """One solution, as a forward document's layers, with what a designer looks at."""

    layers: list[dict[str, Any]]
    input_size: list[int]
    output_size: list[int]
    params: int | None
    levels: list[Level] | None = None
    score: list[int | float] | None = None


class PlanResponse(BaseModel):
    status: Status
    count: int | None
    designs: list[Design]
    #: The solve document the planner built: change it and send it to /v1/solve.
    document: dict[str, Any]
    warnings: list[str] = Field(default_factory=list)
    message: str | None = None
    explanation: Explanation | None = None


class EncoderDecoderPlan(_Strict):
    """An autoencoder (image -> latent -> image), a GAN generator (latent -> image) or a
    GAN discriminator (image -> latent), in `depth` stages of one searched layer each."""

    kind: Literal["autoencoder", "generator", "discriminator"] = "autoencoder"
    image_size: InputSize
    #: The latent's spatial size (1 for a GAN's 1x1 noise).
    latent_size: InputSize | Annotated[int, Field(ge=1)] = 1
    depth: Annotated[int, Field(ge=1, le=12)] = 4
    in_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 1
    kernel_size: Param = Field(default_factory=lambda: Range(min=1, max=5))
    stride: Param = Field(default_factory=lambda: Range(min=1, max=2))
    padding: Param = Field(default_factory=lambda: Range(min=0, max=2))
    output_padding: Param = Field(default_factory=lambda: Range(min=0, max=1))
    #: Every stage but the one at the latent shares its settings (as DCGAN's do).
    tie: bool = True
    objective: Objective | Annotated[list[Objective], Field(max_length=8)] | None = None
    limit: Annotated[int, Strict(), Field(ge=0, le=1000)] = 10
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0

    #: Whose size rules the design follows (see the solve document's `convention`).
    convention: Convention = "pytorch"

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "generator", "image_size": [64, 64], "latent_size": 1, "depth": 5, "limit": 50},
        {"kind": "autoencoder", "image_size": [28, 28], "latent_size": 7, "depth": 2},
    ]})
