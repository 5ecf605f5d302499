"""Benchmark of the forward path: in-process engine time and HTTP throughput.

    python bench/forward.py                 # defaults: 5 s wrk rounds, 6 rounds per target
    python bench/forward.py --duration 3 --rounds 4 --no-access-log
    python bench/forward.py --no-http       # only the in-process table, no wrk needed

(a) In process: the median time of `solver.forward` on 2d stacks of 1, 8, 64 and 256
    mixed conv / max_pool / conv_transpose layers, divided by the layer count: from a
    dict (validation included), from an already validated ForwardRequest (the engine
    alone) and that plus model_dump_json (what the API does after validation); and the
    time of one call of the per-axis arithmetic (`solver.rules`), for reference.

(b) Over HTTP: ONE uvicorn server started with the production command
    `uvicorn api.main:app --host 127.0.0.1 --port <free port>` (access log on, uvicorn's
    and the Dockerfile's default, unless --no-access-log), loaded by `wrk` with
    GET /healthz, POST /v1/forward of the ResNet stem (2 layers) and POST /v1/forward of
    a 10-layer stack, in alternating rounds (the order reversed every other round, so
    drift hits all of them); prints the median requests/second of each and the ratio
    to /healthz.  It also reads the server's CPU time (/proc/<pid>/stat) around every
    round: CPU microseconds per request is less disturbed by other load on the machine
    than requests/second, and its ratio is a cross-check of the throughput ratio.

Only 127.0.0.1 is ever targeted, every loop is bounded in time, and the server is
stopped at the end, also on Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import solver  # noqa: E402
from solver import rules as A  # noqa: E402

HOST = "127.0.0.1"  # the only address this script ever talks to

# --------------------------------------------------------------------------- documents

# A 4-layer 2d block that keeps the spatial size (224 -> 224), so it can be repeated
# up to 256 layers: conv, max_pool (stride 2), conv_transpose (stride 2 back up), conv.
_BLOCK = [
    {"type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 64},
    {"type": "max_pool", "kernel_size": 3, "stride": 2, "padding": 1},
    {"type": "conv_transpose", "kernel_size": 4, "stride": 2, "padding": 1, "out_channels": 64},
    {"type": "conv", "kernel_size": [3, 1], "padding": [1, 0], "out_channels": 64, "bias": False},
]


def stack(n: int) -> dict[str, Any]:
    """n mixed 2d layers (conv, max_pool, conv_transpose) on a 224x224x3 input."""
    layers = [dict(_BLOCK[i % len(_BLOCK)], name=f"l{i}") for i in range(n)]
    return {"input_size": [224, 224], "in_channels": 3, "layers": layers}


# The ResNet-50 stem: examples/resnet_stem.yaml.
STEM_DOCUMENT: dict[str, Any] = yaml.safe_load((ROOT / "examples" / "resnet_stem.yaml").read_text())

# A realistic 10-layer stack (the stem, two downsampling stages, a transposed conv and a
# global pool).
HTTP_DOCUMENT: dict[str, Any] = {
    **STEM_DOCUMENT,
    "layers": [
        *STEM_DOCUMENT["layers"],
        {"name": "conv2a", "type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 64,
         "bias": False},
        {"name": "conv2b", "type": "conv", "kernel_size": 3, "padding": 1, "out_channels": 64,
         "bias": False},
        {"name": "conv3a", "type": "conv", "kernel_size": 3, "stride": 2, "padding": 1,
         "out_channels": 128, "bias": False},
        {"name": "conv3b", "type": "conv", "kernel_size": 3, "padding": "same",
         "out_channels": 128, "bias": False},
        {"name": "conv4a", "type": "conv", "kernel_size": 3, "stride": 2, "padding": 1,
         "out_channels": 256, "bias": False},
        {"name": "conv4b", "type": "conv", "kernel_size": 3, "padding": 1, "dilation": 2,
         "out_channels": 256, "bias": False},
        {"name": "up", "type": "conv_transpose", "kernel_size": 4, "stride": 2, "padding": 1,
         "out_channels": 128},
        {"name": "gap", "type": "adaptive_avg_pool", "output_size": 1},
    ],
}

# ------------------------------------------------------------------------ in process


def median_time(fn: Callable[[], Any], budget: float, repeats: int = 15) -> float:
    """Median seconds per call of fn, from `repeats` batches sized to fit `budget`."""
    fn()  # warm up
    t0 = time.perf_counter()
    calls = 0
    while time.perf_counter() - t0 < min(0.05, budget / 10):  # calibrate, bounded
        fn()
        calls += 1
    per_call = (time.perf_counter() - t0) / max(calls, 1)
    batch = max(1, int(budget / repeats / max(per_call, 1e-9)))
    samples = []
    deadline = time.perf_counter() + 2 * budget  # hard bound
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(batch):
            fn()
        samples.append((time.perf_counter() - t) / batch)
        if time.perf_counter() > deadline:
            break
    return statistics.median(samples)


def bench_in_process(budget: float) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Rows of the forward table (per layer) and of the arithmetic table (per call)."""
    rows: list[tuple[str, ...]] = []
    for n in (1, 8, 64, 256):
        doc = stack(n)
        model = solver.ForwardRequest.model_validate(doc)
        t_dict = median_time(lambda d=doc: solver.forward(d), budget)
        t_model = median_time(lambda m=model: solver.forward(m), budget)
        t_dump = median_time(lambda m=model: solver.forward(m).model_dump_json(), budget)
        rows.append((str(n), f"{t_dict / n * 1e6:,.2f}", f"{t_model / n * 1e6:,.2f}",
                     f"{t_dump / n * 1e6:,.2f}", f"{t_dict * 1e6:,.1f}"))
    arith = {
        "rules.conv(k=3, s=1, p=1, d=1)(224), bound and applied": lambda: A.conv(3, 1, 1, 1, 1)(224),
        "rules.pool(k=3, s=2, p=1)(224), bound and applied": lambda: A.pool(3, 2, 1, 1, False)(224),
        "rules.conv_transpose(k=4, s=2, p=1)(112), bound and applied": lambda: A.conv_transpose(4, 2, 1, 1, 0)(112),
    }
    arows = [(label, f"{median_time(fn, budget / 2) * 1e9:,.0f}") for label, fn in arith.items()]
    return rows, arows


