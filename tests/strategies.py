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
    "upsample", "adaptive_avg_pool", "adaptive_max_pool", "identity",
)
UPSAMPLE_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear")

#: An invalid value is drawn about once in RARE draws.
RARE = 8

Strategy = st.SearchStrategy


#: `rare` of a clean document: nothing invalid is drawn at all (see `hostility`).
CLEAN = 1 << 30


def mostly(valid: Strategy[Any], invalid: Strategy[Any], rare: int = RARE) -> Strategy[Any]:
    """`valid` most of the time, `invalid` about once in `rare` draws (never when CLEAN)."""
    if rare >= CLEAN:
        return valid
    return st.integers(1, rare).flatmap(lambda n: invalid if n == rare else valid)


def rarely(rare: int = RARE) -> Strategy[bool]:
    """True about once in `rare` draws (Hypothesis favours the bounds: more often than
    that); never when CLEAN."""
    return st.just(False) if rare >= CLEAN else st.integers(1, rare).map(lambda n: n == rare)


def one_or_each_axis(values: Strategy[Any], ndim: int) -> Strategy[Any]:
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
    padding = draw(st.one_of(one_or_each_axis(paddings(rare), ndim), st.sampled_from(["same", "valid"])))
    ones = st.one_of(st.just(1), st.just([1] * ndim))
    stride = draw(mostly(ones, one_or_each_axis(strides(rare), ndim), rare) if padding == "same"
                  else one_or_each_axis(strides(rare), ndim))
    return _leave_out(draw, {
        "type": "conv",
        "kernel_size": draw(one_or_each_axis(kernels(rare), ndim)),
        "stride": stride,
        "padding": padding,
        "dilation": draw(one_or_each_axis(dilations(rare), ndim)),
        "bias": draw(st.booleans()),
        **draw(_channels(channels, rare)),
    }, "stride", "padding", "dilation", "bias", "groups")


@st.composite
def conv_transpose_layers(draw: Any, ndim: int, channels: int, rare: int = RARE) -> dict[str, Any]:
    """torch.nn.ConvTransposeNd; output_padding mostly below stride or dilation, else 0..3."""
    stride = draw(one_or_each_axis(strides(rare), ndim))
    dilation = draw(one_or_each_axis(dilations(rare), ndim))
    below = tuple(max(s, d) - 1 for s, d in zip(_as_tuple(stride, ndim), _as_tuple(dilation, ndim)))
    return _leave_out(draw, {
        "type": "conv_transpose",
        "kernel_size": draw(one_or_each_axis(kernels(rare), ndim)),
        "stride": stride,
        "padding": draw(one_or_each_axis(paddings(rare), ndim)),
        "dilation": dilation,
        "output_padding": _bounded(draw, below, st.integers(-1, 3), rare),
        "bias": draw(st.booleans()),
        **draw(_channels(channels, rare)),
    }, "stride", "padding", "dilation", "output_padding", "bias", "groups")


