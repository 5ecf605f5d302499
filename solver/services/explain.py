"""Why a solve problem has no solution, in the user's terms, and what would work.

The diagnosis runs the exact engine on variants of the user's own document:

1. Each axis alone: which axes fail (a 2D problem often fails on one axis only).
2. On a failing axis, forward from the input with every target dropped: the first
   layer that can produce nothing (and by which PyTorch rule), or a join whose inputs
   never match; otherwise the target is out of reach, and the nearest reachable
   size is traced layer by layer ("... gives 12, and layer 'up' gives 24, not 25").
3. Repairs, each checked by solving the changed document: widen one parameter's
   domain (with its tied layers), untie a parameter, move a target to the nearest
   reachable size, or use the nearest input sizes that work (padding or cropping).
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from .. import rules as A
from ..contract import Conflict, Explanation, Repair, SolveRequest
from ..engines.bounds import bounds
from ..engines.compiled import make_fns, solution_sizes
from ..engines.deadline import Deadline, Timeout
from ..engines.exact import Graph, TooLarge
from ..engines.problem import SEARCHABLE, build_problem, solution_layers
from ..errors import ConvsolveError

#: Domains a repair may widen a parameter to (the original domain is always kept).
_WIDE = {"kernel_size": (1, 7), "stride": (1, 3), "padding": (0, 3), "padding_end": (0, 3),
         "dilation": (1, 3), "output_padding": (0, 2)}
_WORDS = {"kernel_size": "kernel", "stride": "stride", "padding": "padding", "padding_end": "end padding",
          "dilation": "dilation", "output_padding": "output_padding", "ceil_mode": "ceil_mode"}
#: Padding modes a widened padding may take, by convention (TensorFlow pads by mode only);
#: a PyTorch padding keeps its own mode but is widened by pixels.
_WIDENED_MODES = {**A.PADDING_MODES, "pytorch": ()}
#: The fields that may hold one value per axis.
_PER_AXIS_FIELDS = (*A.SEARCHABLE_FIELDS, "output_shape",
                    *dict.fromkeys(f for k in A.KINDS.values() for f, _ in k.size_fields))
#: How far from the requested input size the nearest working ones are looked for.
_INPUT_RADIUS = 64
_MAX_REPAIRS = 6
#: The widest padding a repair proposes.
_MAX_REACH = 64


def explain(document: SolveRequest, deadline: Deadline) -> Explanation:
    """Conflicts and verified repairs for an infeasible solve document."""
    doc = document.model_dump(mode="json", exclude_unset=True, exclude_none=True)
    ex = _Explainer(doc, deadline)
    try:
        conflicts, message = ex.diagnose()
    except (Timeout, TooLarge, ConvsolveError):
        conflicts, message = [], "no setting in the domains reaches the targets"
    repairs = ex.repairs()
    # The layers whose settings alone stand in the way take part in the conflict too.
    axis = ex.failing[0] if len(ex.failing) == 1 else None
    for index, field in ex.narrow:
        layer = doc["layers"][index]
        value = layer[field] if field in layer else _default(layer, field, doc.get("convention", "pytorch"))
        allows = "leaves output_padding to Keras" if _inferred(doc, layer, field) else \
            f"allows {field} {_show(value)} only"
        conflicts.append(Conflict(layer=index, name=layer.get("name"), axis=axis, rule="domain_too_narrow",
                                  message=f"{_label(doc, index)} {allows}"))
    if repairs:
        message += f" Smallest change that works: {repairs[0].message}."
    if ex.note is not None:
        message += f" {ex.note}"
    return Explanation(message=message, conflicts=conflicts, repairs=repairs, note=ex.note)


def _label(doc: dict[str, Any], index: int) -> str:
    layer = doc["layers"][index]
    return f"layer '{layer['name']}'" if layer.get("name") else f"layer {index} ({layer['type']})"


def _settings(layer: dict[str, Any], axis: int) -> str:
    """'kernel 2, stride 2, padding 0' for one axis of a solution layer."""
    parts = []
    for field in SEARCHABLE.get(layer["type"], ()):
        v = layer.get(field)
        if v is None or (field in ("dilation", "output_padding") and v in ([1] * 3, [0] * 3, 1, 0)):
            continue
        v = v[axis] if isinstance(v, list) else v
        if (field, v) in (("dilation", 1), ("output_padding", 0), ("ceil_mode", False)):
            continue
        parts.append(f"{_WORDS[field]} {v}")
    return ", ".join(parts)


def _one_axis(doc: dict[str, Any], axis: int) -> dict[str, Any]:
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
        for field in _PER_AXIS_FIELDS:
            if field in layer:
                layer[field] = pick(layer[field])
    return out


class _Explainer:
    def __init__(self, doc: dict[str, Any], deadline: Deadline) -> None:
        self.doc = doc
        self.deadline = deadline
        self.convention = doc.get("convention", "pytorch")
        self.ndim = len(doc["input_size"] if "input_size" in doc else doc["input_sizes"][0])
        self.failing: list[int] = []  # the axes that fail on their own, once diagnosed
        self.narrow: list[tuple[int, str]] = []  # (layer, field) whose widening alone works
        #: (layer, field) of layers that refuse every setting of their domains, by the rule
        #: on that field: widening it is the first half of any repair.
        self.dead: list[tuple[int, str]] = []
        #: Why the search for repairs stopped short, when it did.
        self.note: str | None = None

    # --- running the engine on variants ------------------------------------------------

    def _graph(self, doc: dict[str, Any], open_end: bool = False) -> Graph:
        self.deadline.check()
        problem = build_problem(doc)
        fns = make_fns(problem)
        return Graph(problem, fns, bounds(problem, fns, self.deadline), self.deadline, open_end=open_end)

    def count(self, doc: dict[str, Any]) -> int:
        try:
            return self._graph(doc).count
        except (ConvsolveError, TooLarge):
            return 0

    def reachable(self, doc: dict[str, Any], upto: int) -> list[tuple[tuple[int, ...], ...]]:
        """Sizes the output of layer `upto - 1` can take, every target dropped."""
        free = {k: v for k, v in doc.items() if k not in ("target_size", "targets")}
        free["layers"] = doc["layers"][:upto]
        names = {layer.get("name") for layer in free["layers"]}
        free["ties"] = [t for t in doc.get("ties", []) if all(
            (isinstance(r, int) and r < upto) or r in names for r in t["layers"])]
        return self._graph(free, open_end=True).end_sizes()

    def solution(self, doc: dict[str, Any], near: tuple[list[int], str, list[Any]] | None = None,
                 ) -> tuple[list[dict[str, Any]], list[list[int]]] | None:
        """One solution of doc: its layers and sizes (first input size).

        near = (layers, field, values): the one whose field, on those layers, is
        nearest to the given values.
        """
        try:
            graph = self._graph(doc)
        except (ConvsolveError, TooLarge):  # a trial document past a limit: no solution to show
            return None
        cost = (lambda *_: ()) if near is None else _nearness(*near)
        found = graph.best(1, cost, by_size=False)
        if not found:
            return None
        values = found[0][1]
        return solution_layers(graph.problem, values), solution_sizes(graph.problem, graph.fns, values)[0]

    # --- diagnosis ---------------------------------------------------------------------

    def diagnose(self) -> tuple[list[Conflict], str]:
        whole = self._whole_layer()  # rules that one axis alone cannot show come first
        if whole is not None:
            return [whole], whole.message
        clash = self._disjoint_tie()
        if clash is not None:
            return [clash], clash.message
        if self.ndim == 1:
            failing = [0]
        else:
            failing = [a for a in range(self.ndim) if self.count(_one_axis(self.doc, a)) == 0]
        self.failing = failing
        if not failing:
            return ([Conflict(layer=None, axis=None, rule="axes_share_values",
                              message="each axis alone has solutions, but a parameter whose domain is "
                                      "shared by all axes needs different values on different axes")],
                    "Each axis can be solved on its own, but not with the same value of a shared "
                    "(isotropic) parameter on every axis.")
        conflicts: list[Conflict] = []
        for a in failing:
            conflicts += self._axis(a)
        others = "" if len(failing) == self.ndim else (
            f" The other axes ({', '.join(str(x) for x in range(self.ndim) if x not in failing)}) are fine.")
        said = {c.message.removeprefix(f"axis {c.axis}: ") for c in conflicts}
        if self.ndim > 1 and len(failing) == self.ndim and len(said) == 1:  # the same on every axis
            return conflicts, f"On every axis: {said.pop()}"
        return conflicts, " ".join(c.message for c in conflicts[:2]) + others

    def _axis(self, a: int) -> list[Conflict]:
        doc = _one_axis(self.doc, a) if self.ndim > 1 else self.doc
        n = len(doc["layers"])
        prefix = f"axis {a}: " if self.ndim > 1 else ""
        for t in range(1, n + 1):
            if self.reachable(doc, t):
                continue
            layer = doc["layers"][t - 1]
            if A.KINDS[layer["type"]].family in ("join", "crop"):
                return [self._join(doc, t - 1, a, prefix)]
            return [self._dead_layer(doc, t - 1, a, prefix)]
        targets = self._targets(doc)
        for t, want in targets.items():
            ends = self.reachable(doc, t)
            sizes = sorted({e[0][0] for e in ends})
            if not any(lo <= s <= hi for s in sizes for lo, hi in [want]):
                return [self._unreachable(doc, t, want, sizes, a, prefix)]
        names = ", ".join(f"'{self._tensor(doc, t)}'" for t in targets)
        return [Conflict(layer=None, axis=a, rule="targets_conflict",
                         message=f"{prefix}each target ({names}) can be reached, but not all at once")]

    def _whole_layer(self) -> Conflict | None:
        """A layer refused by a rule on the number of axes (an upsample's mode, Keras'
        Resizing in 2d only) or across its axes (Keras: no stride above 1 with a
        dilation above 1) whatever its domains: the per-axis diagnosis would not see it."""
        problem = build_problem(self.doc)
        for node, fn in zip(problem.nodes, make_fns(problem), strict=True):
            if fn is None:
                continue
            why: A.Rejected | None = None
            if A.KINDS[node.type].family == "resize":  # no variables: its fixed settings say it all
                for a in range(self.ndim):
                    try:
                        A.axis_layer(fn.kind, 1, ndim=self.ndim, **fn.classes[fn.cls_of[a]][2])
                    except A.Rejected as r:
                        if r.rule in (A.Rule.UPSAMPLE_MODE_NDIM, A.Rule.NOT_IN_CONVENTION):
                            why = r
                            break
            elif fn.spanning is not None:
                ids, allowed = fn.spanning_settings({v: var.values for v, var in enumerate(problem.vars)})
                if not all(problem.vars[v].values for v in ids):
                    continue  # a tie left nothing: _disjoint_tie says so
                if not allowed:
                    strides, dilations = fn.spanning
                    try:
                        A.layer_rule(node.type, problem.document.convention,
                                     tuple(min(problem.vars[v].values) for v in strides),
                                     tuple(min(problem.vars[v].values) for v in dilations))
                    except A.Rejected as r:
                        why = r
            if why is not None:
                return Conflict(layer=node.index, name=node.layer.name, axis=None, rule=why.rule.value,
                                message=f"{_label(self.doc, node.index)}: {why.message}.")
        return None

    def _disjoint_tie(self) -> Conflict | None:
        """A tie whose layers have no value of a parameter in common."""
        names = {layer.get("name"): i for i, layer in enumerate(self.doc["layers"]) if layer.get("name")}
        for tie in self.doc.get("ties", []):
            members = [r if isinstance(r, int) else names.get(r, -1) for r in tie["layers"]]
            for field in tie["params"]:
                per_layer = []
                for i in members:
                    layer = self.doc["layers"][i]
                    value = layer[field] if field in layer else _default(layer, field, self.convention)
                    items = value if isinstance(value, list) else [value] * self.ndim
                    per_layer.append([set(_values(v)) for v in items])
                for a in range(self.ndim):
                    if not set.intersection(*(axes[a] for axes in per_layer)):
                        allowed = ", ".join(f"{_label(self.doc, i)} allows {', '.join(map(str, sorted(p[a], key=str)))}"
                                            for i, p in zip(members, per_layer, strict=True))
                        return Conflict(layer=members[0], name=self.doc["layers"][members[0]].get("name"),
                                        axis=a if self.ndim > 1 else 0, rule="tie_domains_disjoint",
                                        message=f"the tie on {field} leaves no common value: {allowed}.")
        return None

    def _tensor(self, doc: dict[str, Any], t: int) -> str:
        return doc["layers"][t - 1].get("name") or f"output of layer {t - 1}"

    def _targets(self, doc: dict[str, Any]) -> dict[int, tuple[int, int]]:
        """Tensor -> allowed [lo, hi] of the (single-axis) targets, first input size."""
        names = {layer.get("name"): i + 1 for i, layer in enumerate(doc["layers"]) if layer.get("name")}
        inp = (doc.get("input_size") or doc["input_sizes"][0])[0]
        out = {}
        specs = [(len(doc["layers"]), doc["target_size"])] if "target_size" in doc else []
        specs += [(names[k], v) for k, v in doc.get("targets", {}).items()]
        for t, spec in sorted(specs):
            spec = spec[0] if isinstance(spec, list) else spec
            if spec == "input":
                out[t] = (inp, inp)
            elif isinstance(spec, dict):
                out[t] = (spec["min"], spec["max"])
            else:
                out[t] = (spec, spec)
        return out

    def _dead_layer(self, doc: dict[str, Any], index: int, a: int, prefix: str) -> Conflict:
        """A layer that refuses every input it can get: by which rule, most often."""
        ins = sorted({e[0][0] for e in self.reachable(doc, index)}) if index else \
            [(doc.get("input_size") or doc["input_sizes"][0])[0]]
        layer = {k: v for k, v in doc["layers"][index].items() if k != "input"}
        problem = build_problem({"input_size": [ins[0]], "layers": [layer],
                                 "convention": doc.get("convention", "pytorch")})
        fn = make_fns(problem)[0]
        assert fn is not None
        names, _, fixed = fn.classes[0]
        domains = {v: var.values for v, var in enumerate(problem.vars)}
        rules: Counter[A.Rule] = Counter()
        example: dict[A.Rule, str] = {}
        fields: dict[A.Rule, str] = {}
        for i in ins[:50]:
            for combo in fn.combos(0, domains):
                self.deadline.tick()
                try:
                    A.axis_output(problem.nodes[0].type, i, ndim=1, **dict(zip(names, combo, strict=True)), **fixed)
                except A.Rejected as r:
                    rules[r.rule] += 1
                    example.setdefault(r.rule, r.message)
                    if r.rule in A.SETTINGS_RULES:
                        fields.setdefault(r.rule, r.field or A.RULE_FIELD[r.rule])
        rule = rules.most_common(1)[0][0] if rules else A.Rule.OUTPUT_POSITIVE
        if rule in fields:
            self.dead.append((index, fields[rule]))
        where = f"from {ins[0]}" if len(ins) == 1 else f"from any size {ins[0]} to {ins[-1]} it can get"
        return Conflict(layer=index, name=layer.get("name"), axis=a, rule=rule.value,
                        message=f"{prefix}{_label(doc, index)} cannot run {where}: "
                                f"{example.get(rule, 'every setting is refused')}.")

    def _join(self, doc: dict[str, Any], index: int, a: int, prefix: str) -> Conflict:
        """A join whose inputs never match, or a crop whose input is never large enough."""
        layer = doc["layers"][index]
        node = build_problem({**doc, "targets": {}, "target_size": None}).nodes[index]
        parts = []
        for t in node.inputs:
            sizes = sorted({e[0][0] for e in self.reachable(doc, t)}) if t else \
                [(doc.get("input_size") or doc["input_sizes"][0])[0]]
            shown = ", ".join(map(str, sizes[:6])) + (", ..." if len(sizes) > 6 else "")
            parts.append(f"'{self._tensor(doc, t) if t else 'input'}' can be {shown}")
        if layer["type"] == "crop":
            return Conflict(layer=index, name=layer.get("name"), axis=a, rule=A.Rule.CROP_FITS.value,
                            message=f"{prefix}{_label(doc, index)} (crop) needs its input at least as large as "
                                    f"'{layer['to']}', but " + " and ".join(parts) + ".")
        who = _label(doc, index) + (f" ({layer['type']})" if layer.get("name") else "")
        if layer["type"] == "add":
            return Conflict(layer=index, name=layer.get("name"), axis=a, rule=A.Rule.ADD_SIZES_BROADCAST.value,
                            message=f"{prefix}{who} needs sizes that are equal or 1, but "
                                    + " and ".join(parts) + "; they never can be added.")
        return Conflict(layer=index, name=layer.get("name"), axis=a, rule=A.Rule.JOIN_SIZES_MATCH.value,
                        message=f"{prefix}{who} needs equal sizes, but "
                                + " and ".join(parts) + "; they never match.")

    def _unreachable(self, doc: dict[str, Any], t: int, want: tuple[int, int], sizes: list[int],
                     a: int, prefix: str) -> Conflict:
        lo, hi = want
        wanted = str(lo) if lo == hi else f"{lo} to {hi}"
        below = [s for s in sizes if s < lo]
        above = [s for s in sizes if s > hi]
        near = ([below[-1]] if below else []) + ([above[0]] if above else [])
        best = min(near, key=lambda s: (min(abs(s - lo), abs(s - hi)), s))
        trial = {k: v for k, v in doc.items() if k not in ("target_size", "targets")}
        trial["layers"] = doc["layers"][:t]
        trial["target_size"] = [best]
        sol = self.solution(trial)
        path = ""
        if sol is not None:
            layers, out = sol
            steps = [f"{_label(doc, i)} ({_settings(layer, 0)}) gives {out[i][0]}"
                     for i, layer in enumerate(layers) if A.KINDS[layer["type"]].family not in ("join", "crop")]
            path = ": " + ", then ".join(steps) + f", not {wanted}"
        what = "the output" if t == len(doc["layers"]) else f"'{self._tensor(doc, t)}'"
        return Conflict(layer=None, axis=a, rule="target_unreachable",
                        message=f"{prefix}{what} can be {' or '.join(map(str, near))} but not {wanted}{path}.")

    # --- repairs -----------------------------------------------------------------------

    def repairs(self) -> list[Repair]:
        """The repairs found in the time there is; self.note says when some were not tried."""
        found: list[tuple[float, int, Repair]] = []
        try:
            for repair in _search((self._widen, self._untie, self._retarget, self._resize)):
                found.append(repair)
            if not found:
                for repair in _search((self._after_dead,)):
                    found.append(repair)
        except Timeout:
            self.note = ("The time limit ran out while repairs were searched, so some were not tried"
                         if found else "The time limit ran out before any repair was found") + (
                "; a longer time_limit_s searches them all.")
        found.sort(key=lambda x: (x[0], x[1]))
        return [r for _, _, r in found[:_MAX_REPAIRS]]

    def _after_dead(self) -> Iterator[tuple[float, Repair]]:
        """Repairs of two changes: a layer that refuses its whole domain (output_padding
        1 to 2 at stride 1) gets the field its rule is about widened first; then each
        one-change repair is looked for on that document."""
        for index, field in self.dead:
            first = self._widened(self._tied(index, field), field, per_axis=False)
            before = f"allow {field} {_show(first['layers'][index][field])} in {_label(self.doc, index)}"
            second = _Explainer(first, self.deadline)
            second.failing = self.failing
            for cost, _, repair in _search((second._widen, second._retarget, second._resize)):
                yield cost + 1, Repair(message=f"{before}, and {repair.message}", document=repair.document)

    def _widen(self) -> Iterator[tuple[float, Repair]]:
        """Each searchable parameter (with its tied layers) widened alone."""
        for index, layer in enumerate(self.doc["layers"]):
            for field in SEARCHABLE.get(layer["type"], ()):
                if field in ("stride", "padding_end") and field not in layer and (
                        field == "padding_end" or layer["type"].endswith("pool")):
                    continue  # a pool's stride is its kernel; padding_end, its padding
                group = self._tied(index, field)
                if min(group) != index:
                    continue  # a tie group is widened once, from its first layer
                wide = self._widened(group, field, per_axis=False)
                if self.count(wide) == 0:
                    if self.ndim == 1 or field == "ceil_mode":
                        continue
                    wide = self._widened(group, field, per_axis=True)  # a value per axis, then
                    if self.count(wide) == 0:
                        continue
                original = layer[field] if field in layer else _default(layer, field, self.convention)
                sol = self.solution(wide, near=(group, field, _values(original)))
                if sol is None:
                    continue
                value = sol[0][index][field]
                value = value if isinstance(value, bool | str) else value[0] if len(set(value)) == 1 else value
                fixed = copy.deepcopy(self.doc)
                for i in group:
                    fixed["layers"][i][field] = _include(fixed["layers"][i].get(field, original), value)
                if self.count(fixed) == 0:
                    continue
                self.narrow.append((index, field))
                who = _label(self.doc, index) + (f" and the {len(group) - 1} layers tied to it" if len(group) > 1 else "")
                now = "unset: Keras infers the output" if _inferred(self.doc, layer, field) else _show(original)
                yield _distance(original, value), Repair(
                    message=f"allow {field} {_show(value)} in {who} (now {now})", document=fixed)

    def _widened(self, group: list[int], field: str, per_axis: bool) -> dict[str, Any]:
        wide = copy.deepcopy(self.doc)
        for i in group:
            layer = wide["layers"][i]
            value = layer[field] if field in layer else _default(layer, field, self.convention)
            if per_axis and not isinstance(value, list):
                value = [value] * self.ndim
            layer[field] = _wider(value, field, _reach(layer), self.convention)
        return wide

    def _untie(self) -> Iterator[tuple[float, Repair]]:
        """Each tied parameter let go (the layers may then differ)."""
        for t, tie in enumerate(self.doc.get("ties", [])):
            for field in tie["params"]:
                fixed = copy.deepcopy(self.doc)
                rest = [p for p in tie["params"] if p != field]
                if rest:
                    fixed["ties"][t]["params"] = rest
                else:
                    del fixed["ties"][t]
                if self.count(fixed):
                    who = ", ".join(f"'{r}'" if isinstance(r, str) else f"layer {r}" for r in tie["layers"])
                    yield 1, Repair(message=f"let {who} take different {field}", document=fixed)

    def _tied(self, index: int, field: str) -> list[int]:
        names = {layer.get("name"): i for i, layer in enumerate(self.doc["layers"]) if layer.get("name")}
        group = {index}
        for tie in self.doc.get("ties", []):
            members = [r if isinstance(r, int) else names.get(r, -1) for r in tie["layers"]]
            if field in tie["params"] and index in members:
                group |= {m for m in members if m >= 0}
        return sorted(group)

    def _retarget(self) -> Iterator[tuple[float, Repair]]:
        """The final target moved to the nearest sizes the stack reaches."""
        if "target_size" not in self.doc or self.doc["target_size"] == "input" or "input_sizes" in self.doc:
            return
        free = {k: v for k, v in self.doc.items() if k != "target_size"}
        ends = self._graph(free, open_end=True).end_sizes()
        want = self.doc["target_size"]
        want = want if isinstance(want, list) else [want] * self.ndim
        centre = [w["min"] if isinstance(w, dict) else w for w in want]
        ranked = sorted(ends, key=lambda e: (sum(abs(x - c) for x, c in zip(e[0], centre, strict=True)), e))
        for end in ranked[:2]:
            size = list(end[0])
            fixed = {**copy.deepcopy(self.doc), "target_size": size}
            if self.count(fixed):
                dist = sum(abs(x - c) for x, c in zip(size, centre, strict=True))
                yield dist, Repair(message=f"aim at {_size(size)} instead of {_size(want)}", document=fixed)

    def _resize(self) -> Iterator[tuple[float, Repair]]:
        """The nearest input sizes that work: pad or crop the input to them."""
        if "input_size" not in self.doc:
            return
        size = self.doc["input_size"]
        axes = self.failing or list(range(self.ndim))
        for sign, verb in ((-1, "crop"), (1, "pad")):
            for d in range(1, _INPUT_RADIUS + 1):
                trial = [s + sign * d if a in axes else s for a, s in enumerate(size)]
                if min(trial) < 1:
                    break
                fixed = {**copy.deepcopy(self.doc), "input_size": trial}
                if self.count(fixed):
                    yield d, Repair(message=f"{verb} the input to {_size(trial)} ({d} pixel"
                                                  f"{'s' if d > 1 else ''} {'less' if sign < 0 else 'more'}"
                                                  f"{' per axis' if len(axes) > 1 else ''})",
                                          document=fixed)
                    break


def _search(finders: tuple[Callable[[], Iterator[tuple[float, Repair]]], ...],
            ) -> Iterator[tuple[float, int, Repair]]:
    """(cost, kind, repair) from each finder in turn (generators: what one found before a
    Timeout is kept); a finder that cannot work on this document is skipped."""
    for kind, finder in enumerate(finders):
        try:
            for cost, repair in finder():
                yield cost, kind, repair
        except (TooLarge, ConvsolveError):
            continue


def _inferred(doc: dict[str, Any], layer: dict[str, Any], field: str) -> bool:
    """A Keras transposed conv without output_padding: its output is inferred, not op 0."""
    return field not in layer and A.unset(field, layer["type"], doc.get("convention", "pytorch")) is None


def _default(layer: dict[str, Any], field: str, convention: str) -> Any:
    """What a field left out of this layer means (see rules.unset); a repair starts an
    output_padding Keras infers from 0."""
    value = A.unset(field, layer["type"], convention)
    return 0 if value is None else layer.get(value, 0) if value in ("kernel_size", "padding") else value


def _reach(layer: dict[str, Any]) -> int:
    """The largest dilated kernel span minus one: padding that far can matter (up to
    _MAX_REACH: a repair proposes sane paddings, and a domain stays small)."""
    def top(v: Any) -> int:
        vals = [x for item in (v if isinstance(v, list) else [v]) for x in _values(item) if isinstance(x, int)]
        return max(vals, default=1)
    return min(_MAX_REACH, top(layer.get("dilation", 1)) * (top(layer.get("kernel_size", 1)) - 1))


def _wider(value: Any, field: str, reach: int = 0, convention: str = "pytorch") -> Any:
    if field == "ceil_mode":
        return {"choices": [False, True]}
    if field == "padding" and convention == "tensorflow":
        return {"choices": list(_WIDENED_MODES[convention])}
    lo, hi = _WIDE[field]
    if field in ("padding", "padding_end"):
        hi = max(hi, reach)
    if isinstance(value, list):
        return [_wider(v, field, reach, convention) for v in value]
    vals = _values(value)
    ints = [v for v in vals if isinstance(v, int)]
    modes = _WIDENED_MODES[convention] if field == "padding" else ()
    extra = [v for v in vals if isinstance(v, str)] + [m for m in modes if m not in vals]
    if extra:  # keep "same" / "valid" among the choices
        return {"choices": extra + list(range(min([lo, *ints]), max([hi, *ints]) + 1))}
    return {"min": min([lo, *ints]), "max": max([hi, *ints])}


def _values(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return value["choices"] if "choices" in value else list(range(value["min"], value["max"] + 1))
    return [value] if value is not None else []


def _include(value: Any, new: Any) -> Any:
    """The original domain or value, plus `new`."""
    if isinstance(new, list) or isinstance(value, list):
        news = new if isinstance(new, list) else [new] * len(value)
        olds = value if isinstance(value, list) else [value] * len(news)
        return [_include(o, n) for o, n in zip(olds, news, strict=True)]
    vals = _values(value)
    if new in vals:
        return value
    if not isinstance(value, dict):
        return new
    if "min" in value and isinstance(new, int) and value["min"] - 1 <= new <= value["max"] + 1:
        return {"min": min(value["min"], new), "max": max(value["max"], new)}
    return {"choices": [*vals, new]}


def _nearness(layers: list[int], field: str, originals: list[Any]) -> Any:
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


def _distance(original: Any, value: Any) -> float:
    vals = [v for v in _values(original) if isinstance(v, int)]
    news = value if isinstance(value, list) else [value]
    if not vals or not all(isinstance(v, int) for v in news):
        return 1
    return max(min(abs(n - v) for v in vals) for n in news)


def _size(value: list[Any]) -> str:
    return " x ".join(_show(v) for v in value)


def _show(value: Any) -> str:
    if isinstance(value, dict):
        return (f"{value['min']} to {value['max']}" if "min" in value
                else "one of " + ", ".join(map(str, value["choices"])))
    if isinstance(value, list):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    return str(value)
