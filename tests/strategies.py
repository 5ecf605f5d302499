"""Hypothesis strategies for convsolve documents: the one place every property test draws from.

Layer strategies take the number of spatial axes and the incoming channel count and
return a layer document (a plain dict, as a user would write it).  They cover invalid
settings as well as valid ones, because PyTorch's rejections are part of the contract;
invalid values are drawn about one time in `rare` (RARE by default, rarer in `stacks`),
so that most layers still reach the size formulas.

>>> from hypothesis import find, settings
>>> same = find(conv_layers(2, channels=4), lambda layer: layer.get("padding") == "same",
...             settings=settings(database=None, derandomize=True))
>>> same["type"], same["padding"], same.get("stride", 1) in (1, [1, 1])
('conv', 'same', True)
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

#: Layer types, in the order of solver.LayerType.
FAMILIES = (
    "conv", "conv_transpose", "max_pool", "avg_pool",
    "upsample", "adaptive_avg_pool", "adaptive_max_pool",
)
UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear")

#: An invalid value is drawn about once in RARE draws.
RARE = 8

Strategy = st.SearchStrategy


def mostly(valid: Strategy[Any], invalid: Strategy[Any], rare: int = RARE) -> Strategy[Any]:
    """`valid` most of the time, `invalid` about once in `rare` draws."""
    return st.integers(1, rare).flatmap(lambda n: invalid if n == rare else valid)


def per_axis(values: Strategy[Any], ndim: int) -> Strategy[Any]:
    """One value for every axis (as PyTorch's `3`) or one per axis (as `(1, 3)`)."""
    return st.one_of(values, st.lists(values, min_size=ndim, max_size=ndim))


def _as_tuple(value: Any, ndim: int) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else (value,) * ndim


def input_sizes(ndim: int, low: int = 1, high: int = 12) -> Strategy[list[int]]:
    return st.lists(st.integers(low, high), min_size=ndim, max_size=ndim)


def kernels(rare: int = RARE) -> Strategy[int]:
    return mostly(st.integers(1, 6), st.just(0), rare)


def strides(rare: int = RARE) -> Strategy[int]:
    return mostly(st.integers(1, 4), st.just(0), rare)


def dilations(rare: int = RARE) -> Strategy[int]:
    return mostly(st.integers(1, 3), st.just(0), rare)


def paddings(rare: int = RARE) -> Strategy[int]:
    return mostly(st.integers(0, 4), st.just(-1), rare)


def _bounded(draw: Any, highs: tuple[int, ...], invalid: Strategy[int], rare: int) -> Any:
    """Mostly 0..highs[a] on axis a: one value for all axes (within the smallest bound)
    or one per axis.  For settings whose valid range depends on others (pool padding)."""
    if draw(st.booleans()):
        return draw(mostly(st.integers(0, max(0, min(highs))), invalid, rare))
    return [draw(mostly(st.integers(0, max(0, h)), invalid, rare)) for h in highs]


def _leave_out(draw: Any, layer: dict[str, Any], *keys: str) -> dict[str, Any]:
    """Drop each optional key about one time in four: a left-out key takes the default,
    and convsolve's defaults must be PyTorch's."""
    for key in keys:
        if key in layer and draw(st.integers(0, 3)) == 0:
            del layer[key]
    return layer


@st.composite
def _channels(draw: Any, channels: int, rare: int) -> dict[str, Any]:
    """groups, in_channels (usually left out) and out_channels of a conv or conv_transpose."""
    divisors = [g for g in range(1, channels + 1) if channels % g == 0]
    groups = draw(mostly(st.sampled_from(divisors), st.sampled_from([0, -1, 2, 3, 4]), rare))
    unit = groups if groups >= 1 else 1
    out_channels = draw(mostly(st.integers(1, 3).map(lambda m: m * unit), st.integers(-1, 6), rare))
    fields: dict[str, Any] = {"groups": groups, "out_channels": out_channels}
    declared = draw(mostly(st.sampled_from(["absent", "same"]), st.just("other"), rare))
    if declared == "same":
        fields["in_channels"] = channels
    elif declared == "other":
        fields["in_channels"] = draw(st.integers(-1, 6))
    return fields


@st.composite
def conv_layers(draw: Any, ndim: int, channels: int, rare: int = RARE) -> dict[str, Any]:
    """torch.nn.ConvNd: numeric padding, or 'same' / 'valid' (even kernels and dilation too)."""
    padding = draw(st.one_of(per_axis(paddings(rare), ndim), st.sampled_from(["same", "valid"])))
    ones = st.one_of(st.just(1), st.just([1] * ndim))
    stride = draw(mostly(ones, per_axis(strides(rare), ndim), rare) if padding == "same"
                  else per_axis(strides(rare), ndim))
    return _leave_out(draw, {
        "type": "conv",
        "kernel_size": draw(per_axis(kernels(rare), ndim)),
        "stride": stride,
        "padding": padding,
        "dilation": draw(per_axis(dilations(rare), ndim)),
        "bias": draw(st.booleans()),
        **draw(_channels(channels, rare)),
    }, "stride", "padding", "dilation", "bias", "groups")


@st.composite
def conv_transpose_layers(draw: Any, ndim: int, channels: int, rare: int = RARE) -> dict[str, Any]:
    """torch.nn.ConvTransposeNd; output_padding mostly below stride or dilation, else 0..3."""
    stride = draw(per_axis(strides(rare), ndim))
    dilation = draw(per_axis(dilations(rare), ndim))
    below = tuple(max(s, d) - 1 for s, d in zip(_as_tuple(stride, ndim), _as_tuple(dilation, ndim)))
    return _leave_out(draw, {
        "type": "conv_transpose",
        "kernel_size": draw(per_axis(kernels(rare), ndim)),
        "stride": stride,
        "padding": draw(per_axis(paddings(rare), ndim)),
        "dilation": dilation,
        "output_padding": _bounded(draw, below, st.integers(-1, 3), rare),
        "bias": draw(st.booleans()),
        **draw(_channels(channels, rare)),
    }, "stride", "padding", "dilation", "output_padding", "bias", "groups")


@st.composite
def _pool_fields(draw: Any, ndim: int, rare: int) -> dict[str, Any]:
    """kernel_size, stride (often left out: it defaults to the kernel), padding, ceil_mode."""
    kernel = draw(per_axis(kernels(rare), ndim))
    half = tuple(k // 2 for k in _as_tuple(kernel, ndim))  # PyTorch's limit on padding
    fields = {
        "kernel_size": kernel,
        "padding": _bounded(draw, half, st.integers(-1, 4), rare),
        "ceil_mode": draw(st.booleans()),
    }
    stride = draw(st.one_of(st.none(), per_axis(strides(rare), ndim)))
    if stride is not None:
        fields["stride"] = stride
    return _leave_out(draw, fields, "padding", "ceil_mode")


@st.composite
def max_pool_layers(draw: Any, ndim: int, channels: int = 1, rare: int = RARE) -> dict[str, Any]:
    fields = draw(_pool_fields(ndim, rare))
    layer = {"type": "max_pool", **fields, "dilation": draw(per_axis(dilations(rare), ndim))}
    return _leave_out(draw, layer, "dilation")


@st.composite
def avg_pool_layers(draw: Any, ndim: int, channels: int = 1, rare: int = RARE) -> dict[str, Any]:
    return {"type": "avg_pool", **draw(_pool_fields(ndim, rare))}


# Scale factors: ints, tenths, and whatever Hypothesis finds between 0.05 and 4.
scale_factors = st.one_of(
    st.integers(1, 4),
    st.integers(1, 40).map(lambda n: n / 10),
    st.floats(0.05, 4.0, allow_nan=False, allow_infinity=False),
)


@st.composite
def upsample_layers(draw: Any, ndim: int, channels: int = 1, rare: int = RARE) -> dict[str, Any]:
    """torch.nn.Upsample by size or by scale_factor; the mode sometimes does not fit ndim."""
    mode = draw(mostly(st.just("nearest"), st.sampled_from(UPSAMPLE_MODES), max(2, rare // 3)))
    if draw(st.booleans()):
        layer = {"type": "upsample", "size": draw(per_axis(st.integers(1, 20), ndim)), "mode": mode}
    else:
        scale = draw(per_axis(scale_factors, ndim))
        layer = {"type": "upsample", "scale_factor": scale, "mode": mode}
    return _leave_out(draw, layer, "mode")


@st.composite
def adaptive_pool_layers(draw: Any, ndim: int, channels: int = 1, rare: int = RARE,
                         ) -> dict[str, Any]:
    """AdaptiveAvgPool / AdaptiveMaxPool; a null entry keeps that axis' size."""
    kind = draw(st.sampled_from(["adaptive_avg_pool", "adaptive_max_pool"]))
    sizes = st.integers(1, 12)
    keep = st.lists(st.one_of(st.none(), sizes), min_size=ndim, max_size=ndim)
    if ndim == 1:  # the 1d pools take an int only: [None] is refused, so drawn rarely
        keep = mostly(per_axis(sizes, 1), keep, rare)
    output_size = draw(st.one_of(per_axis(sizes, ndim), keep))
    return {"type": kind, "output_size": output_size}


LAYERS = {
    "conv": conv_layers,
    "conv_transpose": conv_transpose_layers,
    "max_pool": max_pool_layers,
    "avg_pool": avg_pool_layers,
    "upsample": upsample_layers,
    "adaptive_avg_pool": adaptive_pool_layers,
    "adaptive_max_pool": adaptive_pool_layers,
}


def layers(family: str, ndim: int, channels: int, rare: int = RARE) -> Strategy[dict[str, Any]]:
    """A layer document of one family (both adaptive families draw either adaptive pool)."""
    return LAYERS[family](ndim, channels, rare)


@st.composite
def documents(draw: Any, family: str, ndim: int, rare: int = RARE) -> dict[str, Any]:
    """A one-layer forward document: input size 1..12 per axis, 1..6 input channels."""
    channels = draw(st.integers(1, 6))
    return {
        "input_size": draw(input_sizes(ndim)),
        "in_channels": channels,
        "layers": [draw(layers(family, ndim, channels, rare))],
    }


@st.composite
def stacks(draw: Any, ndim: int, depth: tuple[int, int] = (2, 5), rare: int = 6 * RARE,
           ) -> dict[str, Any]:
    """A forward document of several layers, mostly convs and pools, on a larger input;
    invalid settings are rarer than in one-layer documents, so most stacks run through."""
    channels = draw(st.integers(1, 4))
    document: dict[str, Any] = {
        "input_size": draw(input_sizes(ndim, 6, {1: 40, 2: 20, 3: 10}[ndim])),  # tensors stay small
        "in_channels": channels,
        "layers": [],
    }
    families = st.sampled_from(["conv", "conv", "conv_transpose", "max_pool", "avg_pool",
                                "upsample", "adaptive_avg_pool"])
    for _ in range(draw(st.integers(*depth))):
        layer = draw(layers(draw(families), ndim, channels, rare))
        document["layers"].append(layer)
        if layer["type"] in ("conv", "conv_transpose") and layer["out_channels"] >= 1:
            channels = layer["out_channels"]
    return document


# --- the tensorflow and onnx conventions ----------------------------------------------

#: Padding modes by convention (ints too in onnx: begin pads, `padding_end` the end's).
MODES = {"tensorflow": ("same", "valid"), "onnx": ("same_upper", "same_lower", "valid")}


@st.composite
def convention_layers(draw: Any, convention: str, ndim: int, channels: int) -> dict[str, Any]:
    """A mostly valid layer of a tensorflow or onnx document: convs, transposed convs,
    pools and upsampling as those frameworks write them (no strided dilated Keras conv)."""
    kind = draw(st.sampled_from(["conv", "conv", "conv_transpose", "max_pool", "avg_pool", "upsample",
                                 "adaptive_avg_pool", "adaptive_max_pool"]))
    if kind == "upsample":
        if convention == "onnx":  # Resize: any scale (rounded in float32), "linear" at any rank
            return {"type": "upsample", "mode": draw(st.sampled_from(["nearest", "linear"])),
                    "scale_factor": draw(per_axis(st.integers(3, 40).map(lambda n: n / 10), ndim))}
        modes = ["nearest", "bilinear", "bicubic"] if ndim == 2 else ["nearest"]
        return {"type": "upsample", "mode": draw(st.sampled_from(modes)),
                "scale_factor": draw(per_axis(st.integers(1, 3), ndim))}
    if kind.startswith("adaptive"):  # a global pool
        return {"type": kind, "output_size": 1}
    kernel = draw(per_axis(st.integers(1, 4), ndim))
    stride = draw(per_axis(st.integers(1, 3), ndim))
    layer: dict[str, Any] = {"type": kind, "kernel_size": kernel, "stride": stride}
    if convention == "tensorflow" or draw(st.booleans()):
        layer["padding"] = draw(st.sampled_from(MODES[convention]))
    else:  # explicit pads, below the kernel (ONNX pools insist)
        low = min(_as_tuple(kernel, ndim)) - 1
        layer["padding"] = draw(st.integers(0, low))
        if draw(st.booleans()):
            layer["padding_end"] = draw(st.integers(0, low))
    strided = max(_as_tuple(stride, ndim)) > 1
    if kind in ("conv", "conv_transpose") or (kind == "max_pool" and convention == "onnx"):
        layer["dilation"] = 1 if convention == "tensorflow" and strided else draw(per_axis(st.integers(1, 2), ndim))
    if kind in ("conv", "conv_transpose"):
        layer["out_channels"] = draw(st.integers(1, 3))
    if kind == "conv_transpose" and draw(st.booleans()):
        below = [max(s, d) - 1 if convention == "onnx" else s - 1 for s, d in zip(
            _as_tuple(stride, ndim), _as_tuple(layer["dilation"], ndim), strict=True)]
        layer["output_padding"] = [draw(st.integers(0, b)) for b in below]
    if kind.endswith("pool") and convention == "onnx":
        layer["ceil_mode"] = draw(st.booleans())
    return layer


@st.composite
def convention_stacks(draw: Any, convention: str, ndim: int, depth: tuple[int, int] = (1, 4),
                      ) -> dict[str, Any]:
    """A forward document in a convention; some are refused (too small, TF's checks)."""
    channels = draw(st.integers(1, 3))
    document: dict[str, Any] = {
        "convention": convention, "in_channels": channels, "layers": [],
        "input_size": draw(input_sizes(ndim, 4, {1: 30, 2: 16, 3: 8}[ndim])),
    }
    for _ in range(draw(st.integers(*depth))):
        layer = draw(convention_layers(convention, ndim, channels))
        document["layers"].append(layer)
        channels = layer.get("out_channels", channels)
    return document
