"""Exported PyTorch code runs, and every layer's output has the planned size."""

from __future__ import annotations

import itertools
import re
import warnings
from typing import Any, NamedTuple

import pytest
import strategies as S
import tf_ref
import torch
import torch_ref
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import solver
from solver.services.export import to_keras, to_torch

torch.set_num_threads(1)


class Run(NamedTuple):
    sizes: list[list[int]]  # every layer module's output size, in call order
    output: list[int]
    channels: int  # the output's
    modules: list[tuple[int, int]]  # every layer module's (in, out) channels, in call order
    in_channels: int  # the input's, as the code's __main__ runs it


def run_exported(document: dict[str, Any]) -> Run:
    """Exec the exported code and run it on zeros of the input size, with the batch and
    channel count its __main__ uses (picked when the document leaves it open)."""
    code = to_torch(document)
    net = torch_ref.exported(code)
    seen: list[tuple[list[int], int, int]] = []
    for module in net.children():
        module.register_forward_hook(
            lambda _m, inputs, out: seen.append((list(out.shape[2:]), inputs[0].shape[1], out.shape[1])))
    match = re.search(r"torch\.zeros\((\d), (\d+), ", code)
    assert match is not None
    channels = int(match[2])
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. torch's note on padding='same' with even kernels
        out = net(torch.zeros(int(match[1]), channels, *document["input_size"]))
    return Run([s for s, _, _ in seen], list(out.shape[2:]), out.shape[1],
               [(i, o) for _, i, o in seen], channels)


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(1, 3).flatmap(lambda n: S.stacks(n)))
def test_exported_stack_matches_the_forward_engine(document: dict[str, Any]) -> None:
    try:
        report = solver.forward(document)
    except solver.ConvsolveError:
        with pytest.raises(solver.ConvsolveError):
            to_torch(document)  # nothing is exported for what PyTorch refuses
        return
    run = run_exported(document)
    assert run.sizes == [r.output_size for r in report.layers]
    assert run.output == report.output_size
    if report.out_channels is not None:
        assert run.channels == report.out_channels


def test_exported_graph_wires_skips_and_sums() -> None:
    doc = {"input_size": [32, 24], "in_channels": 3, "layers": [
        {"name": "e1", "type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 8},
        {"name": "down", "type": "max_pool", "kernel_size": 2},
        {"name": "mid", "type": "conv", "kernel_size": 3, "padding": "same", "out_channels": 8},
        {"name": "up", "type": "conv_transpose", "kernel_size": 2, "stride": 2, "out_channels": 8},
        {"name": "skip", "type": "concat", "inputs": ["e1", "up"]},
        {"name": "fuse", "type": "conv", "kernel_size": 1, "out_channels": 8},
        {"name": "res", "type": "add", "inputs": ["fuse", "e1"]},
        {"name": "class", "type": "conv", "kernel_size": 1, "out_channels": 2, "input": "res"}]}
    code = to_torch(doc)
    assert "torch.cat([e1, up], dim=1)" in code and "res = fuse + e1" in code
    assert "self.layer_class" in code  # a Python keyword is not an attribute name
    run = run_exported(doc)
    report = solver.forward(doc)
    assert run.sizes == [r.output_size for r in report.layers if r.type not in ("concat", "add")]
    assert (run.output, run.channels) == ([32, 24], 2)


def test_a_solution_exports_as_is() -> None:
    result = solver.solve({"input_size": [64, 64], "target_size": [16, 16], "limit": 1,
                           "objective": "smallest_kernels", "layers": [
                               {"type": "conv", "kernel_size": {"min": 1, "max": 5},
                                "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 2}},
                               {"type": "max_pool", "kernel_size": {"choices": [2, 3]}}]})
    layers = result.solutions[0].layers
    run = run_exported({"input_size": [64, 64], "layers": layers})
    assert run.sizes == result.solutions[0].sizes[0] and run.output == [16, 16]


# --- the tensorflow and onnx conventions, translated to PyTorch; Keras -----------------

@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["tensorflow", "onnx"]).flatmap(
    lambda c: st.integers(1, 3).flatmap(lambda n: S.convention_stacks(c, n))))
