"""The exact engine: dynamic programming over intermediate sizes.

Once every tensor's size is fixed, layers no longer interact except through shared
(isotropic or tied) variables.  So the solutions are paths through levels of states,
a state being the sizes of the tensors still needed and the values of the variables
still shared.  Counting is a sum of products over those paths (exact, with Python's
big ints), and the best N by an additive objective are the N cheapest paths.

Before the DP, each tensor's possible sizes are bounded by propagating intervals
forward from the inputs and backward from the targets; every layer's output is
non-decreasing in its input, so a preimage is found by bisection on the forward
arithmetic itself and no inverse formula is written.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from .compiled import NO_SIZE, CompiledRule, join_axis, next_jump
from .deadline import Deadline
from .intervals import Intervals, contains
from .problem import Node, Problem

# (sizes of live tensors, values of live variables, jump per axis when it is tracked)
State = tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]
_END: State = ((), (), ())
Cost = tuple[float, ...]
#: cost(node, values, input sizes, state): one layer's share of the objective.
CostFn = Callable[[Node, dict[int, Any], Any, Any], Cost]

#: Above this many states in one level the exact engine gives up (TooLarge): the anytime
#: search and CP-SAT take over; also the widest beam of the anytime search.
MAX_STATES = 200_000


class TooLarge(Exception):
    """Too many intermediate states for the exact engine."""




@dataclass(slots=True)
class Layout:
    tensors: tuple[int, ...]
    vars: tuple[int, ...]


@dataclass(slots=True)
class Step:
    """Node l's transitions: state -> next state -> the new variables' values."""

    node: Node
    new_vars: tuple[int, ...]
    edges: dict[State, dict[State, list[tuple[Any, ...]]]]


def layouts(problem: Problem, open_end: bool = False) -> list[Layout]:
    """What each level's states hold: the tensors still to be read, the variables still shared."""
    nodes, n = problem.nodes, len(problem.nodes)
    # One pass (nodes come in order): who reads each tensor last, uses each variable first and last.
    last_read = dict.fromkeys(range(n + 1), -1)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for m in nodes:
        last_read.update(dict.fromkeys(m.inputs, m.index))
        for v in m.var_ids:
            first.setdefault(v, m.index)
            last[v] = m.index
    if open_end:
        last_read[n] = n
    return [Layout(tuple(t for t in range(lvl + 1) if last_read[t] >= lvl),
                   tuple(v for v in sorted(first) if first[v] < lvl <= last[v]))
            for lvl in range(n + 1)]


#: Transitions the exact engine tries per second, about (the least measured on a 2-core
#: machine: bench/solve.py); `seconds` is an estimate, not a promise.
RATE = 100_000


def seconds(problem: Problem, sets: list[list[list[Intervals]]]) -> float:
    """About how long the exact engine would take: per layer, the states it could meet
    (the possible sizes of the tensors still to be read, the values of the variables
    still shared) times the layer's settings, at RATE a second.  Rough: the largest
    axis stands for all (isotropic axes move together), and few states are reached."""
    total = 0.0
    levels = layouts(problem)
    for node in problem.nodes:
        lay = levels[node.index]
        states = 1.0
        for t in lay.tensors:
            states *= max(sum(hi - lo + 1 for lo, hi in ivs) for per_case in sets[t] for ivs in per_case)
        for v in lay.vars:
            states *= len(problem.vars[v].values)
        total += states * math.prod(len(problem.vars[v].values) for v in node.var_ids if v not in lay.vars)
    return total / RATE


