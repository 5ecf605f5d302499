"""The size rules compiled per layer: each layer's rule with its fixed settings bound,
its axes grouped into classes that share evaluations, each setting bound once (see
rules.axis_rule) and kept."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from ..contract import per_axis, resize_settings
from ..rules import (
    KINDS,
    AxisFn,
    Rejected,
    axis_rule,
    broadcast,
    crop,
    join,
    layer_rule,
    sizes_recur,
    spans_axes,
    window,
)
from .deadline import Deadline
from .problem import Node, Problem, Values

NO_SIZE = -1  # a rejected configuration, below every real size


def _refused(i: int) -> int:
    """The size rule of settings no input fits."""
    return NO_SIZE


@functools.lru_cache(maxsize=1 << 15)
def _rule(kind: str, ndim: int, settings: tuple[tuple[str, Any], ...]) -> AxisFn | None:
    """One axis' rule with its settings bound (None: refused whatever the input).  Kept
    across solves: a design tool asks about the same settings again and again."""
    try:
        return axis_rule(kind, ndim=ndim, **dict(settings))
    except Rejected:
        return None


@functools.lru_cache(maxsize=1 << 15)
def _bound(kind: str, ndim: int, settings: tuple[tuple[str, Any], ...]) -> Callable[[int], int]:
    """One axis' size rule with its settings bound, NO_SIZE where refused."""
    rule = _rule(kind, ndim, settings)
    if rule is None:
        return _refused

    def size(i: int) -> int:
        try:
            return rule(i)[0]  # type: ignore[no-any-return]
        except Rejected:
            return NO_SIZE

    return size


_KW = {"kernel_size": "k", "stride": "s", "padding": "padding", "padding_end": "padding_end",
       "dilation": "d", "output_padding": "op", "ceil_mode": "ceil_mode"}


