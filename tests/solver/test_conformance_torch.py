"""convsolve's arithmetic against real torch: every formula and every rejection rule.

For each generated document, `solver.forward` and the torch modules a user would write
(`torch_ref`) must agree: both accept, with the same output size, channels, parameter
count and MACs (torch's FlopCounterMode / 2) after every layer, or both refuse the same
layer.  When both refuse, the rule
convsolve names must be one the configuration really breaks (`broken_rules`, written
here from PyTorch's behaviour, independently of solver/_arith.py) and torch's message
must name one of those rules too (`TORCH_MESSAGES`).  They need not be the same rule:
PyTorch checks rule by rule across all axes in an order of its own that differs between
ops, convsolve axis by axis; when only one rule is broken they must be the same.

The examples are derandomized, so CI sees the same few thousand configurations every run.
"""

from __future__ import annotations

import math
from typing import Any

import conformance as C
import pytest
import strategies as S
import torch
import torch_ref
from hypothesis import given, settings
from hypothesis import strategies as st

import solver
from solver import LayerRejected, Rule

# --------------------------------------------------------------------------------------
# What torch says, as convsolve rules.  A fragment may stand for several rules when torch
# uses one message for several causes (a zero-size weight is a zero kernel or zero channels).

TORCH_MESSAGES: list[tuple[str, set[Rule]]] = [
    ("kernel size should be greater than zero", {Rule.KERNEL_POSITIVE}),
    ("kernel_size must be greater than zero", {Rule.KERNEL_POSITIVE}),
    ("non-empty", {Rule.KERNEL_POSITIVE, Rule.CHANNELS_POSITIVE}),
    # padding='same' with kernel 0 pads by d*(k-1)/2 < 0, which crops a 1-pixel input to 0
    ("Only zero batch or zero channel inputs are supported", {Rule.KERNEL_POSITIVE}),
    ("negative dimension", {Rule.KERNEL_POSITIVE, Rule.CHANNELS_POSITIVE}),
    ("non-positive stride", {Rule.STRIDE_POSITIVE}),
    ("stride should not be zero", {Rule.STRIDE_POSITIVE}),
    ("stride must be greater than zero", {Rule.STRIDE_POSITIVE}),
    ("non-positive dilation", {Rule.DILATION_POSITIVE}),
    ("dilation should be greater than zero", {Rule.DILATION_POSITIVE}),
    ("dilation must be greater than zero", {Rule.DILATION_POSITIVE}),
    ("negative padding", {Rule.PADDING_NON_NEGATIVE}),
    ("pad must be non-negative", {Rule.PADDING_NON_NEGATIVE}),
    ("padding must be non-negative", {Rule.PADDING_NON_NEGATIVE}),
    ("negative output_padding", {Rule.OUTPUT_PADDING_NON_NEGATIVE}),
    ("output padding must be smaller than either stride", {Rule.OUTPUT_PADDING_SMALLER}),
    ("Kernel size can't be greater than actual input size", {Rule.KERNEL_FITS_INPUT}),
    ("Output size is too small", {Rule.OUTPUT_POSITIVE}),
    ("Invalid computed output size", {Rule.OUTPUT_POSITIVE}),
    ("output sizes should be greater than 0", {Rule.OUTPUT_POSITIVE}),
    ("half of kernel size", {Rule.POOL_PADDING_HALF_KERNEL}),
    ("half of effective kernel size", {Rule.POOL_PADDING_HALF_KERNEL}),
    ("smaller than kernel size", {Rule.AVG_POOL3D_INPUT_FITS_KERNEL}),
    ("padding='same' is not supported for strided convolutions", {Rule.SAME_NEEDS_STRIDE_1}),
    ("groups must be a positive integer", {Rule.GROUPS_POSITIVE}),
    ("must be divisible by groups", {Rule.GROUPS_DIVIDE_CHANNELS}),
    ("expected weight to be at least", {Rule.CHANNELS_POSITIVE}),  # "... at dimension 0"
    ("channels, but got", {Rule.CHANNELS_MATCH}),
    ("mode needs", {Rule.UPSAMPLE_MODE_NDIM}),
    ("Only 3D, 4D and 5D input Tensors supported", {Rule.UPSAMPLE_MODE_NDIM}),
    ("found element of type NoneType", {Rule.ADAPTIVE_KEEP_NEEDS_2D}),
    # oneDNN, which runs grouped convolutions on the CPU, in place of ATen's checks
    ("could not create a primitive descriptor",
     {Rule.KERNEL_POSITIVE, Rule.DILATION_POSITIVE, Rule.CHANNELS_POSITIVE}),
    ("could not construct a memory descriptor", {Rule.OUTPUT_POSITIVE}),
    ("dimensions are invalid", {Rule.DILATION_POSITIVE}),
    # A padding mode torch does not have: for a transposed conv or a pool, any string.
    ("must be tuple of ints, not str", {Rule.SAME_NOT_FOR_TRANSPOSED, Rule.PADDING_MODE}),
    ("must be tuple of ints, but found element of type str", {Rule.SAME_NOT_FOR_TRANSPOSED, Rule.PADDING_MODE}),
    ("Invalid padding string", {Rule.PADDING_MODE}),
    ("Expected more than 1 spatial element", {Rule.NORM_NEEDS_VALUES}),
    ("Padding size should be less than the corresponding input dimension", {Rule.PAD_FITS_INPUT}),
    ("Padding value causes wrapping around more than once", {Rule.PAD_FITS_INPUT}),
    ("Expected more than 1 value per channel", {Rule.NORM_NEEDS_VALUES}),
    ("mat1 and mat2 shapes cannot be multiplied", {Rule.CHANNELS_MATCH}),
    ("num_channels must be divisible by num_groups", {Rule.GROUPS_DIVIDE_CHANNELS}),
]


