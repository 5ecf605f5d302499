"""A solve document, checked once and normalized into a Problem the engines share.

Every searchable (layer, parameter, axis) slot is bound to a variable with a finite
domain.  A scalar domain binds all axes to one variable (isotropic); a tie binds
several layers to the same variables; a pool's default stride binds to its kernel
variable.  Concrete values are one-value variables, so the engines see one shape.
Tensors are numbered: 0 is the network input, t + 1 is the output of layer t.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import rules as A
from ..contract import (
    Choices,
    Goal,
    Prefer,
    Range,
    SolveRequest,
    parse,
    resize_settings,
)
from ..errors import DocumentError, LayerContext, LimitExceeded, layer_label

#: Searchable fields of each layer type, in the order solutions list them.
SEARCHABLE: dict[str, tuple[str, ...]] = {k.name: k.searchable for k in A.KINDS.values() if k.searchable}


#: A domain with more values than this is refused before anything is built.
MAX_DOMAIN = 4096


#: A value for every variable, by its id: a dict, or a tuple indexed by id (sampling's).
Values = Mapping[int, Any] | Sequence[Any]


@dataclass(frozen=True, slots=True)
class Var:
    """A searchable value: where it comes from (for messages) and its finite domain."""

    label: str
    values: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Node:
    """One layer of the problem: which tensors it reads and which variables it uses."""

    index: int
    layer: Any  # the document's layer model
    inputs: tuple[int, ...]
    #: field -> variable id per axis
    slots: dict[str, tuple[int, ...]]

    @property
    def type(self) -> str:
        return str(self.layer.type)

    @property
    def var_ids(self) -> tuple[int, ...]:
        """The distinct variables this layer uses, in first-use order."""
        seen: dict[int, None] = {}
        for ids in self.slots.values():
            seen.update(dict.fromkeys(ids))
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class AllowedSizes:
    """Allowed sizes of one axis of one tensor: [lo, hi], or equal to the input's axis."""

    lo: int
    hi: int
    same_as_input: bool = False


@dataclass(frozen=True, slots=True)
class JointRule:
    """A rule on every axis of a layer's input at once, which the per-axis rules cannot
    state: the product of the sizes (one case's) must equal `product` (a flatten read by
    a linear of fixed in_features), or, when that is None, exceed 1 (a norm's statistics)."""

    product: int | None = None

    def holds(self, sizes: Sequence[int]) -> bool:
        pixels = math.prod(sizes)
        return pixels > 1 if self.product is None else pixels == self.product


@dataclass(slots=True)
class Problem:
    ndim: int
    cases: list[tuple[int, ...]]  # input sizes the design must hold for
    nodes: list[Node]
    vars: list[Var]
    #: tensor id -> the sizes allowed on each axis
    targets: dict[int, tuple[AllowedSizes, ...]]
    channels: list[int | None]  # per tensor
    objective: list[Goal | Prefer]
    limit: int
    time_limit_s: float
    document: SolveRequest
    tensor_names: dict[str, int] = field(default_factory=dict)
    #: What the answer should mention: domain values no layer can take, skipped.
    warnings: list[str] = field(default_factory=list)
    #: The layers as plain dicts, made once when solutions are written out.
    dumped: list[dict[str, Any]] | None = None
    #: node index -> the rules on all axes of its input at once (see JointRule).
    joint: dict[int, list[JointRule]] = field(default_factory=dict)

    def layer_label(self, index: int) -> str:
        layer = self.nodes[index].layer
        return layer_label(index, layer.name, layer.type)


def _domain_values(dom: Any, where: str, fieldname: str) -> tuple[Any, ...]:
    if isinstance(dom, Range):
        n = dom.max - dom.min + 1
        if n > MAX_DOMAIN:
            raise LimitExceeded(f"{where}: the range has {n} values; at most {MAX_DOMAIN} are searched")
        return tuple(range(dom.min, dom.max + 1))
    if isinstance(dom, Choices):
        values = []
        for v in dom.choices:
            ok = (
                isinstance(v, bool) if fieldname == "ceil_mode"
                else (isinstance(v, int) and not isinstance(v, bool))
                or (fieldname == "padding" and v in A.ANY_PADDING_MODE)
            )
            if not ok:
                raise DocumentError(f"{where}: {v!r} is not a valid choice for {fieldname}")
            values.append(v)
        return tuple(dict.fromkeys(values))
    return (dom,)


