"""The input-sizes document: which input sizes a design accepts."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field, model_validator

from ..rules import DEFAULT_CONVENTION
from .layers import Layer, convention_defaults
from .solve import Status
from .values import (
    MAX_LAYERS,
    Convention,
    Described,
    InputChannels,
    InputSize,
    Range,
    StrictModel,
)

# --- valid input sizes ---------------------------------------------------------------

class InputSizesRequest(StrictModel):
    """A concrete design and a range of input sizes to try, per axis."""

    #: The command and the route that take this kind of document.
    command: ClassVar[str] = "input-sizes"

    layers: Annotated[list[Layer], Field(min_length=1, max_length=MAX_LAYERS)]
    in_channels: InputChannels | None = None
    range: Range | Annotated[list[Range], Field(min_length=1, max_length=3)]
    input_size: InputSize | None = None
    round_trip: bool = False
    convention: Convention = DEFAULT_CONVENTION
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0

    @model_validator(mode="after")
    def _defaults(self) -> InputSizesRequest:
        convention_defaults(self.convention, self.layers)
        return self

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{
            "input_size": [500, 500], "range": {"min": 64, "max": 1024}, "round_trip": True,
            "layers": [{"type": "max_pool", "kernel_size": 2}, {"type": "max_pool", "kernel_size": 2},
                       {"type": "upsample", "scale_factor": 4}]}]},
    )


class Nearest(Described):
    """The valid sizes around the one asked for, on one axis."""

    requested: int
    below: int | None
    crop: int | None
    above: int | None
    pad: int | None


class AxisSizes(Described):
    """The valid input sizes of one axis, within the range."""

    axis: int
    count: int
    pattern: str
    sizes: list[int]
    nearest: Nearest | None = None


class InputSizesResponse(Described):
    """Which input sizes the design accepts, per axis."""

    status: Status = Status.COMPLETE
    axes: list[AxisSizes]
    message: str
