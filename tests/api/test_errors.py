"""convsolve's refusals as 422 answers: their suggestions (a search) are found off the
event loop, so a refused document does not stall every other request."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi.testclient import TestClient

import solver
from api.main import app


def test_suggestions_are_searched_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    where: list[str] = []
    search = solver.LayerRejected.suggestions.fget
    assert search is not None

    def watched(self: Any) -> Any:
        try:
            asyncio.get_running_loop()
            where.append("event loop")
        except RuntimeError:
            where.append("thread")
        return search(self)

    monkeypatch.setattr(solver.LayerRejected, "suggestions", property(watched))
    r = TestClient(app).post("/v1/forward", json={"input_size": [5, 5], "layers": [
        {"type": "conv", "kernel_size": [3, 7], "name": "wide"}]})
    assert r.status_code == 422
    assert r.json()["detail"][0]["suggestions"]  # found, and sent
    assert where and set(where) == {"thread"}
