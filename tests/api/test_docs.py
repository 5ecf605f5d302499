"""/docs and /redoc work offline: every asset they load is the service's own."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.main import app

client = TestClient(app)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_local_assets(page: str) -> None:
    html = client.get(page)
    assert html.status_code == 200 and "openapi.json" in html.text
    assert re.findall(r"https?://", html.text) == []  # no CDN, no web fonts
    assets = re.findall(r"""['"](/static/[^'"]+)['"]""", html.text)
    assert assets
    for asset in assets:
        answer = client.get(asset)
        assert answer.status_code == 200 and answer.content, asset


def test_the_docs_are_not_operations_of_the_api() -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/docs", "/redoc"} & set(paths) and not any(p.startswith("/static") for p in paths)
