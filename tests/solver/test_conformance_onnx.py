"""convsolve's "onnx" convention against real onnxruntime (`onnx_ref`): every size rule.

For each generated one-layer document, `solver.forward` and onnxruntime must agree: the
same output size when both accept, a refusal from both otherwise, and convsolve's rule
must be one onnxruntime's message names (`ORT_MESSAGES`; on one-axis layers, where the
first rule broken is the same for both).  The reported per-side padding must be real:
the same layer with those explicit pads gives the same size.

Deliberate differences (`deliberate`), where convsolve refuses what onnxruntime runs:
- an output of size 0 (pools, Resize): onnxruntime returns an empty tensor; a map with
  no pixels is no design, and convsolve refuses it as in PyTorch (output_positive);
- a pool window longer than the padded input where onnxruntime and ONNX's shape
  inference disagree: onnxruntime rounds (i + pads - e)/s up in ceil mode, the shape
  inference toward zero (MaxPool k3 s2 ceil on 1: 0 against 1; kernel_fits_input).  Where
  they agree (k2 s2 on 1 gives 1 in both), convsolve gives the same;
- a dilated MaxPool (kernel > 1) with auto_pad SAME_*: onnxruntime pads for the
  undilated kernel, so the output is never the ceil(i/s) SAME promises (often 0, or
  "Calculated output dimension is negative"); onnxruntime's Conv refuses the same
  setting outright (not_in_convention);
- MaxPool with SAME_* and a stride longer than the window (a negative padding):
  onnxruntime refuses it ("padding values must be non-negative") unless the pool is
  dilated on some axis, which runs other code; convsolve refuses it on every axis
  (padding_non_negative);
- upsample mode 'bilinear' / 'trilinear' off their rank: onnx_ref runs every linear mode
  as Resize "linear" (any rank), but convsolve keeps the rank the torch name says.
Where onnxruntime's SAME_* needs a negative total padding (a stride longer than the
window), Conv and AveragePool crop, each in its own way; convsolve reports [0, 0], which
gives the same size.

The examples are derandomized; onnxruntime builds a session per example (~0.3 ms).
"""

from __future__ import annotations

from typing import Any

import conformance as C
import onnx_ref
import pytest
from hypothesis import strategies as st
from strategies import mostly

import solver
from solver import LayerRejected, Rule

CHANNELS = 2  # onnx_ref's default; channels and groups are convention-free (torch suite)
MODES = ("same_upper", "same_lower", "valid")

# --------------------------------------------------------------------------------------
# What onnxruntime (or ONNX shape inference at load) says, as convsolve rules.

ORT_MESSAGES: list[tuple[str, set[Rule]]] = [
    ("kernel_shape must only contain positive", {Rule.KERNEL_POSITIVE}),
    ("strides must only contain positive", {Rule.STRIDE_POSITIVE}),
    ("dilations must only contain positive", {Rule.DILATION_POSITIVE}),
    ("pads must not contain negative", {Rule.PADDING_NON_NEGATIVE}),
    ("padding values must be non-negative", {Rule.PADDING_NON_NEGATIVE}),  # MaxPool SAME, s > e
    ("Invalid input shape", {Rule.KERNEL_FITS_INPUT}),
    ("Pad should be smaller than kernel", {Rule.POOL_PADDING_HALF_KERNEL}),
    ("Dilation not supported for AutoPadType", {Rule.NOT_IN_CONVENTION}),
    ("Calculated output dimension is negative",
     {Rule.OUTPUT_POSITIVE, Rule.KERNEL_FITS_INPUT, Rule.NOT_IN_CONVENTION}),
    ("must be less than max(stride, dilation)", {Rule.OUTPUT_PADDING_SMALLER}),
    ("may be too large for stride", {Rule.OUTPUT_PADDING_SMALLER}),
    ("output_padding", {Rule.OUTPUT_PADDING_NON_NEGATIVE, Rule.OUTPUT_PADDING_SMALLER}),
    ("Explicit output_shape is inconsistent", {Rule.OUTPUT_SHAPE_MISMATCH}),
    ("'Cubic' mode only supports", {Rule.UPSAMPLE_MODE_NDIM}),
    ("ONNX has no adaptive pool", {Rule.NOT_IN_CONVENTION}),
    ("Unknown AutoPadType String", {Rule.PADDING_MODE}),
    ("Computed output dimension is <= 0", {Rule.OUTPUT_POSITIVE}),
]


ort_rules = C.reader("onnxruntime", ORT_MESSAGES)


