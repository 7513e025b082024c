"""Configuration in one place: every `PILOTZONES_*` environment variable, typed and documented here
(and in README's Configuration table), read through `settings()` only. Secrets are SecretStr: their
repr is `**********`, and only the code that hands them to a server or driver unwraps them.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import get_args

from pydantic import Field, SecretStr, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, SettingsConfigDict

from pilotzones.errors import ConfigError, shown

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
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_security: str = Field("none", description="none | starttls | ssl")
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    mail_from: str | None = Field(None, description="sender address; unset: notices@pilotzones.invalid")
    smtp_attempts: int = Field(4, description="tries per message, and per attempt to connect")
    smtp_backoff: float = Field(2.0, ge=0, description="seconds before the first retry, doubled each time")
    smtp_timeout: float = Field(30.0, gt=0, description="socket timeout in seconds")
    templates: Path | None = Field(None, description="the notice templates' folder; unset: the project's templates/")

    # -- approval in the UI ----------------------------------------------------------------------
    approval_timeout: int = Field(14 * 24 * 3600, ge=0, description="seconds a scheduled run waits for approval")
    approval_poll: float = Field(10.0, gt=0, description="seconds between a paused run's looks at the database")

    # -- drills and tests ------------------------------------------------------------------------
    fault: str = Field("", description="drills: STEP, STEP:kill or STEP:sleep at a named step")
    fault_once: Path | None = Field(None, description="a marker file: the fault fires once, then the file exists")
    fault_sleep: float = Field(20.0, ge=0, description="seconds STEP:sleep holds the stage")
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

    A variable that does not fit its type is a ConfigError (exit 2): one line per variable, in
    Chinese, naming it, what is wrong and what to write instead; a secret's value is never quoted.
    """
    return _settings(prefixed_environment())


def forget_database_url() -> bool:
    """Forget PILOTZONES_DATABASE_URL for the rest of this process (the demo keeps its own SQLite
    file, so sample years never reach a real database); whether it was set."""
    return os.environ.pop(f"{PREFIX}DATABASE_URL", None) is not None


def prefixed_environment() -> tuple[tuple[str, str], ...]:
    """The `PILOTZONES_*` variables, the only ones Settings reads (names are case-insensitive)."""
    return tuple(sorted((k, v) for k, v in os.environ.items() if k.upper().startswith(PREFIX)))


@lru_cache(maxsize=8)
def _settings(_environment: tuple[tuple[str, str], ...]) -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # pydantic's dump (English, several lines, the value of a secret too) is no message for an
        # operator; the error is not cached, so every later call says the same.
        raise ConfigError("\n".join(_faults(exc))) from None


def _faults(exc: ValidationError) -> list[str]:
    """One line per variable that does not fit its field (a union field reports once, its first error)."""
    first: dict[str, ErrorDetails] = {}
    for err in exc.errors():
        if err["loc"]:
            first.setdefault(str(err["loc"][0]), err)
    return [_fault(name, err) for name, err in first.items()]


def _fault(name: str, err: ErrorDetails) -> str:
    field = Settings.model_fields.get(name)
    secret = field is not None and SecretStr in (field.annotation, *get_args(field.annotation))
    value = "" if secret else _quoted(err.get("input"))
    default = field.default if field is not None and field.default not in (None, "") else None
    example = f"，如 {default}（不设时的默认值）" if default is not None else ""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind.startswith("int_"):
        what = f"不是整数：应写整数{example}"
    elif kind.startswith("float_"):
        what = f"不是数：应写数（可带小数）{example}"
    elif kind in ("greater_than_equal", "greater_than"):
        bound = _number(ctx.get("ge", ctx.get("gt")))
        what = f"太小：应{'不小于' if kind == 'greater_than_equal' else '大于'} {bound}{example}"
    elif kind in ("less_than_equal", "less_than"):
        bound = _number(ctx.get("le", ctx.get("lt")))
        what = f"太大：应{'不大于' if kind == 'less_than_equal' else '小于'} {bound}{example}"
    else:
        what = f"不符合要求：请改正，或删去该变量{'使用默认值 ' + str(default) if default is not None else ''}"
    return f"环境变量 {PREFIX}{name.upper()} 的值{value}{what}"


def _number(bound: object) -> str:
    """A field's bound as the operator would write it: 0, not 0.0."""
    return str(int(bound)) if isinstance(bound, float) and bound.is_integer() else str(bound)


def _quoted(value: object) -> str:
    """A variable's value as a message quotes it: shortened, control characters escaped."""
    text = str(value)
    return f"“{shown(text if len(text) <= 40 else text[:40] + '…')}”"


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

    # Straight from the variables, not through Settings: a value another variable makes invalid
    # must not stop a message (the one that says so, above all) from being printed, nor a secret
    # from being scrubbed. Names are case-insensitive, as Settings reads them: every spelling counts.
    def values(name: str) -> list[str]:
        return [v for k, v in environment if k.upper() == PREFIX + name and v]

    secrets: list[str] = values("SMTP_PASSWORD")
    for url in values("DATABASE_URL"):
        try:
            password = urlsplit(url).password
        except ValueError:  # a URL too broken to split: it is refused elsewhere, not echoed here
            password = None
        if password:
            secrets += [password, unquote(password)]
    forms: set[str] = set()
    for secret in filter(None, secrets):
        forms.update({secret, quote(secret, safe=""), quote(secret)})
        for user in values("SMTP_USER") or [""]:
            for raw in (secret, f"\0{user}\0{secret}", f"{user}\0{user}\0{secret}"):
                forms.add(base64.b64encode(raw.encode()).decode())
    return tuple(sorted(forms, key=len, reverse=True))  # the longest first: a secret inside another
