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

import bisect
import heapq
import itertools
import math
import operator
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .compiled import NO_SIZE, CompiledRule, join_axis, next_jump
from .deadline import Deadline
from .intervals import Intervals, contains
from .problem import Node, Problem, Values

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


class _Tables:
    """Transition tables kept across solves, least recently used out first, up to a
    total number of settings: a design tool asks about the same layers again and again
    (a user drags a target size; the layers' tables are the same)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.weight = 0
        self.data: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self.lock:
            found = self.data.get(key)
            if found is None:
                return None
            self.data.move_to_end(key)
            return found[0]

    def put(self, key: Any, value: Any, weight: int) -> None:
        with self.lock:
            if key in self.data:
                return
            self.data[key] = (value, weight)
            self.weight += weight
            while self.weight > self.capacity:
                self.weight -= self.data.popitem(last=False)[1][1]


#: About 10-60 MB at most (a settings' reference, and its share of the group lists).
TABLES = _Tables(2_000_000)


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
        self.layouts = layouts(problem, open_end)
        self.steps: list[Step] = []
        self._unranking: dict[tuple[int, State], list[Any]] = {}  # see _entry
        self._root: list[Any] | None = None
        self._by_id: Callable[[tuple[Any, ...]], Values]
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

            # Per axis, what names its outputs (but the input and the values set before):
            # layers with the same rule, domains and input share their outputs, so a
            # stack of identical blocks is worked out once.
            def place(v: int) -> int:
                """Where a variable's value is: in the combo (>= 0), or set before (< 0)."""
                return new.index(v) if v in new else -1 - old.index(v)  # noqa: B023

            named = []
            if fn is not None:
                for a in range(nd):
                    cls = fn.cls_of[a]
                    names, _, fixed = fn.classes[cls]
                    pick = tuple(map(place, fn.vars_of(a)))
                    named.append(((cls, pick, fn.kind, p.ndim, names, tuple(sorted(fixed.items())), new_domains),
                                  tuple(-1 - x for x in pick if x < 0)))
                spans = fn.spanning and tuple(place(v) for group in fn.spanning for v in group)

            def raw(key: Any) -> list[int]:
                """Outputs of one axis for one input and every combo (NO_SIZE where refused)."""
                outs = self._raw.get(key)
                if outs is None:
                    assert fn is not None  # noqa: B023 - used within this iteration only
                    (cls, pick, *_), oldvals, i = key
                    if pick == tuple(range(len(new))):  # noqa: B023 - the usual case: the combo itself
                        axis_combos = combos  # noqa: B023
                    else:
                        picked = iter(oldvals)
                        where = {x: next(picked) for x in pick if x < 0}
                        axis_combos = []
                        for cb in combos:  # noqa: B023
                            self.deadline.tick()
                            axis_combos.append(tuple([cb[x] if x >= 0 else where[x] for x in pick]))
                    outs = self._raw[key] = fn.outputs(cls, i, axis_combos, self.deadline)  # noqa: B023
                    self.deadline.check()
                return outs

            joint = p.joint.get(node.index)
            # The sizes allowed on each case and axis, as sets when small enough to hold.
            allowed = [_as_set(sets[c][a]) for c in range(ncase) for a in range(nd)]
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
                    if joint and not all(rule.holds(ins[0][c]) for rule in joint for c in range(ncase)):
                        pass  # a rule on all axes of the input refuses it: no transition
                    elif fn is None:  # a join or a crop: no settings, one output (or none)
                        out = tuple(tuple(join_axis(node.type, [x[c][a] for x in ins]) for a in range(nd))
                                    for c in range(ncase))
                        if all(contains(sets[c][a], out[c][a]) for c in range(ncase) for a in range(nd)):
                            groups[out] = [()]
                    else:
                        # Named by what decides them, so that they are shared by identical
                        # layers and kept across solves.
                        keys = tuple((static, tuple([oldvals[x] for x in olds]), ins[0][c][a])
                                     for c in range(ncase) for a, (static, olds) in enumerate(named))
                        for outs, out, g in self._transitions(fn, old, oldvals, new, combos, keys, raw,
                                                              spans and (spans, oldvals)):
                            if all(map(operator.contains, allowed, outs)):
                                groups[out] = g
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
                     combos: list[tuple[Any, ...]], keys: tuple[Any, ...], raw: Callable[[Any], list[int]],
                     spans: Any) -> list[tuple[Any, Any, list[tuple[Any, ...]]]]:
        """The combos grouped by the outputs they give (on every case and axis), those
        refused left out: one transition per output, as (outputs, the same per case,
        combos).  Worked out once per rule, domains and input, and kept (TABLES)."""
        key = (keys, spans)
        found = TABLES.get(key)
        if found is None:
            flat: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
            where = dict(zip(old, oldvals, strict=True)) if fn.spanning is not None else {}
            for combo, outs in zip(combos, zip(*map(raw, keys), strict=True), strict=True):
                self.deadline.tick()
                if NO_SIZE not in outs and (fn.spanning is None or fn.allows(
                        {**where, **dict(zip(new, combo, strict=True))})):
                    flat.setdefault(outs, []).append(combo)
            nd = self.problem.ndim
            found = [(outs, tuple(outs[c:c + nd] for c in range(0, len(outs), nd)), g) for outs, g in flat.items()]
            TABLES.put(key, found, len(combos))
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
                kept = out if alive.keys() >= out.keys() else {ns: g for ns, g in out.items() if ns in alive}
                if kept:
                    step.edges[state] = kept
                    counts[state] = sum(map(operator.mul, map(len, kept.values()), map(alive.__getitem__, kept)))
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

    def unrank(self, rank: int) -> Values:
        """The rank-th solution (0 <= rank < count) in the graph's own order: the value
        of every variable, by its id.  A uniform rank gives a uniform solution, since
        every path has one rank: at each state the rank picks a transition by how many
        solutions pass through it, then a combo of that transition and a rank among the
        rest."""
        if not 0 <= rank < self.count:
            raise IndexError(rank)
        if self._root is None:
            self._root = self._entry(0, next(iter(self.counts[0])))  # the one start state
            # The combos' values, read in level order, put in variable order (in C) when
            # every variable is set once on the way (else a dict by id).
            new_vars = [v for step in self.steps for v in step.new_vars]
            if len(new_vars) > 1 and sorted(new_vars) == list(range(len(self.problem.vars))):
                self._by_id = operator.itemgetter(*sorted(range(len(new_vars)), key=new_vars.__getitem__))
            else:
                self._by_id = lambda flat: dict(zip(new_vars, flat, strict=True))
        # Kept lean: sampling runs it once per design and level.
        entry, combos, bisect_right = self._root, [], bisect.bisect_right
        for _ in self.steps:
            ends, starts, rests, groups, nexts, _ = entry
            i = bisect_right(ends, rank)
            combo, rank = divmod(rank - starts[i], rests[i])
            combos.append(groups[i][combo])
            entry = nexts[i] or self._link(entry, i)
        return self._by_id(tuple(itertools.chain.from_iterable(combos)))

    def _entry(self, lvl: int, state: State) -> list[Any]:
        """What unrank reads of a state: the running total of the solutions through each
        transition (where each ends, and where it starts), the solutions after each, its
        combos, the next states' entries (each linked when first reached: sampling walks
        them again and again), and where they are (the next level and states)."""
        found = self._unranking.get((lvl, state))
        if found is None:
            if lvl == len(self.steps):  # an end: nothing to read
                return [(), (), (), (), (), None]
            out, after = self.steps[lvl].edges[state], self.counts[lvl + 1]
            states, groups = list(out), list(out.values())
            rests = list(map(after.__getitem__, states))
            ends = list(itertools.accumulate(map(operator.mul, map(len, groups), rests)))
            found = [ends, [0, *ends[:-1]], rests, groups, [None] * len(states), (lvl + 1, states)]
            self._unranking[(lvl, state)] = found
        return found

    def _link(self, entry: list[Any], i: int) -> list[Any]:
        lvl, states = entry[5]
        found = entry[4][i] = self._entry(lvl, states[i])
        return found

    def best(self, k: int, cost: CostFn,
             by_size: bool = True) -> list[tuple[Cost, dict[int, Any]]]:
        """The k cheapest solutions as (cost, values of every variable), cheapest first;
        equal costs in the order of their values (variable by variable, `value_order`).

        by_size: the cost depends on the tensor sizes, not only on the layer's values.

        One backward pass works out each state's cheapest cost to the end; then a
        best-first search from the start, which that exact estimate keeps on the
        cheapest paths, pops the k solutions in order (a state's successors are sorted
        only when the search reaches it, and each popped one brings in its next sibling).
        """
        if k == 0 or not self.counts[0]:
            return []
        n = len(self.steps)
        local = [self._local_costs(step, cost, by_size) for step in self.steps]
        # to_go[l][state]: the cheapest cost from a state of level l to the end.
        to_go: list[dict[State, Cost]] = [{} for _ in range(n)] + [dict.fromkeys(self.ends, ())]
        for lvl in range(n - 1, -1, -1):
            after, here, of = to_go[lvl + 1], to_go[lvl], local[lvl]
            for state, out in self.steps[lvl].edges.items():
                self.deadline.tick()
                # Per transition, its cheapest combo plus the cheapest from there.
                cheapest = map(min, map(map, itertools.repeat(of(state)), out.values()))
                here[state] = min(map(_add, cheapest, map(after.__getitem__, out)))
        successors: dict[tuple[int, State], list[tuple[Cost, Any, Cost, tuple[Any, ...], State]]] = {}
        order = _Memo()
        order.of = value_order

        def ranked(lvl: int, state: State) -> list[tuple[Cost, Any, Cost, tuple[Any, ...], State]]:
            """(local + cost to go, order key, local, combo, next state), cheapest first."""
            found = successors.get((lvl, state))
            if found is None:
                after, entries = to_go[lvl + 1], []
                costs = local[lvl](state)
                for ns, combos in self.steps[lvl].edges[state].items():
                    self.deadline.tick()
                    rest = after[ns]
                    entries += [(_add(c, rest), order[combo], c, combo, ns) for combo in combos for c in (costs(combo),)]
                entries.sort(key=lambda e: (e[0], e[1]))  # distinct combos: the order keys differ
                found = successors[(lvl, state)] = entries
            return found

        # A partial path: (cost so far, order key so far, level, state, (combo, earlier path)).
        ((start, _),) = self.counts[0].items()
        root = ((), (), 0, start, None)
        heap: list[tuple[Cost, Any, int, Any, int]] = []
        tie = itertools.count()

        def push(parent: Any, i: int) -> None:
            g, key, lvl, state, _ = parent
            entries = ranked(lvl, state)
            if i < len(entries):
                f, okey = entries[i][0], entries[i][1]
                heapq.heappush(heap, (_add(g, f), key + okey, next(tie), parent, i))

        push(root, 0)
        solutions: list[tuple[Cost, dict[int, Any]]] = []
        while heap and len(solutions) < k:
            self.deadline.tick()
            f, key, _, parent, i = heapq.heappop(heap)
            g, _, lvl, state, path = parent
            _, okey, c, combo, ns = ranked(lvl, state)[i]
            push(parent, i + 1)
            child = (_add(g, c), key, lvl + 1, ns, (combo, path))
            if lvl + 1 < n:
                push(child, 0)
                continue
            values: dict[int, Any] = {}
            node: Any = child[4]
            for step in reversed(self.steps):
                values.update(zip(step.new_vars, node[0], strict=True))
                node = node[1]
            solutions.append((child[0], dict(sorted(values.items()))))
        return solutions

    def _local_costs(self, step: Step, cost: CostFn, by_size: bool) -> Callable[[State], Callable[[tuple[Any, ...]], Cost]]:
        """Per step: state -> (combo -> its cost from that state).  When the cost does
        not depend on the state (sizes, the jump, or variables fixed before this layer),
        each combo is costed once for every state."""
        node, new = step.node, step.new_vars
        lin = self.layouts[node.index]
        by_state = by_size or self.track_jump or any(v in lin.vars for v in node.var_ids)
        known = _Memo()

        def costed(state: State) -> Callable[[tuple[Any, ...]], Cost]:
            vals = dict(zip(lin.vars, state[1], strict=True))
            sizes = dict(zip(lin.tensors, state[0], strict=True))
            ins = tuple(sizes[t] for t in node.inputs)
            return lambda c: cost(node, {**vals, **dict(zip(new, c, strict=True))}, ins, state)

        def at(state: State) -> Callable[[tuple[Any, ...]], Cost]:
            if by_state:
                return costed(state)
            # Each combo is costed once, from the first state it leaves (the cost may
            # still evaluate the layer on that input, which it fits); the state is read
            # only then.
            known.of = lambda c: costed(state)(c)
            return known.__getitem__  # a dict lookup once costed: no Python call
        return at


