"""Configuration in one place: environment variables `PILOTZONES_*` (secrets never logged)."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "PILOTZONES_"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True)

    home: Path = Path(".pilotzones")
    # SQLAlchemy URL of the state database; default: SQLite file in the home.
    database_url: str | None = None
    # How notices leave: `smtp` (a deployment that must send mail: without an SMTP host nothing is
    # written or marked sent) or `files` (`.eml` in the outbox folder). Unset: SMTP when a host is
    # set, else files, as on one office machine.
    delivery: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: str = "none"  # none | starttls | ssl
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str | None = None


def settings() -> Settings:
    """The settings as the environment gives them now.

    Reading them costs about a millisecond (pydantic-settings inspects every field and the whole
    environment), and `Home.db_url` asks for them at every database access: so they are read once
    per distinct set of `PILOTZONES_*` variables. Changing one (as tests do) gives fresh settings.
    """
    return _settings(prefixed_environment())


def prefixed_environment() -> tuple[tuple[str, str], ...]:
    """The `PILOTZONES_*` variables, the only ones Settings reads (names are case-insensitive)."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(PREFIX)))


@lru_cache(maxsize=8)
def _settings(_environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()
