"""A programme: roster, rubric, rules, calendar and contacts, loaded from a TOML file.

Nothing in the code is specific to one programme: the Xinjiang programme is the built-in file
`programmes/xinjiang.toml`, and `init --program FILE` takes any other file of the same shape.
"""

from __future__ import annotations

import tomllib
from datetime import datetime, time
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pilotzones.errors import ConfigError

BUILTIN = Path(__file__).parent / "programmes" / "xinjiang.toml"

Adcode = Annotated[str, Field(pattern=r"^\d{6}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CountLevel(_Model):
    key: str
    name: str
    points: int = Field(ge=0)


class Tier(_Model):
    min: int = Field(ge=0)
    points: int = Field(ge=0)


class Item(_Model):
    """One rubric item; `rule` names how its points are derived from submitted values."""

    id: int
    name: str
    text: str = ""
    rule: Literal["assessed", "share_growth", "per_count", "tiered_count"]
    weight: int | None = Field(default=None, ge=0)
    # share_growth
    numerator: str | None = None
    denominator: str | None = None
    previous_suffix: str = ".prev"
    min_growth: str | None = None
    # per_count
    counts: tuple[CountLevel, ...] = ()
    # tiered_count
    key: str | None = None
    tiers: tuple[Tier, ...] = ()

    @model_validator(mode="after")
    def _rule_fields(self) -> Item:
        need: dict[str, tuple[str, ...]] = {
            "assessed": ("weight",),
            "share_growth": ("weight", "numerator", "denominator", "min_growth"),
            "per_count": ("counts",),
            "tiered_count": ("key", "tiers"),
        }
        missing = [f for f in need[self.rule] if not getattr(self, f)]
        if missing:
            raise ValueError(f"item {self.id}: rule {self.rule} needs {', '.join(missing)}")
        if self.min_growth is not None:
            try:
                Fraction(self.min_growth)
            except (ValueError, ZeroDivisionError) as exc:
                raise ValueError(f"item {self.id}: min_growth {self.min_growth!r} is not a number") from exc
        if self.tiers and list(self.tiers) != sorted(self.tiers, key=lambda t: -t.min):
            raise ValueError(f"item {self.id}: tiers must be listed highest first")
        return self

    @property
    def growth(self) -> Fraction:
        return Fraction(self.min_growth or "1")

    def keys(self) -> tuple[str, ...]:
        """The submission keys this item reads."""
        if self.rule == "assessed":
            return (str(self.id),)
        if self.rule == "share_growth":
            assert self.numerator and self.denominator
            s = self.previous_suffix
            return (self.denominator, self.numerator, self.denominator + s, self.numerator + s)
        if self.rule == "per_count":
            return tuple(c.key for c in self.counts)
        assert self.key
        return (self.key,)


class Category(_Model):
    id: int
    name: str
    max: int = Field(ge=0)
    bonus: bool = False
    items: tuple[Item, ...]

    @model_validator(mode="after")
    def _weights_add_up(self) -> Category:
        if not self.bonus:
            total = sum(i.weight or 0 for i in self.items)
            if total != self.max:
                raise ValueError(f"category {self.id} {self.name}: weights add up to {total}, max is {self.max}")
        return self


class Rubric(_Model):
    bonus_cap: int = Field(ge=0)
    categories: tuple[Category, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        ids = [i.id for c in self.categories for i in c.items]
        if len(ids) != len(set(ids)):
            raise ValueError("item ids must be unique")
        keys = [k for c in self.categories for i in c.items for k in i.keys()]
        dup = sorted({k for k in keys if keys.count(k) > 1})
        if dup:
            raise ValueError(f"submission keys used twice: {', '.join(dup)}")
        return self

    @property
    def scored(self) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if not c.bonus)

    @property
    def bonus_items(self) -> tuple[Item, ...]:
        return tuple(i for c in self.categories if c.bonus for i in c.items)

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for c in self.categories for i in c.items)

    @property
    def base_max(self) -> int:
        return sum(c.max for c in self.scored)

    def item(self, item_id: int) -> Item:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def category_of(self, item_id: int) -> Category:
        for c in self.categories:
            if any(i.id == item_id for i in c.items):
                return c
        raise KeyError(item_id)

    def key_kinds(self) -> dict[str, tuple[str, int | None]]:
        """Every accepted key: ("points", weight) for assessed items, ("count", None) for counts."""
        kinds: dict[str, tuple[str, int | None]] = {}
        for i in self.items:
            for k in i.keys():
                kinds[k] = ("points", i.weight) if i.rule == "assessed" else ("count", None)
        return kinds


class Info(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    zone_name: str = "试验区"
    candidate_name: str = "候补试验区"
    region_code: Adcode
    region_name: str
    timezone: str = "Asia/Shanghai"
    start_year: int = Field(ge=2000, le=2100)
    authority: str
    authority_short: str = ""
    document_prefix: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {v!r}") from exc
        return v


class Pilots(_Model):
    initial: tuple[Adcode, ...] = Field(min_length=1)


class Rules(_Model):
    candidate_slots: int = Field(ge=0)
    cards_per_year: int = Field(ge=0)
    consecutive_cards_to_disqualify: int = Field(ge=1)
    rectification_months: int = Field(default=6, ge=0)
    score_decimals: int = Field(default=2, ge=0, le=6)


_MOMENT = r"^\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"


class Calendar(_Model):
    """Month-day and local time of each stage; deadlines are inclusive to the second."""

    nomination_call: str = Field(pattern=_MOMENT)
    nomination_reminder: str = Field(pattern=_MOMENT)
    nomination_deadline: str = Field(pattern=_MOMENT)
    candidate_selection: str = Field(pattern=_MOMENT)
    evaluation_call: str = Field(pattern=_MOMENT)
    evaluation_reminder: str = Field(pattern=_MOMENT)
    evaluation_deadline: str = Field(pattern=_MOMENT)
    evaluation: str = Field(pattern=_MOMENT)

    @model_validator(mode="after")
    def _real_dates(self) -> Calendar:
        for name, value in self:
            try:
                datetime.strptime("2024-" + value, "%Y-%m-%d %H:%M:%S")
            except ValueError as exc:
                raise ValueError(f"calendar.{name}: {value!r} is not a date") from exc
        return self


class Contact(_Model):
    """A directory entry: the health bureau or commission that receives notices for `adcode`."""

    adcode: str = Field(pattern=r"^\d{6}$")
    name: str
    email: str
    # county | prefecture | region: what the bureau is, for people reading the directory.
    role: str = ""
    # Further addresses copied on every notice to this bureau (a second office, a deputy).
    cc: tuple[str, ...] = ()


class Programme(_Model):
    programme: Info
    pilots: Pilots
    rules: Rules
    calendar: Calendar
    rubric: Rubric
    contacts: tuple[Contact, ...] = ()

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.programme.timezone)

    def moment(self, name: str, year: int) -> datetime:
        """The calendar moment `name` in `year`, timezone-aware."""
        value: str = getattr(self.calendar, name)
        md, hms = value.split(" ")
        month, day = (int(x) for x in md.split("-"))
        t = time.fromisoformat(hms)
        return datetime(year, month, day, t.hour, t.minute, t.second, tzinfo=self.tz)

    def this_year(self) -> int:
        """The current year in the programme's timezone (a scheduled run's default)."""
        return datetime.now(self.tz).year

    def prefecture_of(self, adcode: str) -> str:
        return adcode[:4] + "00"


def load(path: Path | None = None) -> Programme:
    """Read and check a programme file; raise ConfigError naming the file and the field."""
    path = path or BUILTIN
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: programme file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not a valid TOML file: {exc}") from exc
    try:
        return Programme.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "(top level)"
            lines.append(f"  {where}: {err['msg']}")
        raise ConfigError(f"{path}: programme file is not valid:\n" + "\n".join(lines)) from exc
