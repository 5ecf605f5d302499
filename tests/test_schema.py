"""The published JSON Schemas (`convsolve schema KIND`, GET /v1/schema/{kind}) describe
the documents: every example validates, and a broken one does not."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.main import app as api_app
from solver.cli import app
from solver.contract import DOCUMENTS

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _schema(kind: str) -> dict:
    result = CliRunner().invoke(app, ["schema", kind])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_the_cli_and_the_service_publish_the_same_schema(kind: str) -> None:
    served = TestClient(api_app).get(f"/v1/schema/{kind}")
    assert served.status_code == 200 and served.json() == _schema(kind)
    jsonschema.Draft202012Validator.check_schema(served.json())


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_example_names_its_schema_and_validates(path: Path) -> None:
    first = path.read_text().splitlines()[0]
    kind = first.rsplit("/", 1)[1]  # "# yaml-language-server: $schema=http://.../v1/schema/solve"
    assert first.startswith("# yaml-language-server: $schema=") and kind in DOCUMENTS
    document = yaml.safe_load(path.read_text())
    validator = jsonschema.Draft202012Validator(_schema(kind))
    assert list(validator.iter_errors(document)) == []
    broken = {**document, "layers": [{**document["layers"][0], "kernal_size": 3}]}
    assert list(validator.iter_errors(broken))


def test_an_unknown_kind_is_refused() -> None:
    assert TestClient(api_app).get("/v1/schema/nope").status_code == 422
    assert CliRunner().invoke(app, ["schema", "nope"]).exit_code == 2


@pytest.mark.parametrize("kind", list(DOCUMENTS))
def test_the_schema_examples_answer_with_solutions(kind: str) -> None:
    import solver

    run = {"forward": solver.forward, "solve": solver.solve, "sample": solver.sample, "input-sizes": solver.input_sizes,
           "unet": solver.plan_unet, "aspp": solver.plan_aspp, "encoder-decoder": solver.plan_encoder_decoder}[kind]
    examples = _schema(kind).get("examples", [])
    assert examples, kind
    for example in examples:
        answer = run(example)
        assert getattr(answer, "status", "complete") in ("complete", "limit"), (kind, example)
        assert getattr(answer, "solutions", None) or getattr(answer, "designs", None) or getattr(answer, "axes", None) \
            or getattr(answer, "output_size", None), (kind, example)
