"""The layers of a network's head and its norms: flatten, linear and norm.

Forward agrees with real torch (sizes, channels, parameters, and the same refusals, a
norm's need for more than one value included), and the solver, whose per-axis engines
meet here rules on all axes at once (a linear's in_features fixes the product of the
flattened sizes; a norm needs more than one pixel), lists exactly what brute force
finds, in the exact engine and in CP-SAT alike.
"""

from __future__ import annotations

from typing import Any

import pytest
import torch_ref
from bruteforce import brute_force, canonical, problems
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import solver
from solver import LayerRejected, Rule
from solver.engines.bounds import bounds
from solver.engines.compiled import compile_rules
from solver.engines.cpsat import enumerate_solutions
from solver.engines.deadline import Deadline
from solver.engines.problem import build_problem, solution_layers

NORMS = ("batch", "instance", "group", "layer")


@st.composite
def norms(draw: Any, channels: int) -> dict[str, Any]:
    norm = draw(st.sampled_from(NORMS))
    layer: dict[str, Any] = {"type": "norm", "norm": norm, "affine": draw(st.booleans())}
    if norm == "group":
        layer["num_groups"] = draw(st.sampled_from([g for g in range(1, channels + 1) if channels % g == 0]))
    if norm in ("batch", "instance") and draw(st.booleans()):
        layer["track_running_stats"] = draw(st.booleans())
    return layer


@st.composite
def heads(draw: Any) -> dict[str, Any]:
    """A few convs and pools, norms between them, and often a flatten and linears, whose
    in_features is right, wrong or left out."""
    ndim = draw(st.integers(1, 3))
    channels = draw(st.integers(1, 4))
    layers: list[dict[str, Any]] = []
    c = channels
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["conv", "max_pool", "norm", "norm"]))
        if kind == "conv":
            c = draw(st.sampled_from([1, 2, 4]))
            layers.append({"type": "conv", "kernel_size": draw(st.integers(1, 3)), "stride": draw(st.integers(1, 2)),
                           "out_channels": c})
        elif kind == "max_pool":
            layers.append({"type": "max_pool", "kernel_size": draw(st.integers(1, 2))})
        else:
            layers.append(draw(norms(c)))
    if draw(st.booleans()):
        layers.append({"type": "flatten"})
        for _ in range(draw(st.integers(1, 2))):
            linear: dict[str, Any] = {"type": "linear", "out_features": draw(st.integers(1, 5)),
                                      "bias": draw(st.booleans())}
            if draw(st.booleans()):
                linear["in_features"] = draw(st.integers(1, 60))
            layers.append(linear)
    size = [draw(st.integers(1, 5)) for _ in range(ndim)]
    return {"input_size": size, "in_channels": channels, "layers": layers}


