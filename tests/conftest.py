"""Shared test helpers that live beside the tests: `import strategies`, `import torch_ref`
(`tf_ref`, `onnx_ref`: Keras and onnxruntime), `import torch_models` (the importers' models);
and golden files for CLI output (the `golden` fixture), rewritten with `pytest --overwrite`.

pytest runs with --import-mode=importlib and there are no __init__.py files, so nothing
puts tests/ on sys.path.  It must not be put there either: tests/solver and tests/api
would then shadow the real `solver` and `api` packages (as namespace packages found
before the editable install's finder).  So the helper modules are loaded by file, here,
once, under their own names.
"""

import importlib.util
import inspect
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

HELPERS = ("strategies", "conformance", "torch_ref", "tf_ref", "onnx_ref", "bruteforce", "torch_models")


def _load(name: str) -> None:
    if name in sys.modules:
        return
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


for _name in HELPERS:
    _load(_name)


GOLDEN = Path(__file__).with_name("golden")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--overwrite",
        action="store_true",
        default=False,
        help="Rewrite the golden files under tests/golden/ with the current output.",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with tests/golden/<name>, or rewrite that file under --overwrite."""
    overwrite = request.config.getoption("--overwrite")

    def check(name: str, actual: str) -> None:
        # Trailing spaces (rich pads centred titles) would not survive editors and hooks.
        actual = "".join(line.rstrip() + "\n" for line in actual.splitlines())
        path = GOLDEN / name
        if overwrite:
            path.write_text(actual)
            return
        assert path.exists(), f"{path} does not exist yet: run pytest --overwrite and review it"
        assert actual == path.read_text(), f"output differs from {path} (pytest --overwrite rewrites it)"

    return check


# Markers for a fast loop: pytest -m "not oracle and not slow" (the README says how long).
ORACLES = ("torch", "torch_ref", "tf_ref", "onnx_ref")
#: A test that uses an oracle in its own body (imported there, or called).
USES_ORACLE = re.compile(rf"\bimport ({'|'.join(ORACLES)})\b|\b({'|'.join(ORACLES)})\.")
#: Long sweeps: brute force, schema fuzzing, hostile documents, worker processes and servers.
SLOW = ("test_solve_bruteforce.py", "test_fuzz.py", "test_hostile.py", "test_lifecycle.py", "test_pool.py",
        "test_replicas.py")
#: Single tests as long (a Ray instance started, an example's search run): their names.
SLOW_TESTS = ("ray", "optuna_search")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "oracle: compares with torch, Keras or onnxruntime")
    config.addinivalue_line("markers", "slow: a long sweep (brute force, fuzzing, hostile documents, servers)")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """A run that deselects the slow tests does not collect their files at all: the API
    fuzz builds its cases at collection, half a minute."""
    if collection_path.name in SLOW and "not slow" in (config.option.markexpr or ""):
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module, function = getattr(item, "module", None), getattr(item, "function", None)
        if (item.path.stem in ORACLES  # the oracles' own doctests
                or module is not None and any(name in vars(module) for name in ORACLES)
                or function is not None and USES_ORACLE.search(inspect.getsource(function))):
            item.add_marker(pytest.mark.oracle)
        if item.path.name in SLOW or any(word in item.name for word in SLOW_TESTS):
            item.add_marker(pytest.mark.slow)
