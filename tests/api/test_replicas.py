"""Replicas are interchangeable (docs/sampling.md, "Scaling out"): two servers, as
`docker compose up --scale convsolve=2` runs them behind the gateway, answer the same
documents alike, and what one hands out (a cursor, a seed) works on the other."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]

PROBLEM = {"input_size": [64], "target_size": [16], "limit": 3,
           "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 5}, "stride": {"min": 1, "max": 4},
                       "padding": {"min": 0, "max": 2}}] * 2}


def test_a_cursor_and_a_seed_from_one_replica_work_on_another(serve: Callable[..., Any]) -> None:
    first, second = serve(CONVSOLVE_WORKERS="1"), serve(CONVSOLVE_WORKERS="1")
    first.wait_ready()
    second.wait_ready()
    status, page = first.request("POST", "/v1/solve", PROBLEM)
    assert status == 200
    page = json.loads(page)
    assert page["next_cursor"]
    pages = [replica.request("POST", "/v1/solve", {**PROBLEM, "cursor": page["next_cursor"]})
             for replica in (first, second)]
    assert [status for status, _ in pages] == [200, 200], pages
    here, there = (json.loads(text)["solutions"] for _, text in pages)
    assert here == there and here and here != page["solutions"]
    drawn = json.loads(first.request("POST", "/v1/sample", {**PROBLEM, "n": 20})[1])
    again = json.loads(second.request("POST", "/v1/sample", {**PROBLEM, "n": 20, "seed": drawn["seed"]})[1])
    assert again["solutions"] == drawn["solutions"] and again["uniform"]


def test_compose_runs_replicas_behind_one_gateway() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    assert "ports" not in compose["convsolve"], "a host port on the service forbids --scale"
    assert compose["gateway"]["ports"] == ["8000:8000"]
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "server convsolve:8000;" in nginx and "proxy_pass http://convsolve;" in nginx
