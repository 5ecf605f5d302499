"""Every named example in /docs works as sent: 200, with solutions, designs, sizes or
code; only the example named for an explanation is infeasible, and explains."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

import solver
from api.main import app


@pytest.fixture(scope="module")
def client() -> Any:
    with TestClient(app) as c:  # the lifespan starts the solver processes once
        yield c


def _examples() -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            found += [(path, name, example["value"]) for name, example in body.get("examples", {}).items()]
    return found


def test_every_post_operation_has_examples() -> None:
    posted = {p for p, item in app.openapi()["paths"].items() if "post" in item}
    assert posted == {path for path, _, _ in _examples()}


@pytest.mark.parametrize(("path", "name", "document"), _examples(), ids=lambda x: x if isinstance(x, str) else "")
def test_each_example_answers_as_named(client: TestClient, path: str, name: str, document: dict[str, Any]) -> None:
    r = client.post(path, json=document)
    assert r.status_code == 200, r.text
    if path.endswith("/stream"):
        head = json.loads(r.text.splitlines()[0])
        body = {**head, "solutions": [json.loads(line) for line in r.text.splitlines()[1:]]}
    else:
        body = r.json()
    if name.endswith("_infeasible"):
        assert body["status"] == "infeasible" and body["explanation"]["repairs"], body
    elif "code" in body:
        assert "def " in body["code"] or "class " in body["code"]
    elif "designs" in body:
        assert body["designs"], body
    elif "solutions" in body:
        assert body["status"] in ("complete", "limit") and body["solutions"], body
    elif "traced_with" in body:  # an import: a forward document that forward answers
        assert body["document"]["layers"], body
        assert solver.forward(body["document"]).output_size
    elif "items" in body:  # a batch: every document in its place, answered or refused on its own
        items = body["items"]
        assert [item["index"] for item in items] == list(range(len(document["documents"])))
        assert all((item["answer"] is None) != (item["detail"] is None) for item in items)
        assert any(item["answer"] and item["answer"]["solutions"] for item in items), body
    elif "axes" in body:
        assert body["axes"] and body["message"], body
    else:
        assert body["output_size"], body
