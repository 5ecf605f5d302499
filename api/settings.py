"""Service settings, read once from CONVSOLVE_* environment variables."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CONVSOLVE_", env_ignore_empty=True)

    #: Largest request body accepted, in bytes.
    max_body_bytes: int = 256 * 1024
    #: Cap on any solve's time_limit_s, in seconds.
    max_solve_seconds: float = 30.0


settings = Settings()