# --------------------------------------------------------------------------------------
# The check.

def forward(layer: dict[str, Any], size: list[int]) -> Any:
    document = {"input_size": size, "in_channels": CHANNELS, "convention": "onnx", "layers": [layer]}
    try:
        return solver.forward(document)
    except LayerRejected as exc:
        return exc


def deliberate(layer: dict[str, Any], size: list[int], ours: LayerRejected, shape: tuple[int, ...]) -> bool:
    """convsolve refuses and onnxruntime runs: one of the differences in the docstring."""
    kind, ndim = layer["type"], len(size)
    if ours.rule == Rule.OUTPUT_POSITIVE and 0 in shape:
        return True
    if ours.rule == Rule.KERNEL_FITS_INPUT and kind in ("max_pool", "avg_pool"):
        # A window past the padded input: refused where the spec disagrees with the runtime.
        return 0 in shape or onnx_ref.spec_shape(layer, size, CHANNELS) != shape
    if ours.rule == Rule.PADDING_NON_NEGATIVE and kind == "max_pool" and layer["padding"] in MODES[:2]:
        return max(layer["dilation"]) > 1  # a dilated MaxPool runs without the check
    if ours.rule == Rule.NOT_IN_CONVENTION and kind == "max_pool" and layer["padding"] in MODES[:2]:
        return layer["dilation"][ours.axis] > 1 and layer["kernel_size"][ours.axis] > 1
    rank = {"bilinear": 2, "trilinear": 3}.get(layer.get("mode", ""))
    return ours.rule == Rule.UPSAMPLE_MODE_NDIM and rank is not None and rank != ndim


def invalid_settings(layer: dict[str, Any]) -> int:
    """How many settings are invalid whatever the input (kernel 0, a negative pad, ...)."""
    low = {"kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "padding_end": 0,
           "output_padding": 0}
    return sum(isinstance(layer.get(key), list) and min(layer[key]) < bound for key, bound in low.items())


def check(layer: dict[str, Any], size: list[int]) -> LayerRejected | None:
    """Assert convsolve and onnxruntime agree on the layer; returns convsolve's refusal."""
    ours = forward(layer, size)
    try:
        shape: tuple[int, ...] | None = onnx_ref.run_layer(layer, size, CHANNELS)
        refused = None
    except onnx_ref.OnnxRejected as exc:
        shape, refused = None, exc
    if isinstance(ours, LayerRejected):
        if shape is not None:
            assert deliberate(layer, size, ours, shape), f"onnxruntime gives {shape}, convsolve: {ours}"
            return ours
        assert refused is not None
        named = ort_rules(refused.message)
        if len(size) == 1 and invalid_settings(layer) <= 1:  # else either may name another
            assert ours.rule in named, f"onnxruntime: {refused.message}; convsolve: {ours}"
        return ours
    assert refused is None, f"onnxruntime refuses ({refused.message}) but convsolve gives {ours.output_size}"
    assert tuple(ours.output_size) == shape, f"onnxruntime {shape}, convsolve {ours.output_size}"
    check_padding(layer, size, ours.layers[0])
    return None


def check_padding(layer: dict[str, Any], size: list[int], report: Any) -> None:
    """The reported [begin, end] pads, written explicitly, give the same size."""
    if report.padding is None:
        return
    begin = [b for b, _ in report.padding]
    end = [e for _, e in report.padding]
    explicit = {**layer, "padding": begin, "padding_end": end}
    if layer["type"] == "conv_transpose":
        # The report is the pads themselves (what output_shape or SAME_* worked out).
        explicit = {key: value for key, value in explicit.items() if key != "output_shape"}
        if min(begin + end) < 0:  # longer than the full output: no pads say it
            return
    assert onnx_ref.run_layer(explicit, size, CHANNELS) == tuple(report.output_size), report.padding


# --------------------------------------------------------------------------------------
# Generated layers, in onnx_ref's form: every setting one value per axis.

def axes(values: Any, ndim: int) -> Any:
    return st.lists(values, min_size=ndim, max_size=ndim)


