"""A programme: roster, rubric, rules, calendar and contacts, loaded from a TOML file.

Nothing in the code is specific to one programme: the Xinjiang programme is the built-in file
`pilotzones/programmes/xinjiang.toml`, and `init --program FILE` takes any other file of the same shape.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from datetime import date, datetime, time
from fractions import Fraction
from functools import cached_property, lru_cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pilotzones.errors import ConfigError, shown

if TYPE_CHECKING:
    # Imported where a score is computed: `status` and `rubric` read programmes without numpy.
    import numpy as np
    import pandas as pd

BUILTIN = Path(str(files("pilotzones") / "programmes" / "xinjiang.toml"))

Adcode = Annotated[str, Field(pattern=r"^\d{6}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Faults(ValueError):
    """What one validator found wrong, each fault (where, below the model that found it; what to fix)
    in Chinese: `load` puts each on a line of its own, located as the file names the key."""

    def __init__(self, *faults: tuple[tuple[int | str, ...], str]) -> None:
        super().__init__("；".join(message for _, message in faults))
        self.faults = faults


def _fault(message: str, *at: int | str) -> Faults:
    return Faults((at, message))


class CountLevel(_Model):
    key: str
    name: str
    points: int = Field(ge=0)


class Tier(_Model):
    min: int = Field(ge=0)
    points: int = Field(ge=0)


class _ItemBase(_Model):
    """What every rubric item has; each kind below adds its own fields and owns its rule.

    A kind owns: the submission keys it reads (`keys`, `key_kind`, `pairs`), its scoring over the
    wide frame of submitted values (`score`), the intake checks it adds to the GX suite
    (`expectations`) and its explanation in Chinese (`description`, `details`, `reasons`).
    """

    id: int
    name: str
    text: str = ""
    weight: int | None = Field(default=None, ge=0)

    # Fields this kind cannot do without; a zero or empty value counts as missing, as it always has.
    needs: ClassVar[tuple[str, ...]] = ()
    description: ClassVar[str] = ""

    @model_validator(mode="after")
    def _needed(self) -> Self:
        missing = [f for f in self.needs if not getattr(self, f)]
        if missing:
            rule = self.rule  # type: ignore[attr-defined]
            raise Faults(
                *(((f,), f"指标{self.id}的计分规则 {rule} 须填写 {f}（不能为0或空）：请补上") for f in missing)
            )
        return self

    def keys(self) -> tuple[str, ...]:
        """The submission keys this item reads."""
        raise NotImplementedError

    def explanation(self) -> str:
        """How this item is scored, in the programme's words (the kind's description unless it has its own)."""
        return self.description

    def key_kind(self) -> tuple[str, int | None]:
        """How intake checks this item's values: ("points", weight) or ("count", None)."""
        return ("count", None)

    def pairs(self) -> dict[str, str]:
        """Numerator key -> denominator key, for counts that may not exceed another count."""
        return {}

    @classmethod
    def expectations(cls) -> list[dict[str, Any]]:
        """The GX expectations (1.x JSON) this kind adds to the evaluation suite, over intake's helper columns."""
        return []

    def score(self, wide: pd.DataFrame, scale: int) -> tuple[np.ndarray, np.ndarray]:
        """(units per zone, not filled per zone) over the wide frame (one row per zone, one column per key)."""
        raise NotImplementedError

    def details(self) -> dict[str, Any]:
        """The kind's own fields as the rubric view shows them."""
        return {}

    def most_points(self) -> int | None:
        """The most this item can give a zone, as the rubric shows it beside the others' weights:
        the weight, else what the kind itself caps at; None when only the bonus cap bounds it."""
        return self.weight

    def reasons(self, count_of: Callable[[str], int]) -> list[str]:
        """Why a zone earned bonus points, given its count for each key (the notices' explanation)."""
        return []


def _expectation(check: str, kind: str, kwargs: dict[str, Any], rule: str, message: str) -> dict[str, Any]:
    # The shape of intake.suites' generated checks: the error names the row's key.
    return {"type": kind, "kwargs": kwargs, "meta": {"check": check, "rule": rule, "message": message, "key": "{key}"}}


