"""What both exports share: names the code can use, values written as Python, the
channel counts a document leaves open, and the walk over its tensors."""

from __future__ import annotations

import itertools
import keyword
import math
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from ..contract import Add, Concat, Conv, ConvTranspose, Crop, ForwardRequest, per_axis
from ..errors import DocumentError
from ..rules import unset
from .suggest import forward

MODULE_ATTRIBUTES = frozenset({
    "T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init",
    "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr",
    "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule",
    "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children",
    "named_modules", "named_parameters", "parameters", "register_backward_hook",
    "register_buffer", "register_forward_hook", "register_forward_pre_hook",
    "register_full_backward_hook", "register_full_backward_pre_hook",
    "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook",
    "register_module", "register_parameter", "register_state_dict_post_hook",
    "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule",
    "share_memory", "state_dict", "to", "to_empty", "train", "training", "type", "xpu",
    "zero_grad",
})
_RESERVED = MODULE_ATTRIBUTES | {
    "x", "self", "super", "torch", "nn", "F", "center_crop", "keras", "layers", "input",
    "float", "print", "slice", "zip",
}


def python_chars(name: str) -> str:
    """The name as Python reads it (NFKC: '\ufb01x' is 'fix', 'x\u00b2' is 'x2'), each
    character that no identifier holds made '_'."""
    text = "".join(c if ("a" + c).isidentifier() else "_" for c in unicodedata.normalize("NFKC", name))
    if unicodedata.normalize("NFKC", text) != text:  # Python would read another name: ASCII then
        text = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return text


def identifier(name: str, taken: set[str]) -> str:
    """A Python identifier for a layer name, unique in `taken` (which then holds it).

    Written normalized, so that names Python reads as one are compared as one.  A
    keyword, a name the code uses itself, or one starting with a digit or '_' (nn.Module's
    private attributes, name mangling) gets the prefix 'layer_'."""
    base = python_chars(name)
    if (not base.isidentifier() or base.startswith("_") or keyword.iskeyword(base)
            or keyword.issoftkeyword(base) or base in _RESERVED):
        base = f"layer_{base}"
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def keras_name(name: str, taken: set[str]) -> str:
    """A Keras layer name, unique in `taken`: TensorFlow runs a model in graph mode (fit,
    predict) only when every name is a valid scope name (ASCII letters, digits, '_', '.',
    '-'; Keras refuses '/'), and Keras refuses a name used twice."""
    base = re.sub(r"[^A-Za-z0-9_.-]", "_", unicodedata.normalize("NFKC", name))
    out, n = base, 2
    while out in taken:
        out, n = f"{base}_{n}", n + 1
    taken.add(out)
    return out


def class_identifier(name: str) -> str:
    """The generated class's name, as given; refused when the code cannot use it."""
    if not name.isidentifier() or keyword.iskeyword(name) or name in _RESERVED \
            or unicodedata.normalize("NFKC", name) != name:
        raise DocumentError(f"class_name: {name!r} is not a name the generated code can use "
                            "(a Python identifier, not a keyword nor one of torch, nn, keras, ...)",
                            loc=("class_name",))
    return name


def arg(value: Any) -> str:
    """A per-axis tuple, shortened to an int when every axis agrees (not None: an
    adaptive pool's output_size=None is no size at all, (None, None) keeps both)."""
    if isinstance(value, tuple | list):
        return repr(value[0]) if len(set(value)) == 1 and value[0] is not None else repr(tuple(value))
    return repr(value)


def show_sizes(sizes: list[int]) -> str:
    return " x ".join(map(str, sizes))


# --- channel counts --------------------------------------------------------------------
# A tensor's channel count as a linear form in the counts the document leaves open:
# {variable: coefficient}, variable 0 standing for the constant 1.
Form = dict[int, int]

#: Steps of the search for open channel counts before it gives up.
_SEARCH_STEPS = 100_000


def _plus(*terms: tuple[int, Form]) -> Form:
    """The sum of k * form over the terms."""
    out: Form = {}
    for k, form in terms:
        for v, c in form.items():
            out[v] = out.get(v, 0) + k * c
    return {v: c for v, c in out.items() if c}


def _value(form: Form, values: list[int]) -> int:
    return sum(c * values[v] for v, c in form.items())


def _pick_channels(doc: ForwardRequest, sources: list[list[int]],
                   sizes: list[list[int]]) -> tuple[list[int], list[str]]:
    """Every tensor's channel count (0 the input, t + 1 layer t's output), and what was
    assumed, one note per count the document leaves open.

    Forward's counts where it knows them.  Forward leaves a count open (None) without an
    in_channels at the input or an out_channels on a conv; the code needs one that every
    later groups divides, that equals a conv's declared in_channels, and that an add
    takes (each input the sum's count or 1).  Adds of equal counts are tried first (a
    residual block means them), broadcasting a 1 only when nothing else fits."""
    try:
        return _fit_channels(doc, sources, sizes, broadcast=False)
    except DocumentError:
        return _fit_channels(doc, sources, sizes, broadcast=True)