@st.composite
def _pool_fields(draw: Any, ndim: int, rare: int) -> dict[str, Any]:
    """kernel_size, stride (often left out: it defaults to the kernel), padding, ceil_mode."""
    kernel = draw(one_or_each_axis(kernels(rare), ndim))
    half = tuple(k // 2 for k in _as_tuple(kernel, ndim))  # PyTorch's limit on padding
    fields = {
        "kernel_size": kernel,
        "padding": _bounded(draw, half, st.integers(-1, 4), rare),
        "ceil_mode": draw(st.booleans()),
    }
    stride = draw(st.one_of(st.none(), one_or_each_axis(strides(rare), ndim)))
    if stride is not None:
        fields["stride"] = stride
    return _leave_out(draw, fields, "padding", "ceil_mode")


@st.composite
def max_pool_layers(draw: Any, ndim: int, channels: int = 1, rare: int = RARE) -> dict[str, Any]:
    fields = draw(_pool_fields(ndim, rare))
    layer = {"type": "max_pool", **fields, "dilation": draw(one_or_each_axis(dilations(rare), ndim))}
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
        layer = {"type": "upsample", "size": draw(one_or_each_axis(st.integers(1, 20), ndim)), "mode": mode}
    else:
        scale = draw(one_or_each_axis(scale_factors, ndim))
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
        keep = mostly(one_or_each_axis(sizes, 1), keep, rare)
    output_size = draw(st.one_of(one_or_each_axis(sizes, ndim), keep))
    return {"type": kind, "output_size": output_size}


LAYERS = {
    "conv": conv_layers,
    "conv_transpose": conv_transpose_layers,
    "max_pool": max_pool_layers,
    "avg_pool": avg_pool_layers,
    "upsample": upsample_layers,
    "adaptive_avg_pool": adaptive_pool_layers,
    "identity": lambda ndim, channels, rare: st.just({"type": "identity"}),
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
                    "scale_factor": draw(one_or_each_axis(st.integers(3, 40).map(lambda n: n / 10), ndim))}
        modes = ["nearest", "bilinear", "bicubic"] if ndim == 2 else ["nearest"]
        return {"type": "upsample", "mode": draw(st.sampled_from(modes)),
                "scale_factor": draw(one_or_each_axis(st.integers(1, 3), ndim))}
    if kind.startswith("adaptive"):  # a global pool
        return {"type": kind, "output_size": 1}
    kernel = draw(one_or_each_axis(st.integers(1, 4), ndim))
    stride = draw(one_or_each_axis(st.integers(1, 3), ndim))
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
        layer["dilation"] = 1 if convention == "tensorflow" and strided else draw(one_or_each_axis(st.integers(1, 2), ndim))
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


# --- hostile documents ------------------------------------------------------------------
#
# Adversarial but mostly valid documents for every front door (tests/hostile/): every
# field is mostly a sane value and about one time in `rare` something hostile: a number
# at or past a bound, a huge or reversed domain, a wrong type, a long or unicode name, a
# dangling reference.  Two documents in three are clean (`hostility`): no hostile value,
# only what is valid but unusual (joins, ties, named targets, groups, several input
# sizes), so that most documents reach the engines, which is where the bugs are.  A few
# templates push one dimension to its extreme (EXTREMES).  The documents are plain JSON
# data, except deep nesting: see `nested`.

CONVENTIONS = ("pytorch", "tensorflow", "onnx")
#: Every padding mode of any convention: a mode of another convention must be refused.
ALL_MODES = ("same", "valid", "same_upper", "same_lower")
#: Sane values of the searchable fields: most documents stay in these.
SANE = {"kernel_size": (1, 5), "stride": (1, 3), "padding": (0, 3), "padding_end": (0, 2),
        "dilation": (1, 3), "output_padding": (0, 1)}
#: Numbers at and past the document's bounds (parameters 2**16, sizes 2**20) and far past.
EXTREME_INTS = (0, -1, 2, 65535, 65536, 65537, -65536, -65537, 2**20, 2**20 + 1, 2**31, 2**64,
                10**30, -(10**30))
#: Values of the wrong type where a number (or a domain) is expected.
WRONG_TYPES = (None, "3", "", 3.5, 1e300, float("inf"), float("nan"), True, False, [], {}, [[1]],
               {"min": 1}, {"max": 3}, {"choices": []}, {"min": 1, "max": 2, "step": 1}, ["same"], "SAME")
#: Hostile names (200 characters is the limit): long, unicode, reserved, empty, odd.
HOSTILE_NAMES = ("n" * 200, "m" * 201, "卷积层", "couche_é", "🙂" * 50, "input", "", " ", "a.b", "0",
                 "x", "layers", "forward", "__init__", "null", "\u0000", "a\nb", "l0", "class")
#: The parameters a tie may share, by layer type.
TIEABLE = {"conv": ("kernel_size", "stride", "padding", "dilation"),
           "conv_transpose": ("kernel_size", "stride", "padding", "dilation", "output_padding"),
           "max_pool": ("kernel_size", "stride", "padding", "dilation", "ceil_mode"),
           "avg_pool": ("kernel_size", "stride", "padding", "ceil_mode")}
#: The layer types that take a padding mode, by convention.
MODE_KINDS = {"pytorch": ("conv",), "tensorflow": ("conv", "conv_transpose", "max_pool", "avg_pool"),
              "onnx": ("conv", "conv_transpose", "max_pool", "avg_pool")}
GOALS = ("fewest_params", "fewest_macs", "least_padding", "smallest_kernels", "smallest_dilation",
         "largest_receptive_field")
PREFERABLE = ("kernel_size", "stride", "padding", "padding_end", "dilation", "output_padding")


def hostility(rare: int) -> Strategy[int]:
    """A document's `rare`: hostile one time in three, else clean, so that most documents
    are read and reach the engines (a document of many fields, each hostile one time in
    `rare`, would almost always be refused for one of them)."""
    return st.sampled_from([rare, CLEAN, CLEAN])


def hostile(valid: Strategy[Any], rare: int = RARE) -> Strategy[Any]:
    """`valid` mostly; else an extreme number (two times in three) or a wrong type."""
    return mostly(valid, mostly(st.sampled_from(EXTREME_INTS), st.sampled_from(WRONG_TYPES), 3), rare)


def hostile_ints(field: str, rare: int = RARE) -> Strategy[Any]:
    return hostile(st.integers(*SANE[field]), rare)


@st.composite
def hostile_ranges(draw: Any, field: str, rare: int = RARE) -> dict[str, Any]:
    """{"min", "max"}: mostly a few sane values; else huge, negative, reversed or at the
    domain limit (4096 values are searched at most)."""
    lo, hi = SANE[field]
    a = draw(st.integers(lo, hi))
    sane = st.just({"min": a, "max": a + draw(st.integers(0, 3))})
    wild = st.sampled_from([
        {"min": lo, "max": 65536}, {"min": -65536, "max": 65536}, {"min": 5, "max": 2},
        {"min": lo, "max": lo + 4095}, {"min": lo, "max": lo + 4096}, {"min": 0, "max": 0},
        {"min": -3, "max": 3}, {"min": 65530, "max": 65536}, {"min": lo, "max": 2**20},
    ])
    return draw(mostly(sane, wild, rare))


@st.composite
def hostile_choices(draw: Any, field: str, convention: str, kind: str = "conv", rare: int = RARE,
                    ) -> dict[str, Any]:
    """{"choices": [...]}: mostly a few sane values (and padding modes, where the layer
    takes them); else 10**30, duplicates, refused values, mixed types, an empty list or
    one past 1024 entries."""
    lo, hi = SANE[field]
    pool = list(range(max(0, lo - 1), hi + 1))
    if field == "padding" and kind in MODE_KINDS[convention]:
        pool += list(MODES.get(convention, ("same", "valid")))
    sane = st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True)
    wild = st.sampled_from([
        [10**30, 3], [3, 3, 3], [0, -1], [65536, 1], [1, "2"], [True, 1], [], list(range(1, 1026)),
        ["same", 0], ["same_upper", "valid"], [None], [1.5], [2**20, 2**31], list(range(1, 1025)),
    ])
    return {"choices": draw(mostly(sane, wild, rare))}


@st.composite
def hostile_params(draw: Any, field: str, ndim: int, convention: str, search: bool, kind: str = "conv",
                   rare: int = RARE) -> Any:
    """A value of a searchable field: an int or one per axis, a padding mode (one for
    every axis); in a solve document (`search`) also a range, choices, or one domain per
    axis.  Hostile: extremes, wrong types, a mode where none is taken, a wrong length."""
    if field == "ceil_mode":
        return draw(mostly(st.sampled_from([False, True, {"choices": [False, True]}] if search else [False, True]),
                           st.sampled_from([0, 1, "yes", None, {"choices": [0, 1]}, {"min": 0, "max": 1}]),
                           rare))
    one = hostile_ints(field, rare)
    if search:
        one = st.one_of(one, hostile_ranges(field, rare), hostile_choices(field, convention, kind, rare))
    if field == "padding" and (kind in MODE_KINDS[convention] or draw(rarely(rare))):
        modes = MODES.get(convention, ("same", "valid"))
        mode = mostly(st.sampled_from(modes), st.sampled_from(ALL_MODES), rare)
        if search:
            mode = st.one_of(mode, st.lists(st.sampled_from(modes), min_size=1, max_size=2, unique=True).map(
                lambda c: {"choices": c}))
        if convention == "tensorflow" or draw(st.booleans()):  # Keras pads by mode only
            return draw(mostly(mode, one, rare))
    # Per axis: ndim entries, rarely one too many or too few.
    length = draw(mostly(st.just(ndim), st.sampled_from([max(1, ndim - 1), ndim + 1, 4, 0]), 2 * rare))
    if draw(st.integers(0, 3)) == 0:
        return [draw(one) for _ in range(length)]
    return draw(one)


