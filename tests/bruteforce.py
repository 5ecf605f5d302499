"""Small random solve problems and brute force over their domains, judged by the
forward engine: what the solver's soundness and completeness tests compare with."""

from __future__ import annotations

import itertools
from typing import Any

from hypothesis import strategies as st

import solver
from solver.engines.problem import SEARCHABLE

# Ranges of valid-looking values; choices may also hold one below (0 kernels and
# strides, which PyTorch refuses) so that refused settings are searched too.
VALUES = {
    "kernel_size": (1, 5), "stride": (1, 3), "padding": (0, 3), "padding_end": (0, 3), "dilation": (1, 3),
    "output_padding": (0, 2),
}
#: Padding modes by convention: a value, or a domain of them.
MODES = {"pytorch": ("same", "valid"), "tensorflow": ("same", "valid"),
         "onnx": ("same_upper", "same_lower", "valid")}


@st.composite
def domain(draw: Any, field: str) -> Any:
    if field == "ceil_mode":
        return draw(st.sampled_from([False, True, {"choices": [False, True]}]))
    lo, hi = VALUES[field]
    kind = draw(st.sampled_from(["value", "range", "choices"]))
    if kind == "value":
        return draw(st.integers(lo, hi))
    if kind == "range":
        a = draw(st.integers(lo, hi))
        return {"min": a, "max": draw(st.integers(a, min(hi, a + 3)))}
    return {"choices": draw(st.lists(st.integers(max(lo - 1, 0), hi), min_size=1, max_size=3, unique=True))}


def _choices(value: Any, ndim: int) -> list[Any]:
    """Every concrete value a document field can take: one shared value, or one per axis."""
    def values(d: Any) -> list[Any]:
        if isinstance(d, dict):
            return d["choices"] if "choices" in d else list(range(d["min"], d["max"] + 1))
        return [d]
    if isinstance(value, list):
        return [list(v) for v in itertools.product(*(values(d) for d in value))]
    return values(value)


@st.composite
def modes(draw: Any, convention: str) -> Any:
    """A padding mode of the convention, or a domain of them (with a number in onnx)."""
    options = list(MODES[convention]) + ([1] if convention == "onnx" else [])
    if draw(st.booleans()):
        return draw(st.sampled_from(options))
    return {"choices": draw(st.lists(st.sampled_from(options), min_size=1, max_size=3, unique=True))}


def _left_out(draw: Any, convention: str, kind: str, field: str) -> bool:
    """Fields a problem leaves to their defaults: a pool's stride (its kernel), the
    end padding outside onnx (and mostly in it), TensorFlow's inferred output_padding."""
    if field == "stride" and kind.endswith("pool"):
        return draw(st.booleans())
    if field == "padding_end":
        return convention != "onnx" or draw(st.booleans())
    if field == "output_padding" and convention == "tensorflow":
        return draw(st.booleans())
    return field == "ceil_mode" and convention == "tensorflow" and draw(st.booleans())


@st.composite
def problems(draw: Any, convention: str = "pytorch") -> dict[str, Any]:
    ndim = draw(st.integers(1, 2))
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(SEARCHABLE)))
        layer: dict[str, Any] = {"type": kind}
        for field in SEARCHABLE[kind]:
            if _left_out(draw, convention, kind, field):
                continue
            if field == "padding" and convention != "pytorch" and (
                    convention == "tensorflow" or draw(st.integers(0, 2)) == 0):
                layer[field] = draw(modes(convention))
            elif ndim > 1 and field != "ceil_mode" and draw(st.integers(0, 4)) == 0:
                layer[field] = [draw(domain(field)) for _ in range(ndim)]  # per-axis search
            else:
                layer[field] = draw(domain(field))
        layers.append(layer)
    ties = []
    if len(layers) > 1 and draw(st.integers(0, 2)) == 0:  # a tie between two layers
        a, b = draw(st.sampled_from([(i, j) for i in range(len(layers)) for j in range(i + 1, len(layers))]))
        shared = [f for f in SEARCHABLE[layers[a]["type"]] if f in SEARCHABLE[layers[b]["type"]]
                  and (f in layers[a] and f in layers[b] or f in ("stride", "ceil_mode"))]  # both have it
        if shared:
            for i, layer in enumerate(layers):
                layer["name"] = f"l{i}"
            ties = [{"layers": [f"l{a}", f"l{b}"], "params": [draw(st.sampled_from(shared))]}]
    size = draw(st.lists(st.integers(1, 12), min_size=ndim, max_size=ndim))
    target = [draw(st.integers(1, 14)) for _ in range(ndim)]
    # Mostly aim at the output of a setting drawn from the domains, so that most
    # problems have solutions; when every drawn setting is refused, keep the random target.
    for _ in range(draw(st.sampled_from([0, 12, 12, 12]))):
        witness = [{"type": layer["type"]} | {f: draw(st.sampled_from(_choices(v, ndim)))
                                              for f, v in layer.items() if f not in ("type", "name")}
                   for layer in layers]
        try:
            out = solver.forward({"input_size": size, "layers": witness, "convention": convention}).output_size
        except solver.LayerRejected:
            continue
        if 0 not in out:  # an empty output runs, but is no target (see test_limits)
            target = out
            break
    return {"input_size": size, "target_size": target, "layers": layers, "limit": 10_000, "ties": ties,
            "convention": convention}


def canonical(layers: list[dict[str, Any]], ndim: int, convention: str = "pytorch") -> tuple[Any, ...]:
    """A solution as a hashable tuple: every searchable field per axis, defaults filled
    (a pool's stride is its kernel, but 1 in ONNX)."""
    out = []
    for layer in layers:
        row = []
        for field in SEARCHABLE.get(layer["type"], ()):
            stride = 1 if convention == "onnx" else layer["kernel_size"]
            v = layer.get(field, {"stride": stride, "ceil_mode": False}.get(field))
            row.append(v if field == "ceil_mode" else tuple(v if isinstance(v, list) else [v] * ndim))
        out.append((layer["type"], *row))
    return tuple(out)


def brute_force(doc: dict[str, Any]) -> set[tuple[Any, ...]]:
    ndim = len(doc["input_size"])
    names = {layer.get("name"): i for i, layer in enumerate(doc["layers"])}
    ties = [([names[n] for n in tie["layers"]], tie["params"]) for tie in doc.get("ties", [])]
    per_layer = []
    for layer in doc["layers"]:
        fields = [f for f in SEARCHABLE.get(layer["type"], ()) if f in layer]
        fixed = {k: v for k, v in layer.items() if k not in fields and k != "name"}  # type, channels, ...
        per_layer.append([fixed | dict(zip(fields, combo, strict=True))
                          for combo in itertools.product(*(_choices(layer[f], ndim) for f in fields))])
    found = set()
    for layers in itertools.product(*per_layer):
        try:
            out = solver.forward({"input_size": doc["input_size"], "layers": list(layers),
                                  "convention": doc["convention"], "in_channels": doc.get("in_channels")})
        except solver.LayerRejected:
            continue
        if out.output_size != doc["target_size"]:
            continue
        canon = canonical(list(layers), ndim, doc["convention"])
        fields = {layer["type"]: SEARCHABLE.get(layer["type"], ()) for layer in layers}
        if all(len({canon[i][1 + fields[layers[i]["type"]].index(f)] for i in members}) == 1
               for members, params in ties for f in params):  # tied layers agree
            found.add(canon)
    return found
