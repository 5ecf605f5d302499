"""convsolve's "tensorflow" convention against real Keras 3 on TensorFlow (`tf_ref`).

For each generated one-layer document, `solver.forward` and the Keras layer a user would
write (Conv2D, Conv1DTranspose, MaxPooling3D, UpSampling2D, Resizing,
GlobalAveragePooling2D(keepdims=True), ...) must agree: both accept, with the same output
size, or both refuse.  When both refuse, the rule convsolve names must be one the layer
really breaks (`broken_rules`, written here from Keras' behaviour, independently of
solver/_arith.py) and Keras' message must name one of those rules too (`TF_MESSAGES`);
when only one rule is broken they must be the same.

An empty output is a refusal.  Keras' shape inference (what a functional model runs, and
what `tf_ref` runs before the eager call) refuses a conv or pool whose output would be
"zero or negative"; eager TensorFlow would return an empty tensor from a pool (without
oneDNN) or die of SIGFPE (MaxPooling with oneDNN, TF 2.21).  convsolve refuses them too:
KERNEL_FITS_INPUT.  A transposed conv with output_padding can come to 0 (an even kernel,
'same', input 1, output_padding 0): Keras returns that empty tensor; convsolve refuses
it (OUTPUT_POSITIVE), as a map of no pixels is no design.

The padding convsolve reports is checked on values: the 'same' layer equals the 'valid'
layer on the input padded by the reported [begin, end] (transposed convs: the full
output cut by it).  The examples are derandomized: CI sees the same configurations.
"""

from __future__ import annotations

from typing import Any

import conformance as C
import numpy as np
import pytest
import strategies as S
import tf_ref
from hypothesis import event, given, settings
from hypothesis import strategies as st

import solver
from solver import LayerRejected, Rule

# --------------------------------------------------------------------------------------
# What Keras and TF say, as convsolve rules (the line tf_ref reports of each error).

TF_MESSAGES: list[tuple[str, set[Rule]]] = [
    ("`kernel_size` argument must be", {Rule.KERNEL_POSITIVE}),
    ("`pool_size` argument must be", {Rule.KERNEL_POSITIVE}),
    ("`strides` argument must be", {Rule.STRIDE_POSITIVE}),
    # Pools take stride 0: Keras' shape inference divides by it (to inf, -inf or NaN),
    # or TF's op refuses it.
    ("cannot convert float infinity to integer", {Rule.STRIDE_POSITIVE}),
    ("cannot convert float NaN to integer", {Rule.STRIDE_POSITIVE}),
    ("Stride must be > 0", {Rule.STRIDE_POSITIVE}),
    ("`dilation_rate` argument must be", {Rule.DILATION_POSITIVE}),
    ("`output_padding` argument must be", {Rule.OUTPUT_PADDING_NON_NEGATIVE}),
    ("`output_padding` must be strictly less than `strides`", {Rule.OUTPUT_PADDING_SMALLER}),
    ("Computed output size would be zero or negative", {Rule.KERNEL_FITS_INPUT, Rule.STRIDE_POSITIVE}),
    ("not supported in conjunction with `dilation_rate > 1`", {Rule.STRIDE_WITH_DILATION}),
    # A transposed conv whose output does not conv back to its input: oneDNN (on by
    # default) fails to build the primitive; TF's own kernels say it in words.
    ("could not create a primitive descriptor", {Rule.OUTPUT_SHAPE_MISMATCH}),
    ("Size of out_backprop doesn't match computed", {Rule.OUTPUT_SHAPE_MISMATCH}),
    ("The `padding` argument must be", {Rule.PADDING_MODE}),
    ("Argument `padding` must be either 'valid' or 'same'", {Rule.PADDING_MODE}),  # pools
    ("object has no attribute 'lower'", {Rule.PADDING_MODE}),  # an int padding
    ("Invalid value for argument `interpolation`", {Rule.UPSAMPLE_MODE_NDIM, Rule.NOT_IN_CONVENTION}),
    ("must be of type integer", {Rule.NOT_IN_CONVENTION}),  # UpSampling2D/3D by 1.5
    ("Expected an integer value for `size`", {Rule.NOT_IN_CONVENTION}),  # UpSampling1D by 1.5
    ("'size' must be a 1-D int32 Tensor", {Rule.NOT_IN_CONVENTION}),  # UpSampling2D(bilinear) by 0.5
    # tf_ref.NotInKeras; interpolation in 1d/3d is also a mode of another rank
    ("no Keras layer has interpolation", {Rule.UPSAMPLE_MODE_NDIM, Rule.NOT_IN_CONVENTION}),
    ("no Keras layer has", {Rule.NOT_IN_CONVENTION}),
]