def _names_pick(names: list[str], rare: int) -> Strategy[str]:
    """A tensor to read: one named before (or the input), rarely a name nobody has."""
    return mostly(st.sampled_from(["input", *names]), st.sampled_from(["nope", "l99", *HOSTILE_NAMES]), rare)


def _has_mode(value: Any) -> bool:
    """Whether a padding value (or domain) holds a padding mode."""
    if isinstance(value, dict):
        return any(isinstance(c, str) for c in value.get("choices") or [])
    return isinstance(value, str) or (isinstance(value, list) and any(map(_has_mode, value)))


@st.composite
def hostile_layers(draw: Any, kind: str, ndim: int, convention: str, names: list[str], search: bool,
                   rare: int = RARE) -> dict[str, Any]:
    """One layer of any type, as the convention writes it; `names` are the tensors
    before it (for joins and `input`)."""
    layer: dict[str, Any] = {"type": kind}

    def maybe(field: str, odds: int = 2) -> None:  # the field, drawn one time in `odds`
        if draw(st.integers(1, odds)) == 1:
            layer[field] = draw(hostile_params(field, ndim, convention, search, kind, rare))

    if kind in ("concat", "add"):
        picks = st.lists(_names_pick(names, rare), min_size=2, max_size=3)
        layer["inputs"] = draw(mostly(picks, st.sampled_from([[], ["input"], ["input"] * 65]), 2 * rare))
        return layer
    if kind == "crop":
        layer["to"] = draw(_names_pick(names, rare))
        if draw(st.booleans()):
            layer["input"] = draw(_names_pick(names, rare))
        return layer
    if kind in ("conv", "conv_transpose", "max_pool", "avg_pool"):
        layer["kernel_size"] = draw(hostile_params("kernel_size", ndim, convention, search, kind, rare))
        dilated = kind in ("conv", "conv_transpose") or (kind == "max_pool" and convention != "tensorflow")
        for field, odds in (("stride", 2), ("padding", 2), ("dilation", 3)):
            if field != "dilation" or dilated or draw(rarely(rare)):
                maybe(field, odds)
        # ONNX's end pads, beside an int padding; elsewhere rarely, to be refused.
        if (convention == "onnx" and not _has_mode(layer.get("padding")) and draw(st.integers(0, 2)) == 0) \
                or draw(rarely(4 * rare)):
            layer["padding_end"] = draw(hostile_params("padding_end", ndim, convention, search, kind, rare))
    if kind in ("conv", "conv_transpose"):
        layer["out_channels"] = draw(mostly(st.integers(1, 8), st.sampled_from([0, -1, 2**20, 2**20 + 1]), rare))
        grouped = kind == "conv" or convention != "tensorflow"  # Keras' transposed convs have no groups
        if (grouped or draw(rarely(rare))) and draw(st.integers(0, 5)) == 0:  # groups may not divide
            layer["groups"] = draw(mostly(st.sampled_from([1, 2, 3, 4]), st.sampled_from([0, -1, 2**20]), rare))
        if draw(rarely(2 * rare)):
            layer["in_channels"] = draw(st.sampled_from([1, 2, 3, 0, -1]))
        if draw(st.integers(0, 5)) == 0:
            layer["bias"] = draw(mostly(st.booleans(), st.sampled_from(["no", 0, None]), rare))
    if kind == "conv_transpose":
        maybe("output_padding", 2)
        if (convention == "onnx" and draw(st.integers(0, 5)) == 0) or draw(rarely(2 * rare)):
            layer["output_shape"] = draw(one_or_each_axis(st.integers(1, 40), ndim))  # ONNX's
    if kind in ("max_pool", "avg_pool"):
        maybe("ceil_mode", 3)
    if kind == "upsample":
        if draw(rarely(2 * rare)):  # both or neither: refused
            layer |= draw(st.sampled_from([{}, {"size": 4, "scale_factor": 2}]))
        elif draw(st.booleans()):
            sizes = mostly(st.integers(1, 64), st.sampled_from([2**20, 2**20 + 1, 0, -1, 1.5]), rare)
            layer["size"] = draw(one_or_each_axis(sizes, ndim))
        else:
            sane = [1, 2, 3] if convention == "tensorflow" else [1, 2, 3, 0.5, 1.5, 2.5]
            scales = mostly(st.sampled_from(sane), st.sampled_from([1024, 1023.99, 1e-3, 1e-9, 0, -1, 1025,
                                                                    float("nan"), float("inf"), "2", 1 / 3]), rare)
            layer["scale_factor"] = draw(one_or_each_axis(scales, ndim))
        if draw(st.booleans()):
            modes = {"pytorch": ["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim]],
                     "tensorflow": ["nearest"] + (["bilinear"] if ndim == 2 else []),
                     "onnx": ["nearest", "linear"]}[convention]
            layer["mode"] = draw(mostly(st.sampled_from(modes), st.sampled_from(UPSAMPLE_MODES + ("area", "NEAREST")),
                                        rare))
    if kind.startswith("adaptive"):
        sizes = mostly(st.integers(1, 8) if convention == "pytorch" else st.just(1),
                       st.sampled_from([0, 2, 2**20, 2**20 + 1]), rare)
        layer["output_size"] = draw(st.one_of(sizes, st.lists(mostly(sizes, st.none(), 3), min_size=ndim,
                                                               max_size=ndim)))
    if draw(st.integers(0, 4)) == 0:  # read another tensor than the layer before
        layer["input"] = draw(_names_pick(names, rare))
    return layer


#: Layer types, weighted towards the searchable ones, and joins.
HOSTILE_KINDS = ("conv", "conv", "conv", "conv_transpose", "conv_transpose", "max_pool", "avg_pool",
                 "upsample", "adaptive_avg_pool", "adaptive_max_pool", "concat", "add", "crop")


@st.composite
def hostile_stacks(draw: Any, ndim: int, convention: str, search: bool, depth: tuple[int, int] = (1, 5),
                   rare: int = RARE) -> list[dict[str, Any]]:
    """Layers, mostly named l0, l1, ... (so joins, ties and targets can name them);
    sometimes unnamed, rarely with a hostile or a duplicate name."""
    layers: list[dict[str, Any]] = []
    names: list[str] = []
    for index in range(draw(st.integers(*depth))):
        kind = draw(st.sampled_from(HOSTILE_KINDS if names else HOSTILE_KINDS[:10]))
        layer = draw(hostile_layers(kind, ndim, convention, names, search, rare))
        name = draw(mostly(st.sampled_from([f"l{index}"] * 4 + [None]),
                           st.sampled_from([*HOSTILE_NAMES, *names[-1:]]), rare))
        if name is not None:
            layer["name"] = name
            names.append(name)
        layers.append(layer)
    return layers


def _input_size(ndim: int, rare: int) -> Strategy[Any]:
    """Sizes 1..64 per axis; rarely at the limit (2**20), past it, 0, or of the wrong length."""
    size = mostly(st.integers(1, 64), st.sampled_from([1, 2**20, 2**20 - 1, 2**20 + 1, 0, -1, 65536]), rare)
    good = st.lists(size, min_size=ndim, max_size=ndim)
    return mostly(good, st.sampled_from([[], [8] * 4, 8, "8", [8.0] * ndim, [[8]] * ndim]), 4 * rare)


@st.composite
def hostile_targets(draw: Any, ndim: int, rare: int = RARE) -> Any:
    """A target: sizes, "input", a range for all axes or per axis, or something wrong."""
    size = st.integers(1, 64)
    per = st.one_of(size, st.integers(1, 60).map(lambda a: {"min": a, "max": a + 4}))
    return draw(mostly(
        st.one_of(st.just("input"), size, st.lists(per, min_size=ndim, max_size=ndim),
                  st.integers(1, 60).map(lambda a: {"min": a, "max": a + 8})),
        st.sampled_from([0, 2**20, 2**20 + 1, "same", {"min": 9, "max": 3}, [1] * (ndim + 1), None,
                         {"min": 1, "max": 2**20}, [{"min": 1, "max": 2**20}] * ndim]), rare))


def _witness(layers: list[dict[str, Any]], size: Any, convention: str, ndim: int) -> Any:
    """The output of one concrete setting drawn from the domains (the lowest value of
    each), so that a target aimed at it makes a feasible-looking problem; None if forward
    refuses that setting or the document is too broken to tell."""
    import solver

    def lowest(v: Any) -> Any:
        if isinstance(v, list):
            return [lowest(x) for x in v]
        if isinstance(v, dict) and "min" in v:
            return v["min"]
        if isinstance(v, dict) and v.get("choices"):
            return v["choices"][0]
        return v

    concrete = [{k: lowest(v) for k, v in layer.items()} for layer in layers]
    try:
        return solver.forward({"input_size": size, "layers": concrete, "convention": convention}).output_size
    except Exception:  # noqa: BLE001 - a refused or broken witness: the caller draws another target
        return None


@st.composite
def hostile_objectives(draw: Any, rare: int = RARE) -> Any:
    goal = st.one_of(st.sampled_from(GOALS), st.builds(
        lambda f, v: {"prefer": {f: v}}, st.sampled_from(PREFERABLE), st.integers(-2, 4)))
    return draw(mostly(st.one_of(goal, st.lists(goal, min_size=1, max_size=3)),
                       st.sampled_from(["fastest", [], [GOALS[0]] * 9, {"prefer": {}},
                                        {"prefer": {"groups": 1}}, {"prefer": {"stride": 10**30}}, 3]), rare))


def _time_limits(rare: int) -> Strategy[Any]:
    """Small time limits (0.05 to 1 s); rarely refused ones."""
    return mostly(st.sampled_from([0.05, 0.1, 0.2, 0.3, 0.5, 1, 1.0]),
                  st.sampled_from([0, -1, 1e-9, "1", None, 3601, float("inf"), float("nan")]), rare)


#: Templates that push one dimension to its extreme; each takes (ndim, convention).
def _exploding(ndim: int, convention: str) -> dict[str, Any]:
    """64 transposed convs of stride 65536 then an upsample: sizes of 2**1000 and more."""
    return {"input_size": [2] * ndim, "target_size": [4] * ndim, "convention": convention,
            "layers": [{"type": "conv_transpose", "kernel_size": 1, "stride": 65536}] * 64
            + [{"type": "upsample", "scale_factor": 2}]}


def _scaling(ndim: int, convention: str) -> dict[str, Any]:
    """Upsampling by 1024 again and again, then pooled back down."""
    return {"input_size": [3] * ndim, "target_size": [3] * ndim, "convention": convention,
            "layers": [{"type": "upsample", "scale_factor": 1024}] * 8
            + [{"type": "max_pool", "kernel_size": {"choices": [1024, 65536]}}] * 8}


def _pads(convention: str, pixels: dict[str, Any]) -> Any:
    """A padding domain as the convention takes it: `pixels`, or Keras' two modes."""
    return {"choices": ["same", "valid"]} if convention == "tensorflow" else pixels


def _huge_domains(ndim: int, convention: str) -> dict[str, Any]:
    """Every parameter over 4096 values, on a large input."""
    free = {"kernel_size": {"min": 1, "max": 4096}, "stride": {"min": 1, "max": 4096},
            "padding": _pads(convention, {"min": 0, "max": 4095})}
    return {"input_size": [2**20 - 1] * ndim, "target_size": [3] * ndim, "convention": convention,
            "layers": [{"type": "conv", **free}, {"type": "max_pool", **free}, {"type": "conv", **free}]}


def _wide_padding(ndim: int, convention: str) -> dict[str, Any]:
    """Large padding domains on several layers of a 2d or 3d input."""
    free = {"kernel_size": {"min": 1, "max": 7}, "padding": _pads(convention, {"min": 0, "max": 2000}),
            "stride": {"min": 1, "max": 3}}
    return {"input_size": [512] * ndim, "target_size": "input", "convention": convention,
            "layers": [{"type": "conv", **free}] * 4}


def _big_kernel(ndim: int, convention: str) -> dict[str, Any]:
    """Kernel and dilation 65536, padding a mode or zero."""
    padding = {"choices": [{"pytorch": "same", "tensorflow": "valid", "onnx": "same_upper"}[convention],
                           "same" if convention == "tensorflow" else 0]}
    return {"input_size": [8] * ndim, "target_size": [8] * ndim, "convention": convention,
            "layers": [{"type": "conv", "kernel_size": 65536, "dilation": 65536, "padding": padding}]}


def _deep(ndim: int, convention: str) -> dict[str, Any]:
    """As many layers as the limit allows, each searched."""
    from solver.contract.values import MAX_LAYERS

    layer = {"type": "conv", "kernel_size": {"choices": [1, 3]}, "padding": _pads(convention, {"min": 0, "max": 1})}
    return {"input_size": [64] * ndim, "target_size": "input", "convention": convention,
            "layers": [layer] * MAX_LAYERS}


def _searched(convention: str) -> dict[str, Any]:
    """A conv's searched kernel, stride and padding (a mode in tensorflow)."""
    return {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2},
            "padding": _pads(convention, {"min": 0, "max": 3})}


