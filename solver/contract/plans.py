"""The planners' documents: U-Net, ASPP, encoder-decoder; the designs they answer."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import ConfigDict, Field, Strict, model_validator

from ..rules import DEFAULT_CONVENTION
from .solve import Explanation, Objective, Status
from .values import (
    MAX_CHANNELS,
    Convention,
    Described,
    InputSize,
    Param,
    Range,
    StrictModel,
)

# --- planners ------------------------------------------------------------------------

Factor = Annotated[int, Strict(), Field(ge=1, le=16)]
AxisFactor = Factor | Annotated[list[Factor], Field(min_length=1, max_length=3)]


class UNetPlan(StrictModel):
    """A U-Net: `depth` levels down and up, skips joining each level's two sides."""

    #: The command and the route that take this kind of document.
    command: ClassVar[str] = "unet"

    input_size: InputSize
    depth: Annotated[int, Field(ge=1, le=7)] = 4
    in_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 1
    base_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 64
    out_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] | None = None
    convs_per_level: Annotated[int, Field(ge=1, le=4)] = 2
    conv: Literal["same", "valid", "search"] = "same"
    kernel_size: Param = 3
    padding: Param = Field(default_factory=lambda: Range(min=0, max=2))
    down: Literal["max_pool", "avg_pool", "strided_conv"] = "max_pool"
    up: Literal["conv_transpose", "upsample"] = "conv_transpose"
    factor: AxisFactor = 2
    level_factors: Annotated[list[AxisFactor], Field(min_length=1, max_length=7)] | None = None
    skip: Literal["match", "crop"] = "match"
    output_size: InputSize | Literal["same"] | None = "same"
    objective: Objective | Annotated[list[Objective], Field(max_length=8)] | None = None
    limit: Annotated[int, Strict(), Field(ge=0, le=1000)] = 5
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0

    convention: Convention = DEFAULT_CONVENTION

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"input_size": [572, 572], "depth": 4, "conv": "valid", "skip": "crop", "output_size": None},
        {"input_size": [32, 128, 128], "depth": 3, "level_factors": [[1, 2, 2], 2, 2], "base_channels": 32},
    ]})


class ASPPPlan(StrictModel):
    """DeepLab's atrous spatial pyramid pooling: parallel dilated branches that keep the
    bottleneck's size, concatenated."""

    #: The command and the route that take this kind of document.
    command: ClassVar[str] = "aspp"

    bottleneck_size: InputSize | None = None
    input_size: InputSize | None = None
    output_stride: Annotated[int, Field(ge=1, le=64)] | None = None
    rates: Annotated[list[Annotated[int, Field(ge=1, le=512)]], Field(min_length=1, max_length=8)] | Range = Field(
        default_factory=lambda: [6, 12, 18])
    kernel_size: Annotated[int, Field(ge=1, le=15)] = 3
    padding: Range = Field(default_factory=lambda: Range(min=0, max=256))
    in_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 2048
    channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 256
    image_pooling: bool = True
    limit: Annotated[int, Strict(), Field(ge=0, le=1000)] = 5
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0
    convention: Convention = DEFAULT_CONVENTION

    @model_validator(mode="after")
    def _size(self) -> ASPPPlan:
        if (self.bottleneck_size is None) == (self.input_size is None or self.output_stride is None):
            raise ValueError("give bottleneck_size, or input_size and output_stride")
        return self

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"input_size": [513, 513], "output_stride": 16, "rates": [6, 12, 18]},
        {"bottleneck_size": [33, 33], "rates": {"min": 1, "max": 40}},
    ]})


class Level(Described):
    """The sizes at one level of a U-Net."""

    level: int
    encoder: list[int]
    decoder: list[int] | None


class Design(Described):
    """One solution, as a forward document's layers, with what a designer looks at."""

    layers: list[dict[str, Any]]
    input_size: list[int]
    output_size: list[int]
    params: int | None
    levels: list[Level] | None = None
    score: list[int | float] | None = None


class PlanResponse(Described):
    """A planner's designs, ranked and counted, with the solve document it built."""

    status: Status
    count: int | None
    designs: list[Design]
    document: dict[str, Any]
    warnings: list[str] = Field(default_factory=list)
    message: str | None = None
    explanation: Explanation | None = None


class EncoderDecoderPlan(StrictModel):
    """An autoencoder (image -> latent -> image), a GAN generator (latent -> image) or a
    GAN discriminator (image -> latent), in `depth` stages of one searched layer each."""

    #: The command and the route that take this kind of document.
    command: ClassVar[str] = "encoder-decoder"

    kind: Literal["autoencoder", "generator", "discriminator"] = "autoencoder"
    image_size: InputSize
    latent_size: InputSize | Annotated[int, Field(ge=1)] = 1
    depth: Annotated[int, Field(ge=1, le=12)] = 4
    in_channels: Annotated[int, Field(ge=1, le=MAX_CHANNELS)] = 1
    kernel_size: Param = Field(default_factory=lambda: Range(min=1, max=5))
    stride: Param = Field(default_factory=lambda: Range(min=1, max=2))
    padding: Param = Field(default_factory=lambda: Range(min=0, max=2))
    output_padding: Param = Field(default_factory=lambda: Range(min=0, max=1))
    tie: bool = True
    objective: Objective | Annotated[list[Objective], Field(max_length=8)] | None = None
    limit: Annotated[int, Strict(), Field(ge=0, le=1000)] = 10
    time_limit_s: Annotated[float, Field(gt=0, le=3600)] = 10.0

    convention: Convention = DEFAULT_CONVENTION

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "generator", "image_size": [64, 64], "latent_size": 1, "depth": 5, "limit": 50},
        {"kind": "autoencoder", "image_size": [28, 28], "latent_size": 7, "depth": 2},
    ]})
