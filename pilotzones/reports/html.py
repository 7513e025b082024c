"""The yearly report as one printable HTML file: A4 print stylesheet, inline SVG charts, no network.

Everything is in the file (style, charts); fonts are the reader's own CJK fonts, named in order of
what Linux, Windows and macOS offices have. Every text is escaped: county names and reasons that
came with files render as text.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from pathlib import Path

from pilotzones.reports.yearly import HistoryRow, YearReport, fmt
from pilotzones.rules.decisions import DecisionState

_FONTS = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", '
    '"Noto Serif CJK SC", "SimSun", sans-serif'
)
_CSS = f"""
@page {{ size: A4; margin: 14mm 12mm; }}
body {{ font-family: {_FONTS}; font-size: 10.5pt; color: #111; margin: 0 auto; max-width: 190mm; }}
h1 {{ font-size: 17pt; text-align: center; margin: 6mm 0 2mm; }}
h2 {{ font-size: 13pt; border-bottom: 1.5px solid #333; margin: 7mm 0 2mm; page-break-after: avoid; }}
h3 {{ font-size: 11pt; margin: 4mm 0 1mm; page-break-after: avoid; }}
p.meta {{ text-align: center; color: #444; margin: 0 0 4mm; }}
table {{ border-collapse: collapse; width: 100%; font-size: 9pt; margin: 1mm 0 3mm; }}
th, td {{ border: 0.6px solid #888; padding: 1px 4px; }}
th {{ background: #e8edf6; font-weight: bold; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; }}
tr.card td {{ background: #fff2cc; }}
.tie {{ color: #c00000; font-weight: bold; }}
svg {{ display: block; margin: 2mm auto; font-family: {_FONTS}; }}
.legend span {{ display: inline-block; margin-right: 8px; font-size: 8.5pt; }}
.legend i {{ display: inline-block; width: 9px; height: 9px; margin-right: 2px; vertical-align: middle; }}
.zone {{ page-break-inside: avoid; }}
@media print {{ .noprint {{ display: none; }} a {{ color: inherit; text-decoration: none; }} }}
"""
_PALETTE = [
    "#4472C4",
    "#ED7D31",
    "#A5A5A5",
    "#FFC000",
    "#5B9BD5",
    "#70AD47",
    "#264478",
    "#9E480E",
    "#636363",
    "#997300",
]
_CARD = "#ED7D31"
_SAFE = "#4472C4"
_LINE = "#C00000"


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def write_html(report: YearReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path


def render_html(r: YearReport) -> str:
    try:
        state = DecisionState(r.state).cn
    except ValueError:
        state = r.state
    title = f"{r.year}年度{r.zone_name}监测评价报告"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{_e(r.programme)}　状态：{_e(state)}　参评{r.proposal.evaluated}个，'
        f"亮黄牌{r.proposal.carded}个　{_e(r.authority)}　{datetime.now():%Y年%m月%d日}生成</p>",
        _ranking_section(r),
        _decisions_section(r),
        _profile_section(r),
        _history_section(r),
        _items_section(r),
        _between_section(r),
        "</body></html>",
    ]
    return "\n".join(parts)


# -- ranking and the card line --------------------------------------------------------------------


def _margin_text(r: YearReport, adcode: str) -> str:
    m = r.margins[adcode]
    if m.gap is None:
        return "—"
    sign = "−" if m.carded else "+"
    text = f"{sign}{r.num(m.gap)}"
    return f'<span class="tie">{text} 并列</span>' if m.tie else text


def _ranking_section(r: YearReport) -> str:
    rows = []
    for z in r.ranking:
        cls = ' class="card"' if z.yellow_card else ""
        rows.append(
            f"<tr{cls}><td class=n>{z.rank}</td><td>{_e(z.adcode)}</td><td>{_e(z.county)}</td>"
            f"<td class=n>{r.num(z.base)}</td><td class=n>{r.num(z.bonus)}</td><td class=n>{r.num(z.total)}</td>"
            f"<td>{'亮黄牌' if z.yellow_card else ''}</td><td>{_e(' '.join(z.flags))}</td>"
            f"<td class=n>{_margin_text(r, z.adcode)}</td></tr>"
        )
    line = max((z.total for z in r.ranking if z.yellow_card), default=None)
    note = (
        f"黄牌线：亮黄牌的最高总分 {r.num(line)} 分。“与黄牌线距离”：未亮黄牌的比亮黄牌的最高总分高出的分数（+），"
        "亮黄牌的比未亮黄牌的最低总分低的分数（−）；“并列”指在黄牌线处与线另一侧或线上的单位同分并列。"
        if line is not None
        else "本年度无亮黄牌。"
    )
    return (
        "<h2>一、排名与黄牌线</h2>"
        + _ranking_svg(r, line)
        + f"<p>{_e(note)}</p>"
        + "<table><thead><tr><th>名次</th><th>代码</th><th>县（市、区）</th><th>基础分</th><th>加分</th>"
        + "<th>总分</th><th>黄牌</th><th>标注</th><th>与黄牌线距离</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _ranking_svg(r: YearReport, line: float | None) -> str:
    zones = r.ranking
    if not zones:
        return ""
    top = max([z.total for z in zones] + [1.0])
    legend = (
        f'<div class="legend" style="text-align:center"><span><i style="background:{_SAFE}"></i>总分</span>'
        f'<span><i style="background:{_CARD}"></i>亮黄牌</span>'
        f'<span><i style="background:{_LINE}"></i>黄牌线</span></div>'
    )
    if len(zones) <= 60:
        # One labelled bar per zone, best first.
        label_w, bar_w, row_h = 130, 500, 18
        h = row_h * len(zones) + 24
        out = [f'<svg width="680" height="{h}" viewBox="0 0 680 {h}" role="img" aria-label="总分排名">']
        for i, z in enumerate(zones):
            y = 4 + i * row_h
            w = bar_w * z.total / top
            colour = _CARD if z.yellow_card else _SAFE
            out.append(
                f'<text x="{label_w - 4}" y="{y + 12}" font-size="10" text-anchor="end">{z.rank}. {_e(z.county)}</text>'
                f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 5}" fill="{colour}"/>'
                f'<text x="{label_w + w + 3:.1f}" y="{y + 12}" font-size="9">{r.num(z.total)}</text>'
            )
        if line is not None:
            x = label_w + bar_w * line / top
            out.append(
                f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{h - 18}" stroke="{_LINE}" stroke-dasharray="4 3"/>'
                f'<text x="{x:.1f}" y="{h - 6}" font-size="9" fill="{_LINE}" text-anchor="middle">'
                f"黄牌线 {r.num(line)}</text>"
            )
        out.append("</svg>")
        return "".join(out) + legend
    # Many zones: one column per zone (best left), no labels; the line across.
    w_all, h_all, pad = 680, 260, 30
    step = (w_all - pad) / len(zones)
    out = [f'<svg width="{w_all}" height="{h_all}" viewBox="0 0 {w_all} {h_all}" role="img" aria-label="总分排名">']
    for i, z in enumerate(zones):
        hh = (h_all - 30) * z.total / top
        colour = _CARD if z.yellow_card else _SAFE
        out.append(
            f'<rect x="{pad + i * step:.2f}" y="{h_all - 20 - hh:.1f}" width="{max(step, 0.3):.2f}" '
            f'height="{hh:.1f}" fill="{colour}"/>'
        )
    if line is not None:
        ly = h_all - 20 - (h_all - 30) * line / top
        out.append(
            f'<line x1="{pad}" y1="{ly:.1f}" x2="{w_all}" y2="{ly:.1f}" stroke="{_LINE}" stroke-dasharray="4 3"/>'
            f'<text x="{w_all - 2}" y="{ly - 3:.1f}" font-size="9" fill="{_LINE}" text-anchor="end">'
            f"黄牌线 {r.num(line)}</text>"
        )
    out.append(
        f'<text x="{pad}" y="{h_all - 6}" font-size="9">第1名</text>'
        f'<text x="{w_all - 2}" y="{h_all - 6}" font-size="9" text-anchor="end">第{len(zones)}名</text>'
        f'<text x="2" y="12" font-size="9">{r.num(top)}</text></svg>'
    )
    return "".join(out) + legend


# -- decisions ------------------------------------------------------------------------------------


def _table(header: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>无</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _decisions_section(r: YearReport) -> str:
    p = r.proposal
    names = {**r.names, **{z.adcode: z.county for z in r.ranking}}
    exceptions = [
        [
            str(x.get("id", "")),
            "延期" if x.get("kind") == "extension" else "接受逾期文件",
            f"{names.get(x.get('adcode', ''), x.get('adcode', ''))}（{x.get('adcode', '')}）",
            x.get("until") or (f"文件 #{x['submission_id']}" if x.get("submission_id") else ""),
            x.get("reason", ""),
            f"{x.get('granted_by', '')} {x.get('granted_at', '')}",
        ]
        for x in p.exceptions
    ]
    return "".join(
        [
            f"<h2>二、黄牌、{_e(r.withdrawal)}、替补与期限例外</h2>",
            "<h3>亮黄牌</h3>",
            _table(
                ["名次", "县（市、区）", "总分"],
                [[str(z.rank), f"{z.county}（{z.adcode}）", r.num(z.total)] for z in r.ranking if z.yellow_card],
            ),
            f"<h3>{_e(r.withdrawal)}</h3>",
            _table(
                ["县（市、区）", "亮黄牌年度"],
                [
                    [f"{names.get(a, a)}（{a}）", "、".join(str(y) for y in p.card_history.get(a, []))]
                    for a in p.disqualified
                ],
            ),
            "<h3>替补</h3>",
            _table(
                ["替补县", "所替席位"],
                [
                    [f"{x.county}（{x.adcode}）", f"{names.get(x.replaces, x.replaces)}（{x.replaces}）"]
                    for x in p.promoted
                ],
            ),
            "<h3>空缺席位</h3>",
            _table([f"原{r.zone_name}"], [[f"{names.get(a, a)}（{a}）"] for a in p.vacant]),
            "<h3>期限例外</h3>",
            _table(["编号", "类型", "单位", "延至/文件", "理由", "批准"], exceptions),
            *_publicity_section(r),
        ]
    )


def _publicity_section(r: YearReport) -> list[str]:
    """公示: the window and every objection with its answer (nothing for a year without publicity)."""
    from pilotzones.reports.yearly import OBJECTION_HEADER, objection_rows, publicity_window

    if r.proposal.publicity is None:
        return []
    return ["<h3>公示及异议处理</h3>", f"<p>{_e(publicity_window(r))}</p>", _table(OBJECTION_HEADER, objection_rows(r))]


# -- category profile -----------------------------------------------------------------------------


def _profile_section(r: YearReport) -> str:
    scored = [(cid, name, mx) for cid, name, mx, bonus in r.categories if not bonus]
    base_max = sum(mx for _, _, mx in scored) or 1
    legend = "".join(
        f'<span><i style="background:{_PALETTE[k % len(_PALETTE)]}"></i>{_e(name)}（{mx}）</span>'
        for k, (_, name, mx) in enumerate(scored)
    )
    head = "".join(f"<th>{_e(name)}</th>" for _, name, _ in scored)
    rows = []
    for z in r.ranking:
        sub = r.subtotals(z.adcode)
        x, rects = 0.0, []
        for k, (cid, _, _mx) in enumerate(scored):
            w = 300 * sub.get(cid, 0.0) / base_max
            rects.append(f'<rect x="{x:.1f}" y="1" width="{w:.1f}" height="10" fill="{_PALETTE[k % len(_PALETTE)]}"/>')
            x += w
        # The frame of the full base: what is left white is what the zone lost.
        svg = (
            '<svg width="302" height="12" viewBox="0 0 302 12" style="margin:0">'
            + "".join(rects)
            + '<rect x="0" y="1" width="300" height="10" fill="none" stroke="#888" stroke-width="0.5"/></svg>'
        )
        cells = "".join(f"<td class=n>{r.num(sub.get(cid, 0.0))}</td>" for cid, _, _ in scored)
        rows.append(f"<tr><td>{_e(z.county)}</td>{cells}<td>{svg}</td></tr>")
    return (
        "<h2>三、类别得分构成</h2>"
        + f'<div class="legend">{legend}</div>'
        + f"<table><thead><tr><th>县（市、区）</th>{head}<th>构成（满分{base_max}，空白为失分）</th></tr></thead>"
        + "<tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


# -- history --------------------------------------------------------------------------------------


def _history_section(r: YearReport) -> str:
    years = r.history_years
    by_zone: dict[str, dict[int, HistoryRow]] = {}
    for h in r.history:
        by_zone.setdefault(h.adcode, {})[h.year] = h
    head = "".join(f"<th>{y}年<br>名次/总分</th>" for y in years)
    top = max([h.total for h in r.history] + [1.0])
    rows = []
    ranked = [z.adcode for z in r.ranking]
    ranked_set = set(ranked)
    order = ranked + sorted(a for a in by_zone if a not in ranked_set)
    for a in order:
        own = by_zone.get(a, {})
        cells = []
        for y in years:
            if y not in own:
                cells.append("<td></td>")
                continue
            h = own[y]
            card = "（黄牌）" if h.yellow_card else ""
            change = f"<br>{_e(h.change)}" if h.change else ""
            cells.append(f"<td class=n>{h.rank}/{fmt(h.total, r.decimals)}{card}{change}</td>")
        # A sparkline of the totals across years.
        pts = [(i, own[y].total) for i, y in enumerate(years) if y in own]
        step = 100 / max(len(years) - 1, 1)
        coords = " ".join(f"{2 + i * step:.1f},{20 - 18 * t / top:.1f}" for i, t in pts)
        dots = "".join(
            f'<circle cx="{2 + i * step:.1f}" cy="{20 - 18 * t / top:.1f}" r="1.6" fill="{_SAFE}"/>' for i, t in pts
        )
        spark = (
            f'<svg width="106" height="22" viewBox="0 0 106 22" style="margin:0">'
            f'<polyline points="{coords}" fill="none" stroke="{_SAFE}" stroke-width="1"/>{dots}</svg>'
        )
        name = r.names.get(a) or next((h.county for h in r.history if h.adcode == a), a)
        rows.append(f"<tr><td>{_e(name)}（{_e(a)}）</td>{''.join(cells)}<td>{spark}</td></tr>")
    return (
        "<h2>四、历年名次与总分</h2>"
        + f"<table><thead><tr><th>县（市、区）</th>{head}<th>总分走势</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


# -- items ----------------------------------------------------------------------------------------


def _items_section(r: YearReport) -> str:
    out = [
        "<h2>五、失分指标</h2>",
        "<p>各单位失分（或标注）的指标；全部指标的报送值、得分和失分见同名工作簿的“指标得分”表。</p>",
    ]
    for z in r.ranking:
        rows = []
        for line in r.items.get(z.adcode, []):
            if not line.lost and not line.flag:
                continue
            lost = "" if line.lost is None else r.num(line.lost)
            rows.append(
                f"<tr><td class=n>{line.item}</td><td>{_e(line.name)}</td><td>{_e(line.value)}</td>"
                f"<td class=n>{r.num(line.maximum) if line.maximum is not None else ''}</td>"
                f"<td class=n>{r.num(line.points)}</td><td class=n>{lost}</td><td>{_e(line.flag)}</td></tr>"
            )
        out.append(
            f'<div class="zone"><h3>{z.rank}. {_e(z.county)}（{_e(z.adcode)}）总分 {r.num(z.total)}</h3>'
            "<table><thead><tr><th>指标</th><th>名称</th><th>报送值</th><th>满分</th><th>得分</th><th>失分</th>"
            f"<th>标注</th></tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
        )
    return "".join(out)


# -- between evaluations (issue 14) ------------------------------------------------------------------


def _between_section(r: YearReport) -> str:
    """Rectification cases, each pilot's visits against the minimum, meetings and attendance."""
    from pilotzones.rules.visits import MeetingKind

    b = r.between
    if not b:
        return ""
    names = {**r.names, **{z.adcode: z.county for z in r.ranking}}
    rect, visits, meetings = b["rectification"], b["visits"], b["meetings"]
    return "".join(
        [
            "<h2>六、黄牌整改、专家调研与交流会议</h2>",
            "<h3>黄牌整改</h3>",
            _table(
                ["事项", "县（市、区）", "亮黄牌年度", "整改期限", "状态"],
                [
                    [
                        str(c["id"]),
                        f"{names.get(c['adcode'], c['adcode'])}（{c['adcode']}）",
                        str(c["card_year"]),
                        c["deadline"][:10],
                        c["state_cn"]
                        + ("，已逾期" if c["overdue"] else "")
                        + ("，逾期报送" if c.get("late_report") else ""),
                    ]
                    for c in rect["cases"]
                ],
            ),
            f"<h3>专家调研（每年不少于{visits['minimum']}次）</h3>",
            _table(
                ["县（市、区）", "调研次数", "尚差"],
                [
                    [f"{names.get(z['adcode'], z['adcode'])}（{z['adcode']}）", str(z["visits"]), str(z["short"])]
                    for z in visits["zones"]
                ],
            ),
            f"<h3>交流会议（每年{meetings['required']}次，已登记{meetings['held']}次）</h3>",
            _table(
                ["日期", "地点", "形式", "参会"],
                [
                    [
                        x["date"],
                        x["place"],
                        MeetingKind(x["kind"]).cn,
                        "、".join(names.get(a, a) for a in x["attended"]) or "—",
                    ]
                    for x in meetings["meetings"]
                ],
            ),
            _table(
                ["县（市、区）", "参会次数"],
                [[f"{names.get(a, a)}（{a}）", str(n)] for a, n in meetings["attendance"].items()],
            ),
        ]
    )
