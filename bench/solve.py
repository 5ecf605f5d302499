"""Benchmark the inverse solver; prints a table of medians.

    python bench/solve.py                 # the full table (about 3 minutes with the baseline)
    python bench/solve.py --quick         # fewer repeats, 10 s baseline

Rows: one conv 224 -> 112 over k 1-11, s 1-4, p 0-10, d 1-6 (every solution); encoder-
decoder round trips 256 -> 256 (depth d = d convs then d transposed convs, k 1-7,
s 1-2, p 0-3, output_padding 0-1): the time to the exact count and to the best 10 by
an objective; and the baseline, plain enumeration through one CP-SAT model with a
solution callback, which lists solutions one by one.  The tensorflow and onnx rows
search the same round trips in those conventions, every layer's padding mode included
(tensorflow: same or valid; onnx: SAME_UPPER, SAME_LOWER, VALID or 0-3 pixels); their
least_padding depends on the input size there, so it is ranked with sizes in the state.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from typing import Any

from rich.console import Console
from rich.table import Table

import solver
from solver.engines.bounds import bounds
from solver.engines.compiled import compile_rules
from solver.engines.cpsat import enumerate_solutions
from solver.engines.deadline import Deadline
from solver.engines.problem import build_problem

SINGLE = {
    "input_size": [224, 224], "target_size": [112, 112], "limit": 10_000,
    "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 11}, "stride": {"min": 1, "max": 4},
                "padding": {"min": 0, "max": 10}, "dilation": {"min": 1, "max": 6}}],
}


def round_trip(depth: int, **extra: Any) -> dict[str, Any]:
    down = {"type": "conv", "kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2},
            "padding": {"min": 0, "max": 3}}
    up = {"type": "conv_transpose", "kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2},
          "padding": {"min": 0, "max": 3}, "output_padding": {"min": 0, "max": 1}}
    return {"input_size": [256, 256], "target_size": [256, 256], "time_limit_s": 600,
            "layers": [down] * depth + [up] * depth, **extra}


#: The same round trip searched in another framework's sizes, its padding mode searched too.
PADDINGS = {"tensorflow": {"choices": ["same", "valid"]},
            "onnx": {"choices": ["same_upper", "same_lower", "valid", 0, 1, 2, 3]}}


def convention_round_trip(convention: str, depth: int, **extra: Any) -> dict[str, Any]:
    doc = round_trip(depth, convention=convention, **extra)
    doc["layers"] = [{**layer, "padding": PADDINGS[convention]} for layer in doc["layers"]]
    return doc


def median_time(doc: dict[str, Any], repeat: int) -> tuple[float, solver.SolveResponse]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = solver.solve(doc)
        times.append(time.perf_counter() - t)
    assert result is not None
    return statistics.median(times), result


def baseline(depth: int, seconds: float) -> tuple[int, float, bool]:
    """Plain CP-SAT enumeration of every solution: (listed, elapsed, finished)."""
    problem = build_problem(round_trip(depth))
    fns = compile_rules(problem)
    sets = bounds(problem, fns, Deadline(60))
    t = time.perf_counter()
    run = enumerate_solutions(problem, fns, sets, limit=10**9, deadline=Deadline(seconds))
    return len(run.solutions), time.perf_counter() - t, run.complete


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per row; the median is shown")
    parser.add_argument("--depths", default="2,4,8,16", help="encoder-decoder depths")
    parser.add_argument("--baseline-seconds", type=float, default=60.0, help="time given to the baseline")
    parser.add_argument("--quick", action="store_true", help="3 repeats, a 10 s baseline")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.baseline_seconds = 3, 10.0
    console = Console(width=150)
    console.print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                  f"Python {platform.python_version()}, convsolve {solver.__version__}")

    table = Table(title="convsolve solve: medians")
    for col in ("problem", "what", "median", "solutions", "status"):
        table.add_column(col, justify="left" if col in ("problem", "what") else "right")
    t, r = median_time(SINGLE, args.repeat)
    table.add_row("conv 224 -> 112 (k, s, p, d)", "all solutions", f"{t * 1000:.1f} ms", f"{r.count:,}", r.status)
    for depth in map(int, args.depths.split(",")):
        name = f"round trip depth {depth} ({2 * depth} layers)"
        t, r = median_time(round_trip(depth, limit=0), args.repeat)
        table.add_row(name, "exact count", f"{t * 1000:.0f} ms", f"{r.count:.3e}", r.status)
        t, r = median_time(round_trip(depth, limit=10, objective="smallest_kernels"), args.repeat)
        table.add_row(name, "best 10 (smallest_kernels)", f"{t * 1000:.0f} ms", f"{r.count:.3e}", r.status)
    for convention in PADDINGS:
        for depth in (4, 8):
            name = f"{convention} round trip depth {depth}"
            t, r = median_time(convention_round_trip(convention, depth, limit=0), args.repeat)
            table.add_row(name, "exact count", f"{t * 1000:.0f} ms", f"{r.count:.3e}", r.status)
            t, r = median_time(convention_round_trip(convention, depth, limit=10, objective="least_padding"),
                               args.repeat)
            table.add_row(name, "best 10 (least_padding)", f"{t * 1000:.0f} ms", f"{r.count:.3e}", r.status)
    for depth in (1, 2, 3):
        listed, elapsed, finished = baseline(depth, args.baseline_seconds)
        table.add_row(f"round trip depth {depth}", "baseline: CP-SAT callback enumeration",
                      f"{elapsed:.1f} s", f"{listed:,} listed",
                      "finished" if finished else f"not finished ({listed / elapsed:,.0f}/s)")
    console.print(table)


if __name__ == "__main__":
    main()
