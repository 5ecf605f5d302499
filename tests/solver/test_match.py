"""A tensor brought to another's size: padded or cropped around its centre (a U-Net's
F.pad to its skip), or interpolated (DeepLab's logits to the image's size).  Imported
from torch and agreeing with it node by node, exported to code that runs with forward's
sizes, and searched exactly (brute force, CP-SAT)."""

from __future__ import annotations

from typing import Any

import conformance
import pytest
import torch
from bruteforce import brute_force, canonical, problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_models import PaddedUNet, fx_sizes

import solver
from solver.engines.bounds import bounds
from solver.engines.compiled import compile_rules
from solver.engines.cpsat import enumerate_solutions
from solver.engines.deadline import Deadline
from solver.engines.problem import build_problem, solution_layers
from solver.services.importers import ImportRefused


def test_a_padded_unet_imports_and_agrees_with_torch() -> None:
    model = PaddedUNet().eval()
    imported = solver.from_torch(model, [37, 45])
    kinds = {layer["name"]: (layer["type"], layer.get("by"), layer.get("to")) for layer in imported.document["layers"]}
    assert kinds["pad"] == ("match", "pad", "inc") and kinds["interpolate"] == ("match", "interpolate", "input")
    sizes = ([37, 45], [2, 3], [1, 1], [64, 17], [5, 5])
    ran = [conformance.agrees_layer_by_layer(imported.document, size, fx_sizes(model, 3, size), "torch")
           for size in sizes]
    assert ran == [True, True, False, True, True]
    answer = solver.input_sizes({**imported.document, "range": {"min": 1, "max": 60}})
    runs = [h for h in range(1, 61) if fx_sizes(model, 3, [h, 7]) is not None]
    assert answer.axes[0].sizes == runs == list(range(2, 61))