def test_a_convention_exports_to_torch_with_explicit_pads(document: dict[str, Any]) -> None:
    try:
        report = solver.forward(document)
    except solver.ConvsolveError:
        with pytest.raises(solver.ConvsolveError):
            to_torch(document)
        return
    code = to_torch(document)
    assert " padding=" not in code and "(padding=" not in code  # every pad is a module of its own
    run = run_exported(document)
    assert run.sizes == [r.output_size for r in report.layers]
    assert (run.output, run.channels) == (report.output_size, report.out_channels)


def run_keras(document: dict[str, Any]) -> list[list[int]]:
    """Run the Keras export on zeros of its Input's shape (in tf_ref's worker): the output
    size of every layer the model holds (those the output depends on), in Keras' order."""
    code = to_keras(document)
    match = re.search(r"keras\.Input\(shape=\(([\d, ]+),\)", code)
    assert match is not None
    return tf_ref.run_model(code, "build_net", tuple(int(n) for n in match[1].split(", ")))


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(1, 3).flatmap(lambda n: S.convention_stacks("tensorflow", n)))
def test_keras_export_runs_with_the_reported_sizes(document: dict[str, Any]) -> None:
    try:
        report = solver.forward(document)
    except solver.ConvsolveError:
        return
    assert run_keras(document) == [r.output_size for r in report.layers]


def test_a_tensorflow_design_solved_then_rebuilt_in_torch_and_keras() -> None:
    """An encoder-decoder solved in TensorFlow's sizes (75 x 60 -> 38 x 30 -> 19 x 15 with
    'same' convs, and back): the best solution, translated to PyTorch with explicit pads, has the same
    sizes in torch, and its Keras code in Keras."""
    free = {"kernel_size": {"choices": [3, 4]}, "stride": 2, "padding": {"choices": ["same", "valid"]}}
    op = {"output_padding": [{"min": 0, "max": 1}] * 2}  # per axis: 75 is odd, 60 is not
    document = {"convention": "tensorflow", "input_size": [75, 60], "in_channels": 3, "target_size": "input",
                "objective": ["least_padding", "smallest_kernels"], "limit": 3,
                "layers": [{"type": "conv", "out_channels": 8, **free, "padding": "same"},
                           {"type": "conv", "out_channels": 8, **free, "padding": "same"},
                           {"type": "conv_transpose", "out_channels": 8, **free, **op},
                           {"type": "conv_transpose", "out_channels": 3, **free, **op}]}
    result = solver.solve(document)
    assert result.status == "limit" and result.count is not None and result.count > 3
    sizes = result.solutions[0].sizes[0]
    assert sizes[:2] == [[38, 30], [19, 15]] and sizes[-1] == [75, 60]
    best = {"convention": "tensorflow", "input_size": [75, 60], "in_channels": 3,
            "layers": result.solutions[0].layers}
    assert "ZeroPad2d" in to_torch(best)  # TensorFlow's asymmetric padding, written out
    run = run_exported(best)
    assert run.sizes == sizes and (run.output, run.channels) == ([75, 60], 3)
    assert run_keras(best) == sizes
    with pytest.raises(solver.DocumentError, match="tensorflow convention"):
        to_keras({**best, "convention": "onnx"})


def test_keras_export_wires_a_graph() -> None:
    """Named skips, sums and crops in Keras' functional API, with the reported sizes."""
    doc = {"convention": "tensorflow", "input_size": [21, 20], "in_channels": 3, "layers": [
        {"name": "e1", "type": "conv", "kernel_size": 3, "padding": "same", "out_channels": 4},
        {"name": "down", "type": "max_pool", "kernel_size": 2, "padding": "valid"},
        {"name": "up", "type": "upsample", "scale_factor": 2, "mode": "bicubic"},
        {"name": "e1c", "type": "crop", "input": "e1", "to": "up"},
        {"name": "skip", "type": "concat", "inputs": ["e1c", "up"]},
        {"name": "fuse", "type": "conv", "kernel_size": 1, "padding": "valid", "out_channels": 4},
        {"name": "res", "type": "add", "inputs": ["fuse", "e1c"]}]}
    code = to_keras(doc)
    assert "layers.Add(name='res')" in code and "interpolation='bicubic'" in code
    report = solver.forward(doc)
    assert run_keras(doc) == [r.output_size for r in report.layers] and report.output_size == [20, 20]