@st.composite
def windows(draw: Any, kind: str, ndim: int) -> dict[str, Any]:
    """kernel, stride, dilation and padding (a mode, or begin and usually end pads)."""
    k = draw(axes(mostly(st.integers(1, 5), st.just(0)), ndim))
    layer: dict[str, Any] = {"type": kind, "kernel_size": k,
                             "stride": draw(axes(mostly(st.integers(1, 4), st.just(0)), ndim))}
    if kind != "avg_pool":
        layer["dilation"] = draw(axes(mostly(st.integers(1, 3), st.just(0)), ndim))
    if draw(st.integers(0, 2)) == 0:
        layer["padding"] = draw(st.sampled_from(MODES))
        return layer
    if kind in ("max_pool", "avg_pool"):  # pads below the kernel, mostly
        pads = [mostly(st.integers(0, max(0, n - 1)), st.integers(-1, n + 1)) for n in k]
        layer["padding"] = [draw(p) for p in pads]
        if draw(st.booleans()):
            layer["padding_end"] = [draw(p) for p in pads]
    else:
        layer["padding"] = draw(axes(mostly(st.integers(0, 4), st.just(-1)), ndim))
        if draw(st.booleans()):
            layer["padding_end"] = draw(axes(mostly(st.integers(0, 4), st.just(-1)), ndim))
    return layer


@st.composite
def onnx_layers(draw: Any, family: str, ndim: int, size: list[int]) -> dict[str, Any]:
    if family in ("conv", "max_pool", "avg_pool"):
        layer = draw(windows(family, ndim))
        if family == "conv":
            layer["out_channels"] = CHANNELS
        else:
            layer["ceil_mode"] = draw(st.booleans())
        return layer
    if family == "conv_transpose":
        layer = draw(windows(family, ndim))
        layer["out_channels"] = CHANNELS
        s, d = layer["stride"], layer["dilation"]
        layer["output_padding"] = [draw(mostly(st.integers(0, max(0, max(si, di) - 1)), st.integers(-1, 3)))
                                   for si, di in zip(s, d)]
        if draw(st.integers(0, 2)) == 0:  # near the full output (i-1)*s + e + op, or further
            full = [(i - 1) * si + di * (k - 1) + 1 for i, si, di, k in zip(size, s, d, layer["kernel_size"])]
            layer["output_shape"] = [max(1, f + draw(st.integers(-6, max(si, 1) + 1))) for f, si in zip(full, s)]
        return layer
    if family == "upsample":
        fits = {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim]
        # 'linear' off 1d, which ONNX takes: test_linear_resize_any_rank
        mode = draw(mostly(st.sampled_from(["nearest", fits]),
                           st.sampled_from(["bicubic", "bilinear", "trilinear"]), 4))
        if draw(st.booleans()):
            return {"type": "upsample", "size": draw(axes(st.integers(1, 20), ndim)), "mode": mode}
        scales = st.one_of(st.integers(1, 4), st.integers(1, 40).map(lambda n: n / 10),
                           st.floats(0.05, 4.0, allow_nan=False, allow_infinity=False))
        return {"type": "upsample", "scale_factor": draw(axes(scales, ndim)), "mode": mode}
    kind = draw(st.sampled_from(["adaptive_avg_pool", "adaptive_max_pool"]))
    return {"type": kind, "output_size": draw(axes(mostly(st.just(1), st.integers(2, 3), 4), ndim))}


@C.each_family(max_examples=600, database=None)
def test_one_layer_matches_onnxruntime(family: str, ndim: int, data: st.DataObject) -> None:
    size = data.draw(axes(st.integers(1, 12), ndim), label="size")
    layer = data.draw(onnx_layers(family, ndim, size), label="layer")
    C.record(check(layer, size))


# --------------------------------------------------------------------------------------
# By hand, each verified by running onnxruntime 1.31.1: sizes, pads, and one case per rule.

def conv(k: int, s: int = 1, d: int = 1, **more: Any) -> dict[str, Any]:
    return {"type": "conv", "kernel_size": [k], "stride": [s], "dilation": [d], "padding": [0],
            "out_channels": CHANNELS, **more}


def convt(k: int, s: int = 1, d: int = 1, op: int = 0, **more: Any) -> dict[str, Any]:
    return {"type": "conv_transpose", "kernel_size": [k], "stride": [s], "dilation": [d], "padding": [0],
            "output_padding": [op], "out_channels": CHANNELS, **more}


def pool(kind: str, k: int, s: int, **more: Any) -> dict[str, Any]:
    layer = {"type": kind, "kernel_size": [k], "stride": [s], "padding": [0], "ceil_mode": False, **more}
    if kind == "max_pool":
        layer.setdefault("dilation", [1])
    return layer


