"""Configuration in one place: environment variables `PILOTZONES_*` (secrets never logged)."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PILOTZONES_", extra="ignore")

    home: Path = Path(".pilotzones")
    # SQLAlchemy URL of the state database; default: SQLite file in the home.
    database_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: str = "none"  # none | starttls | ssl
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str | None = None


def settings() -> Settings:
    return Settings()
