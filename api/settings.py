"""Service settings, read once from CONVSOLVE_* environment variables."""

from __future__ import annotations

import os
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONVSOLVE_", env_ignore_empty=True)

    #: Largest request body accepted, in bytes.
    max_body_bytes: int = 256 * 1024
    #: Deepest nesting of arrays and objects accepted in a JSON body (documents need about 6).
    max_json_depth: int = Field(default=32, ge=1, le=100)
    #: Cap on any solve's time_limit_s, in seconds.
    max_solve_seconds: float = 30.0
    #: Processes that solve (solving is CPU-bound: one per core).
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, le=256)
    #: Solves that may wait for a worker; past that the service answers 503.
    queue: int = Field(default=8, ge=0, le=10_000)

    def budget(self, document: Any) -> float:
        """Seconds a pool job may take: the document's time_limit_s, capped by the server."""
        return min(document.time_limit_s, self.max_solve_seconds)


settings = Settings()
