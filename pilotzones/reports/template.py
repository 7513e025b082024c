"""`pilotzones template`: one XLSX per pilot, the county's form for its evaluation data.

The data sheet has the programme's keys in Annex order with the year, adcode and county filled in
and locked; the clerk types a value per key (Excel data validation keeps it in range) and an
evidence note. Submitted as it is, it is read like any other file: the header row below the title
block is found and its Chinese headers are the contract's columns (intake/read.py ALIASES).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pilotzones.reports.xlsx import workbook, write_row
from pilotzones.rules.programme import Programme, ShareGrowthItem, TieredCountItem
from pilotzones.rules.register import Register

HEADER = [
    "年度",
    "行政区划代码",
    "县（市、区）",
    "指标",
    "指标名称",
    "类别",
    "满分",
    "评分方法",
    "得分/分值",
    "佐证材料",
]
HEADER_ROW = 3  # zero-based: a title and a note above it, then a blank line
VALUE_COL = HEADER.index("得分/分值")
SHEET = "填报表"


@dataclass(frozen=True)
class TemplateRow:
    key: str
    label: str
    category: str
    maximum: float | None  # points for an assessed key; None for a count
    how: str
    item: int


def template_rows(prog: Programme) -> list[TemplateRow]:
    """One row per submission key, in Annex order, with what the clerk needs to fill it."""
    out = []
    for cat in prog.rubric.categories:
        for item in cat.items:
            kind, weight = item.key_kind()
            for key in item.keys():
                label = item.name
                how = item.description
                if isinstance(item, ShareGrowthItem):
                    part = "分子" if key.startswith(item.numerator or "") else "分母"
                    when = "上年末" if key.endswith(item.previous_suffix) else "本年末"
                    label = f"{item.name}（占比{part}，{when}人数）"
                    how = f"{how}；填人数（非负整数），分子不大于分母"
                elif isinstance(item, TieredCountItem):
                    how = how + "：" + "，".join(f"达到{t.min}得{t.points}分" for t in item.tiers) + "；填数量"
                else:
                    levels = {c.key: c for c in getattr(item, "counts", ())}
                    if key in levels:
                        label = f"{item.name}：{levels[key].name}"
                        how = f"每次（项）{levels[key].points}分；填次数（非负整数）"
                out.append(TemplateRow(key, label, cat.name, weight if kind == "points" else None, how, item.id))
    return out


def _region_contact(prog: Programme) -> str:
    for c in prog.contacts:
        if c.role == "region" or c.adcode == prog.programme.region_code:
            return f"{c.name}（{c.email}）"
    return prog.programme.authority


def write_template(path: Path, prog: Programme, register: Register, year: int, adcode: str) -> Path:
    """Write the county template of `adcode` for `year` to `path`."""
    county = register.name(adcode)
    decimals = prog.rules.score_decimals
    deadline: datetime = prog.moment("evaluation_deadline", year)
    wb = workbook(path)
    title = wb.add_format({"bold": True, "font_size": 14})
    head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "locked": True, "text_wrap": True})
    fixed = wb.add_format({"bg_color": "#EDEDED", "border": 1, "locked": True, "text_wrap": True})
    fixed_text = wb.add_format({"bg_color": "#EDEDED", "border": 1, "locked": True, "num_format": "@"})
    open_num = wb.add_format({"border": 1, "locked": False, "bg_color": "#FFF2CC"})
    open_text = wb.add_format({"border": 1, "locked": False, "num_format": "@", "text_wrap": True})
    ws = wb.add_worksheet(SHEET)
    ws.write_string(0, 0, f"{year}年度{prog.programme.zone_name}监测评价数据报送表（{county}）", title)
    ws.write_string(
        1,
        0,
        "灰色单元格已预填并锁定；请在黄色的“得分/分值”列逐项填写，“佐证材料”列填写材料名称或存放位置。"
        "填写说明见“填报说明”工作表。",
    )
    write_row(ws, HEADER_ROW, HEADER, head)
    rows = template_rows(prog)
    for n, r in enumerate(rows, start=HEADER_ROW + 1):
        write_row(ws, n, [str(year), adcode, county], fixed_text)
        ws.write_string(n, 3, r.key, fixed_text)
        write_row(ws, n, [r.label, r.category, r.maximum, r.how], fixed, col=4)
        ws.write_blank(n, VALUE_COL, None, open_num)
        ws.write_blank(n, VALUE_COL + 1, None, open_text)
        # Native decimal and whole-number rules (no formula): Excel and WPS check them as typed; the
        # decimals themselves are checked at intake, and the message says how many are allowed.
        if r.maximum is not None:
            rule = {"validate": "decimal", "criteria": "between", "minimum": 0, "maximum": r.maximum}
            message = f"0至{r.maximum:g}之间的数，最多{decimals}位小数。"
        else:
            rule = {"validate": "integer", "criteria": ">=", "value": 0}
            message = "非负整数（次数、人数或数量）。"
        ws.data_validation(
            n,
            VALUE_COL,
            n,
            VALUE_COL,
            rule
            | {
                "input_title": f"第{r.item}项",
                "input_message": message,
                "error_title": "数值不符合要求",
                "error_message": f"指标{r.key}应填{message}",
                "ignore_blank": True,
            },
        )
    for col, width in enumerate([7, 12, 16, 26, 40, 18, 7, 36, 11, 30]):
        ws.set_column(col, col, width)
    ws.freeze_panes(HEADER_ROW + 1, 0)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True, "format_columns": True})
    _instructions(wb, prog, year, county, adcode, deadline, len(rows))
    wb.close()
    return path


def _instructions(wb, prog: Programme, year: int, county: str, adcode: str, deadline: datetime, n: int) -> None:
    ws = wb.add_worksheet("填报说明")
    bold = wb.add_format({"bold": True, "font_size": 13})
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    local = deadline.astimezone(prog.tz)
    lines = [
        f"{year}年度{prog.programme.zone_name}监测评价数据填报说明（{county}，{adcode}）",
        f"一、报送截止时间：{local.year}年{local.month}月{local.day}日{local:%H:%M:%S}（含）。逾期报送的文件予以登记，"
        "但不计入评价；未按时报送有效数据的，按0分参与排名并标注“未按时报送”。",
        f"二、报送方式：填好本表后，将本工作簿（.xlsx，无需改名或另存）报送至{_region_contact(prog)}。",
        f"三、填写：“填报表”共{n}行，每行一个指标。年度、行政区划代码、县（市、区）和指标已预填并锁定，请勿修改；"
        "请在“得分/分值”列逐项填写数值，不能留空（没有的填0）。",
        f"四、评定得分的指标填得分，0至满分之间，最多{prog.rules.score_decimals}位小数；计数的指标（人数、次数、数量）"
        "填非负整数。“评分方法”列说明每个指标如何计分。",
        "五、未填报的指标按0分计并标注“未填报”；报送时系统会列出文件未填报的指标。",
        "六、文件有任何错误的，整份退回（不予受理），退回通知逐条列出错误所在的行、指标和规则；"
        "请改正后重新报送，以截止时间前最后一次受理的文件为准。",
        "七、“佐证材料”列填写佐证材料名称或存放位置，材料请留存备查。",
    ]
    ws.set_column(0, 0, 110)
    ws.write_string(0, 0, lines[0], bold)
    for i, line in enumerate(lines[1:], start=2):
        ws.write_string(i, 0, line, wrap)
        ws.set_row(i, 36)


def write_templates(home, year: int, county: str | None = None, out: Path | None = None) -> list[Path]:
    """Write the template of each pilot of `year` (or of the county named) under `out`; return the paths."""
    from pilotzones.errors import ConfigError
    from pilotzones.rules.register import normalize_adcode, normalize_text
    from pilotzones.store import ledger
    from pilotzones.store.session import session
    from pilotzones.store.versions import programme_for

    prog, reg = programme_for(home, year), home.register  # the items of the rubric in force for the year
    with session(home.db_url) as s:
        pilots = ledger.pilots_for(s, year)
    if county is not None:
        code = normalize_adcode(county) or reg.aliases.get(normalize_text(county))
        if code not in pilots:
            raise ConfigError(
                f"--county {county}：不是{year}年度的{prog.programme.zone_name}（本年度名单：{'、'.join(pilots)}）"
            )
        pilots = [code]
    folder = out or home.reports / str(year) / "templates"
    return [write_template(folder / template_name(year, a, reg.name(a)), prog, reg, year, a) for a in pilots]


def template_name(year: int, adcode: str, county: str) -> str:
    return f"{year}年度监测评价数据报送表_{adcode}_{county}.xlsx"
