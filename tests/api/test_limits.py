"""JSON nested deeper than settings.max_json_depth answers 422 (or 413 when it is also
too large) on every route that reads a body, however deep: never 500 or a parse error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.limits import nested_deeper
from api.main import _finite, app
from api.settings import settings


def _arrays(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def _objects(depth: int) -> bytes:
    return b'{"a": ' * depth + b"1" + b"}" * depth


def _in_a_document(depth: int) -> bytes:
    """A plausible document with one deep field."""
    return b'{"input_size": [5], "layers": [{"type": "conv", "kernel_size": ' + _arrays(depth) + b"}]}"


SHAPES: dict[str, Callable[[int], bytes]] = {"arrays": _arrays, "objects": _objects, "in-a-document": _in_a_document}


def _post_routes(api_routes: list[Any]) -> list[str]:
    paths = sorted(r.path for r in api_routes if "POST" in r.methods)
    assert len(paths) >= 9
    return paths


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("depth", [100, 480, 5000, 100_000])
def test_deep_json_answers_422_on_every_route(api_routes: list[Any], depth: int, shape: str) -> None:
    client = TestClient(app, raise_server_exceptions=False)
    build = SHAPES[shape]
    bodies = [build(depth)]
    if len(bodies[0]) > settings.max_body_bytes:  # too large: 413; and as deep as the limit allows: 422
        fits = next(d for d in range(depth, 0, -max(1, depth // 100)) if len(build(d)) <= settings.max_body_bytes)
        bodies.append(build(fits))
    for path in _post_routes(api_routes):
        for body in bodies:
            r = client.post(path, content=body, headers={"content-type": "application/json"})
            if len(body) > settings.max_body_bytes:
                assert r.status_code == 413, (path, r.text[:300])
                continue
            assert r.status_code == 422, (path, len(body), r.text[:300])
            [detail] = r.json()["detail"]
            assert detail["type"] == "limit_exceeded" and detail["loc"] == ["body"]
            assert f"nested deeper than {settings.max_json_depth} levels" in detail["msg"]


def test_the_depth_limit_is_exact_and_follows_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    client = TestClient(app)
    limit = settings.max_json_depth
    doc = {"input_size": [5], "layers": [{"type": "conv", "kernel_size": 1}]}  # 3 levels deep
    assert client.post("/v1/forward", json=doc).status_code == 200
    # Deep as allowed: ordinary validation errors (an unknown field 'a', the missing ones).
    at = client.post("/v1/forward", content=_objects(limit), headers={"content-type": "application/json"})
    assert at.status_code == 422 and {d["type"] for d in at.json()["detail"]} == {"extra_forbidden", "missing"}
    past = client.post("/v1/forward", content=_objects(limit + 1), headers={"content-type": "application/json"})
    assert past.status_code == 422 and past.json()["detail"][0]["type"] == "limit_exceeded"
    monkeypatch.setattr(settings, "max_json_depth", 2)
    assert client.post("/v1/forward", json=doc).json()["detail"][0]["type"] == "limit_exceeded"


@pytest.mark.parametrize(("body", "deeper"), [
    (b'{"name": "' + b"[" * 100 + b'"}', False),  # brackets in a string are text
    (b'{"name": "\\"' + b"[" * 100 + b'"}', False),  # after an escaped quote, still in the string
    (b'{"name": "\\\\"' + b", " + b"[" * 40 + b"]" * 40 + b"}", True),  # \\ then the string ends
    (b"[" * 40, True),  # unclosed counts too
    (b"[]" * 1000, False),  # wide, not deep
    (b"[" * 32 + b"]" * 32, False),
    (b"[" * 33 + b"]" * 33, True),
])
def test_nested_deeper(body: bytes, deeper: bool) -> None:
    assert nested_deeper(body, 32) is deeper


def test_echoes_are_cut_not_recursed_without_bound() -> None:
    deep: Any = [float("nan")]
    for _ in range(100_000):
        deep = [deep]
    cut = _finite(deep)  # no RecursionError
    for _ in range(100):
        cut = cut[0]
    assert cut == "..."
    assert _finite({"a": [float("inf"), 1.5]}) == {"a": ["inf", 1.5]}