def _unet_search(ndim: int, convention: str) -> dict[str, Any]:
    """A depth-5 U-Net searched whole: skips joined by concat, the convs tied."""
    free, layers = _searched(convention), []
    for d in range(5):
        layers += [{"name": f"e{d}", "type": "conv", **free, "stride": 1},
                   {"name": f"p{d}", "type": "max_pool", "kernel_size": {"min": 1, "max": 3}}]
    layers.append({"name": "m", "type": "conv", **free, "stride": 1})
    for d in reversed(range(5)):
        layers += [{"name": f"u{d}", "type": "conv_transpose", **free},
                   {"name": f"c{d}", "type": "concat", "inputs": [f"e{d}", f"u{d}"]},
                   {"name": f"d{d}", "type": "conv", **free, "stride": 1}]
    convs = [f"e{d}" for d in range(5)] + [f"d{d}" for d in range(5)]
    return {"input_size": [256] * ndim, "target_size": "input", "convention": convention, "layers": layers,
            "ties": [{"layers": convs, "params": ["kernel_size", "padding"]}]}


def _many_inputs(ndim: int, convention: str) -> dict[str, Any]:
    """Sixteen input sizes (the limit), one round-trip design of 8 searched layers for all."""
    free = _searched(convention)
    return {"input_sizes": [[s] * ndim for s in range(64, 192, 8)], "target_size": "input",
            "convention": convention,
            "layers": [{"type": "conv", **free}] * 4 + [{"type": "conv_transpose", **free}] * 4}