# (size, layer, output size, [begin, end] padding)
ACCEPTED: list[tuple[list[int], dict[str, Any], list[int], list[int] | None]] = [
    ([2], conv(3, padding=[1], padding_end=[0]), [1], [1, 0]),
    ([7], conv(4, 3, padding="same_lower"), [3], [2, 1]),  # total 3: odd pixel first
    ([7], conv(4, 3, padding="same_upper"), [3], [1, 2]),
    ([8], conv(1, 4, padding="same_upper"), [2], [0, 0]),  # total -3: onnxruntime crops
    ([5], pool("max_pool", 3, 2, ceil_mode=True), [2], [0, 0]),  # the last window starts at 4
    ([6], pool("max_pool", 3, 2, padding=[1], padding_end=[0], ceil_mode=True), [3], [1, 0]),
    ([9], pool("avg_pool", 4, 3, padding="same_upper", ceil_mode=True), [3], [0, 1]),
    ([8], pool("avg_pool", 1, 4, padding="same_upper"), [2], [0, 0]),  # AveragePool crops
    ([7], pool("max_pool", 1, 3, padding="same_lower", dilation=[2]), [3], [0, 0]),  # 1-wide window
    ([3], convt(3, 2, padding="same_upper"), [6], [0, 1]),  # odd pixel at the end
    ([3], convt(3, 2, padding="same_lower"), [6], [1, 0]),
    ([3], convt(1, 3, padding="same_upper"), [7], [0, 0]),  # min(i*s, full)
    ([3], convt(3, 2, padding=[3], output_shape=[6]), [6], [1, 0]),  # pads ignored
    ([3], convt(3, 2, padding="same_upper", output_shape=[6]), [6], [0, 1]),
    ([3], convt(3, 2, output_shape=[8]), [8], [0, -1]),  # past the full 7: extended at the end
    ([3], convt(3, 2, op=1, padding=[1], padding_end=[2]), [5], [1, 2]),
    ([100], {"type": "upsample", "scale_factor": [0.29]}, [29], None),  # float32: 28.999999 -> 29
    ([5, 7], {"type": "upsample", "size": [3, 9], "mode": "bilinear"}, [3, 9], None),
    ([5, 7], {"type": "upsample", "scale_factor": [2, 1.5], "mode": "bicubic"}, [10, 10], None),
    ([5, 7, 3], {"type": "adaptive_max_pool", "output_size": [1, 1, 1]}, [1, 1, 1], None),
]


@pytest.mark.parametrize(("size", "layer", "out", "pads"), ACCEPTED)
def test_accepted_by_hand(size: list[int], layer: dict, out: list[int], pads: list[int] | None) -> None:
    assert check(layer, size) is None
    assert onnx_ref.run_layer(layer, size, CHANNELS) == tuple(out)
    report = forward(layer, size).layers[0]
    assert report.output_size == out
    assert report.padding == (None if pads is None else [pads])


RULE_CASES: list[tuple[Rule, list[int], dict[str, Any]]] = [
    (Rule.KERNEL_POSITIVE, [8], conv(0)),
    (Rule.STRIDE_POSITIVE, [8], pool("avg_pool", 2, 0)),
    (Rule.DILATION_POSITIVE, [8], conv(3, d=0, padding="valid")),
    (Rule.PADDING_NON_NEGATIVE, [8], conv(3, padding_end=[-1])),
    (Rule.PADDING_NON_NEGATIVE, [8], pool("max_pool", 1, 4, padding="same_upper")),  # pad -3
    (Rule.KERNEL_FITS_INPUT, [3], conv(4, padding="valid")),
    (Rule.OUTPUT_PADDING_NON_NEGATIVE, [4], convt(3, 2, op=-1)),
    (Rule.OUTPUT_PADDING_SMALLER, [4], convt(3, 2, op=2)),
    (Rule.OUTPUT_PADDING_SMALLER, [5], convt(1, 1, 2, op=1)),  # op < dilation is not enough
    (Rule.OUTPUT_POSITIVE, [3], convt(1, padding=[1], padding_end=[2])),
    (Rule.POOL_PADDING_HALF_KERNEL, [5], pool("max_pool", 2, 1, padding=[2], padding_end=[0])),
    (Rule.POOL_PADDING_HALF_KERNEL, [5], pool("avg_pool", 3, 1, padding_end=[3])),
    (Rule.UPSAMPLE_MODE_NDIM, [8], {"type": "upsample", "scale_factor": [2], "mode": "bicubic"}),
    (Rule.PADDING_MODE, [8], conv(3, padding="same")),  # PyTorch's word, not an auto_pad
    (Rule.NOT_IN_CONVENTION, [5], conv(3, d=2, padding="same_upper")),
    (Rule.NOT_IN_CONVENTION, [8], {"type": "adaptive_avg_pool", "output_size": [2]}),
    (Rule.OUTPUT_SHAPE_MISMATCH, [3], convt(3, 1, output_shape=[6])),  # at most 5
]
#: Rules an onnx document cannot break: PyTorch- or TensorFlow-only, about channels (the
#: same in every convention; torch suite), several tensors, or refused by the schema.
NOT_ONNX = {Rule.SAME_NEEDS_STRIDE_1, Rule.SAME_NOT_FOR_TRANSPOSED, Rule.AVG_POOL3D_INPUT_FITS_KERNEL,
            Rule.ADAPTIVE_KEEP_NEEDS_2D, Rule.STRIDE_WITH_DILATION, Rule.GROUPS_POSITIVE,
            Rule.GROUPS_DIVIDE_CHANNELS, Rule.CHANNELS_MATCH, Rule.CHANNELS_POSITIVE,
            Rule.JOIN_SIZES_MATCH, Rule.CROP_FITS, Rule.SCALE_POSITIVE, Rule.ADD_SIZES_BROADCAST,
            Rule.SIZE_LIMIT, Rule.NORM_NEEDS_VALUES, Rule.LINEAR_NEEDS_FLAT,
            Rule.PAD_FITS_INPUT}


