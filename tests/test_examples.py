"""Every example runs: problem files through the CLI (and the API), scripts with python."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer.main
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import solver
from api.main import app as api_app
from solver.cli import app

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROBLEMS = sorted(p for p in EXAMPLES.iterdir() if p.suffix in {".yaml", ".yml", ".json"})
SCRIPTS = sorted(EXAMPLES.glob("*.py"))

runner = CliRunner()


def test_there_are_examples() -> None:
    assert PROBLEMS, f"no problem files found in {EXAMPLES}"


@pytest.mark.parametrize("path", PROBLEMS, ids=lambda p: p.name)
def test_problem_file(path: Path) -> None:
    doc = yaml.safe_load(path.read_text())
    command = "solve" if "target_size" in doc else "forward"
    if command not in typer.main.get_command(app).commands:
        pytest.skip(f"{path.name} is a solve document and the CLI has no `{command}` command yet")
    result = runner.invoke(app, [command, str(path), "--json"])
    answer = json.loads(result.stdout)
    # An infeasible example (its explanation is the point) exits 1, as scripts expect;
    # so does a time limit that passes before any solution is found.
    nothing = answer.get("status") == "infeasible" or (answer.get("status") == "timeout" and not answer["solutions"])
    assert result.exit_code == (1 if nothing else 0), result.output
    if command == "forward":
        assert answer == solver.forward(doc).model_dump(mode="json")
        # The REST front door gives the same answer for the same document.
        assert TestClient(api_app).post("/v1/forward", json=doc).json() == answer
    else:
        api_answer = TestClient(api_app).post("/v1/solve", json=doc).json()
        if "anytime" in (answer["engine"], api_answer["engine"]) or answer["status"] == "timeout":
            # What is found by a deadline depends on the machine's speed (and its load):
            # one run may prove its best where the other runs out of time.  Both lists are
            # solutions, and proved bests score the same.
            assert {answer["status"], api_answer["status"]} <= {"timeout", "limit"}
            if answer["optimal"] and api_answer["optimal"]:
                assert [s["score"] for s in api_answer["solutions"]] == [s["score"] for s in answer["solutions"]]
            for solution in api_answer["solutions"]:
                assert solver.forward({"input_size": doc["input_size"],
                                       "layers": solution["layers"]}).output_size == doc["target_size"]
        else:
            assert {**api_answer, "elapsed_s": None} == {**answer, "elapsed_s": None}
        # DESIGN.md: every returned solution is itself a valid forward document reaching target_size.
        target = doc["input_size"] if doc["target_size"] == "input" else doc["target_size"]
        for solution in answer["solutions"]:
            reached = solver.forward({"input_size": doc["input_size"], "layers": solution["layers"],
                                      "convention": doc.get("convention", "pytorch")})
            assert reached.output_size == target, solution


#: Arguments for the scripts whose default run is long: fewer trials, the same checks.
ARGUMENTS = {"ray_tune_search.py": ["--trials", "4"], "optuna_search.py": ["--trials", "12"]}


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_script(path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(path), *ARGUMENTS.get(path.name, [])], cwd=path.parent, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"