@st.composite
def matched(draw: Any) -> dict[str, Any]:
    """A chain with a match to the input or to an earlier layer, by pad or interpolation."""
    ndim = draw(st.integers(1, 3))
    layers: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "conv_transpose", "max_pool"]))
        layer = {"name": f"l{i}", "type": kind, "kernel_size": draw(st.integers(1, 3)),
                 "stride": draw(st.integers(1, 3))} | ({"out_channels": 2} if kind.startswith("conv") else {})
        layers.append(layer)
    to = draw(st.sampled_from(["input", *(layer["name"] for layer in layers[:-1])]))
    by = draw(st.sampled_from(["pad", "interpolate"]))
    mode = draw(st.sampled_from(["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[ndim]]))
    layers.append({"name": "m", "type": "match", "to": to, "by": by, "mode": mode})
    return {"input_size": [draw(st.integers(1, 12)) for _ in range(ndim)], "in_channels": 2, "layers": layers}


@pytest.mark.oracle
@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(matched())
def test_exported_code_brings_the_tensor_to_forwards_size(doc: dict[str, Any]) -> None:
    import torch_ref

    from solver.services.export import to_torch

    try:
        report = solver.forward(doc)
    except solver.LayerRejected:
        return
    with torch.no_grad():
        out = torch_ref.exported(to_torch(doc))(torch.zeros(1, 2, *doc["input_size"]))
    assert list(out.shape[2:]) == report.output_size == report.layers[-1].output_size


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(problems(), st.sampled_from(["pad", "interpolate"]))
def test_a_match_is_searched_exactly(doc: dict[str, Any], by: str) -> None:
    """After the first searched layer, a match to the input: whatever that layer gives, the
    next reads the input's size; the exact engine and CP-SAT list what brute force finds."""
    layers = doc["layers"]
    doc = {**doc, "layers": [layers[0], {"type": "match", "to": "input", "by": by}, *layers[1:]]}
    ndim = len(doc["input_size"])
    expected = brute_force(doc)
    result = solver.solve(doc)
    assert {canonical(s.layers, ndim) for s in result.solutions} == expected and result.count == len(expected)
    problem = build_problem(doc)
    fns = compile_rules(problem)
    run = enumerate_solutions(problem, fns, bounds(problem, fns, Deadline(60)), limit=10_000, deadline=Deadline(60))
    assert {canonical(solution_layers(problem, v), ndim) for v in run.solutions} == expected


@pytest.mark.oracle
def test_keras_export_pads_crops_and_resizes() -> None:
    import tf_ref

    from solver.services.export import to_keras

    doc = {"input_size": [17, 23], "in_channels": 2, "convention": "tensorflow", "layers": [
        {"name": "a", "type": "conv", "kernel_size": 3, "stride": 2, "out_channels": 4},
        {"name": "up", "type": "conv_transpose", "kernel_size": 2, "stride": 2, "out_channels": 4},
        {"name": "m", "type": "match", "to": "input"},
        {"name": "big", "type": "conv_transpose", "input": "a", "kernel_size": 4, "stride": 3, "out_channels": 4},
        {"name": "m2", "type": "match", "to": "input"},
        {"name": "i", "type": "match", "input": "a", "to": "input", "by": "interpolate", "mode": "bilinear"},
        {"type": "concat", "inputs": ["m", "m2", "i"]}]}
    report = solver.forward(doc)
    sizes = tf_ref.run_model(to_keras(doc), "build_net", (17, 23, 2))
    # Every Keras layer (in Keras' order): a, up, its pad (m), big, its crop (m2), the resize (i), the concat.
    assert sorted(sizes) == sorted([report.layers[0].output_size, report.layers[1].output_size, [17, 23],
                                    report.layers[3].output_size, [17, 23], [17, 23], [17, 23]])


@st.composite
def pads(draw: Any) -> dict[str, Any]:
    ndim = draw(st.integers(1, 3))
    layer: dict[str, Any] = {"type": "pad", "mode": draw(st.sampled_from(["constant", "reflect", "replicate",
                                                                          "circular"]))}
    layer["padding"] = draw(st.integers(0, 4) | st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim))
    if draw(st.booleans()):
        layer["padding_end"] = draw(st.lists(st.integers(0, 4), min_size=ndim, max_size=ndim))
    conv = {"type": "conv", "kernel_size": draw(st.integers(1, 5)), "out_channels": 1}
    return {"input_size": [draw(st.integers(1, 5)) for _ in range(ndim)], "in_channels": 1, "layers": [layer, conv]}


@pytest.mark.oracle
@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(pads())
def test_explicit_pads_agree_with_torch_and_export(doc: dict[str, Any]) -> None:
    """F.pad's sizes and refusals (a reflection not below the input's size, a circular pad
    above it), and the exported nn.ZeroPad/ReflectionPad/ReplicationPad/CircularPad."""
    import torch_ref

    from solver.services.export import to_torch

    try:
        ran = torch_ref.run(doc)
    except torch_ref.TorchRejected as refused:
        with pytest.raises(solver.LayerRejected) as raised:
            solver.forward(doc)
        assert raised.value.layer == refused.index
        return
    report = solver.forward(doc)
    assert [r.output_size for r in report.layers] == [list(r.output_size) for r in ran]
    with torch.no_grad():
        out = torch_ref.exported(to_torch(doc))(torch.zeros(1, 1, *doc["input_size"]))
    assert list(out.shape[2:]) == report.output_size


def test_pad_modules_and_fixed_f_pad_import() -> None:
    from torch import nn

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pad = nn.ReflectionPad2d(3)
            self.conv = nn.Conv2d(3, 4, 7)
            self.side = nn.ZeroPad2d((1, 0, 2, 0))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.side(self.conv(self.pad(x)))
            return nn.functional.pad(y, (0, 1), mode="replicate" if self.training else "constant")

    model = Net().eval()
    document = solver.from_torch(model, [8, 9]).document
    assert [(layer["type"], layer.get("padding"), layer.get("padding_end"), layer.get("mode"))
            for layer in document["layers"]] == [
        ("pad", [3, 3], None, "reflect"), ("conv", [0, 0], None, None), ("pad", [2, 1], [0, 0], "constant"),
        ("pad", [0, 0], [0, 1], "constant")]
    ran = [conformance.agrees_layer_by_layer(document, size, fx_sizes(model, 3, size), "torch")
           for size in ([8, 9], [3, 4], [4, 4], [1, 1])]
    assert ran == [True, False, True, False]
    with pytest.raises(ImportRefused, match="pad"):  # torch pads every axis or none in other modes
        solver.from_torch(model.train(), [8, 9])
