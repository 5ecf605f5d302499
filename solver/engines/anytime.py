"""Anytime search: the exact engine on smaller problems, for when the whole one is too big.

Every solution of a narrowed problem is a solution of the whole one, found by the same
arithmetic: each variable keeps its few most preferred values, and each level of the
dynamic programme keeps only the states cheapest to reach (a beam).  Widening the beam,
then the domains, finds better designs; the caller keeps the best found and stops at its
deadline.  Nothing found here is counted; it is proved the best only when it costs
what a lower bound says no solution can beat (see `lower_bound`).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from typing import Any

from ..contract import Goal, Prefer
from ..rules import Rejected
from .bounds import bounds
from .compiled import CompiledRule
from .deadline import Deadline
from .exact import MAX_STATES, Cost, CostFn, StateGraph
from .problem import Node, Problem, Var, alike

#: Values kept per variable in the first narrowed problem, and the beams tried on each.
FIRST_VALUES = 1
BEAMS = (16, 128, 1024)
#: An input size every window layer accepts, for costs that do not read sizes.
_LARGE = 1 << 20


def preferred(problem: Problem) -> list[tuple[Any, ...]]:
    """Each variable's values, most preferred first: by the objective where it says
    (nearest a preferred value; the largest where the receptive field is maximized),
    otherwise in the document's order (ascending for a range)."""
    fields: dict[int, str] = {}
    for node in problem.nodes:
        for f, ids in node.slots.items():
            for v in ids:
                fields.setdefault(v, f)
    wants = {f: want for g in problem.objective if isinstance(g, Prefer) for f, want in g.prefer.items()}
    largest = Goal.LARGEST_RECEPTIVE_FIELD in problem.objective
    ordered = []
    for v, var in enumerate(problem.vars):
        f = fields.get(v, "")
        if f in wants:
            def distance(x: Any, want: int = wants[f]) -> tuple[bool, int]:
                return (not isinstance(x, int), abs(x - want) if isinstance(x, int) else 0)
            ordered.append(tuple(sorted(var.values, key=distance)))
        elif largest and f in ("kernel_size", "stride", "dilation"):
            ordered.append(tuple(reversed(var.values)))
        else:
            ordered.append(var.values)
    return ordered


def narrowed(problem: Problem, order: list[tuple[Any, ...]], n: int) -> Problem:
    """The problem with each variable cut to its n most preferred values and its first
    (the smallest, for a range: the one that changes sizes least, which keeps a narrowed
    problem solvable), in domain order."""
    cut = []
    for var, values in zip(problem.vars, order, strict=True):
        keep = {*values[:n], *var.values[:1]}
        cut.append(Var(var.label, tuple(x for x in var.values if x in keep)))
    return dataclasses.replace(problem, vars=cut)


def searches(problem: Problem, fns: list[CompiledRule | None], cost: CostFn, k: int, deadline: Deadline,
             *, track_jump: bool) -> Iterator[list[tuple[Cost, dict[int, Any]]]]:
    """The k cheapest solutions of wider and wider searches, one list per search, until
    the last, on the whole domains with a beam of MAX_STATES.  Raises Timeout (from the
    deadline) when the time is up."""
    order = preferred(problem)
    widest = max((len(v.values) for v in problem.vars), default=1)
    n = min(FIRST_VALUES, widest)
    while True:
        sub = narrowed(problem, order, n)
        sets = bounds(sub, fns, deadline)
        if not all(ivs for per_case in sets for axes in per_case for ivs in axes):
            yield []
        else:
            for width in (*BEAMS, *((MAX_STATES,) if n == widest else ())):
                graph = StateGraph(sub, fns, sets, deadline, track_jump=track_jump, beam=(width, cost))
                found, whole = graph.best(k, cost, by_size=getattr(cost, "by_size", True)), not graph.trimmed
                del graph  # freed before the next one is built: one graph in memory at a time
                yield found
                if whole:  # a wider beam would build the same graph
                    break
        if n == widest:
            return
        n = min(widest, n + max(1, n // 2))


def lower_bound(problem: Problem, cost: CostFn, deadline: Deadline) -> Cost | None:
    """A cost no solution can beat: each layer's cheapest setting, summed (lexicographic
    costs too: a layer can only do better on a later goal by doing worse on an earlier
    one).  None when costs read sizes or the jump, or there is no objective."""
    if not problem.objective or getattr(cost, "by_size", True) or Goal.LARGEST_RECEPTIVE_FIELD in problem.objective:
        return None
    total: Cost = tuple(0 for _ in problem.objective)
    domains = [var.values for var in problem.vars]
    done: dict[Any, Cost | None] = {}  # layers alike cost alike
    for node in problem.nodes:
        key = alike(problem, node)
        if key in done:
            best = done[key]
        else:
            best = done[key] = _cheapest(problem, node, cost, domains, deadline)
        if best is None:
            return None
        total = tuple(a + b for a, b in zip(total, best, strict=True))
    return total


def _cheapest(problem: Problem, node: Node, cost: CostFn, domains: list[tuple[Any, ...]],
              deadline: Deadline) -> Cost | None:
    """The least cost of any setting of one layer (None: no setting runs)."""
    ids = node.var_ids
    ins = tuple((tuple(_LARGE for _ in range(problem.ndim)),) for _ in node.inputs)
    best: Cost | None = None
    for combo in itertools.product(*(domains[v] for v in ids)):
        deadline.tick()
        try:
            c = cost(node, dict(zip(ids, combo, strict=True)), ins, (None, None, ()))
        except Rejected:  # settings no layer takes are in no solution
            continue
        if best is None or c < best:
            best = c
    return best
