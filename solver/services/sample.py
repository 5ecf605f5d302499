"""sample(): designs drawn uniformly at random from a solve document's solutions.

The exact engine counts the solutions through every intermediate state, so a uniform
rank below the count names a uniform solution (StateGraph.unrank).  A bound on a score
is met by rejection: designs drawn uniformly and kept when within the bound are uniform
among those within it.  When the exact engine cannot count in time, the same
engine draws from random parts of the domains instead, flagged as not uniform.
"""

from __future__ import annotations

import dataclasses
import random
import secrets
import time
import zlib
from collections.abc import Callable
from typing import Any

from ..contract import (
    Goal,
    Prefer,
    SampleRequest,
    SampleResponse,
    ScoreBound,
    Solution,
    SolveRequest,
    Status,
    parse,
)
from ..engines.bounds import bounds
from ..engines.compiled import CompiledRule, compile_rules, solution_sizes
from ..engines.deadline import Deadline, Timeout, collector_paused
from ..engines.exact import StateGraph, TooLarge, seconds
from ..engines.problem import Problem, Values, Var, build_problem, solution_layers
from .explain import explain
from .solve import EXACT_FITS, MARGIN, make_cost, sum_cost, user_score

#: Without an exact count: values kept per variable in a random box of the domains (at
#: first; doubled while boxes have no solution), the beam kept per level, and the most
#: boxes tried.
BOX = 2
BEAM = 64
MAX_BOXES = 10_000
#: The fields a sample document adds to a solve document.
_SAMPLING = {"n", "seed", "replace", "within"}


def sample(document: SampleRequest | SolveRequest | dict[str, Any], n: int | None = None, *,
           seed: int | None = None, replace: bool | None = None,
           within: dict[str, Any] | None = None, max_time_s: float | None = None,
           cancelled: Callable[[], bool] | None = None) -> SampleResponse:
    """Draw n designs uniformly at random from the solutions of a solve document.

    n, seed, replace and within, when given, stand for the document's own fields.  The
    same document and seed give the same designs; without a seed one is picked and
    reported, so that a draw can be repeated.

    >>> r = sample({"input_size": [28], "target_size": [14],
    ...             "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 4},
    ...                         "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 1}}]},
    ...            3, seed=1)
    >>> r.status, r.count, r.uniform, len(r.solutions)
    (<Status.COMPLETE: 'complete'>, 4, True, 3)
    """
    with collector_paused():
        return _sample(_document(document, n=n, seed=seed, replace=replace, within=within), max_time_s, cancelled)


def _document(document: Any, **given: Any) -> SampleRequest:
    """The sample document, the arguments given in place of its fields."""
    given = {k: v for k, v in given.items() if v is not None}
    if isinstance(document, SampleRequest) and not given:
        return document
    if isinstance(document, SolveRequest):
        document = document.model_dump(mode="json", exclude_unset=True)
    if isinstance(document, dict):
        document = {**document, **given}
    return parse(SampleRequest, document)


