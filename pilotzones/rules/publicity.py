"""公示: the publicity window of a stage's draft decisions, and the objections heard in it.

Pure: the window's end from the moment it opens and the programme's `[publicity]` table; whether a
moment falls in it; an objection's states; which zones a rebuilt draft moved across the card line.
Like a deadline, the window is inclusive to the second in programme time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from pilotzones.rules.programme import Publicity, Rubric

# The last second of the window's last day: an objection at 23:59:59 is heard, one at 00:00:00 is late.
CLOSING = time(23, 59, 59)


def is_working_day(d: date, holidays: Iterable[date] = ()) -> bool:
    return d.weekday() < 5 and d not in set(holidays)


def window_end(opened: datetime, days: int, tz: tzinfo, *, working: bool, holidays: Iterable[date] = ()) -> datetime:
    """When a window of `days` opened at `opened` closes: 23:59:59 programme time of its last day.

    The day it opens is not counted (it is never a whole day): the first day is the next one, and
    with working days only Monday to Friday outside `holidays` count. The end is a programme-time
    moment, so a window that opens on a Friday afternoon runs to the end of the next Friday.
    """
    if days <= 0:
        raise ValueError("a publicity window has at least one day")
    off = frozenset(holidays)
    day = opened.astimezone(tz).date()
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if not working or is_working_day(day, off):
            counted += 1
    return datetime.combine(day, CLOSING, tzinfo=tz)


def closes(publicity: Publicity, stage: str, opened: datetime, tz: tzinfo) -> datetime | None:
    """The end of `stage`'s window opened at `opened`, or None when the programme sets none."""
    days = publicity.days(stage)
    if days == 0:
        return None
    return window_end(opened, days, tz, working=publicity.day_kind == "working", holidays=publicity.holidays)


def in_window(moment: datetime, opened: datetime, closes_at: datetime) -> bool:
    """Whether an objection received at `moment` is heard: from the opening to the end, inclusive."""
    return opened <= moment <= closes_at


def is_open(now: datetime, closes_at: datetime) -> bool:
    return now <= closes_at


class ObjectionState(StrEnum):
    """An objection on the record: waiting for an answer, answered, or received outside the window."""

    PENDING = "pending"
    UPHELD = "upheld"
    DISMISSED = "dismissed"
    LATE = "late"  # received after the window closed (or before it opened): recorded, not heard

    @property
    def cn(self) -> str:
        return _OBJECTION_CN[self]

    @property
    def answered(self) -> bool:
        return self in (ObjectionState.UPHELD, ObjectionState.DISMISSED)


_OBJECTION_CN = {
    ObjectionState.PENDING: "待答复",
    ObjectionState.UPHELD: "异议成立",
    ObjectionState.DISMISSED: "异议不成立",
    ObjectionState.LATE: "逾期未受理",
}


def received_state(moment: datetime, opened: datetime | None, closes_at: datetime | None) -> ObjectionState:
    """The state an objection starts in: heard (pending) inside an open window, late otherwise."""
    if opened is None or closes_at is None or not in_window(moment, opened, closes_at):
        return ObjectionState.LATE
    return ObjectionState.PENDING


def cards_moved(before: Mapping[str, bool], after: Mapping[str, bool]) -> list[str]:
    """The zones whose provisional card a rebuilt draft changed (carded, or no longer), by adcode."""
    return sorted(z for z in set(before) | set(after) if before.get(z, False) != after.get(z, False))


def check_value(rubric: Rubric, key: str, value: object, decimals: int) -> tuple[str | None, str | None]:
    """(the value as canonical text, None) or (None, why it is refused): the checks a submitted value
    of `key` passes (R3 for points: 0 to the weight, at most `decimals` places; counts: whole, not
    negative), applied to a value an objection claims or an operator corrects."""
    kinds = rubric.key_kinds()
    if key not in kinds:
        return None, f"指标{key}不是本年度评价细则的报送项"
    text = str(value).strip().translate(_FULL_WIDTH)
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or "e" in text.lower():
        return None, f"{key}的数值{text!r}不是数字"
    kind, weight = kinds[key]
    exponent = number.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    if kind == "points":
        if number < 0 or (weight is not None and number > weight):
            return None, f"{key}的分值{text}超出范围：应在0到{weight}之间"
        if places > decimals:
            return None, f"{key}的分值{text}的小数位数过多：最多{decimals}位小数"
    elif number < 0 or number != number.to_integral():
        return None, f"{key}的计数{text}应为非负整数"
    return ("0" if number == 0 else format(number.normalize(), "f")), None


def check_pairs(rubric: Rubric, values: Mapping[str, str]) -> list[str]:
    """The numerator counts that exceed their denominator in `values` (a file's values, amended)."""
    out = []
    for num, den in rubric.pairs().items():
        if num in values and den in values and Decimal(values[num]) > Decimal(values[den]):
            out.append(f"{num}的数值{values[num]}大于{den}的数值{values[den]}：占比的分子不能大于分母")
    return out


_FULL_WIDTH = str.maketrans("０１２３４５６７８９．－", "0123456789.-")
