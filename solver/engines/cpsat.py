"""The CP-SAT model of a Problem: the only module that talks to ortools.

Each layer's rule on each axis becomes a table constraint whose rows are produced by
the forward arithmetic itself (through CompiledRule), so the model accepts exactly what
the convention's framework accepts.  Variables are encoded by their index in the domain, which also
covers "same"/"valid" paddings and ceil_mode booleans.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass, field
from typing import Any

from ortools.sat.python import cp_model

from .compiled import NO_SIZE, CompiledRule
from .deadline import Deadline
from .exact import TooLarge
from .intervals import Intervals
from .problem import Problem

#: Largest input-size set turned into table rows, per tensor and axis.
MAX_TABLE_SIZES = 5000


def _domain(ivs: Intervals) -> cp_model.Domain:
    return cp_model.Domain.from_intervals([[lo, hi] for lo, hi in ivs])


@dataclass
class Model:
    model: cp_model.CpModel
    #: problem variable id -> CP-SAT index variable
    vars: dict[int, cp_model.IntVar]
    #: (tensor, case, axis) -> CP-SAT size variable
    sizes: dict[tuple[int, int, int], cp_model.IntVar] = field(default_factory=dict)


def build(problem: Problem, fns: list[CompiledRule | None], sets: list[list[list[Intervals]]],
          deadline: Deadline) -> Model:
    """The CP-SAT model: index variables, size variables, one table per layer, case and axis."""
    m = cp_model.CpModel()
    x = {v: m.new_int_var(0, len(var.values) - 1, f"v{v}") for v, var in enumerate(problem.vars)}
    model = Model(m, x)
    for t, per_case in enumerate(sets):
        for c, axes in enumerate(per_case):
            for a, ivs in enumerate(axes):
                model.sizes[t, c, a] = m.new_int_var_from_domain(_domain(ivs), f"t{t}c{c}a{a}")
    for node in problem.nodes:
        fn, t_out = fns[node.index], node.index + 1
        for c in range(len(problem.cases)):
            for a in range(problem.ndim):
                out = model.sizes[t_out, c, a]
                if fn is None:  # a concat: all equal; a crop: the reference's size, from a larger input
                    src, *refs = node.inputs
                    if node.type == "add":  # each input the output's size or 1; the output the largest
                        ins = [model.sizes[s, c, a] for s in node.inputs]
                        for x in ins:
                            same = m.new_bool_var("")
                            m.add(x == out).only_enforce_if(same)
                            m.add(x == 1).only_enforce_if(~same)
                        m.add_max_equality(out, ins)
                        continue
                    for s in refs if node.type in ("crop", "match") else node.inputs:
                        m.add(model.sizes[s, c, a] == out)
                    if node.type == "crop":
                        m.add(model.sizes[src, c, a] >= out)
                    continue
                src = node.inputs[0]
                ids = tuple(dict.fromkeys(fn.vars_of(a)))
                rows = _rows(problem, fn, a, ids, sets[src][c][a], sets[t_out][c][a], deadline)
                m.add_allowed_assignments([model.sizes[src, c, a], *(x[v] for v in ids), out], rows)
        for rule in problem.joint.get(node.index, ()):  # on all axes of the input at once
            for c in range(len(problem.cases)):
                sizes = [model.sizes[node.inputs[0], c, a] for a in range(problem.ndim)]
                if rule.product is not None:
                    product = m.new_int_var(rule.product, rule.product, "")
                    m.add_multiplication_equality(product, sizes)
                else:  # more than one pixel: some axis above 1
                    above = [m.new_bool_var("") for _ in sizes]
                    for size, flag in zip(sizes, above, strict=True):
                        m.add(size >= 2).only_enforce_if(flag)
                    m.add_bool_or(above)
        if fn is not None and fn.spanning is not None:  # the rule that spans axes: one table
            ids, allowed = fn.spanning_settings({v: var.values for v, var in enumerate(problem.vars)})
            index = [{value: i for i, value in enumerate(problem.vars[v].values)} for v in ids]
            m.add_allowed_assignments([x[v] for v in ids], [
                [at[value] for at, value in zip(index, combo, strict=True)] for combo in allowed])
    return model


def _rows(problem: Problem, fn: CompiledRule, a: int, ids: tuple[int, ...],
          ins: Intervals, outs: Intervals, deadline: Deadline) -> list[list[int]]:
    """Table rows (input, value indices..., output) for every accepted setting."""
    if sum(hi - lo + 1 for lo, hi in ins) > MAX_TABLE_SIZES:
        raise TooLarge(f"more than {MAX_TABLE_SIZES} possible input sizes for a table")
    cls, order = fn.cls_of[a], fn.vars_of(a)
    # Each setting once: its value indices (the table's columns) and its values in the
    # order the rule reads them.
    settings = []
    for index in itertools.product(*(range(len(problem.vars[v].values)) for v in ids)):
        deadline.tick()
        value = dict(zip(ids, index, strict=True))
        settings.append((index, tuple(problem.vars[v].values[value[v]] for v in order)))
    rows = []
    for lo, hi in ins:
        for i in range(lo, hi + 1):
            for index, combo in settings:
                deadline.tick()
                o = fn.eval(cls, i, combo)
                if o != NO_SIZE and any(olo <= o <= ohi for olo, ohi in outs):
                    rows.append([i, *index, o])
    return rows


class _Collector(cp_model.CpSolverSolutionCallback):
    """Stores each solution's variable indices; stops at the limit.  Never prints."""

    def __init__(self, variables: dict[int, cp_model.IntVar], limit: int) -> None:
        super().__init__()
        self.variables = variables
        self.limit = limit
        self.found: list[dict[int, int]] = []

    def on_solution_callback(self) -> None:
        self.found.append({v: self.value(x) for v, x in self.variables.items()})
        if len(self.found) >= self.limit:
            self.stop_search()


