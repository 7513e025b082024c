"""Configuration in one place: every `PILOTZONES_*` environment variable, typed and documented here
(and in README's Configuration table), read through `settings()` only. Secrets are SecretStr: their
repr is `**********`, and only the code that hands them to a server or driver unwraps them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX = "PILOTZONES_"


class Settings(BaseSettings):
    # An empty variable counts as unset, as `os.environ.get(NAME) or DEFAULT` read it before.
    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="ignore", frozen=True, env_ignore_empty=True)

    home: Path = Field(Path(".pilotzones"), description="state home when no --home is given")
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL of the state database (may hold a password); default: SQLite in the home",
    )

    # -- notices ---------------------------------------------------------------------------------
    delivery: str | None = Field(
        None,
        description="how notices leave: `smtp` (without a host nothing is written or marked sent) or "
        "`files` (`.eml` in the outbox folder); unset: smtp exactly when a host is set",
    )
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_security: str = Field("none", description="none | starttls | ssl")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str | None = Field(None, description="sender address; unset: notices@pilotzones.invalid")
    smtp_attempts: int = Field(4, description="tries per message, and per attempt to connect")
    smtp_backoff: float = Field(2.0, description="seconds before the first retry, doubled each time")
    smtp_timeout: float = Field(30.0, description="socket timeout in seconds")
    templates: Path | None = Field(None, description="the notice templates' folder; unset: the project's templates/")

    # -- approval in the UI ----------------------------------------------------------------------
    approval_timeout: int = Field(14 * 24 * 3600, description="seconds a scheduled run waits for approval")
    approval_poll: float = Field(10.0, description="seconds between a paused run's looks at the database")

    # -- drills and tests ------------------------------------------------------------------------
    fault: str = Field("", description="drills: STEP, STEP:kill or STEP:sleep at a named step")
    fault_once: Path | None = Field(None, description="a marker file: the fault fires once, then the file exists")
    fault_sleep: float = Field(20.0, description="seconds STEP:sleep holds the stage")
    # Read by others, named here so that the list is complete: prefect.yaml's pull step (the
    # checkout's path) and the test suite (./dev test, tests/conftest.py).
    checkout: Path | None = Field(None, description="the repository checkout prefect.yaml's deployments run from")
    test_pg: str | None = Field(None, description="tests: the PostgreSQL admin URL they create databases with")
    test_workers: str | None = Field(None, description="tests: pytest-xdist workers of ./dev test (0: in-process)")

    def database_url_value(self) -> str | None:
        """The state database's URL itself, for the engine (never for a message: see home.safe_url)."""
        return self.database_url.get_secret_value() if self.database_url else None


def settings() -> Settings:
    """The settings: the one way the code reads a PILOTZONES_* variable.

    Read once per process in practice: the result is kept per distinct set of `PILOTZONES_*`
    variables (reading costs about a millisecond, pydantic-settings inspecting every field and the
    whole environment, and `Home.db_url` asks at every database access). Only a change of one of
    them (as tests make) gives fresh settings.
    """
    return _settings(prefixed_environment())


def prefixed_environment() -> tuple[tuple[str, str], ...]:
    """The `PILOTZONES_*` variables, the only ones Settings reads (names are case-insensitive)."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(PREFIX)))


@lru_cache(maxsize=8)
def _settings(_environment: tuple[tuple[str, str], ...]) -> Settings:
    return Settings()


def scrub(text: str) -> str:
    """`text` with every configured secret replaced by `***`, for anything printed, logged or stored.

    A mail server may echo the password in its refusal (`535 ... for user:PASSWORD`), as given,
    URL-quoted or base64-encoded as AUTH LOGIN and AUTH PLAIN send it: every such form is replaced.
    """
    for secret in _secret_forms(prefixed_environment()):
        text = text.replace(secret, "***")
    return text


@lru_cache(maxsize=8)
def _secret_forms(environment: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    import base64
    from urllib.parse import quote, unquote, urlsplit

    cfg = _settings(environment)
    secrets: list[str] = []
    if cfg.smtp_password:
        secrets.append(cfg.smtp_password.get_secret_value())
    url = cfg.database_url_value()
    if url:
        try:
            password = urlsplit(url).password
        except ValueError:  # a URL too broken to split: it is refused elsewhere, not echoed here
            password = None
        if password:
            secrets += [password, unquote(password)]
    user = cfg.smtp_user or ""
    forms: set[str] = set()
    for secret in filter(None, secrets):
        forms.update({secret, quote(secret, safe=""), quote(secret)})
        for raw in (secret, f"\0{user}\0{secret}", f"{user}\0{user}\0{secret}"):
            forms.add(base64.b64encode(raw.encode()).decode())
    return tuple(sorted(forms, key=len, reverse=True))  # the longest first: a secret inside another
