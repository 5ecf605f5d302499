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


def _die() -> None:
    import os

    os._exit(1)  # a worker killed mid-job


def test_a_dead_worker_answers_503_then_the_pool_recovers() -> None:
    import asyncio

    from fastapi import HTTPException

    import solver

    small = Pool(Settings(workers=1, queue=0))
    with pytest.raises(HTTPException) as broken:
        asyncio.run(small.run(_die))
    assert broken.value.status_code == 503
    answer = asyncio.run(small.run(solver.forward, {"input_size": [8], "layers": []}))
    assert answer.output_size == [8]
    small.shutdown()
