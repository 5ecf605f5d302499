"""The real torch layers for a convsolve document, built and run on zeros: the ground truth.

`run(document)` builds each layer as the torch module a user would write
(torch.nn.Conv2d, MaxPool3d, Upsample, ...), runs it on `torch.zeros(1, C, *size)` and
reports what came out of every layer, or raises `TorchRejected` with torch's own
message and the index of the layer torch refused.

>>> for layer in run({"input_size": [224, 224], "in_channels": 3, "layers": [
...     {"type": "conv", "kernel_size": 7, "stride": 2, "padding": 3, "out_channels": 64,
...      "bias": False},
...     {"type": "max_pool", "kernel_size": 3, "stride": 2, "padding": 1}]}):
...     print(layer)
TorchLayer(output_size=(112, 112), out_channels=64, params=9408, macs=118013952)
TorchLayer(output_size=(56, 56), out_channels=64, params=0, macs=0)
>>> try:
...     run({"input_size": [5], "layers": [{"type": "max_pool", "kernel_size": 6}]})
... except TorchRejected as exc:
...     print(exc)
layer 0: max_pool1d() Invalid computed output size: 0
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

# The tensors here are tiny: thread start-up would cost 10x the work (measured, 2 cores).
torch.set_num_threads(1)

T = TypeVar("T")

_MODULES: dict[str, tuple[type[nn.Module], ...]] = {
    "conv": (nn.Conv1d, nn.Conv2d, nn.Conv3d),
    "conv_transpose": (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d),
    "max_pool": (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d),
    "avg_pool": (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d),
    "adaptive_avg_pool": (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d),
    "adaptive_max_pool": (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d),
}

#: What torch raises when it refuses a configuration (TypeError: e.g. None in a 1d
#: adaptive pool's output_size; NotImplementedError: an upsample mode for other ndim).
TORCH_ERRORS = (RuntimeError, ValueError, TypeError, NotImplementedError)


class TorchRejected(Exception):  # noqa: N818 - a verdict, as solver.LayerRejected
    """torch refused layer `index`; `message` is the first line of torch's error;
    `ran` holds what came out of the layers before it."""

    def __init__(self, index: int, error: BaseException, ran: list[TorchLayer]) -> None:
        self.index = index
        self.error = error
        self.ran = ran
        self.message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        super().__init__(f"layer {index}: {self.message}")


@dataclass(frozen=True)
class TorchLayer:
    """What came out of one torch layer."""

    output_size: tuple[int, ...]
    out_channels: int
    params: int
    #: Multiply-accumulates: half of what torch's FlopCounterMode counts (0 for pools).
    macs: int


def _arg(value: Any) -> Any:
    """A document value as torch takes it: lists become tuples."""
    return tuple(value) if isinstance(value, list) else value


def build(layer: Mapping[str, Any], ndim: int, channels: int) -> nn.Module:
    """The torch module for one layer document, given the incoming channel count.

    Defaults are torch's own: a key left out of the document is not passed.  May raise
    what torch's constructors raise (e.g. ValueError for groups that do not divide).
    """
    kind = layer["type"]
    if kind == "identity":
        return nn.Identity()
    if kind == "flatten":
        return nn.Flatten()
    if kind == "linear":
        return nn.Linear(layer.get("in_features", channels), layer["out_features"], bias=layer.get("bias", True))
    if kind == "norm":
        return _norm(layer, ndim, layer.get("num_features", channels))
    if kind == "pad":  # F.pad's amounts: the last axis first, (begin, end) each
        begin = _arg(layer["padding"]) if isinstance(layer["padding"], list) else (layer["padding"],) * ndim
        end = layer.get("padding_end", layer["padding"])
        end = tuple(end) if isinstance(end, list) else (end,) * ndim
        pads = tuple(x for a in reversed(range(ndim)) for x in (begin[a], end[a]))
        return _Pad(pads, layer.get("mode", "constant"))
    if kind == "upsample":
        return nn.Upsample(
            size=_arg(layer.get("size")),
            scale_factor=_arg(layer.get("scale_factor")),
            mode=layer.get("mode", "nearest"),
        )
    module = _MODULES[kind][ndim - 1]
    if kind.startswith("adaptive"):
        return module(_arg(layer["output_size"]))
    keys = {
        "conv": ("stride", "padding", "dilation", "groups", "bias"),
        "conv_transpose": ("stride", "padding", "output_padding", "groups", "bias", "dilation"),
        "max_pool": ("stride", "padding", "dilation", "ceil_mode"),
        "avg_pool": ("stride", "padding", "ceil_mode"),
    }[kind]
    kwargs = {key: _arg(layer[key]) for key in keys if key in layer}
    if kind in ("conv", "conv_transpose"):
        in_channels = layer.get("in_channels", channels)
        return module(in_channels, layer["out_channels"], _arg(layer["kernel_size"]), **kwargs)
    return module(_arg(layer["kernel_size"]), **kwargs)


class _Pad(nn.Module):
    """F.pad with fixed amounts and a mode."""

    def __init__(self, pads: tuple[int, ...], mode: str) -> None:
        super().__init__()
        self.pads, self.mode = pads, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.pad(x, self.pads, mode=self.mode)


class LayerNorm2d(nn.LayerNorm):
    """A LayerNorm over the channels of a (N, C, *spatial) tensor, as timm's LayerNorm2d."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)


