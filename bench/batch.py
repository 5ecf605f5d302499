"""What a batch gains from processes and from Ray on this machine (issue #16); prints
one table.

    python bench/batch.py              # 40 documents
    python bench/batch.py --documents 80

The documents: encoder-decoder round trips of depth 4 (bench/solve.py's, count and best
10) on input sizes 200 to 239, each solved exactly, none alike (each builds its own
tables).  Rows: solver.batch with workers=1 (in this process), local processes (one per
core), and Ray on a single-node instance started here, with and without its start-up.
There is no goal: the figures say what Ray adds or costs here.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

import solver

sys.path.insert(0, str(Path(__file__).resolve().parent))
from solve import round_trip  # noqa: E402 - the same documents as the solve benchmark


def timed(fn: object) -> float:
    t = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=40)
    args = parser.parse_args()
    import ray

    console = Console(width=160)
    console.print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
                  f"convsolve {solver.__version__}, ray {ray.__version__}, load {os.getloadavg()[0]:.2f}")
    documents = [{**round_trip(4, limit=10, objective="smallest_kernels"), "input_size": [size, size],
                  "target_size": [size, size]} for size in range(200, 200 + args.documents)]

    def run(**options: object) -> None:
        items = list(solver.batch(documents, **options))
        assert all(item.answer is not None for item in items)

    one = timed(lambda: run(workers=1))
    local = timed(lambda: run())
    start = timed(lambda: ray.init(include_dashboard=False, log_to_driver=False))
    on_ray = timed(lambda: run(ray_address="local"))
    ray.shutdown()
    table = Table(title=f"convsolve batch: {len(documents)} solve documents, one run each")
    for col in ("how", "wall time", "documents / s", "vs one process"):
        table.add_column(col, justify="left" if col == "how" else "right")
    for label, seconds in [("one process (workers=1)", one), (f"local processes ({os.cpu_count()})", local),
                           ("Ray, single node, started", on_ray), ("Ray, with its start-up", start + on_ray)]:
        table.add_row(label, f"{seconds:.2f} s", f"{len(documents) / seconds:.1f}", f"{one / seconds:.2f}x")
    console.print(table)


if __name__ == "__main__":
    main()
