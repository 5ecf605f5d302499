"""Ranked results page by page: the pages, joined, are the one ranked list."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

import solver
from api.main import app

DOC: dict[str, Any] = {
    "input_size": [224, 224], "target_size": [112, 112], "limit": 7,
    "objective": ["smallest_dilation", "least_padding"],
    "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 11}, "stride": {"min": 1, "max": 4},
                "padding": {"min": 0, "max": 10}, "dilation": {"min": 1, "max": 6}}]}


def _pages(post: Any) -> list[dict[str, Any]]:
    pages, answer = [], post(DOC)
    while True:
        pages.append(answer)
        if answer["next_cursor"] is None:
            return pages
        answer = post({**DOC, "cursor": answer["next_cursor"]})


@pytest.mark.parametrize("door", ["library", "rest"])
def test_pages_join_into_the_ranked_list(door: str) -> None:
    client = TestClient(app)
    post = (lambda d: solver.solve(d).model_dump(mode="json")) if door == "library" else (
        lambda d: client.post("/v1/solve", json=d).json())
    pages = _pages(post)
    whole = solver.solve({**DOC, "limit": 1000}).model_dump(mode="json")
    assert len(pages) == 7 and [len(p["solutions"]) for p in pages] == [7] * 6 + [3]  # 45 solutions
    assert [s["layers"] for p in pages for s in p["solutions"]] == [s["layers"] for s in whole["solutions"]]
    assert [p["status"] for p in pages] == ["limit"] * 6 + ["complete"]
    assert all(p["count"] == 45 for p in pages)


def test_a_cursor_is_refused_for_another_problem_or_when_forged() -> None:
    cursor = solver.solve(DOC).next_cursor
    assert cursor is not None
    other = {**DOC, "target_size": [111, 111], "cursor": cursor}
    with pytest.raises(solver.DocumentError, match="another problem"):
        solver.solve(other)
    with pytest.raises(solver.DocumentError, match="not a cursor"):
        solver.solve({**DOC, "cursor": "bm9wZQ=="})
    r = TestClient(app).post("/v1/solve", json={**DOC, "cursor": "%%%"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["body", "cursor"]


def test_pages_through_the_cpsat_fallback_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the exact engine's state limit CP-SAT lists every solution; they are ranked
    by the same objective, and paged the same way."""
    import solver.engines.exact

    exact = solver.solve({**DOC, "limit": 1000})
    monkeypatch.setattr(solver.engines.exact, "MAX_STATES", 0)
    whole = solver.solve({**DOC, "limit": 1000})
    assert whole.engine == "cpsat" and whole.count == 45 and "ranked" in (whole.message or "")
    assert [s.score for s in whole.solutions] == [s.score for s in exact.solutions]
    assert sorted(map(str, (s.layers for s in whole.solutions))) == sorted(map(str, (s.layers for s in exact.solutions)))
    pages = _pages(lambda d: solver.solve(d).model_dump(mode="json"))
    assert {p["engine"] for p in pages} == {"cpsat"}
    assert [s["layers"] for p in pages for s in p["solutions"]] == [s.layers for s in whole.solutions]


def test_writing_out_many_solutions_stops_at_the_time_limit_and_the_next_page_goes_on(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing solutions out can take longer than finding them (10,000 of a deep
    stack): it stops at the time limit, and next_cursor starts after the last written."""
    import time

    import solver.services.solve as solving

    document = {"input_size": [64], "target_size": [16], "limit": 60, "time_limit_s": 1.0, "objective": "least_padding",
                "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 4},
                            "padding": {"min": 0, "max": 3}}] * 2}
    every = [s.layers for s in solver.solve({**document, "limit": 200}).solutions]
    real = solving.solution_layers

    def slow(*args: Any) -> Any:
        time.sleep(0.05)  # 60 solutions: 3 s to write, three times the limit
        return real(*args)

    monkeypatch.setattr(solving, "solution_layers", slow)
    started = time.monotonic()
    first = solver.solve(document)
    assert time.monotonic() - started < 2.5  # not the 3 s writing all of them takes (slack for a busy machine)
    written = len(first.solutions)
    assert 0 < written < 60 and first.status == solver.Status.LIMIT and "allowed writing out" in first.message
    monkeypatch.setattr(solving, "solution_layers", real)
    rest = solver.solve({**document, "cursor": first.next_cursor})
    assert [s.layers for s in first.solutions + rest.solutions] == every[:written + 60]
