"""Every answer carries a request id; /metrics counts requests and solve statuses."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from api.main import app


def _metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(name + "{"):
            got = ",".join(sorted(line[len(name) + 1:line.index("}")].split(",")))
            if got == want:
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_request_id_is_echoed_or_made(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(app)
    with caplog.at_level(logging.INFO, logger="convsolve.access"):
        given = client.get("/healthz", headers={"X-Request-ID": "abc123"})
        made = client.get("/healthz")
    assert given.headers["x-request-id"] == "abc123"
    assert len(made.headers["x-request-id"]) == 16 and made.headers["x-request-id"] != "abc123"
    assert any("abc123 GET /healthz 200" in r.getMessage() for r in caplog.records)


def test_metrics_count_requests_and_solve_statuses(caplog: pytest.LogCaptureFixture) -> None:
    client = TestClient(app)
    before = client.get("/metrics").text
    doc = {"input_size": [25], "target_size": "input",
           "layers": [{"type": "conv", "kernel_size": 2, "stride": 2}, {"type": "conv_transpose", "kernel_size": 2, "stride": 2}]}
    with caplog.at_level(logging.INFO, logger="convsolve.access"):
        r = client.post("/v1/solve", json=doc)
    assert r.json()["status"] == "infeasible" and float(r.headers["x-solve-seconds"]) >= 0
    assert any("POST /v1/solve 200" in m and "solve=" in m for m in (x.getMessage() for x in caplog.records))
    client.post("/v1/forward", json={"input_size": [4], "layers": [{"type": "conv", "kernel_size": 9}]})
    after = client.get("/metrics")
    assert after.headers["content-type"].startswith("text/plain")
    for name, labels in [("convsolve_solve_status_total", {"status": "infeasible"}),
                         ("convsolve_requests_total", {"method": "POST", "route": "/v1/solve", "status": "200"}),
                         ("convsolve_requests_total", {"method": "POST", "route": "/v1/forward", "status": "422"})]:
        assert _metric(after.text, name, **labels) == _metric(before, name, **labels) + 1, (name, labels)
    assert _metric(after.text, "convsolve_request_seconds_count", route="/v1/solve") >= 1


def test_metrics_label_the_docs_and_a_body_refused_before_routing() -> None:
    client = TestClient(app)
    for path in ("/docs", "/redoc", "/openapi.json", "/no-such-page"):
        client.get(path)
    assert client.post("/v1/forward", content=b"x" * 300_000,
                       headers={"content-type": "application/json"}).status_code == 413
    text = client.get("/metrics").text
    for route, status in (("/docs", "200"), ("/redoc", "200"), ("/openapi.json", "200"),
                          ("/v1/forward", "413"), ("unmatched", "404")):
        assert _metric(text, "convsolve_requests_total", method="POST" if status == "413" else "GET",
                       route=route, status=status) >= 1, route
