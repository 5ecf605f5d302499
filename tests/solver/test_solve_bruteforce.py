"""The solver is sound and complete: on small random problems its solution set is
exactly what brute force over the domains, judged by the forward engine, finds, and
real torch accepts every solution with the sizes the solver reports."""

from __future__ import annotations

from typing import Any

import onnx_ref
import pytest
import tf_ref
import torch_ref
from bruteforce import brute_force, canonical, problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solver
from solver.engines.bounds import bounds
from solver.engines.compiled import compile_rules
from solver.engines.deadline import Deadline
from solver.engines.exact import StateGraph, value_order
from solver.engines.problem import SEARCHABLE, build_problem, solution_layers
from solver.services.solve import make_cost, sum_cost


def solved_as_brute_force(doc: dict[str, Any]) -> solver.SolveResponse:
    """The solver's answer, once checked against brute force: the same set, counted."""
    expected = brute_force(doc)
    result = solver.solve(doc)
    got = [canonical(s.layers, len(doc["input_size"])) for s in result.solutions]
    assert len(got) == len(set(got)), "a solution is listed twice"
    assert set(got) == expected
    assert result.count == len(expected)
    assert result.status == ("infeasible" if not expected else "complete")
    return result


@settings(max_examples=400, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(problems())
def test_solutions_equal_brute_force(doc: dict[str, Any]) -> None:
    result = solved_as_brute_force(doc)
    for s in result.solutions:  # every solution is a valid forward document with its sizes
        fwd = solver.forward({"input_size": doc["input_size"], "layers": s.layers})
        assert [r.output_size for r in fwd.layers] == s.sizes[0]
        # torch needs channel counts, which sizes do not depend on: one channel.
        layers = [{"out_channels": 1} | layer if layer["type"].startswith("conv") else layer
                  for layer in s.layers]
        ran = torch_ref.run({"input_size": doc["input_size"], "layers": layers})
        assert [list(r.output_size) for r in ran] == s.sizes[0]


def _explicit(layer: dict[str, Any], ndim: int) -> dict[str, Any]:
    """A solution layer as the reference runners take it: per-axis lists, pools' strides."""
    out = dict(layer)
    for field in ("kernel_size", "stride", "dilation", "padding", "padding_end", "output_padding"):
        v = out.get(field)
        if v is not None and not isinstance(v, list | str):
            out[field] = [v] * ndim
    out.setdefault("stride", out["kernel_size"])
    out.setdefault("dilation", [1] * ndim)
    return out


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.sampled_from(["tensorflow", "onnx"]).flatmap(problems))
def test_solutions_equal_brute_force_in_a_convention(doc: dict[str, Any]) -> None:
    """Sound and complete in TensorFlow's and ONNX's sizes too (padding modes searched),
    and the first solutions run in Keras or onnxruntime with the reported sizes."""
    ndim = len(doc["input_size"])
    result = solved_as_brute_force(doc)
    reference = tf_ref if doc["convention"] == "tensorflow" else onnx_ref
    for s in result.solutions[:2]:
        size = tuple(doc["input_size"])
        for layer, out in zip(s.layers, s.sizes[0], strict=True):
            size = reference.run_layer(_explicit(layer, ndim), size, channels=1)
            assert list(size) == out, layer


def _score(goal: str, doc: dict[str, Any], layers: list[dict[str, Any]]) -> float:
    """A goal's value for one concrete stack, from the forward engine's report alone."""
    fwd = solver.forward({"input_size": doc["input_size"], "in_channels": doc.get("in_channels"),
                          "layers": layers, "convention": doc["convention"]})
    weighted = [r for r in fwd.layers if r.type in ("conv", "conv_transpose", "max_pool", "avg_pool")]
    ndim = len(doc["input_size"])
    def axes(layer: dict[str, Any], field: str, default: int) -> list[int]:
        v = layer.get(field, default)
        return v if isinstance(v, list) else [v] * ndim
    if goal == "least_padding":  # pixels added or cut, as the report lists them
        return sum(abs(x) for r in weighted for side in r.padding or [] for x in side)
    if goal == "smallest_kernels":
        return sum(sum(axes(layer, "kernel_size", 1)) for layer in layers)
    if goal == "smallest_dilation":
        return sum(sum(axes(layer, "dilation", 1)) for layer in layers)
    if goal == "fewest_params":
        return fwd.params
    if goal == "fewest_macs":
        return fwd.macs
    assert goal == "largest_receptive_field"
    return sum(fwd.receptive_field)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.sampled_from(["pytorch", "tensorflow", "onnx"]).flatmap(problems),
       st.sampled_from(["least_padding", "smallest_kernels", "smallest_dilation",
                                    "fewest_params", "fewest_macs", "largest_receptive_field"]),
       st.integers(1, 6))
def test_ranking_equals_sorted_brute_force(doc: dict[str, Any], goal: str, limit: int) -> None:
    """The best `limit` come back in order: their scores are brute force's, sorted."""
    doc = {**doc, "objective": goal, "limit": limit, "in_channels": 4}
    for layer in doc["layers"]:
        if layer["type"].startswith("conv"):
            layer["out_channels"] = 4
    ndim = len(doc["input_size"])
    expected = brute_force(doc)
    result = solver.solve(doc)
    sign = -1 if goal == "largest_receptive_field" else 1
    truth = sorted(sign * _score(goal, doc, _layers(sol, doc)) for sol in expected)[:limit]
    got = [sign * s.score[0] for s in result.solutions]
    assert got == truth
    assert [sign * _score(goal, doc, s.layers) for s in result.solutions] == got
    assert len({canonical(s.layers, ndim) for s in result.solutions}) == len(result.solutions)