class StateGraph:
    """The levels of states and their transitions, pruned to those that reach the end."""

    def __init__(self, problem: Problem, fns: list[CompiledRule | None], sets: list[list[list[Intervals]]],
                 deadline: Deadline, *, track_jump: bool = False, open_end: bool = False,
                 beam: tuple[int, CostFn] | None = None) -> None:
        """track_jump: keep each chain state's cumulative stride (for the receptive field).
        open_end: keep the last tensor's size in the final states (see `ends`).
        beam: (width, cost): keep only the `width` states of each level that are cheapest
        to reach.  The graph then holds some of the solutions, not all: what it counts
        and ranks is theirs alone (the anytime search's use)."""
        self.problem = problem
        self.beam = beam
        self.trimmed = False  # whether the beam left states out (else the graph is whole)
        self._combo_cost: dict[int, dict[tuple[Any, ...], Cost]] = {}  # by layer, when no state matters
        self.open_end = open_end
        self.track_jump = track_jump
        self.deadline = deadline
        self.domains = {v: var.values for v, var in enumerate(problem.vars)}
        self.fns = fns
        self.sets = sets
        self._raw: dict[Any, list[int]] = {}  # outputs of a rule over all combos, by input size
        self._groups: dict[Any, list[tuple[Any, list[tuple[Any, ...]]]]] = {}  # see _transitions
        self.layouts = layouts(problem, open_end)
        self.steps: list[Step] = []
        self._build()

    def _build(self) -> None:
        p = self.problem
        ncase, nd = len(p.cases), p.ndim
        start: State = (tuple(tuple(tuple(c) for c in p.cases) for _ in self.layouts[0].tensors), (),
                        (1,) * nd if self.track_jump else ())
        level = [start]
        reach: dict[State, Cost] = {start: ()}  # with a beam: the cheapest cost to reach each state
        for node in p.nodes:
            lin, lout = self.layouts[node.index], self.layouts[node.index + 1]
            t_out, fn, sets = node.index + 1, self.fns[node.index], self.sets[node.index + 1]
            old = tuple(v for v in node.var_ids if v in lin.vars)
            new = tuple(v for v in node.var_ids if v not in lin.vars)
            new_domains = tuple(self.domains[v] for v in new)
            combos = []
            for combo in itertools.product(*new_domains):
                self.deadline.tick()
                combos.append(combo)

            def raw(c: int, a: int, i: int, oldvals: tuple[Any, ...]) -> tuple[Any, list[int]]:
                """Output on axis a of case c for input i and every combo (NO_SIZE where
                refused), with the key that names it: layers with the same rule, domains
                and input share their outputs, so a stack of identical blocks is worked
                out once."""
                assert fn is not None  # noqa: B023 - used within this iteration only
                cls = fn.cls_of[a]  # noqa: B023
                where = dict(zip(old, oldvals, strict=True))  # noqa: B023 - used within this iteration only
                pick = tuple(new.index(v) if v in new else -1 - old.index(v) for v in fn.vars_of(a))  # noqa: B023
                names, _, fixed = fn.classes[cls]  # noqa: B023
                shared = (fn.kind, names, tuple(sorted(fixed.items())), pick, new_domains,  # noqa: B023
                          tuple(where[old[-1 - x]] for x in pick if x < 0), i)  # noqa: B023
                outs = self._raw.get(shared)
                if outs is None:
                    if pick == tuple(range(len(new))):  # noqa: B023 - the usual case: the combo itself
                        axis_combos = combos  # noqa: B023
                    else:
                        axis_combos = []
                        for cb in combos:  # noqa: B023
                            self.deadline.tick()
                            axis_combos.append(tuple([cb[x] if x >= 0 else where[old[-1 - x]] for x in pick]))  # noqa: B023
                    outs = self._raw[shared] = fn.outputs(cls, i, axis_combos, self.deadline)  # noqa: B023
                    self.deadline.check()
                return shared, outs

            flat_sets = [sets[c][a] for c in range(ncase) for a in range(nd)]
            # Per input key: the outputs reached, each with the (shared) list of combos.
            memo: dict[Any, list[tuple[Any, list[tuple[Any, ...]]]]] = {}
            edges: dict[State, dict[State, list[tuple[Any, ...]]]] = {}
            nxt: dict[State, None] = {}
            next_reach: dict[State, Cost] = {}
            for state in level:
                self.deadline.check()
                sizes = dict(zip(lin.tensors, state[0], strict=True))
                vals = dict(zip(lin.vars, state[1], strict=True))
                ins = tuple(sizes[t] for t in node.inputs)
                oldvals = tuple(vals[v] for v in old)
                key = (ins, oldvals)
                results = memo.get(key)
                if results is None:
                    groups: dict[Any, list[tuple[Any, ...]]] = {}
                    if fn is None:  # a join or a crop: no settings, one output (or none)
                        out = tuple(tuple(join_axis(node.type, [x[c][a] for x in ins]) for a in range(nd))
                                    for c in range(ncase))
                        if all(contains(sets[c][a], out[c][a]) for c in range(ncase) for a in range(nd)):
                            groups[out] = [()]
                    else:
                        for outs, g in self._transitions(fn, old, oldvals, new, combos, [
                                raw(c, a, ins[0][c][a], oldvals) for c in range(ncase) for a in range(nd)]):
                            if all(contains(ivs, o) for o, ivs in zip(outs, flat_sets, strict=True)):
                                groups[tuple(outs[c * nd:(c + 1) * nd] for c in range(ncase))] = g
                    results = memo[key] = list(groups.items())
                out_edges: dict[State, list[tuple[Any, ...]]] = {}
                rest = tuple(sizes[t] for t in lout.tensors if t != t_out)
                at = lout.tensors.index(t_out) if t_out in lout.tensors else -1
                jump = state[2] if node.index + 1 < len(p.nodes) else ()
                if lout.vars or jump:  # live variables or the jump split the groups
                    for out, group in results:
                        tensors = rest[:at] + (out,) + rest[at:] if at >= 0 else rest
                        for combo in group:
                            self.deadline.tick()
                            allv = {**vals, **dict(zip(new, combo, strict=True))}
                            ns: State = (tensors, tuple(allv[v] for v in lout.vars),
                                         jump and next_jump(node, allv, jump))
                            out_edges.setdefault(ns, []).append(combo)
                elif at >= 0:  # one state per output, each group as it is (shared)
                    head, tail = rest[:at], rest[at:]
                    out_edges = {(head + (out,) + tail, (), ()): group for out, group in results}
                elif results:  # the output is never read: every group lands on one state
                    out_edges[rest, (), ()] = list(itertools.chain(*(group for _, group in results)))
                nxt.update(dict.fromkeys(out_edges))
                if out_edges:
                    edges[state] = out_edges
                if self.beam is not None:
                    self._reach(node, new, state, vals, ins, out_edges, reach, next_reach)
            if self.beam is not None:
                reach, level = self._cut(edges, next_reach, self.beam[0])
                self.steps.append(Step(node, new, edges))
                continue
            if len(nxt) > MAX_STATES:
                raise TooLarge(f"{len(nxt):,} intermediate states after layer {node.index}")
            self.steps.append(Step(node, new, edges))
            level = list(nxt)
        #: The final states, each ending one path: just _END, or (open_end) one per last size.
        self.ends = dict.fromkeys(level, 1)
        self._prune()

    def _transitions(self, fn: CompiledRule, old: tuple[int, ...], oldvals: tuple[Any, ...], new: tuple[int, ...],
                     combos: list[tuple[Any, ...]], raws: list[tuple[Any, list[int]]]) -> list[tuple[Any, list[tuple[Any, ...]]]]:
        """The combos grouped by the outputs they give (on every case and axis), those
        refused left out: one transition per output.  Worked out once per input and
        rule, and shared by every level with the same layer."""
        key = (tuple(k for k, _ in raws), oldvals if fn.spanning is not None else None)
        found = self._groups.get(key)
        if found is None:
            flat: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
            where = dict(zip(old, oldvals, strict=True)) if fn.spanning is not None else {}
            for combo, outs in zip(combos, zip(*(o for _, o in raws), strict=True), strict=True):
                self.deadline.tick()
                if NO_SIZE not in outs and (fn.spanning is None or fn.allows(
                        {**where, **dict(zip(new, combo, strict=True))})):
                    flat.setdefault(outs, []).append(combo)
            found = self._groups[key] = list(flat.items())
        return found

    def _reach(self, node: Node, new: tuple[int, ...], state: State, vals: dict[int, Any], ins: Any,
               out_edges: dict[State, list[tuple[Any, ...]]], reach: dict[State, Cost],
               next_reach: dict[State, Cost]) -> None:
        """The cheapest cost to reach each next state through this one."""
        assert self.beam is not None
        cost, base = self.beam[1], reach[state]
        # Unless the cost reads the state (sizes, jump, variables set before), each combo
        # costs the same from every state: worked out once per layer.
        if getattr(cost, "by_size", True) or self.track_jump or self.layouts[node.index].vars:
            def of(combo: tuple[Any, ...]) -> Cost:
                return cost(node, {**vals, **dict(zip(new, combo, strict=True))}, ins, state)
        else:
            known = self._combo_cost.setdefault(node.index, {})

            def of(combo: tuple[Any, ...]) -> Cost:
                c = known.get(combo)
                if c is None:
                    c = known[combo] = cost(node, dict(zip(new, combo, strict=True)), ins, state)
                return c
        for ns, combos in out_edges.items():
            self.deadline.tick()
            c = _add(base, min(map(of, combos)))
            if ns not in next_reach or c < next_reach[ns]:
                next_reach[ns] = c

    def _cut(self, edges: dict[State, dict[State, list[tuple[Any, ...]]]], reach: dict[State, Cost],
             width: int) -> tuple[dict[State, Cost], list[State]]:
        """Keep the `width` next states cheapest to reach (the first reached among equals)."""
        if len(reach) <= width:
            return reach, list(reach)
        self.trimmed = True
        order = {s: n for n, s in enumerate(reach)}
        kept = dict.fromkeys(heapq.nsmallest(width, reach, key=lambda s: (reach[s], order[s])))
        for state in list(edges):
            out = {ns: combos for ns, combos in edges[state].items() if ns in kept}
            if out:
                edges[state] = out
            else:
                del edges[state]
        return {s: reach[s] for s in kept}, list(kept)

    def _prune(self) -> None:
        """Drop states that cannot reach the end, and count paths on the way."""
        alive: dict[State, int] = dict(self.ends)
        self.counts: list[dict[State, int]] = [alive]
        for step in reversed(self.steps):
            counts: dict[State, int] = {}
            for state, out in list(step.edges.items()):
                self.deadline.tick()
                kept = {ns: combos for ns, combos in out.items() if ns in alive}
                if kept:
                    step.edges[state] = kept
                    counts[state] = sum(len(combos) * alive[ns] for ns, combos in kept.items())
                else:
                    del step.edges[state]
            alive = counts
            self.counts.insert(0, alive)

    @property
    def count(self) -> int:
        return sum(self.counts[0].values())

    def end_sizes(self) -> list[tuple[tuple[int, ...], ...]]:
        """With open_end: every size the last tensor reaches, per case, sorted."""
        return sorted(state[0][0] for state in self.counts[-1])

    def best(self, k: int, cost: CostFn,
             by_size: bool = True) -> list[tuple[Cost, dict[int, Any]]]:
        """The k cheapest solutions as (cost, values of every variable), cheapest first.

        by_size: the cost depends on the tensor sizes, not only on the layer's values.
        """
        if k == 0 or not self.counts[0]:
            return []
        sorted_groups: dict[Any, list[tuple[Cost, int, Any]]] = {}  # by (layer, id of the group, state)
        # best[l][state] = up to k (cost, tiebreak, combo, next state, index into best[l+1][next])
        best: dict[State, list[tuple[Cost, int, Any, State, int]]] = {
            end: [((), 0, None, None, -1)] for end in self.ends}
        tables = [best]
        for step in reversed(self.steps):
            self.deadline.check()
            cur: dict[State, list[tuple[Cost, int, Any, State, int]]] = {}
            lin = self.layouts[step.node.index]
            by_state = by_size or self.track_jump or any(v in lin.vars for v in step.node.var_ids)
            by_combo: dict[tuple[Any, ...], Cost] = {}  # when the cost depends on the combo alone
            for state, out in step.edges.items():
                self.deadline.tick()
                vals = dict(zip(lin.vars, state[1], strict=True))
                sizes = dict(zip(lin.tensors, state[0], strict=True))
                ins = tuple(sizes[t] for t in step.node.inputs)

                def local_cost(c: tuple[Any, ...]) -> Cost:
                    if not by_state and c in by_combo:  # noqa: B023
                        return by_combo[c]  # noqa: B023
                    value = cost(step.node, {**vals, **dict(zip(step.new_vars, c, strict=True))}, ins, state)  # noqa: B023
                    if not by_state:  # noqa: B023
                        by_combo[c] = value  # noqa: B023
                    return value

                locals_ = []
                for ns, combos in out.items():
                    # A group shared by many states is sorted once, unless its cost
                    # depends on the state (sizes, or variables fixed before this layer).
                    key = (step.node.index, id(combos), state if by_state else None)
                    local = sorted_groups.get(key)
                    if local is None:
                        local = sorted_groups[key] = sorted((local_cost(c), n, c) for n, c in enumerate(combos))
                    locals_.append((_add(local[0][0], best[ns][0][0]), local, ns))
                if len(locals_) > k:  # a group whose cheapest path is past the k-th group's cannot place
                    cut = heapq.nsmallest(k, (head for head, _, _ in locals_))[-1]
                    locals_ = [x for x in locals_ if x[0] <= cut]
                streams = [_pair_sums(local, best[ns], ns) for _, local, ns in locals_]
                merged = heapq.merge(*streams, key=lambda x: (x[0], x[1]))
                cur[state] = [(c, n, combo, ns, j) for n, (c, _, combo, ns, j) in enumerate(itertools.islice(merged, k))]
            best = cur
            tables.insert(0, best)
        ((start, entries),) = tables[0].items()
        solutions = []
        for entry in entries:
            values: dict[int, Any] = {}
            state, e = start, entry
            for lvl, step in enumerate(self.steps):
                lin = self.layouts[lvl]
                values.update(zip(lin.vars, state[1], strict=True))
                values.update(zip(step.new_vars, e[2], strict=True))
                state, e = e[3], tables[lvl + 1][e[3]][e[4]] if lvl + 1 < len(self.steps) else None  # type: ignore[assignment]
            solutions.append((entry[0], values))
        return solutions


def _add(x: Cost, y: Cost) -> Cost:
    if not x or not y:  # the end-of-path sentinel costs ()
        return x or y
    return tuple(a + b for a, b in zip(x, y, strict=True))


def _pair_sums(local: list[tuple[Cost, int, Any]], tail: list[tuple[Cost, int, Any, State, int]], ns: State) -> Iterator[tuple[Cost, tuple[int, int], Any, State, int]]:
    """All (local + tail) sums in increasing order, lazily: the k-best of two sorted lists."""
    heap = [(_add(local[0][0], tail[0][0]), (0, 0))]
    seen = {(0, 0)}
    while heap:
        c, (i, j) = heapq.heappop(heap)
        yield c, (i, j), local[i][2], ns, j
        for ni, nj in ((i + 1, j), (i, j + 1)):
            if ni < len(local) and nj < len(tail) and (ni, nj) not in seen:
                seen.add((ni, nj))
                heapq.heappush(heap, (_add(local[ni][0], tail[nj][0]), (ni, nj)))