tf_rules = C.reader("Keras", TF_MESSAGES)


# --------------------------------------------------------------------------------------
# Which rules a layer breaks, from Keras' behaviour (not from convsolve's code).

Broken = C.Broken
_axes = C.axis_values


def keras_output(i: int, k: int, s: int, d: int, padding: str, op: int | None, kind: str) -> int:
    """One axis as Keras computes it (keras/src/ops/operation_utils.py), before TF runs."""
    e = (k - 1) * d + 1
    if kind != "conv_transpose":
        return -(-i // s) if padding == "same" else (i - e) // s + 1
    if op is None:
        return i * s if padding == "same" else i * s + max(e - s, 0)
    return (i - 1) * s + e - 2 * (e // 2 if padding == "same" else 0) + op


def broken_rules(layer: dict[str, Any], size: tuple[int, ...]) -> Broken:
    """Every (rule, axis) the layer breaks on an input of `size`, in the tensorflow convention."""
    ndim, kind = len(size), layer["type"]
    every = set(range(ndim))

    def axes(key: str, default: Any = None) -> tuple[Any, ...]:
        return _axes(layer.get(key, default), ndim)

    def on(rule: Rule, which: set[int] | None = None) -> Broken:
        return {(rule, a) for a in (every if which is None else which)}

    if kind in ("adaptive_avg_pool", "adaptive_max_pool"):  # global pools only
        return on(Rule.NOT_IN_CONVENTION, {a for a in every if axes("output_size")[a] != 1})
    if kind == "upsample":
        mode = layer.get("mode", "nearest")
        need = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}.get(mode, ndim)
        broken: Broken = set()
        if need != ndim:  # 'linear' in 2d; 'bilinear' in 1d is also no Keras mode (below)
            broken |= on(Rule.UPSAMPLE_MODE_NDIM) | {(Rule.UPSAMPLE_MODE_NDIM, None)}
        if mode != "nearest" and ndim != 2:  # UpSampling1D/3D only repeat
            broken |= on(Rule.NOT_IN_CONVENTION)
        if "size" in layer:
            if ndim != 2:  # Resizing is 2d
                broken |= on(Rule.NOT_IN_CONVENTION)
        else:  # UpSampling repeats an integer number of times
            broken |= on(Rule.NOT_IN_CONVENTION, {a for a in every if axes("scale_factor")[a] % 1})
        return broken

    broken = set()
    padding = layer.get("padding", "valid")
    if padding not in ("same", "valid"):
        broken |= on(Rule.PADDING_MODE)
    for field in ("padding_end", "output_shape", "ceil_mode"):
        if layer.get(field):
            broken |= on(Rule.NOT_IN_CONVENTION)
    k = axes("kernel_size")
    s = k if kind.endswith("pool") and layer.get("stride") is None else axes("stride", 1)
    d, op = axes("dilation", 1), axes("output_padding")
    if kind in ("conv", "conv_transpose") and max(s) > 1 and max(d) > 1:
        broken.add((Rule.STRIDE_WITH_DILATION, None))
    for a in range(ndim):
        for rule, bad in ((Rule.KERNEL_POSITIVE, k[a] < 1), (Rule.STRIDE_POSITIVE, s[a] < 1),
                          (Rule.DILATION_POSITIVE, d[a] < 1),
                          (Rule.NOT_IN_CONVENTION, kind.endswith("pool") and d[a] > 1),
                          (Rule.OUTPUT_PADDING_NON_NEGATIVE, op[a] is not None and op[a] < 0),
                          (Rule.OUTPUT_PADDING_SMALLER, op[a] is not None and op[a] >= s[a])):
            if bad:
                broken.add((rule, a))
    for a in range(ndim):  # the sizes of the axes whose settings are fine
        if any(axis == a for _, axis in broken) or padding not in ("same", "valid"):
            continue
        out = keras_output(size[a], k[a], s[a], d[a], padding, op[a], kind)
        if out < 1:  # Keras refuses it for a conv or pool, returns it for a transposed conv
            broken.add((Rule.OUTPUT_POSITIVE if kind == "conv_transpose" else Rule.KERNEL_FITS_INPUT, a))
        elif kind == "conv_transpose":  # TF runs it as the gradient of a conv from `out`
            if keras_output(out, k[a], s[a], d[a], padding, None, "conv") != size[a]:
                broken.add((Rule.OUTPUT_SHAPE_MISMATCH, a))
    return broken


# --------------------------------------------------------------------------------------
# The check itself.

_PER_AXIS = ("kernel_size", "stride", "dilation", "output_padding", "scale_factor", "size",
             "output_size")


def explicit(layer: dict[str, Any], ndim: int) -> dict[str, Any]:
    """The layer with per-axis lists, as tf_ref wants it; integral scales as ints."""
    out = {key: _axes(value, ndim) if key in _PER_AXIS and value is not None else value
           for key, value in layer.items()}
    out = {key: list(value) if isinstance(value, tuple) else value for key, value in out.items()}
    if "scale_factor" in out:
        out["scale_factor"] = [int(x) if float(x).is_integer() else x for x in out["scale_factor"]]
    return out


def document(layer: dict[str, Any], size: list[int], channels: int = 2) -> dict[str, Any]:
    return {"input_size": size, "in_channels": channels, "convention": "tensorflow", "layers": [layer]}


def check(layer: dict[str, Any], size: list[int], channels: int = 2,
          ) -> LayerRejected | solver.ForwardResponse:
    """Assert convsolve and Keras agree on one layer; returns convsolve's answer."""
    ours: Any
    try:
        ours = solver.forward(document(layer, size, channels))
    except LayerRejected as exc:
        ours = exc
    try:
        theirs: tuple[int, ...] | None = tf_ref.run_layer(explicit(layer, len(size)), tuple(size), channels)
        message = None
    except tf_ref.TFRejected as exc:
        theirs, message = None, exc.message
    broken = broken_rules(layer, tuple(size))
    if theirs is not None and 0 not in theirs:
        assert not isinstance(ours, LayerRejected), f"Keras gives {theirs} but convsolve says: {ours}"
        assert tuple(ours.output_size) == theirs, f"{layer} on {size}"
        assert not broken, f"oracle out of date: Keras runs {layer} on {size}; broken: {broken}"
        return ours
    assert isinstance(ours, LayerRejected), (
        f"Keras refuses ({message or theirs}) but convsolve gives {ours.output_size}")
    rule = Rule(ours.rule)
    assert (rule, ours.axis) in broken, f"convsolve: {ours} ({rule}); broken: {broken}"
    named = tf_rules(message) if message is not None else {Rule.KERNEL_FITS_INPUT, Rule.OUTPUT_POSITIVE}
    assert named & {r for r, _ in broken}, f"Keras: {message}; broken: {broken}"
    if len({r for r, _ in broken}) == 1:
        assert rule in named, f"Keras: {message}; convsolve: {rule}"
    return ours


# --------------------------------------------------------------------------------------
# Generated layers: mostly valid, some invalid on purpose (about one draw in S.RARE).

def _many(values: st.SearchStrategy[Any], ndim: int) -> st.SearchStrategy[Any]:
    return S.one_or_each_axis(values, ndim)


_PADDINGS = S.mostly(st.sampled_from(["same", "valid"]),
                     st.sampled_from([0, 1, "same_upper", "same_lower"]))


@st.composite
def conv_layers(draw: Any, ndim: int, transposed: bool) -> dict[str, Any]:
    """Conv*D / Conv*DTranspose; stride and dilation both above 1 now and then."""
    stride = draw(_many(S.mostly(st.integers(1, 3), st.just(0)), ndim))
    strided = max(_axes(stride, ndim)) > 1
    dilations = S.mostly(st.integers(1, 3), st.just(0))
    dilation = draw(S.mostly(st.just(1), _many(dilations, ndim), 4) if strided else _many(dilations, ndim))
    layer = {
        "type": "conv_transpose" if transposed else "conv",
        "kernel_size": draw(_many(S.mostly(st.integers(1, 5), st.just(0)), ndim)),
        "stride": stride, "dilation": dilation, "padding": draw(_PADDINGS),
        "out_channels": draw(st.integers(1, 3)),
    }
    if transposed and draw(st.booleans()):  # else Keras infers the output
        below = [max(1, s) - 1 for s in _axes(stride, ndim)]
        layer["output_padding"] = [draw(S.mostly(st.integers(0, b), st.integers(-1, b + 2))) for b in below]
    return layer


@st.composite
def pool_layers(draw: Any, ndim: int, kind: str) -> dict[str, Any]:
    """MaxPooling*D / AveragePooling*D; the stride defaults to the kernel."""
    layer: dict[str, Any] = {
        "type": kind, "kernel_size": draw(_many(S.mostly(st.integers(1, 5), st.just(0)), ndim)),
        "padding": draw(_PADDINGS),
    }
    stride = draw(st.one_of(st.none(), _many(S.mostly(st.integers(1, 4), st.just(0)), ndim)))
    if stride is not None:
        layer["stride"] = stride
    if draw(st.integers(0, S.RARE)) == 0:  # no Keras pool has these
        if kind == "max_pool" and draw(st.booleans()):
            layer["dilation"] = draw(_many(st.integers(1, 2), ndim))
        else:
            layer["ceil_mode"] = True
    return layer


@st.composite
def upsample_layers(draw: Any, ndim: int) -> dict[str, Any]:
    """UpSampling*D by integer factors; Resizing to a size in 2d; the rest rarely."""
    modes = ("nearest", "bilinear", "bicubic") if ndim == 2 else ("nearest",)
    mode = draw(S.mostly(st.sampled_from(modes), st.sampled_from(S.UPSAMPLE_MODES)))
    if draw(S.mostly(st.just(ndim == 2), st.booleans(), 3)) and draw(st.booleans()):
        return {"type": "upsample", "size": draw(_many(st.integers(1, 12), ndim)), "mode": mode}
    scale = draw(_many(S.mostly(st.integers(1, 3), st.sampled_from([0.5, 1.5, 2.5])), ndim))
    return {"type": "upsample", "scale_factor": scale, "mode": mode}


def global_pools(ndim: int) -> st.SearchStrategy[dict[str, Any]]:
    """Global*Pooling*D(keepdims=True): an adaptive pool to 1; to anything else, rarely."""
    sizes = S.mostly(st.just(1), st.one_of(st.integers(2, 3), st.lists(
        st.one_of(st.none(), st.integers(1, 2)), min_size=ndim, max_size=ndim)))
    return st.builds(lambda kind, size: {"type": kind, "output_size": size},
                     st.sampled_from(["adaptive_avg_pool", "adaptive_max_pool"]), sizes)


def layers(family: str, ndim: int) -> st.SearchStrategy[dict[str, Any]]:
    if family in ("conv", "conv_transpose"):
        return conv_layers(ndim, family == "conv_transpose")
    if family in ("max_pool", "avg_pool"):
        return pool_layers(ndim, family)
    return upsample_layers(ndim) if family == "upsample" else global_pools(ndim)


#: TF eager layers cost ~5-10 ms each: 6 families x 3 ranks x MAX examples.
@C.each_family(max_examples=250)
def test_one_layer_matches_keras(family: str, ndim: int, data: st.DataObject) -> None:
    size = data.draw(S.input_sizes(ndim, 1, {1: 16, 2: 12, 3: 8}[ndim]), label="size")
    channels = data.draw(st.integers(1, 3), label="channels")
    answer = check(data.draw(layers(family, ndim), label="layer"), size, channels)
    event("accepted" if not isinstance(answer, LayerRejected) else f"refused: {answer.rule}")


# --------------------------------------------------------------------------------------
# The padding convsolve reports, checked on values: Keras' 'same' layer (every weight 1)
# equals its 'valid' layer on the input padded by [begin, end], for convs and pools; a
# transposed conv's output equals its full output (valid, output_padding 0) cut by it.

def _values(layer: dict[str, Any], x: np.ndarray) -> np.ndarray:
    return tf_ref.run_values(explicit(layer, x.ndim - 2), x)


def _cut(full: np.ndarray, pads: list[list[int]]) -> np.ndarray:
    """full[begin : len - end] per spatial axis; a negative end adds zeros at the end."""
    grow = [(0, 0)] + [(0, max(0, -end)) for _, end in pads] + [(0, 0)]
    full = np.pad(full, grow)
    index = tuple(slice(begin, full.shape[a + 1] - max(0, end)) for a, (begin, end) in enumerate(pads))
    return full[(slice(None), *index, slice(None))]


def check_padding(layer: dict[str, Any], x: np.ndarray) -> None:
    size = list(x.shape[1:-1])
    report = solver.forward(document(layer, size, x.shape[-1])).layers[0]
    pads = report.padding
    assert pads is not None
    out = _values(layer, x)
    assert list(out.shape[1:-1]) == report.output_size
    if layer["type"] == "conv_transpose":  # the pads as PyTorch's: output_padding comes after
        full = _values({**layer, "padding": "valid", "output_padding": [0] * len(size)}, x)
        op = _axes(layer.get("output_padding") or 0, len(size))
        cuts = [[b, e - o] for (b, e), o in zip(pads, op, strict=True)]
        assert np.allclose(out, _cut(full, cuts), rtol=1e-5), f"{layer} on {size}: pads {pads}"
        return
    around = [(0, 0), *map(tuple, pads), (0, 0)]
    valid = _values({**layer, "padding": "valid"}, np.pad(x, around))
    if layer["type"] == "avg_pool":  # TF's 'same' averages over the inputs only, not the pads
        valid = valid / _values({**layer, "padding": "valid"}, np.pad(np.ones_like(x), around))
    assert np.allclose(out, valid, rtol=1e-5), f"{layer} on {size}: pads {pads}"


@st.composite
def padded_layers(draw: Any) -> tuple[dict[str, Any], np.ndarray]:
    """A valid layer with padding 'same' (or 'valid'), and a positive random input."""
    ndim = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["conv", "conv_transpose", "max_pool", "avg_pool"]))
    size = draw(S.input_sizes(ndim, 1, {1: 12, 2: 9, 3: 6}[ndim]))
    kernel = draw(_many(st.integers(1, 5), ndim))
    stride = draw(_many(st.integers(1, 3), ndim))
    layer: dict[str, Any] = {"type": kind, "kernel_size": kernel, "stride": stride,
                             "padding": draw(st.sampled_from(["same", "same", "valid"]))}
    if kind.startswith("conv"):
        strided = max(_axes(stride, ndim)) > 1
        layer["dilation"] = 1 if strided else draw(_many(st.integers(1, 3), ndim))
        layer["out_channels"] = 1
    if kind == "conv_transpose" and draw(st.booleans()):
        layer["output_padding"] = [draw(st.integers(0, s - 1)) for s in _axes(stride, ndim)]
    seed = draw(st.integers(0, 2**16))
    x = np.random.default_rng(seed).uniform(1, 2, (1, *size, 1)).astype("float32")
    return layer, x