def test_onnx_resize_translates_to_its_size() -> None:
    """onnxruntime scales in float32: 0.29 on 100 is 29 (torch's double would give 28);
    the translation gives Upsample the size, and Resize's 2d "linear" as "bilinear"."""
    doc = {"convention": "onnx", "input_size": [100, 100], "layers": [
        {"type": "upsample", "scale_factor": 0.29, "mode": "linear"}]}
    assert "nn.Upsample(size=29, mode='bilinear')" in to_torch(doc)
    assert run_exported(doc).output == [29, 29] == solver.forward(doc).output_size


# --- channel counts the document leaves open (issue #12) -------------------------------

def assert_channels_are_forwards(document: dict[str, Any], run: Run) -> None:
    """Every count forward knows is the code's, layer by layer; the others made it run."""
    report = solver.forward(document)
    modules = [r for r in report.layers if r.type not in ("concat", "add", "crop")]
    assert run.sizes == [r.output_size for r in modules]
    assert run.output == report.output_size
    assert run.in_channels == document.get("in_channels", run.in_channels)
    for r, (cin, cout) in zip(modules, run.modules, strict=True):
        assert r.in_channels in (None, cin) and r.out_channels in (None, cout), r
    assert report.out_channels in (None, run.channels)


# (document's in_channels, layers, what the code then says it picked)
OPEN_CHANNELS = [
    # The case: a conv without out_channels keeps 2, which groups 4 does not divide.
    (2, [{"type": "conv", "kernel_size": 1, "groups": 2}, {"type": "max_pool", "kernel_size": 2},
         {"type": "conv", "kernel_size": 1, "groups": 4, "out_channels": 4}], ["4 out of layer 0"]),
    (None, [{"type": "conv", "kernel_size": 1, "groups": 2, "out_channels": 4},
            {"type": "max_pool", "kernel_size": 2}, {"type": "conv", "kernel_size": 1, "groups": 4}],
     ["2 at the input", "4 out of layer 2"]),
    (None, [{"type": "conv", "kernel_size": 3, "groups": 3, "out_channels": 6}], ["3 at the input"]),
    # A concat of the open input and 2 known channels: groups 4 needs the input to be 2 (mod 4).
    (None, [{"name": "c", "type": "conv", "kernel_size": 1, "out_channels": 2},
            {"name": "cat", "type": "concat", "inputs": ["input", "c"]},
            {"type": "conv", "kernel_size": 1, "groups": 4, "out_channels": 4}], ["2 at the input"]),
    # An add of the open input and 5 known channels.
    (None, [{"name": "p", "type": "max_pool", "kernel_size": 1},
            {"name": "c", "type": "conv", "kernel_size": 1, "out_channels": 5, "input": "input"},
            {"type": "add", "inputs": ["p", "c"]}], ["5 at the input"]),
    # A declared in_channels after the open input.
    (None, [{"type": "conv", "kernel_size": 1, "in_channels": 6, "groups": 3}],
     ["6 at the input", "6 out of layer 0"]),
    # An add of two open counts and a known one; groups 2 on the way.
    (None, [{"name": "a", "type": "conv", "kernel_size": 1, "groups": 2},
            {"name": "b", "type": "conv", "kernel_size": 1, "out_channels": 6, "input": "input"},
            {"name": "s", "type": "add", "inputs": ["a", "b"]},
            {"type": "conv", "kernel_size": 1, "groups": 3, "out_channels": 3}],
     ["2 at the input", "6 out of layer 0 'a'"]),
    # u + 2u: only when the input's 1 broadcasts
    (None, [{"name": "twice", "type": "concat", "inputs": ["input", "input"]},
            {"type": "add", "inputs": ["input", "twice"]}], ["1 at the input"]),
]