def _count_expectations() -> list[dict[str, Any]]:
    return [
        _expectation(
            "count_min",
            "expect_column_values_to_be_between",
            {"column": "count", "min_value": 0},
            "§3",
            "计数{value}为负数：应为非负整数。",
        ),
        _expectation(
            "count_integer",
            "expect_column_values_to_be_between",
            {"column": "count_decimals", "max_value": 0},
            "§3",
            "计数{value}不是整数：应为非负整数。",
        ),
    ]


def _column(wide: pd.DataFrame, key: str) -> np.ndarray:
    """A count column as integers, not submitted read as 0."""
    return wide[key].fillna(0).astype("int64").to_numpy()


class AssessedItem(_ItemBase):
    """R3: the submitted value is the points awarded, 0 <= value <= weight."""

    rule: Literal["assessed"]

    needs: ClassVar[tuple[str, ...]] = ("weight",)
    description: ClassVar[str] = "评定得分：报送分值即得分，0≤分值≤权重"

    def keys(self) -> tuple[str, ...]:
        return (str(self.id),)

    def key_kind(self) -> tuple[str, int | None]:
        return ("points", self.weight)

    @classmethod
    def expectations(cls) -> list[dict[str, Any]]:
        return [
            _expectation(
                "score_min",
                "expect_column_values_to_be_between",
                {"column": "score", "min_value": 0},
                "R3",
                "分值{value}超出范围：应在0到{max_allowed}之间。",
            ),
            _expectation(
                "score_max",
                "expect_column_pair_values_a_to_be_greater_than_b",
                {
                    "column_A": "max_allowed",
                    "column_B": "score",
                    "or_equal": True,
                    "ignore_row_if": "either_value_is_missing",
                },
                "R3",
                "分值{value}超出范围：应在0到{max_allowed}之间。",
            ),
            _expectation(
                "score_decimals",
                "expect_column_values_to_be_between",
                {"column": "decimals", "max_value": {"$PARAMETER": "score_decimals"}},
                "R3",
                "分值{value}的小数位数过多：最多{score_decimals}位小数。",
            ),
        ]

    def score(self, wide: pd.DataFrame, scale: int) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        col = wide[str(self.id)]
        return np.rint(col.fillna(0).to_numpy() * scale).astype("int64"), col.isna().to_numpy()


class ShareGrowthItem(_ItemBase):
    """Item 29: full points when share(Y) >= min_growth x share(Y-1) and share(Y) > 0, else 0."""

    rule: Literal["share_growth"]
    numerator: str | None = None
    denominator: str | None = None
    previous_suffix: str = ".prev"
    min_growth: str | None = None

    # What the share is, in the programme's words ("执业(助理)医师占比"): the item's own explanation
    # in the rubric view and the notices; the kind itself knows only numerator and denominator.
    share_name: str = "占比"
    pair_note: str = ""  # why the numerator cannot exceed the denominator, in the programme's words

    needs: ClassVar[tuple[str, ...]] = ("weight", "numerator", "denominator", "min_growth")
    description: ClassVar[str] = "计算得分：占比同比增长达标得满分，否则0分"

    def explanation(self) -> str:
        note = f"（{self.pair_note}）" if self.pair_note else ""
        return f"计算得分：{self.share_name}同比增长达标得满分，否则0分{note}"

    @model_validator(mode="after")
    def _growth_is_a_number(self) -> ShareGrowthItem:
        if self.min_growth is not None:
            try:
                Fraction(self.min_growth)
            except (ValueError, ZeroDivisionError) as exc:
                raise _fault(
                    f'“{shown(self.min_growth)}”不是数：应写作带引号的数，如 "1.1"（增长到上年的1.1倍）', "min_growth"
                ) from exc
        return self

    @property
    def growth(self) -> Fraction:
        return Fraction(self.min_growth or "1")

    def keys(self) -> tuple[str, ...]:
        assert self.numerator and self.denominator
        s = self.previous_suffix
        return (self.denominator, self.numerator, self.denominator + s, self.numerator + s)

    def pairs(self) -> dict[str, str]:
        assert self.numerator and self.denominator
        s = self.previous_suffix
        return {self.numerator: self.denominator, self.numerator + s: self.denominator + s}

    @classmethod
    def expectations(cls) -> list[dict[str, Any]]:
        pair = _expectation(
            "count_pair",
            "expect_column_pair_values_a_to_be_greater_than_b",
            {
                "column_A": "pair_limit",
                "column_B": "count",
                "or_equal": True,
                "ignore_row_if": "either_value_is_missing",
            },
            "§3",
            "{key}的数值{value}大于{pair_key}的数值{pair_limit}：占比的分子不能大于分母。",
        )
        return [*_count_expectations(), pair]

    def score(self, wide: pd.DataFrame, scale: int) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        assert self.numerator and self.denominator and self.weight is not None
        s = self.previous_suffix
        cols = [self.numerator, self.denominator, self.numerator + s, self.denominator + s]
        present = wide[cols].notna().all(axis=1).to_numpy()
        lic, doc, lic_p, doc_p = (_column(wide, c) for c in cols)
        g = self.growth
        # share(Y) >= g * share(Y-1), cross-multiplied in integers: no float error at the 以上 bound.
        # A share over zero village doctors is 0, by the rule's definition.
        share_pos = (doc > 0) & (lic > 0)
        prev_zero = (doc_p == 0) | (lic_p == 0)
        grows = lic * doc_p * g.denominator >= g.numerator * lic_p * doc
        earned = present & share_pos & (prev_zero | grows)
        return np.where(earned, self.weight * scale, 0), ~present

    def details(self) -> dict[str, Any]:
        return {
            "numerator": self.numerator,
            "denominator": self.denominator,
            "min_growth": float(self.growth),
            "inclusive": True,
            "previous_suffix": self.previous_suffix,
        }