@pytest.mark.oracle
@settings(max_examples=400, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(heads())
def test_forward_equals_torch(doc: dict[str, Any]) -> None:
    """Sizes, channels and parameters after every layer, or the same layer refused.
    After a flatten torch's tensor has no spatial axes; convsolve's has 1 on each."""
    ndim = len(doc["input_size"])
    try:
        ran = torch_ref.run(doc)
    except torch_ref.TorchRejected as refused:
        with pytest.raises(LayerRejected) as raised:
            solver.forward(doc)
        assert raised.value.layer == refused.index, (raised.value, refused.message)
        return
    out = solver.forward(doc)
    for layer, theirs in zip(out.layers, ran, strict=True):
        assert tuple(layer.output_size) == (theirs.output_size or (1,) * ndim)
        assert (layer.out_channels, layer.params) == (theirs.out_channels, theirs.params)


def test_refusals_name_the_rule() -> None:
    def refused(doc: dict[str, Any]) -> LayerRejected:
        with pytest.raises(LayerRejected) as raised:
            solver.forward(doc)
        return raised.value

    lenet = {"input_size": [28, 28], "in_channels": 1, "layers": [
        {"type": "conv", "kernel_size": 5, "out_channels": 16}, {"type": "max_pool", "kernel_size": 2},
        {"name": "flat", "type": "flatten"}, {"name": "fc", "type": "linear", "in_features": 400,
                                              "out_features": 10}]}
    r = refused(lenet)
    assert (r.layer, r.rule, r.loc) == (3, Rule.CHANNELS_MATCH, ("layers", 3, "in_features"))
    assert "1x2304 and 400x10" in str(r)  # torch's own words: 16 x 12 x 12 features
    r = refused({**lenet, "layers": [lenet["layers"][0], lenet["layers"][3]]})
    assert (r.layer, r.rule, r.axis) == (1, Rule.LINEAR_NEEDS_FLAT, 0)
    r = refused({"input_size": [1, 1], "in_channels": 4, "layers": [{"type": "norm", "norm": "instance"}]})
    assert (r.rule, r.layer) == (Rule.NORM_NEEDS_VALUES, 0)
    r = refused({"input_size": [1], "in_channels": 4, "layers": [{"type": "norm", "norm": "group",
                                                                  "num_groups": 4}]})
    assert r.rule == Rule.NORM_NEEDS_VALUES and "one channel per group" in str(r)
    # Keras and onnxruntime normalize a single pixel without a word.
    assert solver.forward({"input_size": [1, 1], "in_channels": 4, "convention": "onnx",
                           "layers": [{"type": "norm", "norm": "instance"}]}).output_size == [1, 1]


def _with_head(doc: dict[str, Any], head: str, draw: Any) -> dict[str, Any]:
    """A brute-force problem with one channel throughout and a norm, or a flatten and a
    linear whose in_features some setting of the domains gives, appended."""
    layers = [({"out_channels": 1} if layer["type"].startswith("conv") else {}) | layer for layer in doc["layers"]]
    ndim = len(doc["input_size"])
    if head == "norm":
        layers.append({"type": "norm", "norm": draw(st.sampled_from(["instance", "batch"])),
                       "track_running_stats": False})
        return {**doc, "layers": layers, "in_channels": 1}
    features = 1
    for size in doc["target_size"]:
        features *= size
    layers += [{"type": "flatten"}, {"type": "linear", "in_features": draw(st.sampled_from([features, features + 1])),
                                     "out_features": 3}]
    return {**doc, "layers": layers, "in_channels": 1, "target_size": [1] * ndim}


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(problems(), st.sampled_from(["norm", "linear"]), st.data())
def test_rules_on_all_axes_are_searched_exactly(doc: dict[str, Any], head: str, data: Any) -> None:
    """The exact engine and CP-SAT list what brute force finds, no more and no less."""
    doc = _with_head(doc, head, data.draw)
    ndim = len(doc["input_size"])
    expected = brute_force(doc)
    result = solver.solve(doc)
    assert {canonical(s.layers, ndim) for s in result.solutions} == expected
    assert result.count == len(expected)
    problem = build_problem(doc)
    fns = compile_rules(problem)
    run = enumerate_solutions(problem, fns, bounds(problem, fns, Deadline(60)), limit=10_000,
                              deadline=Deadline(60))
    assert run.complete
    assert {canonical(solution_layers(problem, v), ndim) for v in run.solutions} == expected


def test_a_linear_after_a_global_pool_is_searched_with_the_rest() -> None:
    """A classifier's head: the pool to 1 fixes the features, whatever the convs do."""
    doc = {"input_size": [64, 64], "in_channels": 3, "target_size": [1, 1], "layers": [
        {"type": "conv", "kernel_size": {"min": 1, "max": 5}, "stride": {"min": 1, "max": 4}, "out_channels": 8},
        {"type": "norm"}, {"type": "adaptive_avg_pool", "output_size": 1}, {"type": "flatten"},
        {"type": "linear", "in_features": 8, "out_features": 10}]}
    assert solver.solve(doc).count == 20
    wrong = {**doc, "layers": [*doc["layers"][:4], {"type": "linear", "in_features": 12, "out_features": 10}]}
    with pytest.raises(LayerRejected) as raised:
        solver.solve(wrong)
    assert raised.value.rule == Rule.CHANNELS_MATCH and "not a multiple of the 8 channels" in str(raised.value)


@pytest.mark.oracle
@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(heads(), st.booleans())
def test_exported_code_runs_with_forwards_sizes_and_parameters(doc: dict[str, Any], joined: bool) -> None:
    """The PyTorch export of a head runs: (N, features) after a flatten or a linear, viewed
    back as (N, features, 1, ...) by the layers that read sizes; the parameters are forward's."""
    import torch

    from solver.services.export import to_torch

    if joined and doc["layers"]:  # a layer after the head, and a sum that reads a flat tensor
        doc = {**doc, "layers": [*doc["layers"], {"type": "norm", "name": "after"},
                                 {"type": "add", "inputs": ["after", "after"]}]}
    try:
        report = solver.forward(doc)
    except solver.ConvsolveError:
        return
    net = torch_ref.exported(to_torch(doc)).eval()
    with torch.no_grad():
        out = net(torch.zeros(1, doc["in_channels"], *doc["input_size"]))
    assert out.shape[1] == report.out_channels
    assert list(out.shape[2:]) in ([], report.output_size)
    assert sum(p.numel() for p in net.parameters()) == report.params


@pytest.mark.oracle
def test_keras_export_of_a_head() -> None:
    import tf_ref

    from solver.services.export import to_keras

    doc = {"input_size": [16, 16], "in_channels": 3, "convention": "tensorflow", "layers": [
        {"type": "conv", "kernel_size": 3, "out_channels": 8}, {"type": "norm", "norm": "group", "num_groups": 4},
        {"type": "norm", "norm": "instance"}, {"type": "norm", "norm": "layer"}, {"type": "max_pool", "kernel_size": 2},
        {"type": "flatten"}, {"type": "linear", "in_features": 392, "out_features": 10}, {"type": "norm"},
        {"type": "linear", "out_features": 2}]}
    report = solver.forward(doc)
    sizes = tf_ref.run_model(to_keras(doc), "build_net", (16, 16, 3))
    assert sizes[:5] == [r.output_size for r in report.layers[:5]]
    # Flat in Keras (no spatial axes) until the norm, which reads it reshaped to 1 x 1.
    assert sizes[5:] == [[], [], [1, 1], [1, 1], [1, 1]]


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(heads(), st.integers(1, 2))
def test_input_sizes_are_what_forward_runs(doc: dict[str, Any], ndim: int) -> None:
    """Over a small range, input-sizes' per-axis answer is the set of sizes forward runs,
    or the refusal says truly that the set is no choice per axis."""
    import itertools

    assume(doc["layers"])
    doc = {**doc, "input_size": [4] * ndim}
    sizes = range(1, 13)
    runs = set()
    for size in itertools.product(sizes, repeat=ndim):
        try:
            solver.forward({**doc, "input_size": list(size)})
            runs.add(size)
        except LayerRejected:
            pass
    request = {**doc, "range": {"min": 1, "max": 12}}
    try:
        answer = solver.input_sizes(request)
    except LayerRejected:  # a rule no size meets (channels that never match)
        assert not runs
        return
    except solver.DocumentError as refused:
        assert "not a choice per axis" in str(refused)
        per_axis = [sorted({s[a] for s in runs}) for a in range(ndim)]
        assert runs != set(itertools.product(*per_axis))
        return
    assert set(itertools.product(*(ax.sizes for ax in answer.axes))) == runs


def test_a_linear_after_a_join_of_flattened_tensors_is_refused_in_a_search() -> None:
    """Its in_features fixes a sum of products of sizes, which the search does not state:
    refused by name, never answered with solutions forward would refuse."""
    doc = {"input_size": [8, 8], "in_channels": 2, "target_size": [1, 1], "layers": [
        {"name": "a", "type": "conv", "kernel_size": {"min": 1, "max": 3}, "out_channels": 2},
        {"name": "f1", "type": "flatten"}, {"name": "f2", "type": "flatten", "input": "input"},
        {"type": "concat", "inputs": ["f1", "f2"]}, {"type": "linear", "in_features": 200, "out_features": 3}]}
    with pytest.raises(solver.DocumentError, match="layers.4.in_features: the features this linear reads"):
        solver.solve(doc)
    free = {**doc, "layers": [*doc["layers"][:4], {"type": "linear", "out_features": 3}]}
    assert solver.solve(free).count == 3
