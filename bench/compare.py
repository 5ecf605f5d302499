"""Old and new side by side: the same solves and forwards timed on an older commit's code
and on this tree's, alternately, in one run; prints both medians and their ratio.

    python bench/compare.py 02600a7            # the commit to compare with
    python bench/compare.py 02600a7 --repeat 9

Only the public API is timed (`solver.solve`, `solver.forward`), which both commits
share.  Each side runs in its own worker process with only its own `solver` importable
(a `git worktree` of the old commit in a temporary directory; the workers use this
interpreter's installed packages, not the editable install); the driver sends every
problem to both in turn, old first then new first on alternate repeats, so that drift
on the machine hits both.  The goal is "unchanged": a ratio within noise of 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from forward import HTTP_DOCUMENT, STEM_DOCUMENT, stack  # noqa: E402
from solve import SINGLE, convention_round_trip, round_trip  # noqa: E402

#: Each worker: read one JSON request per line, answer the seconds one call took.
WORKER = """
import json, sys, time
import solver
print("ready", flush=True)
for line in sys.stdin:
    what, doc = json.loads(line)
    call = solver.solve if what == "solve" else solver.forward
    t = time.perf_counter()
    n = 0
    while True:  # forwards are microseconds: time a batch of at least 50 ms
        call(doc)
        n += 1
        if what == "solve" or time.perf_counter() - t > 0.05:
            break
    print(json.dumps((time.perf_counter() - t) / n), flush=True)
"""

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("solve", "conv 224 -> 112 (k, s, p, d), all solutions", SINGLE),
    *[("solve", f"round trip depth {d}, exact count", round_trip(d, limit=0)) for d in (2, 4, 8)],
    *[("solve", f"round trip depth {d}, best 10 smallest kernels",
       round_trip(d, limit=10, objective="smallest_kernels")) for d in (2, 4, 8)],
    *[("solve", f"{c} round trip depth 4, best 10 least padding",
       convention_round_trip(c, 4, limit=10, objective="least_padding")) for c in ("tensorflow", "onnx")],
    ("forward", "ResNet stem (2 layers)", STEM_DOCUMENT),
    ("forward", "10-layer stack", HTTP_DOCUMENT),
    ("forward", "256-layer stack", stack(256)),
]


class Side:
    """One worker process with one tree's `solver` on its path."""

    def __init__(self, tree: Path, venv: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(tree)}
        self.proc = subprocess.Popen([str(venv / "bin" / "python"), "-c", WORKER], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=env, cwd=tree)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def time(self, what: str, doc: dict[str, Any]) -> float:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps([what, doc]) + "\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def bare_venv(where: Path) -> Path:
    """A venv that sees this interpreter's site-packages but not its editable install."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    site = subprocess.run([str(where / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    Path(site, "packages.pth").write_text(sysconfig.get_path("purelib") + "\n")
    return where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", help="the commit to compare with")
    ap.add_argument("--repeat", type=int, default=7, help="runs per side and case; the median is shown")
    args = ap.parse_args()
    console = Console(width=150)
    with tempfile.TemporaryDirectory() as tmp:
        old_tree = Path(tmp, "old")
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(old_tree), args.old],
                       check=True)
        try:
            venv = bare_venv(Path(tmp, "venv"))
            old, new = Side(old_tree, venv), Side(ROOT, venv)
            try:
                times: dict[str, tuple[list[float], list[float]]] = {}
                for what, name, doc in CASES:
                    old.time(what, doc), new.time(what, doc)  # warm up both
                    olds, news = times.setdefault(name, ([], []))
                    for r in range(args.repeat):
                        first, second = (old, new) if r % 2 == 0 else (new, old)
                        a, b = first.time(what, doc), second.time(what, doc)
                        olds.append(a if first is old else b)
                        news.append(b if first is old else a)
            finally:
                old.stop()
                new.stop()
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old_tree)], check=False)
            shutil.rmtree(old_tree, ignore_errors=True)
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    console.print(f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python "
                  f"{platform.python_version()}; medians of {args.repeat} alternate runs")
    table = Table(title=f"old ({args.old}) and new ({head}, working tree) side by side")
    for col in ("case", "old", "new", "new / old", "goal"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for name, (olds, news) in times.items():
        o, n = statistics.median(olds), statistics.median(news)
        unit, scale = ("ms", 1e3) if o > 1e-3 else ("us", 1e6)
        table.add_row(name, f"{o * scale:,.1f} {unit}", f"{n * scale:,.1f} {unit}", f"{n / o:.2f}",
                      "unchanged (about 1)")
    console.print(table)


if __name__ == "__main__":
    main()