class PerCountItem(_ItemBase):
    """Item 40, 41: points for each reported count, per level."""

    rule: Literal["per_count"]
    counts: tuple[CountLevel, ...] = ()

    needs: ClassVar[tuple[str, ...]] = ("counts",)
    description: ClassVar[str] = "按次/项计分"

    def keys(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.counts)

    @classmethod
    def expectations(cls) -> list[dict[str, Any]]:
        return _count_expectations()

    def score(self, wide: pd.DataFrame, scale: int) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        total = np.zeros(len(wide), dtype="int64")
        for level in self.counts:
            total += _column(wide, level.key) * level.points * scale
        return total, np.zeros(len(wide), dtype=bool)

    def details(self) -> dict[str, Any]:
        return {"points_per_count": [{"key": c.key, "name": c.name, "points": c.points} for c in self.counts]}

    def reasons(self, count_of: Callable[[str], int]) -> list[str]:
        out = []
        for level in self.counts:
            n = count_of(level.key)
            if n:
                out.append(f"{level.name}{n}次，每次{level.points}分")
        return out


class TieredCountItem(_ItemBase):
    """Item 42: the points of the highest tier the count reaches."""

    rule: Literal["tiered_count"]
    key: str | None = None
    tiers: tuple[Tier, ...] = ()

    needs: ClassVar[tuple[str, ...]] = ("key", "tiers")
    description: ClassVar[str] = "按数量分档计分"

    @model_validator(mode="after")
    def _highest_first(self) -> TieredCountItem:
        if self.tiers and list(self.tiers) != sorted(self.tiers, key=lambda t: -t.min):
            raise _fault(f"指标{self.id}的档次须从高到低排列（min 由大到小）：请调整顺序", "tiers")
        return self

    def keys(self) -> tuple[str, ...]:
        assert self.key
        return (self.key,)

    @classmethod
    def expectations(cls) -> list[dict[str, Any]]:
        return _count_expectations()

    def score(self, wide: pd.DataFrame, scale: int) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np

        assert self.key
        count = _column(wide, self.key)
        points = np.zeros(len(wide), dtype="int64")
        for tier in reversed(self.tiers):  # lowest first, so a higher tier overwrites
            points = np.where(count >= tier.min, tier.points * scale, points)
        return points, np.zeros(len(wide), dtype=bool)

    def details(self) -> dict[str, Any]:
        return {"tiers": [{"min": t.min, "points": t.points} for t in self.tiers]}

    def most_points(self) -> int | None:
        return self.weight if self.weight is not None else max((t.points for t in self.tiers), default=None)

    def reasons(self, count_of: Callable[[str], int]) -> list[str]:
        assert self.key
        n = count_of(self.key)
        if not n:
            return []
        tiers = "，".join(f"达到{t.min}加{t.points}分" for t in self.tiers)
        return [f"填报数量{n}（{tiers}）"]


# The kinds in the order their checks stand in the evaluation suite.
KINDS = (AssessedItem, ShareGrowthItem, PerCountItem, TieredCountItem)