torch_rules = C.reader("torch", TORCH_MESSAGES)


# --------------------------------------------------------------------------------------
# Which rules a layer breaks, from PyTorch's behaviour (not from convsolve's code).

Broken = C.Broken
_axes = C.axis_values


def broken_rules(layer: dict[str, Any], size: tuple[int, ...], channels: int) -> Broken:
    """Every (rule, axis) the layer breaks on an input of `size` with `channels` channels."""
    ndim, kind = len(size), layer["type"]
    broken: Broken = set()

    def axes(key: str, default: Any = None) -> tuple[Any, ...]:
        return _axes(layer.get(key, default), ndim)

    if kind == "pad":  # F.pad: a reflection below the input's size, a circular pad at most it
        mode, begin = layer.get("mode", "constant"), _axes(layer["padding"], ndim)
        end = _axes(layer.get("padding_end", layer["padding"]), ndim)
        limit = {"reflect": lambda p, i: p < i, "circular": lambda p, i: p <= i}.get(mode, lambda p, i: True)
        return {(Rule.PAD_FITS_INPUT, a) for a in range(ndim) if not (limit(begin[a], size[a]) and limit(end[a], size[a]))}
    if kind == "norm":  # torch checks a norm's statistics on its whole input (eval mode, batch 1)
        norm, pixels = layer.get("norm", "batch"), math.prod(size)
        tracks = layer.get("track_running_stats", norm == "batch")
        if norm == "group" and channels % layer["num_groups"]:
            return {(Rule.GROUPS_DIVIDE_CHANNELS, None)}
        per_group = channels // layer["num_groups"] if norm == "group" else 1
        if (norm == "group" or norm in ("batch", "instance") and not tracks) and per_group * pixels <= 1:
            return {(Rule.NORM_NEEDS_VALUES, None)}
        return set()
    if kind in ("conv", "conv_transpose"):
        cin, cout = layer.get("in_channels", channels), layer["out_channels"]
        groups = layer.get("groups", 1)
        if cin != channels:
            broken.add((Rule.CHANNELS_MATCH, None))
        if cin < 1 or cout < 1:
            broken.add((Rule.CHANNELS_POSITIVE, None))
        if groups < 1:
            broken.add((Rule.GROUPS_POSITIVE, None))
        elif cin % groups or cout % groups:
            broken.add((Rule.GROUPS_DIVIDE_CHANNELS, None))
        k, s, d = axes("kernel_size"), axes("stride", 1), axes("dilation", 1)
        padding = layer.get("padding", 0)
        if isinstance(padding, str) and padding not in ("same", "valid"):  # torch's two modes
            return broken | {(Rule.PADDING_MODE, a) for a in range(ndim)}
        if kind == "conv_transpose" and padding == "same":
            return broken | {(Rule.SAME_NOT_FOR_TRANSPOSED, a) for a in range(ndim)}
        for a in range(ndim):
            e = d[a] * (k[a] - 1) + 1
            for rule, bad in ((Rule.KERNEL_POSITIVE, k[a] < 1), (Rule.STRIDE_POSITIVE, s[a] < 1),
                              (Rule.DILATION_POSITIVE, d[a] < 1)):
                if bad:
                    broken.add((rule, a))
            if padding == "same":
                if s[a] != 1:
                    broken.add((Rule.SAME_NEEDS_STRIDE_1, a))
                if e - 1 < 0:  # kernel 0: torch derives a negative padding from it
                    broken.add((Rule.PADDING_NON_NEGATIVE, a))
                continue  # total padding e - 1: the kernel always fits
            p = 0 if padding == "valid" else _axes(padding, ndim)[a]
            if p < 0:
                broken.add((Rule.PADDING_NON_NEGATIVE, a))
            if kind == "conv":
                if size[a] + 2 * p < e:
                    broken.add((Rule.KERNEL_FITS_INPUT, a))
                continue
            op = axes("output_padding", 0)[a]
            if op < 0:
                broken.add((Rule.OUTPUT_PADDING_NON_NEGATIVE, a))
            if op >= s[a] and op >= d[a]:
                broken.add((Rule.OUTPUT_PADDING_SMALLER, a))
            if (size[a] - 1) * s[a] - 2 * p + e + op < 1:
                broken.add((Rule.OUTPUT_POSITIVE, a))
    elif kind in ("max_pool", "avg_pool"):
        k = axes("kernel_size")
        s = k if layer.get("stride") is None else axes("stride")
        if isinstance(layer.get("padding"), str):  # pools take no padding mode
            return {(Rule.PADDING_MODE, a) for a in range(ndim)}
        p, d = axes("padding", 0), axes("dilation", 1)
        for a in range(ndim):
            e = d[a] * (k[a] - 1) + 1
            for rule, bad in ((Rule.KERNEL_POSITIVE, k[a] < 1), (Rule.STRIDE_POSITIVE, s[a] < 1),
                              (Rule.DILATION_POSITIVE, d[a] < 1),
                              (Rule.PADDING_NON_NEGATIVE, p[a] < 0)):
                if bad:
                    broken.add((rule, a))
            # PyTorch checks p <= k/2 and, in 2d and 3d, p <= e/2 first: only the
            # second can fail alone, when the dilation is 0.
            if p[a] > k[a] // 2 or (ndim > 1 and p[a] > e // 2):
                broken.add((Rule.POOL_PADDING_HALF_KERNEL, a))
            if s[a] >= 1:
                if layer.get("ceil_mode"):
                    out = -(-(size[a] + 2 * p[a] - e) // s[a]) + 1
                    if (out - 1) * s[a] >= size[a] + p[a]:  # last window starts in the right pad
                        out -= 1
                else:
                    out = (size[a] + 2 * p[a] - e) // s[a] + 1
                if out < 1:
                    broken.add((Rule.OUTPUT_POSITIVE, a))
            if kind == "avg_pool" and ndim == 3 and size[a] < k[a]:
                broken.add((Rule.AVG_POOL3D_INPUT_FITS_KERNEL, a))
    elif kind == "upsample":
        need = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
        if need.get(layer.get("mode", "nearest"), ndim) != ndim:
            broken.add((Rule.UPSAMPLE_MODE_NDIM, None))
        for a in range(ndim):
            if "size" in layer:
                out = axes("size")[a]
            else:  # in doubles, as torch: 100 * 0.29 = 28.999999999999996
                out = math.floor(size[a] * axes("scale_factor")[a])
            if out < 1:
                broken.add((Rule.OUTPUT_POSITIVE, a))
    elif kind.startswith("adaptive"):
        if ndim == 1 and None in axes("output_size"):
            broken.add((Rule.ADAPTIVE_KEEP_NEEDS_2D, 0))
    return broken  # an identity breaks no rule


def backend_quirk(layer: dict[str, Any], broken: Broken, output_size: tuple[int, ...]) -> bool:
    """A refusal of convsolve's that torch 2.13 (CPU) lets through on some code paths only.

    convsolve keeps refusing these; a size-0 map or a dilation of 0 is never what a user
    wants from a solver, and torch itself refuses the same layer on its other paths:
    - a transposed conv whose output is exactly 0 on some axis: ATen's check ("Output size
      is too small") refuses it, but the oneDNN path (batched and multi-threaded, or
      grouped) returns an empty tensor;
    - a grouped transposed conv with dilation 0: oneDNN runs it as a 1-pixel kernel.
    """
    if layer["type"] != "conv_transpose" or not broken:
        return False
    allowed = {Rule.OUTPUT_POSITIVE}
    if layer.get("groups", 1) > 1:
        allowed.add(Rule.DILATION_POSITIVE)
    return all(rule in allowed and (rule != Rule.OUTPUT_POSITIVE or output_size[axis] == 0)
               for rule, axis in broken)


# --------------------------------------------------------------------------------------
# The check itself.

def check(document: dict[str, Any]) -> LayerRejected | None:
    """Assert convsolve and torch agree on `document`; returns convsolve's rejection, if any."""
    ours: Any
    try:
        ours = solver.forward(document)
    except LayerRejected as exc:
        ours = exc
    refused: torch_ref.TorchRejected | None = None
    try:
        ran = torch_ref.run(document)
    except torch_ref.TorchRejected as exc:
        refused, ran = exc, exc.ran
    layers = document["layers"]
    # Input size and channels of every layer torch ran, and of the one after.
    inputs = [(tuple(document["input_size"]), torch_ref.input_channels(document))]
    inputs += [(r.output_size, r.out_channels) for r in ran]

    if isinstance(ours, LayerRejected) and ours.layer < len(ran):
        # torch ran a layer convsolve refuses: only a known quirk of torch's may do that.
        layer, (size, channels) = layers[ours.layer], inputs[ours.layer]
        broken = broken_rules(layer, size, channels)
        assert backend_quirk(layer, broken, ran[ours.layer].output_size), (
            f"torch runs layer {ours.layer} but convsolve says: {ours}")
        return ours

    # Every layer torch ran, convsolve runs too, to the same sizes, channels, params, MACs.
    if isinstance(ours, LayerRejected):
        prefix = {**document, "layers": layers[: ours.layer]}
        reports = solver.forward(prefix).layers if ours.layer else []
    else:
        reports = ours.layers
    for index, (report, truth) in enumerate(zip(reports, ran)):
        layer, (size, channels) = layers[index], inputs[index]
        assert tuple(report.output_size) == truth.output_size, f"layer {index}: {layer}"
        assert report.out_channels == truth.out_channels, f"layer {index}: {layer}"
        assert report.params == truth.params, f"layer {index}: {layer}"
        assert report.macs == truth.macs, f"layer {index}: {layer}"
        assert not broken_rules(layer, size, channels), f"oracle out of date for {layer}"
    if refused is None:
        assert len(reports) == len(ran)
        assert tuple(ours.output_size) == ran[-1].output_size
        return None

    assert isinstance(ours, LayerRejected), (
        f"torch refuses layer {refused.index} ({refused.message}) but convsolve gives "
        f"{ours.output_size}"
    )
    assert ours.layer == refused.index, f"torch: {refused}; convsolve: {ours}"
    layer, (size, channels) = layers[refused.index], inputs[refused.index]
    broken = broken_rules(layer, size, channels)
    named = torch_rules(refused.message)
    ours_rule = Rule(ours.rule)
    assert (ours_rule, ours.axis) in broken, f"convsolve: {ours} ({ours.rule}); broken: {broken}"
    assert named & {rule for rule, _ in broken}, f"torch: {refused.message}; broken: {broken}"
    if len({rule for rule, _ in broken}) == 1:
        assert ours_rule in named, f"torch: {refused.message}; convsolve: {ours.rule}"
    return ours


# --------------------------------------------------------------------------------------
# Generated configurations: thousands, derandomized.  `pytest --hypothesis-show-statistics`
# shows how many were accepted and which rules refused the others.

CONFORMANCE = settings(derandomize=True, deadline=None, max_examples=500)


@C.each_family(max_examples=500)
def test_one_layer_matches_torch(family: str, ndim: int, data: st.DataObject) -> None:
    C.record(check(data.draw(S.documents(family, ndim), label="document")))


@pytest.mark.parametrize("ndim", [1, 2, 3])
@settings(CONFORMANCE, max_examples=150)
@given(data=st.data())
def test_stacks_match_torch_at_every_layer(ndim: int, data: st.DataObject) -> None:
    C.record(check(data.draw(S.stacks(ndim), label="document")))




# --------------------------------------------------------------------------------------
# Every rule, once, by hand: convsolve and torch refuse it, and name the same rule.

RULE_CASES: list[tuple[Rule, list[int], dict[str, Any]]] = [
    (Rule.KERNEL_POSITIVE, [8], {"type": "conv", "kernel_size": 0, "out_channels": 2}),
    (Rule.STRIDE_POSITIVE, [8, 8], {"type": "conv", "kernel_size": 3, "stride": [1, 0],
                                    "out_channels": 2}),
    (Rule.DILATION_POSITIVE, [8], {"type": "max_pool", "kernel_size": 2, "dilation": 0}),
    (Rule.PADDING_NON_NEGATIVE, [8], {"type": "conv", "kernel_size": 3, "padding": -1,
                                      "out_channels": 2}),
    # The dilated kernel counts: 3*(3-1)+1 = 7 > 5 + 2*0.
    (Rule.KERNEL_FITS_INPUT, [5, 5], {"type": "conv", "kernel_size": 3, "dilation": 3,
                                      "out_channels": 2}),
    (Rule.SAME_NEEDS_STRIDE_1, [8], {"type": "conv", "kernel_size": 3, "padding": "same",
                                     "stride": 2, "out_channels": 2}),
    (Rule.OUTPUT_PADDING_NON_NEGATIVE, [4], {"type": "conv_transpose", "kernel_size": 3,
                                             "output_padding": -1, "out_channels": 2}),
    (Rule.OUTPUT_PADDING_SMALLER, [4, 4], {"type": "conv_transpose", "kernel_size": 3,
                                           "stride": 2, "dilation": 2, "output_padding": 2,
                                           "out_channels": 2}),
    (Rule.OUTPUT_POSITIVE, [5], {"type": "max_pool", "kernel_size": 6}),
    (Rule.OUTPUT_POSITIVE, [3], {"type": "conv_transpose", "kernel_size": 1, "padding": 2,
                                 "out_channels": 2}),
    (Rule.OUTPUT_POSITIVE, [3, 3], {"type": "upsample", "scale_factor": 0.3}),
    # DESIGN.md's example: the limit is half the kernel, not half the dilated kernel.
    (Rule.POOL_PADDING_HALF_KERNEL, [8, 8], {"type": "max_pool", "kernel_size": 3,
                                             "padding": 2, "dilation": 2}),
    (Rule.POOL_PADDING_HALF_KERNEL, [8], {"type": "avg_pool", "kernel_size": 4, "padding": 3}),
    # The unpadded input counts: 5 < 6 although 5 + 2*3 >= 6.
    (Rule.AVG_POOL3D_INPUT_FITS_KERNEL, [5, 5, 5], {"type": "avg_pool", "kernel_size": 6,
                                                    "padding": 3}),
    (Rule.GROUPS_POSITIVE, [8], {"type": "conv", "kernel_size": 3, "groups": 0,
                                 "out_channels": 2}),
    (Rule.GROUPS_DIVIDE_CHANNELS, [8], {"type": "conv", "kernel_size": 3, "groups": 2,
                                        "out_channels": 3}),
    (Rule.CHANNELS_MATCH, [8], {"type": "conv", "kernel_size": 3, "in_channels": 3,
                                "out_channels": 2}),
    (Rule.CHANNELS_POSITIVE, [8], {"type": "conv", "kernel_size": 3, "out_channels": 0}),
    (Rule.UPSAMPLE_MODE_NDIM, [8], {"type": "upsample", "scale_factor": 2, "mode": "bilinear"}),
    (Rule.UPSAMPLE_MODE_NDIM, [8, 8], {"type": "upsample", "size": 4, "mode": "trilinear"}),
    (Rule.ADAPTIVE_KEEP_NEEDS_2D, [8], {"type": "adaptive_max_pool", "output_size": [None]}),
    (Rule.SAME_NOT_FOR_TRANSPOSED, [8], {"type": "conv_transpose", "kernel_size": 3, "padding": "same",
                                         "out_channels": 2}),
    (Rule.PADDING_MODE, [8], {"type": "max_pool", "kernel_size": 3, "padding": "same"}),
    (Rule.PADDING_MODE, [8], {"type": "avg_pool", "kernel_size": 3, "padding": "valid"}),
    (Rule.PADDING_MODE, [8], {"type": "conv", "kernel_size": 3, "padding": "same_upper", "out_channels": 2}),
    (Rule.NORM_NEEDS_VALUES, [1, 1], {"type": "norm", "norm": "instance"}),
    (Rule.PAD_FITS_INPUT, [3, 8], {"type": "pad", "padding": [3, 1], "mode": "reflect"}),
    (Rule.PAD_FITS_INPUT, [2], {"type": "pad", "padding": 1, "padding_end": 3, "mode": "circular"}),
    (Rule.NORM_NEEDS_VALUES, [1], {"type": "norm", "norm": "group", "num_groups": 2}),
]
# Rules a valid document cannot break: the document schema refuses first (see below).
UNREACHABLE = {Rule.SCALE_POSITIVE}
#: Rules of the tensorflow and onnx conventions: tests/solver/test_conformance_{tf,onnx}.py.
OTHER_CONVENTIONS = {Rule.NOT_IN_CONVENTION, Rule.STRIDE_WITH_DILATION, Rule.OUTPUT_SHAPE_MISMATCH}


@C.each_rule(RULE_CASES)
def test_each_rule_is_named_as_torch_names_it(rule: Rule, size: list[int], layer: dict) -> None:
    document = {"input_size": size, "in_channels": 2, "layers": [layer]}
    rejected = check(document)
    assert rejected is not None and rejected.rule == rule.value
    with pytest.raises(torch_ref.TorchRejected) as refused:
        torch_ref.run(document)
    assert rule in torch_rules(refused.value.message)


#: Rules about several tensors, checked against torch in tests/solver/test_graph_forward.py.
GRAPH_RULES = {Rule.JOIN_SIZES_MATCH, Rule.ADD_SIZES_BROADCAST, Rule.CROP_FITS}
#: convsolve's own limit, not a framework's: tests/solver/test_limits.py; and its reading
#: of nn.Linear, which torch applies to the last axis: a linear reads a flat tensor
#: (tests/solver/test_dense.py checks heads against torch).
LIMITS = {Rule.SIZE_LIMIT, Rule.LINEAR_NEEDS_FLAT}


def test_every_rule_has_a_case() -> None:
    C.assert_every_rule_has_a_case(RULE_CASES, UNREACHABLE, GRAPH_RULES, OTHER_CONVENTIONS, LIMITS)


def test_an_empty_transposed_conv_output_is_refused_as_torch_batch_1_refuses_it() -> None:
    # (1-1)*1 - 2 + 2 = 0 on the first axis: ATen's check refuses it; only oneDNN's kernel,
    # batched and multi-threaded, would return the empty tensor.
    empty = {"type": "conv_transpose", "kernel_size": [2, 3], "padding": [1, 1], "out_channels": 2}
    rejected = check({"input_size": [1, 4], "in_channels": 2, "layers": [empty]})
    assert rejected is not None and rejected.rule == Rule.OUTPUT_POSITIVE and rejected.axis == 0
    module = torch.nn.ConvTranspose2d(2, 2, [2, 3], padding=[1, 1])
    with torch.no_grad(), pytest.raises(RuntimeError, match="Output size is too small"):
        module(torch.zeros(1, 2, 1, 4))


@pytest.mark.parametrize(("layer", "size"), [
    ({"type": "upsample", "scale_factor": 0}, [8]),
    ({"type": "upsample", "scale_factor": -2.0}, [8]),
])
def test_unreachable_rules_are_refused_by_the_document(layer: dict, size: list[int]) -> None:
    document = {"input_size": size, "in_channels": 2, "layers": [layer]}
    with pytest.raises(solver.DocumentError):
        solver.forward(document)
    with pytest.raises(torch_ref.TorchRejected):
        torch_ref.run(document)


# --------------------------------------------------------------------------------------
# padding="same": where the extra pixel of an even total goes, checked on values.

@pytest.mark.parametrize("dilation", [1, 2, 3])
@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5, 6])
def test_same_padding_split_matches_torch(kernel: int, dilation: int) -> None:
    """Conv(padding='same') equals an explicit pad by convsolve's [begin, end], then conv."""
    layer = {"type": "conv", "kernel_size": [kernel, 2], "dilation": [dilation, 3],
             "padding": "same", "out_channels": 2}
    report = solver.forward({"input_size": [9, 7], "in_channels": 2, "layers": [layer]})
    (top, bottom), (left, right) = report.layers[0].padding
    torch.manual_seed(0)
    module = torch_ref.build(layer, 2, 2)
    x = torch.randn(1, 2, 9, 7)
    with torch.no_grad():
        same = torch_ref.quiet(module, x)
        padded = torch.nn.functional.pad(x, (left, right, top, bottom))
        explicit = torch.nn.functional.conv2d(padded, module.weight, module.bias,
                                              dilation=(dilation, 3))
    assert same.shape == explicit.shape == (1, 2, 9, 7)
    assert torch.allclose(same, explicit, atol=1e-6)


def test_zero_channels_are_refused_although_torch_runs_them() -> None:
    """A deliberate difference: Conv1d(0, 2, 3) runs on a (1, 0, 8) tensor (with a warning
    that initializing zero-element tensors is a no-op), but a map with no channels is
    no design; the document already refuses in_channels 0, and so does the layer."""
    document = {"input_size": [8], "layers": [
        {"type": "conv", "kernel_size": 3, "in_channels": 0, "out_channels": 2}]}
    assert torch_ref.run(document)[0].output_size == (6,)
    with pytest.raises(LayerRejected) as exc:
        solver.forward(document)
    assert exc.value.rule == Rule.CHANNELS_POSITIVE
