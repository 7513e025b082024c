"""Check a visit sheet (专家调研登记表): one expert visit per row, as the operator keeps them.

Columns: date (调研日期, within the year given), adcode (行政区划代码), county, who (调研人员),
found (发现问题), follow_up (后续事项), case (整改事项: a rectification case of that zone, optional).
Every error is listed; one error rejects the sheet, and nothing of it is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from pilotzones.intake import RowError
from pilotzones.intake.read import ROW, read_table
from pilotzones.rules.programme import Programme
from pilotzones.rules.register import Register, normalize_adcode, normalize_text

REQUIRED = {"visit_date": "调研日期", "adcode": "行政区划代码", "who": "调研人员"}


@dataclass
class VisitCheck:
    rows: list[dict] = field(default_factory=list)  # the value rows it is recorded with
    errors: list[RowError] = field(default_factory=list)


def check_visits(
    data: bytes,
    filename: str,
    *,
    year: int,
    programme: Programme,
    register: Register,
    case_of: Callable[[int], str | None],
) -> VisitCheck:
    """Read and check one sheet; `case_of(id)` is the zone of rectification case `id` (None: no such
    case). Raises FileUnreadable."""
    frame = read_table(data, filename, programme.limits)
    missing = [name for col, name in REQUIRED.items() if col not in frame]
    if missing:
        return VisitCheck([], [RowError(None, None, "§3", f"缺少必需的列：{'、'.join(missing)}。")])
    errors: list[RowError] = []
    rows: list[dict] = []
    for record in frame.to_dict("records"):
        row = int(record[ROW])
        text = normalize_text(record.get("visit_date", ""))
        try:
            day = date.fromisoformat(text.replace("/", "-"))
        except ValueError:
            errors.append(RowError(row, "visit_date", "§3", f"调研日期“{text}”不是日期：应写作{year}-05-12。"))
            continue
        if day.year != year:
            errors.append(RowError(row, "visit_date", "§3", f"调研日期{day.isoformat()}不在{year}年。"))
        adcode = normalize_adcode(record.get("adcode", ""))
        if not isinstance(adcode, str) or register.county(adcode) is None:
            errors.append(RowError(row, "adcode", "§3", "行政区划代码不是本方案所辖的县级行政区划代码。"))
            continue
        who = normalize_text(record.get("who", ""))
        if not who:
            errors.append(RowError(row, "who", "§3", "“调研人员”为空：请写明来访的专家（组）。"))
        case_text = normalize_text(record.get("case", "")) if "case" in record else ""
        case_id = None
        if case_text:
            case_id = int(case_text) if case_text.isdigit() else None
            if case_id is None or case_of(case_id) != adcode:
                errors.append(
                    RowError(row, "case", "RECT", f"整改事项“{case_text}”不是{register.name(adcode)}的整改事项。")
                )
        rows.append(
            {
                "adcode": adcode,
                "key": "visit",
                "value": day.isoformat(),
                "evidence": None,
                "extra": {
                    "who": who,
                    "found": normalize_text(record.get("found", "")),
                    "follow_up": normalize_text(record.get("follow_up", "")),
                    "case": case_id,
                    "row": row,
                },
            }
        )
    if not rows and not errors:
        errors.append(RowError(None, None, "§3", "文件没有任何调研记录。"))
    return VisitCheck(rows, errors)
