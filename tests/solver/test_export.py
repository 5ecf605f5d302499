"""Exported PyTorch code runs, and every layer's output has the planned size."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
import strategies as S
import tf_ref
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solver
from solver._export import to_keras, to_torch

torch.set_num_threads(1)


def run_exported(document: dict[str, Any]) -> tuple[list[list[int]], list[int], int]:
    """Exec the exported code; sizes of every layer module's output, in call order."""
    namespace: dict[str, Any] = {}
    exec(compile(to_torch(document), "<exported>", "exec"), namespace)  # noqa: S102 - our output
    net = namespace["Net"]()
    seen: list[list[int]] = []
    for module in net.children():
        module.register_forward_hook(lambda _m, _i, out: seen.append(list(out.shape[2:])))
    channels = document.get("in_channels") or 1
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. torch's note on padding='same' with even kernels
        out = net(torch.zeros(1, channels, *document["input_size"]))
    return seen, list(out.shape[2:]), out.shape[1]


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(st.integers(1, 3).flatmap(lambda n: S.stacks(n)))
def test_exported_stack_matches_the_forward_engine(document: dict[str, Any]) -> None:
    try:
        report = solver.forward(document)
    except solver.ConvsolveError:
        with pytest.raises(solver.ConvsolveError):
            to_torch(document)  # nothing is exported for what PyTorch refuses
        return
    seen, out, channels = run_exported(document)
    assert seen == [r.output_size for r in report.layers]
    assert out == report.output_size
    if report.out_channels is not None:
        assert channels == report.out_channels


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
    seen, out, channels = run_exported(doc)
    report = solver.forward(doc)
    assert seen == [r.output_size for r in report.layers if r.type not in ("concat", "add")]
    assert (out, channels) == ([32, 24], 2)


def test_a_solution_exports_as_is() -> None:
    result = solver.solve({"input_size": [64, 64], "target_size": [16, 16], "limit": 1,
                           "objective": "smallest_kernels", "layers": [
                               {"type": "conv", "kernel_size": {"min": 1, "max": 5},
                                "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 2}},
                               {"type": "max_pool", "kernel_size": {"choices": [2, 3]}}]})
    layers = result.solutions[0].layers
    seen, out, _ = run_exported({"input_size": [64, 64], "layers": layers})
    assert seen == result.solutions[0].sizes[0] and out == [16, 16]


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
    seen, out, channels = run_exported(document)
    assert seen == [r.output_size for r in report.layers]
    assert (out, channels) == (report.output_size, report.out_channels)


def run_keras(document: dict[str, Any]) -> list[list[int]]:
    """Run the Keras export on zeros (in tf_ref's worker): every layer's output size."""
    shape = (*document["input_size"], document.get("in_channels") or 1)
    return tf_ref.run_model(to_keras(document), "build_net", shape)


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
    seen, out, channels = run_exported(best)
    assert seen == sizes and (out, channels) == ([75, 60], 3)
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
    assert run_exported(doc)[1] == [29, 29] == solver.forward(doc).output_size
