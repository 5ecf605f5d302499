"""Bounds on every tensor's size: forward from the inputs, backward from the targets."""

from __future__ import annotations

from typing import Any

from .compiled import NO_SIZE, CompiledRule
from .deadline import Deadline
from .intervals import Intervals, intersect, merge, preimage_of
from .problem import Problem


class _Kept(dict):  # type: ignore[type-arg]
    """A dict that forgets everything once it holds `size` entries: bounds worked out
    for one layer serve identical layers and later solves (a user drags a target)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def __setitem__(self, key: Any, value: Any) -> None:
        if len(self) >= self.size:
            self.clear()
        super().__setitem__(key, value)


#: Identical axes (same rule, settings and domains, same sizes) are worked out once.
memo = _Kept(50_000)


def bounds(problem: Problem, fns: list[CompiledRule | None], deadline: Deadline) -> list[list[list[Intervals]]]:
    """Possible sizes of every tensor, per case and axis.

    Forward, only an upper bound (outputs grow with inputs, so one evaluation per
    assignment); then backward from the targets, by bisection on the forward rule
    (its envelope, where valid sizes recur: `CompiledRule.envelope`).
    """
    ncase, nd = len(problem.cases), range(problem.ndim)
    domains = {v: var.values for v, var in enumerate(problem.vars)}
    signatures = {(id(fn), a): fn.signature(a, domains) for fn in fns if fn is not None for a in nd}

    def highest(fn: CompiledRule, a: int, i: int) -> int:
        key = (signatures[id(fn), a], i)
        top = memo.get(key)  # (read once: another thread may empty the memo meanwhile)
        if top is None:
            top = NO_SIZE  # no combo at all (a tie left an empty domain): nothing is reachable
            for combo in fn.combos(a, domains):
                deadline.tick()
                top = max(top, fn.envelope(fn.cls_of[a], combo)(i))
            memo[key] = top
        return top  # type: ignore[no-any-return]

    def preimage(fn: CompiledRule, a: int, ivs: Intervals, target: Intervals) -> Intervals:
        cls = fn.cls_of[a]
        key = (signatures[id(fn), a], tuple(ivs), tuple(target))
        kept = memo.get(key)
        if kept is None:
            found: Intervals = []
            for n, combo in enumerate(fn.combos(a, domains), 1):
                deadline.tick()
                found += preimage_of(fn.envelope(cls, combo), ivs, target)
                if not n % 32:  # once every input size is accounted for, the other combos add nothing
                    found = merge(found)
                    if found == ivs:
                        break
            kept = memo[key] = tuple(merge(found))  # kept across solves: never changed
        return list(kept)

    top: list[list[list[int]]] = [[list(c) for c in problem.cases]]
    for node in problem.nodes:
        deadline.check()
        fn = fns[node.index]
        if fn is None:  # a concat's size is any of its inputs'; an add's, the largest;
            # a crop's, its reference's, which is no larger than what it crops; a match's, its reference's
            ins = node.inputs[1:] if node.type == "match" else node.inputs
            pick = max if node.type == "add" else min
            top.append([[pick(top[s][c][a] for s in ins) for a in nd] for c in range(ncase)])
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
                sets[t][c][a] = intersect(sets[t][c][a], want)
    for node in reversed(problem.nodes):
        deadline.check()
        t, fn = node.index + 1, fns[node.index]
        for s in node.inputs:
            if s == 0:
                continue  # the input's size is known; the levels will test it
            for c in range(ncase):
                for a in nd:
                    if node.type == "match" and s == node.inputs[0]:
                        continue  # any size is brought to the reference's
                    if fn is None:
                        out = sets[t][c][a]
                        cropped = node.type == "crop" and s == node.inputs[0]  # at least the output
                        pre = [(out[0][0], sets[s][c][a][-1][1])] if cropped and out and sets[s][c][a] else out
                        if node.type == "add":  # the output's size, or 1 (broadcast)
                            pre = merge([*pre, (1, 1)])
                    else:
                        pre = preimage(fn, a, sets[s][c][a], sets[t][c][a])
                    sets[s][c][a] = intersect(sets[s][c][a], pre)
    return sets

