"""solve(): the inverse problem, from a solve document to ranked, counted solutions."""

from __future__ import annotations

import base64
import hashlib
import math
import time
from collections.abc import Callable
from typing import Any

from .. import rules as A
from ..contract import Goal, Prefer, Solution, SolveRequest, SolveResponse, Status, parse
from ..engines.bounds import bounds
from ..engines.compiled import CompiledRule, compile_rules, next_jump, solution_sizes
from ..engines.deadline import Deadline, Timeout
from ..engines.exact import Cost, StateGraph, TooLarge
from ..engines.problem import Node, Problem, build_problem, solution_layers
from ..errors import DocumentError, LimitExceeded
from .explain import explain

#: Goals that are maximized; their cost is negated inside the engines.
_MAXIMIZED = {Goal.LARGEST_RECEPTIVE_FIELD}


def _weights(problem: Problem, node: Node) -> tuple[int, int, int]:
    """(in_channels, out_channels, groups) of a conv layer, or a clear error."""
    cin, cout = problem.channels[node.inputs[0]], node.layer.out_channels
    if cin is None or cout is None:
        raise DocumentError(
            f"{problem.layer_label(node.index)}: ranking by parameters or MACs needs in_channels "
            "(on the document or the layer) and out_channels", loc=("layers", node.index))
    return cin, cout, node.layer.groups


def make_cost(problem: Problem, fns: list[CompiledRule | None]):  # type: ignore[no-untyped-def]
    """The objective as an additive cost per layer: a tuple, compared lexicographically."""
    goals = problem.objective
    nd = range(problem.ndim)
    by_input = A.CONVENTION[problem.document.convention].modes_read_input and any(
        g == Goal.LEAST_PADDING or isinstance(g, Prefer) and "padding" in g.prefer for g in goals)
    for g in goals:
        if g == Goal.LARGEST_RECEPTIVE_FIELD:
            for n in problem.nodes:
                if n.inputs != (n.index,) or A.KINDS[n.type].family != "window":
                    raise DocumentError(
                        f"largest_receptive_field ranks chains of conv, conv_transpose and pool layers; "
                        f"{problem.layer_label(n.index)} is not one", loc=("objective",))
        if g in (Goal.FEWEST_PARAMS, Goal.FEWEST_MACS):
            for n in problem.nodes:
                if A.KINDS[n.type].weighted:
                    _weights(problem, n)

    def pads(node: Node, vals: dict[int, Any], ins: Any, a: int) -> tuple[int, int]:
        """(begin, end) padding as the forward report gives it (a transposed conv's in
        PyTorch's sense).  PyTorch's is fixed by the settings; TensorFlow's and ONNX's
        "same" depend on the input size too (the first input size here)."""
        fn = fns[node.index]
        assert fn is not None
        return fn.sides(a, ins[0][0][a], vals)

    def term(goal: Goal | Prefer, node: Node, vals: dict[int, Any], ins: Any, state: Any) -> float:
        s = node.slots
        if isinstance(goal, Prefer):
            total = 0
            for f, want in goal.prefer.items():
                if f in s:
                    total += sum(abs((pads(node, vals, ins, a)[0] if f == "padding" else vals[s[f][a]]) - want)
                                 for a in nd)
            return total
        if A.KINDS[node.type].family != "window":
            return 0
        if goal == Goal.LEAST_PADDING:
            return sum(abs(b) + abs(e) for a in nd for b, e in [pads(node, vals, ins, a)])
        if goal == Goal.SMALLEST_KERNELS:
            return sum(vals[s["kernel_size"][a]] for a in nd)
        if goal == Goal.LARGEST_RECEPTIVE_FIELD:
            # The receptive field grows by (span - 1) * jump on each axis (summed over axes),
            # with the jump of this layer's input, which the state carries.
            d = s.get("dilation")
            return -sum((A.window(node.type, vals[s["kernel_size"][a]], vals[s["stride"][a]],
                                  vals[d[a]] if d else 1)[0] - 1) * state[2][a] for a in nd)
        if goal == Goal.SMALLEST_DILATION:
            return sum(vals[s["dilation"][a]] for a in nd) if "dilation" in s else problem.ndim
        if not A.KINDS[node.type].weighted:
            return 0
        cin, cout, g = _weights(problem, node)
        kprod = math.prod(vals[s["kernel_size"][a]] for a in nd)
        # MACs for the first input size.
        i = ins[0][0]
        fn = fns[node.index]
        assert fn is not None
        out = math.prod(fn(a, i[a], vals) for a in nd) if goal == Goal.FEWEST_MACS else 0
        params, macs = A.params_and_macs(node.type, cin, cout, g, kprod, node.layer.bias, math.prod(i), out)
        return params if goal == Goal.FEWEST_PARAMS else macs

    # Only MACs (and padding outside PyTorch) depend on sizes and the receptive field on
    # the jump; every other term is cached by the layer's values.
    by_size = Goal.FEWEST_MACS in goals or by_input
    by_jump = Goal.LARGEST_RECEPTIVE_FIELD in goals
    memo: dict[Any, Cost] = {}

    var_ids = [n.var_ids for n in problem.nodes]

    def cost(node: Node, vals: dict[int, Any], ins: Any, state: Any) -> Cost:
        key = (node.index, tuple([vals[v] for v in var_ids[node.index]]), ins if by_size else None,
               state[2] if by_jump else None)
        c = memo.get(key)
        if c is None:
            c = memo[key] = tuple(term(g, node, vals, ins, state) for g in goals)
        return c

    cost.by_size = by_size  # type: ignore[attr-defined]  # tells the engine what the costs read
    return cost


