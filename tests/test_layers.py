"""The layering of pyproject.toml's [tool.importlinter] holds: imports flow one way,
front doors -> services -> engines -> contract -> rules, function-level imports included."""

from __future__ import annotations

import os
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_imports_flow_one_way(capsys: object) -> None:
    here = Path.cwd()
    os.chdir(ROOT)  # the configuration is the project's pyproject.toml
    try:
        code = lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True, no_logo=True)
    finally:
        os.chdir(here)
    assert code == 0, capsys.readouterr().out  # type: ignore[attr-defined]