@C.each_rule(RULE_CASES)
def test_each_rule_is_named_as_onnxruntime_names_it(rule: Rule, size: list[int], layer: dict) -> None:
    rejected = check(layer, size)
    assert rejected is not None and rejected.rule == rule.value
    with pytest.raises(onnx_ref.OnnxRejected) as refused:
        onnx_ref.run_layer(layer, size, CHANNELS)
    assert rule in ort_rules(refused.value.message)


def test_every_rule_has_a_case() -> None:
    C.assert_every_rule_has_a_case(RULE_CASES, NOT_ONNX)


@pytest.mark.parametrize(("size", "layer", "rule"), [
    ([1], pool("max_pool", 2, 1), Rule.KERNEL_FITS_INPUT),  # onnxruntime: an empty (0,) tensor
    ([1], {**pool("max_pool", 3, 2), "ceil_mode": True}, Rule.KERNEL_FITS_INPUT),  # 0 against the spec's 1
    ([1], {"type": "upsample", "scale_factor": [0.5]}, Rule.OUTPUT_POSITIVE),
    ([5], pool("max_pool", 3, 1, padding="same_upper", dilation=[2]), Rule.NOT_IN_CONVENTION),
    ([2], pool("max_pool", 1, 2, padding="same_upper", dilation=[2]), Rule.PADDING_NON_NEGATIVE),
    ([4], {"type": "upsample", "scale_factor": [2], "mode": "bilinear"}, Rule.UPSAMPLE_MODE_NDIM),
])
def test_deliberate_differences(size: list[int], layer: dict, rule: Rule) -> None:
    """onnxruntime runs these; convsolve refuses them (see the module docstring)."""
    onnx_ref.run_layer(layer, size, CHANNELS)
    rejected = check(layer, size)
    assert rejected is not None and rejected.rule == rule.value


@pytest.mark.parametrize(("size", "layer"), [
    ([3], pool("max_pool", 4, 3)),  # (3 - 4) / 3 rounds to 0 in both: one output
    ([1], pool("avg_pool", 2, 2)),
    ([2], {**pool("max_pool", 4, 3), "ceil_mode": True}),
    ([1], {**pool("avg_pool", 3, 3), "padding": [1], "padding_end": [0]}),
])
def test_a_window_past_the_input_where_runtime_and_spec_agree(size: list[int], layer: dict) -> None:
    shape = onnx_ref.run_layer(layer, size, CHANNELS)
    assert shape == onnx_ref.spec_shape(layer, size, CHANNELS) == (1,)
    assert check(layer, size) is None  # and check() compared the sizes


def test_where_runtime_and_spec_disagree_the_refusal_says_so() -> None:
    layer = {**pool("max_pool", 3, 2), "ceil_mode": True}
    assert onnx_ref.run_layer(layer, [1], CHANNELS) != onnx_ref.spec_shape(layer, [1], CHANNELS)
    rejected = check(layer, [1])
    assert rejected is not None and "disagree" in rejected.message


@pytest.mark.parametrize("ndim", [2, 3])
def test_linear_resize_any_rank(ndim: int) -> None:
    layer = {"type": "upsample", "scale_factor": [2] * ndim, "mode": "linear"}
    assert check(layer, [3] * ndim) is None
