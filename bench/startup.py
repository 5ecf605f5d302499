"""The first solve after the service says it is up, against the ones after it.

    python bench/startup.py              # 5 fresh servers
    python bench/startup.py --starts 9

Each round starts the production server (`uvicorn api.main:app`), waits until GET
/healthz answers 200, then at once POSTs the same solve (a depth-2 round trip, counted
and ranked) 11 times, one after the other, and records the first's latency and the
median of the other ten.  Prints the medians over rounds, their ratio, and the goal of
issue #18 beside it: the first solve at most 2x a later one.  Also the time from start
to /healthz.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from forward import HOST, Server, free_port, machine, uvicorn_command  # noqa: E402
from load import SOLVE_DOCUMENT  # noqa: E402

LATER = 10


def post(port: int, body: bytes) -> float:
    """Seconds for one POST /v1/solve, answered 200."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    t = time.perf_counter()
    conn.request("POST", "/v1/solve", body, {"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    elapsed = time.perf_counter() - t
    conn.close()
    assert response.status == 200, response.status
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--starts", type=int, default=5, help="fresh servers to start (default 5)")
    args = ap.parse_args()
    body = json.dumps(SOLVE_DOCUMENT).encode()
    up, first, later = [], [], []
    for _ in range(args.starts):
        port = free_port()
        t = time.perf_counter()
        with Server(uvicorn_command(port, access_log=False)) as server:
            server.wait_ready(f"http://{HOST}:{port}/healthz", timeout=60)
            up.append(time.perf_counter() - t)
            first.append(post(port, body))
            later.append(statistics.median(post(port, body) for _ in range(LATER)))
    console = Console(width=140)
    console.print(machine())
    table = Table(title=f"first solve after /healthz answers, {args.starts} fresh servers: medians")
    for col in ("figure", "value", "goal"):
        table.add_column(col, justify="left" if col == "figure" else "right")
    f, lt = statistics.median(first), statistics.median(later)
    table.add_row("start to /healthz 200", f"{statistics.median(up):.2f} s", "")
    table.add_row("first solve", f"{f * 1000:.0f} ms", "")
    table.add_row(f"a later solve (median of {LATER} per server)", f"{lt * 1000:.0f} ms", "")
    table.add_row("first / later", f"{f / lt:.2f}", "at most 2")
    console.print(table)


if __name__ == "__main__":
    main()
