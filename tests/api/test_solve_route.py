"""POST /v1/solve: the same answers as solver.solve, honest statuses, clear limits."""

from __future__ import annotations

import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

import solver
from api.main import app
from api.settings import settings


@pytest.fixture
def client() -> TestClient:
    return TestClient(app)


SINGLE = {"input_size": [28, 28], "target_size": [14, 14], "objective": "smallest_kernels", "limit": 3,
          "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 4}, "stride": {"min": 1, "max": 2},
                      "padding": {"min": 0, "max": 1}, "name": "c"}]}


def _without_time(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != "elapsed_s"}


def test_solve_ranks_counts_and_matches_the_library(client: TestClient) -> None:
    r = client.post("/v1/solve", json=SINGLE)
    assert r.status_code == 200
    body = r.json()
    # 28 -> 14 with stride 2: k1/k2 with padding 0, k3/k4 with padding 1 (hand-checked).
    assert (body["status"], body["count"]) == ("limit", 4)
    assert [s["layers"][0]["kernel_size"] for s in body["solutions"]] == [[1, 1], [2, 2], [3, 3]]
    assert [s["score"] for s in body["solutions"]] == [[2], [4], [6]]
    assert _without_time(body) == _without_time(solver.solve(SINGLE).model_dump(mode="json"))


def test_every_solution_is_a_forward_document(client: TestClient) -> None:
    body = client.post("/v1/solve", json={**SINGLE, "limit": 10}).json()
    assert body["status"] == "complete"
    for s in body["solutions"]:
        fwd = client.post("/v1/forward", json={"input_size": SINGLE["input_size"], "layers": s["layers"]})
        assert fwd.status_code == 200 and fwd.json()["output_size"] == SINGLE["target_size"]


def test_count_is_exact_past_2_to_the_53(client: TestClient) -> None:
    free = {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 3}}
    doc = {"input_size": [256, 256], "target_size": "input", "limit": 0,
           "layers": [{"type": "conv", **free}] * 6
           + [{"type": "conv_transpose", **free, "output_padding": {"min": 0, "max": 1}}] * 6}
    body = client.post("/v1/solve", json=doc).json()
    assert body["count"] == solver.solve(doc).count > 2**53  # JSON keeps every digit


def test_infeasible_answers_200_with_an_explanation(client: TestClient) -> None:
    doc = {"input_size": [25], "target_size": "input",
           "layers": [{"name": "down", "type": "conv", "kernel_size": 2, "stride": 2},
                      {"name": "up", "type": "conv_transpose", "kernel_size": 2, "stride": 2}]}
    r = client.post("/v1/solve", json=doc)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "infeasible" and body["count"] == 0
    why = body["explanation"]
    assert {"layer", "axis", "rule"} <= set(why["conflicts"][0])
    assert why["repairs"] and all(
        client.post("/v1/solve", json=rep["document"]).json()["count"] > 0 for rep in why["repairs"])


def test_a_domain_past_the_limit_answers_422_naming_it(client: TestClient) -> None:
    doc = {**SINGLE, "layers": [{"type": "conv", "kernel_size": {"min": 1, "max": 10_000}}]}
    r = client.post("/v1/solve", json=doc)
    assert r.status_code == 422
    [detail] = r.json()["detail"]
    assert detail["type"] == "limit_exceeded" and "4096" in detail["msg"]


def test_too_many_combinations_in_one_layer_answers_422(client: TestClient) -> None:
    big = {"min": 1, "max": 4000}
    doc = {**SINGLE, "layers": [{"type": "conv", "kernel_size": big, "padding": big}]}
    r = client.post("/v1/solve", json=doc)
    assert r.status_code == 422 and "1,000,000" in r.json()["detail"][0]["msg"]


