"""Between evaluations on the command line (issue 14): `rectification`, `visit` and `meeting`.

Errors reach the root group (`cli.main.Group`), which turns them into one line and an exit code.
The dated steps run here directly (no Prefect); their scheduled deployments run the same steps in
`flows/between.py`.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from pilotzones.cli.helptext import Group, option


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

    _can_send(home)
    report = deliver(home)
    click.echo(f"通知：{report.summary()}", err=True)
    raise_if_unsent(report)


def _by(by: str | None) -> str:
    from pilotzones.store import deadlines

    return by or deadlines.operator_name()


# -- rectification ---------------------------------------------------------------------------------


@click.group(cls=Group)
def rectification() -> None:
    """黄牌试验区的限期整改事项。"""


@rectification.command("template")
@option("--year", type=int, required=True, metavar="年度", help="黄牌所属的评价年度")
@option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="目录",
    help="输出目录（默认为主目录下的 reports/年度/rectification）",
)
@click.pass_context
def rectification_template(ctx: click.Context, year: int, out: str | None) -> None:
    """为每个亮黄牌的试验区生成整改报告表，预填其失分的指标。"""
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


# The dated steps' shared options: the moment they are judged at, and whether to send at once.
_AT = option(
    "--at",
    default=None,
    metavar="时间",
    help="以该时刻为准，ISO-8601 格式（默认为当前时间；未写时区的按方案所在时区）",
)
_SEND = option("--send", is_flag=True, help="立即发送通知（默认随下一次 deliver 发送）")


@rectification.command("remind")
@option("--year", type=int, required=True, metavar="年度", help="整改期限所在年度")
@_AT
@_SEND
@click.pass_context
def rectification_remind(ctx: click.Context, year: int, at: str | None, send: bool) -> None:
    """提醒整改期限在该年度、尚未报送整改报告的试验区。"""
    _step(ctx, "rectification_reminder", year, at, send)


@rectification.command("overdue")
@option("--year", type=int, required=True, metavar="年度", help="整改期限所在年度")
@_AT
@_SEND
@click.pass_context
def rectification_overdue(ctx: click.Context, year: int, at: str | None, send: bool) -> None:
    """向卫生健康委报送整改期限在该年度而逾期未整改的事项清单。"""
    _step(ctx, "rectification_overdue", year, at, send)


@rectification.command("close")
@option("--case", "case_id", type=int, required=True, metavar="编号", help="整改事项编号（见 status --year 年度）")
@option("--accept", "verdict", flag_value="accepted", help="整改通过：事项办结")
@option("--return", "verdict", flag_value="returned", help="整改报告退回试验区（须写 --reason）")
@option("--reason", default=None, metavar="理由", help="理由（--return 时必填；记录在案并显示）")
@option("--by", "by", default=None, metavar="姓名", help="作出结论的人（默认取 $USER，未设置时为登录名）")
@click.pass_context
def rectification_close(
    ctx: click.Context, case_id: int, verdict: str | None, reason: str | None, by: str | None
) -> None:
    """对已报送整改报告的事项作出结论：通过（--accept）或退回（--return --reason 理由）。"""
    from pilotzones.rules.rectification import Verdict
    from pilotzones.stages.between import judge_case

    if verdict is None:
        raise click.UsageError("请指定 --accept 或 --return")
    home = _home(ctx)
    c = judge_case(home, case_id, Verdict(verdict), by=_by(by), reason=reason)
    name = home.register.name(c["adcode"])
    click.echo(f"整改事项 {case_id}（{name}，{c['card_year']}年度黄牌）：{c['state_cn']}。")


# -- expert visits ---------------------------------------------------------------------------------


@click.group(cls=Group)
def visit() -> None:
    """专家组对试验区的调研指导（四：每年不少于方案规定的次数）。"""


@visit.command("add")
@option("--county", required=True, metavar="代码或名称", help="调研的试验区（行政区划代码或名称）")
@option("--date", "day", required=True, metavar="日期", help="调研日期，如 2023-05-12")
@option("--who", required=True, metavar="人员", help="调研人员（专家组、姓名）")
@option("--found", default="", metavar="文本", help="调研发现的问题")
@option("--follow-up", "follow_up", default="", metavar="文本", help="后续跟进事项")
@option("--case", "case_id", type=int, default=None, metavar="编号", help="将跟进事项关联到该整改事项")
@option("--by", "by", default=None, metavar="姓名", help="登记人（默认取 $USER，未设置时为登录名）")
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
    """登记一次调研（同一试验区、同一日期、同一调研人员只登记一次）。"""
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
@option("--year", type=int, required=True, metavar="年度", help="调研年度")
@_AT
@_SEND
@click.pass_context
def visit_check(ctx: click.Context, year: int, at: str | None, send: bool) -> None:
    """通知年度调研次数仍不足的试验区的专家组和联系领导。"""
    _step(ctx, "visit_shortfall", year, at, send)


# -- exchange meetings -----------------------------------------------------------------------------


@click.group(cls=Group)
def meeting() -> None:
    """试验区和候补试验区的经验交流会与现场观摩（五）。"""


@meeting.command("add")
@option("--date", "day", required=True, metavar="日期", help="会议日期，如 2023-06-15")
@option("--place", required=True, metavar="地点", help="会议地点")
@option(
    "--kind",
    type=click.Choice(["exchange", "field_visit"]),
    default="exchange",
    show_default=True,
    help="会议类别：exchange 经验交流会，field_visit 现场观摩",
)
@option("--by", "by", default=None, metavar="姓名", help="登记人（默认取 $USER，未设置时为登录名）")
@option("--send", is_flag=True, help="立即发送邀请通知（默认随下一次 deliver 发送）")
@click.pass_context
def meeting_add(ctx: click.Context, day: str, place: str, kind: str, by: str | None, send: bool) -> None:
    """登记一次会议，并邀请每个试验区和候补试验区（抄送所在地州市）。"""
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
@option("--meeting", "meeting_id", type=int, required=True, metavar="编号", help="会议编号")
@option("--zones", required=True, metavar="代码,代码,...", help="参会试验区的行政区划代码或名称，以逗号分隔")
@click.pass_context
def meeting_attend(ctx: click.Context, meeting_id: int, zones: str) -> None:
    """登记参加会议的试验区和候补试验区。"""
    from pilotzones.stages.between import attend

    home = _home(ctx)
    codes = [_county(home, z.strip(), "--zones") for z in zones.replace("，", ",").split(",") if z.strip()]
    n = attend(home, meeting_id, codes)
    click.echo(f"会议 {meeting_id}：新登记参会{n}个，共报{len(codes)}个。")


COMMANDS = (rectification, visit, meeting)
