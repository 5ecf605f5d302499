"""Settings come from CONVSOLVE_* environment variables, the ones docker-compose.yml passes."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from api.settings import Settings

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONVSOLVE_MAX_BODY_BYTES", raising=False)
    monkeypatch.delenv("CONVSOLVE_MAX_SOLVE_SECONDS", raising=False)
    assert Settings().max_body_bytes == 256 * 1024
    assert Settings().max_solve_seconds == 30.0


def test_read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVSOLVE_MAX_BODY_BYTES", "1000")
    monkeypatch.setenv("CONVSOLVE_MAX_SOLVE_SECONDS", "2.5")
    assert Settings().max_body_bytes == 1000
    assert Settings().max_solve_seconds == 2.5


def test_bad_value_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONVSOLVE_MAX_BODY_BYTES", "lots")
    with pytest.raises(ValidationError):
        Settings()


def test_compose_passes_every_setting() -> None:
    service = yaml.safe_load(COMPOSE.read_text())["services"]["convsolve"]
    assert set(service["environment"]) == {f"CONVSOLVE_{name.upper()}" for name in Settings.model_fields}
