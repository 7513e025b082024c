"""The yearly evaluation report: what a year's evaluation decided, item by item and across years.

`gather` reads one year's evaluation decision (the proposal `status --json` shows, so every number
is the same to the last decimal), its item scores, the values of the files that counted, and every
published evaluation before it. `workbook.write_workbook` and `html.write_html` lay it out; both
are written by `write_year_report` to `HOME/reports/Y/`, on publication and by `pilotzones report`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import NamedTuple

from pilotzones.rules.decisions import DecisionState
from pilotzones.rules.programme import Programme
from pilotzones.rules.proposal_models import EvaluationProposal, RankedZone


class ItemLine(NamedTuple):  # a tuple: 120,000 of them nationally
    """One item of one zone: what was sent, the most it could earn, what it earned and lost."""

    item: int
    name: str
    category: int
    category_name: str
    bonus: bool
    value: str  # the submitted value(s), as sent (key=value; ... for an item of several keys)
    maximum: float | None  # None for a bonus item (its category has a cap, not a weight per item)
    points: float
    lost: float | None
    flag: str


@dataclass(frozen=True)
class Margin:
    """A zone's distance to the card line: above the best carded total, or below the lowest safe one."""

    carded: bool
    reference: float | None  # the total it is measured against; None when every zone is on one side
    gap: float | None
    tie: bool  # level with a zone across the line, or carded only because it ties at the line


@dataclass(frozen=True)
class HistoryRow:
    year: int
    adcode: str
    county: str
    rank: int
    total: float
    yellow_card: bool
    change: str  # the withdrawal and who took the seat (seat change after that year), else ""


@dataclass
class YearReport:
    year: int
    state: str
    programme: str
    zone_name: str
    authority: str
    withdrawal: str  # the programme's word for leaving (Info.withdrawal): 取消试验区资格
    decimals: int
    proposal: EvaluationProposal
    categories: list[tuple[int, str, int, bool]]  # id, name, max, bonus
    items: dict[str, list[ItemLine]] = field(default_factory=dict)
    margins: dict[str, Margin] = field(default_factory=dict)
    history: list[HistoryRow] = field(default_factory=list)
    history_years: list[int] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    value_items: set[int] = field(default_factory=set)  # items whose value sent is not their points
    # Rectification cases, visits and meetings of the year (reports.between.year_between; issue 14).
    between: dict = field(default_factory=dict)

    @property
    def ranking(self) -> list[RankedZone]:
        return self.proposal.ranking

    def subtotals(self, adcode: str) -> dict[int, float]:
        """Points per category of one zone, rounded to the programme's decimals (the points are multiples of them)."""
        out: dict[int, float] = {}
        for line in self.items.get(adcode, []):
            out[line.category] = out.get(line.category, 0.0) + line.points
        return {c: round(v, self.decimals) + 0.0 for c, v in out.items()}

    def shows_value(self, item: int) -> bool:
        """Whether the value sent tells more than the points (a count, a computed item)."""
        return item in self.value_items

    def num(self, value: float | None) -> str:
        return fmt(value, self.decimals)


def fmt(value: float | None, decimals: int) -> str:
    """A number as the report prints it: its exact decimals, no trailing zeros (812.5, 850, 0.25)."""
    if value is None:
        return ""
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _dec(value: float) -> Decimal:
    # Scores are exact hundredths (or the programme's decimals) stored as floats: their shortest repr is exact.
    return Decimal(repr(value))


