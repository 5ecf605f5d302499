"""Benchmark the inverse solver against the goals of issue #18; prints one table, each
figure with its goal beside it and whether it is met.

    python bench/solve.py              # the whole table (a few minutes)
    python bench/solve.py --quick      # 3 repeats, fewer anytime cases

Exact rows: the first solve of each document in the process ("first": the transition
tables and bounds that solves keep are empty) and the median of the next ones (kept, as
when a design tool asks about the same layers again).

Rows:
- exact: encoder-decoder round trips 256x256 -> 256x256 (depth d = d convs then d
  transposed convs, kernel 1-7, stride 1-2, padding 0-3, output_padding 0-1, isotropic),
  the exact count and the best 10 (one solve), against a naive count timed in the same
  run: a plain Python loop over every setting of every reachable intermediate size, with
  PyTorch's formulas pasted in (one axis: the settings are isotropic and the input
  square, so one axis counts the same).  Also in the tensorflow and onnx conventions,
  every layer's padding mode searched.
- anytime: stacks with every conv, pool and up-conv freed (kernel 1-11, stride 1-4,
  padding 0-5, dilation 1-3, output_padding 0-3) and time_limit_s = 1: the original U-Net
  572 -> 388 and chains of 32 layers, in 1d, 2d and 3d.  "first" is when the first
  ranked solutions were in hand (the progress callback, or the answer); every solution is
  checked by the forward engine.
- memory: the peak resident memory of a fresh process solving the biggest documents.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table

import solver
import solver.engines.bounds
import solver.engines.exact

ROOT = Path(__file__).resolve().parents[1]

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


def naive_count(depth: int, size: int = 256) -> int:
    """The round trip counted the naive way: every setting of every reachable size."""
    counts = {size: 1}
    for layer in range(2 * depth):
        nxt: dict[int, int] = defaultdict(int)
        for i, c in counts.items():
            for k in range(1, 8):
                for s in (1, 2):
                    for p in range(4):
                        if layer < depth:  # Conv: floor((i + 2p - k)/s) + 1, the kernel must fit
                            if i + 2 * p >= k:
                                nxt[(i + 2 * p - k) // s + 1] += c
                        else:  # ConvTranspose: (i-1)s - 2p + k + op, op < stride (dilation 1)
                            for op in range(s):
                                out = (i - 1) * s - 2 * p + k + op
                                if out >= 1:
                                    nxt[out] += c
        counts = nxt
    return counts.get(size, 0)


# --- the freed stacks -----------------------------------------------------------------

FREE = {"kernel_size": {"min": 1, "max": 11}, "stride": {"min": 1, "max": 4},
        "padding": {"min": 0, "max": 5}, "dilation": {"min": 1, "max": 3}}


def freed(kind: str) -> dict[str, Any]:
    layer = {"type": kind, **copy.deepcopy(FREE)}
    if kind == "conv_transpose":
        layer["output_padding"] = {"min": 0, "max": 3}
    return layer


def unet(ndim: int) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "examples" / "unet_freed.yaml").read_text())
    return {**doc, "input_size": doc["input_size"][:1] * ndim, "target_size": doc["target_size"][:1] * ndim}


def chain(name: str, ndim: int) -> dict[str, Any]:
    if name == "encoder-decoder 256 -> 256":
        size, target, layers = 256, 256, [freed("conv")] * 16 + [freed("conv_transpose")] * 16
    elif name == "classifier 224 -> 7":
        size, target, layers = 224, 7, [freed("max_pool" if i % 4 == 0 else "conv") for i in range(32)]
    else:
        size, target, layers = 4, 256, [freed("conv_transpose" if i % 4 == 0 else "conv") for i in range(32)]
    return {"input_size": [size] * ndim, "target_size": [target] * ndim, "layers": layers,
            "objective": ["least_padding", "smallest_kernels"], "limit": 5}


def anytime(doc: dict[str, Any]) -> tuple[float, solver.SolveResponse, bool]:
    """(seconds to the first ranked solutions, the answer, all verified by forward)."""
    first: list[float] = []
    t = time.perf_counter()
    answer = solver.solve({**doc, "time_limit_s": 1},
                          on_progress=lambda r: first.append(time.perf_counter() - t) if r.solutions else None)
    end = time.perf_counter() - t
    at = first[0] if first else end if answer.solutions else float("inf")
    ok = all(solver.forward({"input_size": doc["input_size"], "layers": s.layers}).output_size == doc["target_size"]
             for s in answer.solutions)
    return at, answer, ok


# --- memory ---------------------------------------------------------------------------

PEAK = """
import json, resource, sys
import solver
doc = json.loads(sys.stdin.read())
what = doc.pop("_what")
getattr(solver, what)(doc)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_mib(what: str, doc: dict[str, Any]) -> float:
    """Peak resident memory (MiB) of a fresh process doing one call."""
    out = subprocess.run([sys.executable, "-c", PEAK], input=json.dumps({**doc, "_what": what}),
                         capture_output=True, text=True, check=True, cwd=ROOT)
    return int(out.stdout.strip().splitlines()[-1]) / 1024


def median_time(doc: dict[str, Any], repeat: int) -> tuple[float, solver.SolveResponse]:
    return cold_and_warm(doc, repeat)[1:]


