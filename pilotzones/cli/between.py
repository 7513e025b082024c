"""Between evaluations on the command line (issue 14): `rectification`, `visit` and `meeting`.

Errors reach the root group (`cli.main.Group`), which turns them into one line and an exit code.
The dated steps run here directly (no Prefect); their scheduled deployments run the same steps in
`flows/between.py`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click


def _home(ctx: click.Context):
    from pilotzones.cli.main import _open

    return _open(ctx)


def _at(home, at: str | None) -> datetime:
    from pilotzones import clock

    return clock.parse_moment(at, home.programme.tz) if at else clock.now()


def _day(text: str, option: str) -> date:
    from pilotzones.errors import ConfigError

    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(f"{option} {text!r}：不是日期（例如 2023-05-12）") from None


def _county(home, text: str, option: str = "--county") -> str:
    from pilotzones.errors import ConfigError
    from pilotzones.rules.register import normalize_adcode, normalize_text

    reg = home.register
    code = normalize_adcode(text) or reg.aliases.get(normalize_text(text))
    if not code or reg.county(code) is None:
        raise ConfigError(f"{option} {text}：不是本方案所辖的县（市、区）")
    return code


def _send(home, send: bool) -> None:
    if not send:
        click.echo("通知已排队，随下一次 pilotzones deliver 发送（或加 --send 立即发送）。", err=True)
        return
    from pilotzones.cli.main import _can_send
    from pilotzones.notices import deliver, raise_if_unsent

    _can_send()
    report = deliver(home)
    click.echo(f"notices: {report.summary()}", err=True)
    raise_if_unsent(report)


def _by(by: str | None) -> str:
    from pilotzones.store import deadlines

    return by or deadlines.operator_name()


# -- rectification ---------------------------------------------------------------------------------


@click.group()
def rectification() -> None:
    """Rectification cases opened by yellow cards (限期整改)."""


@rectification.command("template")
@click.option("--year", type=int, required=True, help="The evaluation year of the cards.")
@click.option("--out", type=click.Path(file_okay=False), default=None, help="Default HOME/reports/Y/rectification.")
@click.pass_context
def rectification_template(ctx: click.Context, year: int, out: str | None) -> None:
    """Write each carded zone's report form, its lost items prefilled."""
    from pilotzones.reports.rectification import write_forms

    paths = write_forms(_home(ctx), year, Path(out) if out else None)
    for p in paths:
        click.echo(str(p))
    click.echo(f"已生成{len(paths)}份{year}年度黄牌整改报告表。", err=True)


def _step(ctx: click.Context, step: str, year: int, at: str | None, send: bool) -> None:
    from pilotzones.stages.between import STEPS, run_step

    home = _home(ctx)
    n = run_step(home, step, year, _at(home, at))
    click.echo(f"{year}年{STEPS[step].cn}：新排队通知{n}份。")
    if n:
        _send(home, send)


@rectification.command("remind")
@click.option("--year", type=int, required=True, help="The year the deadlines fall in.")
@click.option("--at", default=None, help="As of this moment, ISO-8601 (default now; no offset = programme time).")
@click.option("--send", is_flag=True, help="Send at once.")
@click.pass_context
def rectification_remind(ctx: click.Context, year: int, at: str | None, send: bool) -> None:
    """Remind each zone whose case is due in YEAR and still owes its report."""
    _step(ctx, "rectification_reminder", year, at, send)


@rectification.command("overdue")
@click.option("--year", type=int, required=True, help="The year the deadlines fall in.")
@click.option("--at", default=None, help="As of this moment, ISO-8601 (default now; no offset = programme time).")
@click.option("--send", is_flag=True, help="Send at once.")
@click.pass_context
def rectification_overdue(ctx: click.Context, year: int, at: str | None, send: bool) -> None:
    """List the overdue cases due in YEAR to the commission."""
    _step(ctx, "rectification_overdue", year, at, send)


@rectification.command("close")
@click.option("--case", "case_id", type=int, required=True, help="The case id (status --year Y).")
@click.option("--accept", "verdict", flag_value="accepted", help="The rectification is accepted: the case closes.")
@click.option("--return", "verdict", flag_value="returned", help="The report goes back to the zone (needs --reason).")
@click.option("--reason", default=None, help="Why (required with --return; recorded and shown).")
@click.option("--by", "by", default=None, help="Who decides (default $USER, else the login name).")
@click.pass_context
def rectification_close(
    ctx: click.Context, case_id: int, verdict: str | None, reason: str | None, by: str | None
) -> None:
    """The operator's verdict on a reported case: --accept, or --return --reason R."""
    from pilotzones.rules.rectification import Verdict
    from pilotzones.stages.between import judge_case

    if verdict is None:
        raise click.UsageError("请指定 --accept 或 --return")
    home = _home(ctx)
    c = judge_case(home, case_id, Verdict(verdict), by=_by(by), reason=reason)
    name = home.register.name(c["adcode"])
    click.echo(f"整改事项 {case_id}（{name}，{c['card_year']}年度黄牌）：{c['state_cn']}。")


