"""The yearly report as an XLSX workbook with native Excel charts (XlsxWriter)."""

from __future__ import annotations

from pathlib import Path

from pilotzones.reports.xlsx import workbook, write_row
from pilotzones.reports.yearly import YearReport
from pilotzones.rules.decisions import DecisionState

RANKING = "排名"
ITEMS = "指标得分"
PROFILE = "类别小计"
DECISIONS = "决定与例外"
HISTORY = "历年"
BETWEEN = "整改调研会议"
CHART_DATA = "图表数据"


def write_workbook(report: YearReport, path: Path) -> Path:
    wb = workbook(path)
    wb.set_properties({"title": f"{report.year}年度{report.zone_name}监测评价报告", "author": report.authority})
    head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True, "valign": "top"})
    title = wb.add_format({"bold": True, "font_size": 14})
    num = wb.add_format({"num_format": f"0.{'#' * report.decimals}" if report.decimals else "0"})
    carded = wb.add_format({"bg_color": "#FFE699"})
    _ranking(wb, report, head, title, num, carded)
    _items(wb, report, head, num)
    _profile(wb, report, head, num)
    _decisions(wb, report, head, title)
    _history(wb, report, head, num)
    _between(wb, report, head, title)
    wb.close()
    return path


def _state_cn(state: str) -> str:
    try:
        return DecisionState(state).cn
    except ValueError:
        return state


def _ranking(wb, r: YearReport, head, title, num, carded) -> None:
    ws = wb.add_worksheet(RANKING)
    p = r.proposal
    ws.write_string(0, 0, f"{r.year}年度{r.zone_name}监测评价排名（{_state_cn(r.state)}）", title)
    ws.write_string(1, 0, f"{r.programme}；参评{p.evaluated}个，亮黄牌{p.carded}个；{r.authority}")
    header = [
        "名次",
        "行政区划代码",
        "县（市、区）",
        "基础分",
        "加分",
        "总分",
        "亮黄牌",
        "标注",
        "与黄牌线距离",
        "说明",
    ]
    write_row(ws, 3, header, head)
    for n, z in enumerate(r.ranking, start=4):
        m = r.margins[z.adcode]
        note = _margin_note(r, m)
        fmt = carded if z.yellow_card else None
        write_row(ws, n, [z.rank, z.adcode, z.county], fmt)
        write_row(ws, n, [z.base, z.bonus, z.total], num, col=3)
        write_row(ws, n, ["亮黄牌" if z.yellow_card else "", " ".join(z.flags)], fmt, col=6)
        write_row(ws, n, [m.gap], num, col=8)
        write_row(ws, n, [note], None, col=9)
    for col, width in enumerate([6, 12, 18, 9, 8, 9, 8, 14, 12, 40]):
        ws.set_column(col, col, width)
    ws.freeze_panes(4, 0)
    ws.autofilter(3, 0, 3 + len(r.ranking), len(header) - 1)
    _a4(ws)
    # Chart data: carded and other totals in two series (two colours), the card line as a line series.
    data = wb.add_worksheet(CHART_DATA)
    write_row(data, 0, ["县（市、区）", "总分（亮黄牌）", "总分", "黄牌线"], head)
    line = max((z.total for z in r.ranking if z.yellow_card), default=None)
    for n, z in enumerate(r.ranking, start=1):
        write_row(data, n, [z.county, z.total if z.yellow_card else None, None if z.yellow_card else z.total, line])
    last = len(r.ranking)
    if not last:
        return
    bars = wb.add_chart({"type": "column"})
    for col, colour in ((2, "#4472C4"), (1, "#ED7D31")):
        bars.add_series(
            {
                "name": [CHART_DATA, 0, col],
                "categories": [CHART_DATA, 1, 0, last, 0],
                "values": [CHART_DATA, 1, col, last, col],
                "fill": {"color": colour},
                "gap": 40,
                "overlap": 100,
            }
        )
    if line is not None:
        card_line = wb.add_chart({"type": "line"})
        card_line.add_series(
            {
                "name": [CHART_DATA, 0, 3],
                "categories": [CHART_DATA, 1, 0, last, 0],
                "values": [CHART_DATA, 1, 3, last, 3],
                "line": {"color": "#C00000", "dash_type": "dash", "width": 1.5},
                "marker": {"type": "none"},
            }
        )
        bars.combine(card_line)
    bars.set_title({"name": f"{r.year}年度总分排名与黄牌线"})
    bars.set_y_axis({"name": "总分"})
    bars.set_legend({"position": "bottom"})
    bars.set_size({"width": 760, "height": 380})
    ws.insert_chart(3, len(header) + 1, bars)