class _Allowed:
    """Intervals that answer `in` (a set is quicker, when small enough to hold)."""

    __slots__ = ("ivs",)

    def __init__(self, ivs: Intervals) -> None:
        self.ivs = ivs

    def __contains__(self, v: int) -> bool:
        return contains(self.ivs, v)


def _as_set(ivs: Intervals) -> frozenset[int] | _Allowed:
    if sum(hi - lo + 1 for lo, hi in ivs) <= 1 << 16:
        return frozenset(itertools.chain.from_iterable(range(lo, hi + 1) for lo, hi in ivs))
    return _Allowed(ivs)


class _Memo(dict):  # type: ignore[type-arg]
    """A dict that fills itself: missing keys are worked out by `of`, once."""

    of: Callable[[Any], Any]

    def __missing__(self, key: Any) -> Any:
        value = self[key] = self.of(key)
        return value


def value_order(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A fixed order for values of equal cost: they mix ints, booleans, padding modes,
    and None for a setting left unset."""
    return tuple((0, x) if isinstance(x, int) else (1, str(x)) if isinstance(x, str) else (2, 0) for x in values)


def _add(x: Cost, y: Cost) -> Cost:
    if not x or not y:  # the end-of-path sentinel costs ()
        return x or y
    if len(x) == 1:  # the usual case, made cheap: the DP adds once per edge
        return (x[0] + y[0],)
    return tuple(map(operator.add, x, y))
