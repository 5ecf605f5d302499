"""Load on one production server: forward, solve and health at once, with hostile
documents mixed in, on loopback.

    python bench/load.py                  # 40 wrk clients + 4 hostile clients for 60 s
    python bench/load.py --think-ms 0     # the same clients without a pause: the server saturated
    python bench/load.py --duration 180   # a soak: memory is sampled every 10 s
    python bench/load.py --forward-clients 0 --solve-clients 0 --health-clients 0 --hostile-clients 1
                                          # the hostile documents alone, one at a time

Three wrk processes run together against one `uvicorn api.main:app` (its solves in
the process pool): POST /v1/forward (the ResNet stem), POST /v1/solve (a depth-2 round
trip, counted and ranked, about 40 ms of solving) and GET /healthz.  The forward and
health clients pause 50 ms between requests, as users of a design tool do (about 600
requests/s offered, some 60% of what the event loop serves on 2 cores); the solve
clients do not pause, so both workers are always busy.  Meanwhile a few
hostile clients (Python threads, one request at a time each) cycle through documents
that try to make the server slow or fail (HOSTILE: huge domains with small time
limits, deep stacks, big input-size ranges, deep nesting, wrong types, non-finite
numbers, a body over the limit), timing every answer.

Prints requests per second, p50 and p99 latency and answers by status class for each
wrk endpoint, every hostile document's answers, the memory of the server with its
workers over time, and the three promises of issue #12 with their goals: no 5xx
answer, no answer later than its time limit + 0.5 s (a document without a time limit:
0 s, so within 0.5 s), GET /healthz p99 under 100 ms.  The defaults keep the pool's
clients (solve + hostile) within workers + queue (2 + 8 on 2 cores), so a 503 (busy)
would be a broken promise too.  Needs Debian's wrk.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from forward import HOST, STEM_DOCUMENT, Server, free_port, machine, uvicorn_command  # noqa: E402

FREE = {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 3}}
SOLVE_DOCUMENT = {"input_size": [256, 256], "target_size": "input", "limit": 10, "objective": "smallest_kernels",
                  "layers": [{"type": "conv", **FREE}] * 2
                  + [{"type": "conv_transpose", **FREE, "output_padding": {"min": 0, "max": 1}}] * 2}

SLACK_S = 0.5  # an answer may come this much after its time limit

# ------------------------------------------------------------------ hostile documents

_HUGE = {"kernel_size": {"min": 1, "max": 31}, "stride": {"min": 1, "max": 4}, "padding": {"min": 0, "max": 31},
         "dilation": {"min": 1, "max": 8}}
_CONV = {"type": "conv", "kernel_size": 3, "padding": 1}


def _json(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def _hostile() -> list[tuple[str, str, bytes, float]]:
    """(name, path, body, time limit in s: the document's time_limit_s, or 0 without one)."""
    return [
        ("solve: 32 layers of huge domains, 3d, 0.2 s", "/v1/solve", _json(
            {"input_size": [4096] * 3, "target_size": "input", "limit": 1000, "objective": "smallest_kernels",
             "time_limit_s": 0.2, "layers": [{"type": "conv", **_HUGE}] * 16
             + [{"type": "conv_transpose", **_HUGE, "output_padding": {"min": 0, "max": 3}}] * 16}), 0.2),
        ("solve: infeasible, big domains, explained, 0.3 s", "/v1/solve", _json(
            {"input_size": [1001, 1001], "target_size": "input", "time_limit_s": 0.3,
             "layers": [{"type": "conv", **_HUGE}] * 4 + [{"type": "upsample", "scale_factor": 2}] * 4}), 0.3),
        ("solve: 256 layers, 0.5 s", "/v1/solve", _json(
            {"input_size": [224, 224], "target_size": [224, 224], "limit": 10, "time_limit_s": 0.5,
             "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 3}, "padding": {"min": 0, "max": 1}}]
             * 256}), 0.5),
        ("input-sizes: 3 x 16384 sizes, 200 layers, 0.5 s", "/v1/input-sizes", _json(
            {"range": [{"min": 1, "max": 16384}] * 3, "layers": [_CONV] * 200, "time_limit_s": 0.5}), 0.5),
        ("plan/unet: 3d, depth 7, searched, 0.3 s", "/v1/plan/unet", _json(
            {"input_size": [4096] * 3, "depth": 7, "conv": "search", "kernel_size": {"min": 1, "max": 63},
             "padding": {"min": 0, "max": 31}, "down": "strided_conv", "up": "upsample", "skip": "crop",
             "output_size": None, "limit": 1000, "convs_per_level": 4, "objective": "least_padding",
             "time_limit_s": 0.3}), 0.3),
        ("plan/aspp: rates 1-1000, padding 0-990, 0.3 s", "/v1/plan/aspp", _json(
            {"bottleneck_size": [65536, 65521, 65519], "rates": {"min": 1, "max": 1000},
             "padding": {"min": 0, "max": 990}, "kernel_size": 15, "limit": 1000, "time_limit_s": 0.3}), 0.3),
        ("plan/encoder-decoder: 3d, depth 12, untied, 0.3 s", "/v1/plan/encoder-decoder", _json(
            {"image_size": [4096] * 3, "depth": 12, "tie": False, "kernel_size": {"min": 1, "max": 15},
             "padding": {"min": 0, "max": 7}, "stride": {"min": 1, "max": 4}, "limit": 1000,
             "time_limit_s": 0.3}), 0.3),
        ("forward: 256 layers", "/v1/forward", _json(
            {"input_size": [224, 224], "in_channels": 3, "layers": [{**_CONV, "out_channels": 64}] * 256}), 0),
        ("forward: a refused layer (suggestions searched)", "/v1/forward", _json(
            {"input_size": [7, 5, 3], "layers": [{"type": "conv", "kernel_size": [9, 11, 13], "stride": 3,
                                                  "dilation": [5, 7, 9], "padding": 1}]}), 0),
        ("export/torch: 256 layers", "/v1/export/torch", _json(
            {"input_size": [224, 224], "in_channels": 3, "layers": [{**_CONV, "out_channels": 64}] * 256}), 0),
        ("nesting: arrays 100,000 deep", "/v1/solve", b"[" * 100_000 + b"]" * 100_000, 0),
        ("nesting: objects 35,000 deep, in a field", "/v1/plan/unet",
         b'{"input_size": ' + b'{"a": ' * 35_000 + b"1" + b"}" * 35_000 + b"}", 0),
        ("wrong types", "/v1/solve", _json(
            {"input_size": "big", "target_size": [True], "limit": "all", "layers": {"type": 3}}), 0),
        ("non-finite numbers", "/v1/forward",
         b'{"input_size": [Infinity], "layers": [{"type": "upsample", "scale_factor": NaN}]}', 0),
        ("non-finite time limit", "/v1/solve",
         b'{"input_size": [8], "target_size": [8], "time_limit_s": Infinity,'
         b' "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 3}}]}', 0),
        ("body over 256 KiB", "/v1/forward", _json({"input_size": [8], "layers": [], "pad": "x" * 300_000}), 0),
    ]


def hostile_client(base_port: int, docs: list[tuple[str, str, bytes, float]], until: float, seed: int,
                   answers: list[tuple[str, int, float, float]]) -> None:
    """One request at a time, cycling through the documents in a shuffled order, until `until`."""
    order = list(docs)
    random.Random(seed).shuffle(order)
    i = 0
    while time.monotonic() < until:
        name, path, body, limit = order[i % len(order)]
        i += 1
        conn = http.client.HTTPConnection(HOST, base_port, timeout=limit + 60)
        started = time.monotonic()
        try:
            conn.request("POST", path, body=body, headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0  # no answer: counted as a broken promise with the 5xx
        finally:
            conn.close()
        answers.append((name, status, time.monotonic() - started, limit))


# ------------------------------------------------------------------------------ wrk


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk_script(directory: str, name: str, body: str | None, think_ms: int = 0) -> str:
    """A wrk script that counts answers by status class (and 503s) across its threads;
    each client waits `think_ms` after an answer before its next request."""
    post = ('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f"wrk.body = {json.dumps(body)}\n") if body is not None else ""  # a JSON string is a Lua string here
    if think_ms:
        post += f"function delay() return {think_ms} end\n"
    path = Path(directory) / f"{name}.lua"
    path.write_text(post + """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) c2, c4, c5, c503 = 0, 0, 0, 0 end
function response(status, headers, body)
  if status >= 500 then c5 = c5 + 1; if status == 503 then c503 = c503 + 1 end
  elseif status >= 400 then c4 = c4 + 1 else c2 = c2 + 1 end
end
function done(summary, latency, requests)
  local t2, t4, t5, t503 = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    t2 = t2 + t:get("c2"); t4 = t4 + t:get("c4"); t5 = t5 + t:get("c5"); t503 = t503 + t:get("c503")
  end
  io.write(string.format("statuses: 2xx %d 4xx %d 5xx %d 503 %d\\n", t2, t4, t5, t503))
end
""")
    return str(path)


def wrk(url: str, connections: int, duration: int, script: str) -> dict[str, Any]:
    cmd = [shutil.which("wrk") or "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
           "--latency", "-s", script, url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60, check=True).stdout
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    s2, s4, s5, s503 = map(int, re.search(r"statuses: 2xx (\d+) 4xx (\d+) 5xx (\d+) 503 (\d+)", out).groups())  # type: ignore[union-attr]
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "requests": int(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
            "p50": _ms(lat["50"]), "p99": _ms(lat["99"]), "2xx": s2, "4xx": s4, "5xx": s5, "503": s503,
            "socket": sum(map(int, sock.groups())) if sock else 0}


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


def _table(header: list[str], rows: list[list[Any]]) -> str:
    """A Markdown table (numbers right-aligned), ready for docs/benchmarks.md."""
    align = ["---:" if isinstance(v, int | float) or str(v).replace(",", "").replace(".", "").isdigit() else "---"
             for v in rows[0]]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--forward-clients", type=int, default=24)
    parser.add_argument("--solve-clients", type=int, default=6,
                        help="with --hostile-clients, keep at most workers + queue")
    parser.add_argument("--health-clients", type=int, default=10)
    parser.add_argument("--hostile-clients", type=int, default=4)
    parser.add_argument("--seed", type=int, default=12, help="order of the hostile documents")
    parser.add_argument("--think-ms", type=int, default=50,
                        help="each forward and health client waits this long between requests, as a "
                             "user of a design tool does (0: none; the event loop is then saturated)")
    args = parser.parse_args()
    if shutil.which("wrk") is None and args.forward_clients + args.solve_clients + args.health_clients:
        sys.exit("wrk is missing: apt-get install wrk")
    port = free_port()
    base = f"http://{HOST}:{port}"
    print(machine())
    print("load average before (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())  # other work on the machine
    docs = _hostile()
    answers: list[tuple[str, int, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp, Server(uvicorn_command(port, access_log=True)) as server:
        server.wait_ready(f"{base}/healthz", timeout=120)  # the lifespan warms every worker first
        forward = wrk_script(tmp, "forward", json.dumps(STEM_DOCUMENT), args.think_ms)
        solve = wrk_script(tmp, "solve", json.dumps(SOLVE_DOCUMENT))
        health = wrk_script(tmp, "health", None, args.think_ms)
        assert server.proc is not None
        memory = [(0.0, rss_mib(server.proc.pid))]
        results: dict[str, dict[str, Any]] = {}
        jobs = [("POST /v1/forward", f"{base}/v1/forward", args.forward_clients, forward),
                ("POST /v1/solve", f"{base}/v1/solve", args.solve_clients, solve),
                ("GET /healthz", f"{base}/healthz", args.health_clients, health)]
        jobs = [job for job in jobs if job[2] > 0]  # 0 clients: that load is left out
        threads = [threading.Thread(target=lambda j=j: results.__setitem__(j[0], wrk(j[1], j[2], args.duration, j[3])))
                   for j in jobs]
        start = time.monotonic()
        threads += [threading.Thread(target=hostile_client, args=(port, docs, start + args.duration, args.seed + i,
                                                                   answers))
                    for i in range(args.hostile_clients)]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(min(10, args.duration))
            memory.append((time.monotonic() - start, rss_mib(server.proc.pid)))
        for t in threads:
            t.join()
    clients = args.forward_clients + args.solve_clients + args.health_clients
    print(f"\n{clients} wrk clients and {args.hostile_clients} hostile clients for {args.duration} s, "
          f"one server, all on {HOST}\n")
    rows = [[name, conns, f"{r['rps']:.1f}", f"{r['requests']:,}", f"{r['p50']:.2f}", f"{r['p99']:.2f}",
             r["2xx"], r["4xx"], r["5xx"], r["socket"]]
            for (name, _, conns, _), r in zip(jobs, (results[j[0]] for j in jobs), strict=True)]
    if rows:
        print(_table(["endpoint", "clients", "req/s", "requests", "p50 ms", "p99 ms", "2xx", "4xx", "5xx",
                      "socket errors"], rows))

    by_doc: dict[str, list[tuple[int, float, float]]] = {}
    for name, status, seconds, limit in answers:
        by_doc.setdefault(name, []).append((status, seconds, limit))
    hrows = []
    for name, path, _, limit in docs:
        got = by_doc.get(name, [])
        statuses = Counter(s for s, _, _ in got)
        hrows.append([f"{path} {name}", len(got), ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())),
                      f"{limit:g}", f"{max((t for _, t, _ in got), default=0):.3f}",
                      sum(t > lim + SLACK_S for _, t, lim in got)])
    print("\nhostile documents (each client one request at a time):\n")
    print(_table(["document", "answers", "statuses", "time limit s", "slowest s", "late"], hrows))

    fives = sum(r["5xx"] + r["socket"] for r in results.values()) + sum(s >= 500 or s == 0 for _, s, _, _ in answers)
    pool_busy = sum(r["503"] for r in results.values()) + sum(s == 503 for _, s, _, _ in answers)
    late = sum(t > lim + SLACK_S for _, _, t, lim in answers)
    print(f"\n{len(answers):,} hostile answers, {sum(r['requests'] for r in results.values()):,} wrk answers\n")
    print(_table(["promise", "measured", "goal"], [
        ["5xx answers or dropped requests, all clients", f"{fives} (of which 503 busy: {pool_busy})", "0"],
        [f"hostile answers later than their time limit + {SLACK_S} s", f"{late} of {len(answers):,}", "0"],
        ["GET /healthz p99, ms", f"{results['GET /healthz']['p99']:.1f}" if "GET /healthz" in results else "not run",
         "< 100"],
    ]))
    print("\nserver + workers resident memory (MiB) over time: "
          + ", ".join(f"{t:.0f}s {m:.0f}" for t, m in memory))
    print("load average after (1, 5, 15 min): %.2f %.2f %.2f" % os.getloadavg())


if __name__ == "__main__":
    main()