def _sample(doc: SampleRequest, max_time_s: float | None, cancelled: Callable[[], bool] | None) -> SampleResponse:
    started = time.monotonic()
    seed = secrets.randbits(63) if doc.seed is None else doc.seed
    problem = build_problem(doc)
    budget = problem.time_limit_s if max_time_s is None else min(problem.time_limit_s, max_time_s)
    deadline = Deadline(budget * (1 - MARGIN) - (time.monotonic() - started), cancelled)
    # The scores shown: the objective's, then the bounded goals it does not have.
    goals: list[Goal | Prefer] = [*problem.objective, *(g for g in doc.within if g not in problem.objective)]
    fns = compile_rules(problem)
    draws = _Draws(problem, fns, doc, goals)

    def answer(status: Status, count: int | None, uniform: bool, engine: str, message: str | None = None,
               ) -> SampleResponse:
        return SampleResponse(
            status=status, count=count, solutions=draws.solutions(), uniform=uniform, seed=seed,
            drawn=draws.drawn, share_within=draws.share() if doc.within else None, engine=engine,
            elapsed_s=round(time.monotonic() - started, 6), message=message, warnings=problem.warnings)

    try:
        sets = bounds(problem, fns, deadline)
        # When the estimate does not fit, the exact engine still gets half the time left.
        fits = seconds(problem, sets) <= EXACT_FITS * deadline.remaining()
        graph = StateGraph(problem, fns, sets, deadline if fits else deadline.within(deadline.remaining() / 2),
                           track_jump=Goal.LARGEST_RECEPTIVE_FIELD in goals)
        graph.deadline = deadline  # built: the bounds' reach and the draws have all the time left
    except (TooLarge, Timeout) as exc:
        if deadline.was_cancelled():
            return answer(Status.TIMEOUT, None, False, "exact", "stopped: the request was cancelled")
        why = str(exc) if isinstance(exc, TooLarge) else "the exact count did not finish in time"
        return _not_uniform(problem, fns, draws, seed, deadline, answer, why)

    count = graph.count
    if count == 0:
        solve_doc = SolveRequest.model_validate(doc.model_dump(mode="json", exclude_unset=True, exclude=_SAMPLING))
        why = explain(solve_doc, deadline)
        response = answer(Status.INFEASIBLE, 0, True, "exact", why.message)
        response.explanation = why
        return response
    rng = random.Random(seed)
    seen: set[int] = set()
    try:
        out_of_reach = draws.out_of_reach(graph)
        if out_of_reach:
            return answer(Status.INFEASIBLE, count, True, "exact", out_of_reach)
        while len(draws.kept) < doc.n:
            deadline.tick()
            if not doc.replace and len(seen) == count:
                break
            rank = rng.randrange(count)
            if not doc.replace:
                if rank in seen:
                    continue
                seen.add(rank)
            draws.offer(graph.unrank(rank))
    except Timeout:
        message = (f"{len(draws.kept)} of {doc.n} designs drawn within the time limit of {budget:.3g} s"
                   + (f" ({draws.drawn:,} drawn, {draws.share():.2%} of them within the bounds)" if doc.within else ""))
        return answer(Status.TIMEOUT, count, True, "exact", message)
    if len(draws.kept) < doc.n:
        return answer(Status.COMPLETE, count, True, "exact",
                      f"only {len(draws.kept):,} distinct designs {'within the bounds ' if doc.within else ''}exist: "
                      "all of them, in random order")
    return answer(Status.COMPLETE, count, True, "exact")