def _margin_note(r: YearReport, m) -> str:
    if m.gap is None:
        return "全部参评单位均亮黄牌" if m.carded else "本年度无亮黄牌"
    if m.carded:
        text = f"比未亮黄牌的最低总分{r.num(m.reference)}低{r.num(m.gap)}分"
    else:
        text = f"比亮黄牌的最高总分{r.num(m.reference)}高{r.num(m.gap)}分"
    return text + ("（黄牌线处并列）" if m.tie else "")


def _items(wb, r: YearReport, head, num) -> None:
    """One row per zone, per item its points and lost points (and the value sent, where it is not the
    points themselves: counts and computed items): the layout of a statistics table, and a fraction of
    the cells of one row per item at national scale."""
    ws = wb.add_worksheet(ITEMS)
    first = r.items[r.ranking[0].adcode] if r.ranking else []
    ws.merge_range(0, 0, 1, 0, "行政区划代码", head)
    ws.merge_range(0, 1, 1, 1, "县（市、区）", head)
    columns = []  # per item: columns of the value sent (or None), the points, the lost points (or None)
    col = 2
    for line in first:
        sent = col if r.shows_value(line.item) else None
        cols = ([] if sent is None else ["报送值"]) + ["得分"] + ([] if line.maximum is None else ["失分"])
        cap = f"（满分{r.num(line.maximum)}）" if line.maximum is not None else "（加分）"
        title = f"{line.item}. {line.name}{cap}"
        if len(cols) > 1:
            ws.merge_range(0, col, 0, col + len(cols) - 1, title, head)
        else:
            ws.write_string(0, col, title, head)
        ws.write_row(1, col, cols, head)
        points = col + (sent is not None)
        columns.append((sent, points, points + 1 if line.maximum is not None else None))
        col += len(cols)
    for n, z in enumerate(r.ranking, start=2):
        ws.write_string(n, 0, z.adcode)
        ws.write_string(n, 1, z.county)
        for (sent, points, lost), line in zip(columns, r.items[z.adcode], strict=True):
            if sent is not None and line.value:
                ws.write_string(n, sent, line.value)
            ws.write_number(n, points, line.points, num)
            if lost is not None and line.lost is not None:
                ws.write_number(n, lost, line.lost, num)
    ws.set_column(0, 1, 14)
    ws.set_column(2, max(col - 1, 2), 8)
    ws.set_row(0, 60)
    ws.freeze_panes(2, 2)


def _profile(wb, r: YearReport, head, num) -> None:
    ws = wb.add_worksheet(PROFILE)
    cats = r.categories
    header = ["行政区划代码", "县（市、区）"] + [
        f"{name}（{'上限' if bonus else '满分'}{mx}）" for _, name, mx, bonus in cats
    ]
    write_row(ws, 0, [*header, "基础分", "加分", "总分"], head)
    for n, z in enumerate(r.ranking, start=1):
        sub = r.subtotals(z.adcode)
        write_row(ws, n, [z.adcode, z.county])
        write_row(ws, n, [sub.get(cid, 0.0) for cid, *_ in cats] + [z.base, z.bonus, z.total], num, col=2)
    ws.set_column(0, 1, 14)
    ws.set_column(2, len(header) + 3, 11)
    ws.freeze_panes(1, 2)
    _a4(ws)
    last = len(r.ranking)
    if not last:
        return
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    for j, (_, _name, _mx, bonus) in enumerate(cats):
        if bonus:
            continue
        chart.add_series(
            {
                "name": [PROFILE, 0, 2 + j],
                "categories": [PROFILE, 1, 1, last, 1],
                "values": [PROFILE, 1, 2 + j, last, 2 + j],
            }
        )
    chart.set_title({"name": f"{r.year}年度各{r.zone_name}类别得分构成"})
    chart.set_x_axis({"name": "基础分"})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 900, "height": max(360, 28 * min(last, 60) + 160)})
    ws.insert_chart(last + 3, 1, chart)


class _Sections:
    """Tables one under another on a sheet, each a caption, a header and its rows ("无" when none)."""

    def __init__(self, ws, head, title) -> None:
        self.ws, self.head, self.title, self.row = ws, head, title, 0

    def __call__(self, caption: str, header: list[str], rows: list[list]) -> None:
        rows = rows or [["无"]]
        self.ws.write_string(self.row, 0, caption, self.title)
        write_row(self.ws, self.row + 1, header, self.head)
        for k, values in enumerate(rows, start=self.row + 2):
            write_row(self.ws, k, values)
        self.row += len(rows) + 3