@dataclass
class Enumeration:
    solutions: list[dict[int, Any]]  # problem variable id -> value
    complete: bool  # every solution is listed
    timed_out: bool


def enumerate_solutions(problem: Problem, fns: list[CompiledRule | None], sets: list[list[list[Intervals]]],
                        *, limit: int, deadline: Deadline, workers: int = 1) -> Enumeration:
    """Every solution, up to `limit`, in CP-SAT's order, through a solution callback."""
    if any(not ivs for per_case in sets for axes in per_case for ivs in axes):
        return Enumeration([], complete=True, timed_out=False)  # a size with no possible value
    model = build(problem, fns, sets, deadline)
    solver = cp_model.CpSolver()
    solver.parameters.enumerate_all_solutions = True
    solver.parameters.num_workers = workers
    solver.parameters.max_time_in_seconds = max(0.001, deadline.remaining())
    collector = _Collector(model.vars, max(limit, 1))
    status = _solve_until(solver, model.model, collector, deadline)
    assert status != cp_model.MODEL_INVALID, model.model.validate()
    found = collector.found[:limit]
    values = [{v: problem.vars[v].values[i] for v, i in sol.items()} for sol in found]
    stopped = len(collector.found) >= max(limit, 1)
    complete = status in (cp_model.OPTIMAL, cp_model.INFEASIBLE) and not stopped
    timed_out = status == cp_model.UNKNOWN or (status == cp_model.FEASIBLE and not stopped)
    return Enumeration(values, complete, timed_out)


def _solve_until(solver: cp_model.CpSolver, model: cp_model.CpModel, callback: _Collector,
                 deadline: Deadline) -> Any:
    """solver.solve, stopped early when the caller cancels (the time limit is CP-SAT's
    own parameter); a watcher thread asks the flag, since CP-SAT may find nothing for long."""
    if deadline.cancelled is None:
        return solver.solve(model, callback)
    done = threading.Event()

    def watch() -> None:
        while not done.wait(0.05):
            if deadline.was_cancelled():
                solver.stop_search()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return solver.solve(model, callback)
    finally:
        done.set()
        watcher.join()