@pytest.mark.parametrize(("in_channels", "layers", "picked"), OPEN_CHANNELS)
def test_open_channel_counts_are_picked_to_fit(in_channels: int | None, layers: list[dict[str, Any]],
                                               picked: list[str]) -> None:
    document = {"input_size": [4, 4], "layers": layers}
    if in_channels is not None:
        document["in_channels"] = in_channels
    code = to_torch(document)
    assert [line.removeprefix("#   ") for line in code.splitlines() if line.startswith("#   ")] == picked
    assert_channels_are_forwards(document, run_exported(document))


@pytest.mark.parametrize(("in_channels", "layers", "picked"), OPEN_CHANNELS)
def test_open_channel_counts_in_keras(in_channels: int | None, layers: list[dict[str, Any]],
                                      picked: list[str]) -> None:
    """The same counts in the Keras model (its grouped convs and Add refuse others)."""
    document = {"convention": "tensorflow", "input_size": [4, 4], "layers": layers}
    if in_channels is not None:
        document["in_channels"] = in_channels
    assert [line for line in to_keras(document).splitlines() if line.startswith("#   ")] == [f"#   {p}" for p in picked]
    report = solver.forward(document)
    assert sorted(run_keras(document)) == sorted(report.layers[t].output_size for t in keras_layers(document))


def test_in_channels_tell_forward_an_open_count() -> None:
    document = {"input_size": [4], "layers": [
        {"type": "conv", "kernel_size": 1, "in_channels": 3},
        {"type": "conv", "kernel_size": 1, "in_channels": 5, "input": "input"}]}
    with pytest.raises(solver.LayerRejected, match="in_channels is 5 but the incoming tensor has 3"):
        solver.forward(document)


@pytest.mark.parametrize(("layers", "where"), [
    # forward takes this (the input's count is open to it), yet no count fits:
    # 2u + 3u: neither is 1, nor are they equal
    ([{"name": "twice", "type": "concat", "inputs": ["input", "input"]},
      {"name": "thrice", "type": "concat", "inputs": ["input", "input", "input"]},
      {"type": "add", "inputs": ["twice", "thrice"]}], 2),
])
def test_channel_counts_nothing_fits_are_refused_by_name(layers: list[dict[str, Any]], where: int) -> None:
    document = {"input_size": [4], "layers": layers}
    solver.forward(document)
    with pytest.raises(solver.DocumentError, match=rf"layers\.{where}: no channel counts fit layer {where}"):
        to_torch(document)


# --- layer names that Python, nn.Module or Keras would take otherwise ------------------

#: Names a layer may have: Python keywords and soft keywords, what the generated code uses
#: (nn.Module's attributes, center_crop, torch, keras, ...), names Python reads as one
#: after NFKC ('ﬁx' and 'fix', 'x²' and 'x2', 'é' composed or not), names that differ by
#: case, generated names, names TensorFlow refuses (spaces, '/', non-ASCII).
HOSTILE = (
    "x²", "x2", "x", "self", "training", "center_crop", "forward", "__init__", "super", "torch",
    "nn", "F", "keras", "layers", "Model", "__class__", "class", "match", "case", "_", "type",
    "1st", "a" * 200, "Ab", "ab", "ﬁx", "fix", "é", "e\u0301", "layer0", "layer1", "layer_class",
    "to", "cuda", "eval", "parameters", "T_destination", "a/b", "a_b", "a b", "input_layer",
    "conv2d", "#1", "build_net", "Net", "None", "print", "zip", "卷积", "\u2028", "'\"",
)


def test_the_reserved_names_cover_nn_module() -> None:
    """A layer attribute must not replace one of nn.Module's (`training`, `to`, `eval`)."""
    from solver.services import codegen

    assert {n for n in dir(torch.nn.Module()) if not n.startswith("_")} <= codegen.MODULE_ATTRIBUTES