@settings(derandomize=True, deadline=None, max_examples=300)
@given(case=padded_layers())
def test_reported_padding_is_what_keras_pads(case: tuple[dict[str, Any], np.ndarray]) -> None:
    layer, x = case
    try:
        solver.forward(document(layer, list(x.shape[1:-1])))
    except LayerRejected as exc:  # too small, or an output_padding TF refuses: no padding
        event(f"refused: {exc.rule}")
        return
    event(f"{layer['type']} {layer['padding']}")
    check_padding(layer, x)


# --------------------------------------------------------------------------------------
# Known cases, each checked by running Keras: output size and [begin, end] per axis.

def _conv(k: Any, s: Any = 1, padding: str = "same", d: Any = 1, **more: Any) -> dict[str, Any]:
    return {"type": "conv", "kernel_size": k, "stride": s, "padding": padding, "dilation": d,
            "out_channels": 2, **more}


def _ct(k: Any, s: Any = 1, padding: str = "same", d: Any = 1, **more: Any) -> dict[str, Any]:
    return {**_conv(k, s, padding, d, **more), "type": "conv_transpose"}


def _pool(kind: str, k: Any, s: Any = None, padding: str = "same") -> dict[str, Any]:
    layer = {"type": kind, "kernel_size": k, "padding": padding}
    return layer if s is None else {**layer, "stride": s}


