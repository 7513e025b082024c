"""Every PILOTZONES_* setting is defined in settings.py, documented in the README, read nowhere else,
and a secret never shows in a repr."""

from __future__ import annotations

import re
from pathlib import Path

from pilotzones.settings import Settings, settings

ROOT = Path(__file__).resolve().parents[2]


def _documented() -> set[str]:
    """The variables of the README's Configuration table; `_PORT` after `PILOTZONES_SMTP_HOST`
    stands for `PILOTZONES_SMTP_PORT`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for row in section.splitlines():
        if not row.startswith("| `PILOTZONES_"):
            continue
        first = row.split("|")[1]
        full = re.findall(r"`(PILOTZONES_[A-Z_]+)`", first)
        names.update(full)
        stem = full[0].rsplit("_", 1)[0]
        names.update(stem + short for short in re.findall(r"`(_[A-Z]+)`", first))
    return names


def test_every_setting_is_in_the_readme_table():
    fields = {"PILOTZONES_" + name.upper() for name in Settings.model_fields}
    assert fields == _documented()


def test_no_module_reads_a_setting_from_the_environment_itself():
    reads = re.compile(r"(environ|getenv)[^\n]*PILOTZONES_")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("pilotzones", "flows", "tasks", "deployments")
        for path in (ROOT / folder).rglob("*.py")
        if path.name != "settings.py" and reads.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_secrets_never_show(monkeypatch):
    monkeypatch.setenv("PILOTZONES_SMTP_PASSWORD", "hunter2-smtp")
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", "postgresql+psycopg://pz:hunter2-db@db/pz")
    cfg = settings()
    assert "hunter2" not in repr(cfg) and "hunter2" not in str(cfg.model_dump())
    assert cfg.database_url_value() == "postgresql+psycopg://pz:hunter2-db@db/pz"


def test_an_empty_variable_counts_as_unset(monkeypatch):
    monkeypatch.setenv("PILOTZONES_HOME", "")
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "")
    assert settings().home == Path(".pilotzones")
    assert settings().approval_poll == 10.0


def test_a_delivery_setting_that_cannot_work_is_told_in_chinese_naming_the_variable():
    import pytest

    from pilotzones.errors import ConfigError
    from pilotzones.notices.delivery import check_delivery

    with pytest.raises(ConfigError, match="PILOTZONES_SMTP_SECURITY 'tls'：只能是 none、starttls 或 ssl"):
        check_delivery(Settings(delivery="smtp", smtp_host="127.0.0.1", smtp_security="tls"))
    with pytest.raises(ConfigError, match="PILOTZONES_MAIL_FROM 'a, b'：应为一个电子邮件地址"):
        check_delivery(Settings(mail_from="a, b"))


def test_a_variable_that_does_not_fit_is_a_config_error_a_line_each(monkeypatch):
    """Not pydantic's dump: one Chinese line per variable, naming it, its value, what to write."""
    import pytest

    from pilotzones.errors import ConfigError

    monkeypatch.setenv("PILOTZONES_SMTP_PORT", "abc")
    monkeypatch.setenv("PILOTZONES_SMTP_BACKOFF", "x" * 60)
    monkeypatch.setenv("PILOTZONES_APPROVAL_POLL", "0")
    with pytest.raises(ConfigError) as caught:
        settings()
    assert str(caught.value).splitlines() == [
        "环境变量 PILOTZONES_SMTP_PORT 的值“abc”不是整数：应写整数，如 25（不设时的默认值）",
        f"环境变量 PILOTZONES_SMTP_BACKOFF 的值“{'x' * 40}…”不是数：应写数（可带小数），如 2.0（不设时的默认值）",
        "环境变量 PILOTZONES_APPROVAL_POLL 的值“0”太小：应大于 0，如 10.0（不设时的默认值）",
    ]
    monkeypatch.setenv("PILOTZONES_SMTP_PORT", "65536")
    monkeypatch.delenv("PILOTZONES_SMTP_BACKOFF")
    monkeypatch.delenv("PILOTZONES_APPROVAL_POLL")
    with pytest.raises(ConfigError) as caught:
        settings()
    assert str(caught.value) == "环境变量 PILOTZONES_SMTP_PORT 的值“65536”太大：应不大于 65535，如 25（不设时的默认值）"
    monkeypatch.setenv("PILOTZONES_SMTP_PORT", "2525")
    assert settings().smtp_port == 2525  # the error is not kept: a corrected variable is read afresh


def test_a_secret_is_never_quoted_and_scrubbing_works_while_a_setting_is_bad(monkeypatch):
    import pytest
    from pydantic import ValidationError

    from pilotzones.errors import ConfigError
    from pilotzones.settings import _faults, scrub

    # A secret's own value is never quoted (a SecretStr rarely fails; here one that is no string).
    with pytest.raises(ValidationError) as caught:
        Settings(smtp_password=["hunter2"], database_url=["postgresql://pz:hunter2@db/pz"])  # type: ignore[arg-type]
    lines = _faults(caught.value)
    assert [line.split(" ")[1] for line in lines] == ["PILOTZONES_DATABASE_URL", "PILOTZONES_SMTP_PASSWORD"]
    assert "hunter2" not in "".join(lines)
    # A bad variable does not stop the secrets from being scrubbed, even from its own message.
    monkeypatch.setenv("PILOTZONES_SMTP_PASSWORD", "hunter2-smtp")
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", "postgresql+psycopg://pz:hunter2-db@db/pz")
    monkeypatch.setenv("PILOTZONES_SMTP_PORT", "hunter2-smtp")
    monkeypatch.setenv("PILOTZONES_SMTP_ATTEMPTS", "pw=hunter2-db")
    with pytest.raises(ConfigError) as bad:
        settings()
    assert scrub(str(bad.value)).splitlines() == [
        "环境变量 PILOTZONES_SMTP_PORT 的值“***”不是整数：应写整数，如 25（不设时的默认值）",
        "环境变量 PILOTZONES_SMTP_ATTEMPTS 的值“pw=***”不是整数：应写整数，如 4（不设时的默认值）",
    ]