class CompiledRule:
    """out(axis, i, values) for one node, each setting bound once; -1 where the convention's rules reject.

    Axes that read the same variables and fixed settings form one class and share
    their evaluations: an isotropic 3x3 conv is computed once, not once per axis.
    """

    def __init__(self, node: Node, ndim: int, convention: str, recurs: bool = False) -> None:
        self.kind = node.type
        self.ndim = ndim
        #: False when a size that works keeps working as it grows (every rule but one);
        #: True when the sizes that work recur, one in every `stride` (see `envelope`).
        self.recurs = recurs
        layer = node.layer
        fixed: list[dict[str, Any]] = [{} for _ in range(ndim)]
        where = ("layers", node.index)
        if KINDS[self.kind].family == "resize":
            fixed = resize_settings(layer, ndim, where)
        elif getattr(layer, "output_shape", None) is not None:
            for a, v in enumerate(per_axis(layer.output_shape, ndim, (*where, "output_shape"))):
                fixed[a]["output_shape"] = v
        for fx in fixed:
            fx["convention"] = convention
        self.convention = convention
        #: Variables of the rule that spans axes (stride, dilation), when it applies.
        self.spanning = None
        if spans_axes(self.kind, convention):
            self.spanning = (node.slots["stride"], node.slots["dilation"])
        axis_keys = [(tuple((_KW[f], ids[a]) for f, ids in node.slots.items()), tuple(sorted(fixed[a].items())))
                     for a in range(ndim)]
        classes = list(dict.fromkeys(axis_keys))
        self.cls_of = [classes.index(k) for k in axis_keys]
        #: per class: (names of the keyword arguments, their variable ids, fixed settings)
        self.classes = [(tuple(n for n, _ in fields), tuple(v for _, v in fields), dict(fx))
                        for fields, fx in classes]
        self.rules: dict[tuple[Any, ...], Callable[[int], int]] = {}
        self.axis_rules: dict[tuple[Any, ...], AxisFn | None] = {}  # see sides

    def allows(self, values: dict[int, Any]) -> bool:
        """The rule that spans axes (see rules.layer_rule), on every variable's value."""
        if self.spanning is None:
            return True
        strides, dilations = self.spanning
        try:
            layer_rule(self.kind, self.convention, tuple(values[v] for v in strides),
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

    def signature(self, a: int, domains: dict[int, tuple[Any, ...]]) -> tuple[Any, ...]:
        """What decides axis a's outputs over its domains: the rule, its settings and
        their values (variables named by first use, as `combos` reads them).  Equal
        signatures give equal outputs, in any layer of any problem."""
        names, ids, fixed = self.classes[self.cls_of[a]]
        first = {v: n for n, v in enumerate(dict.fromkeys(ids))}
        return (self.kind, self.ndim, self.recurs, names, tuple(sorted(fixed.items())),
                tuple(first[v] for v in ids), tuple(domains[v] for v in first))

    def vars_of(self, a: int) -> tuple[int, ...]:
        return self.classes[self.cls_of[a]][1]

    def bound(self, cls: int, combo: tuple[Any, ...]) -> Callable[[int], int]:
        """The size rule of class cls with its variables' values combo bound: input size
        -> output size, NO_SIZE where refused.  Bound once per combo, then reused."""
        key = (cls, combo)
        size = self.rules.get(key)
        if size is None:
            names, _, fixed = self.classes[cls]
            size = self.rules[key] = _bound(self.kind, self.ndim, (*zip(names, combo), *fixed.items()))
        return size

    def eval(self, cls: int, i: int, combo: tuple[Any, ...]) -> int:
        """The output size for class cls, input i, and its variables' values combo."""
        return self.bound(cls, combo)(i)

    def envelope(self, cls: int, combo: tuple[Any, ...]) -> Callable[[int], int]:
        """Input i -> the largest output of any input up to i: the bound rule itself where
        validity, once reached, is kept.  Non-decreasing in i, so the bounds can bisect on it."""
        size = self.bound(cls, combo)
        if not self.recurs:
            return size
        # Outputs grow with the inputs that work, and one of every `stride` works: the
        # first that works below i, within a stride, is the largest.
        stride = dict(zip(self.classes[cls][0], combo)).get("s", 1)

        def largest(i: int) -> int:
            for j in range(i, max(0, i - stride), -1):
                out = size(j)
                if out != NO_SIZE:
                    return out
            return NO_SIZE

        return largest

    def outputs(self, cls: int, i: int, combos: list[tuple[Any, ...]], deadline: Deadline) -> list[int]:
        """eval() for many combos at once."""
        outs = []
        bound = self.bound
        for combo in combos:
            deadline.tick()
            outs.append(bound(cls, combo)(i))
        return outs

    def sides(self, a: int, i: int, values: dict[int, Any]) -> tuple[int, int]:
        """The (begin, end) padding axis a applies to an input of size i (see axis_layer)."""
        cls = self.cls_of[a]
        names, ids, fixed = self.classes[cls]
        combo = tuple([values[v] for v in ids])
        rule = self.axis_rules.get((cls, combo))
        if rule is None:
            settings = (*zip(names, combo), *fixed.items())
            rule = self.axis_rules[cls, combo] = _rule(self.kind, self.ndim, settings)
            if rule is None:  # settings no input fits: raise the rules' own refusal
                axis_rule(self.kind, ndim=self.ndim, **dict(settings))
        assert rule is not None
        _, pads = rule(i)
        return pads or (0, 0)

    def __call__(self, a: int, i: int, values: Values) -> int:
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

#: Layers with no parameters that only relate sizes of several tensors.
JOIN_KINDS = tuple(k.name for k in KINDS.values() if k.family in ("join", "crop"))


def compile_rules(problem: Problem) -> list[CompiledRule | None]:
    """Each node's memoized size rule; None for the joins and crops (see `join_axis`)."""
    return [None if n.type in JOIN_KINDS else CompiledRule(n, problem.ndim, problem.document.convention,
                                                     _recurs(problem, n))
            for n in problem.nodes]


def _recurs(problem: Problem, node: Node) -> bool:
    """Whether the sizes this node accepts recur with its stride (see rules.sizes_recur)."""
    paddings = problem.vars[node.slots["padding"][0]].values if "padding" in node.slots else ()
    return sizes_recur(node.type, problem.document.convention, paddings)


def join_axis(kind: str, ins: list[int]) -> int:
    """One axis of a concat (all sizes equal), an add (equal or 1: broadcast), a crop (to
    the second size, from one as large) or a match (to the second size); -1 if refused."""
    if kind == "match":
        return ins[1]
    try:
        return crop(ins[0], ins[1]) if kind == "crop" else broadcast(ins) if kind == "add" else join(ins)
    except Rejected:
        return NO_SIZE


def solution_sizes(problem: Problem, fns: list[CompiledRule | None], values: Values) -> list[list[list[int]]]:
    """Output size of every layer, for each input size."""
    per_case = []
    for case in problem.cases:
        sizes = [list(case)]
        for node in problem.nodes:
            fn, i = fns[node.index], sizes[node.inputs[0]]
            sizes.append([join_axis(node.type, [sizes[t][a] for t in node.inputs]) if fn is None
                          else fn(a, i[a], values) for a in range(problem.ndim)])
        per_case.append(sizes[1:])
    return per_case
