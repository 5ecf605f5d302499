"""The REST front door: /healthz and POST /v1/forward, through FastAPI's TestClient."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
import yaml
from fastapi.testclient import TestClient
from torch import nn

import solver
from api.main import app
from api.settings import settings

# ResNet-50 stem.  conv1: floor((224 + 2*3 - 7)/2) + 1 = 112, 64*3*7*7 = 9408 weights (no bias),
# 112*112 outputs * 64 * 147 = 118,013,952 MACs, receptive field 7, jump 2.
# pool1: floor((112 + 2*1 - 3)/2) + 1 = 56, receptive field 7 + (3-1)*2 = 11, jump 4.
STEM = yaml.safe_load((Path(__file__).resolve().parents[2] / "examples" / "resnet_stem.yaml")
                      .read_text())


@pytest.fixture
def client() -> TestClient:
    # Server errors come back as 500 responses instead of being raised into the test.
    return TestClient(app, raise_server_exceptions=False)


def test_healthz(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json() == {"status": "ok", "version": solver.__version__}


def test_forward_resnet_stem(client: TestClient) -> None:
    r = client.post("/v1/forward", json=STEM)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["output_size"] == [56, 56]
    assert body["out_channels"] == 64
    assert body["params"] == 9408
    assert body["macs"] == 118_013_952
    assert body["receptive_field"] == [11, 11]
    conv1, pool1 = body["layers"]
    assert (conv1["name"], conv1["output_size"], conv1["params"]) == ("conv1", [112, 112], 9408)
    assert (conv1["padding"], conv1["receptive_field"], conv1["jump"]) == ([[3, 3], [3, 3]], [7, 7], [2, 2])
    assert (pool1["name"], pool1["output_size"], pool1["params"]) == ("pool1", [56, 56], 0)
    assert (pool1["receptive_field"], pool1["jump"]) == ([11, 11], [4, 4])


def test_forward_same_answer_as_library(client: TestClient) -> None:
    r = client.post("/v1/forward", json=STEM)
    assert r.json() == solver.forward(STEM).model_dump(mode="json")


def _torch_run(module: nn.Module, shape: tuple[int, ...]) -> None:
    module(torch.zeros(shape))


# (document, layer index, name, axis, rule, field in loc, the same layer in torch)
REJECTED: list[Any] = [
    pytest.param(
        {"input_size": [5, 5], "layers": [{"type": "conv", "kernel_size": [3, 7], "name": "wide"}]},
        0, "wide", 1, "kernel_fits_input", "kernel_size",
        lambda: _torch_run(nn.Conv2d(1, 1, (3, 7)), (1, 1, 5, 5)),
        id="conv-kernel-wider-than-input",
    ),
    pytest.param(
        {**STEM, "layers": [STEM["layers"][0], {**STEM["layers"][1], "padding": 2}]},
        1, "pool1", 0, "pool_padding_at_most_half_kernel", "padding",
        lambda: _torch_run(nn.MaxPool2d(3, stride=2, padding=2), (1, 64, 112, 112)),
        id="max-pool-padding-over-half-kernel",
    ),
    pytest.param(
        {"input_size": [8, 8], "layers": [{"type": "conv_transpose", "kernel_size": 3, "stride": [2, 1],
                                           "output_padding": 1, "name": "up"}]},
        0, "up", 1, "output_padding_smaller_than_stride_or_dilation", "output_padding",
        lambda: _torch_run(nn.ConvTranspose2d(1, 1, 3, stride=(2, 1), output_padding=1), (1, 1, 8, 8)),
        id="conv-transpose-output-padding",
    ),
    pytest.param(
        {"input_size": [8, 8], "layers": [{"type": "conv", "kernel_size": 3, "padding": "same",
                                           "stride": 2, "name": "s"}]},
        0, "s", 0, "same_needs_stride_1", "stride",
        lambda: _torch_run(nn.Conv2d(1, 1, 3, stride=2, padding="same"), (1, 1, 8, 8)),
        id="same-padding-strided",
    ),
    pytest.param(
        {"input_size": [5], "layers": [{"type": "upsample", "scale_factor": 0.1, "name": "down"}]},
        0, "down", 0, "output_positive", "scale_factor",
        lambda: _torch_run(nn.Upsample(scale_factor=0.1), (1, 1, 5)),
        id="upsample-to-zero",
    ),
]


@pytest.mark.parametrize(("doc", "index", "name", "axis", "rule", "field", "in_torch"), REJECTED)
def test_rejected_layer_names_layer_axis_and_rule(
    client: TestClient, doc: dict[str, Any], index: int, name: str, axis: int, rule: str, field: str,
    in_torch: Callable[[], None],
) -> None:
    with pytest.raises((RuntimeError, ValueError)):
        in_torch()  # the case really is one PyTorch refuses
    r = client.post("/v1/forward", json=doc)
    assert r.status_code == 422, r.text
    [detail] = r.json()["detail"]
    assert detail["type"] == "layer_rejected"
    assert (detail["layer"], detail["name"], detail["axis"], detail["rule"]) == (index, name, axis, rule)
    assert detail["loc"] == ["body", "layers", index, field]
    assert f"layer {index} '{name}'" in detail["msg"]
    assert f"axis {axis}" in detail["msg"]


def _layer(**fields: Any) -> dict[str, Any]:
    return {"input_size": [32, 32], "layers": [{"type": "conv", **fields}]}


# (document, expected loc of the first error as the user wrote it (no type tag, no union
# branch: the library's and the CLI's words), expected error type)
MALFORMED: list[Any] = [
    pytest.param({"input_size": [32], "layers": [{"type": "dense", "kernel_size": 3}]},
                 ["body", "layers", 0], "union_tag_invalid", id="unknown-type"),
    pytest.param(_layer(kernel_size=[3, 3, 3]),
                 ["body", "layers", 0, "kernel_size"], "document_error", id="three-values-two-axes"),
    pytest.param({"input_size": [32, 32, 32, 32], "layers": []},
                 ["body", "input_size"], "too_long", id="four-spatial-axes"),
    pytest.param(_layer(), ["body", "layers", 0, "kernel_size"], "missing", id="missing-kernel"),
    pytest.param({"layers": []}, ["body", "input_size"], "missing", id="missing-input-size"),
    pytest.param(_layer(kernel_size=True),
                 ["body", "layers", 0, "kernel_size"], "int_type", id="bool-kernel"),
    pytest.param(_layer(kernel_size={"min": 1, "max": 7}),
                 ["body", "layers", 0, "kernel_size"], "document_error", id="domain-in-forward"),
    pytest.param(_layer(kernel_size=[3, {"choices": [1, 3]}]),
                 ["body", "layers", 0, "kernel_size"], "document_error", id="per-axis-domain-in-forward"),
    pytest.param({"input_size": [32], "layers": [{"type": "max_pool", "kernel_size": 2,
                                                  "ceil_mode": {"choices": [True, False]}}]},
                 ["body", "layers", 0, "ceil_mode"], "document_error", id="ceil-mode-domain-in-forward"),
    pytest.param(_layer(kernel_size=3, kernal=5),
                 ["body", "layers", 0, "kernal"], "extra_forbidden", id="misspelt-field"),
]


@pytest.mark.parametrize(("doc", "loc", "kind"), MALFORMED)
def test_malformed_document_answers_422_with_location(
    client: TestClient, doc: dict[str, Any], loc: list[Any], kind: str
) -> None:
    r = client.post("/v1/forward", json=doc)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail[0]["loc"] == loc
    assert detail[0]["type"] == kind
    assert all(d["loc"][0] == "body" and d["msg"] for d in detail)


def test_bool_is_refused_where_the_int_is_accepted(client: TestClient) -> None:
    # The same document with kernel_size 1 instead of true is fine: the 422 is about the bool.
    assert client.post("/v1/forward", json=_layer(kernel_size=1)).status_code == 200
    assert client.post("/v1/forward", json=_layer(kernel_size=True)).status_code == 422


def _padded(size: int) -> bytes:
    """The stem document, padded with trailing spaces to exactly `size` bytes of valid JSON."""
    body = json.dumps(STEM).encode()
    return body + b" " * (size - len(body))


def test_body_at_the_limit_is_served(client: TestClient) -> None:
    r = client.post("/v1/forward", content=_padded(settings.max_body_bytes),
                    headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text


def test_body_over_the_limit_answers_413(client: TestClient) -> None:
    r = client.post("/v1/forward", content=_padded(settings.max_body_bytes + 1),
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    [detail] = r.json()["detail"]
    assert (detail["type"], detail["loc"]) == ("limit_exceeded", ["body"])
    assert str(settings.max_body_bytes) in detail["msg"]


def test_body_limit_follows_settings(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "max_body_bytes", 100)
    assert len(json.dumps(STEM)) > 100
    assert client.post("/v1/forward", json=STEM).status_code == 413


def test_chunked_body_over_the_limit_answers_413(client: TestClient) -> None:
    def chunks() -> Any:
        yield _padded(settings.max_body_bytes + 1)

    r = client.post("/v1/forward", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"{", id="broken-json"),
        pytest.param(b"null", id="null"),
        pytest.param(b"[1, 2]", id="list"),
        pytest.param(b'"text"', id="string"),
        pytest.param(b"[" * 100_000, id="deeply-nested"),
        pytest.param(b'{"input_size": [5], "layers": [{"type": "conv", "kernel_size": 99999999999999999999}]}',
                     id="huge-int"),
        pytest.param(b'{"input_size": [1048576], "layers": [{"type": "upsample", "scale_factor": 1024},'
                     b' {"type": "upsample", "scale_factor": 1024}, {"type": "conv", "kernel_size": 3}]}',
                     id="huge-intermediate-size"),
        pytest.param(b'{"input_size": [5], "layers": [{"type": "max_pool", "kernel_size": 3,'
                     b' "stride": {"min": 2, "max": 1}}]}', id="empty-range"),
        pytest.param(b'{"input_size": [5], "in_channels": 0, "layers": []}', id="zero-channels"),
        pytest.param(b'{"input_size": [5], "in_channels": 4, "layers": [{"type": "conv", "kernel_size": 1,'
                     b' "groups": 3}]}', id="groups-not-dividing"),
        pytest.param(b'{"input_size": [5], "layers": [{"type": "upsample", "scale_factor": NaN}]}',
                     id="nan"),
        pytest.param(b'{"input_size": [5], "layers": [{"type": "upsample", "scale_factor": [Infinity]}]}',
                     id="infinity"),
    ],
)
def test_nothing_answers_500(client: TestClient, body: bytes) -> None:
    r = client.post("/v1/forward", content=body, headers={"content-type": "application/json"})
    assert r.status_code < 500, r.text


def test_forward_in_another_convention(client: TestClient) -> None:
    """TensorFlow's 'same' on 75: 38, padded [1, 1]; a strided dilated Keras conv is a 422
    naming the layer and the rule; ONNX's begin/end pads come back as given."""
    conv = {"name": "enc", "type": "conv", "kernel_size": 3, "stride": 2, "padding": "same"}
    r = client.post("/v1/forward", json={"convention": "tensorflow", "input_size": [75, 60], "layers": [conv]})
    assert r.status_code == 200
    assert r.json()["output_size"] == [38, 30] and r.json()["layers"][0]["padding"] == [[1, 1], [0, 1]]
    r = client.post("/v1/forward", json={"convention": "tensorflow", "input_size": [75],
                                         "layers": [{**conv, "dilation": 2}]})
    assert r.status_code == 422
    detail = r.json()["detail"][0]
    assert (detail["layer"], detail["name"], detail["rule"]) == (0, "enc", "stride_and_dilation_not_both")
    r = client.post("/v1/forward", json={"convention": "onnx", "input_size": [10], "layers": [
        {"type": "max_pool", "kernel_size": 3, "stride": 2, "padding": 2, "padding_end": 0, "ceil_mode": True}]})
    assert r.status_code == 200 and r.json()["layers"][0]["padding"] == [[2, 0]]
    r = client.post("/v1/forward", json={"input_size": [10], "layers": [{**conv, "padding": "same_upper"}]})
    assert r.status_code == 422 and r.json()["detail"][0]["rule"] == "padding_mode_of_convention"