def test_hostile_names_run_in_torch_and_keras() -> None:
    """Every hostile name on one layer: a chain of convs, each reading the one before by
    name, with different channel counts on names that Python reads as one; then joins
    that read them, so that the Keras model holds every layer."""
    layers: list[dict[str, Any]] = [
        {"name": name, "type": "conv", "kernel_size": 1, "padding": "valid",
         "out_channels": 2 if name in ("Ab", "ab") else i % 3 + 1, **({"input": HOSTILE[i - 1]} if i else {})}
        for i, name in enumerate(HOSTILE)]
    layers += [{"name": "both", "type": "concat", "inputs": ["ﬁx", "fix", "x²", "x2", "é", "e\u0301"]},
               {"name": "sum", "type": "add", "inputs": ["Ab", "ab"]},
               {"name": "cropped", "type": "crop", "input": "input", "to": "both"},
               {"type": "concat", "inputs": [HOSTILE[-1], "both", "sum", "cropped"]}]
    document = {"convention": "tensorflow", "input_size": [3, 3], "in_channels": 2, "layers": layers}
    assert_channels_are_forwards(document, run_exported(document))
    assert run_keras(document) == [[3, 3]] * len(layers)


def test_class_names_the_code_cannot_use_are_refused() -> None:
    for name in ("torch", "center_crop", "class", "My Net", "x²"):
        with pytest.raises(solver.DocumentError, match="class_name"):
            to_torch({"input_size": [4], "layers": []}, class_name=name)
    assert "def build_my_net2()" in to_keras({"convention": "tensorflow", "input_size": [4], "layers": []},
                                               name="My Net²")


# --- the promise: every forward-valid document exports to code that runs --------------

@st.composite
def channel_fields(draw: Any, convention: str, kind: str) -> dict[str, Any]:
    """groups, and out_channels (a multiple of them) and in_channels, each often left out."""
    groups = 1 if convention == "tensorflow" and kind == "conv_transpose" else draw(st.sampled_from([1, 1, 2, 3, 4]))
    fields: dict[str, Any] = {"groups": groups}
    if draw(st.integers(0, 2)):
        fields["out_channels"] = groups * draw(st.integers(1, 3))
    if draw(st.integers(0, 5)) == 0:
        fields["in_channels"] = draw(st.integers(1, 8))
    return fields


@st.composite
def graphs(draw: Any, convention: str) -> dict[str, Any]:
    """A forward-valid graph in the convention: layers drawn one by one, each kept when
    forward takes the document with it; hostile names, `input` wiring, concats, adds and
    crops, open channel counts and groups."""
    ndim = draw(st.integers(1, 3))
    document: dict[str, Any] = {"convention": convention, "layers": [],
                                "input_size": draw(S.input_sizes(ndim, 4, {1: 24, 2: 12, 3: 6}[ndim]))}
    if draw(st.booleans()):
        document["in_channels"] = draw(st.integers(1, 6))
    sizes = {"input": document["input_size"]}  # the tensors a layer can name, and their sizes
    for _ in range(draw(st.integers(1, 7))):
        kind = draw(st.sampled_from(["layer"] * 6 + ["concat", "add", "crop"]))
        first = draw(st.sampled_from(sorted(sizes)))
        if kind == "layer":
            if convention == "pytorch":
                family = draw(st.sampled_from(["conv", "conv", "conv_transpose", *S.FAMILIES]))
                layer = draw(S.layers(family, ndim, 1, rare=1000))
            else:
                layer = draw(S.convention_layers(convention, ndim, 1))
            if layer["type"] in ("conv", "conv_transpose"):
                for key in ("groups", "in_channels", "out_channels"):
                    layer.pop(key, None)
                layer.update(draw(channel_fields(convention, layer["type"])))
            if draw(st.booleans()):
                layer["input"] = first
        elif kind == "crop":
            layer = {"type": "crop", "input": first, "to": draw(st.sampled_from(sorted(sizes)))}
        else:
            # a concat's inputs of one size; an add's of any (forward broadcasts 1s, or refuses)
            same = sorted(name for name, size in sizes.items() if kind == "add" or size == sizes[first])
            layer = {"type": kind, "inputs": [first, *draw(st.lists(st.sampled_from(same), min_size=1, max_size=2))]}
        name = draw(st.sampled_from(HOSTILE))
        if name not in sizes and draw(st.integers(0, 3)):
            layer["name"] = name
        try:
            report = solver.forward({**document, "layers": [*document["layers"], layer]})
        except solver.ConvsolveError:
            continue
        document["layers"].append(layer)
        if "name" in layer:
            sizes[layer["name"]] = report.layers[-1].output_size
    assume(document["layers"])
    return document


