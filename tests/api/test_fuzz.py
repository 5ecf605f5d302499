"""Schemathesis against the OpenAPI schema: no generated request gets a 5xx answer."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.main import app
from api.settings import settings as service

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# JSON bodies only: YAML ones become the same JSON (api/bodies.py) and have their own
# property test (test_bodies.py); generating both took four times as long.
for _operations in schema.raw_schema["paths"].values():
    for _operation in _operations.values():
        _operation.get("requestBody", {}).get("content", {}).pop("application/yaml", None)


@pytest.fixture(autouse=True)
def _quick_solves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(service, "max_solve_seconds", 0.1)  # random domains can be large: 5xx is the point


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_no_generated_request_gets_a_server_error(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (response.status_code, response.text[:500])