KNOWN: list[tuple[str, dict[str, Any], list[int], list[int], list[list[int]] | None]] = [
    # TF's 'same': output ceil(i/s), total padding max(0, (out-1)*s + e - i), odd pixel at the end
    ("same s2 odd input", _conv(3, 2), [7], [4], [[1, 1]]),
    ("same s2 even input", _conv(3, 2), [8], [4], [[0, 1]]),
    ("same even kernel", _conv(4), [5], [5], [[1, 2]]),
    ("same stride above kernel", _conv(1, 3), [7], [3], [[0, 0]]),
    ("same dilated", _conv(3, 1, d=2), [5], [5], [[2, 2]]),
    ("same per axis", _conv([3, 2], [2, 3]), [9, 7], [5, 3], [[1, 1], [0, 1]]),
    ("valid", _conv(3, 2, "valid"), [7], [3], [[0, 0]]),
    ("valid dilated kernel fills the input", _conv(3, 1, "valid", d=3), [7], [1], [[0, 0]]),
    ("max pool same", _pool("max_pool", 2, 2), [5], [3], [[0, 1]]),
    ("max pool same stride 1", _pool("max_pool", 3, 1), [4], [4], [[1, 1]]),
    ("avg pool valid, stride = kernel", _pool("avg_pool", 2, None, "valid"), [5], [2], [[0, 0]]),
    ("avg pool same 3d", _pool("avg_pool", [2, 3, 1], [2, 2, 1]), [3, 4, 2], [2, 2, 2],
     [[0, 1], [0, 1], [0, 0]]),
    # Conv*DTranspose without output_padding: i*s ('same'), i*s + max(e - s, 0) ('valid');
    # the pair is what is cut from the full output (i-1)*s + e, negative when it is longer.
    ("transposed same", _ct(3, 2), [4], [8], [[0, 1]]),
    ("transposed valid", _ct(3, 2, "valid"), [4], [9], [[0, 0]]),
    ("transposed valid kernel below stride", _ct(1, 3, "valid"), [4], [12], [[0, -2]]),
    ("transposed same kernel below stride", _ct(1, 3), [4], [12], [[0, -2]]),
    ("transposed same dilated", _ct(3, 1, d=2), [4], [4], [[2, 2]]),
    # With output_padding: (i-1)*s + e - 2*pad + op, pad e//2 ('same') or 0.
    ("transposed same output_padding", _ct(4, 2, output_padding=1), [4], [7], [[1, 3]]),
    ("transposed valid output_padding", _ct(3, 2, "valid", output_padding=1), [4], [10], [[0, 0]]),
    ("transposed valid output_padding 0", _ct(1, 3, "valid", output_padding=0), [4], [10], [[0, 0]]),
    ("upsample 1d", {"type": "upsample", "scale_factor": 2}, [5], [10], None),
    ("upsample 2d bilinear", {"type": "upsample", "scale_factor": [2, 3], "mode": "bilinear"},
     [4, 5], [8, 15], None),
    ("upsample 3d", {"type": "upsample", "scale_factor": [1, 2, 3]}, [2, 2, 2], [2, 4, 6], None),
    ("resizing", {"type": "upsample", "size": [3, 5], "mode": "bicubic"}, [4, 4], [3, 5], None),
    ("global max pool 1d", {"type": "adaptive_max_pool", "output_size": 1}, [7], [1], None),
    ("global avg pool 3d", {"type": "adaptive_avg_pool", "output_size": [1, 1, 1]}, [3, 4, 5],
     [1, 1, 1], None),
]