Item = Annotated[AssessedItem | ShareGrowthItem | PerCountItem | TieredCountItem, Field(discriminator="rule")]


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
                raise _fault(
                    f"“{shown(self.name)}”各指标的 weight 合计{total}分，与 max = {self.max} 不符：请使二者相等"
                )
        return self


class Rubric(_Model):
    bonus_cap: int = Field(ge=0)
    categories: tuple[Category, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Rubric:
        faults: list[tuple[tuple[int | str, ...], str]] = []
        first_id: dict[int, str] = {}
        first_key: dict[str, str] = {}
        for ci, c in enumerate(self.categories):
            for ii, i in enumerate(c.items):
                at = ("categories", ci, "items", ii)
                here = key_path(("rubric", *at))
                if i.id in first_id:
                    faults.append(
                        (
                            (*at, "id"),
                            f"指标编号 {i.id} 已用于 {first_id[i.id]}：每个指标的 id 只能用一次，请改用未用过的编号",
                        )
                    )
                    continue  # an assessed item's key is its id: one fault, not two
                first_id[i.id] = here
                for k in i.keys():
                    if k in first_key:
                        where = "本指标中重复出现" if first_key[k] == here else f"已用于 {first_key[k]}"
                        faults.append((at, f"报送键 {shown(k)} {where}：每个报送键只能用一次，请改名"))
                    first_key.setdefault(k, here)
        if faults:
            raise Faults(*faults)
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
        return {k: i.key_kind() for i in self.items for k in i.keys()}

    def pairs(self) -> dict[str, str]:
        """Every numerator key and the denominator key it may not exceed."""
        return {n: d for i in self.items for n, d in i.pairs().items()}

    def expectations(self) -> list[dict[str, Any]]:
        """The checks the rubric's kinds add to the evaluation suite, each once, in the kinds' order."""
        present = {type(i) for i in self.items}
        seen: dict[str, dict[str, Any]] = {}
        for kind in KINDS:
            if kind in present:
                for e in kind.expectations():
                    seen.setdefault(e["meta"]["check"], e)
        return list(seen.values())


class Info(_Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str
    # The programme's words for its things (README, Rules: Vocabulary); the defaults are the built-in's.
    zone_name: str = "试验区"
    candidate_name: str = "候补试验区"
    prefecture_name: str = "地（州、市）"
    withdrawal_name: str = ""  # default: 取消{zone_name}资格
    region_code: Adcode
    region_name: str
    timezone: str = "Asia/Shanghai"
    start_year: int = Field(ge=2000, le=2100)
    authority: str
    authority_short: str = ""
    document_prefix: str = ""
    # The programme's own document, as a clerk looks it up (the rubric's rules cite it); may be empty.
    document: str = ""

    @property
    def withdrawal(self) -> str:
        return self.withdrawal_name or f"取消{self.zone_name}资格"

    def words(self) -> dict[str, str]:
        """The programme's names for its things, as notices, status, messages and suites use them."""
        return _words(self.zone_name, self.candidate_name, self.prefecture_name, self.withdrawal)

    @classmethod
    def default_words(cls) -> dict[str, str]:
        """The words of a programme that names none of its things: the built-in programme's."""
        f = cls.model_fields
        zone = f["zone_name"].default
        return _words(zone, f["candidate_name"].default, f["prefecture_name"].default, f"取消{zone}资格")

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f'没有时区“{shown(v)}”：应为 IANA 时区名，如 "Asia/Shanghai"') from exc
        return v


def _words(zone: str, candidate: str, prefecture: str, withdrawal: str) -> dict[str, str]:
    return {
        "zone": zone,
        "candidate": candidate,
        "prefecture": prefecture,
        "withdrawal": withdrawal,
        "nomination_material": f"{candidate}推荐材料",
    }


class Pilots(_Model):
    initial: tuple[Adcode, ...] = Field(min_length=1)

    @field_validator("initial")
    @classmethod
    def _each_once(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        first: dict[str, int] = {}
        faults: list[tuple[tuple[int | str, ...], str]] = []
        for i, adcode in enumerate(v):
            if adcode in first:
                faults.append(
                    ((i,), f"{adcode} 已列于 pilots.initial[{first[adcode]}]：每个县只能列出一次，请删去重复的一项")
                )
            first.setdefault(adcode, i)
        if faults:
            raise Faults(*faults)
        return v


class Rules(_Model):
    candidate_slots: int = Field(ge=0)
    cards_per_year: int = Field(ge=0)
    consecutive_cards_to_disqualify: int = Field(ge=1)
    rectification_months: int = Field(default=6, ge=0)
    score_decimals: int = Field(default=2, ge=0, le=6)
    # What an overdue rectification case does to the next evaluation's scores: the programme's
    # choice (README, Rules: Rectification): "none" (shown, never scored), or "deduction":
    # `rectification_overdue_points` off the total in the evaluation of the year the deadline
    # falls in, flagged.
    rectification_overdue_effect: Literal["none", "deduction"] = "none"
    rectification_overdue_points: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _overdue_points(self) -> Self:
        points, effect = self.rectification_overdue_points, self.rectification_overdue_effect
        if effect == "deduction" and not points:
            raise ValueError('rectification_overdue_effect = "deduction" needs rectification_overdue_points above 0')
        if effect == "none" and points:
            raise ValueError('rectification_overdue_points is set only with rectification_overdue_effect = "deduction"')
        units = points * 10**self.score_decimals
        if abs(units - round(units)) > 1e-9:
            raise ValueError(f"rectification_overdue_points: {points:g} has more than {self.score_decimals} decimals")
        return self


class Limits(_Model):
    """Bounds on one submitted file, checked before and while it is read (README: Rules, Limits).

    A file over any of them is rejected whole, with one error naming the limit, and kept in the
    archive like every file. `listed_errors` caps the errors listed per file (stderr, the database,
    the rejection notice); the rest are counted.
    """

    file_bytes: int = Field(default=10 * 2**20, ge=1)
    rows: int = Field(default=10_000, ge=1)
    cells: int = Field(default=200_000, ge=1)
    xlsx_inflated_bytes: int = Field(default=20 * 2**20, ge=1)
    cell_chars: int = Field(default=2_000, ge=1)
    listed_errors: int = Field(default=200, ge=1)


# The stages whose draft decisions can be publicized (their draft notices exist): the evaluation.
class Smtp(_Model):
    """The programme's mail server (contract §5: "or the equivalent settings of the programme").

    A PILOTZONES_SMTP_* or PILOTZONES_MAIL_FROM variable set in the environment wins over its key
    here; the password is never written in a programme file (PILOTZONES_SMTP_PASSWORD only).
    """

    host: str | None = None
    port: int | None = Field(None, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] | None = None
    user: str | None = None
    mail_from: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise _fault("邮件服务器口令不写入方案文件：请删去此项，改设环境变量 PILOTZONES_SMTP_PASSWORD", "password")
        return data


PUBLICIZED_STAGES = ("evaluation",)


class Publicity(_Model):
    """公示 (README: Rules, Publicity): how long a stage's draft decisions are public before they are
    final, in calendar or working days (working days skip Saturdays, Sundays and `holidays`)."""

    # Per stage name (the registry's): 0 or absent, no publicity; the proposal is approved as it is.
    publicity_days: dict[str, int] = {}
    day_kind: Literal["calendar", "working"] = "working"
    holidays: tuple[date, ...] = ()
    # An upheld objection that moves the card line sends new drafts; whether the window starts again.
    reopen_on_upheld: bool = False

    @field_validator("publicity_days")
    @classmethod
    def _known_stages(cls, v: dict[str, int]) -> dict[str, int]:
        from pilotzones import stages

        known = "、".join(PUBLICIZED_STAGES)
        for name, days in v.items():
            if not 0 <= days <= 60:
                raise _fault(f"公示{days}天不在0到60天之间：请改为0到60之间的天数", name)
            if name in PUBLICIZED_STAGES:
                continue
            if name not in stages.names():
                raise _fault(f"阶段 {shown(name)} 不是决策阶段：只能为 {known} 设公示天数", name)
            if days:
                # A deliberate choice (README, Rules: Publicity): the stage has no draft notices to
                # publicize nor objections to hear; a programme asking for them is refused, not ignored.
                raise _fault(f"{shown(name)} 阶段没有公示期（只有 {known} 有）：请设为0或删去此项", name)
        return v

    def days(self, stage: str) -> int:
        return self.publicity_days.get(stage, 0)


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
    # Between evaluations (issue 14): a card given on `evaluation` sets a deadline
    # `rules.rectification_months` later. Unset, the reminder comes a month before that deadline and
    # the overdue list the day after it, at 09:00 (`Programme.calendar_text`); the visit check comes
    # while a visit can still be made in the year.
    rectification_reminder: str | None = Field(default=None, pattern=_MOMENT)
    rectification_overdue: str | None = Field(default=None, pattern=_MOMENT)
    visit_check: str = Field(default="11-01 09:00:00", pattern=_MOMENT)

    @model_validator(mode="after")
    def _real_dates(self) -> Calendar:
        for name, value in self:
            if value is None:
                continue
            try:
                datetime.strptime("2024-" + value, "%Y-%m-%d %H:%M:%S")
            except ValueError as exc:
                raise _fault(f"“{shown(value)}”不是日历上有的日子：请改为存在的月-日", name) from exc
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


class ExpertGroup(_Model):
    """An expert guidance group (附件2) and the address its notices go to."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,11}$")  # the outbox's recipient for its notices
    name: str
    email: str
    members: tuple[str, ...] = ()
    placeholder: bool = False  # a sample name and address, to be replaced by the real group


class Leader(_Model):
    """A commission leader in charge of pilots (分片包干)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]{0,11}$")
    name: str
    email: str
    title: str = ""
    placeholder: bool = False


class Assignment(_Model):
    adcode: Adcode
    group: str
    leader: str


class Guidance(_Model):
    """Between evaluations (四, 五): who guides each pilot, and how often they meet."""

    visits_per_year: int = Field(default=2, ge=0)  # expert visits per pilot and year
    meetings_per_year: int = Field(default=2, ge=0)  # exchange meetings or field visits a year
    groups: tuple[ExpertGroup, ...] = ()
    leaders: tuple[Leader, ...] = ()
    zones: tuple[Assignment, ...] = ()
    # For a pilot not listed in `zones` (a promoted county): the group and leader it falls to.
    default_group: str = ""
    default_leader: str = ""

    @model_validator(mode="after")
    def _known_ids(self) -> Guidance:
        groups, leaders = {g.id for g in self.groups}, {x.id for x in self.leaders}
        faults: list[tuple[tuple[int | str, ...], str]] = []
        group = "专家组 {} 不在 guidance.groups 中：请先在 guidance.groups 中列出它，或改用已列出的 id"
        leader = "领导 {} 不在 guidance.leaders 中：请先在 guidance.leaders 中列出他（她），或改用已列出的 id"
        for i, z in enumerate(self.zones):
            if z.group not in groups:
                faults.append((("zones", i, "group"), group.format(shown(z.group))))
            if z.leader not in leaders:
                faults.append((("zones", i, "leader"), leader.format(shown(z.leader))))
        if self.default_group and self.default_group not in groups:
            faults.append((("default_group",), group.format(shown(self.default_group))))
        if self.default_leader and self.default_leader not in leaders:
            faults.append((("default_leader",), leader.format(shown(self.default_leader))))
        if faults:
            raise Faults(*faults)
        return self

    def of(self, adcode: str) -> tuple[ExpertGroup | None, Leader | None]:
        """The expert group and the leader in charge of `adcode` (None where the file names none)."""
        z = next((z for z in self.zones if z.adcode == adcode), None)
        gid, lid = (z.group, z.leader) if z else (self.default_group, self.default_leader)
        group = next((g for g in self.groups if g.id == gid), None)
        leader = next((x for x in self.leaders if x.id == lid), None)
        return group, leader


class Programme(_Model):
    programme: Info
    pilots: Pilots
    rules: Rules
    calendar: Calendar
    rubric: Rubric
    contacts: tuple[Contact, ...] = ()
    limits: Limits = Limits()
    guidance: Guidance = Guidance()
    publicity: Publicity = Publicity()
    smtp: Smtp = Smtp()

    @model_validator(mode="after")
    def _rectification_dates(self) -> Programme:
        from pilotzones.rules.rectification import check_calendar, deadline

        months = self.rules.rectification_months
        if months == 0:
            return self
        card = self.moment("evaluation", 2023)
        due_year = deadline(card.date(), months, self.tz).year
        if self.calendar.rectification_reminder is None and self.calendar.rectification_overdue is None:
            return self
        reminder = self.moment("rectification_reminder", due_year)
        problems = check_calendar(
            card.date(), months, reminder, self.moment("rectification_overdue", due_year), self.tz
        )
        if problems:
            raise Faults(*((("calendar", name), message) for name, message in problems.items()))
        return self

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.programme.timezone)

    def calendar_text(self, name: str) -> str:
        """The calendar entry `name` as "MM-DD HH:MM:SS", the rectification dates derived when unset."""
        value: str | None = getattr(self.calendar, name)
        if value is not None:
            return value
        from datetime import timedelta

        from pilotzones.rules.rectification import add_months, deadline

        due = deadline(self.moment("evaluation", 2023).date(), self.rules.rectification_months, self.tz).date()
        day = add_months(due, -1) if name == "rectification_reminder" else due + timedelta(days=1)
        # A yearly date: 29 February would come only in leap years.
        return f"{day:%m-%d} 09:00:00".replace("02-29", "02-28")

    def moment(self, name: str, year: int) -> datetime:
        """The calendar moment `name` in `year`, timezone-aware."""
        value = self.calendar_text(name)
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
    """Read and check a programme file; raise ConfigError with one line per fault, in Chinese, each
    naming the file, the key as the file writes it (`pilots.initial[2]`) and what to fix."""
    path = path or BUILTIN
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}：找不到方案文件：请检查路径") from exc
    except IsADirectoryError as exc:
        raise ConfigError(f"{path}：是目录，不是方案文件：请给出 .toml 文件的路径") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}：不是 UTF-8 编码的文本：请把方案文件另存为 UTF-8 编码") from exc
    return _checked(text, path)


