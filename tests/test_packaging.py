"""What `pip install .` ships: every package of the project (a non-editable install, as
the README's serve command and the Docker image make, has only these)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_installed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    shipped = set(find_packages(str(ROOT), include=config["include"]))
    packages = {".".join(p.parent.relative_to(ROOT).parts) for top in ("solver", "api", "convsolve")
                for p in (ROOT / top).rglob("__init__.py")}
    assert packages <= shipped, f"not installed by `pip install .`: {sorted(packages - shipped)}"


def test_the_library_says_it_is_typed() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "py.typed" in config["package-data"]["solver"] and (ROOT / "solver" / "py.typed").is_file()
