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
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from ._arith import Rejected, axis_layer, axis_output, broadcast, crop, join, layer_rule, window
from ._deadline import Deadline
from ._parse import per_axis
from ._problem import Node, Problem

Intervals = list[tuple[int, int]]  # sorted, disjoint, inclusive
# (sizes of live tensors, values of live variables, jump per axis when it is tracked)
State = tuple[tuple[Any, ...], tuple[Any, ...], tuple[Any, ...]]
_END: State = ((), (), ())
Cost = tuple[float, ...]

#: Above this many states in one level the problem is handed to CP-SAT instead.
MAX_STATES = 200_000
_NO_SIZE = -1  # a rejected configuration, below every real size


class TooLarge(Exception):
    """Too many intermediate states for the exact engine."""


_KW = {"kernel_size": "k", "stride": "s", "padding": "padding", "padding_end": "padding_end",
       "dilation": "d", "output_padding": "op", "ceil_mode": "ceil_mode"}


class AxisFn:
    """out(axis, i, values) for one node, memoized; -1 where PyTorch rejects.

    Axes that read the same variables and fixed settings form one class and share
    their evaluations: an isotropic 3x3 conv is computed once, not once per axis.
    """

    def __init__(self, node: Node, ndim: int, convention: str = "pytorch", recurs: bool = False) -> None:
        self.kind = node.type
        self.ndim = ndim
        #: False when a size that works keeps working as it grows (every rule but one);
        #: True when the sizes that work recur, one in every `stride` (see `envelope`).
        self.recurs = recurs
        layer = node.layer
        fixed: list[dict[str, Any]] = [{} for _ in range(ndim)]
        where = ("layers", node.index)
        if self.kind == "upsample":
            field, key = ("size", "size") if layer.size is not None else ("scale_factor", "scale")
            for a, v in enumerate(per_axis(getattr(layer, field), ndim, where)):
                fixed[a] |= {key: v, "mode": layer.mode}
        elif self.kind.startswith("adaptive"):
            for a, v in enumerate(per_axis(layer.output_size, ndim, where)):
                fixed[a]["size"] = v
        elif getattr(layer, "output_shape", None) is not None:
            for a, v in enumerate(per_axis(layer.output_shape, ndim, where)):
                fixed[a]["output_shape"] = v
        if convention != "pytorch":
            for fx in fixed:
                fx["convention"] = convention
        #: Variables of the rule that spans axes (stride, dilation), when it applies.
        self.spanning = None
        if convention == "tensorflow" and self.kind in ("conv", "conv_transpose"):
            self.spanning = (node.slots["stride"], node.slots["dilation"])
        axis_keys = [(tuple((_KW[f], ids[a]) for f, ids in node.slots.items()), tuple(sorted(fixed[a].items())))
                     for a in range(ndim)]
        classes = list(dict.fromkeys(axis_keys))
        self.cls_of = [classes.index(k) for k in axis_keys]
        #: per class: (names of the keyword arguments, their variable ids, fixed settings)
        self.classes = [(tuple(n for n, _ in fields), tuple(v for _, v in fields), dict(fx))
                        for fields, fx in classes]
        self.cache: dict[tuple[Any, ...], int] = {}

    def allows(self, values: dict[int, Any]) -> bool:
        """The rule that spans axes (see _arith.layer_rule), on every variable's value."""
        if self.spanning is None:
            return True
        strides, dilations = self.spanning
        try:
            layer_rule(self.kind, "tensorflow", tuple(values[v] for v in strides),
                       tuple(values[v] for v in dilations))
        except Rejected:
            return False
        return True

    def spanning_settings(self, domains: dict[int, tuple[Any, ...]]) -> tuple[tuple[int, ...], list[tuple[Any, ...]]]:
        """The variables of the rule that spans axes, and the values of them it allows."""
        assert self.spanning is not None
        ids = tuple(dict.fromkeys(v for group in self.spanning for v in group))
        return ids, [combo for combo in itertools.product(*(domains[v] for v in ids))
                     if self.allows(dict(zip(ids, combo, strict=True)))]

    def vars_of(self, a: int) -> tuple[int, ...]:
        return self.classes[self.cls_of[a]][1]

    def _compute(self, cls: int, i: int, combo: tuple[Any, ...]) -> int:
        names, _, fixed = self.classes[cls]
        try:
            out = axis_output(self.kind, i, ndim=self.ndim, **dict(zip(names, combo)), **fixed)
        except Rejected:
            return _NO_SIZE
        return out

    def eval(self, cls: int, i: int, combo: tuple[Any, ...]) -> int:
        """The output size for class cls, input i, and its variables' values combo."""
        key = (cls, i, combo)
        out = self.cache.get(key)
        if out is None:
            out = self.cache[key] = self._compute(cls, i, combo)
        return out

    def envelope(self, cls: int, i: int, combo: tuple[Any, ...]) -> int:
        """The largest output of any input up to i: eval() itself where validity, once
        reached, is kept.  Non-decreasing in i, so the bounds can bisect on it."""
        out = self.eval(cls, i, combo)
        if out != _NO_SIZE or not self.recurs:
            return out
        # Outputs grow with the inputs that work, and one of every `stride` works: the
        # first that works below i, within a stride, is the largest.
        stride = dict(zip(self.classes[cls][0], combo)).get("s", 1)
        for j in range(i - 1, max(0, i - stride), -1):
            out = self.eval(cls, j, combo)
            if out != _NO_SIZE:
                return out
        return _NO_SIZE

    def outputs(self, cls: int, i: int, combos: list[tuple[Any, ...]], deadline: Deadline) -> list[int]:
        """eval() for many combos at once, reading the memo (the bounds filled some) but
        not filling it: the levels keep these lists themselves."""
        outs = []
        for combo in combos:
            deadline.tick()
            out = self.cache.get((cls, i, combo))
            outs.append(self._compute(cls, i, combo) if out is None else out)
        return outs

    def sides(self, a: int, i: int, values: dict[int, Any]) -> tuple[int, int]:
        """The (begin, end) padding axis a applies to an input of size i (see axis_layer)."""
        names, ids, fixed = self.classes[self.cls_of[a]]
        _, pads = axis_layer(self.kind, i, ndim=self.ndim, **dict(zip(names, [values[v] for v in ids])), **fixed)
        return pads or (0, 0)

    def __call__(self, a: int, i: int, values: dict[int, Any]) -> int:
        cls = self.cls_of[a]
        return self.eval(cls, i, tuple([values[v] for v in self.classes[cls][1]]))

    def combos(self, a: int, domains: dict[int, tuple[Any, ...]]) -> Iterator[tuple[Any, ...]]:
        """Every assignment of the variables axis a reads (repeated ids take one value)."""
        ids = self.vars_of(a)
        distinct = tuple(dict.fromkeys(ids))
        if len(distinct) == len(ids):
            yield from itertools.product(*(domains[v] for v in ids))
            return
        for combo in itertools.product(*(domains[v] for v in distinct)):
            value = dict(zip(distinct, combo))
            yield tuple(value[v] for v in ids)