@lru_cache(maxsize=8)
def _checked(text: str, path: Path) -> Programme:
    # A stage's tasks each open the home and read its programme: the same text is parsed and
    # checked once per process (a Programme is frozen, so one object can be shared).
    try:
        raw = tomllib.loads(text)
        return Programme.model_validate(raw)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+), column (\d+)", str(exc))
        where = f"第{at[1]}行第{at[2]}列" if at else "文件末尾"
        raise ConfigError(
            f"{path}：不是有效的 TOML 文件（{where}有误）：请检查该处的等号、引号、括号和是否有重复的键"
        ) from exc
    except ValidationError as exc:
        raise ConfigError("\n".join(f"{path}：{where}：{what}" for where, what in _faults(exc))) from exc


def check_places(prog: Programme, path: Path | None = None) -> None:
    """Refuse (ConfigError, one line per fault naming the file and the key) a region or pilot the
    county register does not have as the file says: the register, not the file, is the authority on places."""
    from pilotzones.rules.register import load_register, normalize_text

    info = prog.programme
    problems: list[str] = []
    code = info.region_code
    register = load_register(code)
    national = code == "000000"
    # GB/T 2260 province-level codes run 11-82; the register's 990000 (苏鲁交界) is a geocoding artefact.
    if not national and (not code.endswith("0000") or not 11 <= int(code[:2]) <= 82 or register.region_name == code):
        problems.append(
            f"programme.region_code：{code} 不是 GB/T 2260 的省级行政区划代码："
            "请改为省、自治区或直辖市的代码（如 650000）"
        )
    else:
        if normalize_text(info.region_name) != register.region_name:
            problems.append(
                f"programme.region_name：“{shown(info.region_name)}”不是 {code} 的名称：请改为“{register.region_name}”"
            )
        for i, adcode in enumerate(prog.pilots.initial):
            where = f"pilots.initial[{i}]：{adcode}"
            if register.county(adcode) is not None:
                continue
            if adcode.endswith("00"):
                problems.append(
                    f"{where} 是{info.prefecture_name}或省级的代码，不是县级行政区划：请改为县（市、区）的代码"
                )
            else:
                problems.append(
                    f"{where} 不是{register.region_name}（{code}）的县级行政区划：请改为本区域内县（市、区）的代码"
                )
    if problems:
        raise ConfigError("\n".join(f"{path or BUILTIN}：{p}" for p in problems))