def cold_and_warm(doc: dict[str, Any], repeat: int) -> tuple[float, float, solver.SolveResponse]:
    """The first solve of doc in this process (its transition tables and bounds not yet
    kept), then the median of `repeat` more (kept from the first, as when a design tool
    asks again)."""
    solver.engines.exact.TABLES.data.clear()
    solver.engines.exact.TABLES.weight = 0
    solver.engines.bounds.memo.clear()
    t = time.perf_counter()
    result = solver.solve(doc)
    cold = time.perf_counter() - t
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = solver.solve(doc)
        times.append(time.perf_counter() - t)
    return cold, statistics.median(times), result


def verdict(ok: bool) -> str:
    return "[green]met[/green]" if ok else "[red]not met[/red]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per timed row; the median is shown")
    parser.add_argument("--quick", action="store_true", help="3 repeats, 2d anytime cases only, no memory rows")
    args = parser.parse_args()
    if args.quick:
        args.repeat = 3
    console = Console(width=160)
    console.print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                  f"convsolve {solver.__version__}, load {os.getloadavg()[0]:.2f}")
    table = Table(title="convsolve solve: medians, each with the goal of issue #18")
    for col in ("problem", "what", "figure", "goal", ""):
        table.add_column(col, justify="left" if col in ("problem", "what", "goal") else "right")

    t, r = median_time(SINGLE, args.repeat)
    table.add_row("conv 224 -> 112 (k, s, p, d)", "all solutions", f"{t * 1000:.1f} ms", "", "")

    # Exact: count + best 10 against the naive count, in the same run.
    exact: dict[int, float] = {}
    for depth in (4, 8, 16):
        cold, t, r = cold_and_warm(round_trip(depth, limit=10, objective="smallest_kernels"), args.repeat)
        exact[depth] = t
        if depth == 16:  # the naive loop cannot: 16 transposed convs reach millions of sizes
            table.add_row(f"round trip depth {depth} ({2 * depth} layers)",
                          f"count ({r.count:.2e}) + best 10 (first: {cold * 1000:,.0f} ms)",
                          f"{t * 1000:,.0f} ms", "", "")
            continue
        naive = []
        for _ in range(max(1, args.repeat // 2)):
            t0 = time.perf_counter()
            count = naive_count(depth)
            naive.append(time.perf_counter() - t0)
        assert r.count == count, (r.count, count)  # the same count both ways
        ratio = t / statistics.median(naive)
        goal = {4: 0.2, 8: 0.05}[depth]
        table.add_row(f"round trip depth {depth} ({2 * depth} layers)",
                      f"count ({r.count:.2e}) + best 10: {t * 1000:,.0f} ms (first: {cold * 1000:,.0f} ms, "
                      f"{cold / statistics.median(naive):.2f}x); naive count "
                      f"{statistics.median(naive) * 1000:,.0f} ms", f"{ratio:.2f}x naive",
                      f"<= {goal}x naive", verdict(ratio <= goal))
    growth = exact[16] / exact[8]
    table.add_row("round trip depth 16 / depth 8", "count + best 10", f"{growth:.2f}x", "<= 2.2x", verdict(growth <= 2.2))
    for convention in PADDINGS:
        for depth in (4, 8):
            t, r = median_time(convention_round_trip(convention, depth, limit=10, objective="least_padding"),
                               args.repeat)
            table.add_row(f"{convention} round trip depth {depth}", "count + best 10 (least_padding)",
                          f"{t * 1000:,.0f} ms", f"({t / exact[depth]:.2f}x pytorch's best 10 by smallest_kernels)", "")

    # Anytime: ranked, verified solutions within 1 s.
    cases = [(f"U-Net 572 -> 388, {nd}d", unet(nd)) for nd in ((2,) if args.quick else (1, 2, 3))]
    for name in ("encoder-decoder 256 -> 256", "classifier 224 -> 7", "decoder 4 -> 256"):
        cases += [(f"32-layer {name}, {nd}d", chain(name, nd)) for nd in ((2,) if args.quick else (1, 2, 3))]
    for name, doc in cases:
        at, answer, ok = anytime(doc)
        met = at <= 1.0 and len(answer.solutions) == doc["limit"] and ok
        table.add_row(name, f"{answer.status}, {answer.engine}, optimal {str(answer.optimal).lower()}, "
                      f"{len(answer.solutions)} solutions{' verified' if ok else ' NOT VERIFIED'}, "
                      f"score {answer.solutions[0].score if answer.solutions else '-'}",
                      f"first at {at:.2f} s", "5 ranked verified within 1 s", verdict(met))

    if not args.quick:
        big = {**unet(3), "time_limit_s": 10}
        for name, what, doc in [("U-Net 3d freed, 10 s", "solve", big),
                                ("round trip depth 16, count + best 10", "solve",
                                 round_trip(16, limit=10, objective="smallest_kernels"))]:
            mib = peak_mib(what, doc)
            table.add_row(name, "peak resident memory of the process", f"{mib:,.0f} MiB", "< 1024 MiB",
                          verdict(mib < 1024))
    console.print(table)
    console.print(f"this process's peak: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


if __name__ == "__main__":
    main()