@pytest.mark.parametrize(("layer", "size", "output", "padding"), [c[1:] for c in KNOWN],
                         ids=[c[0] for c in KNOWN])
def test_known_cases(layer: dict[str, Any], size: list[int], output: list[int],
                     padding: list[list[int]] | None) -> None:
    report = check(layer, size)
    assert not isinstance(report, LayerRejected)
    assert report.output_size == output
    assert report.layers[0].padding == padding
    if padding is not None:
        check_padding(layer, np.random.default_rng(0).uniform(1, 2, (1, *size, 1)).astype("float32"))


# --------------------------------------------------------------------------------------
# Every rule the tensorflow convention has, once, by hand: convsolve and Keras refuse it,
# and name the same rule.

RULE_CASES: list[tuple[Rule, list[int], dict[str, Any]]] = [
    (Rule.KERNEL_POSITIVE, [8], _conv(0)),
    (Rule.STRIDE_POSITIVE, [8, 8], _pool("max_pool", 2, [1, 0])),  # TF's op refuses, at call
    (Rule.STRIDE_POSITIVE, [8], _ct(3, 0)),
    (Rule.DILATION_POSITIVE, [8], _conv(3, 1, d=0)),
    # 'valid', and the dilated kernel 7 is longer than 5
    (Rule.KERNEL_FITS_INPUT, [5, 5], _conv(3, 1, "valid", d=3)),
    # an empty output is refused: Keras' shape inference refuses it, convsolve too
    (Rule.KERNEL_FITS_INPUT, [1], _pool("max_pool", 2, 1, "valid")),
    (Rule.KERNEL_FITS_INPUT, [3, 3, 3], _pool("avg_pool", [1, 4, 1], 1, "valid")),
    (Rule.OUTPUT_PADDING_NON_NEGATIVE, [4], _ct(3, 2, output_padding=-1)),
    # (1-1)*2 + 2 - 2*1 + 0 = 0: Keras returns an empty tensor, convsolve refuses it
    (Rule.OUTPUT_POSITIVE, [1, 3], _ct(2, 2, output_padding=0)),
    # strictly below the stride; a dilation does not allow more (PyTorch's does)
    (Rule.OUTPUT_PADDING_SMALLER, [4], _ct(3, 1, d=2, output_padding=1)),
    (Rule.OUTPUT_PADDING_SMALLER, [4, 4], _ct(3, 2, output_padding=[1, 2])),
    (Rule.STRIDE_WITH_DILATION, [9, 9], _conv(3, [2, 1], "valid", d=[1, 2])),
    (Rule.STRIDE_WITH_DILATION, [9], _ct(3, 2, d=2)),
    # (4-1)*2 + 4 - 2*2 + 0 = 6, whose 'same' conv gives 3, not 4
    (Rule.OUTPUT_SHAPE_MISMATCH, [4], _ct(4, 2, output_padding=0)),
    # axis 1: (4-1)*2 + 4 - 2*2 + 0 = 6 again; axis 0 is fine: 6 + 3 - 2 + 1 = 8 -> 4
    (Rule.OUTPUT_SHAPE_MISMATCH, [4, 4], _ct([3, 4], 2, output_padding=[1, 0])),
    (Rule.PADDING_MODE, [8], _conv(3, 1, 1)),  # pixels: Keras pads by mode only
    (Rule.PADDING_MODE, [8], _pool("max_pool", 3, 1, "same_lower")),
    (Rule.NOT_IN_CONVENTION, [8], {**_pool("max_pool", 2), "ceil_mode": True}),
    (Rule.NOT_IN_CONVENTION, [8], {**_pool("max_pool", 2), "dilation": 2}),
    (Rule.NOT_IN_CONVENTION, [8, 8], {"type": "adaptive_avg_pool", "output_size": 2}),
    (Rule.NOT_IN_CONVENTION, [8], {"type": "upsample", "scale_factor": 1.5}),
    (Rule.NOT_IN_CONVENTION, [8], {"type": "upsample", "size": 5}),
    (Rule.NOT_IN_CONVENTION, [8, 8, 8], {"type": "upsample", "scale_factor": 2, "mode": "trilinear"}),
    (Rule.NOT_IN_CONVENTION, [8], {**_conv(3), "padding_end": 1}),
    (Rule.UPSAMPLE_MODE_NDIM, [8, 8], {"type": "upsample", "scale_factor": 2, "mode": "linear"}),
]
#: Rules no tensorflow layer can break: PyTorch's padding and pool rules (Keras has no
#: pixel padding, no ceil mode, no adaptive pools but global ones).
PYTORCH_ONLY = {Rule.PADDING_NON_NEGATIVE, Rule.SAME_NEEDS_STRIDE_1, Rule.SAME_NOT_FOR_TRANSPOSED,
                Rule.POOL_PADDING_HALF_KERNEL, Rule.AVG_POOL3D_INPUT_FITS_KERNEL,
                Rule.ADAPTIVE_KEEP_NEEDS_2D}