# ---------------------------------------------------------------------------- HTTP


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def uvicorn_command(port: int, access_log: bool) -> list[str]:
    """The production command, `uvicorn api.main:app --host ... --port ...`."""
    exe = Path(sys.executable).with_name("uvicorn")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "uvicorn"]
    cmd += ["api.main:app", "--host", HOST, "--port", str(port)]
    if not access_log:
        cmd.append("--no-access-log")
    return cmd


class Server:
    """A uvicorn subprocess that is always stopped (context manager).

    Its output (the access log too, when on) goes to a temporary file, shown if it fails
    to start and deleted at the end: about 100 bytes per request with the access log.
    """

    def __init__(self, cmd: list[str]) -> None:
        self.cmd = cmd
        self.log = tempfile.NamedTemporaryFile(prefix="convsolve-bench-", suffix=".log", delete=False)
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        try:
            self.proc = subprocess.Popen(
                self.cmd, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,  # our Ctrl-C, our stop
            )
        except BaseException:
            self.__exit__()
            raise
        return self

    def wait_ready(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                with urllib.request.urlopen(url, timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        raise RuntimeError(f"uvicorn not ready after {timeout} s:\n{self.tail()}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far (Linux /proc)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self, n: int = 20) -> str:
        self.log.flush()
        lines = Path(self.log.name).read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()
        os.unlink(self.log.name)


def post_script(body: str, directory: str, name: str = "post") -> str:
    path = Path(directory) / f"{name}.lua"
    path.write_text(
        'wrk.method = "POST"\n'
        'wrk.headers["Content-Type"] = "application/json"\n'
        f"wrk.body = {json.dumps(body)}\n"  # a JSON string is a valid Lua string here
    )
    return str(path)


def run_wrk(wrk: str, url: str, args: argparse.Namespace, script: str | None) -> tuple[float, int]:
    """One wrk round: requests/second and request count; refuses non-2xx and socket errors."""
    cmd = [wrk, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
           "--timeout", "5s"]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=args.duration + 30,
                         check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk saw errors against {url}:\n{out}")
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    if not m or not n:
        raise RuntimeError(f"cannot read wrk output:\n{out}")
    return float(m.group(1)), int(n.group(1))


def bench_http(args: argparse.Namespace, wrk: str) -> dict[str, Any]:
    port = args.port or free_port()
    base = f"http://{HOST}:{port}"
    cmd = uvicorn_command(port, args.access_log)
    documents = {"stem": STEM_DOCUMENT, "stack10": HTTP_DOCUMENT}
    bodies = {k: json.dumps(d, separators=(",", ":")) for k, d in documents.items()}
    names = ["healthz", *(f"forward {k}" for k in documents)]
    rps: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}  # server CPU us per request
    with tempfile.TemporaryDirectory() as tmp, Server(cmd) as server:
        server.wait_ready(f"{base}/healthz")
        targets: dict[str, tuple[str, str | None]] = {"healthz": (f"{base}/healthz", None)}
        for key, body in bodies.items():
            # Check the POST answers 200 with the engine's own output before timing it.
            req = urllib.request.Request(f"{base}/v1/forward", data=body.encode(),
                                         headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=5) as r:
                answer = r.read()
            if json.loads(answer) != json.loads(solver.forward(documents[key]).model_dump_json()):
                raise RuntimeError(f"unexpected answer to {key}: {answer[:200]!r}")
            targets[f"forward {key}"] = (f"{base}/v1/forward", post_script(body, tmp, key))
        warm = argparse.Namespace(**{**vars(args), "duration": args.warmup})
        for url, script in targets.values() if args.warmup > 0 else ():  # warm-up, not counted
            run_wrk(wrk, url, warm, script)
        for r in range(args.rounds):
            order = names if r % 2 == 0 else names[::-1]  # A B C, C B A, ...
            for name in order:
                url, script = targets[name]
                c0 = server.cpu_seconds()
                x, count = run_wrk(wrk, url, args, script)
                cpu[name].append((server.cpu_seconds() - c0) / count * 1e6)
                rps[name].append(x)
                print(f"  round {r + 1}/{args.rounds} {name:15s} {x:9,.0f} req/s "
                      f"{cpu[name][-1]:6,.0f} us CPU/req", file=sys.stderr, flush=True)
    return {"command": " ".join(["uvicorn", *cmd[cmd.index("api.main:app"):]]), "names": names,
            "rps": rps, "cpu": cpu, "bytes": {f"forward {k}": len(b) for k, b in bodies.items()}}


# --------------------------------------------------------------------------- report


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "| " + " | ".join(  # noqa: E731
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) + " |"
    sep = "|" + "|".join("-" * (w + 1) + (":" if i else "-") for i, w in enumerate(widths)) + "|"
    return "\n".join([line(header), sep, *map(line, rows)])


def machine() -> str:
    cpu = "unknown"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from importlib.metadata import version

    vs = ", ".join(f"{p} {version(p)}" for p in ("fastapi", "starlette", "uvicorn", "pydantic"))
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, {vs}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=int, default=5, help="seconds per wrk round (default 5)")
    ap.add_argument("--rounds", type=int, default=6, help="wrk rounds per target (default 6)")
    ap.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per target")
    ap.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    ap.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    ap.add_argument("--port", type=int, default=0, help="server port (default: a free one)")
    ap.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True,
                    help="uvicorn access log (default on, as uvicorn's and production's default)")
    ap.add_argument("--in-process-budget", type=float, default=1.0,
                    help="seconds per in-process measurement (default 1)")
    ap.add_argument("--no-http", dest="http", action="store_false", help="skip the HTTP part")
    ap.add_argument("--no-in-process", dest="in_process", action="store_false",
                    help="skip the in-process part")
    args = ap.parse_args()
    for name in ("duration", "rounds", "connections", "threads"):
        if getattr(args, name) < 1:
            ap.error(f"--{name} must be at least 1")
    wrk = shutil.which("wrk")
    if args.http and wrk is None:
        sys.exit("wrk is missing: install it (Debian: apt-get update && apt-get install -y wrk), "
                 "or run with --no-http to measure only in process")
    # Ctrl-C (even when started with SIGINT ignored) and SIGTERM unwind through the
    # `with Server(...)` block, so the server is stopped either way.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    print(f"machine: {machine()}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M %Z')}")
    if args.in_process:
        rows, arows = bench_in_process(args.in_process_budget)
        print("\n(a) in process: solver.forward on 2d stacks of mixed conv / max_pool / "
              "conv_transpose layers, median\n")
        print(table(rows, ("layers", "forward(dict) us/layer", "forward(model) us/layer",
                           "forward(model)+JSON us/layer", "forward(dict) us/call")))
        print()
        print(table(arows, ("arithmetic, one axis", "ns/call")))
    if args.http:
        sys.stdout.flush()
        print(f"\n(b) HTTP: wrk -t{args.threads} -c{args.connections} -d{args.duration}s, "
              f"{args.rounds} alternating rounds per target ...", file=sys.stderr)
        assert wrk is not None
        res = bench_http(args, wrk)
        print(f"\n(b) HTTP, one server: {res['command']} "
              f"(access log {'on' if args.access_log else 'off'}); "
              f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s, {args.rounds} "
              f"alternating rounds per target; medians\n")
        h_rps = statistics.median(res["rps"]["healthz"])
        h_cpu = statistics.median(res["cpu"]["healthz"])
        rows = []
        for name in res["names"]:
            x, c = statistics.median(res["rps"][name]), statistics.median(res["cpu"][name])
            label = {"healthz": "GET /healthz",
                     "forward stem": "POST /v1/forward, ResNet stem (2 layers)",
                     "forward stack10": "POST /v1/forward, 10-layer stack"}[name]
            if name in res["bytes"]:
                label += f", {res['bytes'][name]} B"
            rows.append((label, f"{x:,.0f}", f"{x / h_rps:.0%}", f"{c:,.0f}", f"{h_cpu / c:.0%}",
                         " ".join(f"{v:,.0f}" for v in res["rps"][name])))
        print(table(rows, ("endpoint", "req/s", "vs healthz", "server CPU us/req",
                           "healthz CPU / this", "req/s per round")))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
