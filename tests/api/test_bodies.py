"""Documents in YAML as well as JSON on every route that reads one (api/bodies.py), and a
clear 415 for a body in any other type: never a 5xx, never a validation error about
a string where a document was expected."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.main import app
from api.settings import settings as service

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
YAML = {"content-type": "application/yaml"}


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(app)


@pytest.mark.parametrize(("path", "example"), [
    ("/v1/forward", "resnet_stem.yaml"), ("/v1/solve", "single_layer.yaml"), ("/v1/export/torch", "resnet_stem.yaml"),
])
@pytest.mark.parametrize("media", ["application/yaml", "application/x-yaml", "text/yaml; charset=utf-8"])
def test_a_yaml_document_answers_as_its_json(client: TestClient, path: str, example: str, media: str) -> None:
    text = (EXAMPLES / example).read_text()
    as_yaml = client.post(path, content=text, headers={"content-type": media})
    as_json = client.post(path, json=yaml.safe_load(text))
    assert as_yaml.status_code == as_json.status_code == 200
    drop = {"elapsed_s"}
    strip = (lambda r: {k: v for k, v in r.json().items() if k not in drop}) if path == "/v1/solve" else (
        lambda r: r.json())
    assert strip(as_yaml) == strip(as_json)


def test_every_body_route_documents_yaml_and_415(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    posts = [op for ops in paths.values() for method, op in ops.items() if method == "post"]
    assert len(posts) >= 9
    for op in posts:
        assert set(op["requestBody"]["content"]) == {"application/json", "application/yaml"}
        assert "415" in op["responses"]


@pytest.mark.parametrize(("headers", "said"), [
    ({"content-type": "text/plain"}, "as 'text/plain'"),
    ({"content-type": "application/x-www-form-urlencoded"}, "as 'application/x-www-form-urlencoded'"),
    ({}, "with no content type"),
])
def test_a_body_of_another_type_is_told_which_types_work(client: TestClient, headers: dict[str, str],
                                                          said: str) -> None:
    r = client.post("/v1/forward", content='{"input_size": [32], "layers": []}', headers=headers)
    assert r.status_code == 415
    [detail] = r.json()["detail"]
    assert detail["loc"] == ["header", "content-type"] and said in detail["msg"]
    assert "application/json" in detail["msg"] and "application/yaml" in detail["msg"]


def test_a_validation_error_in_yaml_names_the_field_as_json_would(client: TestClient) -> None:
    r = client.post("/v1/forward", content="input_size: [32]\nlayers:\n  - {type: conv, kernel_size: 0}\n",
                    headers=YAML)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][:3] == ["body", "layers", 0]


@pytest.mark.parametrize(("text", "said"), [
    ("input_size: [32\n", "not valid YAML"),
    ("a: &x [1, 2]\nb: *x\n", "aliases"),
])
def test_bad_yaml_says_what_is_wrong(client: TestClient, text: str, said: str) -> None:
    r = client.post("/v1/forward", content=text, headers=YAML)
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "yaml_invalid" and said in r.json()["detail"][0]["msg"]


def test_a_billion_laughs_is_refused_quickly(client: TestClient) -> None:
    """Nine levels of ten aliases each would stand for 10^9 values once written out."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 10)}]" for n in range(1, 9)]
    r = client.post("/v1/forward", content="\n".join(lines), headers=YAML)
    assert r.status_code == 422 and "aliases" in r.text


@pytest.mark.parametrize("text", [
    "".join("  " * i + "a:\n" for i in range(400)) + "  " * 400 + "b: 1\n",  # block nesting
    "a: " + "[" * 5000 + "]" * 5000 + "\n",  # flow nesting
    "- " * 3000 + "1\n",  # nested sequences on one line
])
def test_deep_yaml_is_refused_as_deep_json_is(client: TestClient, text: str) -> None:
    r = client.post("/v1/forward", content=text, headers=YAML)
    assert r.status_code == 422
    assert r.json()["detail"][0]["type"] == "limit_exceeded"


def test_yaml_past_the_size_limit_is_413(client: TestClient) -> None:
    r = client.post("/v1/forward", content="a: " + "x" * (service.max_body_bytes + 1), headers=YAML)
    assert r.status_code == 413


@settings(max_examples=200, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300),
                 st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                              lambda inner: st.lists(inner, max_size=4)
                              | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=30)
                 .map(lambda x: yaml.safe_dump(x) if not isinstance(x, str) else x)))
def test_no_yaml_body_gets_a_server_error(client: TestClient, body: str | bytes) -> None:
    for path in ("/v1/forward", "/v1/solve"):
        r = client.post(path, content=body, headers=YAML)
        assert r.status_code in (200, 413, 422), (r.status_code, r.text[:300])
        json.loads(r.text)  # a JSON answer, whatever came in
