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
from ..engines.anytime import lower_bound, searches
from ..engines.bounds import bounds
from ..engines.compiled import CompiledRule, compile_rules, next_jump, solution_sizes
from ..engines.deadline import Deadline, Timeout, collector_paused
from ..engines.exact import Cost, StateGraph, TooLarge, seconds, value_order
from ..engines.intervals import Intervals
from ..engines.problem import Node, Problem, Values, alike, build_problem, solution_layers
from ..errors import DocumentError, LimitExceeded
from .explain import explain

#: The bounds' share of min(1 s, time limit), and the anytime search's (from the start).
EXACT_FIRST = 0.3
ANYTIME_FIRST = 0.9
#: The exact engine goes first when it is expected to take at most this share of the time.
EXACT_FITS = 0.5
#: The share of the time limit kept for writing the answer.
MARGIN = 0.05
#: CP-SAT's enumeration is ranked when it lists at most this many solutions.
MAX_ENUMERATED = 100_000


def _weights(problem: Problem, node: Node) -> tuple[int, int, int]:
    """(in_channels, out_channels, groups) of a conv layer, or a clear error."""
    cin, cout = problem.channels[node.inputs[0]], node.layer.out_channels
    if cin is None or cout is None:
        raise DocumentError(
            f"{problem.layer_label(node.index)}: ranking by parameters or MACs needs in_channels "
            "(on the document or the layer) and out_channels", loc=("layers", node.index))
    return cin, cout, node.layer.groups