def _big_layers(ndim: int, convention: str) -> dict[str, Any]:
    """Four layers of about 30,000 settings each, aimed at a size they may not reach (the
    explanation and its repairs search too)."""
    layer = {"type": "conv", "kernel_size": {"min": 1, "max": 32}, "stride": {"min": 1, "max": 8},
             "padding": {"min": 0, "max": 31}, "dilation": {"min": 1, "max": 4}}
    if convention == "tensorflow":  # Keras: padding by mode, no stride with a dilation
        layer = {**layer, "padding": _pads(convention, {}), "dilation": 1}
    return {"input_size": [1023] * ndim, "target_size": [1] + [1000] * (ndim - 1), "convention": convention,
            "layers": [layer] * 4}


def _million_settings(ndim: int, convention: str) -> dict[str, Any]:
    """Three layers of about a million settings each (just under the limit) on an input
    of 2**20 - 1: wide levels of sizes."""
    layer = {"type": "conv", "kernel_size": {"min": 1, "max": 4096}, "stride": {"min": 1, "max": 244 // ndim}}
    if convention == "tensorflow":
        layer["padding"] = "valid"
    return {"input_size": [2**20 - 1] * ndim, "target_size": [3] * ndim, "convention": convention,
            "layers": [layer] * 3}


EXTREMES = (_exploding, _scaling, _huge_domains, _wide_padding, _big_kernel, _deep, _unet_search, _many_inputs,
            _big_layers, _million_settings)


@st.composite
def hostile_solve_documents(draw: Any, rare: int = RARE) -> dict[str, Any]:
    """A solve document in any convention, 1 to 3 axes: domains, ties, named targets,
    joins, several input sizes, objectives, small time limits, and rarely an extreme
    template or a broken field."""
    rare = draw(hostility(rare))
    convention = draw(st.sampled_from(CONVENTIONS))
    ndim = draw(st.integers(1, 3))
    limit = draw(mostly(st.integers(0, 20), st.sampled_from([10_000, 10_001, -1, "5", 2.0]), rare))
    time_limit = draw(_time_limits(rare))
    if draw(rarely(2 * rare)):
        doc = draw(st.sampled_from(EXTREMES))(ndim, convention)
        return doc | {"limit": limit, "time_limit_s": time_limit}
    layers = draw(hostile_stacks(ndim, convention, search=True, rare=rare))
    doc: dict[str, Any] = {"convention": convention, "layers": layers, "limit": limit, "time_limit_s": time_limit}
    size = draw(_input_size(ndim, rare))
    if draw(st.integers(0, 4)) == 0:  # several input sizes; rarely more than 16
        doc["input_sizes"] = [size] + draw(st.lists(_input_size(ndim, 4 * rare), min_size=1,
                                                   max_size=draw(mostly(st.just(3), st.just(17), rare))))
        if draw(rarely(4 * rare)):
            doc["input_size"] = size  # both: refused
    else:
        doc["input_size"] = size
    # The last layer's target: mostly aimed at a setting's output, else random, "input", absent.
    witness = _witness(layers, size, convention, ndim) if draw(st.booleans()) else None
    target = witness if witness is not None else draw(hostile_targets(ndim, rare))
    if draw(st.integers(0, 5)):
        doc["target_size"] = target
    named = [(i, layer["name"]) for i, layer in enumerate(layers) if isinstance(layer.get("name"), str)]
    names = [name for _, name in named]
    inner = [name for i, name in named if i < len(layers) - 1]  # not the last layer, which target_size sets
    if draw(st.integers(0, 2)) == 0 and (inner or rare < CLEAN):  # named targets
        wrong = st.sampled_from([*names, "input", "nope", *HOSTILE_NAMES])  # the last, the input, unknown
        keys = mostly(st.sampled_from(inner), wrong, rare) if inner else wrong
        doc["targets"] = draw(st.dictionaries(keys, hostile_targets(ndim, rare), min_size=1, max_size=3))
    if len(named) > 1 and draw(st.integers(0, 2)) == 0:  # ties: a parameter both layers have
        a, b = draw(st.lists(st.sampled_from(named), min_size=2, max_size=2, unique=True))
        shared = [f for f in TIEABLE.get(layers[a[0]]["type"], ()) if f in TIEABLE.get(layers[b[0]]["type"], ())]
        members = [mostly(st.just(m), st.sampled_from([0, 1, 99, "nope", -1]), rare) for m in (a[1], b[1])]
        wrong = st.sampled_from([*PREFERABLE, "ceil_mode"])  # a parameter a layer may not have
        param = mostly(st.sampled_from(shared), wrong, rare) if shared else wrong
        params = st.lists(param, min_size=1, max_size=2, unique=True)
        if shared or rare < CLEAN:
            doc["ties"] = [{"layers": [draw(m) for m in members], "params": draw(params)}]
    if draw(st.booleans()):
        doc["objective"] = draw(hostile_objectives(rare))
    if draw(st.booleans()):  # the channels that ranking by parameters or MACs needs
        doc["in_channels"] = draw(mostly(st.integers(1, 8), st.sampled_from([0, -1, 2**20, 2**21]), rare))
    if draw(rarely(2 * rare)):
        doc[draw(st.sampled_from(["cursor", "unknown", "target"]))] = draw(
            st.sampled_from(["junk", "0", "x" * 201, 5, None]))
    return doc


@st.composite
def hostile_forward_documents(draw: Any, convention: str | None = None, rare: int = RARE) -> dict[str, Any]:
    """A forward document (concrete values only, joins and wiring included)."""
    rare = draw(hostility(rare))
    convention = convention or draw(st.sampled_from(CONVENTIONS))
    ndim = draw(st.integers(1, 3))
    if draw(rarely(2 * rare)):  # sizes past every float: 64 transposed convs of stride 65536
        return {k: v for k, v in _exploding(ndim, convention).items() if k != "target_size"}
    doc: dict[str, Any] = {"convention": convention, "input_size": draw(_input_size(ndim, rare)),
                           "layers": draw(hostile_stacks(ndim, convention, search=False, rare=rare))}
    if draw(st.booleans()):
        doc["in_channels"] = draw(mostly(st.integers(1, 8), st.sampled_from([0, -1, 2**20]), rare))
    return doc


@st.composite
def hostile_input_sizes_documents(draw: Any, rare: int = RARE) -> dict[str, Any]:
    """An input-sizes request: a design and a range of sizes per axis (up to 16384, the
    limit, and past it), the size one has, round trips."""
    rare = draw(hostility(rare))
    convention = draw(st.sampled_from(CONVENTIONS))
    ndim = draw(st.integers(1, 3))
    if draw(rarely(2 * rare)):  # 60 layers, 16384 sizes on each of 3 axes
        return {"convention": convention, "range": {"min": 1, "max": 16384}, "input_size": [500] * 3,
                "round_trip": draw(st.booleans()), "time_limit_s": draw(_time_limits(rare)),
                "layers": [{"type": "conv", "kernel_size": 3, "padding": 1}] * 60}
    lo = draw(st.integers(1, 64))
    span = st.integers(0, 256).map(lambda n: {"min": lo, "max": lo + n})
    one = mostly(span, st.sampled_from([{"min": 1, "max": 16384}, {"min": 1, "max": 16385},
                                        {"min": 0, "max": 10}, {"min": 2**20 - 10, "max": 2**20},
                                        {"min": 9, "max": 3}]), rare)
    doc: dict[str, Any] = {"convention": convention, "layers": draw(hostile_stacks(ndim, convention, search=False,
                                                                                   rare=rare)),
                           "range": draw(st.one_of(one, st.lists(one, min_size=ndim, max_size=ndim)))}
    if draw(st.booleans()):
        doc["input_size"] = draw(_input_size(ndim, rare))
    if draw(st.booleans()):
        doc["round_trip"] = True
    if draw(st.integers(0, 3)) == 0:
        doc["in_channels"] = draw(st.integers(1, 4))
    doc["time_limit_s"] = draw(_time_limits(rare))
    return doc


def _plan_param(field: str, rare: int) -> Strategy[Any]:
    return st.one_of(hostile_ints(field, rare), hostile_ranges(field, rare),
                     hostile_choices(field, "pytorch", "conv", rare))


@st.composite
def hostile_plans(draw: Any, rare: int = RARE) -> tuple[str, dict[str, Any]]:
    """("unet" | "aspp" | "autoencoder", plan): the planners' documents, hostile."""
    rare = draw(hostility(rare))
    kind = draw(st.sampled_from(["unet", "aspp", "autoencoder"]))
    convention = draw(st.sampled_from(CONVENTIONS))
    ndim = draw(st.integers(1, 3))
    size = draw(mostly(st.lists(st.integers(8, 600), min_size=ndim, max_size=ndim), _input_size(ndim, 1), rare))
    plan: dict[str, Any] = {"convention": convention}
    optional: dict[str, Strategy[Any]] = {
        "limit": mostly(st.integers(0, 10), st.sampled_from([1000, 1001, -1]), rare)}
    if kind == "unet":
        plan["input_size"] = size
        factor = mostly(st.integers(1, 4), st.sampled_from([16, 17, 0]), rare)
        optional |= {
            "depth": mostly(st.integers(1, 5), st.sampled_from([6, 7, 8, 0]), rare),
            "conv": mostly(st.sampled_from(["same", "valid", "search"]), st.just("full"), rare),
            "kernel_size": _plan_param("kernel_size", rare), "padding": _plan_param("padding", rare),
            "down": st.sampled_from(["max_pool", "avg_pool", "strided_conv"]),
            "up": st.sampled_from(["conv_transpose", "upsample"]),
            "factor": one_or_each_axis(factor, ndim),
            "level_factors": st.lists(one_or_each_axis(factor, ndim), min_size=1, max_size=7),
            "skip": st.sampled_from(["match", "crop"]),
            "output_size": st.one_of(st.just("same"), st.none(), _input_size(ndim, rare)),
            "convs_per_level": mostly(st.integers(1, 3), st.just(5), rare),
            "base_channels": mostly(st.integers(1, 64), st.just(2**20), rare),
            "out_channels": st.integers(1, 4),
            "objective": hostile_objectives(rare), "time_limit_s": _time_limits(rare),
        }
    elif kind == "aspp":
        if draw(st.booleans()):
            plan["bottleneck_size"] = size
        else:
            plan |= {"input_size": size, "output_stride": draw(mostly(st.sampled_from([8, 16, 32]),
                                                                      st.sampled_from([1, 64, 65, 0]), rare))}
        optional |= {
            "rates": st.one_of(st.lists(mostly(st.integers(1, 24), st.sampled_from([512, 513, 0]), rare),
                                        min_size=1, max_size=4),
                               st.integers(1, 40).map(lambda a: {"min": a, "max": a + 20}),
                               st.just({"min": 1, "max": 512})),
            "kernel_size": mostly(st.sampled_from([1, 3, 5]), st.sampled_from([15, 16, 0]), rare),
            "padding": mostly(st.just({"min": 0, "max": 64}), st.sampled_from([{"min": 0, "max": 256},
                                                                                 {"min": 0, "max": 65536}]), rare),
            "image_pooling": st.booleans(),
            "in_channels": st.integers(1, 64), "channels": st.integers(1, 64),
            "time_limit_s": _time_limits(rare),
        }
    else:
        plan["kind"] = draw(st.sampled_from(["autoencoder", "generator", "discriminator"]))
        plan["image_size"] = size
        optional |= {
            "latent_size": st.one_of(st.integers(1, 8), _input_size(ndim, rare)),
            "depth": mostly(st.integers(1, 5), st.sampled_from([8, 12, 13, 0]), rare),
            "kernel_size": _plan_param("kernel_size", rare), "stride": _plan_param("stride", rare),
            "padding": _plan_param("padding", rare), "output_padding": _plan_param("output_padding", rare),
            "tie": st.booleans(), "objective": hostile_objectives(rare), "time_limit_s": _time_limits(rare),
        }
    for field, values in optional.items():
        if draw(st.integers(0, 2)) == 0:
            plan[field] = draw(values)
    if "time_limit_s" not in plan:  # the default (10 s) is too long for a test
        plan["time_limit_s"] = draw(_time_limits(rare))
    return kind, plan


#: Deep nesting: where a nested list or dict is put, and how deep (the library's and the
#: JSON parser's recursion limits are near 1000).
NESTING_DEPTHS = (100, 1_000, 10_000, 100_000)


@st.composite
def nested(draw: Any) -> dict[str, Any]:
    """A recipe for a deeply nested solve document, built by `build_nested` (such a
    document cannot be pickled or turned into JSON by the standard library's recursion)."""
    return {"depth": draw(st.sampled_from(NESTING_DEPTHS)),
            "at": draw(st.sampled_from(["choices", "kernel_size", "targets", "layers", "objective"])),
            "container": draw(st.sampled_from(["list", "dict"]))}


def _nested_base() -> dict[str, Any]:
    return {"input_size": [8], "target_size": [4], "time_limit_s": 0.2,
            "layers": [{"type": "conv", "kernel_size": 3, "name": "c"}]}


def build_nested(recipe: dict[str, Any], leaf: Any = 3) -> dict[str, Any]:
    """The document of a `nested` recipe, as Python data (built without recursion)."""
    value: Any = leaf
    for _ in range(recipe["depth"]):
        value = [value] if recipe["container"] == "list" else {"a": value}
    doc = _nested_base()
    if recipe["at"] == "choices":
        doc["layers"][0]["kernel_size"] = {"choices": [value]}
    elif recipe["at"] == "kernel_size":
        doc["layers"][0]["kernel_size"] = value
    elif recipe["at"] == "targets":
        doc["targets"] = {"c": value}
    elif recipe["at"] == "layers":
        doc["layers"] = [value]
    else:
        doc["objective"] = value
    return doc


def nested_json(recipe: dict[str, Any]) -> bytes:
    """The same document as JSON text, the nesting written as text (json.dumps recurses)."""
    import json

    opening, closing = ("[", "]") if recipe["container"] == "list" else ('{"a": ', "}")
    value = opening * recipe["depth"] + "3" + closing * recipe["depth"]
    text = json.dumps(build_nested({**recipe, "depth": 0}, leaf="@nest@"))
    return text.replace('"@nest@"', value, 1).encode()


# --- sound solve documents --------------------------------------------------------------
#
# Adversarial but valid: small domains, feasible-looking targets (aimed at the output of
# a setting drawn from the domains), in every convention, with joins, ties, named
# targets and several input sizes.  Every solution of such a document must be valid.

#: Valid padding of a layer, by convention and type: a value or a domain.
def _sound_padding(convention: str, kind: str) -> Strategy[Any]:
    ints = st.one_of(st.integers(0, 2), st.integers(0, 2).map(lambda a: {"min": a, "max": a + 1}))
    if convention == "tensorflow":
        return st.sampled_from(["same", "valid", {"choices": ["same", "valid"]}])
    if convention == "onnx":
        return st.one_of(ints, st.sampled_from(["same_upper", "same_lower", "valid",
                                                {"choices": ["same_upper", "valid", 1]}]))
    if kind == "conv":
        return st.one_of(ints, ints, st.sampled_from(["same", "valid", {"choices": ["same", "valid", 0, 1]}]))
    return ints


def _sound_domain(field: str, ndim: int) -> Strategy[Any]:
    lo, hi = SANE[field]
    one = st.one_of(st.integers(lo, hi), st.integers(lo, hi).map(lambda a: {"min": a, "max": a + 1}),
                    st.lists(st.integers(lo, hi), min_size=1, max_size=3, unique=True).map(
                        lambda c: {"choices": c}))
    return st.one_of(one, one, st.lists(one, min_size=ndim, max_size=ndim))


def _concrete(draw: Any, value: Any) -> Any:
    """One value a field (value or domain, per axis or not) can take."""
    if isinstance(value, list):
        return [_concrete(draw, v) for v in value]
    if isinstance(value, dict) and "min" in value:
        return draw(st.integers(value["min"], value["max"]))
    if isinstance(value, dict):
        return draw(st.sampled_from(value["choices"]))
    return value


@st.composite
def sound_solve_documents(draw: Any, convention: str | None = None) -> dict[str, Any]:
    """A valid solve document of 1 to 4 layers with small domains, aimed at a setting's
    output (so most have solutions); sometimes a skip join, a tie, named targets,
    two input sizes, an objective."""
    import solver

    convention = convention or draw(st.sampled_from(CONVENTIONS))
    ndim = draw(st.integers(1, 3))
    size = draw(input_sizes(ndim, 4, {1: 40, 2: 24, 3: 12}[ndim]))
    layers: list[dict[str, Any]] = []
    in_channels = draw(st.integers(1, 3))
    channels = {"input": in_channels}  # of every tensor, so that a sum joins equal ones
    for index in range(draw(st.integers(1, 4))):
        kinds = ["conv", "conv", "conv_transpose", "max_pool", "avg_pool", "upsample", "adaptive_avg_pool"]
        kind = draw(st.sampled_from(kinds + (["concat", "add", "crop"] if index else [])))
        previous = f"l{index - 1}" if index else "input"
        earlier = ["input"] + [f"l{j}" for j in range(index - 1)]
        if kind == "add" and not any(channels[t] == channels[previous] for t in earlier):
            kind = "concat"
        layer: dict[str, Any] = {"type": kind, "name": f"l{index}"}
        if kind == "concat":  # a skip: an earlier tensor (or the input) and the one before
            layer["inputs"] = [draw(st.sampled_from(earlier)), previous]
        elif kind == "add":  # a residual: one of equal channels
            layer["inputs"] = [draw(st.sampled_from([t for t in earlier if channels[t] == channels[previous]])),
                               previous]
        elif kind == "crop":  # an earlier tensor cropped to the one before
            layer |= {"input": draw(st.sampled_from(["input"] + [f"l{j}" for j in range(index - 1)])),
                      "to": f"l{index - 1}"}
        elif kind == "upsample":
            scales = [1, 2, 3] if convention != "pytorch" else [1, 2, 3, 0.5, 1.5]
            layer["scale_factor"] = draw(one_or_each_axis(st.sampled_from(scales), ndim))
        elif kind.startswith("adaptive"):
            layer["output_size"] = draw(st.integers(1, 4)) if convention == "pytorch" else 1
        else:
            layer["kernel_size"] = draw(_sound_domain("kernel_size", ndim))
            dilated = {"pytorch": ("conv", "conv_transpose", "max_pool"), "tensorflow": ("conv", "conv_transpose"),
                       "onnx": ("conv", "conv_transpose", "max_pool")}[convention]
            if kind in dilated and draw(st.booleans()):
                layer["dilation"] = draw(_sound_domain("dilation", ndim))
            if draw(st.booleans()) and not (convention == "tensorflow" and "dilation" in layer):
                layer["stride"] = draw(_sound_domain("stride", ndim))  # Keras: not with a dilation
            if draw(st.integers(0, 3)):
                layer["padding"] = draw(_sound_padding(convention, kind))
            if kind == "conv_transpose" and convention != "tensorflow" and draw(st.booleans()):
                layer["output_padding"] = draw(_sound_domain("output_padding", ndim))
            if kind in ("conv", "conv_transpose"):
                layer["out_channels"] = draw(st.integers(1, 3))
        source = layer.get("input", previous)
        channels[layer["name"]] = (sum(channels[t] for t in layer["inputs"]) if kind == "concat"
                                   else layer.get("out_channels", channels[source]))
        layers.append(layer)
    doc: dict[str, Any] = {"convention": convention, "layers": layers, "in_channels": in_channels,
                           "limit": draw(st.integers(1, 30)), "time_limit_s": 2}
    searched = [i for i, layer in enumerate(layers) if "kernel_size" in layer]
    tied = None
    if len(searched) > 1 and draw(st.booleans()):  # two layers share their kernel size (and its domain)
        tied = draw(st.lists(st.sampled_from(searched), min_size=2, max_size=2, unique=True))
        layers[tied[1]]["kernel_size"] = layers[tied[0]]["kernel_size"]
        doc["ties"] = [{"layers": [f"l{i}" for i in tied], "params": ["kernel_size"]}]
    # Aim at the outputs of a setting drawn from the domains (a few tries for one that runs).
    outputs = [draw(input_sizes(ndim, 1, 40)) for _ in layers]
    for _ in range(8):
        concrete = [{k: _concrete(draw, v) for k, v in layer.items()} for layer in layers]
        if tied is not None:
            concrete[tied[1]]["kernel_size"] = concrete[tied[0]]["kernel_size"]
        try:
            report = solver.forward({"input_size": size, "layers": concrete, "convention": convention})
        except solver.ConvsolveError:
            continue
        outputs = [r.output_size for r in report.layers]
        if min(min(o) for o in outputs) >= 1:  # (a size below 1 is no valid target)
            break
        outputs = [draw(input_sizes(ndim, 1, 40)) for _ in layers]
    several = draw(st.integers(0, 3)) == 0  # two input sizes: the same design for both
    doc["target_size"] = draw(st.sampled_from(["input", None] if several else [outputs[-1]] * 4 + ["input"]))
    if doc["target_size"] is None:  # no target on the last layer: any setting that runs
        del doc["target_size"]
    if len(layers) > 1 and draw(st.booleans()):  # not on the last layer if target_size is there
        named = draw(st.integers(0, len(layers) - 1 - ("target_size" in doc)))
        target = outputs[named]
        if draw(st.booleans()):  # a range around it
            target = [{"min": max(1, t - 1), "max": t + 1} for t in target]
        doc["targets"] = {f"l{named}": target}
    if several:
        doc["input_sizes"] = [size, draw(input_sizes(ndim, 4, {1: 40, 2: 24, 3: 12}[ndim]))]
    else:
        doc["input_size"] = size
    if draw(st.booleans()):  # the receptive field is ranked on chains of convs and pools only
        chain = all(layer["type"] in ("conv", "conv_transpose", "max_pool", "avg_pool") for layer in layers)
        goals = st.sampled_from(GOALS if chain else GOALS[:-1])
        doc["objective"] = draw(st.one_of(goals, st.lists(goals, min_size=1, max_size=3)))
    return doc