def _decisions(wb, r: YearReport, head, title) -> None:
    ws = wb.add_worksheet(DECISIONS)
    p = r.proposal
    names = {**r.names, **{z.adcode: z.county for z in r.ranking}}
    section = _Sections(ws, head, title)

    section(
        "亮黄牌",
        ["行政区划代码", "县（市、区）", "名次", "总分"],
        [[z.adcode, z.county, z.rank, z.total] for z in r.ranking if z.yellow_card],
    )
    history = p.card_history
    section(
        r.withdrawal,
        ["行政区划代码", "县（市、区）", "亮黄牌年度"],
        [[a, names.get(a, a), "、".join(str(y) for y in history.get(a, []))] for a in p.disqualified],
    )
    section(
        "替补",
        ["替补县代码", "替补县", f"替补席位原{r.zone_name}"],
        [[x.adcode, x.county, f"{names.get(x.replaces, x.replaces)}（{x.replaces}）"] for x in p.promoted],
    )
    section("空缺席位", [f"原{r.zone_name}代码", f"原{r.zone_name}"], [[a, names.get(a, a)] for a in p.vacant])
    section(
        "期限例外",
        ["编号", "类型", "行政区划代码", "延至/文件", "理由", "批准人", "批准时间", "计入的文件"],
        [
            [
                x.get("id"),
                "延期" if x.get("kind") == "extension" else "接受逾期文件",
                x.get("adcode"),
                x.get("until") or (f"#{x['submission_id']}" if x.get("submission_id") else ""),
                x.get("reason"),
                x.get("granted_by"),
                x.get("granted_at"),
                "、".join(f"#{i}" for i in x.get("counted_submissions", [])),
            ]
            for x in p.exceptions
        ],
    )
    if p.publicity is not None:
        from pilotzones.reports.yearly import OBJECTION_HEADER, objection_rows, publicity_window

        section(f"公示及异议处理：{publicity_window(r)}", OBJECTION_HEADER, objection_rows(r))
    ws.set_column(0, 0, 14)
    ws.set_column(1, 7, 18)


def _history(wb, r: YearReport, head, num) -> None:
    ws = wb.add_worksheet(HISTORY)
    write_row(ws, 0, ["年度", "行政区划代码", "县（市、区）", "名次", "总分", "亮黄牌", "席位变动"], head)
    for n, h in enumerate(r.history, start=1):
        write_row(ws, n, [h.year, h.adcode, h.county, h.rank])
        write_row(ws, n, [h.total], num, col=4)
        write_row(ws, n, ["亮黄牌" if h.yellow_card else "", h.change], None, col=5)
    ws.set_column(0, 6, 14)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(r.history), 1), 6)


def _a4(ws) -> None:
    """Printed on A4 landscape, one page wide: the table and its chart side by side."""
    ws.set_paper(9)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)


def _between(wb, r: YearReport, head, title) -> None:
    """Rectification cases, visits against the minimum, meetings and attendance (issue 14)."""
    from pilotzones.rules.visits import MeetingKind

    b = r.between
    if not b:
        return
    ws = wb.add_worksheet(BETWEEN)
    names = {**r.names, **{z.adcode: z.county for z in r.ranking}}
    section = _Sections(ws, head, title)

    section(
        "黄牌整改",
        ["事项", "行政区划代码", "县（市、区）", "亮黄牌年度", "整改期限", "状态", "逾期", "逾期报送"],
        [
            [
                c["id"],
                c["adcode"],
                names.get(c["adcode"], c["adcode"]),
                c["card_year"],
                c["deadline"][:10],
                c["state_cn"],
                c["overdue"],
                c.get("late_report", False),
            ]
            for c in b["rectification"]["cases"]
        ],
    )
    v = b["visits"]
    section(
        f"专家调研（每年不少于{v['minimum']}次）",
        ["行政区划代码", "县（市、区）", "调研次数", "尚差"],
        [[z["adcode"], names.get(z["adcode"], z["adcode"]), z["visits"], z["short"]] for z in v["zones"]],
    )
    mt = b["meetings"]
    section(
        f"交流会议（每年{mt['required']}次，已登记{mt['held']}次）",
        ["日期", "地点", "形式", "参会"],
        [[x["date"], x["place"], MeetingKind(x["kind"]).cn, "、".join(x["attended"])] for x in mt["meetings"]],
    )
    section(
        "参会情况",
        ["行政区划代码", "县（市、区）", "参会次数"],
        [[a, names.get(a, a), n] for a, n in mt["attendance"].items()],
    )
    ws.set_column(0, 6, 16)
