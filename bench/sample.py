"""Benchmark sampling against the goal of issue #16; prints one table, each figure with
its goal beside it and whether it is met.

    python bench/sample.py            # medians of 5
    python bench/sample.py --repeat 3

Rows: 10,000 designs drawn uniformly from the depth-8 encoder-decoder round trip of
bench/solve.py (256x256 -> 256x256, about 2.2 * 10^26 valid settings), against one
exact count of the same space (solve with limit 0), timed in the same run:
- "draw": the engine's part, the state graph built and counted and 10,000 uniform
  ranks unranked into every variable's value (the goal's figure);
- "answer": solver.sample whole, the designs written out as forward documents' layers
  with their sizes (160,000 layer dicts), for reference.
Each is the median of runs that start with the transition tables and bounds a process
keeps emptied ("first in a process"), and of runs after a first one, which find them
kept ("tables kept", as when a design tool asks about the same layers again).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

import solver
import solver.engines.bounds
import solver.engines.exact
from solver.engines.bounds import bounds
from solver.engines.compiled import compile_rules
from solver.engines.deadline import Deadline, collector_paused
from solver.engines.exact import StateGraph
from solver.engines.problem import build_problem

sys.path.insert(0, str(Path(__file__).resolve().parent))
from solve import round_trip  # noqa: E402 - the same documents as the solve benchmark


def median(fn: Any, repeat: int) -> tuple[float, Any]:
    result = fn()  # the first run fills the tables both then find
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def first(fn: Any, repeat: int) -> float:
    """The median of runs that each start with the kept tables and bounds emptied, as
    the first solve of a document in a process does."""
    times = []
    for _ in range(repeat):
        solver.engines.exact.TABLES.data.clear()
        solver.engines.exact.TABLES.weight = 0
        solver.engines.bounds.memo.clear()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def draw(doc: dict[str, Any], n: int) -> list[Any]:
    """The engine's part of a sample: the graph built and counted, n uniform ranks unranked."""
    with collector_paused():  # as in solve and sample
        problem = build_problem(doc)
        fns = compile_rules(problem)
        deadline = Deadline(600)
        graph = StateGraph(problem, fns, bounds(problem, fns, deadline), deadline)
        rng = random.Random(1)
        return [graph.unrank(rng.randrange(graph.count)) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per row; the median is shown")
    args = parser.parse_args()
    console = Console(width=160)
    console.print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                  f"convsolve {solver.__version__}, load {os.getloadavg()[0]:.2f}")
    doc = round_trip(8)
    count_s, counted = median(lambda: solver.solve({**doc, "limit": 0}), args.repeat)
    engine_s, values = median(lambda: draw(doc, 10_000), args.repeat)
    first_count_s = first(lambda: solver.solve({**doc, "limit": 0}), args.repeat)
    first_draw_s = first(lambda: draw(doc, 10_000), args.repeat)
    answer_s, drawn = median(lambda: solver.sample(doc, 10_000, seed=1), args.repeat)
    assert drawn.uniform and len(drawn.solutions) == len(values) == 10_000 and drawn.count == counted.count
    table = Table(title="convsolve sample: medians, with the goal of issue #16")
    for col in ("problem", "what", "figure", "goal", ""):
        table.add_column(col, justify="left" if col in ("problem", "what", "goal") else "right")
    for when, count_t, draw_t in [("first in a process", first_count_s, first_draw_s),
                                  ("tables kept", count_s, engine_s)]:
        table.add_row("round trip depth 8", f"exact count ({counted.count:.2e} settings), {when}",
                      f"{count_t * 1000:,.0f} ms", "", "")
        table.add_row("", f"draw 10,000 uniform designs, {when}", f"{draw_t * 1000:,.0f} ms", "", "")
        ok = draw_t <= 2 * count_t
        table.add_row("", "draw / count", f"{draw_t / count_t:.2f}x", "<= 2x",
                      "[green]met[/green]" if ok else "[red]not met[/red]")
    table.add_row("", "the whole answer (solver.sample)", f"{answer_s * 1000:,.0f} ms", "", "")
    table.add_row("", "answer / count", f"{answer_s / count_s:.2f}x", "(for reference)", "")
    console.print(table)


if __name__ == "__main__":
    main()