def key_path(loc: tuple[int | str, ...] | list[int | str]) -> str:
    """A location as the TOML file writes the key: `pilots.initial[2]`, `rubric.categories[0].items[3].weight`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{shown(part)}" if out else shown(part))
    return out or "（文件顶层）"


def _faults(exc: ValidationError) -> list[tuple[str, str]]:
    """(key, what to fix) for each fault of a programme file, in Chinese, in the file's terms."""
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        loc = _without_kind(err["loc"])
        error = err.get("ctx", {}).get("error")
        if isinstance(error, Faults):
            out += [(key_path([*loc, *at]), message) for at, message in error.faults]
        elif err["type"] == "value_error" and error is not None:
            out.append((key_path(loc), str(error)))  # a validator's own ValueError, already in Chinese
        else:
            more, message = _pydantic_fault(err)
            out.append((key_path([*loc, *more]), message))
    return out


# The patterns of the fields above, as a clerk of the commission would be told to write them.
_PATTERNS = {
    r"^\d{6}$": '应为6位数字的行政区划代码，写在引号内（如 "654025"）',
    r"^\d{2}-\d{2} \d{2}:\d{2}:\d{2}$": '应写作“月-日 时:分:秒”（如 "12-20 23:59:59"）',
    r"^[a-z0-9][a-z0-9-]*$": '应只用小写字母、数字和连字符，且不以连字符开头（如 "sichuan"）',
    r"^[a-z][a-z0-9-]{0,11}$": '应以小写字母开头，只用小写字母、数字和连字符，最多12个字符（如 "group-a"）',
}


