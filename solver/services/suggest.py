"""Forward, with the nearest valid settings of a refused layer as its suggestions.

The forward engine says which layer it refuses and on what input; finding settings that
work instead is a search (the exact engine, on that one layer), so it lives here, above
the engines, and runs only when someone reads `LayerRejected.suggestions`.
"""

from __future__ import annotations

from typing import Any

from .. import rules as A
from ..contract import ForwardRequest, ForwardResponse
from ..engines.bounds import bounds
from ..engines.compiled import compile_rules
from ..engines.deadline import Deadline, Timeout, collector_paused
from ..engines.exact import StateGraph, TooLarge
from ..engines.forward import forward as _forward
from ..engines.problem import SEARCHABLE, build_problem, solution_layers
from ..errors import ConvsolveError, LayerRejected

#: Rules no nearby kernel, stride, padding or dilation can mend.
_NO_SUGGESTION = {A.Rule.CHANNELS_MATCH, A.Rule.CHANNELS_POSITIVE, A.Rule.GROUPS_POSITIVE,
                  A.Rule.GROUPS_DIVIDE_CHANNELS, A.Rule.UPSAMPLE_MODE_NDIM, A.Rule.NOT_IN_CONVENTION}


def forward(document: ForwardRequest | dict[str, Any]) -> ForwardResponse:
    """Output size, channels, parameters, MACs and receptive field of every layer.

    >>> forward({"input_size": [224, 224], "layers": [
    ...     {"type": "conv", "kernel_size": 7, "stride": 2, "padding": 3}]}).output_size
    [112, 112]

    A refused layer raises LayerRejected, whose `suggestions` are its nearest settings
    that work (searched when read).
    """
    try:
        return _forward(document)
    except LayerRejected as exc:
        if exc.refused is not None and exc.rule not in _NO_SUGGESTION:
            layer, size, convention = exc.refused
            axis = exc.axis
            exc.suggest_with(lambda: nearest_settings(layer, size, axis, convention))
        raise


#: How far from a refused layer's values its nearest valid settings are looked for.
_NEAR = 2


#: Time the nearest settings of a refused layer may take: they come with a forward refusal.
NEAREST_SECONDS = 0.25


def nearest_settings(layer: dict[str, Any], input_size: list[int], axis: int | None,
                     convention: str = A.DEFAULT_CONVENTION, limit: int = 3) -> list[dict[str, Any]]:
    """The valid settings of one refused layer nearest to its own (fewest changes first).

    Each searchable value v becomes the domain v-2..v+2: a value shared by all axes
    stays shared; of a value given per axis, only the refused axis moves.  The cost
    is the total distance to the original values, then its share outside padding.
    """
    fields = [f for f in SEARCHABLE.get(layer["type"], ()) if f in layer and f != "ceil_mode"]
    lows = {"kernel_size": 1, "stride": 1, "dilation": 1, "padding": 0, "padding_end": 0, "output_padding": 0}

    def around(v: Any, field: str) -> Any:
        if isinstance(v, list):
            return [around(x, field) if a == axis or axis is None else x for a, x in enumerate(v)]
        if not isinstance(v, int):
            return v  # "same", "valid"
        return {"min": max(lows[field], v - _NEAR), "max": max(lows[field], v + _NEAR)}

    doc = {"input_size": list(input_size), "limit": limit, "convention": convention,
           "layers": [{**{k: v for k, v in layer.items() if k != "input"},
                       **{f: around(layer[f], f) for f in fields}}]}
    original = {f: layer[f] for f in fields}

    def distance(problem: Any) -> Any:
        slots = problem.nodes[0].slots

        def cost(_node: Any, vals: dict[int, Any], _ins: Any, _state: Any) -> tuple[float, float]:
            """(distance, the share of it outside padding): of two as near, the one that
            keeps the kernel, stride and dilation (the weights' shape) comes first."""
            total = shape = 0
            for f, want in original.items():
                wants = want if isinstance(want, list) else [want] * problem.ndim
                for a, w in enumerate(wants):
                    v = vals[slots[f][a]]
                    step = abs(v - w) if isinstance(v, int) and isinstance(w, int) else (v != w)
                    total += step
                    shape += 0 if "padding" in f else step
            return (total, shape)
        return cost

    deadline = Deadline(NEAREST_SECONDS)
    try:
        with collector_paused():
            problem = build_problem(doc)
            fns = compile_rules(problem)
            graph = StateGraph(problem, fns, bounds(problem, fns, deadline), deadline)
            found = graph.best(limit, distance(problem), by_size=False)
    except (ConvsolveError, Timeout, TooLarge):
        return []  # none within the budget: a refusal says what is wrong without them
    return [solution_layers(problem, values)[0] for _, values in found]
