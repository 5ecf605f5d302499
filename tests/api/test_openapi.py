"""The OpenAPI schema describes every error a route can answer: 413 and 422 wherever a
body is read, 503 wherever the work runs in the pool; and the bodies match it."""

from __future__ import annotations

import inspect
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.errors import ErrorResponse
from api.main import app
from api.pool import Pool, pool
from api.settings import Settings, settings


def _expected(route: Any, operation: dict[str, Any]) -> set[str]:
    codes = {"413", "422"} if "requestBody" in operation else set()
    if "pool.run" in inspect.getsource(route.endpoint):
        codes.add("503")
    return codes


def test_every_route_describes_413_422_and_503(api_routes: list[Any]) -> None:
    spec = app.openapi()
    model = "#/components/schemas/ErrorResponse"
    checked = set()
    for route in api_routes:
        for method in route.methods:
            operation = spec["paths"][route.path][method.lower()]
            for code in _expected(route, operation):
                response = operation["responses"].get(code)
                assert response is not None, f"{method} {route.path} does not describe {code}"
                assert response["description"] and response["description"] != "Validation Error"
                assert response["content"]["application/json"]["schema"] == {"$ref": model}, (route.path, code)
                checked.add(code)
            if "503" in operation["responses"]:
                assert "Retry-After" in operation["responses"]["503"]["headers"]
    assert checked == {"413", "422", "503"}
    assert spec["components"]["schemas"]["ErrorResponse"]["properties"]["detail"]["type"] == "array"


def test_error_bodies_match_the_described_model(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(app)
    doc = {"input_size": [8], "layers": [{"type": "conv", "kernel_size": 9}]}
    answers = [client.post("/v1/forward", json=doc),  # a layer refused
               client.post("/v1/forward", json={"layers": []}),  # pydantic's own 422
               client.post("/v1/forward", content=b" " * (settings.max_body_bytes + 1),
                           headers={"content-type": "application/json"})]
    stopping = Pool(Settings(workers=1, queue=0))
    stopping.stop_soon()  # refuses every job at once, with the pool's 503
    monkeypatch.setattr(pool, "run", stopping.run)
    answers.append(client.post("/v1/solve", json={"input_size": [8], "target_size": [8],
                                                  "layers": [{"type": "conv", "kernel_size": 1}]}))
    assert [a.status_code for a in answers] == [422, 422, 413, 503]
    for answer in answers:
        ErrorResponse.model_validate(answer.json())
