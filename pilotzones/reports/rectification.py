"""The rectification report form (整改报告表) of each carded zone: the items it lost points on
prefilled from its published result, a row per item to say what was found and what was done.

Submitted as it is (`submit --kind rectification`), it is read like every file: the header row
below the title is found, its Chinese headers are the columns intake reads (intake/read.py ALIASES);
the prefilled name, maximum and points columns are there for the clerk and are not read.
"""

from __future__ import annotations

from pathlib import Path

from pilotzones.reports.xlsx import FORM_HEADER_ROW, PREFILLED_COLUMNS, prefilled_form

HEADER = [
    *PREFILLED_COLUMNS,
    "本年得分",
    "发现问题",
    "整改措施",
    "佐证材料",
]
HEADER_ROW = FORM_HEADER_ROW


def write_form(path: Path, *, year: int, adcode: str, county: str, deadline: str, lost: list[tuple]) -> Path:
    """`lost`: (item id, name, maximum, points) of each item the zone lost points on."""
    return prefilled_form(
        path,
        sheet="整改报告",
        title=f"{county}{year}年度黄牌整改报告（整改期限：{deadline}）",
        guide="已预填失分指标；请逐项填写“发现问题”“整改措施”“佐证材料”。失分指标之外的问题，“指标”列留空，另起一行填写。",
        header=HEADER,
        rows=[[str(year), adcode, county, str(item), name, maximum, points] for item, name, maximum, points in lost],
        widths=[7, 12, 16, 6, 30, 7, 9, 40, 40, 30],
    )


def form_name(year: int, adcode: str, county: str) -> str:
    return f"{year}年度黄牌整改报告表_{adcode}_{county}.xlsx"


def write_forms(home, year: int, out: Path | None = None, adcode: str | None = None) -> list[Path]:
    """The form of every zone (or of `adcode`) whose case of `year`'s card is not closed; the paths."""
    from pilotzones.rules.rectification import CaseState
    from pilotzones.store import cases, ledger
    from pilotzones.store.session import session
    from pilotzones.store.versions import programme_for

    prog, reg = programme_for(home, year), home.register
    with session(home.db_url) as s:
        open_cases = [
            c
            for c in cases.cases(s, card_years=[year], adcodes=None if adcode is None else [adcode])
            if not CaseState(c.state).closed
        ]
        # One zone's rows, not the year's (120,000 nationally), when a notice asks for one form.
        zones = None if adcode is None else [adcode]
        points = {(x.adcode, x.item): x.points for x in ledger.item_scores(s, year, zones)}
    folder = out or home.reports / str(year) / "rectification"
    paths = []
    for c in open_cases:
        lost = [
            (i.id, i.name, i.weight, points.get((c.adcode, i.id), 0.0))
            for i in prog.rubric.items
            if i.weight and points.get((c.adcode, i.id), 0.0) < i.weight
        ]
        due = ledger.utc(c.deadline).astimezone(home.programme.tz)
        deadline = f"{due.year}年{due.month}月{due.day}日"
        county = reg.name(c.adcode)
        paths.append(
            write_form(
                folder / form_name(year, c.adcode, county),
                year=year,
                adcode=c.adcode,
                county=county,
                deadline=deadline,
                lost=lost,
            )
        )
    return paths