class _Builder:
    def __init__(self, doc: SolveRequest) -> None:
        self.doc = doc
        self.cases = [tuple(s) for s in (doc.input_sizes or [doc.input_size or []])]
        self.ndim = len(self.cases[0])
        if any(len(c) != self.ndim for c in self.cases):
            raise DocumentError("input_sizes: every input size needs the same number of axes")
        self.vars: list[Var] = []
        self.names: dict[str, int] = {"input": 0}
        self.warnings: list[str] = []
        self.joint: dict[int, list[JointRule]] = {}
        #: Tensors whose channels depend on sizes (a flatten's, and what reads it keeping channels).
        self.sized: set[int] = set()

    def var(self, label: str, values: tuple[Any, ...]) -> int:
        self.vars.append(Var(label, values))
        return len(self.vars) - 1

    def slots_of(self, index: int, value: Any, fieldname: str) -> tuple[int, ...]:
        where = f"layers.{index}.{fieldname}"
        if isinstance(value, list):
            if len(value) != self.ndim:
                raise DocumentError(
                    f"{where}: has {len(value)} values but the input has {self.ndim} spatial axes",
                    loc=("layers", index, fieldname),
                )
            domains = [_domain_values(v, where, fieldname) for v in value]
            if any(isinstance(x, str) for values in domains for x in values):
                raise DocumentError(
                    f"{where}: a padding mode ('same', 'valid', ...) pads every axis, as in the frameworks: "
                    "give one value or domain for all axes, not one per axis", loc=("layers", index, fieldname))
            for a, (v, values) in enumerate(zip(value, domains, strict=True)):
                self.never_valid(f"{where}[{a}]", v, values, fieldname)
            return tuple(self.var(f"{where}[{a}]", values) for a, values in enumerate(domains))
        values = _domain_values(value, where, fieldname)
        self.never_valid(where, value, values, fieldname)
        return (self.var(where, values),) * self.ndim

    def never_valid(self, where: str, given: Any, values: tuple[Any, ...], fieldname: str) -> None:
        """Note the values of a domain below the setting's minimum (rules.MINIMUM): no
        layer takes them, whatever its input, so the search skips them; the answer says so."""
        if not isinstance(given, Range | Choices) or fieldname not in A.MINIMUM:
            return
        bound = A.MINIMUM[fieldname][0]
        low = [v for v in values if isinstance(v, int) and not isinstance(v, bool) and v < bound]
        if low:
            shown = ", ".join(map(str, low[:5])) + (f" and {len(low) - 5} more" if len(low) > 5 else "")
            self.warnings.append(f"{where}: {shown} can never be valid ({fieldname} must be "
                                 f"{A.least(fieldname)}); the search skips them")

    def check_convention(self, index: int, layer: Any, slots: dict[str, tuple[int, ...]]) -> None:
        """Padding modes and fields of another convention are refused up front, as forward
        refuses them: in a domain they would otherwise be dropped without a word."""
        try:
            A.onnx_fields(self.doc.convention, getattr(layer, "padding_end", None),
                          getattr(layer, "output_shape", None))
            for v in dict.fromkeys(x for var in slots.get("padding", ()) for x in self.vars[var].values):
                A.padding_mode(v, layer.type, self.doc.convention)
        except A.Rejected as r:
            field = r.field or "padding"
            raise DocumentError(f"layers.{index}.{field}: {r.message}", loc=("layers", index, field)) from None

    def rule(self, index: int, layer: Any, check: Any, field: str) -> Any:
        """check(), its refusal raised as forward raises it (LayerRejected, same rule)."""
        try:
            return check()
        except A.Rejected as r:
            raise LayerContext(index, layer).reject(r.rule, r.message, None, r.field or field) from None

    def value(self, layer: Any, fieldname: str) -> Any:
        """A field's value; an unset output_padding as the convention means it (see rules.unset)."""
        value = getattr(layer, fieldname)
        if fieldname == "output_padding" and value is None:
            return A.unset(fieldname, layer.type, self.doc.convention)
        return value

    def resolve(self, name: str, index: int, fieldname: str) -> int:
        if name not in self.names:
            raise DocumentError(
                f"layers.{index}.{fieldname}: no tensor named '{name}' before this layer "
                f"(known: {', '.join(self.names)})", loc=("layers", index, fieldname),
            )
        return self.names[name]

    def build(self) -> Problem:
        doc = self.doc
        nodes: list[Node] = []
        channels: list[int | None] = [doc.in_channels]
        for index, layer in enumerate(doc.layers):
            kind = A.KINDS[layer.type]
            if kind.family == "join":
                inputs = tuple(self.resolve(n, index, "inputs") for n in layer.inputs)
                cs = [channels[t] for t in inputs]
                known = [c for c in cs if c is not None]
                if layer.type == "add" and known:
                    self.rule(index, layer, lambda known=known: A.broadcast(known, "channels"), "inputs")
                out_c = None if None in cs else (
                    sum(cs) if layer.type == "concat" else A.broadcast(cs, "channels"))  # type: ignore[arg-type]
                slots: dict[str, tuple[int, ...]] = {}
            elif kind.family == "crop":
                src = index if layer.input is None else self.resolve(layer.input, index, "input")
                inputs = (src, self.resolve(layer.to, index, "to"))
                out_c, slots = channels[src], {}
            else:
                inputs = (index if layer.input is None else self.resolve(layer.input, index, "input"),)
                slots = {f: self.slots_of(index, v, f) for f in kind.searchable
                         if (v := self.value(layer, f)) is not None}
                self.check_convention(index, layer, slots)
                if "stride" not in slots and A.unset("stride", layer.type, doc.convention) == "kernel_size":
                    slots["stride"] = slots["kernel_size"]  # a pool's stride defaults to its kernel
                out_c = channels[inputs[0]]
                if kind.weighted:
                    # The channel rules as forward applies them: the same error, the same rule.
                    incoming = out_c
                    cin, out_c = self.rule(index, layer, lambda layer=layer, incoming=incoming: A.conv_channels(
                        layer.type, doc.convention, incoming, layer.in_channels, layer.out_channels,
                        layer.groups), "in_channels")
                    if incoming is None:  # as forward: in_channels tells an open tensor's count
                        channels[inputs[0]] = cin
                elif kind.family == "resize":  # concrete: check its per-axis counts now
                    resize_settings(layer, self.ndim, ("layers", index))
                    if kind.channels != "keep":
                        out_c = self.dense(index, layer, nodes, channels, inputs[0])
            if layer.name is not None:
                if layer.name in self.names:
                    raise DocumentError(f"layers.{index}.name: '{layer.name}' is used twice",
                                        loc=("layers", index, "name"))
                self.names[layer.name] = index + 1
            if layer.type == "flatten" or out_c is None and any(t in self.sized for t in inputs):
                self.sized.add(index + 1)
            nodes.append(Node(index, layer, inputs, slots))
            channels.append(out_c)
        self.tie(nodes)
        self.compact(nodes)
        problem = Problem(
            ndim=self.ndim, cases=self.cases, nodes=nodes, vars=self.vars,
            targets=self.targets(len(nodes)), channels=channels,
            objective=self.objective(), limit=doc.limit, time_limit_s=doc.time_limit_s,
            document=doc, tensor_names=self.names, warnings=self.warnings, joint=self.joint,
        )
        return problem

    def dense(self, index: int, layer: Any, nodes: list[Node], channels: list[int | None], src: int) -> int | None:
        """A flatten's, linear's or norm's channels, checked as forward checks them but for
        what depends on sizes, which becomes a rule on all axes at once (JointRule): a
        norm's more than one pixel, a flatten's product of sizes that a linear's
        in_features asks for.  Returns the channels out (a flatten's: None, not known)."""
        fields = {f: getattr(layer, f) for f in A.DENSE_FIELDS if f in type(layer).model_fields}
        cin, out_c, _, _ = self.rule(index, layer, lambda: A.dense(layer.type, channels[src], None,
                                                                    self.doc.convention, **fields), "input")
        if layer.type == "norm" and A.norm_needs_pixels(layer.norm, layer.track_running_stats, cin,
                                                        layer.num_groups, self.doc.convention):
            self.joint.setdefault(index, []).append(JointRule())
        if layer.type == "linear" and layer.in_features is not None and channels[src] is None:
            t = src  # back through what keeps the channels, to the flatten that sets them
            while t > 0 and A.KINDS[nodes[t - 1].type].channels in ("keep", "norm") \
                    and A.KINDS[nodes[t - 1].type].family == "resize":
                t = nodes[t - 1].inputs[0]
            flat = nodes[t - 1] if t > 0 and nodes[t - 1].type == "flatten" else None
            c = None if flat is None else channels[flat.inputs[0]]
            if flat is None and src in self.sized:
                raise DocumentError(
                    f"layers.{index}.in_features: the features this linear reads depend on sizes through a join "
                    "of flattened tensors, which the search cannot check yet: leave in_features out, or set "
                    "targets on the tensors flattened", loc=("layers", index, "in_features"))
            if flat is not None and c is not None:
                if layer.in_features % c:
                    raise LayerContext(index, layer).reject(
                        A.Rule.CHANNELS_MATCH, f"in_features {layer.in_features} is not a multiple of the {c} "
                        f"channels that {flat.layer.name or f'layer {flat.index}'} flattens: no size gives it",
                        None, "in_features")
                self.joint.setdefault(flat.index, []).append(JointRule(layer.in_features // c))
        return out_c

    def tie(self, nodes: list[Node]) -> None:
        """Bind tied slots to the first layer's variables, intersecting the domains."""
        for t, tie in enumerate(self.doc.ties):
            idx = []
            for ref in tie.layers:
                i = ref if isinstance(ref, int) else self.names.get(ref, 0) - 1
                if not 0 <= i < len(nodes):
                    raise DocumentError(f"ties.{t}.layers: no layer {ref!r}", loc=("ties", t, "layers"))
                idx.append(i)
            for f in tie.params:
                first = nodes[idx[0]]
                if f not in first.slots:
                    raise DocumentError(f"ties.{t}: {first.type} layer {idx[0]} has no {f}", loc=("ties", t))
                keep = first.slots[f]
                for i in idx[1:]:
                    if f not in nodes[i].slots:
                        raise DocumentError(f"ties.{t}: {nodes[i].type} layer {i} has no {f}", loc=("ties", t))
                    for v0, v1 in zip(keep, nodes[i].slots[f], strict=True):
                        if v0 == v1:
                            continue
                        common = tuple(x for x in self.vars[v0].values if x in set(self.vars[v1].values))
                        self.vars[v0] = Var(self.vars[v0].label, common)
                        # Rebind every slot of every layer that used v1.
                        for node in nodes:
                            for g, ids in node.slots.items():
                                if v1 in ids:
                                    node.slots[g] = tuple(v0 if x == v1 else x for x in ids)

    def compact(self, nodes: list[Node]) -> None:
        """Keep only the variables some slot still uses (a tie leaves the others behind),
        numbered in order of use, so that every variable is a real choice."""
        used = list(dict.fromkeys(v for node in nodes for ids in node.slots.values() for v in ids))
        number = {old: new for new, old in enumerate(used)}
        self.vars = [self.vars[v] for v in used]
        for node in nodes:
            for f, ids in node.slots.items():
                node.slots[f] = tuple(number[v] for v in ids)

    def target(self, spec: Any, where: str) -> tuple[AllowedSizes, ...]:
        if spec == "input":
            return (AllowedSizes(0, 0, same_as_input=True),) * self.ndim
        items = spec if isinstance(spec, list) else [spec] * self.ndim
        if len(items) != self.ndim:
            raise DocumentError(f"{where}: has {len(items)} values but the input has {self.ndim} axes")
        return tuple(AllowedSizes(x.min, x.max) if isinstance(x, Range) else AllowedSizes(x, x) for x in items)

    def targets(self, n: int) -> dict[int, tuple[AllowedSizes, ...]]:
        out = {}
        if self.doc.target_size is not None:
            out[n] = self.target(self.doc.target_size, "target_size")
        for name, spec in self.doc.targets.items():
            if name not in self.names:
                raise DocumentError(f"targets: no tensor named '{name}'", loc=("targets", name))
            t = self.names[name]
            if t == 0:
                raise DocumentError("targets.input: the network input's size is input_size (or "
                                    "input_sizes); a target names a layer's output", loc=("targets", name))
            if t in out:
                raise DocumentError(f"targets.{name}: '{name}' is the last layer, whose size target_size "
                                    "already sets; give one of the two", loc=("targets", name))
            out[t] = self.target(spec, f"targets.{name}")
        return out

    def objective(self) -> list[Goal | Prefer]:
        obj = self.doc.objective
        return [] if obj is None else list(obj) if isinstance(obj, list) else [obj]


def alike(problem: Problem, node: Node) -> tuple[str, tuple[int | None, ...]]:
    """What makes layers cost alike: written alike (but for their names and wiring), on
    as many channels."""
    return (node.layer.model_dump_json(exclude={"name", "input", "inputs", "to"}),
            tuple(problem.channels[t] for t in node.inputs))


def build_problem(document: SolveRequest | dict[str, Any]) -> Problem:
    """Check a solve document and normalize it into a Problem."""
    doc: SolveRequest = parse(SolveRequest, document)
    problem = _Builder(doc).build()
    for node in problem.nodes:
        local = math.prod(len(problem.vars[v].values) for v in node.var_ids)
        if local > 1_000_000:
            raise LimitExceeded(
                f"{problem.layer_label(node.index)}: its domains allow {local:,} combinations; "
                "at most 1,000,000 per layer are searched", loc=("layers", node.index),
            )
    return problem


def solution_layers(problem: Problem, values: Values) -> list[dict[str, Any]]:
    """Every layer as a forward document layer, every searched parameter explicit per axis."""
    if problem.dumped is None:  # the fixed fields, dumped once for every solution
        problem.dumped = [node.layer.model_dump(exclude_none=True) for node in problem.nodes]
    layers = []
    for node, fixed in zip(problem.nodes, problem.dumped, strict=True):
        d = dict(fixed)
        for f, ids in node.slots.items():
            vs = [values[v] for v in ids]
            d[f] = vs[0] if f == "ceil_mode" or isinstance(vs[0], str) and len(set(vs)) == 1 else vs
        layers.append(d)
    return layers
