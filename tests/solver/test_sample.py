"""Sampling (issue #16): designs drawn uniformly from the exact solution set.

Complete: the ranks 0..count-1 name every solution once (solve lists them all; solve
itself equals brute force, test_solve_bruteforce).  Uniform: a chi-square test over
seeded draws (fixed seeds, so it is deterministic) does not reject uniformity, with
and without a bound on a score.  Sound: every design drawn passes forward (and the
hostile suite runs them in torch); the same seed draws the same designs everywhere.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from typing import Any

import pytest
from typer.testing import CliRunner

import solver
from solver.cli import app
from solver.engines.bounds import bounds
from solver.engines.compiled import compile_rules
from solver.engines.deadline import Deadline
from solver.engines.exact import StateGraph, TooLarge
from solver.engines.problem import build_problem, solution_layers
from solver.services import sample as sampling

_FREE = {"kernel_size": {"min": 1, "max": 5}, "stride": {"min": 1, "max": 3}, "padding": {"min": 0, "max": 2}}

#: Small spaces of every shape the engine handles: a chain, per-axis domains, ties,
#: several input sizes, a skip (concat), a round trip, other conventions.
DOCUMENTS: dict[str, dict[str, Any]] = {
    "chain": {"input_size": [28, 20], "target_size": [7, 5], "layers": [
        {"type": "conv", **_FREE},
        {"type": "max_pool", "kernel_size": {"min": 1, "max": 3}, "stride": [2, {"min": 1, "max": 2}]},
        {"type": "conv", "kernel_size": [3, {"min": 1, "max": 3}], "stride": 2, "padding": {"min": 0, "max": 1}}]},
    "tied round trip": {"input_size": [32], "target_size": "input", "layers": [
        {"name": "down", "type": "conv", **_FREE},
        {"name": "up", "type": "conv_transpose", **_FREE, "output_padding": {"min": 0, "max": 2}}],
        "ties": [{"layers": ["down", "up"], "params": ["kernel_size", "padding"]}]},
    "input sizes": {"input_sizes": [[32], [33]], "target_size": [{"min": 8, "max": 9}],
                    "layers": [{"type": "conv", **_FREE}, {"type": "conv", **_FREE}]},
    "skip": {"input_size": [16, 16], "layers": [
        {"name": "a", "type": "conv", **_FREE},
        {"name": "b", "type": "conv", "input": "input", **_FREE},
        {"name": "cat", "type": "concat", "inputs": ["a", "b"]}], "target_size": [8, 8]},
    "tensorflow": {"convention": "tensorflow", "input_size": [30], "target_size": [15], "layers": [
        {"type": "conv", "kernel_size": {"min": 1, "max": 4}, "stride": {"min": 1, "max": 2},
         "padding": {"choices": ["same", "valid"]}}]},
    "onnx": {"convention": "onnx", "input_size": [30], "target_size": [10], "layers": [
        {"type": "max_pool", "kernel_size": {"min": 1, "max": 4}, "stride": {"min": 1, "max": 3},
         "padding": {"min": 0, "max": 1}, "ceil_mode": {"choices": [False, True]}}]},
}


def _key(layers: list[dict[str, Any]]) -> str:
    return json.dumps(layers, sort_keys=True)


def _graph(document: dict[str, Any]) -> tuple[Any, StateGraph]:
    problem = build_problem(document)
    fns = compile_rules(problem)
    deadline = Deadline(30)
    return problem, StateGraph(problem, fns, bounds(problem, fns, deadline), deadline)


@pytest.mark.parametrize("name", DOCUMENTS)
def test_each_rank_names_one_solution_and_every_solution_has_one(name: str) -> None:
    document = DOCUMENTS[name]
    problem, graph = _graph(document)
    listed = solver.solve({**document, "limit": 10_000})
    assert listed.status == solver.Status.COMPLETE and listed.count == graph.count > 1
    ranked = [_key(solution_layers(problem, graph.unrank(r))) for r in range(graph.count)]
    assert len(set(ranked)) == len(ranked)
    assert set(ranked) == {_key(s.layers) for s in listed.solutions}
    with pytest.raises(IndexError):
        graph.unrank(graph.count)


def _chi_square_rejects(counts: Counter[str], categories: int, draws: int) -> tuple[bool, float, float]:
    """Whether a chi-square test at p = 0.001 rejects uniformity over `categories`
    (the critical value by Wilson and Hilferty's approximation: within 1% here)."""
    expected = draws / categories
    statistic = sum((counts.get(c, 0) - expected) ** 2 / expected for c in counts) \
        + expected * (categories - len(counts))
    df = categories - 1
    critical = df * (1 - 2 / (9 * df) + 3.0902 * math.sqrt(2 / (9 * df))) ** 3
    return statistic > critical, statistic, critical


@pytest.mark.parametrize("name", ["chain", "tied round trip", "skip"])
def test_draws_are_uniform(name: str) -> None:
    document = DOCUMENTS[name]
    every = solver.solve({**document, "limit": 10_000})
    answer = solver.sample(document, 10_000, seed=2026)
    assert answer.uniform and answer.count == every.count and len(answer.solutions) == 10_000
    counts = Counter(_key(s.layers) for s in answer.solutions)
    assert set(counts) <= {_key(s.layers) for s in every.solutions}
    rejects, statistic, critical = _chi_square_rejects(counts, every.count, 10_000)
    assert not rejects, (statistic, critical)


def test_a_biased_draw_is_rejected_by_the_same_test() -> None:
    """The uniformity test can fail: one design drawn twice as often is caught."""
    every = solver.solve({**DOCUMENTS["chain"], "limit": 10_000}).solutions
    keys = [_key(s.layers) for s in every]
    counts = Counter({k: 10_000 // len(keys) for k in keys})
    counts[keys[0]] += 10_000 // len(keys)
    assert _chi_square_rejects(counts, len(keys), sum(counts.values()))[0]


def test_draws_within_a_bound_are_uniform_among_the_designs_within_it() -> None:
    document = {**DOCUMENTS["chain"], "in_channels": 3,
                "layers": [{**layer, "out_channels": 8} if layer["type"] == "conv" else layer
                           for layer in DOCUMENTS["chain"]["layers"]]}
    every = solver.solve({**document, "limit": 10_000, "objective": "fewest_params"}).solutions
    bound = sorted(s.score[0] for s in every)[len(every) // 2]  # about half the designs
    inside = {_key(s.layers) for s in every if s.score[0] <= bound}
    assert 1 < len(inside) < len(every)
    answer = solver.sample(document, 10_000, seed=7, within={"fewest_params": {"max": bound}})
    assert answer.uniform and len(answer.solutions) == 10_000
    assert all(s.score[0] <= bound for s in answer.solutions)
    counts = Counter(_key(s.layers) for s in answer.solutions)
    assert set(counts) <= inside
    rejects, statistic, critical = _chi_square_rejects(counts, len(inside), 10_000)
    assert not rejects, (statistic, critical)
    # The share kept estimates the share within the bound.
    assert abs(answer.share_within - len(inside) / len(every)) < 0.03


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_design_drawn_passes_forward(name: str) -> None:
    document = DOCUMENTS[name]
    answer = solver.sample(document, 50, seed=1)
    sizes = document.get("input_sizes") or [document["input_size"]]
    for solution in answer.solutions:
        for size, reported in zip(sizes, solution.sizes, strict=True):
            out = solver.forward({"input_size": size, "layers": solution.layers,
                                  "convention": document.get("convention", "pytorch")})
            assert [r.output_size for r in out.layers] == reported


def test_without_replacement_every_design_comes_once() -> None:
    document = DOCUMENTS["tensorflow"]
    count = solver.solve({**document, "limit": 0}).count
    answer = solver.sample(document, count, seed=3, replace=False)
    keys = [_key(s.layers) for s in answer.solutions]
    assert answer.status == solver.Status.COMPLETE and len(keys) == len(set(keys)) == count
    more = solver.sample(document, count + 5, seed=3, replace=False)
    assert len(more.solutions) == count and f"only {count} distinct designs" in more.message


def test_the_same_seed_draws_the_same_designs_and_another_seed_others() -> None:
    document = DOCUMENTS["chain"]
    first, again = (solver.sample(document, 20, seed=11) for _ in range(2))
    assert first.solutions == again.solutions
    assert solver.sample(document, 20, seed=12).solutions != first.solutions
    unseeded = solver.sample(document, 20)
    assert solver.sample(document, 20, seed=unseeded.seed).solutions == unseeded.solutions


def test_the_three_doors_draw_the_same_designs(tmp_path: Any) -> None:
    from fastapi.testclient import TestClient

    from api.main import app as api_app

    document = {**DOCUMENTS["skip"], "n": 15, "seed": 5}
    library = [s.model_dump(mode="json") for s in solver.sample(document).solutions]
    with TestClient(api_app) as client:
        served = client.post("/v1/sample", json=document).json()["solutions"]
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(DOCUMENTS["skip"]))
    result = CliRunner().invoke(app, ["sample", str(path), "-n", "15", "--seed", "5"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert library == served == lines
    # Another process, another string hashing: the same designs.
    code = ("import json, sys, solver; d = json.loads(sys.argv[1]); "
            "print(json.dumps([s.model_dump(mode='json') for s in solver.sample(d).solutions]))")
    other = subprocess.run([sys.executable, "-c", code, json.dumps(document)], capture_output=True, text=True,
                           check=True, env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert json.loads(other.stdout) == library


def test_a_bound_no_design_meets_is_said_at_once() -> None:
    document = {**DOCUMENTS["chain"], "in_channels": 3,
                "layers": [{**layer, "out_channels": 8} if layer["type"] == "conv" else layer
                           for layer in DOCUMENTS["chain"]["layers"]]}
    answer = solver.sample(document, 5, seed=1, within={"fewest_params": {"max": 10}})
    assert answer.status == solver.Status.INFEASIBLE and not answer.solutions and answer.drawn == 0
    assert "no design meets within.fewest_params (max 10)" in answer.message
    assert "its fewest_params score goes from" in answer.message


def test_an_infeasible_document_is_explained() -> None:
    document = {"input_size": [25], "target_size": "input", "layers": [
        {"type": "conv", "kernel_size": 2, "stride": 2}, {"type": "conv_transpose", "kernel_size": 2, "stride": 2}]}
    answer = solver.sample(document, 5, seed=1)
    assert answer.status == solver.Status.INFEASIBLE and answer.count == 0
    assert answer.explanation is not None and answer.explanation.repairs


def test_without_a_count_the_designs_are_valid_and_said_not_uniform(monkeypatch: pytest.MonkeyPatch) -> None:
    """When the exact engine cannot count (forced here), designs come from random boxes
    of the domains: valid, reproducible, flagged."""
    real = sampling.StateGraph

    def uncountable(*args: Any, **kwargs: Any) -> StateGraph:
        if kwargs.get("beam") is None:
            raise TooLarge("forced for the test")
        return real(*args, **kwargs)

    monkeypatch.setattr(sampling, "StateGraph", uncountable)
    document = DOCUMENTS["chain"]
    answer = solver.sample(document, 30, seed=4)
    assert not answer.uniform and answer.count is None and answer.engine == "anytime"
    assert answer.status == solver.Status.COMPLETE and len(answer.solutions) == 30
    assert "not uniform: forced for the test" in answer.message
    every = {_key(s.layers) for s in solver.solve({**document, "limit": 10_000}).solutions}
    drawn = {_key(s.layers) for s in answer.solutions}
    assert drawn <= every and len(drawn) > 5
    assert solver.sample(document, 30, seed=4).solutions == answer.solutions


def test_sampling_fields_are_checked() -> None:
    document = DOCUMENTS["chain"]
    for bad, words in [({"n": 0}, "n: Input should be greater than or equal to 1"),
                       ({"n": 10_001}, "n: Input should be less than or equal to 10000"),
                       ({"within": {"fewest_params": {}}}, "give min, max or both"),
                       ({"within": {"smallest_kernels": {"min": 5, "max": 2}}}, "min (5) is above max (2)"),
                       ({"cursor": "abc"}, "a sample has no pages")]:
        with pytest.raises(solver.DocumentError, match=words.replace("(", r"\(").replace(")", r"\)")):
            solver.sample({**document, **bad})
    with pytest.raises(solver.DocumentError, match="this looks like a sample document .* use `convsolve sample`"):
        solver.solve({**document, "n": 5})


@pytest.mark.parametrize("name", ["chain", "tied round trip", "input sizes"])
def test_sampled_designs_run_in_torch_with_the_sizes_they_report(name: str) -> None:
    import torch_ref

    document = DOCUMENTS[name]
    sizes = document.get("input_sizes") or [document["input_size"]]
    for solution in solver.sample(document, 25, seed=9).solutions:
        for size, reported in zip(sizes, solution.sizes, strict=True):
            layers = [{"out_channels": 1, **layer} if "conv" in layer["type"] else layer for layer in solution.layers]
            ran = torch_ref.run({"input_size": size, "layers": layers})
            assert [list(layer.output_size) for layer in ran] == reported


def test_a_bound_on_a_goal_outside_the_objective_is_kept_and_scored() -> None:
    document = {**DOCUMENTS["chain"], "in_channels": 3, "objective": "smallest_kernels",
                "layers": [{**layer, "out_channels": 8} if layer["type"] == "conv" else layer
                           for layer in DOCUMENTS["chain"]["layers"]]}
    every = solver.solve({**document, "limit": 10_000, "objective": "fewest_params"}).solutions
    bound = sorted(s.score[0] for s in every)[len(every) // 2]
    answer = solver.sample(document, 200, seed=3, within={"fewest_params": {"max": bound}})
    assert answer.share_within < 1 and all(len(s.score) == 2 and s.score[1] <= bound for s in answer.solutions)
    refused = solver.sample(document, 5, seed=3, within={"fewest_params": {"max": 1}})
    assert refused.status == solver.Status.INFEASIBLE