def _value(v: Any) -> str:
    """A scalar from the file as the message quotes it ("" for a table or an array)."""
    if isinstance(v, str):
        text = v if len(v) <= 40 else v[:40] + "…"
        return f"“{shown(text)}”"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | date | datetime | time):
        return str(v)
    return ""


def _pydantic_fault(err: Any) -> tuple[tuple[str, ...], str]:
    """A pydantic error of a programme file in Chinese, with what to fix (and a key to add to its place)."""
    kind, ctx = err["type"], err.get("ctx", {})
    v = _value(err.get("input"))
    tags = "、".join(_TAGS)
    if kind == "missing":
        return (), "缺少此项：请补上（写法可参照内置方案文件 xinjiang.toml）"
    if kind == "extra_forbidden":
        return (), "方案文件没有这一项：请删去，或改正键名的拼写"
    if kind == "string_pattern_mismatch":
        return (), f"{v}格式不对：{_PATTERNS.get(ctx.get('pattern', ''), '请对照内置方案文件改正')}"
    if kind in ("greater_than_equal", "greater_than"):
        return (), f"{v}太小：应不小于{ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return (), f"{v}太大：应不大于{ctx.get('le', ctx.get('lt'))}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return (), f"{v}不是整数：应写整数，不加引号"
    if kind in ("string_type", "string_sub_type"):
        return (), f"{v}不是文字：应写在引号内"
    if kind in ("bool_type", "bool_parsing"):
        return (), f"{v}应为 true 或 false"
    if kind == "too_short":
        return (), f"至少应列出{ctx.get('min_length', 1)}项"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("' or '", "'、'").replace("', '", "'、'")
        return (), f"{v}不可用：应为 {expected} 之一"
    if kind == "union_tag_invalid":
        return ("rule",), f"没有计分规则“{shown(str(ctx.get('tag', '')))}”：应为 {tags} 之一"
    if kind == "union_tag_not_found":
        return ("rule",), f"缺少计分规则：请写明 rule，为 {tags} 之一"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return (), "应为一个表（[表名] 或 {键 = 值, …}）"
    if kind in ("tuple_type", "list_type", "set_type", "frozen_set_type"):
        return (), "应为数组（[…, …]）"
    if kind.startswith("date_"):
        return (), f"{v}不是日期：应写作如 2024-10-01"
    if kind.startswith("float_") or kind.startswith("decimal_"):
        return (), f"{v}不是数：应写数，不加引号"
    return (), f"{v}不符合要求：请对照内置方案文件改正"


# In the kinds' order, as messages list them.
_TAGS = tuple(kind.model_fields["rule"].annotation.__args__[0] for kind in KINDS)  # type: ignore[union-attr]


def _without_kind(loc: tuple[int | str, ...]) -> list[int | str]:
    """An error's location as the file names it: pydantic puts the item's kind after its index."""
    out: list[int | str] = []
    for part in loc:
        if not (part in _TAGS and len(out) >= 2 and out[-2] == "items" and isinstance(out[-1], int)):
            out.append(part)
    return out
