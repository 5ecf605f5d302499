"""Repairs of an infeasible solve document: the smallest changes (widen a domain, untie,
retarget, resize the input) that work, each verified by a solve."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

from .. import rules as A
from ..contract import Repair
from ..engines.deadline import Timeout
from ..engines.exact import TooLarge
from ..engines.problem import SEARCHABLE
from ..errors import ConvsolveError
from .diagnosis import Diagnosis
from .domains import (
    INPUT_RADIUS,
    MAX_REPAIRS,
    default,
    distance,
    include,
    inferred,
    label,
    reach,
    show,
    show_size,
    values_of,
    wider,
)


class Explainer(Diagnosis):
    """The diagnosis, and the repairs it points to."""

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
        return [r for _, _, r in found[:MAX_REPAIRS]]

    def _after_dead(self) -> Iterator[tuple[float, Repair]]:
        """Repairs of two changes: a layer that refuses its whole domain (output_padding
        1 to 2 at stride 1) gets the field its rule is about widened first; then each
        one-change repair is looked for on that document."""
        for index, field in self.dead:
            first = self._widened(self._tied(index, field), field, one_per_axis=False)
            before = f"allow {field} {show(first['layers'][index][field])} in {label(self.doc, index)}"
            second = Explainer(first, self.deadline)
            second.failing = self.failing
            for cost, _, repair in _search((second._widen, second._retarget, second._resize)):
                yield cost + 1, Repair(message=f"{before}, and {repair.message}", document=repair.document)

    def _widen(self) -> Iterator[tuple[float, Repair]]:
        """Each searchable parameter (with its tied layers) widened alone."""
        for index, layer in enumerate(self.doc["layers"]):
            for field in SEARCHABLE.get(layer["type"], ()):
                if field not in layer and A.unset(field, layer["type"], self.convention) in ("kernel_size", "padding"):
                    continue  # a pool's stride is its kernel; padding_end, its padding
                group = self._tied(index, field)
                if min(group) != index:
                    continue  # a tie group is widened once, from its first layer
                wide = self._widened(group, field, one_per_axis=False)
                if self.count(wide) == 0:
                    if self.ndim == 1 or field == "ceil_mode":
                        continue
                    wide = self._widened(group, field, one_per_axis=True)  # a value per axis, then
                    if self.count(wide) == 0:
                        continue
                original = layer[field] if field in layer else default(layer, field, self.convention)
                sol = self.solution(wide, near=(group, field, values_of(original)))
                if sol is None:
                    continue
                value = sol[0][index][field]
                value = value if isinstance(value, bool | str) else value[0] if len(set(value)) == 1 else value
                fixed = copy.deepcopy(self.doc)
                for i in group:
                    fixed["layers"][i][field] = include(fixed["layers"][i].get(field, original), value)
                if self.count(fixed) == 0:
                    continue
                self.narrow.append((index, field))
                who = label(self.doc, index) + (f" and the {len(group) - 1} layers tied to it" if len(group) > 1 else "")
                now = "unset: Keras infers the output" if inferred(self.doc, layer, field) else show(original)
                yield distance(original, value), Repair(
                    message=f"allow {field} {show(value)} in {who}, now {now}", document=fixed)

    def _widened(self, group: list[int], field: str, one_per_axis: bool) -> dict[str, Any]:
        wide = copy.deepcopy(self.doc)
        for i in group:
            layer = wide["layers"][i]
            value = layer[field] if field in layer else default(layer, field, self.convention)
            if one_per_axis and not isinstance(value, list):
                value = [value] * self.ndim
            layer[field] = wider(value, field, reach(layer), self.convention)
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
                yield dist, Repair(message=f"aim at {show_size(size)} instead of {show_size(want)}", document=fixed)

    def _resize(self) -> Iterator[tuple[float, Repair]]:
        """The nearest input sizes that work: pad or crop the input to them."""
        if "input_size" not in self.doc:
            return
        size = self.doc["input_size"]
        axes = self.failing or list(range(self.ndim))
        for sign, verb in ((-1, "crop"), (1, "pad")):
            for d in range(1, INPUT_RADIUS + 1):
                trial = [s + sign * d if a in axes else s for a, s in enumerate(size)]
                if min(trial) < 1:
                    break
                fixed = {**copy.deepcopy(self.doc), "input_size": trial}
                if self.count(fixed):
                    yield d, Repair(message=f"{verb} the input to {show_size(trial)} ({d} pixel"
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