def make_cost(problem: Problem, fns: list[CompiledRule | None],  # type: ignore[no-untyped-def]
              goals: list[Goal | Prefer] | None = None):
    """The objective (or other goals) as an additive cost per layer: a tuple, compared
    lexicographically; a maximized goal's cost is negated (see `user_score`)."""
    goals = problem.objective if goals is None else goals
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
    # Layers written alike, on as many channels, cost alike: a stack of identical blocks
    # is costed once per input size.
    keys = [alike(problem, n) for n in problem.nodes]

    def cost(node: Node, vals: dict[int, Any], ins: Any, state: Any) -> Cost:
        key = (keys[node.index], tuple([vals[v] for v in var_ids[node.index]]), ins if by_size else None,
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


def user_score(problem: Problem, goals: list[Goal | Prefer], cost: Cost) -> list[int | float]:
    """A cost as a solution's score shows it: a receptive field maximized (its cost is
    the negated growth) and counted from 1 on each axis, summed over the axes."""
    return [_number(problem.ndim - x if g == Goal.LARGEST_RECEPTIVE_FIELD else x)
            for g, x in zip(goals, cost, strict=True)]


def solve(document: SolveRequest | dict[str, Any], *, max_time_s: float | None = None,
          cancelled: Callable[[], bool] | None = None,
          on_progress: Callable[[SolveResponse], None] | None = None) -> SolveResponse:
    """Enumerate, rank and count the settings that take the input sizes to the targets.

    >>> r = solve({"input_size": [28], "target_size": [14], "limit": 3,
    ...            "objective": "smallest_kernels",
    ...            "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 4},
    ...                        "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 1}}]})
    >>> r.status, r.count, [s.layers[0]["kernel_size"] for s in r.solutions]
    (<Status.LIMIT: 'limit'>, 4, [[1], [2], [3]])

    `cancelled`, when given, is asked now and then; once it says yes the search stops
    and answers "timeout" (the service uses it when a client goes away).
    `on_progress`, when given, receives each better answer the anytime search finds
    before the final one (only when the exact engine cannot answer at once).
    """
    with collector_paused():
        return _solve(document, max_time_s, cancelled, on_progress)


def _solve(document: SolveRequest | dict[str, Any], max_time_s: float | None,
           cancelled: Callable[[], bool] | None,
           on_progress: Callable[[SolveResponse], None] | None) -> SolveResponse:
    started = time.monotonic()
    if max_time_s is not None and max_time_s <= 0:  # no time even to build the problem (a busy server)
        parse(SolveRequest, document)
        return SolveResponse(status=Status.TIMEOUT, count=None, solutions=[], engine="exact", elapsed_s=0.0,
                             message="no answer within the time limit of 0 s", optimal=False)
    problem = build_problem(document)
    budget = problem.time_limit_s if max_time_s is None else min(problem.time_limit_s, max_time_s)
    # The searches stop a little early: what is left is for freeing their memory and
    # writing the answer.
    deadline = Deadline(budget * (1 - MARGIN) - (time.monotonic() - started), cancelled)
    # Writing the solutions out may take half the margin the searches leave.
    write_until = started + budget * (1 - MARGIN / 2)

    def answer(status: Status, count: int | None, solutions: list[Solution], engine: str,
               message: str | None = None, optimal: bool | None = None) -> SolveResponse:
        return SolveResponse(status=status, count=count, solutions=solutions, engine=engine,
                             elapsed_s=round(time.monotonic() - started, 6), message=message,
                             warnings=problem.warnings,
                             optimal=status != Status.TIMEOUT if optimal is None else optimal)

    def listed(fns: list[CompiledRule | None], found: list[tuple[Cost, dict[int, Any]]]) -> list[Solution]:
        """The solutions written out, as many as the time limit allows: writing 10,000
        takes longer than finding them."""
        written = []
        for c, values in found:
            if (time.monotonic() > write_until or deadline.was_cancelled()) and written:
                break
            written.append(Solution(layers=solution_layers(problem, values), sizes=solution_sizes(problem, fns, values),
                                    score=user_score(problem, problem.objective, c) if problem.objective else None))
        return written

    def cut_short(response: SolveResponse, asked: int) -> SolveResponse:
        """When the time limit stopped the writing: the next page starts after the last
        solution written, and the message says so."""
        written = len(response.solutions)
        if written < asked:
            response.status = Status.LIMIT
            response.next_cursor = make_cursor(problem.document, offset + written)
            response.message = (f"the time limit allowed writing out {written:,} of the {asked:,} solutions asked "
                                "for; next_cursor lists the next ones")
        return response

    offset = read_cursor(problem.document)
    fns = compile_rules(problem)
    cost = make_cost(problem, fns)
    k = offset + problem.limit
    track_jump = Goal.LARGEST_RECEPTIVE_FIELD in problem.objective

    def exact(within: Deadline, sets: list[list[list[Intervals]]] | None = None) -> SolveResponse:
        sets = bounds(problem, fns, within) if sets is None else sets
        graph = StateGraph(problem, fns, sets, within, track_jump=track_jump)
        count = graph.count
        if count == 0:
            # The explanation gets what is left of the time limit; what it could not try, it says.
            why = explain(problem.document, deadline)
            response = answer(Status.INFEASIBLE, 0, [], "exact", why.message)
            response.explanation = why
            return response
        found = graph.best(k, cost, by_size=cost.by_size)[offset:]
        more = count > k
        response = answer(Status.LIMIT if more else Status.COMPLETE, count, listed(fns, found), "exact")
        response.next_cursor = make_cursor(problem.document, k) if more and problem.limit else None
        return cut_short(response, len(found))

    # The exact engine answers most problems in milliseconds, and the bounds tell about
    # how long it would take.  When that fits half the time left, it runs first (with up
    # to three times its estimate); when not, or when it runs over, or the problem has
    # too many intermediate sizes, the anytime search finds good designs within about a
    # second, and the rest of the time goes to finishing exactly (the exact engine
    # again, or CP-SAT's enumeration) and to improving.
    interactive = min(1.0, budget)
    too_large: str | None = None
    try:
        sets = bounds(problem, fns, deadline.within(EXACT_FIRST * interactive))
        expected = seconds(problem, sets)
        if expected <= EXACT_FITS * deadline.remaining():
            return exact(deadline.within(max(3 * expected, EXACT_FIRST * interactive)), sets)
    except TooLarge as exc:
        too_large = str(exc)
    except Timeout:
        if deadline.was_cancelled():
            return answer(Status.TIMEOUT, None, [], "exact", "stopped: the request was cancelled")
    found = BestFound(k)
    # Not for a count alone, nor for a later page: pages follow one exhaustive ranking.
    steps = searches(problem, fns, cost, k, deadline, track_jump=track_jump) if k and not offset else iter(())
    floor: list[Cost | None] = []  # the lower bound, once worked out

    def proved() -> bool:
        """Whether the k-th best found costs what no solution can beat."""
        if len(found.found) < k:
            return False
        if not floor:
            try:
                floor.append(lower_bound(problem, cost, deadline))
            except Timeout:
                floor.append(None)
        return floor[0] is not None and found.ranked(0)[-1][0] == floor[0]

    def improve(until: float) -> bool:
        """Widen the anytime search until `until` (time.monotonic) or the deadline;
        whether the best found are proved the best."""
        try:
            for solutions in steps:
                if found.add(solutions):
                    done = proved()
                    if on_progress is not None:
                        on_progress(anytime(Status.LIMIT if done else Status.TIMEOUT))
                    if done:
                        return True
                if time.monotonic() >= until:
                    return False
        except Timeout:
            pass
        return False

    def anytime(status: Status) -> SolveResponse:
        ranked = found.ranked(offset)
        why = too_large or "too many settings to try them all in time"
        if status == Status.LIMIT:
            message = (f"the best {len(ranked)} designs by the objective, proved the best (no solution costs less "
                       f"than each layer's cheapest setting, summed); not counted: {why}")
        else:
            message = (f"the time limit of {budget:.3g} s passed before the exact search finished ({why}): "
                       "these are the best designs found by the objective, not proved the best, and the "
                       "solutions are not counted")
        solutions = listed(fns, ranked)
        if len(solutions) < len(ranked):
            message += f"; the time limit allowed writing out {len(solutions):,} of the {len(ranked):,} found"
        return answer(status, None, solutions, "anytime", message, optimal=status == Status.LIMIT)

    best_proved = improve(started + ANYTIME_FIRST * interactive)
    if not deadline.was_cancelled() and deadline.remaining() > EXACT_FIRST * interactive:
        # What is left, to finish exactly: for the count (all of it when the best are
        # proved, or for a count alone), else half, and the other half to improve.
        within = deadline if best_proved or not k else deadline.within(deadline.remaining() / 2)
        try:
            if too_large is None:
                return exact(within)
        except TooLarge as exc:
            too_large = str(exc)
        except Timeout:
            pass
        if too_large is not None:
            try:
                finished = _by_enumeration(problem, fns, cost, within, found, answer, listed, too_large, offset)
                if finished is not None:
                    return cut_short(finished, min(problem.limit, max(0, (finished.count or 0) - offset)))
            except (Timeout, TooLarge):  # out of time, or tables too large for CP-SAT
                pass
    if best_proved or improve(deadline.at):
        return anytime(Status.LIMIT)
    if deadline.was_cancelled():
        return answer(Status.TIMEOUT, None, [], "exact", "stopped: the request was cancelled")
    if not found.found:
        why = too_large or "the exact search did not finish"
        return answer(Status.TIMEOUT, None, [], "exact", f"no answer within the time limit of {budget:.3g} s ({why})")
    return anytime(Status.TIMEOUT)


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


class BestFound:
    """The k cheapest distinct solutions found so far, by the objective."""

    def __init__(self, k: int) -> None:
        self.k = k
        self.found: dict[Any, tuple[Cost, dict[int, Any]]] = {}

    def add(self, solutions: list[tuple[Cost, dict[int, Any]]]) -> bool:
        """Keep the k cheapest; whether the list changed."""
        before = self.ranked(0)
        for c, values in solutions:
            self.found.setdefault(tuple(sorted(values.items(), key=lambda kv: kv[0])), (c, values))
        self.found = dict(sorted(self.found.items(), key=lambda kv: (kv[1][0], value_order(tuple(x for _, x in kv[0]))))[:self.k])
        return self.ranked(0) != before

    def ranked(self, offset: int) -> list[tuple[Cost, dict[int, Any]]]:
        return list(self.found.values())[offset:]


def _by_enumeration(problem: Problem, fns: list[CompiledRule | None], cost: Any, deadline: Deadline,
                    found: BestFound, answer: Any, listed: Any, reason: str, offset: int) -> SolveResponse | None:
    """Too many intermediate sizes for the exact engine: CP-SAT lists every solution
    and they are ranked, when there are few enough and it finishes in time; otherwise
    what it listed joins the best found (None: the caller answers)."""
    from ..engines.cpsat import enumerate_solutions

    run = enumerate_solutions(problem, fns, bounds(problem, fns, deadline), limit=MAX_ENUMERATED + 1,
                              deadline=deadline)
    costed = [(sum_cost(problem, fns, cost, values), values) for values in run.solutions]
    if not (run.complete and len(costed) <= MAX_ENUMERATED):
        found.add(costed)
        return None
    if not costed:
        return answer(Status.INFEASIBLE, 0, [], "cpsat", f"{reason}; CP-SAT proved there is no solution")
    every = BestFound(len(costed))
    every.add(costed)
    end = offset + problem.limit
    response = answer(Status.COMPLETE if len(costed) <= end else Status.LIMIT, len(costed),
                      listed(fns, every.ranked(offset)[:problem.limit]), "cpsat",
                      f"{reason}: CP-SAT listed every solution, and they are ranked")
    if response.status == Status.LIMIT and problem.limit:
        response.next_cursor = make_cursor(problem.document, end)
    return response


def sum_cost(problem: Problem, fns: list[CompiledRule | None], cost: Any, values: Values,
             goals: list[Goal | Prefer] | None = None, sizes: list[list[list[int]]] | None = None) -> Cost:
    """A full solution's cost (by the objective, or the goals `cost` was made for): the
    sum of its layers' costs.  sizes: the solution's, when the caller has them."""
    goals = problem.objective if goals is None else goals
    sizes = (solution_sizes(problem, fns, values) if sizes is None else sizes)[0]
    total: Cost = tuple(0 for _ in goals)
    inputs = [problem.cases[0], *map(tuple, sizes)]
    jump: tuple[Any, ...] = (1,) * problem.ndim
    for node in problem.nodes:
        ins = tuple((tuple(inputs[t]),) for t in node.inputs)
        total = tuple(a + b for a, b in zip(total, cost(node, values, ins, (None, None, jump)), strict=True))
        if Goal.LARGEST_RECEPTIVE_FIELD in goals:
            jump = next_jump(node, values, jump)
    return total
