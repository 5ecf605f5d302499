"""The anytime search: what it finds is a solution, what it proves is true, and its last
search (the whole domains, a beam past the state limit) finds the exact engine's best.

On small random problems every search's solutions are checked against brute force,
their costs against the objective summed over the solution, the lower bound against
the best brute force finds, and the service's anytime answers (forced, with the exact
engine's state limit at 0 and CP-SAT's enumeration off) against the exact ranking."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml
from bruteforce import brute_force, canonical, problems
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import solver
import solver.engines.anytime
import solver.engines.exact
import solver.services.solve as service
from solver.engines.anytime import lower_bound, searches
from solver.engines.compiled import compile_rules
from solver.engines.deadline import Deadline
from solver.engines.problem import build_problem, solution_layers

GOALS = [[], ["least_padding"], ["smallest_kernels"], ["smallest_dilation"], ["largest_receptive_field"],
         ["fewest_params"], ["least_padding", "smallest_kernels"], [{"prefer": {"kernel_size": 3}}]]
EXAMPLES = Path(__file__).parents[2] / "examples"


def _with_goal(doc: dict[str, Any], goal: list[Any], limit: int) -> dict[str, Any]:
    doc = {**doc, "objective": goal, "limit": limit, "in_channels": 3}
    for layer in doc["layers"]:
        if layer["type"].startswith("conv"):
            layer["out_channels"] = 4
    return doc


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.sampled_from(["pytorch", "tensorflow", "onnx"]).flatmap(problems), st.sampled_from(GOALS),
       st.integers(1, 5))
def test_every_search_finds_solutions_and_the_last_finds_the_best(doc: dict[str, Any], goal: list[Any],
                                                                    limit: int) -> None:
    doc = _with_goal(doc, goal, limit)
    ndim = len(doc["input_size"])
    truth = brute_force(doc)
    problem = build_problem(doc)
    fns = compile_rules(problem)
    cost = service.make_cost(problem, fns)
    exact = solver.solve(doc)
    lists = list(searches(problem, fns, cost, limit, Deadline(60),
                          track_jump="largest_receptive_field" in goal))
    assert lists, "at least one search"
    for found in lists:
        assert len(found) <= limit
        assert [c for c, _ in found] == sorted(c for c, _ in found)
        for c, values in found:
            assert canonical(solution_layers(problem, values), ndim, doc["convention"]) in truth
            assert c == service.sum_cost(problem, fns, cost, values)  # the cost is the objective's
    # The last search leaves nothing out on problems this small: it finds the best.
    scores = [[-x for x in c] if "largest_receptive_field" in goal else list(c) for c, _ in lists[-1]]
    assert [s.score or [] for s in exact.solutions] == [[x + (ndim if "largest_receptive_field" in goal else 0)
                                                          for x in s] for s in scores]
    floor = lower_bound(problem, cost, Deadline(60))
    if floor is not None and lists[-1]:
        assert floor <= lists[-1][0][0]  # no solution beats the lower bound


@st.composite
def chains(draw: Any) -> dict[str, Any]:
    """A feasible chain of 2-4 conv, pool and transposed-conv layers with wide domains
    (its target is a drawn setting's output): the narrow searches often miss the best."""
    ndim = draw(st.integers(1, 2))
    ranges = {"kernel_size": (1, 5), "stride": (1, 3), "padding": (0, 2), "dilation": (1, 2), "output_padding": (0, 1)}
    layers, witness = [], []
    for _ in range(draw(st.integers(2, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "conv_transpose", "max_pool"]))
        fields = {"conv": ("kernel_size", "stride", "padding", "dilation"),
                  "conv_transpose": ("kernel_size", "stride", "padding", "output_padding"),
                  "max_pool": ("kernel_size", "stride", "padding")}[kind]
        layers.append({"type": kind, **{f: {"min": ranges[f][0], "max": ranges[f][1]} for f in fields}})
        witness.append({"type": kind, **{f: draw(st.integers(*ranges[f])) for f in fields}})
    size = [draw(st.integers(8, 32))] * ndim
    try:
        target = solver.forward({"input_size": size, "layers": witness}).output_size
    except solver.LayerRejected:
        target = size
    return {"input_size": size, "target_size": target, "layers": layers, "convention": "pytorch"}


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.one_of(chains(), st.sampled_from(["pytorch", "tensorflow", "onnx"]).flatmap(problems)),
       st.sampled_from([g for g in GOALS if g]), st.integers(1, 5))
def test_anytime_answers_are_solutions_and_proved_only_when_best(doc: dict[str, Any], goal: list[Any],
                                                                  limit: int) -> None:
    doc = _with_goal(doc, goal, limit)
    exact = solver.solve(doc)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(solver.engines.exact, "MAX_STATES", 0)  # the exact engine gives up at once
        m.setattr(service, "_by_enumeration", lambda *a, **k: None)  # and CP-SAT finds nothing
        # Only the first, narrowest search, with a beam of one: often not the best.
        m.setattr(solver.engines.anytime, "BEAMS", (1,))
        m.setattr(service, "searches", lambda *a, **k: itertools.islice(searches(*a, **k), 1))
        got = solver.solve({**doc, "time_limit_s": 0.5})
    ndim = len(doc["input_size"])
    if got.status == "infeasible":  # found before any state was built: the exact engine says so
        assert exact.status == "infeasible"
        return
    assert got.count is None
    if got.solutions:
        assert got.engine == "anytime"
        listed = {canonical(s.layers, ndim, doc["convention"]) for s in got.solutions}
        assert len(listed) == len(got.solutions)
        for s in got.solutions:  # each a solution, with the sizes it reports
            fwd = solver.forward({"input_size": doc["input_size"], "layers": s.layers,
                                  "convention": doc["convention"]})
            assert fwd.output_size == doc["target_size"] and [r.output_size for r in fwd.layers] == s.sizes[0]
    if got.optimal:
        assert got.status == "limit" and [s.score for s in got.solutions] == [s.score for s in exact.solutions]
    else:
        assert got.status == "timeout"


def test_the_freed_unet_gets_ranked_verified_designs() -> None:
    """The original U-Net with every conv, pool and up-conv freed: too many intermediate
    sizes to count, so the anytime search answers with its best designs in time."""
    doc = yaml.safe_load((EXAMPLES / "unet_freed.yaml").read_text())
    got = solver.solve(doc)  # its time limit leaves room on a busy machine: a test of results, not time
    assert got.engine == "anytime" and got.count is None and got.status in ("limit", "timeout")
    assert len(got.solutions) == doc["limit"]
    assert got.optimal == (got.status == "limit")
    for s in got.solutions:
        fwd = solver.forward({"input_size": doc["input_size"], "layers": s.layers})
        assert fwd.output_size == doc["target_size"]
        assert [r.output_size for r in fwd.layers] == s.sizes[0]
    assert [s.score for s in got.solutions] == sorted(s.score for s in got.solutions)