def _fit_channels(doc: ForwardRequest, sources: list[list[int]], sizes: list[list[int]],
                  broadcast: bool) -> tuple[list[int], list[str]]:
    """`_pick_channels`, with the open inputs of an add equal to its count, or (broadcast)
    each equal to it or 1.

    Each open count is a variable and every tensor's count a linear form in them (a
    concat sums); a broadcasting add's count is a variable too, the largest of its inputs.
    A depth-first search takes the first fit, trying the smallest input count and a conv
    keeping its incoming count first, backing up to the variables a failure depends on.
    Concats make it a knapsack in general: the search is bounded, and an impossible
    document is refused, naming the layer that cannot fit."""
    units, labels = [1], [""]  # per variable: its divisor, its note
    prefer: list[Form | None] = [None]  # per variable: the form of its first try
    sums: dict[int, tuple[list[Form], int]] = {}  # a broadcasting add's variable: its inputs, layer
    eqs: list[tuple[Form, int]] = []  # form == 0, from layer t
    divs: list[tuple[Form, int, int]] = []  # form % groups == 0, from layer t

    def variable(unit: int, first: Form | None, label: str) -> Form:
        units.append(unit)
        prefer.append(first)
        labels.append(label)
        return {len(units) - 1: 1}

    forms = [{0: doc.in_channels} if doc.in_channels is not None else variable(1, None, "at the input")]
    for t, layer in enumerate(doc.layers):
        ins = [forms[s] for s in sources[t]]
        out = ins[0]  # pools, upsampling and crops keep their input's channels
        if isinstance(layer, Concat):
            out = _plus(*((1, f) for f in ins))
        elif isinstance(layer, Add):
            known = [f.get(0, 0) for f in ins if set(f) <= {0}]
            opened = [f for f in ins if not set(f) <= {0}]
            if not opened:  # forward's count: all equal, or 1
                out = {0: max(known)}
            elif not broadcast:
                out = {0: max(known)} if known and max(known) > 1 else opened[0]
                eqs += [(_plus((1, f), (-1, out)), t) for f in opened]
            else:
                out = variable(1, None, "")
                sums[max(out)] = (ins, t)
        elif isinstance(layer, Conv | ConvTranspose):
            if layer.in_channels is not None:
                eqs.append((_plus((1, out), (-1, {0: layer.in_channels})), t))
            divs.append((out, layer.groups, t))
            name = f" {layer.name!r}" if layer.name else ""
            out = ({0: layer.out_channels} if layer.out_channels is not None
                   else variable(layer.groups, out, f"out of layer {t}{name}"))
        elif layer.type == "flatten":  # every size into the channels
            out = _plus((math.prod(sizes[sources[t][0]]), out))
        elif layer.type == "linear":
            if layer.in_features is not None:
                eqs.append((_plus((1, out), (-1, {0: layer.in_features})), t))
            out = {0: layer.out_features}
        elif layer.type == "norm":
            if layer.num_features is not None:
                eqs.append((_plus((1, out), (-1, {0: layer.num_features})), t))
            if layer.num_groups is not None:
                divs.append((out, layer.num_groups, t))
        forms.append(out)

    # Each constraint is checked when its last variable is set (0: none, known counts).
    n = len(units) - 1
    eq_at: list[list[tuple[Form, int]]] = [[] for _ in range(n + 1)]
    div_at: list[list[tuple[Form, int, int]]] = [[] for _ in range(n + 1)]
    for form, t in eqs:
        eq_at[max(form, default=0)].append((form, t))
    for form, g, t in divs:
        div_at[max(form, default=0)].append((form, g, t))
    # Values enough to meet every residue of the groups above every constant.
    constraints = [f for f, _ in eqs] + [f for f, _, _ in divs]
    limit = (max([1, *(abs(f.get(0, 0)) for f in constraints)])
             + min(math.lcm(*units, *(g for _, g, _ in divs)), 1 << 12)
             * max([1, *(abs(c) for f in constraints for c in f.values())]))
    values = [1] + [0] * n
    refused = (-1, 0)  # (variable, layer) of the deepest refusal, to name the layer
    steps = 0

    def refuse(v: int, t: int) -> None:
        nonlocal refused
        refused = max(refused, (v, t))

    def candidates(v: int) -> tuple[Iterable[int], set[int]]:
        """Variable v's values to try, and the variables they depend on: an add's largest
        input, or the value the equations force, else its first try and every multiple of
        its groups up to the limit."""
        forced: set[int] = set()
        why = {u for form, _ in eq_at[v] for u in form if u} - {v}
        if v in sums:
            ins, t = sums[v]
            counts = [_value(f, values) for f in ins]
            why |= {u for f in ins for u in f if u}
            if any(c not in (1, max(counts)) for c in counts):
                refuse(v, t)
                return [], why
            forced.add(max(counts))
        for form, t in eq_at[v]:
            rest = _value({u: c for u, c in form.items() if u != v}, values)
            x = -rest // form[v]
            if rest % form[v] or x < 1 or x % units[v] or forced - {x}:
                refuse(v, t)
                return [], why
            forced.add(x)
        if forced:
            return forced, why
        hint = prefer[v] or {}
        first = [_value(hint, values)] if hint else []
        why |= {u for u in hint if u}  # the first try may lie past the limit
        return itertools.chain(first, range(units[v], limit + 1, units[v])), why

    def search(v: int) -> set[int] | None:
        """Set variables v.. to fit: None when they do, else the earlier variables to
        blame; the search backs up to the latest of them (over the blameless ones)."""
        nonlocal steps
        if v > n:
            return None
        xs, blame = candidates(v)
        for x in xs:
            steps += 1
            if steps > _SEARCH_STEPS:
                raise DocumentError("the channel counts the document leaves open took too long to choose: "
                                    "give in_channels and the convs' out_channels", loc=("in_channels",))
            values[v] = x
            bad = [(form, t) for form, g, t in div_at[v] if _value(form, values) % g]
            if bad:
                refuse(v, bad[0][1])
                blame |= {u for form, _ in bad for u in form if u}
                continue
            deeper = search(v + 1)
            if deeper is None:
                return None
            if v not in deeper:
                return deeper
            blame |= deeper
        return blame - {v}

    known = [t for form, g, t in div_at[0] if _value(form, values) % g] + [t for form, t in eq_at[0] if form]
    if known or search(1) is not None:
        t = known[0] if known else refused[1]
        layer = doc.layers[t]
        name = f" '{layer.name}'" if layer.name else ""
        raise DocumentError(
            f"layers.{t}: no channel counts fit layer {t}{name} ({layer.type}): the document leaves "
            "some open (no in_channels, a conv without out_channels) and no choice of them gives "
            "this layer channels that fit (groups, in_channels, an add's inputs); give them",
            loc=("layers", t))
    notes = [f"{values[v]} {labels[v]}" for v in range(1, n + 1) if labels[v]]
    return [_value(f, values) for f in forms], notes