def _norm(layer: Mapping[str, Any], ndim: int, channels: int) -> nn.Module:
    norm, affine = layer.get("norm", "batch"), layer.get("affine", True)
    track = {"track_running_stats": layer["track_running_stats"]} if "track_running_stats" in layer else {}
    if norm == "group":
        return nn.GroupNorm(layer["num_groups"], channels, affine=affine)
    if norm == "layer":
        return LayerNorm2d(channels, elementwise_affine=affine)
    module = {"batch": (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d),
              "instance": (nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)}[norm][ndim - 1]
    return module(channels, affine=affine, **track)


def exported(code: str, class_name: str = "Net") -> nn.Module:
    """The nn.Module that convsolve's exported code defines, built: the one place the
    tests run generated PyTorch code."""
    namespace: dict[str, Any] = {"__name__": "exported"}
    exec(compile(code, "<exported>", "exec"), namespace)  # noqa: S102 - convsolve's own output
    return namespace[class_name]()  # type: ignore[no-any-return]


def quiet(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) with torch's warnings silenced (pytest turns warnings into errors), e.g.
    "Using padding='same' with even kernel lengths and odd dilation may require a
    zero-padded copy of the input", "Initializing zero-element tensors is a no-op"."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args)


def run_layer(layer: Mapping[str, Any], size: tuple[int, ...], channels: int) -> TorchLayer:
    """Build one layer and run it on zeros(1, channels, *size); raises what torch raises."""
    module = quiet(build, layer, len(size), channels).eval()  # convsolve's norms are in eval mode
    x = torch.zeros(1, channels, *size)
    with torch.no_grad():
        y = quiet(module, x)
        # Counted on a second run: under the counter's dispatch mode torch skips some of
        # its checks (Upsample to size 0 runs), so the first run must be a plain one.
        with FlopCounterMode(display=False) as flops:
            quiet(module, x)
    return TorchLayer(
        output_size=tuple(y.shape[2:]),
        out_channels=int(y.shape[1]),
        params=sum(p.numel() for p in module.parameters()),
        macs=flops.get_total_flops() // 2,
    )


def input_channels(document: Mapping[str, Any]) -> int:
    """The channel count of the input tensor: the document's, else the first layer's, else 1."""
    if document.get("in_channels") is not None:
        return int(document["in_channels"])
    for layer in document["layers"]:
        if "in_channels" in layer:
            return int(layer["in_channels"])
    return 1


def run(document: Mapping[str, Any]) -> list[TorchLayer]:
    """Every layer's output, in order; raises TorchRejected at the first layer torch refuses."""
    size = tuple(document["input_size"])
    channels = input_channels(document)
    results = []
    for index, layer in enumerate(document["layers"]):
        try:
            result = run_layer(layer, size, channels)
        except TORCH_ERRORS as exc:
            raise TorchRejected(index, exc, results) from exc
        results.append(result)
        size, channels = result.output_size, result.out_channels
    return results
