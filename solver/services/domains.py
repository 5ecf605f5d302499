"""Domains as an explanation reads and widens them, and its wording: what a left-out
field means, how far a repair may widen a domain, values and domains in words."""

from __future__ import annotations

import copy
from typing import Any

from .. import rules as A
from ..engines.problem import SEARCHABLE
from ..errors import layer_label

#: Domains a repair may widen a parameter to (the original domain is always kept).
WIDEN_TO = {"kernel_size": (1, 7), "stride": (1, 3), "padding": (0, 3), "padding_end": (0, 3),
         "dilation": (1, 3), "output_padding": (0, 2)}
WORDS = {"kernel_size": "kernel", "stride": "stride", "padding": "padding", "padding_end": "end padding",
          "dilation": "dilation", "output_padding": "output_padding", "ceil_mode": "ceil_mode"}
#: Padding modes a widened padding may take, by convention (TensorFlow pads by mode only);
#: a PyTorch padding keeps its own mode but is widened by pixels.
WIDENED_MODES = {c.name: c.padding_modes if c.modes_read_input else () for c in A.CONVENTION.values()}
#: The fields that may hold one value per axis.
PER_AXIS_FIELDS = tuple(dict.fromkeys((*A.SEARCHABLE_FIELDS, "output_shape",
                                      *(f for k in A.KINDS.values() for f, _ in k.size_fields))))
#: How far from the requested input size the nearest working ones are looked for.
INPUT_RADIUS = 64
MAX_REPAIRS = 6
#: The widest padding a repair proposes.
MAX_REACH = 64


def label(doc: dict[str, Any], index: int, settings: str = "") -> str:
    layer = doc["layers"][index]
    return layer_label(index, layer.get("name"), layer["type"], settings)


def settings_words(layer: dict[str, Any], axis: int) -> str:
    """'kernel 2, stride 2, padding 0' for one axis of a solution layer."""
    parts = []
    for field in SEARCHABLE.get(layer["type"], ()):
        v = layer.get(field)
        if v is None or (field in ("dilation", "output_padding") and v in ([1] * 3, [0] * 3, 1, 0)):
            continue
        v = v[axis] if isinstance(v, list) else v
        if (field, v) in (("dilation", 1), ("output_padding", 0), ("ceil_mode", False)):
            continue
        parts.append(f"{WORDS[field]} {v}")
    return ", ".join(parts)


def one_axis(doc: dict[str, Any], axis: int) -> dict[str, Any]:
    """The document restricted to one spatial axis."""
    def pick(v: Any) -> Any:
        return [v[axis]] if isinstance(v, list) else v
    out = copy.deepcopy(doc)
    if "input_size" in out:
        out["input_size"] = [out["input_size"][axis]]
    if "input_sizes" in out:
        out["input_sizes"] = [[s[axis]] for s in out["input_sizes"]]
    if "target_size" in out:
        out["target_size"] = pick(out["target_size"])
    out["targets"] = {k: pick(v) for k, v in out.get("targets", {}).items()}
    for layer in out["layers"]:
        for field in PER_AXIS_FIELDS:
            if field in layer:
                layer[field] = pick(layer[field])
    return out



def inferred(doc: dict[str, Any], layer: dict[str, Any], field: str) -> bool:
    """A Keras transposed conv without output_padding: its output is inferred, not op 0."""
    return field not in layer and A.unset(field, layer["type"], doc.get("convention", A.DEFAULT_CONVENTION)) is None


def default(layer: dict[str, Any], field: str, convention: str) -> Any:
    """What a field left out of this layer means (see rules.unset); a repair starts an
    output_padding Keras infers from 0."""
    value = A.unset(field, layer["type"], convention)
    return 0 if value is None else layer.get(value, 0) if value in ("kernel_size", "padding") else value


def reach(layer: dict[str, Any]) -> int:
    """The largest dilated kernel span minus one: padding that far can matter (up to
    MAX_REACH: a repair proposes sane paddings, and a domain stays small)."""
    def top(v: Any) -> int:
        vals = [x for item in (v if isinstance(v, list) else [v]) for x in values_of(item) if isinstance(x, int)]
        return max(vals, default=1)
    return min(MAX_REACH, top(layer.get("dilation", 1)) * (top(layer.get("kernel_size", 1)) - 1))


def wider(value: Any, field: str, reach: int = 0, convention: str = A.DEFAULT_CONVENTION) -> Any:
    if field == "ceil_mode":
        return {"choices": [False, True]}
    if field == "padding" and A.CONVENTION[convention].pads_by_mode:
        return {"choices": list(WIDENED_MODES[convention])}
    lo, hi = WIDEN_TO[field]
    if field in ("padding", "padding_end"):
        hi = max(hi, reach)
    if isinstance(value, list):
        return [wider(v, field, reach, convention) for v in value]
    vals = values_of(value)
    ints = [v for v in vals if isinstance(v, int)]
    modes = WIDENED_MODES[convention] if field == "padding" else ()
    extra = [v for v in vals if isinstance(v, str)] + [m for m in modes if m not in vals]
    if extra:  # keep "same" / "valid" among the choices
        return {"choices": extra + list(range(min([lo, *ints]), max([hi, *ints]) + 1))}
    return {"min": min([lo, *ints]), "max": max([hi, *ints])}


def values_of(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return value["choices"] if "choices" in value else list(range(value["min"], value["max"] + 1))
    return [value] if value is not None else []


def include(value: Any, new: Any) -> Any:
    """The original domain or value, plus `new`."""
    if isinstance(new, list) or isinstance(value, list):
        news = new if isinstance(new, list) else [new] * len(value)
        olds = value if isinstance(value, list) else [value] * len(news)
        return [include(o, n) for o, n in zip(olds, news, strict=True)]
    vals = values_of(value)
    if new in vals:
        return value
    if not isinstance(value, dict):
        return new
    if "min" in value and isinstance(new, int) and value["min"] - 1 <= new <= value["max"] + 1:
        return {"min": min(value["min"], new), "max": max(value["max"], new)}
    return {"choices": [*vals, new]}


def nearness(layers: list[int], field: str, originals: list[Any]) -> Any:
    """A cost: how far the field's values on those layers are from the original ones."""
    group = set(layers)
    ints = [v for v in originals if isinstance(v, int) and not isinstance(v, bool)]

    def cost(node: Any, vals: dict[int, Any], _ins: Any, _state: Any) -> tuple[float]:
        if node.index not in group or field not in node.slots:
            return (0,)
        total = 0
        for v in (vals[x] for x in node.slots[field]):
            if v in originals:
                continue
            total += min(abs(v - o) for o in ints) if ints and isinstance(v, int) else 1
        return (total,)

    return cost


def distance(original: Any, value: Any) -> float:
    vals = [v for v in values_of(original) if isinstance(v, int)]
    news = value if isinstance(value, list) else [value]
    if not vals or not all(isinstance(v, int) for v in news):
        return 1
    return max(min(abs(n - v) for v in vals) for n in news)


def show_size(value: list[Any]) -> str:
    return " x ".join(show(v) for v in value)


def show(value: Any) -> str:
    if isinstance(value, dict):
        return (f"{value['min']} to {value['max']}" if "min" in value
                else "one of " + ", ".join(map(str, value["choices"])))
    if isinstance(value, list):
        return "(" + ", ".join(show(v) for v in value) + ")"
    return str(value)

