"""The demo's year between evaluations (issue 14): the cases of last December's cards (one zone's
report rejected, then accepted; the others overdue), the reminder and the overdue list, expert
visits and the visit check's shortfall notices, an exchange meeting with its invitations."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from pilotzones.rules.rectification import CaseState, Verdict
from pilotzones.rules.visits import MeetingKind
from pilotzones.stages import between
from pilotzones.store import cases, ledger
from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session

OPERATOR = "demo"


def _report(home: Home, path: Path, adcode: str, year: int, lines: list[tuple[str, str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["年度", "行政区划代码", "县（市、区）", "指标", "发现问题", "整改措施", "佐证材料"])
        for line in lines:
            w.writerow([year, adcode, home.register.name(adcode), *line])
    return path


def spring(home: Home, year: int, inbox: Path) -> None:
    """January to July of `year`: rectification of the cards of `year - 1`, visits, a meeting."""
    from pilotzones.intake.submit import submit
    from pilotzones.reports.rectification import write_forms

    tz, reg, card_year = home.programme.tz, home.register, year - 1
    with session(home.db_url) as s:
        open_cases = [(c.id, c.adcode) for c in cases.cases(s, card_years=[card_year]) if c.state == CaseState.OPEN]
    if open_cases:
        click.echo(f"\n== {year}：黄牌整改（{card_year}年度黄牌，期限见 pilotzones status）")
        forms = write_forms(home, card_year, inbox / "rectification")
        click.echo(
            f"  整改报告表（失分指标已预填）：{len(forms)}份（pilotzones rectification template --year {card_year}）"
        )
        # The first carded zone rectifies: a report missing its measures is rejected, a full one is
        # accepted and the operator closes the case; every other case runs overdue.
        case_id, zone = open_cases[0]
        at = datetime(year, 3, 15, 10, tzinfo=tz)
        bad = _report(home, inbox / f"rectification-{zone}.csv", zone, card_year, [("1", "领导小组未定期研究", "", "")])
        out = submit(home, bad, year=card_year, kind="rectification", at=at)
        click.echo(f"  报送 {bad.name}（整改报告）：退回（{len(out.errors)}处错误），退回通知已排队")
        lines = [
            ("1", "领导小组未定期研究基层卫生健康工作", "建立季度专题会议制度，已召开2次", "会议纪要2份"),
            ("", "基层人员培训不足", "开展全员轮训，覆盖率达到95%", "培训签到表"),
        ]
        good = _report(home, inbox / f"rectification-{zone}-2.csv", zone, card_year, lines)
        out = submit(home, good, year=card_year, kind="rectification", at=at + timedelta(days=20))
        click.echo(f"  报送 {good.name}（整改报告）：{'已接收' if out.accepted else '退回'}")
        between.judge_case(home, case_id, Verdict.ACCEPTED, by=OPERATOR, reason=None)
        close = f"pilotzones rectification close --case {case_id} --accept"
        click.echo(f"  整改事项 {case_id}（{reg.name(zone)}）已验收结案（{close}）")
        for step in ("rectification_reminder", "rectification_overdue"):
            moment = home.programme.moment(between.STEPS[step].moment, year)
            n = between.run_step(home, step, year, moment)
            click.echo(f"  {moment.month}月{moment.day}日 {between.STEPS[step].cn}：{n}份通知")
        overdue = [reg.name(z) for _, z in open_cases[1:]]
        if overdue:
            click.echo(
                f"  逾期未报送整改报告：{'、'.join(overdue)}（已列入逾期名单报{home.programme.programme.authority}）"
            )
    _visits(home, year)
    _meeting(home, year)


def _visits(home: Home, year: int) -> None:
    """Spring visits by each pilot's expert group: every second pilot gets a second one."""
    with session(home.db_url) as s:
        zones = ledger.pilots_for(s, year)
    guidance = home.programme.guidance
    for i, z in enumerate(zones):
        group, _ = guidance.of(z)
        who = group.name if group else "专家指导组"
        days = [date(year, 4, 10 + i)] + ([date(year, 9, 5 + i)] if i % 2 == 0 else [])
        for d in days:
            between.add_visit(
                home,
                adcode=z,
                visited_on=d,
                who=who,
                found="医共体财务统一核算尚未落实",
                follow_up="督促完善医共体财务管理制度",
                case_id=None,
                by=OPERATOR,
            )
    click.echo(
        f"== {year}：专家调研：已登记{len(zones)}个{home.programme.programme.zone_name}的调研（pilotzones visit add）"
    )


def _meeting(home: Home, year: int) -> None:
    mid, _, invited = between.add_meeting(
        home, held_on=date(year, 6, 18), place="伊宁市", kind=MeetingKind.EXCHANGE, by=OPERATOR
    )
    with session(home.db_url) as s:
        zones = ledger.pilots_for(s, year)
    between.attend(home, mid, zones[: max(1, len(zones) - 1)])
    click.echo(f"== {year}：经验交流会（6月18日，伊宁市）：邀请通知{invited}份，参会{max(1, len(zones) - 1)}个")


def autumn(home: Home, year: int) -> None:
    """1 November: the visit check notifies the groups of pilots short of their visits, and the
    commission of the meetings held when fewer than the yearly count."""
    moment = home.programme.moment("visit_check", year)
    n = between.run_step(home, "visit_shortfall", year, moment)
    click.echo(f"== {year}：{between.STEPS['visit_shortfall'].cn}（{moment.month}月{moment.day}日）：{n}份提示通知")
    with session(home.db_url) as s:
        from sqlalchemy import select

        first = s.scalars(
            select(m.OutboxNotice)
            .where(m.OutboxNotice.year == year, m.OutboxNotice.kind == "visit_shortfall")
            .order_by(m.OutboxNotice.id)
        ).first()
        if first is not None:
            click.echo(f"  例：{first.subject}")
            for line in first.text.splitlines():
                if "调研指导" in line and "截至" in line:
                    click.echo(f"  {line.strip()}")
        meetings = s.scalars(
            select(m.OutboxNotice).where(m.OutboxNotice.year == year, m.OutboxNotice.kind == "meeting_shortfall")
        ).first()
        if meetings is not None:
            click.echo(f"  {meetings.subject}")
