"""The solve document: domains to search, targets, ties and objectives; its answer."""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, Strict, model_validator

from ..rules import DEFAULT_CONVENTION
from .layers import Layer, convention_defaults
from .values import (
    MAX_LAYERS,
    Convention,
    Described,
    InputChannels,
    InputSize,
    Int,
    Range,
    Size,
    StrictModel,
    TensorName,
)

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
    """What "best" means; a list of goals is lexicographic (the first one decides, the next
    breaks its ties).  Each goal is a cost per layer, summed over the layers and axes:
    fewest_params: the fewest learned parameters (needs in_channels and out_channels);
    fewest_macs: the fewest multiply-accumulates for one sample of the first input size
    (needs channels too); least_padding: the fewest padding pixels, as forward reports
    them (what a transposed conv cuts counts too); smallest_kernels: the smallest kernel
    sizes; smallest_dilation: the smallest dilations; largest_receptive_field: the
    largest receptive field of the output (for chains of conv, conv_transpose and pool
    layers)."""

    FEWEST_PARAMS = "fewest_params"
    FEWEST_MACS = "fewest_macs"
    LEAST_PADDING = "least_padding"
    SMALLEST_KERNELS = "smallest_kernels"
    SMALLEST_DILATION = "smallest_dilation"
    LARGEST_RECEPTIVE_FIELD = "largest_receptive_field"


class Prefer(StrictModel):
    """Closeness to preferred values, e.g. {"prefer": {"stride": 2}}: the sum of |v - want|."""

    prefer: dict[
        Literal["kernel_size", "stride", "padding", "padding_end", "dilation", "output_padding"], Int
    ] = Field(min_length=1)


Objective = Goal | Prefer


class Tie(StrictModel):
    """Parameters shared between layers: every listed layer takes the same values."""

    layers: Annotated[list[TensorName | Annotated[int, Strict(), Field(ge=0)]], Field(min_length=2)]
    params: Annotated[
        list[Literal["kernel_size", "stride", "padding", "padding_end", "dilation", "output_padding",
                     "ceil_mode"]],
        Field(min_length=1),
    ]


class SolveRequest(StrictModel):
    """Which settings of the searchable parameters take the input to the target."""

    #: The command and the route that take this kind of document.
    command: ClassVar[str] = "solve"

    input_size: InputSize | None = None
    input_sizes: Annotated[list[InputSize], Field(min_length=1, max_length=16)] | None = None
    in_channels: InputChannels | None = None
    target_size: Target | None = None
    targets: dict[TensorName, Target] = Field(default_factory=dict, max_length=MAX_LAYERS)
    layers: Annotated[list[Layer], Field(min_length=1, max_length=MAX_LAYERS)]
    ties: Annotated[list[Tie], Field(max_length=MAX_LAYERS)] = Field(default_factory=list)
    objective: Objective | Annotated[list[Objective], Field(max_length=8)] | None = None
    limit: Annotated[int, Strict(), Field(ge=0, le=10_000)] = 100
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    cursor: Annotated[str, Field(max_length=200)] | None = None
    convention: Convention = DEFAULT_CONVENTION

    @model_validator(mode="after")
    def _defaults(self) -> SolveRequest:
        convention_defaults(self.convention, self.layers)
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
                    "target_size": [284, 284],
                    "layers": [
                        {"type": "conv", "kernel_size": {"min": 1, "max": 5},
                         "padding": {"min": 0, "max": 2}},
                        {"type": "max_pool", "kernel_size": 2},
                        {"type": "conv_transpose", "kernel_size": 2, "stride": 2},
                        {"type": "conv", "kernel_size": {"min": 1, "max": 5}, "stride": 2},
                    ],
                    "objective": "smallest_kernels",
                    "limit": 10,
                }
            ]
        },
    )


@unique
class Status(StrEnum):
    """How complete an answer is.  complete: every solution is listed (input sizes: the
    range was swept); limit: there are more than `limit`, the best are listed and
    next_cursor gives the next page (or the anytime search's best, proved the best but
    not counted); infeasible: there is no solution, and the explanation says why and
    what would give one; timeout: the time limit (or a cancelled request) cut the work
    short, and what is listed is the best found, neither proved the best nor counted."""

    COMPLETE = "complete"
    LIMIT = "limit"
    TIMEOUT = "timeout"
    INFEASIBLE = "infeasible"


class Solution(Described):
    """One setting of every searched parameter that meets every target."""

    layers: list[dict[str, Any]]
    sizes: list[list[list[int]]]
    score: list[int | float] | None = None


class Conflict(Described):
    """One constraint among those that cannot hold together."""

    layer: int | None
    name: str | None = None
    axis: int | None
    rule: str
    message: str


class Repair(Described):
    """A change to the document that makes it solvable (checked by solving it)."""

    message: str
    document: dict[str, Any]


class Explanation(Described):
    """Why a solve document has no solution, and what would give it one."""

    message: str
    conflicts: list[Conflict]
    repairs: list[Repair]
    note: str | None = None


class SolveResponse(Described):
    """The solutions of a solve document, ranked and counted, or why there are none."""

    status: Status
    count: int | None
    solutions: list[Solution]
    engine: str
    elapsed_s: float
    message: str | None = None
    explanation: Explanation | None = None
    next_cursor: str | None = None
    warnings: list[str] = Field(default_factory=list)
    optimal: bool = True