def next_jump(node: Node, vals: dict[int, Any], jump: tuple[Any, ...]) -> tuple[Any, ...]:
    """The jump (cumulative stride) after a conv, transposed conv or pool of a chain."""
    s, k, d = node.slots["stride"], node.slots["kernel_size"], node.slots.get("dilation")
    return tuple(j * window(node.type, vals[k[a]], vals[s[a]], vals[d[a]] if d else 1)[1]
                 for a, j in enumerate(jump))


# --- interval bounds ------------------------------------------------------------------

def _merge(ivs: Intervals) -> Intervals:
    out: Intervals = []
    for lo, hi in sorted(ivs):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _intersect(x: Intervals, y: Intervals) -> Intervals:
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        lo, hi = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def _contains(ivs: Intervals, v: int) -> bool:
    k = bisect_right(ivs, (v, float("inf"))) - 1
    return k >= 0 and ivs[k][0] <= v <= ivs[k][1]


def _first(lo: int, hi: int, pred: Callable[[int], bool]) -> int | None:
    """Smallest i in [lo, hi] with pred(i), pred being false...true; None if none."""
    if lo > hi or not pred(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if pred(mid):
            hi = mid
        else:
            lo = mid + 1
    return lo


def _preimage(f: Callable[[int], int], ivs: Intervals, target: Intervals) -> Intervals:
    """The inputs in ivs that f (non-decreasing, -1 below its valid inputs) maps into target."""
    out = []
    for lo, hi in ivs:
        for olo, ohi in target:
            first = _first(lo, hi, lambda i: f(i) >= olo)
            if first is None or f(first) > ohi:
                continue
            after = _first(first, hi, lambda i: f(i) > ohi)
            out.append((first, hi if after is None else after - 1))
    return out


#: Layers with no parameters that only relate sizes of several tensors.
STRUCTURAL = ("concat", "add", "crop")


def make_fns(problem: Problem) -> list[AxisFn | None]:
    """Each node's memoized size rule; None for the structural layers (see `structural`)."""
    return [None if n.type in STRUCTURAL else AxisFn(n, problem.ndim, problem.document.convention,
                                                     _recurs(problem, n))
            for n in problem.nodes]


def _recurs(problem: Problem, node: Node) -> bool:
    """onnxruntime's MaxPool refuses the negative padding SAME_* asks for when the stride
    is longer than the window: then the sizes that work recur with the stride (one in
    every `stride` consecutive sizes works) instead of holding from some size on."""
    return problem.document.convention == "onnx" and node.type == "max_pool" and any(
        isinstance(v, str) for v in problem.vars[node.slots["padding"][0]].values)


def structural(kind: str, ins: list[int]) -> int:
    """One axis of a concat (all sizes equal), an add (equal or 1: broadcast) or a crop
    (to the second size); -1 if refused."""
    try:
        return crop(ins[0], ins[1]) if kind == "crop" else broadcast(ins) if kind == "add" else join(ins)
    except Rejected:
        return _NO_SIZE


def bounds(problem: Problem, fns: list[AxisFn | None], deadline: Deadline) -> list[list[list[Intervals]]]:
    """Possible sizes of every tensor, per case and axis.

    Forward, only an upper bound (outputs grow with inputs, so one evaluation per
    assignment); then backward from the targets, by bisection on the forward rule
    (its envelope, where valid sizes recur: `AxisFn.envelope`).
    """
    ncase, nd = len(problem.cases), range(problem.ndim)
    domains = {v: var.values for v, var in enumerate(problem.vars)}
    memo: dict[Any, Any] = {}  # identical axes (same class, same sizes) are worked out once

    def highest(fn: AxisFn, a: int, i: int) -> int:
        key = (id(fn), fn.cls_of[a], i)
        if key not in memo:
            top = _NO_SIZE  # no combo at all (a tie left an empty domain): nothing is reachable
            for combo in fn.combos(a, domains):
                deadline.tick()
                top = max(top, fn.envelope(fn.cls_of[a], i, combo))
            memo[key] = top
        return memo[key]  # type: ignore[no-any-return]

    def preimage(fn: AxisFn, a: int, ivs: Intervals, target: Intervals) -> Intervals:
        cls = fn.cls_of[a]
        key = (id(fn), cls, tuple(ivs), tuple(target))
        if key not in memo:
            found: Intervals = []
            for combo in fn.combos(a, domains):
                deadline.tick()
                found += _preimage(lambda i, combo=combo: fn.envelope(cls, i, combo), ivs, target)
            memo[key] = _merge(found)
        return memo[key]  # type: ignore[no-any-return]

    top: list[list[list[int]]] = [[list(c) for c in problem.cases]]
    for node in problem.nodes:
        deadline.check()
        fn = fns[node.index]
        if fn is None:  # a concat's size is any of its inputs'; an add's, the largest; a crop's, its reference's
            refs = node.inputs[1:] if node.type == "crop" else node.inputs
            pick = max if node.type == "add" else min
            top.append([[pick(top[s][c][a] for s in refs) for a in nd] for c in range(ncase)])
        else:
            src = top[node.inputs[0]]
            top.append([[highest(fn, a, src[c][a]) for a in nd] for c in range(ncase)])
    sets = [[[[(c[a], c[a])] for a in nd] for c in problem.cases]]
    sets += [[[[(1, top[t][c][a])] if top[t][c][a] >= 1 else [] for a in nd] for c in range(ncase)]
             for t in range(1, len(top))]
    for t, axes in problem.targets.items():
        for c, case in enumerate(problem.cases):
            for a, tg in enumerate(axes):
                want = [(case[a], case[a])] if tg.same_as_input else [(tg.lo, tg.hi)]
                sets[t][c][a] = _intersect(sets[t][c][a], want)
    for node in reversed(problem.nodes):
        deadline.check()
        t, fn = node.index + 1, fns[node.index]
        for s in node.inputs:
            if s == 0:
                continue  # the input's size is known; the levels will test it
            for c in range(ncase):
                for a in nd:
                    if fn is None:
                        out = sets[t][c][a]
                        cropped = node.type == "crop" and s == node.inputs[0]  # at least the output
                        pre = [(out[0][0], sets[s][c][a][-1][1])] if cropped and out and sets[s][c][a] else out
                        if node.type == "add":  # the output's size, or 1 (broadcast)
                            pre = _merge([*pre, (1, 1)])
                    else:
                        pre = preimage(fn, a, sets[s][c][a], sets[t][c][a])
                    sets[s][c][a] = _intersect(sets[s][c][a], pre)
    return sets


# --- the levelled graph of states -----------------------------------------------------

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


class Graph:
    """The levels of states and their transitions, pruned to those that reach the end."""

    def __init__(self, problem: Problem, fns: list[AxisFn | None], sets: list[list[list[Intervals]]],
                 deadline: Deadline, *, track_jump: bool = False, open_end: bool = False) -> None:
        """track_jump: keep each chain state's cumulative stride (for the receptive field).
        open_end: keep the last tensor's size in the final states (see `ends`)."""
        self.problem = problem
        self.open_end = open_end
        self.track_jump = track_jump
        self.deadline = deadline
        self.domains = {v: var.values for v, var in enumerate(problem.vars)}
        self.fns = fns
        self.sets = sets
        self._raw: dict[Any, list[int]] = {}  # outputs of a rule over all combos, by input size
        self.layouts = self._layouts()
        self.steps: list[Step] = []
        self._build()

    def _layouts(self) -> list[Layout]:
        nodes, n = self.problem.nodes, len(self.problem.nodes)
        # One pass (nodes come in order): who reads each tensor last, uses each variable first and last.
        last_read = dict.fromkeys(range(n + 1), -1)
        first: dict[int, int] = {}
        last: dict[int, int] = {}
        for m in nodes:
            last_read.update(dict.fromkeys(m.inputs, m.index))
            for v in m.var_ids:
                first.setdefault(v, m.index)
                last[v] = m.index
        if self.open_end:
            last_read[n] = n
        return [Layout(tuple(t for t in range(lvl + 1) if last_read[t] >= lvl),
                       tuple(v for v in sorted(first) if first[v] < lvl <= last[v]))
                for lvl in range(n + 1)]

    def _build(self) -> None:
        p = self.problem
        ncase, nd = len(p.cases), p.ndim
        start: State = (tuple(tuple(tuple(c) for c in p.cases) for _ in self.layouts[0].tensors), (),
                        (1,) * nd if self.track_jump else ())
        level = [start]
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
            columns: dict[Any, list[int | None]] = {}

            def column(c: int, a: int, i: int, oldvals: tuple[Any, ...]) -> list[int | None]:
                """Output on axis a of case c for every combo, None where refused or pruned.

                Identical axes and cases (same class, size and bounds) share one column.
                """
                assert fn is not None
                cls, ivs = fn.cls_of[a], sets[c][a]  # noqa: B023 - used within this iteration only
                key = (cls, i, oldvals, tuple(ivs))
                col = columns.get(key)
                if col is None:
                    where = dict(zip(old, oldvals, strict=True))  # noqa: B023
                    pick = tuple(new.index(v) if v in new else -1 - old.index(v) for v in fn.vars_of(a))  # noqa: B023
                    # Layers with the same rule, domains and input share their outputs:
                    # a stack of identical blocks is worked out once.
                    names, _, fixed = fn.classes[cls]
                    shared = (fn.kind, names, tuple(sorted(fixed.items())), pick, new_domains,  # noqa: B023
                              tuple(where[old[-1 - x]] for x in pick if x < 0), i)
                    outs = self._raw.get(shared)
                    if outs is None:
                        if pick == tuple(range(len(new))):  # noqa: B023 - the usual case: the combo itself
                            axis_combos = combos  # noqa: B023
                        else:
                            axis_combos = []
                            for cb in combos:  # noqa: B023
                                self.deadline.tick()
                                axis_combos.append(tuple([cb[x] if x >= 0 else where[old[-1 - x]] for x in pick]))  # noqa: B023
                        outs = self._raw[shared] = fn.outputs(cls, i, axis_combos, self.deadline)
                    self.deadline.check()
                    if len(ivs) == 1:
                        lo, hi = ivs[0]
                        col = [o if lo <= o <= hi else None for o in outs]
                    else:
                        col = [o if o != _NO_SIZE and _contains(ivs, o) else None for o in outs]
                    columns[key] = col
                return col

            # Per input key: the outputs reached, each with the (shared) list of combos.
            memo: dict[Any, list[tuple[Any, list[tuple[Any, ...]]]]] = {}
            edges: dict[State, dict[State, list[tuple[Any, ...]]]] = {}
            nxt: dict[State, None] = {}
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
                        out = tuple(tuple(structural(node.type, [x[c][a] for x in ins]) for a in range(nd))
                                    for c in range(ncase))
                        if all(_contains(sets[c][a], out[c][a]) for c in range(ncase) for a in range(nd)):
                            groups[out] = [()]
                    else:
                        cols = [column(c, a, ins[0][c][a], oldvals) for c in range(ncase) for a in range(nd)]
                        flat: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
                        where = dict(zip(old, oldvals, strict=True)) if fn.spanning is not None else {}
                        for combo, outs in zip(combos, zip(*cols, strict=True), strict=True):
                            self.deadline.tick()
                            if None not in outs and (fn.spanning is None or fn.allows(
                                    {**where, **dict(zip(new, combo, strict=True))})):
                                flat.setdefault(outs, []).append(combo)
                        groups = {tuple(outs[c * nd:(c + 1) * nd] for c in range(ncase)): g
                                  for outs, g in flat.items()}
                    results = memo[key] = list(groups.items())
                out_edges: dict[State, list[tuple[Any, ...]]] = {}
                # Groups that land on one state: listed, then joined once (joining them
                # one by one would copy quadratically); a lone group stays shared.
                merged: dict[State, list[list[tuple[Any, ...]]]] = {}
                rest = tuple(sizes[t] if t != t_out else None for t in lout.tensors)
                jump = state[2] if node.index + 1 < len(p.nodes) else ()
                for out, group in results:
                    tensors = tuple(out if t == t_out else x for t, x in zip(lout.tensors, rest, strict=True))
                    if lout.vars or jump:  # live variables or the jump split the group
                        for combo in group:
                            self.deadline.tick()
                            allv = {**vals, **dict(zip(new, combo, strict=True))}
                            ns: State = (tensors, tuple(allv[v] for v in lout.vars),
                                         jump and next_jump(node, allv, jump))
                            out_edges.setdefault(ns, []).append(combo)
                    else:
                        merged.setdefault((tensors, (), ()), []).append(group)
                for ns, groups_at in merged.items():
                    out_edges[ns] = groups_at[0] if len(groups_at) == 1 else list(itertools.chain(*groups_at))
                nxt.update(dict.fromkeys(out_edges))
                if out_edges:
                    edges[state] = out_edges
            if len(nxt) > MAX_STATES:
                raise TooLarge(f"{len(nxt):,} intermediate states after layer {node.index}")
            self.steps.append(Step(node, new, edges))
            level = list(nxt)
        #: The final states, each ending one path: just _END, or (open_end) one per last size.
        self.ends = dict.fromkeys(level, 1)
        self._prune()

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

    def best(self, k: int, cost: Callable[[Node, dict[int, Any], Any, Any], Cost],
             by_size: bool = True) -> list[tuple[Cost, dict[int, Any]]]:
        """The k cheapest solutions as (cost, values of every variable), cheapest first.

        by_size: the cost depends on the tensor sizes, not only on the layer's values.
        """
        if k == 0 or not self.counts[0]:
            return []
        sorted_groups: dict[Any, list[tuple[Cost, int, Any]]] = {}
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

                streams = []
                for ns, combos in out.items():
                    # A group shared by many states is sorted once, unless its cost
                    # depends on the state (sizes, or variables fixed before this layer).
                    key = (id(combos), state if by_state else None)
                    local = sorted_groups.get(key)
                    if local is None:
                        local = sorted_groups[key] = sorted((local_cost(c), n, c) for n, c in enumerate(combos))
                    streams.append(_pair_sums(local, best[ns], ns))
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


def solution_sizes(problem: Problem, fns: list[AxisFn | None], values: dict[int, Any]) -> list[list[list[int]]]:
    """Output size of every layer, for each input size."""
    per_case = []
    for case in problem.cases:
        sizes = [list(case)]
        for node in problem.nodes:
            fn, i = fns[node.index], sizes[node.inputs[0]]
            sizes.append([structural(node.type, [sizes[t][a] for t in node.inputs]) if fn is None
                          else fn(a, i[a], values) for a in range(problem.ndim)])
        per_case.append(sizes[1:])
    return per_case