#: Rules the document refuses first (scale 0), of channels (no size rule: checked against
#: torch by test_conformance_torch.py, the same code in every convention), of graphs.
ELSEWHERE = {Rule.SCALE_POSITIVE, Rule.GROUPS_POSITIVE, Rule.GROUPS_DIVIDE_CHANNELS,
             Rule.CHANNELS_MATCH, Rule.CHANNELS_POSITIVE, Rule.JOIN_SIZES_MATCH, Rule.CROP_FITS,
             Rule.ADD_SIZES_BROADCAST, Rule.SIZE_LIMIT, Rule.NORM_NEEDS_VALUES,
             Rule.LINEAR_NEEDS_FLAT, Rule.PAD_FITS_INPUT}


@C.each_rule(RULE_CASES)
def test_each_rule_is_named_as_keras_names_it(rule: Rule, size: list[int], layer: dict[str, Any]) -> None:
    rejected = check(layer, size)
    assert isinstance(rejected, LayerRejected) and rejected.rule == rule.value
    assert isinstance(rejected, solver.ConvsolveError)
    if rule == Rule.OUTPUT_POSITIVE:  # Keras returns an empty tensor
        assert 0 in tf_ref.run_layer(explicit(layer, len(size)), tuple(size))
        return
    with pytest.raises(tf_ref.TFRejected) as refused:
        tf_ref.run_layer(explicit(layer, len(size)), tuple(size))
    assert rule in tf_rules(refused.value.message)


def test_every_rule_has_a_case() -> None:
    C.assert_every_rule_has_a_case(RULE_CASES, PYTORCH_ONLY, ELSEWHERE)


@pytest.mark.parametrize(("layer", "size", "output"), [
    (_pool("avg_pool", 3, 1), [2, 2, 2], [2, 2, 2]), (_pool("max_pool", 5, 1), [1], [1]),
    (_ct(3, 2), [3], [6]),
], ids=["avg_pool3d", "max_pool", "conv_transpose"])
def test_pytorch_only_rules_do_not_apply(layer: dict[str, Any], size: list[int], output: list[int]) -> None:
    """A 3d 'same' average pool on an input below its kernel, a 'same' max pool whose
    window is longer than the input, a 'same' transposed conv: PyTorch refuses each."""
    report = check(layer, size)
    assert not isinstance(report, LayerRejected) and report.output_size == output
