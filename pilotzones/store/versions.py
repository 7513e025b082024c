"""Programme versions by year: a revised rubric takes effect from a year, earlier years keep theirs.

The home's `programme.toml` is the version from the programme's start year; each later version is
`HOME/programmes/YEAR.toml`, in force from that year until the next. `programme_for(home, year)` is
the one place a year resolves to its version: scoring, intake, the notices and the rubric view of a
year ask it. A version revises the rubric (weights moved, items added or dropped), its wording and
the document it is issued as (`[programme] document`, which messages cite); everything else of
`[programme]` (identity, words, authority), the roster, rules, calendar and limits must stay as in
`programme.toml` (refused otherwise, naming the field); its contacts are always `programme.toml`'s
(the directory is kept there).
"""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from pilotzones.errors import ConfigError
from pilotzones.rules import programme as programme_mod
from pilotzones.rules.decisions import DecisionState
from pilotzones.rules.programme import Programme
from pilotzones.store import models as m
from pilotzones.store.home import PROGRAMME_FILE, Home
from pilotzones.store.session import session

FOLDER = "programmes"
# What a version may not change: who the programme is, who its pilots are and how it decides.
_FIXED = ("pilots", "rules", "calendar", "limits", "publicity")
# Of [programme], only the document the rubric is issued as may change with it.
_FIXED_INFO = tuple(k for k in programme_mod.Info.model_fields if k != "document")

_cache: dict[tuple[str, int], tuple[int, Programme]] = {}


def _folder(home: Home) -> Path:
    return home.path / FOLDER


def version_years(home: Home) -> list[int]:
    """The years from which a later version is in force, ascending (the base is not listed)."""
    folder = _folder(home)
    if not folder.is_dir():
        return []
    return sorted(int(p.stem) for p in folder.glob("*.toml") if re.fullmatch(r"\d{4}", p.stem))


def from_year_of(home: Home, year: int) -> int:
    """The first year of the version in force for `year` (the start year for the base)."""
    start = home.programme.programme.start_year
    return max([y for y in version_years(home) if y <= year], default=start)


def version_file(home: Home, year: int) -> Path:
    """The file of the version in force for `year`: what a file made from that version must not predate."""
    since = from_year_of(home, year)
    path = _folder(home) / f"{since}.toml"
    return path if path.exists() else home.path / PROGRAMME_FILE


def programme_for(home: Home, year: int) -> Programme:
    """The programme version in force for `year`: the latest version from a year at or before it."""
    since = from_year_of(home, year)
    if since == home.programme.programme.start_year and since not in version_years(home):
        return home.programme
    path = _folder(home) / f"{since}.toml"
    mtime = path.stat().st_mtime_ns
    cached = _cache.get((str(path.resolve()), since))
    if cached is None or cached[0] != mtime:
        version = programme_mod.load(path)
        info = home.programme.programme.model_copy(update={"document": version.programme.document})
        cached = (mtime, home.programme.model_copy(update={"rubric": version.rubric, "programme": info}))
        _cache[(str(path.resolve()), since)] = cached
    return cached[1]


def add_version(home: Home, file: Path, from_year: int) -> Programme:
    """Check a revised programme file and keep it as the version from `from_year`.

    Refused (ConfigError, naming the field or the year): a file that is not a valid programme, one
    of another programme or changing more than the rubric, a year not after the start year, and a
    year whose evaluation or candidate selection (or a later year's) is already published.
    """
    new = programme_mod.load(file)
    base = home.programme
    start = base.programme.start_year
    if from_year <= start:
        raise ConfigError(
            f"--from-year {from_year}：{start}年度起的版本是主目录的方案文件，新版本只能从{start + 1}年度或以后生效"
        )
    old, now = base.model_dump(mode="json"), new.model_dump(mode="json")
    changed = [k for k in _FIXED if old[k] != now[k]]
    changed += [f"programme.{k}" for k in _FIXED_INFO if old["programme"][k] != now["programme"][k]]
    if changed:
        raise ConfigError(
            f"{file}：新版本只能修订评价细则（rubric）及其用语、发布文件（programme.document），"
            f"不能改变 {'、'.join(changed)}：请恢复这些项；其他变化需要新的方案与主目录"
        )
    with session(home.db_url) as s:
        published = sorted(
            {
                d.year
                for d in s.scalars(select(m.Decision).where(m.Decision.state == DecisionState.PUBLISHED.value))
                if d.year >= from_year
            }
        )
    if published:
        years = "、".join(str(y) for y in published)
        raise ConfigError(f"--from-year {from_year}：{years}年度已经发布，不能再改变其适用的评价细则")
    folder = _folder(home)
    folder.mkdir(exist_ok=True)
    target = folder / f"{from_year}.toml"
    tmp = target.with_suffix(".toml.part")
    tmp.write_text(file.read_text(encoding="utf-8"), encoding="utf-8")
    tmp.replace(target)
    _cache.pop((str(target.resolve()), from_year), None)
    return new
