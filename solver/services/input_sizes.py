"""Which input sizes a concrete design accepts, said compactly, and the nearest ones.

A design's axes do not interact (every size rule is per axis, given the number of
axes; the one rule across axes, Keras' stride with dilation, does not depend on sizes
and forward checks it once), so each axis is swept on its own through the same
per-axis rules the solver uses:
the stack must run, every join must match, and (when asked) the output must equal
the input.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Callable
from itertools import pairwise
from math import gcd
from typing import Any

from ..contract import AxisSizes, InputSizesRequest, InputSizesResponse, Nearest, Status, parse
from ..engines.compiled import NO_SIZE, compile_rules, join_axis
from ..engines.deadline import Deadline, Timeout
from ..engines.forward import forward
from ..engines.problem import Problem, build_problem
from ..errors import DocumentError, LimitExceeded

#: Most candidate sizes swept on one axis.
MAX_SWEEP = 1 << 14


def describe(sizes: list[int], lo: int, hi: int) -> str:
    """'multiples of 16 from 64', 'every size from 3', or the runs: '1-5, 8, 12-20'."""
    if not sizes:
        return "none"
    if len(sizes) == 1:
        return f"only {sizes[0]}"
    if sizes == list(range(sizes[0], sizes[-1] + 1)):
        return f"every size from {sizes[0]}" + ("" if sizes[-1] == hi else f" to {sizes[-1]}")
    step = 0
    for a, b in pairwise(sizes):
        step = gcd(step, b - a)
    if sizes == list(range(sizes[0], hi + 1, step)):  # a progression up to the end of the range
        if sizes[0] % step == 0:
            return f"multiples of {step} from {sizes[0]}"
        return f"{sizes[0]} and every {step}th size after it ({sizes[0]}, {sizes[0] + step}, ...)"
    runs: list[str] = []
    start = prev = sizes[0]
    for s in [*sizes[1:], None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        if s is not None:
            start = prev = s
    shown = runs[:12]
    return ", ".join(shown) + (f", ... ({len(sizes)} sizes)" if len(runs) > len(shown) else "")


def input_sizes(request: InputSizesRequest | dict[str, Any], *, max_time_s: float | None = None,
                cancelled: Callable[[], bool] | None = None) -> InputSizesResponse:
    """Valid input sizes of a design in a range, per axis, and the nearest to a request.

    >>> r = input_sizes({"range": {"min": 8, "max": 64}, "round_trip": True, "layers": [
    ...     {"type": "max_pool", "kernel_size": 2}, {"type": "max_pool", "kernel_size": 2},
    ...     {"type": "upsample", "scale_factor": 4}]})
    >>> r.axes[0].pattern
    'multiples of 4 from 8'

    The sweep stops at the request's time_limit_s (capped by max_time_s), or once
    `cancelled` says so, and answers status "timeout".
    """
    started = time.monotonic()
    req: InputSizesRequest = parse(InputSizesRequest, request)
    budget = req.time_limit_s if max_time_s is None else min(req.time_limit_s, max_time_s)
    if budget <= 0:  # no time even to build the problem (a busy server)
        return InputSizesResponse(status=Status.TIMEOUT, axes=[],
                                  message="no answer within the time limit of 0 s")
    deadline = Deadline(budget - (time.monotonic() - started), cancelled)
    ndim = len(req.input_size) if req.input_size is not None else (
        len(req.range) if isinstance(req.range, list) else 1)
    ranges = req.range if isinstance(req.range, list) else [req.range] * ndim
    if len(ranges) != ndim:
        raise DocumentError(f"range: has {len(ranges)} axes but input_size has {ndim}", loc=("range",))
    for a, r in enumerate(ranges):
        if r.min < 1 or r.max - r.min + 1 > MAX_SWEEP:
            raise LimitExceeded(f"range[{a}]: sizes from 1, at most {MAX_SWEEP} of them", loc=("range", a))
    layers = [layer.model_dump(exclude_none=True) for layer in req.layers]
    problem = build_problem({"input_size": [r.min for r in ranges], "layers": layers,
                             "convention": req.convention, "in_channels": req.in_channels})
    fns = compile_rules(problem)
    values = {v: var.values[0] for v, var in enumerate(problem.vars)}
    # The tensors that rules on all axes at once read (a norm's, a flattened one: JointRule).
    watched = [problem.nodes[n].inputs[0] for n in problem.joint]

    def runs(a: int, i: int) -> tuple[int, ...] | None:
        """The sizes of the watched tensors when size i runs on axis a, else None."""
        sizes = [i]
        for node in problem.nodes:
            deadline.tick()
            fn = fns[node.index]
            ins = [sizes[t] for t in node.inputs]
            out = join_axis(node.type, ins) if fn is None else fn(a, ins[0], values)
            if out == NO_SIZE:
                return None
            sizes.append(out)
        return None if req.round_trip and sizes[-1] != i else tuple(sizes[t] for t in watched)

    # Axes that read the same rules over the same range have the same valid sizes.
    swept: dict[Any, dict[int, tuple[int, ...]]] = {}
    axes = []
    try:
        for a, r in enumerate(ranges):
            key = (tuple(None if fn is None else fn.cls_of[a] for fn in fns), r.min, r.max)
            if key not in swept:
                swept[key] = {i: seen for i in range(r.min, r.max + 1) if (seen := runs(a, i)) is not None}
            axes.append(swept[key])
        valid = _joint(problem, axes, deadline) if problem.joint else [list(axis) for axis in axes]
    except Timeout:
        why = "stopped: the request was cancelled" if deadline.was_cancelled() else (
            f"no answer within the time limit of {budget:g} s: try a narrower range")
        return InputSizesResponse(status=Status.TIMEOUT, axes=[], message=why)
    return _answer(req, ranges, valid, layers)


def _joint(problem: Problem, axes: list[dict[int, tuple[int, ...]]], deadline: Deadline) -> list[list[int]]:
    """The valid sizes of each axis once the rules on all axes at once are applied (a
    norm's more than one pixel, the product of sizes a linear's in_features asks of a
    flatten), when they are still a choice per axis; DocumentError when they are not
    (say 16x64 and 32x32 work but 16x32 does not)."""
    keys = [sorted(set(axis.values())) for axis in axes]  # the watched sizes each axis can give
    passing = []
    for combo in itertools.product(*keys):
        deadline.tick()
        if all(rule.holds([k[w] for k in combo]) for w, rules in enumerate(problem.joint.values()) for rule in rules):
            passing.append(combo)
    kept = [sorted({combo[a] for combo in passing}) for a in range(len(axes))]
    if len(passing) != math.prod(map(len, kept)):
        ok, fails = passing[0], next(c for c in itertools.product(*kept) if c not in set(passing))
        first = [{seen: i for i, seen in reversed(axis.items())} for axis in axes]  # watched sizes -> an input

        def sizes(combo: tuple[tuple[int, ...], ...]) -> str:
            return "x".join(str(first[a][k]) for a, k in enumerate(combo))

        rules = " and ".join(problem.layer_label(n) for n in problem.joint)
        raise DocumentError(f"the valid input sizes are not a choice per axis: {rules} read all axes at once (a norm "
                            "refuses one pixel; a linear's in_features fixes the product of the flattened sizes), "
                            f"so that {sizes(ok)} runs but {sizes(fails)} does not; narrow the range, or try sizes "
                            "one at a time with forward")
    return [[i for i, seen in axis.items() if seen in set(k)] for axis, k in zip(axes, kept, strict=True)]


def _answer(req: InputSizesRequest, ranges: list[Any], swept: list[list[int]],
            layers: list[dict[str, Any]]) -> InputSizesResponse:
    axes = []
    for a, (r, valid) in enumerate(zip(ranges, swept, strict=True)):
        nearest = None
        if req.input_size is not None and valid:
            want = req.input_size[a]
            below = max((s for s in valid if s <= want), default=None)
            above = min((s for s in valid if s >= want), default=None)
            nearest = Nearest(requested=want, below=below, above=above,
                              crop=None if below is None else want - below,
                              pad=None if above is None else above - want)
        axes.append(AxisSizes(axis=a, count=len(valid), pattern=describe(valid, r.min, r.max),
                              sizes=valid, nearest=nearest))
    if all(ax.sizes for ax in axes):  # channels and groups do not depend on sizes: check once
        forward({"input_size": [ax.sizes[0] for ax in axes], "in_channels": req.in_channels,
                 "layers": layers, "convention": req.convention})
    return InputSizesResponse(axes=axes, message=_message(axes, req.round_trip))


def _message(axes: list[AxisSizes], round_trip: bool) -> str:
    what = "round-trips exactly" if round_trip else "runs"
    same = len(axes) > 1 and all((ax.sizes, ax.nearest) == (axes[0].sizes, axes[0].nearest) for ax in axes)
    parts = []
    for ax in axes[:1] if same else axes:
        scope = "On every axis" if same else f"On axis {ax.axis}"
        text = f"{scope}, the design {what} for {ax.pattern}"
        n = ax.nearest
        if n is not None and n.requested not in ax.sizes:
            options = ([f"crop {n.requested} to {n.below} (-{n.crop})"] if n.below is not None else []) + (
                [f"pad it to {n.above} (+{n.pad})"] if n.above is not None else [])
            text += f"; {n.requested} does not: " + (" or ".join(options) or "no size in the range works")
        parts.append(text + ".")
    return " ".join(parts)
