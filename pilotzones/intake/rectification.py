"""Check a carded zone's rectification report (整改报告): one row per problem, with what was found,
what was done and the evidence; the items it lost points on come prefilled in its template.

Columns: year (the card's evaluation year), adcode, county, key (an item number, or blank for a
problem beyond the rubric), found, done, evidence. A row with neither found nor done is a prefilled
item the report leaves alone; a row with one needs the other. Every error is listed; one error
rejects the file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pilotzones.intake import RowError, year_text
from pilotzones.intake.read import ROW, read_table
from pilotzones.rules.programme import Programme
from pilotzones.rules.register import Register, normalize_adcode, normalize_text

REQUIRED = ("year", "adcode", "found", "done")
_HEADERS = {"year": "年度", "adcode": "行政区划代码", "found": "发现问题", "done": "整改措施"}


@dataclass
class RectificationCheck:
    sender: str | None
    rows: list[dict] = field(default_factory=list)  # the value rows it is recorded with
    errors: list[RowError] = field(default_factory=list)


def check_rectification(
    data: bytes,
    filename: str,
    *,
    year: int,
    programme: Programme,
    register: Register,
    case_state: Callable[[str], str | None],
) -> RectificationCheck:
    """Read and check one report; `case_state(adcode)` is the state of the zone's case of `year`'s
    card (None: no case). Raises FileUnreadable."""
    frame = read_table(data, filename, programme.limits)
    missing = [c for c in REQUIRED if c not in frame]
    if missing:
        names = "、".join(_HEADERS[c] for c in missing)
        return RectificationCheck(None, [], [RowError(None, None, "§3", f"缺少必需的列：{names}。")])
    if frame.empty:
        return RectificationCheck(None, [], [RowError(None, None, "§3", "文件没有任何整改内容行。")])
    errors: list[RowError] = []
    items = {str(i.id) for i in programme.rubric.items}
    sender: str | None = None
    rows: list[dict] = []
    for record in frame.to_dict("records"):
        row = int(record[ROW])
        if year_text(record.get("year", "")) != str(year):
            errors.append(RowError(row, "year", "§3", f"年度应为{year}（被亮黄牌的监测评价年度）。"))
        adcode = normalize_adcode(record.get("adcode", ""))
        if not isinstance(adcode, str) or register.county(adcode) is None:
            errors.append(RowError(row, "adcode", "§3", "行政区划代码不是本方案所辖的县级行政区划代码。"))
            continue
        if sender is None:
            sender = adcode
        elif adcode != sender:
            errors.append(RowError(row, "adcode", "R11", f"一份整改报告只能报送一个单位：本文件首行为{sender}。"))
            continue
        key = normalize_text(record.get("key", "")) if "key" in record else ""
        found, done = (normalize_text(record.get(c, "")) for c in ("found", "done"))
        if not found and not done:
            continue  # a prefilled item the report does not address
        if key and key not in items:
            errors.append(RowError(row, "key", "§3", f"指标“{key}”不是评价细则中的指标序号。"))
        if not found:
            errors.append(RowError(row, "found", "§3", "“发现问题”为空：请写明存在的问题。"))
        if not done:
            errors.append(RowError(row, "done", "§3", "“整改措施”为空：请写明采取的整改措施及成效。"))
        evidence = normalize_text(record.get("evidence", "")) if "evidence" in record else ""
        rows.append(
            {
                "adcode": adcode,
                "key": key or "-",
                "value": "",
                "evidence": evidence or None,
                "extra": {"found": found, "done": done, "row": row},
            }
        )
    if not rows and not errors:
        message = "没有填写任何整改内容：请至少在一行写明“发现问题”和“整改措施”。"
        errors.append(RowError(None, None, "§3", message))
    if sender is not None:
        state = case_state(sender)
        if state is None:
            errors.insert(0, RowError(None, "adcode", "RECT", f"{register.name(sender)}没有{year}年度黄牌的整改事项。"))
        elif state in ("accepted", "disqualified"):
            errors.insert(0, RowError(None, "adcode", "RECT", f"{register.name(sender)}的{year}年度整改事项已结案。"))
    return RectificationCheck(sender, rows, errors)