def _number(x: Any) -> int | float:
    """A score as JSON shows it: an int when whole (jumps may be fractions)."""
    return int(x) if x == int(x) else float(x)


def solve(document: SolveRequest | dict[str, Any], *, max_time_s: float | None = None,
          cancelled: Callable[[], bool] | None = None) -> SolveResponse:
    """Enumerate, rank and count the settings that take the input sizes to the targets.

    >>> r = solve({"input_size": [28], "target_size": [14], "limit": 3,
    ...            "objective": "smallest_kernels",
    ...            "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 4},
    ...                        "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 1}}]})
    >>> r.status, r.count, [s.layers[0]["kernel_size"] for s in r.solutions]
    (<Status.LIMIT: 'limit'>, 4, [[1], [2], [3]])

    `cancelled`, when given, is asked now and then; once it says yes the search stops
    and answers "timeout" (the service uses it when a client goes away).
    """
    started = time.monotonic()
    if max_time_s is not None and max_time_s <= 0:  # no time even to build the problem (a busy server)
        parse(SolveRequest, document)
        return SolveResponse(status=Status.TIMEOUT, count=None, solutions=[], engine="exact", elapsed_s=0.0,
                             message="no answer within the time limit of 0 s")
    problem = build_problem(document)
    budget = problem.time_limit_s if max_time_s is None else min(problem.time_limit_s, max_time_s)
    deadline = Deadline(budget - (time.monotonic() - started), cancelled)
    signs = [-1 if isinstance(g, Goal) and g in _MAXIMIZED else 1 for g in problem.objective]

    def answer(status: Status, count: int | None, solutions: list[Solution], engine: str,
               message: str | None = None) -> SolveResponse:
        return SolveResponse(status=status, count=count, solutions=solutions, engine=engine,
                             elapsed_s=round(time.monotonic() - started, 6), message=message,
                             warnings=problem.warnings)

    # A receptive field is 1 + its growth on each axis; costs hold only the growth.
    offsets = [problem.ndim if g == Goal.LARGEST_RECEPTIVE_FIELD else 0 for g in problem.objective]

    def listed(fns: list[CompiledRule | None], found: list[tuple[Cost, dict[int, Any]]]) -> list[Solution]:
        return [
            Solution(layers=solution_layers(problem, values), sizes=solution_sizes(problem, fns, values),
                     score=[_number(sign * x + off) for sign, x, off in zip(signs, c, offsets, strict=True)]
                     if problem.objective else None)
            for c, values in found
        ]

    offset = read_cursor(problem.document)
    fns = compile_rules(problem)
    engine = "exact"
    try:
        sets = bounds(problem, fns, deadline)
        cost = make_cost(problem, fns)
        try:
            graph = StateGraph(problem, fns, sets, deadline,
                          track_jump=Goal.LARGEST_RECEPTIVE_FIELD in problem.objective)
        except TooLarge as exc:
            engine = "cpsat"
            return _by_enumeration(problem, fns, sets, cost, deadline, listed, answer, str(exc), offset)
        count = graph.count
        found = graph.best(offset + problem.limit, cost, by_size=cost.by_size)[offset:]
    except Timeout:
        if deadline.was_cancelled():
            return answer(Status.TIMEOUT, None, [], engine, "stopped: the request was cancelled")
        return answer(Status.TIMEOUT, None, [], engine, f"no answer within the time limit of {budget:g} s")
    if count == 0:
        # The explanation gets what is left of the time limit; what it could not try, it says.
        why = explain(problem.document, deadline)
        response = answer(Status.INFEASIBLE, 0, [], "exact", why.message)
        response.explanation = why
        return response
    more = count > offset + problem.limit
    response = answer(Status.LIMIT if more else Status.COMPLETE, count, listed(fns, found), "exact")
    response.next_cursor = make_cursor(problem.document, offset + problem.limit) if more and problem.limit else None
    return response