def _not_uniform(problem: Problem, fns: list[CompiledRule | None], draws: _Draws, seed: int,
                 deadline: Deadline, answer: Any, why: str) -> SampleResponse:
    """The exact engine could not count: designs drawn from random boxes of the domains
    instead (each variable cut to a few random values, the intermediate states to a
    random beam), said to be not uniform."""
    doc, rng = draws.doc, random.Random(seed)
    track_jump = Goal.LARGEST_RECEPTIVE_FIELD in draws.goals
    width, tries, seen = BOX, 0, set()
    try:
        while len(draws.kept) < doc.n and tries < MAX_BOXES:
            tries += 1
            box = dataclasses.replace(problem, vars=[_cut(var, width, rng) for var in problem.vars])
            sets = bounds(box, fns, deadline)
            graph = StateGraph(box, fns, sets, deadline, track_jump=track_jump,
                               beam=(BEAM, _random_cost(rng.randbytes(8))))
            if not graph.count:
                width *= 2  # wider boxes are more often solvable (and their beams as narrow)
                continue
            for _ in range(max(1, -(-doc.n // 8))):  # a few designs from each box
                deadline.tick()
                values = graph.unrank(rng.randrange(graph.count))
                key = tuple(values.values()) if isinstance(values, dict) else values
                if len(draws.kept) < doc.n and (doc.replace or key not in seen):
                    seen.add(key)
                    draws.offer(values)
    except (Timeout, TooLarge):
        pass
    if deadline.was_cancelled():
        return answer(Status.TIMEOUT, None, False, "anytime", "stopped: the request was cancelled")
    if not draws.kept:
        return answer(Status.TIMEOUT, None, False, "anytime", f"no design drawn: {why}, and none was found in time")
    status = Status.COMPLETE if len(draws.kept) == doc.n else Status.TIMEOUT
    return answer(status, None, False, "anytime",
                  f"not uniform: {why}, so the solutions could not be counted; these designs are drawn from "
                  "random parts of the domains instead (valid and varied, the same for the same seed)")


def _cut(var: Var, width: int, rng: random.Random) -> Var:
    """A variable cut to `width` of its values, picked at random (in domain order)."""
    picked = sorted(rng.sample(range(len(var.values)), min(width, len(var.values))))
    return Var(var.label, tuple(var.values[i] for i in picked))


def _random_cost(salt: bytes) -> Any:
    """A cost that is a random number per layer and setting, the same for the same salt:
    a beam cut by it keeps random states."""
    def cost(node: Any, vals: dict[int, Any], ins: Any, state: Any) -> tuple[int]:
        key = repr((node.index, [vals[v] for v in node.var_ids])).encode()
        return (zlib.crc32(key, zlib.crc32(salt)),)
    cost.by_size = False  # type: ignore[attr-defined]
    return cost


class _Draws:
    """The designs drawn, and those kept: within the bounds on their scores."""

    def __init__(self, problem: Problem, fns: list[CompiledRule | None], doc: SampleRequest,
                 goals: list[Goal | Prefer]) -> None:
        self.problem, self.fns, self.doc, self.goals = problem, fns, doc, goals
        self.cost = make_cost(problem, fns, goals) if goals else None
        self.bounded = [(i, doc.within[g]) for i, g in enumerate(goals) if isinstance(g, Goal) and g in doc.within]
        self.kept: list[tuple[Values, Solution]] = []
        self.drawn = 0

    def offer(self, values: Values) -> None:
        """Keep a design drawn when within the bounds, written out at once: writing takes
        longer than drawing, and the time limit must see it."""
        self.drawn += 1
        sizes = solution_sizes(self.problem, self.fns, values)  # for the score and the answer both
        score = None if self.cost is None else user_score(
            self.problem, self.goals, sum_cost(self.problem, self.fns, self.cost, values, self.goals, sizes))
        if score is None or all(_within(score[i], bound) for i, bound in self.bounded):
            self.kept.append((values, Solution(layers=solution_layers(self.problem, values), sizes=sizes,
                                               score=score)))

    def share(self) -> float:
        return len(self.kept) / self.drawn if self.drawn else 0.0

    def solutions(self) -> list[Solution]:
        return [solution for _, solution in self.kept]

    def out_of_reach(self, graph: StateGraph) -> str | None:
        """Why no solution can be within a bound (the best of either end of each bounded
        goal, found exactly), or None."""
        for i, bound in self.bounded:
            goal = self.goals[i]
            cost = make_cost(self.problem, self.fns, [goal])
            ((low,), _), = graph.best(1, cost, by_size=cost.by_size)
            ((high,), _), = graph.best(1, _negated(cost), by_size=cost.by_size)
            lo, hi = sorted((user_score(self.problem, [goal], (low,))[0], user_score(self.problem, [goal], (-high,))[0]))
            if bound.max is not None and lo > bound.max or bound.min is not None and hi < bound.min:
                return (f"no design meets within.{goal.value} ({_said(bound)}): "
                        f"its {goal.value} score goes from {lo:,} to {hi:,} over the {graph.count:,} designs")
        return None


def _within(x: float, bound: ScoreBound) -> bool:
    return (bound.min is None or x >= bound.min) and (bound.max is None or x <= bound.max)


def _said(bound: ScoreBound) -> str:
    return " and ".join(f"{k} {v:g}" for k, v in (("min", bound.min), ("max", bound.max)) if v is not None)


def _negated(cost: Any) -> Any:
    def negated(*args: Any) -> Any:
        return tuple(-x for x in cost(*args))
    negated.by_size = cost.by_size  # type: ignore[attr-defined]
    return negated
