"""The forward document: a stack or graph of concrete layers, and its report."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import ConfigDict, Field, model_validator

from ..rules import DEFAULT_CONVENTION
from .layers import Layer, LayerType, convention_defaults
from .values import (
    MAX_LAYERS,
    Convention,
    Described,
    InputChannels,
    InputSize,
    StrictModel,
)


class ForwardRequest(StrictModel):
    """A stack of layers applied to an input of the given spatial size."""

    #: The command and the route that take this kind of document.
    command: ClassVar[str] = "forward"

    input_size: InputSize
    in_channels: InputChannels | None = None
    layers: Annotated[list[Layer], Field(max_length=MAX_LAYERS)]
    convention: Convention = DEFAULT_CONVENTION

    @model_validator(mode="after")
    def _defaults(self) -> ForwardRequest:
        convention_defaults(self.convention, self.layers)
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


class LayerReport(Described):
    """What one layer does to the tensor."""

    index: int
    name: str | None
    type: LayerType
    input_size: list[int]
    output_size: list[int]
    padding: list[list[int]] | None
    in_channels: int | None
    out_channels: int | None
    params: int | None
    macs: int | None
    receptive_field: list[int | float] | None
    jump: list[int | float] | None


class ForwardResponse(Described):
    """What a forward document's layers do: the sizes, channels and counts of the whole, and a
    report per layer."""

    input_size: list[int]
    output_size: list[int]
    in_channels: int | None
    out_channels: int | None
    params: int | None
    macs: int | None
    receptive_field: list[int | float] | None
    layers: list[LayerReport]