# -- expert visits ---------------------------------------------------------------------------------


@click.group()
def visit() -> None:
    """Expert group visits to the pilots (四: at least the programme's minimum a year)."""


@visit.command("add")
@click.option("--county", required=True, help="The zone visited (adcode or name).")
@click.option("--date", "day", required=True, help="The day of the visit, e.g. 2023-05-12.")
@click.option("--who", required=True, help="Who visited (the expert group, names).")
@click.option("--found", default="", help="What was found.")
@click.option("--follow-up", "follow_up", default="", help="Follow-up items.")
@click.option("--case", "case_id", type=int, default=None, help="Link the follow-up to this rectification case.")
@click.option("--by", "by", default=None, help="Who records it (default $USER, else the login name).")
@click.pass_context
def visit_add(
    ctx: click.Context,
    county: str,
    day: str,
    who: str,
    found: str,
    follow_up: str,
    case_id: int | None,
    by: str | None,
) -> None:
    """Record one visit (the same zone, day and visitors are recorded once)."""
    from pilotzones.stages.between import add_visit

    home = _home(ctx)
    adcode = _county(home, county)
    row, new = add_visit(
        home,
        adcode=adcode,
        visited_on=_day(day, "--date"),
        who=who,
        found=found,
        follow_up=follow_up,
        case_id=case_id,
        by=_by(by),
    )
    what = "已登记" if new else "此前已登记，本次未重复登记"
    click.echo(f"调研 {row['id']}（{home.register.name(adcode)}，{day}）{what}。")


@visit.command("check")
@click.option("--year", type=int, required=True)
@click.option("--at", default=None, help="As of this moment, ISO-8601 (default now; no offset = programme time).")
@click.option("--send", is_flag=True, help="Send at once.")
@click.pass_context
def visit_check(ctx: click.Context, year: int, at: str | None, send: bool) -> None:
    """Notify the group and leader of each pilot still short of its yearly visits."""
    _step(ctx, "visit_shortfall", year, at, send)


# -- exchange meetings -----------------------------------------------------------------------------


@click.group()
def meeting() -> None:
    """Exchange meetings and field visits for the pilots and candidate zones (五)."""


@meeting.command("add")
@click.option("--date", "day", required=True, help="The day of the meeting, e.g. 2023-06-15.")
@click.option("--place", required=True)
@click.option("--kind", type=click.Choice(["exchange", "field_visit"]), default="exchange", show_default=True)
@click.option("--by", "by", default=None, help="Who records it (default $USER, else the login name).")
@click.option("--send", is_flag=True, help="Send the invitations at once.")
@click.pass_context
def meeting_add(ctx: click.Context, day: str, place: str, kind: str, by: str | None, send: bool) -> None:
    """Record a meeting and invite every pilot and candidate zone (their prefectures copied)."""
    from pilotzones.rules.visits import MeetingKind
    from pilotzones.stages.between import add_meeting

    home = _home(ctx)
    mk = MeetingKind(kind)
    mid, new, invited = add_meeting(home, held_on=_day(day, "--date"), place=place, kind=mk, by=_by(by))
    what = "已登记" if new else "此前已登记"
    click.echo(f"会议 {mid}（{day}，{place}，{mk.cn}）{what}；新排队邀请通知{invited}份。")
    if invited:
        _send(home, send)


@meeting.command("attend")
@click.option("--meeting", "meeting_id", type=int, required=True)
@click.option("--zones", required=True, help="Comma-separated adcodes or names of the zones that attended.")
@click.pass_context
def meeting_attend(ctx: click.Context, meeting_id: int, zones: str) -> None:
    """Record which zones (pilots or candidates) attended a meeting."""
    from pilotzones.stages.between import attend

    home = _home(ctx)
    codes = [_county(home, z.strip(), "--zones") for z in zones.replace("，", ",").split(",") if z.strip()]
    n = attend(home, meeting_id, codes)
    click.echo(f"会议 {meeting_id}：新登记参会{n}个，共报{len(codes)}个。")


COMMANDS = (rectification, visit, meeting)
