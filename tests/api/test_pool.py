"""Solving runs in worker processes with a bounded queue: past it, 503 and Retry-After."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import app
from api.pool import Pool, pool
from api.settings import Settings

FREE = {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 3}}
HEAVY = {"input_size": [256, 256], "target_size": "input", "limit": 10, "objective": "smallest_kernels",
         "time_limit_s": 3, "layers": [{"type": "conv", **FREE}] * 8
         + [{"type": "conv_transpose", **FREE, "output_padding": {"min": 0, "max": 1}}] * 8}


# 16 convs and 16 transposed convs, the best 200: about 9 s of solving on 2 cores.
HEAVIEST = {**HEAVY, "time_limit_s": 60, "limit": 200,
            "layers": HEAVY["layers"][:8] * 2 + HEAVY["layers"][8:] * 2}


def test_full_pool_answers_503_with_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    small = Pool(Settings(workers=1, queue=0))
    monkeypatch.setattr(pool, "run", small.run)  # the routes' pool, one worker, no queue
    client = TestClient(app)
    answers: list[Any] = []

    def post() -> None:
        answers.append(client.post("/v1/solve", json=HEAVY))

    first = threading.Thread(target=post)
    first.start()
    while small.pending == 0:  # the first solve holds the only worker
        threading.Event().wait(0.01)
    busy = client.post("/v1/solve", json=HEAVY)
    first.join()
    small.shutdown()
    assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
    assert busy.json()["detail"][0]["type"] == "busy"
    assert answers[0].status_code == 200  # the one that got the worker was answered
    assert client.get("/healthz").status_code == 200


def test_errors_cross_the_process_boundary_whole() -> None:
    client = TestClient(app)
    r = client.post("/v1/input-sizes", json={"in_channels": 3, "range": {"min": 8, "max": 16},
                                             "layers": [{"type": "conv", "kernel_size": 1, "groups": 2,
                                                         "out_channels": 4, "name": "g"}]})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert (detail["rule"], detail["layer"], detail["name"]) == ("groups_divide_channels", 0, "g")


def test_a_dead_worker_answers_503_then_the_pool_recovers() -> None:
    import asyncio
    import os

    from fastapi import HTTPException

    import solver

    small = Pool(Settings(workers=1, queue=0))
    with pytest.raises(HTTPException) as broken:
        asyncio.run(small.run(os._exit, 1))  # a worker killed mid-job
    assert broken.value.status_code == 503
    answer = asyncio.run(small.run(solver.forward, {"input_size": [8], "layers": []}))
    assert answer.output_size == [8]
    small.shutdown()


def test_a_cancelled_solve_frees_its_worker_at_once() -> None:
    """The pool tells the worker when the client has gone; the solver stops at its next check."""
    import asyncio
    import time

    import solver

    heavy = HEAVIEST
    small = Pool(Settings(workers=1, queue=0))

    async def scenario() -> tuple[Any, float, Any]:
        started = time.monotonic()

        async def gone() -> bool:
            return time.monotonic() - started > 0.3

        cancelled = await small.run(solver.solve, heavy, disconnected=gone)
        stopped = time.monotonic() - started
        light = await small.run(solver.solve, {"input_size": [8], "target_size": [8],
                                               "layers": [{"type": "conv", "kernel_size": 1}]})
        return cancelled, stopped, light

    cancelled, stopped, light = asyncio.run(scenario())
    small.shutdown()
    assert cancelled.status == "timeout" and "cancelled" in cancelled.message
    assert cancelled.elapsed_s < 1.5  # uncancelled: about 9 s here (measured on 2 cores)
    assert light.status == "complete"  # the one worker was free again
    assert small.pending == 0 and sorted(small.free) == [0]


def test_stream_lines_are_the_answer() -> None:
    import json

    import solver

    client = TestClient(app)
    doc = {"input_size": [28], "target_size": [14], "objective": "smallest_kernels",
           "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 4}, "stride": {"min": 1, "max": 2},
                       "padding": {"min": 0, "max": 1}}]}
    with client.stream("POST", "/v1/solve/stream", json=doc) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-ndjson")
        lines = [json.loads(line) for line in r.iter_lines() if line]
    whole = solver.solve(doc).model_dump(mode="json")
    head, *solutions = lines
    assert {k: v for k, v in head.items() if k != "elapsed_s"} == {
        k: v for k, v in whole.items() if k not in ("elapsed_s", "solutions")}
    assert solutions == whole["solutions"] and len(solutions) == 4


# A long document for every route that runs in the pool: each holds the worker for 20 s
# or more (to the 60 s cap) unless stopped.  All check their cancel flag.
CONV = {"type": "conv", "kernel_size": 3, "padding": 1}
LONG = {
    "/v1/solve": HEAVIEST,
    "/v1/solve/stream": HEAVIEST,
    "/v1/input-sizes": {"range": [{"min": 1, "max": 16384}] * 3, "layers": [CONV] * 200, "time_limit_s": 60},
    "/v1/plan/unet": {"input_size": [4096] * 3, "depth": 7, "conv": "search", "kernel_size": {"min": 1, "max": 63},
                      "padding": {"min": 0, "max": 31}, "down": "strided_conv", "up": "upsample", "skip": "crop",
                      "output_size": None, "limit": 1000, "convs_per_level": 4, "objective": "least_padding",
                      "time_limit_s": 60},
    "/v1/plan/aspp": {"bottleneck_size": [65536, 65521, 65519], "rates": {"min": 1, "max": 1000},
                      "padding": {"min": 0, "max": 990}, "kernel_size": 15, "limit": 1000, "time_limit_s": 60},
    "/v1/plan/encoder-decoder": {"image_size": [4096] * 3, "depth": 12, "tie": False, "kernel_size": {"min": 1, "max": 15},
                             "padding": {"min": 0, "max": 7}, "stride": {"min": 1, "max": 4}, "limit": 1000,
                             "time_limit_s": 60},
}
LONG["/v1/plan/autoencoder"] = LONG["/v1/plan/encoder-decoder"]  # the planner's first name, an alias
LONG["/v1/sample"] = {**HEAVIEST, "n": 10_000}
LONG["/v1/solve/batch"] = {"documents": [HEAVIEST] * 3}


def test_every_pool_route_is_in_the_list_of_long_documents(api_routes: list[Any]) -> None:
    import inspect

    pool_routes = {r.path for r in api_routes if "pool.run" in inspect.getsource(r.endpoint)}
    assert pool_routes == set(LONG)


def test_a_client_that_hangs_up_frees_its_worker_on_a_real_server(serve: Any) -> None:
    """End to end on uvicorn with one worker and no queue, for every route that runs in
    the pool: once the client of a long job disconnects, the worker is free for the
    next solve at once (about a second; 10 s only so that a busy machine cannot fail it)."""
    import time

    server = serve("uvicorn", CONVSOLVE_WORKERS="1", CONVSOLVE_QUEUE="0", CONVSOLVE_MAX_SOLVE_SECONDS="60")
    server.wait_ready()  # the lifespan warmed the worker
    light = {"input_size": [8], "target_size": [8], "layers": [{"type": "conv", "kernel_size": 1}]}
    assert server.request("POST", "/v1/solve", light)[0] == 200
    for path, doc in LONG.items():
        with server.send(path, doc):
            started = time.monotonic()
            while server.request("POST", "/v1/solve", light)[0] != 503:  # the long job holds the worker
                assert time.monotonic() - started < 10, f"{path}: the long job never took the worker"
                time.sleep(0.1)
        hung_up = time.monotonic()
        while server.request("POST", "/v1/solve", light)[0] != 200:  # 503 while the worker is busy
            assert time.monotonic() - hung_up < 10, f"{path}: the abandoned job still holds the worker"
            time.sleep(0.1)


def _budget(**kwargs: Any) -> Any:
    return kwargs


def test_the_wait_for_a_worker_counts_against_the_time_limit() -> None:
    """A job's max_time_s counts from the request's arrival, not from when a worker
    takes it: a request queued behind others still answers within its time limit."""
    import time

    from api.pool import _call

    now = time.monotonic()
    assert 0.9 < _call(_budget, (), {"max_time_s": 3.0}, None, now - 2.0)["max_time_s"] <= 1.0
    assert _call(_budget, (), {"max_time_s": 3.0}, None, now - 5.0)["max_time_s"] == 0.0
    assert _call(_budget, (), {"other": 1}, None, now - 5.0) == {"other": 1}


def test_pool_routes_pass_the_documents_time_limit_capped_by_the_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi import HTTPException

    from api.settings import settings

    passed: dict[str, Any] = {}

    async def record(fn: Any, body: Any, **kwargs: Any) -> Any:
        passed.update(kwargs)
        raise HTTPException(status_code=503)

    monkeypatch.setattr(pool, "run", record)
    client = TestClient(app)
    for path, doc in LONG.items():
        for limit, cap, budget in [(0.7, 30.0, 0.7), (0.7, 0.2, 0.2)]:
            monkeypatch.setattr(settings, "max_solve_seconds", cap)
            passed.clear()
            if path == "/v1/solve/batch":  # one budget for the batch: the cap on one solve
                budget = cap
            else:
                doc = {**doc, "time_limit_s": limit}
            assert client.post(path, json=doc).status_code == 503, path
            assert passed["max_time_s"] == budget and passed["disconnected"] is not None, path


def test_a_job_whose_time_runs_out_before_a_worker_is_free_answers_timeout_at_once() -> None:
    """One worker, busy for 3 s: a solve with 0.5 s that waits for it gets the library's
    own "timeout" answer when its 0.5 s are spent (not 3 s later); then a solve with
    time to wait gets the worker in its turn."""
    import asyncio
    import time

    import solver

    small = Pool(Settings(workers=1, queue=2))

    async def scenario() -> tuple[Any, Any, Any]:
        busy = asyncio.ensure_future(small.run(time.sleep, 3))  # a job must be importable in the worker
        while small.idle:  # the sleep holds the only worker
            await asyncio.sleep(0.01)
        hurried = await small.run(solver.solve, HEAVIEST, max_time_s=0.5)
        patient = await small.run(solver.solve, {"input_size": [8], "target_size": [8],
                                                 "layers": [{"type": "conv", "kernel_size": 1}]}, max_time_s=60)
        return await busy, hurried, patient

    slept, hurried, patient = asyncio.run(scenario())
    small.shutdown()
    assert hurried.status == "timeout" and hurried.message == (
        "no solver was free within the time limit of 0.5 s; retry, or allow more time")
    assert slept is None and patient.status == "complete"
    assert small.idle == 1 and not small.waiting and small.pending == 0


def test_a_worker_short_of_cpu_does_not_make_its_answer_late() -> None:
    """A worker that gets no CPU (stopped here with SIGSTOP, as a loaded machine may
    starve it) cannot answer by its deadline: the server answers "timeout" itself once
    the time limit + LATE has passed, tells the job to stop, and counts the worker busy
    until the job has really stopped."""
    import asyncio
    import os
    import signal

    import solver

    small = Pool(Settings(workers=1, queue=1))

    async def scenario() -> tuple[Any, int, int]:
        await small.start()
        job = asyncio.ensure_future(small.run(solver.solve, HEAVIEST, max_time_s=0.5,
                                              disconnected=_never))
        while small.idle:
            await asyncio.sleep(0.01)
        workers = list(small.executor._processes.values())  # type: ignore[union-attr] # noqa: SLF001
        for w in workers:
            os.kill(w.pid, signal.SIGSTOP)
        try:
            answer = await asyncio.wait_for(job, 20)  # fails, rather than hangs, without the cutoff
            busy_after_answer = small.idle
        finally:
            for w in workers:
                os.kill(w.pid, signal.SIGCONT)
        while not small.idle:  # the job sees its flag and stops; its worker comes back
            await asyncio.sleep(0.01)
        return answer, busy_after_answer, small.pending

    answer, idle_at_answer, pending = asyncio.run(scenario())
    small.shutdown()
    assert answer.status == "timeout" and answer.message == (
        "the solver, short of CPU on a busy server, found no answer within the time limit of 0.5 s; "
        "retry, or allow more time")
    assert idle_at_answer == 0  # still busy with the stopped job when the client had its answer
    assert pending == 0 and small.free and len(small.free) == 2


async def _never() -> bool:
    return False