class Walk:
    """What both exporters share: the forward report, each tensor's sources, variable
    name and channel count.  Tensor 0 is the input, tensor t + 1 layer t's output."""

    def __init__(self, doc: ForwardRequest) -> None:
        self.doc = doc
        self.report = forward(doc)  # refuses what the convention refuses, before any code
        self.ndim = len(doc.input_size)
        tensors = {"input": 0}
        self.sources: list[list[int]] = []  # per layer, the tensors it reads (a crop's `to` second)
        for t, layer in enumerate(doc.layers):
            if isinstance(layer, Concat | Add):
                self.sources.append([tensors[n] for n in layer.inputs])
            else:
                self.sources.append([t if layer.input is None else tensors[layer.input]])
                if isinstance(layer, Crop) or layer.type == "match":
                    self.sources[t].append(tensors[layer.to])
            if layer.name is not None:
                tensors[layer.name] = t + 1
        # Named layers first, so that a name such as 'layer0' stays the layer's own.
        taken: set[str] = set()
        named = {t: identifier(layer.name, taken) for t, layer in enumerate(doc.layers) if layer.name}
        self.vars = ["x"] + [named.get(t) or identifier(f"layer{t}", taken) for t in range(len(doc.layers))]
        self.sizes = [list(doc.input_size)] + [r.output_size for r in self.report.layers]
        self.channels, self.picked = _pick_channels(doc, self.sources, self.sizes)

    def channel_note(self) -> list[str]:
        """The comment saying which channel counts were assumed, if any."""
        if not self.picked:
            return []
        return ["# Channel counts the document leaves open, picked so that every groups divides them",
                "# and every add and declared in_channels matches:", *(f"#   {p}" for p in self.picked)]

    def axes(self, layer: Any, field: str, index: int) -> tuple[Any, ...]:
        return per_axis(getattr(layer, field), self.ndim, ("layers", index, field))

    def stride(self, layer: Any, index: int) -> tuple[int, ...]:
        """A pool's stride, its kernel's when left out (see rules.unset)."""
        field = "stride" if layer.stride is not None else unset("stride", layer.type, self.doc.convention)
        return self.axes(layer, field, index)

