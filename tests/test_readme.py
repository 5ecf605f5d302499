"""The README's examples are real: its Python snippet prints what the README says, and
the CLI table it shows is what `convsolve solve` prints for that file."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from solver.cli import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def test_python_snippet_prints_what_the_readme_says() -> None:
    [code] = re.findall(r"```python\n(.*?)```", README, re.S)
    expected = [line.removeprefix("# ") for line in code.splitlines() if line.startswith("# ")]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})  # noqa: S102 - our own README
    assert out.getvalue().splitlines() == expected


@pytest.mark.parametrize("example", ["single_layer.yaml", "keras_autoencoder.yaml", "odd_round_trip.yaml"])
def test_solve_table_is_the_real_output(example: str) -> None:
    block = README.split(f"$ convsolve solve examples/{example}\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(app, ["solve", str(ROOT / "examples" / example)])
    assert result.exit_code == (1 if "status: infeasible" in block else 0)
    shown = block.splitlines()[1:]  # the status line carries a time
    assert result.output.splitlines()[1:len(shown) + 1] == shown
    assert re.sub(r"time: \S+ s", "", result.output.splitlines()[0]) == re.sub(
        r"time: \S+ s", "", block.splitlines()[0])


@pytest.mark.parametrize("command", [line.removeprefix("$ convsolve ") for line in README.splitlines()
                                     if line.startswith("$ convsolve ") and not line.startswith("$ convsolve solve ")])
def test_every_other_cli_block_is_the_real_output(command: str, monkeypatch: pytest.MonkeyPatch,
                                                   tmp_path: Path) -> None:
    """The planner, input-sizes, sample and batch blocks too, line by line (trailing
    spaces aside); a batch in which a document failed exits 3."""
    block = README.split(f"$ convsolve {command}\n", 1)[1].split("```", 1)[0]
    # The commands name examples/ as the README's reader would; what they write lands here.
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, shlex.split(command))
    failed = re.search(r"answered, ([1-9]\d*) failed", block)
    assert result.exit_code == (3 if failed else 0), result.output
    shown = [line.rstrip() for line in block.splitlines()]
    assert [line.rstrip() for line in result.output.splitlines()] == shown