def _layers(canon: tuple[Any, ...], doc: dict[str, Any]) -> list[dict[str, Any]]:
    """A canonical solution back into document layers (with the document's channels)."""
    out = []
    for row, layer in zip(canon, doc["layers"], strict=True):
        kind, *values = row
        d = {k: v for k, v in layer.items() if k in ("type", "out_channels")}
        for field, v in zip(SEARCHABLE[kind], values, strict=True):
            if field == "ceil_mode" or isinstance(v[0], str):
                d[field] = v if field == "ceil_mode" else v[0]  # a padding mode: one for all axes
            elif v[0] is not None:  # None: left to its default
                d[field] = list(v)
        out.append(d)
    return out


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.sampled_from(["pytorch", "tensorflow", "onnx"]).flatmap(problems))
def test_cpsat_lists_the_same_solutions(doc: dict[str, Any]) -> None:
    """The CP-SAT model (tables from the same arithmetic) and the exact engine agree."""
    from solver.engines.bounds import bounds
    from solver.engines.compiled import compile_rules
    from solver.engines.cpsat import enumerate_solutions
    from solver.engines.deadline import Deadline
    from solver.engines.problem import build_problem, solution_layers

    ndim = len(doc["input_size"])
    problem = build_problem(doc)
    fns = compile_rules(problem)
    sets = bounds(problem, fns, Deadline(60))
    run = enumerate_solutions(problem, fns, sets, limit=10_000, deadline=Deadline(60))
    assert run.complete
    got = [canonical(solution_layers(problem, values), ndim) for values in run.solutions]
    assert len(got) == len(set(got))
    exact = solver.solve(doc)
    assert set(got) == {canonical(s.layers, ndim) for s in exact.solutions}


def test_too_many_states_falls_back_to_cpsat(monkeypatch: Any) -> None:
    """Past the exact engine's state limit, CP-SAT lists the solutions and says so."""
    import solver.engines.exact

    doc = {"input_size": [64], "target_size": [16], "limit": 10_000,
           "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 4}, "stride": {"min": 1, "max": 2},
                       "padding": {"min": 0, "max": 2}}] * 2}
    exact = solver.solve(doc)
    monkeypatch.setattr(solver.engines.exact, "MAX_STATES", 1)
    fallback = solver.solve(doc)
    assert (exact.engine, fallback.engine) == ("exact", "cpsat")
    assert fallback.status == "complete" and fallback.count == exact.count > 1
    assert {canonical(s.layers, 1) for s in fallback.solutions} == {canonical(s.layers, 1) for s in exact.solutions}
    assert "CP-SAT" in (fallback.message or "")


def test_sizes_that_recur_are_found() -> None:
    """onnxruntime's MaxPool (SAME_UPPER, stride 3, window 1) takes 7 and 10 but not 8 or 9:
    the bounds must not bisect past 7 (the one conv that reaches 3 is the 4-wide one)."""
    pool = {"type": "max_pool", "kernel_size": 1, "stride": 3, "padding": "same_upper"}
    explicit = _explicit(pool, 1) | {"ceil_mode": False}
    assert [onnx_ref.run_layer(explicit, (i,)) for i in (7, 10)] == [(3,), (4,)]
    for i in (8, 9):
        with pytest.raises(onnx_ref.OnnxRejected):
            onnx_ref.run_layer(explicit, (i,))
    doc = {"convention": "onnx", "input_size": [10], "target_size": [3], "layers": [
        {"type": "conv", "kernel_size": {"min": 1, "max": 4}}, pool]}
    result = solver.solve(doc)
    assert (result.status, result.count) == ("complete", 1)
    assert result.solutions[0].layers[0]["kernel_size"] == [4] and result.solutions[0].sizes == [[[7], [3]]]


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.sampled_from(["pytorch", "tensorflow", "onnx"]).flatmap(problems),
       st.sampled_from([[], ["least_padding"], ["smallest_kernels"], ["largest_receptive_field"],
                        ["fewest_macs"], ["least_padding", "smallest_kernels"]]),
       st.integers(1, 4))
def test_the_exact_ranking_lists_every_solution_by_cost_then_values(doc: dict[str, Any], goal: list[str],
                                                                      k: int) -> None:
    """Asked for more than there are, the ranking lists every solution of brute force
    once, by cost, equal costs in the order of their values; the best k are its first k."""
    doc = {**doc, "objective": goal, "in_channels": 4}
    for layer in doc["layers"]:
        if layer["type"].startswith("conv"):
            layer["out_channels"] = 4
    problem = build_problem(doc)
    fns = compile_rules(problem)
    cost = make_cost(problem, fns)
    graph = StateGraph(problem, fns, bounds(problem, fns, Deadline(60)), Deadline(60),
                       track_jump="largest_receptive_field" in goal)
    ranked = graph.best(graph.count + 1, cost, by_size=cost.by_size)
    ndim = len(doc["input_size"])
    assert {canonical(solution_layers(problem, v), ndim, doc["convention"]) for _, v in ranked} == brute_force(doc)
    assert len(ranked) == graph.count
    keys = [(c, value_order(tuple(v[i] for i in sorted(v)))) for c, v in ranked]
    assert keys == sorted(keys)
    for c, values in ranked:
        assert c == sum_cost(problem, fns, cost, values)
    assert graph.best(k, cost, by_size=cost.by_size) == ranked[:k]