def test_time_limit_is_honoured(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    free = {"kernel_size": {"min": 1, "max": 7}, "stride": {"min": 1, "max": 2}, "padding": {"min": 0, "max": 3}}
    doc = {"input_size": [256, 256], "target_size": "input", "limit": 10, "objective": "smallest_kernels",
           "time_limit_s": 0.05,
           "layers": [{"type": "conv", **free}] * 8
           + [{"type": "conv_transpose", **free, "output_padding": {"min": 0, "max": 1}}] * 8}
    # Not counted in time; the anytime search may prove its best (all kernels 1) in time: limit.
    start = time.monotonic()
    body = client.post("/v1/solve", json=doc).json()
    assert body["count"] is None and body["status"] in ("timeout", "limit")
    assert time.monotonic() - start < 2
    monkeypatch.setattr(settings, "max_solve_seconds", 0.05)  # the server's cap wins
    body = client.post("/v1/solve", json={**doc, "time_limit_s": 60}).json()
    assert body["count"] is None and body["status"] in ("timeout", "limit")


def test_malformed_solve_documents_answer_422(client: TestClient) -> None:
    for doc, where in [
        ({**SINGLE, "input_sizes": [[8, 8]]}, "input_size"),
        ({**SINGLE, "layers": [{"type": "conv", "kernel_size": {"min": 3, "max": 1}}]}, "kernel_size"),
        ({**SINGLE, "ties": [{"layers": ["c", "nope"], "params": ["padding"]}]}, "ties"),
        ({**SINGLE, "targets": {"nope": 3}}, "targets"),
        ({**SINGLE, "limit": 10**6}, "limit"),
    ]:
        r = client.post("/v1/solve", json=doc)
        assert r.status_code == 422, doc
        assert where in str(r.json()["detail"][0]), r.json()


def test_export_route_returns_code_that_runs(client: TestClient) -> None:
    import torch
    import torch_ref

    doc = {"input_size": [32], "in_channels": 2, "layers": [
        {"type": "conv", "kernel_size": 3, "stride": 2, "padding": 1, "out_channels": 4}]}
    r = client.post("/v1/export/torch", json=doc)
    assert r.status_code == 200 and r.json()["language"] == "python"
    assert list(torch_ref.exported(r.json()["code"])(torch.zeros(1, 2, 32)).shape) == [1, 4, 16]
    bad = client.post("/v1/export/torch", json={**doc, "layers": [{"type": "conv", "kernel_size": 40}]})
    assert bad.status_code == 422 and bad.json()["detail"][0]["rule"] == "kernel_fits_input"


def test_keras_export_route(client: TestClient) -> None:
    import tf_ref

    doc = {"convention": "tensorflow", "input_size": [15], "in_channels": 2, "layers": [
        {"type": "conv", "kernel_size": 3, "stride": 2, "padding": "same", "out_channels": 4}]}
    r = client.post("/v1/export/keras", json=doc)
    assert r.status_code == 200
    assert tf_ref.run_model(r.json()["code"], "build_net", (15, 2)) == [[8]]
    torch_code = client.post("/v1/export/torch", json=doc).json()["code"]
    assert "nn.ZeroPad1d((1, 1))" in torch_code  # TensorFlow's padding, written out
    bad = client.post("/v1/export/keras", json={**doc, "convention": "pytorch"})
    assert bad.status_code == 422 and "tensorflow convention" in str(bad.json())


def test_input_sizes_route(client: TestClient) -> None:
    doc = {"input_size": [500], "range": {"min": 8, "max": 600}, "round_trip": True,
           "layers": [{"type": "max_pool", "kernel_size": 2}] * 4 + [{"type": "upsample", "scale_factor": 16}]}
    r = client.post("/v1/input-sizes", json=doc)
    assert r.status_code == 200
    [axis] = r.json()["axes"]
    assert axis["pattern"] == "multiples of 16 from 16"
    assert (axis["nearest"]["below"], axis["nearest"]["above"]) == (496, 512)
    assert client.post("/v1/input-sizes", json={**doc, "range": {"min": 1, "max": 20_000}}).status_code == 422


def test_the_encoder_decoder_planner_answers_under_its_name_and_its_old_one(client: TestClient) -> None:
    plan = {"kind": "generator", "image_size": [64, 64], "depth": 5}
    new, old = (client.post(f"/v1/plan/{name}", json=plan) for name in ("encoder-decoder", "autoencoder"))
    assert new.status_code == old.status_code == 200 and new.json() == old.json()
    assert new.json()["designs"], new.json()
    paths = client.get("/openapi.json").json()["paths"]
    assert paths["/v1/plan/autoencoder"]["post"]["deprecated"] is True
    assert "deprecated" not in paths["/v1/plan/encoder-decoder"]["post"]