def open_counts(document: dict[str, Any]) -> list[tuple[int, int]]:
    """The channel counts a document leaves open: (-1, 1) for the input's, (t, groups)
    for layer t, a conv without out_channels."""
    return [(-1, 1)] * ("in_channels" not in document) + [
        (t, layer.get("groups", 1)) for t, layer in enumerate(document["layers"])
        if layer["type"] in ("conv", "conv_transpose") and "out_channels" not in layer]


def with_counts(document: dict[str, Any], counts: dict[int, int]) -> dict[str, Any]:
    """The document with those open counts given (-1: in_channels; t: layer t's out_channels)."""
    layers = [{**layer, "out_channels": counts[t]} if t in counts else layer
              for t, layer in enumerate(document["layers"])]
    return {**document, "layers": layers, **({"in_channels": counts[-1]} if -1 in counts else {})}


def forward_takes(document: dict[str, Any]) -> bool:
    try:
        solver.forward(document)
    except solver.ConvsolveError:
        return False
    return True


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["pytorch", "tensorflow", "onnx"]).flatmap(graphs))
def test_every_forward_valid_graph_runs_in_torch_with_forwards_sizes(document: dict[str, Any]) -> None:
    """The code runs with forward's sizes and channels; the counts it picked, written into
    the document, make one forward takes with every count known."""
    opened = open_counts(document)
    try:
        run = run_exported(document)
    except solver.DocumentError as exc:
        # Forward takes documents whose open counts nothing fits (it does not relate the
        # counts it leaves open: an add of the input and a concat of it twice): to be
        # refused by forward; here, no counts up to 12 fit either.
        assert "no channel counts fit" in str(exc)
        assume(len(opened) <= 3)
        choices = [range(g, 13, g) for _, g in opened]
        assert not any(forward_takes(with_counts(document, dict(zip([t for t, _ in opened], values, strict=True))))
                       for values in itertools.product(*choices))
        return
    assert_channels_are_forwards(document, run)
    modules = [t for t, layer in enumerate(document["layers"]) if layer["type"] not in ("concat", "add", "crop")]
    picked = {t: run.modules[modules.index(t)][1] for t, _ in opened if t >= 0} | {-1: run.in_channels}
    full = solver.forward(with_counts(document, picked))
    assert [(r.in_channels, r.out_channels) for r in full.layers if r.index in modules] == run.modules


def keras_layers(document: dict[str, Any]) -> list[int]:
    """The layers a Keras model holds: those its output depends on (a crop's `to` is not
    an input to Cropping); Keras leaves out dead branches."""
    layers = document["layers"]
    named = {layer["name"]: t for t, layer in enumerate(layers) if "name" in layer}
    held: set[int] = set()
    todo = [len(layers) - 1]
    while todo:
        t = todo.pop()
        if t >= 0 and t not in held:
            held.add(t)
            for source in layers[t].get("inputs") or [layers[t].get("input")]:
                todo.append(t - 1 if source is None else named.get(source, -1))
    return sorted(held)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(graphs("tensorflow"))
def test_every_forward_valid_tensorflow_graph_runs_in_keras_with_forwards_sizes(document: dict[str, Any]) -> None:
    report = solver.forward(document)
    try:
        sizes = run_keras(document)  # in Keras' order, which follows depth
    except solver.DocumentError as exc:  # open counts nothing fits: see the test in torch
        assert "no channel counts fit" in str(exc)
        assume(False)
    assert sorted(sizes) == sorted(report.layers[t].output_size for t in keras_layers(document))