def _digest(document: SolveRequest) -> str:
    """What a cursor belongs to: the document, but for its cursor and limit."""
    body = document.model_dump_json(exclude={"cursor", "limit", "time_limit_s"})
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def make_cursor(document: SolveRequest, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{offset}:{_digest(document)}".encode()).decode()


def read_cursor(document: SolveRequest) -> int:
    """The offset a cursor stands for; 0 without one."""
    if document.cursor is None:
        return 0
    try:
        offset, digest = base64.urlsafe_b64decode(document.cursor.encode()).decode().split(":")
        if int(offset) < 0:
            raise ValueError
    except ValueError:
        raise DocumentError("cursor: not a cursor this service gave", loc=("cursor",)) from None
    if digest != _digest(document):
        raise DocumentError("cursor: it belongs to another problem (the document changed)", loc=("cursor",))
    if int(offset) > 100_000:
        raise LimitExceeded("cursor: at most the first 100,000 solutions are ranked", loc=("cursor",))
    return int(offset)


def _by_enumeration(problem: Problem, fns: list[CompiledRule | None], sets: Any, cost: Any, deadline: Deadline,
                    listed: Any, answer: Any, reason: str, offset: int) -> SolveResponse:
    """Too many intermediate sizes to count: list what CP-SAT enumerates in time."""
    from ..engines.cpsat import enumerate_solutions

    end = offset + problem.limit
    try:
        run = enumerate_solutions(problem, fns, sets, limit=end, deadline=deadline)
    except TooLarge as exc:
        return answer(Status.TIMEOUT, None, [], "cpsat", f"too large to search: {exc}")
    # CP-SAT's order (deterministic: one worker), not ranked: pages stay consistent, and
    # only a finished enumeration could be ranked anyway.
    found = [(sum_cost(problem, fns, cost, values), values) for values in run.solutions]
    if run.complete:
        status = Status.INFEASIBLE if not found else Status.COMPLETE if len(found) <= end else Status.LIMIT
        count: int | None = len(found)
    else:
        status, count = (Status.TIMEOUT if run.timed_out else Status.LIMIT), None
    response = answer(status, count, listed(fns, found[offset:end]), "cpsat",
                      f"{reason}: solutions are listed in the order CP-SAT found them, not ranked"
                      + ("" if run.complete else ", and they are not counted"))
    if status == Status.LIMIT and problem.limit:
        response.next_cursor = make_cursor(problem.document, end)
    return response


def sum_cost(problem: Problem, fns: list[CompiledRule | None], cost: Any, values: dict[int, Any]) -> Cost:
    """A full solution's cost: the sum of its layers' costs."""
    sizes = solution_sizes(problem, fns, values)[0]
    total: Cost = tuple(0 for _ in problem.objective)
    inputs = [problem.cases[0], *map(tuple, sizes)]
    jump: tuple[Any, ...] = (1,) * problem.ndim
    for node in problem.nodes:
        ins = tuple((tuple(inputs[t]),) for t in node.inputs)
        total = tuple(a + b for a, b in zip(total, cost(node, values, ins, (None, None, jump)), strict=True))
        if Goal.LARGEST_RECEPTIVE_FIELD in problem.objective:
            jump = next_jump(node, values, jump)
    return total
