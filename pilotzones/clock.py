"""The one place that reads the wall clock, so tests and `--at` can fix time."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from pilotzones.errors import ConfigError


def now() -> datetime:
    return datetime.now(UTC)


def parse_moment(text: str, tz: tzinfo, option: str = "--at") -> datetime:
    """An ISO-8601 receipt time; without an offset it is local time in the programme's timezone."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ConfigError(f"{option} {text!r}：不是 ISO-8601 时间（例如 2023-12-20T18:00:00+08:00）") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment
