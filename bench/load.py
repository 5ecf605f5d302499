"""Load on one production server: forward, solve and health at once, on loopback.

    python bench/load.py                  # 50 clients for 60 s
    python bench/load.py --duration 180   # a soak: memory is sampled every 10 s

Three wrk processes run together against one `uvicorn api.main:app` (its solves in
the process pool): POST /v1/forward (the ResNet stem), POST /v1/solve (a depth-2 round
trip, counted and ranked, about 40 ms of solving) and GET /healthz.  Prints requests per
second, p50 and p99 latency, and errors (non-2xx answers, socket errors) for each, and
the memory of the server with its workers over time.  Needs Debian's wrk.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from forward import HOST, STEM_DOCUMENT, Server, free_port, machine, post_script, uvicorn_command  # noqa: E402

FREE = {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 3}}
SOLVE_DOCUMENT = {"input_size": [256, 256], "target_size": "input", "limit": 10, "objective": "smallest_kernels",
                  "layers": [{"type": "conv", **FREE}] * 2
                  + [{"type": "conv_transpose", **FREE, "output_padding": {"min": 0, "max": 1}}] * 2}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, connections: int, duration: int, script: str | None) -> dict[str, Any]:
    cmd = [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
           "--latency"] + (["-s", script] if script else []) + [url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", out, re.M))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
            "p50": _ms(lat["50"]), "p99": _ms(lat["99"]),
            "errors": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)}


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (the pool's workers), in MiB."""
    total = 0
    pids = [pid] + [int(p) for p in subprocess.run(["pgrep", "-P", str(pid)], capture_output=True,
                                                     text=True).stdout.split()]
    for p in pids:
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except FileNotFoundError:
            continue
        total += int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--forward-clients", type=int, default=30)
    parser.add_argument("--solve-clients", type=int, default=8, help="keep at most workers + queue")
    parser.add_argument("--health-clients", type=int, default=12)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    port = free_port()
    base = f"http://{HOST}:{port}"
    print(machine())
    with tempfile.TemporaryDirectory() as tmp, Server(uvicorn_command(port, access_log=True)) as server:
        server.wait_ready(f"{base}/healthz")
        forward = post_script(json.dumps(STEM_DOCUMENT), tmp, "forward")
        solve = post_script(json.dumps(SOLVE_DOCUMENT), tmp, "solve")
        subprocess.run([shutil.which("wrk") or "wrk", "-t1", "-c2", "-d3s", "-s", solve, f"{base}/v1/solve"],
                       capture_output=True, check=True)  # warm the pool's workers
        assert server.proc is not None
        memory = [(0.0, rss_mib(server.proc.pid))]
        results: dict[str, dict[str, Any]] = {}
        jobs = [("POST /v1/forward", f"{base}/v1/forward", args.forward_clients, forward),
                ("POST /v1/solve", f"{base}/v1/solve", args.solve_clients, solve),
                ("GET /healthz", f"{base}/healthz", args.health_clients, None)]
        threads = [threading.Thread(target=lambda j=j: results.__setitem__(j[0], wrk(j[1], j[2], args.duration, j[3])))
                   for j in jobs]
        start = time.monotonic()
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(10)
            memory.append((time.monotonic() - start, rss_mib(server.proc.pid)))
        for t in threads:
            t.join()
    clients = args.forward_clients + args.solve_clients + args.health_clients
    print(f"\n{clients} clients for {args.duration} s, one server, all on {HOST}\n")
    print(f"{'endpoint':<18} {'clients':>7} {'req/s':>8} {'requests':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for (name, _, conns, _), r in zip(jobs, (results[j[0]] for j in jobs), strict=True):
        print(f"{name:<18} {conns:>7} {r['rps']:>8.1f} {r['requests']:>9} {r['p50']:>8.2f} {r['p99']:>8.2f} "
              f"{r['errors']:>7}")
    print("\nserver + workers resident memory (MiB) over time: "
          + ", ".join(f"{t:.0f}s {m:.0f}" for t, m in memory))


if __name__ == "__main__":
    main()
