"""The layer kinds a document may hold, their fields and defaults."""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from ..rules import KINDS, NORMS, PAD_MODES, UPSAMPLE_MODES, unset
from .values import (
    BoolParam,
    Channels,
    PaddingParam,
    Param,
    Size,
    Size0,
    StrictModel,
    TensorName,
)

#: The layer kinds, as the rules' catalogue names them.
LayerType = unique(StrEnum("LayerType", {name.upper(): name for name in KINDS}))
LayerType.__doc__ = """A layer's kind.  conv: a convolution (torch Conv1d/2d/3d, Keras Conv1D/2D/3D, ONNX
Conv); conv_transpose: a transposed convolution; max_pool and avg_pool: max and average
pooling; upsample: a resize by a scale factor or to a size; adaptive_avg_pool and
adaptive_max_pool: pooling to a given output size; identity: sizes and channels pass
through (an activation, a norm, a dropout); concat: tensors joined along the channels;
add: an element-wise sum; crop: a centre crop to another tensor's size; match: padded,
cropped or interpolated to another tensor's size; pad: an explicit pad (zeros, reflection,
replication, circular); norm: a batch,
instance, group or layer norm (sizes kept, parameters counted); flatten: the sizes into the
channels (every axis 1); linear: a fully connected layer on a flat tensor."""


class _LayerBase(StrictModel):
    name: TensorName | None = None
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
    padding_end: Param | None = None


class ConvTranspose(_Weighted):
    """torch.nn.ConvTranspose1d/2d/3d; keras Conv1D/2D/3DTranspose; ONNX ConvTranspose."""

    type: Literal["conv_transpose"]
    padding: PaddingParam = 0
    padding_end: Param | None = None
    output_padding: Param | None = None
    output_shape: Size | Annotated[list[Size], Field(min_length=1, max_length=3)] | None = None


class _Pool(_LayerBase):
    kernel_size: Param
    stride: Param | None = None
    padding: PaddingParam = 0
    padding_end: Param | None = None
    ceil_mode: BoolParam = False


class MaxPool(_Pool):
    """torch.nn.MaxPool1d/2d/3d; keras MaxPooling1D/2D/3D; ONNX MaxPool."""

    type: Literal["max_pool"]
    dilation: Param = 1


class AvgPool(_Pool):
    """torch.nn.AvgPool1d/2d/3d; keras AveragePooling1D/2D/3D; ONNX AveragePool."""

    type: Literal["avg_pool"]


class Upsample(_LayerBase):
    """torch.nn.Upsample: exactly one of scale_factor and size."""

    type: Literal["upsample"]
    scale_factor: (
        Annotated[float, Field(gt=0, le=1024)]
        | Annotated[list[Annotated[float, Field(gt=0, le=1024)]], Field(min_length=1, max_length=3)]
        | None
    ) = None
    size: Size | Annotated[list[Size], Field(min_length=1, max_length=3)] | None = None
    mode: Literal[UPSAMPLE_MODES] = "nearest"

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


class _Join(StrictModel):
    name: TensorName | None = None
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


class Pad(_LayerBase):
    """torch.nn.ZeroPad/ConstantPad/ReflectionPad/ReplicationPad/CircularPad1d/2d/3d and
    F.pad with fixed amounts; keras ZeroPadding1D/2D/3D: `padding` pixels at the
    beginning of each axis and `padding_end` (default: the same) at its end."""

    type: Literal["pad"]
    padding: Size0 | Annotated[list[Size0], Field(min_length=1, max_length=3)]
    padding_end: Size0 | Annotated[list[Size0], Field(min_length=1, max_length=3)] | None = None
    mode: Literal[PAD_MODES] = "constant"


class Match(_LayerBase):
    """`input` brought to the spatial size of the tensor `to`, whatever its own: padded (or
    cropped, where larger) around its centre, as U-Nets pad the upsampled tensor to the
    skip's size with F.pad (by "pad"), or interpolated to it, as DeepLab resizes its
    logits to the image's size with F.interpolate(x, size=image.shape[-2:]) (by
    "interpolate", with mode)."""

    type: Literal["match"]
    to: TensorName
    by: Literal["pad", "interpolate"] = "pad"
    mode: Literal[UPSAMPLE_MODES] = "nearest"


class Identity(_LayerBase):
    """A layer that keeps sizes and channels: torch.nn.Identity, keras Identity, ONNX
    Identity; also where an activation, a norm or a dropout sits in a design."""

    type: Literal["identity"]


class Norm(_LayerBase):
    """torch.nn.BatchNorm/InstanceNorm1d/2d/3d, GroupNorm, a LayerNorm over the channels;
    keras BatchNormalization, GroupNormalization; ONNX BatchNormalization,
    InstanceNormalization, GroupNormalization: sizes kept, parameters counted."""

    type: Literal["norm"]
    norm: Literal[NORMS] = "batch"
    num_features: Channels | None = None
    num_groups: Channels | None = None
    affine: bool = True
    track_running_stats: bool | None = None

    @model_validator(mode="after")
    def _groups(self) -> Norm:
        if (self.norm == "group") != (self.num_groups is not None):
            raise ValueError("num_groups is for a group norm, and a group norm needs it")
        return self


class Flatten(_LayerBase):
    """torch.nn.Flatten / torch.flatten(x, 1); keras Flatten; ONNX Flatten (axis 1): every
    axis becomes 1 and the channels the product of the channels and sizes."""

    type: Literal["flatten"]


class Linear(_LayerBase):
    """torch.nn.Linear; keras Dense; ONNX Gemm: on a flat tensor (after a flatten, or a
    pool to 1), in_features to out_features."""

    type: Literal["linear"]
    in_features: Channels | None = None
    out_features: Channels
    bias: bool = True


Layer = Annotated[
    Conv | ConvTranspose | MaxPool | AvgPool | Upsample | AdaptiveAvgPool | AdaptiveMaxPool
    | Identity | Norm | Flatten | Linear | Pad | Concat | Add | Crop | Match,
    Field(discriminator="type"),
]

def convention_defaults(convention: str, layers: list[Any]) -> None:
    """Fill in a left-out padding or pool stride where the convention means otherwise
    than the schema's default (see rules.unset): Keras pads 'valid', an ONNX pool's
    stride is 1.  A pool's stride left as None is its kernel size."""
    for layer in layers:
        fields = type(layer).model_fields
        if "padding" in fields and "padding" not in layer.model_fields_set:
            padding = unset("padding", layer.type, convention)
            if padding != layer.padding:
                layer.padding = padding
        if "stride" in fields and layer.stride is None:
            stride = unset("stride", layer.type, convention)
            if stride != "kernel_size":
                layer.stride = stride
