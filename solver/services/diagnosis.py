"""Why a solve document has no solution: the engine run on variants of it (one axis,
one layer, no targets) to find the layers, axes and rules in conflict."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .. import rules as A
from ..contract import Conflict
from ..engines.bounds import bounds
from ..engines.compiled import compile_rules, solution_sizes
from ..engines.deadline import Deadline
from ..engines.exact import StateGraph, TooLarge
from ..engines.problem import build_problem, solution_layers
from ..errors import ConvsolveError
from .domains import default, label, nearness, one_axis, settings_words, values_of


class Diagnosis:
    def __init__(self, doc: dict[str, Any], deadline: Deadline) -> None:
        self.doc = doc
        self.deadline = deadline
        self.convention = doc.get("convention", A.DEFAULT_CONVENTION)
        self.ndim = len(doc["input_size"] if "input_size" in doc else doc["input_sizes"][0])
        self.failing: list[int] = []  # the axes that fail on their own, once diagnosed
        self.narrow: list[tuple[int, str]] = []  # (layer, field) whose widening alone works
        #: (layer, field) of layers that refuse every setting of their domains, by the rule
        #: on that field: widening it is the first half of any repair.
        self.dead: list[tuple[int, str]] = []
        #: Why the search for repairs stopped short, when it did.
        self.note: str | None = None

    # --- running the engine on variants ------------------------------------------------

    def _graph(self, doc: dict[str, Any], open_end: bool = False) -> StateGraph:
        self.deadline.check()
        problem = build_problem(doc)
        fns = compile_rules(problem)
        return StateGraph(problem, fns, bounds(problem, fns, self.deadline), self.deadline, open_end=open_end)

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
        cost = (lambda *_: ()) if near is None else nearness(*near)
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
            failing = [a for a in range(self.ndim) if self.count(one_axis(self.doc, a)) == 0]
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
        doc = one_axis(self.doc, a) if self.ndim > 1 else self.doc
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
        for node, fn in zip(problem.nodes, compile_rules(problem), strict=True):
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
                                message=f"{label(self.doc, node.index)}: {why.message}.")
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
                    value = layer[field] if field in layer else default(layer, field, self.convention)
                    items = value if isinstance(value, list) else [value] * self.ndim
                    per_layer.append([set(values_of(v)) for v in items])
                for a in range(self.ndim):
                    if not set.intersection(*(axes[a] for axes in per_layer)):
                        allowed = ", ".join(f"{label(self.doc, i)} allows {', '.join(map(str, sorted(p[a], key=str)))}"
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
                                 "convention": self.convention})
        fn = compile_rules(problem)[0]
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
                        message=f"{prefix}{label(doc, index)} cannot run {where}: "
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
                            message=f"{prefix}{label(doc, index)} needs its input at least as large as "
                                    f"'{layer['to']}', but " + " and ".join(parts) + ".")
        who = label(doc, index)
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
            steps = [f"{label(doc, i, settings_words(layer, 0))} gives {out[i][0]}"
                     for i, layer in enumerate(layers) if A.KINDS[layer["type"]].family not in ("join", "crop")]
            path = ": " + ", then ".join(steps) + f", not {wanted}"
        what = "the output" if t == len(doc["layers"]) else f"'{self._tensor(doc, t)}'"
        return Conflict(layer=None, axis=a, rule="target_unreachable",
                        message=f"{prefix}{what} can be {' or '.join(map(str, near))} but not {wanted}{path}.")

    # --- repairs -----------------------------------------------------------------------