def margins(ranking: list[RankedZone]) -> dict[str, Margin]:
    """Each zone's margin to the card line, exact: a safe zone's points above the best carded total,
    a carded zone's points below the lowest safe total."""
    carded = [_dec(r.total) for r in ranking if r.yellow_card]
    safe = [_dec(r.total) for r in ranking if not r.yellow_card]
    top_carded, low_safe = (max(carded) if carded else None), (min(safe) if safe else None)
    line_rank = min((r.rank for r in ranking if r.yellow_card), default=None)
    at_line = sum(1 for r in ranking if r.rank == line_rank)
    out = {}
    for r in ranking:
        total = _dec(r.total)
        ref = low_safe if r.yellow_card else top_carded
        gap = None if ref is None else (ref - total if r.yellow_card else total - ref)
        tie = gap == 0 or (r.yellow_card and r.rank == line_rank and at_line > 1)
        out[r.adcode] = Margin(
            r.yellow_card, None if ref is None else float(ref), None if gap is None else float(gap), bool(tie)
        )
    return out


def item_lines(prog: Programme, points: dict[int, tuple[float, str]], values: dict[str, str]) -> list[ItemLine]:
    """One zone's items in Annex order: value sent, maximum, points, lost points, flag."""
    return [_line(spec, points, values, prog.rules.score_decimals) for spec in _specs(prog)]


def _specs(prog: Programme) -> list[tuple[int, str, int, str, bool, tuple[str, ...], float | None]]:
    return [
        (item.id, item.name, cat.id, cat.name, cat.bonus, item.keys(), None if cat.bonus else float(item.weight or 0))
        for cat in prog.rubric.categories
        for item in cat.items
    ]


def _line(spec, points: dict[int, tuple[float, str]], values: dict[str, str], decimals: int) -> ItemLine:
    item, name, cid, cname, bonus, keys, maximum = spec
    got, flag = points.get(item, (0.0, ""))
    if len(keys) == 1:
        value = values.get(keys[0], "")
    else:
        value = "; ".join(f"{k}={values[k]}" for k in keys if k in values)
    # Points are exact multiples of 10**-decimals: rounding the difference to them is exact.
    lost = None if maximum is None else round(maximum - got, decimals) + 0.0
    return ItemLine(item, name, cid, cname, bonus, value, maximum, got, lost, flag)


def gather(home, year: int) -> YearReport | None:
    """The report of `year`'s evaluation as stored (None when it has not been run)."""
    from pilotzones.store import ledger
    from pilotzones.store.session import session
    from pilotzones.store.versions import programme_for

    # The rubric in force for the year: a later revision leaves an earlier year's report as it was.
    prog, reg = programme_for(home, year), home.register
    with session(home.db_url) as s:
        d = ledger.decision(s, year, "evaluation")
        if d is None:
            return None
        state, proposal = d.state, EvaluationProposal.from_stored(d.proposal, d.id)
        points: dict[str, dict[int, tuple[float, str]]] = {}
        for adcode, item, got, flag in _item_scores(s, d.id):
            points.setdefault(adcode, {})[item] = (got, flag or "")
        ids = [r.submission_id for r in proposal.ranking if r.submission_id]
        from pilotzones.store import objections

        # The values the evaluation counted: as sent, with the corrections of upheld objections over them.
        frame = objections.amended(s, ledger.values_frame(s, ids), ids)
        if proposal.publicity is None:  # in publicity still: the record as it stands
            heard = objections.as_json(s, "evaluation", year, prog.tz)
            if heard is not None:
                proposal = proposal.model_copy(update={"publicity": heard})
        earlier = [
            (x.year, EvaluationProposal.from_stored(x.proposal))
            for x in ledger.decisions_of_stage(s, "evaluation")
            if x.state == DecisionState.PUBLISHED and x.year != year
        ]
    values: dict[str, dict[str, str]] = {}
    for adcode, key, value in zip(
        frame["adcode"].tolist(), frame["key"].tolist(), frame["value"].tolist(), strict=True
    ):
        values.setdefault(adcode, {})[key] = value
    info = prog.programme
    report = YearReport(
        year=year,
        state=state,
        programme=info.name,
        zone_name=info.zone_name,
        authority=info.authority,
        withdrawal=info.withdrawal,
        decimals=prog.rules.score_decimals,
        proposal=proposal,
        categories=[(c.id, c.name, c.max, c.bonus) for c in prog.rubric.categories],
        value_items={i.id for i in prog.rubric.items if i.rule != "assessed"},
    )
    specs, decimals = _specs(prog), prog.rules.score_decimals
    for r in proposal.ranking:
        own, sent = points.get(r.adcode, {}), values.get(r.adcode, {})
        report.items[r.adcode] = [_line(spec, own, sent, decimals) for spec in specs]
    report.margins = margins(proposal.ranking)
    years = sorted([*earlier, (year, proposal)], key=lambda t: t[0])
    years = [(y, p) for y, p in years if y <= year]
    report.history_years = [y for y, _ in years]
    for y, p in years:
        # The seat change after that year, on the row of the zone that left it.
        by = {x.replaces: x for x in p.promoted}
        out = info.withdrawal
        changes = {a: f"{out}，{by[a].county}替补" if a in by else f"{out}，席位空缺" for a in p.disqualified}
        for r in p.ranking:
            change = changes.get(r.adcode, "")
            report.history.append(HistoryRow(y, r.adcode, r.county, r.rank, r.total, r.yellow_card, change))
    report.names = {a: reg.name(a) for a in {h.adcode for h in report.history} | set(proposal.disqualified)}
    from pilotzones import clock
    from pilotzones.reports.between import year_between

    report.between = year_between(home, year, clock.now())
    report.names.update({c["adcode"]: reg.name(c["adcode"]) for c in report.between["rectification"]["cases"]})
    return report


