"""Batches (issue #16): many documents, answers in their order, one failure never
stopping the rest; locally, on Ray, over REST and from the CLI."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import solver
from solver.cli import ExitCode, app
from solver.services import batch as batching

GOOD = {"input_size": [28], "target_size": [14], "limit": 5,
        "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 3}, "stride": 2, "padding": {"min": 0, "max": 1}}]}
INFEASIBLE = {"input_size": [25], "target_size": "input", "layers": [
    {"type": "conv", "kernel_size": 2, "stride": 2}, {"type": "conv_transpose", "kernel_size": 2, "stride": 2}]}
MALFORMED = {"input_size": [28], "target_size": [14], "layers": [{"type": "conv", "kernal_size": 3}]}
DOCUMENTS = [GOOD, MALFORMED, INFEASIBLE, {**GOOD, "target_size": [7]}]


def _check(items: list[solver.BatchItem]) -> None:
    assert [item.index for item in items] == list(range(len(DOCUMENTS)))
    assert items[0].answer["count"] == solver.solve(GOOD).count and items[0].detail is None
    assert items[1].answer is None and "did you mean 'kernel_size'" in items[1].detail[0]["msg"]
    assert items[2].answer["status"] == "infeasible"
    assert items[3].answer["count"] == solver.solve(DOCUMENTS[3]).count


@pytest.mark.parametrize("workers", [1, 2])
def test_answers_come_in_order_and_a_bad_document_fails_alone(workers: int) -> None:
    _check(list(solver.batch(DOCUMENTS, workers=workers)))


def test_every_kind_of_document_runs_in_a_batch() -> None:
    forward = {"input_size": [32], "layers": [{"type": "conv", "kernel_size": 3}]}
    items = list(solver.batch([forward, {**forward, "input_size": [2]}], "forward", workers=1))
    assert items[0].answer["output_size"] == [30]
    assert items[1].detail[0]["type"] == "layer_rejected" and items[1].detail[0]["layer"] == 0
    [unet] = solver.batch([{"input_size": [64, 64], "depth": 2}], "unet", workers=1)
    assert unet.answer["designs"]
    [drawn] = solver.batch([{**GOOD, "n": 3, "seed": 1}], "sample", workers=1)
    assert drawn.answer["solutions"] == [s.model_dump(mode="json") for s in solver.sample({**GOOD, "n": 3, "seed": 1}).solutions]
    with pytest.raises(solver.ConvsolveError, match="'nope' is not a kind of document"):
        list(solver.batch([GOOD], "nope"))


def test_a_worker_that_dies_fails_its_document_and_the_batch_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers are forked: they see the patched table, whose 'solve' kills the
    process on one document (as the kernel's OOM killer would)."""
    real = batching.RUNS["solve"]

    def fragile(document: Any, **options: Any) -> Any:
        if document.get("die"):
            os._exit(9)
        return real(document, **options)

    monkeypatch.setitem(batching.RUNS, "solve", fragile)
    items = list(solver.batch([GOOD, {"die": True}, GOOD, GOOD, GOOD], workers=2))
    assert [item.index for item in items] == [0, 1, 2, 3, 4]
    assert items[1].detail[0]["type"] == "worker_died"
    assert all(item.answer is not None for item in items[:1] + items[2:])  # only the one that killed it fails


def test_on_ray_the_answers_are_the_same() -> None:
    import ray

    try:
        _check(list(solver.batch(DOCUMENTS, ray_address="local")))
    finally:
        ray.shutdown()


def test_without_ray_installed_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(solver.ConvsolveError, match=r"pip install 'convsolve\[ray\]'"):
        list(solver.batch([GOOD], ray_address="local"))


def test_the_cli_writes_one_line_per_document_and_exits_3_when_one_failed(tmp_path: Path) -> None:
    source = tmp_path / "problems.jsonl"
    source.write_text("\n".join(json.dumps(d) for d in DOCUMENTS[:2]) + "\n\nnot json\n" + json.dumps(GOOD) + "\n")
    target = tmp_path / "answers.jsonl"
    result = CliRunner().invoke(app, ["batch", str(source), "-o", str(target), "--workers", "2"])
    assert result.exit_code == ExitCode.DOCUMENT, result.output
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["index"] for line in lines] == [0, 1, 2, 3]
    assert "answer" in lines[0] and "detail" in lines[1] and "answer" in lines[3]
    assert lines[2]["detail"][0]["msg"].startswith("line 4 is not JSON")
    assert "2 answered, 2 failed" in result.stderr
    source.write_text(json.dumps(GOOD) + "\n" + json.dumps(INFEASIBLE) + "\n")
    result = CliRunner().invoke(app, ["batch", str(source)])
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 2


def test_the_rest_batch_answers_each_document_in_its_place() -> None:
    from fastapi.testclient import TestClient

    from api.main import app as api_app

    with TestClient(api_app) as client:
        r = client.post("/v1/solve/batch", json={"documents": DOCUMENTS})
        assert r.status_code == 200, r.text
        _check([solver.BatchItem(**item) for item in r.json()["items"]])
        too_many = client.post("/v1/solve/batch", json={"documents": [GOOD] * 33})
        assert too_many.status_code == 422 and "at most 32" in too_many.text


def test_a_batch_keeps_one_time_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each document gets what is left of the batch's budget; once it is spent, the rest
    answer timeout at once."""
    slow = {"input_size": [4096, 4000], "target_size": [{"min": 1, "max": 64}] * 2, "time_limit_s": 1,
            "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 9}, "stride": {"min": 1, "max": 3},
                        "padding": {"min": 0, "max": 4}, "dilation": {"min": 1, "max": 3}}] * 14}
    given: list[float] = []
    real = batching.answer_one

    def spy(kind: str, index: int, document: Any, **options: Any) -> solver.BatchItem:
        given.append(options["max_time_s"])
        return real(kind, index, document, **options)

    monkeypatch.setattr(batching, "answer_one", spy)
    answer = solver.solve_batch({"documents": [slow, GOOD, GOOD]}, max_time_s=0.5)
    assert 0.4 < given[0] <= 0.5 and given[1] <= 0.5 - answer.items[0].answer["elapsed_s"] and given[2] < given[1]
    spent = solver.solve_batch({"documents": [GOOD, INFEASIBLE]}, max_time_s=0.0)
    assert [item.answer["status"] for item in spent.items] == ["timeout", "timeout"]
