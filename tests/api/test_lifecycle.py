"""The service's life: every worker warm before it serves; a stop within seconds, even
with solves running, that leaves no process and no semaphore behind; the access log."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import HTTPException
from fastapi.testclient import TestClient

import solver
from api.main import app
from api.pool import NICE, Pool, pool
from api.settings import Settings, settings

FREE = {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 3}}
# 16 convs and 16 transposed convs, the best 200: about 9 s of solving on 2 cores.
HEAVIEST = {"input_size": [256, 256], "target_size": "input", "limit": 200, "objective": "smallest_kernels",
            "time_limit_s": 60, "layers": [{"type": "conv", **FREE}] * 16
            + [{"type": "conv_transpose", **FREE, "output_padding": {"min": 0, "max": 1}}] * 16}
LIGHT = {"input_size": [8], "target_size": [8], "layers": [{"type": "conv", "kernel_size": 1}]}


def _alive(processes: list[Any]) -> list[Any]:
    return [p for p in processes if p.is_alive()]


def test_the_lifespan_warms_every_worker_before_serving() -> None:
    with TestClient(app) as client:
        # Before any request: all `workers` processes run, and each counted itself
        # ready after importing solver and ortools and solving a tiny document.
        assert pool.executor is not None and pool.ready is not None
        workers = list(pool.executor._processes.values())
        assert len(_alive(workers)) == settings.workers
        assert pool.ready.value == settings.workers
        # At a lower CPU priority than the server, whose event loop answers health checks.
        ours = os.getpriority(os.PRIO_PROCESS, 0)
        assert all(os.getpriority(os.PRIO_PROCESS, p.pid) == min(19, ours + NICE) for p in workers)
        assert client.post("/v1/solve", json=LIGHT).json()["status"] == "complete"
    assert pool.executor is None and _alive(workers) == []  # the shutdown stopped them


def test_without_the_lifespan_the_pool_starts_on_first_use() -> None:
    small = Pool(Settings(workers=1, queue=0))  # as TestClient(app) without `with`, or a library
    assert small.executor is None
    answer = asyncio.run(small.run(solver.solve, LIGHT))
    assert answer.status == "complete" and small.executor is not None
    small.shutdown()
    assert small.executor is None


def _never_disconnected() -> Callable[[], Any]:
    async def gone() -> bool:
        return False

    return gone


def test_stopping_cancels_running_jobs_then_terminates_the_rest() -> None:
    """stop_soon (the stop signal) sets every job's flag: a solve stops at its next
    check; a job that does not check is terminated after the grace period; new jobs are
    refused with 503; the shutdown then leaves no worker alive."""
    small = Pool(Settings(workers=2, queue=0))

    async def scenario() -> tuple[Any, Any, Any]:
        await small.start()
        workers = list(small.executor._processes.values())  # type: ignore[union-attr]
        solving = asyncio.ensure_future(small.run(solver.solve, HEAVIEST, disconnected=_never_disconnected()))
        # A job that never checks a cancel flag (and is importable in the worker).
        sleeping = asyncio.ensure_future(small.run(time.sleep, 120))
        while small.pending < 2 or small.free:  # both jobs hold a worker
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.3)
        small.stop_soon()
        with pytest.raises(HTTPException) as refused:
            await small.run(solver.solve, LIGHT)
        # Bounded only so a regression fails instead of hanging: the sleep is 120 s.
        done, _ = await asyncio.wait({solving, sleeping}, timeout=30)
        assert done == {solving, sleeping}, "a job outlived the stop"
        return solving, sleeping, (refused.value, workers)

    solving, sleeping, (refused, workers) = asyncio.run(scenario())
    small.shutdown()
    assert refused.status_code == 503 and "stopping" in refused.detail[0]["msg"]
    assert solving.result().status == "timeout" and "cancelled" in solving.result().message
    assert isinstance(sleeping.exception(), HTTPException) and sleeping.exception().status_code == 503
    assert _alive(workers) == []
    assert not [p for p in multiprocessing.active_children() if p in workers]


@pytest.mark.parametrize("kind", ["convsolve", "uvicorn"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_server_leaves_nothing_behind(serve: Callable[..., Any], kind: str, sig: int) -> None:
    """`convsolve serve` and `uvicorn api.main:app` (the Dockerfile's command), under
    load: three long solves on two workers.  SIGTERM goes to the server (as docker stop
    does), SIGINT to its whole process group (as Ctrl-C in a terminal does).  Then the
    server and every process it started are gone within seconds (it took 45 s, and left
    the workers and the resource tracker running), and nothing leaked is reported."""
    server = serve(kind, CONVSOLVE_WORKERS="2", CONVSOLVE_QUEUE="2")
    server.wait_ready()
    assert server.request("GET", "/healthz", headers={"X-Request-ID": "lifecycle-1"})[0] == 200
    clients = [server.send("/v1/solve", HEAVIEST) for _ in range(3)]
    time.sleep(1)  # the solves are running (each takes about 9 s)
    assert len(server.group()) >= 4  # server, 2 workers, the resource tracker
    stopped = time.monotonic()
    if sig == signal.SIGINT:
        os.killpg(server.proc.pid, sig)
    else:
        server.proc.send_signal(sig)
    # Bounded so that the old behaviour fails rather than hangs: a couple of seconds is expected.
    while server.group() and time.monotonic() - stopped < 20:
        time.sleep(0.1)
    assert server.group() == [], f"left behind after {time.monotonic() - stopped:.1f} s:\n{server.stderr()}"
    for client in clients:  # each in-flight request got an answer, not a dropped connection
        client.settimeout(5)
        assert _status(client) in (200, 503), server.stderr()
        client.close()
    log = server.stderr()
    assert "leaked" not in log and "Traceback" not in log, log
    # The access log (api/observe.py) is printed: request id, method, path, status.
    assert "lifecycle-1 GET /healthz 200" in log, log


def _status(client: socket.socket) -> int:
    head = b""
    while b"\r\n" not in head:
        chunk = client.recv(4096)
        if not chunk:
            return 0
        head += chunk
    return int(head.split(b" ", 2)[1])