def objection_rows(r: YearReport) -> list[list[str]]:
    """公示: every objection and its answer, one row each (id, zone, received, items and claim,
    outcome with the corrections, answer and who gave it)."""
    from pilotzones.rules.publicity import ObjectionState

    p = r.proposal.publicity or {}
    names = {**r.names, **{z.adcode: z.county for z in r.ranking}}
    rows = []
    for o in p.get("objections", []):
        keys = "、".join(i["key"] for i in o["items"])
        fixed = "；".join(f"{a['key']}：{a['old_value'] or '未填报'}→{a['new_value']}" for a in o.get("amendments", []))
        outcome = ObjectionState(o["state"]).cn + (f"（{fixed}）" if fixed else "")
        rows.append(
            [
                str(o["id"]),
                f"{names.get(o['adcode'], o['adcode'])}（{o['adcode']}）",
                o["received_at"],
                f"{keys}：{o['claim']}",
                outcome,
                f"{o.get('answer') or ''}{'（' + o['answered_by'] + '）' if o.get('answered_by') else ''}",
            ]
        )
    return rows


def publicity_window(r: YearReport) -> str:
    w = (r.proposal.publicity or {}).get("window")
    if not w:
        return ""
    unit = "工作日" if w["day_kind"] == "working" else "自然日"
    return f"公示期 {w['opened_at']} 至 {w['closes_at']}（{w['days']}个{unit}）"


OBJECTION_HEADER = ["编号", "异议单位", "提出时间", "异议指标及理由", "处理结果", "答复"]


def write_year_report(home, year: int) -> list[Path]:
    """Write the workbook and the printable HTML of `year`'s evaluation; return their paths (none if not run)."""
    from pilotzones.reports.html import write_html
    from pilotzones.reports.workbook import write_workbook

    report = gather(home, year)
    if report is None:
        return []
    from pilotzones.reports import report_paths

    xlsx, html = report_paths(home, year, "evaluation")
    return [write_workbook(report, xlsx), write_html(report, html)]


def _item_scores(s, decision_id: int) -> list[tuple]:
    """(adcode, item, points, flag) of a decision, straight from the driver (120,000 rows nationally)."""
    from sqlalchemy import select

    from pilotzones.store import ledger
    from pilotzones.store import models as m

    t = m.table(m.ItemScore)
    return ledger._plain_rows(
        s, select(t.c.adcode, t.c.item, t.c.points, t.c.flag).where(t.c.decision_id == decision_id)
    )
