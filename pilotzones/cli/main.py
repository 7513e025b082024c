"""The `pilotzones` command line (contract §4). Imports are lazy: `submit` and `status` never load Prefect."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import sys
from pathlib import Path

import click

from pilotzones import stages
from pilotzones.cli import helptext
from pilotzones.cli.helptext import option
from pilotzones.errors import (
    EXIT_INTERNAL,
    EXIT_OK,
    EXIT_REJECTED,
    EXIT_USAGE,
    PilotzonesError,
    shown,
    shown_lines,
    terminal_safe,
)
from pilotzones.gcpause import freeze_before_exit, no_cyclic_gc
from pilotzones.rules import file_kinds


def _home_path(ctx: click.Context) -> Path:
    explicit = ctx.obj.get("home")
    if explicit:
        return Path(explicit)
    from pilotzones.settings import settings

    return settings().home


def _open(ctx: click.Context):
    from pilotzones.store.home import open_home

    home = open_home(_home_path(ctx))
    _warn_if_demo(home.path)
    return home


def _warn_if_demo(path: Path) -> None:
    """A home `pilotzones demo` made holds sample years: real work belongs in a home of its own."""
    from pilotzones.store import DEMO_MARKER

    if (path / DEMO_MARKER).is_file():
        click.echo(
            f"pilotzones: 注意：{path} 是演示主目录（pilotzones demo 建立，内含样例数据）；"
            "正式工作请另用 --home 指定主目录",
            err=True,
        )


def _open_existing(ctx: click.Context):
    """The home for `programme add`, which changes what a home already holds: one that does not exist
    is reported, not created (a mistyped --home would otherwise get a revision registered in a new
    home of the built-in programme). The commands that read (`status`, `rubric`) do not refuse."""
    from pilotzones.store import PROGRAMME_FILE

    path = _home_path(ctx)
    if not (path / PROGRAMME_FILE).is_file():
        from pilotzones.errors import ConfigError

        what = "不存在" if not path.exists() else "尚未初始化"
        raise ConfigError(
            f"主目录 {path} {what}：请先运行 pilotzones --home {path} init（或用 --home 指定已有的主目录）"
        )
    return _open(ctx)


def _prefect_env(home_path: Path) -> None:
    """Keep an embedded Prefect's database in the home unless a Prefect server is configured."""
    if not os.environ.get("PREFECT_API_URL") and not os.environ.get("PREFECT_HOME"):
        prefect_home = (home_path / "prefect").resolve()
        prefect_home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(prefect_home)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    # The embedded server has no route out, and a slow first start (migrations) needs more than 20 s.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if not os.environ.get("PREFECT_API_URL"):
        os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_ENABLED", "true")
    else:
        # A configured (shared) server may run the automation that crashes a run silent for 90 s
        # (deployments/crash-zombie-flows.yaml): a command's run beats as often as a deployment's.
        os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", "30")


def _stage_api(ctx: click.Context, home_path: Path | None = None):
    """The Prefect server a command that runs a stage flow reports to, chosen before Prefect is
    imported (deployments/local_api.py: the configured one, `serve`'s, or a temporary one started
    now so that it comes up while this process imports the flows). Early, before the home is
    opened and checked, when the home already exists; None when nothing needs waiting for."""
    from pilotzones.store import PROGRAMME_FILE

    path = home_path or _home_path(ctx)
    if home_path is None and not (path / PROGRAMME_FILE).is_file():
        return None  # a home about to be created: choose once it is
    from pilotzones.deployments.local_api import choose_api

    _prefect_env(path)
    return choose_api(path)


def _flow_run(api):
    """Around a stage command's flow call: what `_stage_api` chose, ready (LocalApi.running)."""
    if api is None:
        return contextlib.nullcontext()
    return api.running(float(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")))


def _can_send(home=None) -> None:
    """A command that sends notices refuses a delivery configuration that cannot (exit 2, one line)."""
    from pilotzones.notices.delivery import check_delivery, delivery_settings

    check_delivery(delivery_settings(home))


def _quiet(flow):
    """`flow`, with Prefect's console lines giving a failure's message but not its traceback (the
    run's page keeps it): the command then says in one line what failed."""
    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler) and not isinstance(handler.formatter, _NoTraceback):
            handler.setFormatter(_NoTraceback(handler.formatter))
    return flow


class _NoTraceback(logging.Formatter):
    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info or record.exc_text or record.stack_info:
            record = logging.makeLogRecord({**record.__dict__, "exc_info": None, "exc_text": None, "stack_info": None})
        return self.inner.format(record)


class Command(helptext.Command):
    """A command that refuses a PILOTZONES_* variable that does not fit before it starts (exit 2, a
    line per variable), not halfway through a stage or a demo where a flow would meet it first.
    Here, not in the group's callback: that runs before a command's --help, which needs no settings."""

    def invoke(self, ctx: click.Context):
        from pilotzones.settings import settings

        settings()
        return super().invoke(ctx)


class Group(helptext.Group):
    """Turn every error into a message and an exit code; never a bare traceback. click's own words
    are said in Chinese: its help pages (`helptext.Group`), its usage errors (`ChineseUsageError`),
    its "Error:" and "Aborted!"."""

    command_class = Command

    def make_context(self, info_name, args, parent=None, **extra):
        # The top level's own options (`--home`, a mistyped one) are parsed here, before invoke.
        from pilotzones.cli.usage import ChineseUsageError

        try:
            return super().make_context(info_name, args, parent, **extra)
        except (ChineseUsageError, click.exceptions.NoArgsIsHelpError):  # the latter shows the help page
            raise
        except click.UsageError as exc:
            raise ChineseUsageError(exc) from None

    def invoke(self, ctx: click.Context):
        from pilotzones.cli.usage import ChineseUsageError

        try:
            return super().invoke(ctx)
        except PilotzonesError as exc:
            _say(str(exc))
            sys.exit(exc.exit_code)
        except (ChineseUsageError, click.exceptions.NoArgsIsHelpError):
            raise
        except click.UsageError as exc:
            raise ChineseUsageError(exc) from None
        except click.ClickException as exc:
            _say(exc.format_message())
            sys.exit(exc.exit_code)
        except (KeyboardInterrupt, EOFError, click.exceptions.Abort):
            click.echo(err=True)  # after the terminal's ^C
            _say("已中止")
            sys.exit(EXIT_INTERNAL)
        except (click.exceptions.Exit, SystemExit):
            raise
        except Exception as exc:  # an internal failure: say what, exit 1
            from pilotzones.store.session import database_error_line, database_fault

            fault = database_fault(exc)
            if fault:
                _say(fault)
                sys.exit(EXIT_USAGE)
            _say(f"内部错误：{database_error_line(exc)}")
            sys.exit(EXIT_INTERNAL)


def _say(message: str) -> None:
    """An error's one message on stderr: no secret, no control character from what users sent."""
    from pilotzones.settings import scrub

    click.echo(f"pilotzones: {shown_lines(scrub(message))}", err=True)


# The contract's exit codes, as the operator reads them under the top-level help.
_EPILOG = (
    "查看某一命令的用法：pilotzones 命令 --help。\n\n"
    f"退出码：{EXIT_OK} 完成；{EXIT_REJECTED} 有文件未通过校验，已退回；{EXIT_USAGE} 用法或配置有误；"
    f"{EXIT_INTERNAL} 失败（有通知未能发出、check 发现待修复的问题或内部错误）。"
)


@click.group(cls=Group, epilog=_EPILOG)
@option(
    "--home",
    type=click.Path(file_okay=False),
    default=None,
    metavar="目录",
    help="主目录（默认取 $PILOTZONES_HOME，未设置时为 ./.pilotzones）",
)
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """按方案开展试验区年度监测评价：报送与校验文件，运行监测评价和候补试验区遴选，审批、公示，发送通知，
    生成报告。"""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home


@cli.command()
@option(
    "--program",
    "program",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="文件",
    help="方案文件（TOML）；默认为内置的新疆方案",
)
@click.pass_context
def init(ctx: click.Context, program: str | None) -> None:
    """初始化主目录：状态数据库、存档和发件箱。"""
    from pilotzones.store.home import init_home

    home = init_home(_home_path(ctx), Path(program) if program else None)
    p = home.programme.programme
    click.echo(f"主目录 {home.path} 已就绪：{p.name}（{p.id}）；状态数据库 {home.db_url}")


@cli.command()
@click.argument("files", nargs=-1, required=True, metavar="文件...", type=click.Path(dir_okay=False))
@option("--year", type=int, required=True, metavar="年度", help="报送所属年度")
@option(
    "--kind",
    type=click.Choice(file_kinds.names()),
    default="evaluation",
    show_default=True,
    help="文件类别",
)
@option(
    "--at",
    "at",
    default=None,
    metavar="时间",
    help="接收时间，ISO-8601 格式（默认为当前时间；未写时区的按方案所在时区）",
)
@option("--dry-run", is_flag=True, help="试运行：只校验并报告结果，不作任何记录，不发送通知")
@option(
    "--send/--no-send",
    default=True,
    help="立即发送本次报送产生的通知（退回通知等；默认）；--no-send 则留在发件箱，随下一次 deliver 或阶段运行发送",
)
@click.pass_context
def submit(
    ctx: click.Context, files: tuple[str, ...], year: int, kind: str, at: str | None, dry_run: bool, send: bool
) -> None:
    """报送文件：逐份校验、存档并登记，每份文件单独接收或退回（有文件被退回时退出码为 3）。

    文件为 CSV 或 XLSX，可一次报送多份。被退回文件的报送单位随即收到列明全部错误的退回通知（配置了邮件服务器时
    通过邮件发送，否则写入发件箱的 .eml 文件）；通知未能发出时仍留在发件箱，由下一次 deliver 或阶段运行发送，
    退出码不变。"""
    from pilotzones import clock

    home = _open(ctx)
    # The receipt time, fixed once: the late-file message names it with the deadline.
    moment = clock.parse_moment(at, home.programme.tz) if at else clock.now()
    start = home.programme.programme.start_year
    if year < start:
        from pilotzones.errors import ConfigError

        raise ConfigError(f"--year {year}：本方案自{start}年度起实施，{year}年度没有可报送的内容")
    # One command of thousands of small objects (GX's import, frames, rows): the collector would scan
    # them over and over and find next to nothing to free (pilotzones.gcpause).
    with no_cyclic_gc():
        outcomes = _submit_files(home, [Path(f) for f in files], year=year, kind=kind, at=moment, dry_run=dry_run)
    unsent = None
    if send and not dry_run:
        from pilotzones.intake.submit import deliver_notices

        # Before the files' lines, so that each says whether its notice went out.
        unsent = deliver_notices(home, outcomes)
    prefix = "【试运行】" if dry_run else ""
    rejected = 0
    for file, out in zip(map(shown, files), outcomes, strict=True):
        if out.errors:
            rejected += 1
            click.echo(f"{prefix}{file}: 文件未通过校验，共{out.error_count}处错误，整份退回：", err=True)
            for e in out.errors:
                click.echo(f"  {e}", err=True)
            if not dry_run:
                told = (
                    _told(out, send, "退回通知") if out.notice_queued else "未能确定报送单位，未发退回通知，请另行告知"
                )
                click.echo(f"原始文件已存档（编号 {out.submission_id}）；{told}。", err=True)
            continue
        if kind == file_kinds.OBJECTION.name:
            _echo_objection(home, prefix, file, out, dry_run, send)
            continue
        if not out.on_time:
            from pilotzones.intake.submit import deadline_of

            tz = home.programme.tz
            deadline = deadline_of(home, kind, year)
            late = "逾期"
            if deadline is not None:
                received, due = moment.astimezone(tz).isoformat(), deadline.astimezone(tz).isoformat()
                late = f"收到时间 {received} 晚于截止时间 {due}"
            recorded = "将记录为逾期报送（本次试运行未记录）" if dry_run else "已记录为逾期报送"
            # The stage that would have counted it, in the programme's words (a nomination: 候补试验区遴选).
            counted_by = file_kinds.get(kind).counted_by
            left_out = f"不计入{_stage_cn(home, counted_by)}" if counted_by else "不予计入"
            click.echo(f"{prefix}{file}: {late}，{recorded}，{left_out}。", err=True)
        elif out.extended_until is not None:
            until = out.extended_until.astimezone(home.programme.tz).isoformat()
            click.echo(f"{prefix}{file}: 报送时间在准予延期的期限（{until}）内，按时报送。", err=True)
        click.echo(f"{prefix}{file}: 已接收（{out.rows}行{'' if dry_run else f'，编号 {out.submission_id}'}）。")
        if out.published_stage:
            kept = "会存档并记录" if dry_run else "已存档并记录"
            stage_cn = stages.cn(out.published_stage, home.programme.programme.words())
            click.echo(
                f"{prefix}{file}: {year}年度{stage_cn}已经发布，本文件{kept}，但不能再计入。",
                err=True,
            )
        if out.left_out:
            items = "、".join(f"第{i}项{name}" for i, name in out.left_out)
            click.echo(f"{prefix}{file}: 提醒：文件未填报以下{len(out.left_out)}项指标，将按0分计：{items}。", err=True)
    if len(files) > 1:
        click.echo(f"{prefix}共{len(files)}份文件：已接收{len(files) - rejected}份，退回{rejected}份。", err=True)
    if unsent:
        # Said, not failed: the files are recorded and the exit code answers for them alone.
        later = "已留在发件箱，下次运行 deliver 或阶段时发送"
        click.echo(f"通知：本次报送的通知未能全部发出（{unsent}）；{later}。", err=True)
    if rejected:
        sys.exit(EXIT_REJECTED)


def _told(out, send: bool, what: str) -> str:
    """Where a file's notice is: sent now, left in the outbox by a failure, or held by --no-send."""
    if out.notice_sent:
        return f"{what}已发出"
    if send:
        return f"{what}未能发出，留在发件箱"
    return f"{what}已排队，随下一次 deliver 或阶段运行发送"


def _echo_objection(home, prefix: str, file: str, out, dry_run: bool, send: bool) -> None:
    """An accepted objection file: heard (awaiting its answer) or late (recorded, not heard)."""
    if dry_run:
        heard = "在公示期内，将受理" if out.on_time else "不在公示期内，将登记但不予受理"
        click.echo(f"{prefix}{file}: 异议材料通过校验（{out.rows}项），{heard}（本次试运行未记录）。")
    elif out.on_time:
        click.echo(f"{file}: 异议已受理（异议编号 {out.recorded_id}，文件编号 {out.submission_id}），待答复。")
    else:
        told = _told(out, send, "通知") if out.notice_queued else "未能通知报送单位"
        click.echo(
            f"{file}: 异议不在公示期内提出，已登记为逾期（异议编号 {out.recorded_id}），不予受理；{told}。", err=True
        )


def _submit_files(home, paths: list[Path], *, year: int, kind: str, at, dry_run: bool) -> list:
    """One outcome per file, in order; several evaluation files are checked in one GX run and recorded together."""
    from pilotzones.intake.submit import read_file
    from pilotzones.intake.submit import submit as submit_one

    if len(paths) > 1 and kind == file_kinds.EVALUATION.name:
        from pilotzones.intake.bulk import submit_many

        return submit_many(home, paths, year=year, at=at, dry_run=dry_run)
    for path in paths[1:]:
        read_file(path, home.programme.limits)  # a file that cannot be read records nothing of the others either
    return [submit_one(home, p, year=year, kind=kind, at=at, dry_run=dry_run) for p in paths]


def _run_stage(
    ctx: click.Context,
    stage: str,
    year: int,
    approve: bool,
    early_reason: str | None = None,
    publicize: bool = False,
    at: str | None = None,
) -> None:
    api = _stage_api(ctx)  # first: the server starts while the rest imports
    from pilotzones.rules.decisions import DecisionState
    from pilotzones.stages import prechecks

    home = _open(ctx)
    prechecks.before_run(home, stage, year, early_reason)
    if publicize and not home.programme.publicity.days(stage):
        from pilotzones.errors import StageError
        from pilotzones.rules.programme import PUBLICIZED_STAGES

        if stage not in PUBLICIZED_STAGES:  # a deliberate choice (README, Rules: Publicity)
            raise StageError(f"{_stage_cn(home, stage)}没有公示期（本版本只有监测评价公示），不能 --publicize")
        raise StageError(
            f"本方案未设{_stage_cn(home, stage)}公示期（[publicity] publicity_days.{stage} 为0），不能 --publicize"
        )
    if approve or publicize:
        _can_send(home)
    api = api or _stage_api(ctx, home.path)
    run = _quiet(stages.get(stage).flow("run"))
    with _flow_run(api):
        result = run(home=str(home.path), year=year, approve=approve, early_reason=early_reason)
    state = result["state"]
    if result.get("proposal"):
        from pilotzones.cli.proposal_view import render_proposal

        click.echo(f"{year}年度{_stage_cn(home, stage)}方案：")
        proposal = stages.get(stage).proposal.from_stored(result["proposal"])
        click.echo(render_proposal(proposal, home.register.name, home.programme.programme.words()))
    if publicize and state in (DecisionState.AWAITING_APPROVAL, DecisionState.IN_PUBLICITY):
        _publicize(home, stage, year, at)
        return
    if state == DecisionState.IN_PUBLICITY:
        click.echo(f"{year}年度{_stage_cn(home, stage)}方案公示中：公示期满、异议均已答复后审批。")
        if result.get("moved"):
            _send_drafts(home, year, result["moved"])
    elif state == DecisionState.PUBLISHED and not result.get("applied", True):
        click.echo(f"{year}年度{_stage_cn(home, stage)}此前已发布，本次未再执行任何变更。")
    elif state == DecisionState.PUBLISHED:
        click.echo(f"{year}年度{_stage_cn(home, stage)}已发布。")
        _echo_reports(home, stage, year)
    else:
        click.echo(
            f"{year}年度{_stage_cn(home, stage)}方案待审批：pilotzones approve --year {year} --stage {stage}"
            f"（或 pilotzones decline --year {year} --stage {stage} --note 意见）。"
        )


def _send_drafts(home, year: int, moved: list[str]) -> None:
    """公示: a rebuild moved the card line; the zones it moved get their next draft now."""
    from pilotzones.notices import deliver, raise_if_unsent

    names = "、".join(f"{home.register.name(a)}（{a}）" for a in moved)
    click.echo(f"黄牌线调整涉及：{names}；已向其发送更新后的公示稿。")
    _can_send(home)
    report = deliver(home, year=year)
    click.echo(f"通知：{report.summary()}")
    raise_if_unsent(report)


def _publicize(home, stage: str, year: int, at: str | None) -> None:
    """公示: the proposal into publicity, its drafts queued and delivered, the window's end said."""
    from pilotzones import clock
    from pilotzones.notices import deliver
    from pilotzones.stages.publicity import publicize
    from pilotzones.store import deadlines

    opened = clock.parse_moment(at, home.programme.tz) if at else None
    out = publicize(home, year, by=deadlines.operator_name(), via="cli", at=opened)
    again = "" if out["new"] else "（此前已进入公示，本次未再变更）"
    click.echo(
        f"{year}年度{_stage_cn(home, stage)}结果进入公示{again}："
        f"公示期自{out['opened_at']}至{out['closes_at']}（含，方案时区）；"
        f"公示稿通知{out['notices_new']}份已排队。"
    )
    report = deliver(home, year=year)
    click.echo(f"通知：{report.summary()}")
    from pilotzones.notices import raise_if_unsent

    raise_if_unsent(report)


def _echo_reports(home, stage: str, year: int) -> None:
    """Say where the reports that publication wrote are."""
    from pilotzones.reports import report_paths

    for p in report_paths(home, year, stage):
        if p.exists():
            click.echo(f"报告：{p}")


def _stage_cn(home, stage: str) -> str:
    """The stage's name in the home's programme words, as operators read it."""
    return stages.cn(stage, home.programme.programme.words())


def _stage_group(st: stages.Stage) -> None:
    """`pilotzones STAGE run`, for every registered decision stage."""

    @cli.group(name=st.name, cls=Group, help=st.cli_help)
    def group() -> None:
        pass

    @group.command("run", help=st.run_help)
    @option("--year", type=int, required=True, metavar="年度", help="运行的年度")
    @option("--approve", is_flag=True, help=st.approve_help)
    @option("--force-early", is_flag=True, help="演练：在截止时间之前运行（须同时写 --reason）")
    @option("--reason", default=None, metavar="原因", help="提前运行演练的原因（记入运行日志和方案）")
    @option("--publicize", is_flag=True, help="公示：将方案交付公示（公示期见方案文件的 publicity_days）")
    @option(
        "--at",
        "at",
        default=None,
        metavar="时间",
        help="与 --publicize 同用：公示期开始时间，ISO-8601 格式（默认为当前时间）",
    )
    @click.pass_context
    def run(
        ctx: click.Context,
        year: int,
        approve: bool,
        force_early: bool,
        reason: str | None,
        publicize: bool,
        at: str | None,
    ) -> None:
        if force_early and not (reason or "").strip():
            raise click.UsageError("--force-early 需要 --reason 说明提前运行的原因")
        if reason is not None and not force_early:
            raise click.UsageError("--reason 只与 --force-early 一起使用")
        if publicize and approve:
            raise click.UsageError("--publicize 与 --approve 不能同时使用：公示期满后再审批")
        if at is not None and not publicize:
            raise click.UsageError("--at 只与 --publicize 一起使用")
        _run_stage(ctx, st.name, year, approve, reason if force_early else None, publicize, at)


for _st in stages.all_stages():
    _stage_group(_st)


@cli.command()
@option("--year", type=int, required=True, metavar="年度", help="待审批方案所属年度")
@option("--stage", type=click.Choice(sorted(stages.names())), required=True, help="阶段")
@option("--by", "by", default=None, metavar="姓名", help="审批人（默认取 $USER，未设置时为登录名）")
@option("--note", default=None, metavar="意见", help="审批意见（记录在案，在 status 和汇总通知中显示）")
@click.pass_context
def approve(ctx: click.Context, year: int, stage: str, by: str | None, note: str | None) -> None:
    """审批并发布运行后待审批的决定。"""
    api = _stage_api(ctx)  # first: the server starts while the rest imports
    from pilotzones.stages import prechecks
    from pilotzones.store import deadlines

    home = _open(ctx)
    prechecks.before_publish(home, stage, year)
    _can_send(home)
    api = api or _stage_api(ctx, home.path)
    who = by or deadlines.operator_name()
    publish = _quiet(stages.get(stage).flow("publish"))
    with _flow_run(api):
        result = publish(home=str(home.path), year=year, by=who, note=note)
    if result["applied"]:
        from pilotzones.cli.proposal_view import stored_view

        click.echo(f"{year}年度{_stage_cn(home, stage)}已发布：")
        click.echo(stored_view(home, stage, year))
        click.echo(f"{year}年度{_stage_cn(home, stage)}已批准并发布（批准人：{who}）。")
        _echo_reports(home, stage, year)
    else:
        click.echo(f"{year}年度{_stage_cn(home, stage)}此前已发布，本次未再执行任何变更。")


@cli.group(cls=Group)
def objection() -> None:
    """公示：对公示稿结果提出的异议（异议材料用 submit --kind objection 报送）。"""


@objection.command("template")
@option("--year", type=int, required=True, metavar="年度", help="公示中的公示稿所属评价年度")
@option(
    "--county",
    default=None,
    metavar="代码或名称",
    help="只为该试验区生成（行政区划代码或名称）；默认为公示稿中的每个试验区",
)
@option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="目录",
    help="输出目录（默认为主目录下的 reports/年度/objection）",
)
@click.pass_context
def objection_template(ctx: click.Context, year: int, county: str | None, out: str | None) -> None:
    """生成各试验区的异议材料表，按其公示稿预填失分的指标。"""
    from pilotzones.reports.objection import write_forms

    paths = write_forms(_open(ctx), year, Path(out) if out else None, county)
    for p in paths:
        click.echo(str(p))
    click.echo(f"已生成{len(paths)}份{year}年度监测评价异议材料表。", err=True)


@objection.command("answer")
@option("--id", "objection_id", type=int, required=True, metavar="编号", help="异议编号（见 submit 的回复或 status）")
@option("--uphold", "verdict", flag_value="uphold", help="异议成立：更正报送值")
@option("--dismiss", "verdict", flag_value="dismiss", help="异议不成立（须写 --reason）")
@option("--value", "values", multiple=True, metavar="指标=值", help="一项更正值，可多次使用（默认采用异议所主张的值）")
@option("--reason", default="", metavar="理由", help="答复理由（记录在案并告知异议方；异议不成立时必填）")
@option("--by", "by", default=None, metavar="姓名", help="答复人（默认取 $USER，未设置时为登录名）")
@click.pass_context
def objection_answer(
    ctx: click.Context, objection_id: int, verdict: str | None, values: tuple[str, ...], reason: str, by: str | None
) -> None:
    """答复异议并记录在案；异议成立的，更正所计文件并重新生成方案。"""
    from pilotzones.notices import deliver, raise_if_unsent
    from pilotzones.stages.publicity import answer
    from pilotzones.store import deadlines

    if verdict is None:
        raise click.UsageError("请选择 --uphold 或 --dismiss")
    if verdict == "dismiss" and values:
        raise click.UsageError("--value 只与 --uphold 一起使用")
    home = _open(ctx)
    _can_send(home)
    who = by or deadlines.operator_name()
    out = answer(home, objection_id, uphold=verdict == "uphold", reason=reason, by=who, values=list(values))
    what = "异议成立，已按更正值重新计算评价结果" if out["state"] == "upheld" else "异议不成立，维持公示结果"
    click.echo(f"异议{objection_id}已答复（{who}）：{what}。")
    if out["moved"]:
        _send_drafts(home, out["year"], out["moved"])
        return
    report = deliver(home, year=out["year"])
    click.echo(f"通知：{report.summary()}")
    raise_if_unsent(report)


@cli.command()
@option("--year", type=int, required=True, metavar="年度", help="待审批方案所属年度")
@option("--stage", type=click.Choice(sorted(stages.names())), required=True, help="阶段")
@option("--by", "by", default=None, metavar="姓名", help="审批人（默认取 $USER，未设置时为登录名）")
@option("--note", required=True, metavar="意见", help="不予批准的理由（记录在案并显示）")
@click.pass_context
def decline(ctx: click.Context, year: int, stage: str, by: str | None, note: str) -> None:
    """拒绝待审批的方案：不发布任何内容；重新运行该阶段即重新提出方案。"""
    from pilotzones.store import deadlines, proposals

    home = _open(ctx)
    a = proposals.decline_stage(home, stage, year, by=by or deadlines.operator_name(), via="cli", note=note)
    st = stages.get(stage)
    words = home.programme.programme.words()
    click.echo(
        f"{year}年度{st.cn_in(words)}方案已拒绝（{a['by']}，{a['at']}），未发布。重新提出方案：{st.rerun_command(year)}"
    )


@cli.command()
@option("--year", type=int, required=True, metavar="年度", help="延期所属年度")
@option("--stage", type=click.Choice(sorted(stages.names())), required=True, help="阶段")
@option(
    "--adcode",
    required=True,
    metavar="代码",
    help="行政区划代码：evaluation 为县（市、区），candidates 为报送推荐材料的地（州、市）",
)
@option(
    "--until", "until", required=True, metavar="时间", help="新的截止时间，ISO-8601 格式（未写时区的按方案所在时区）"
)
@option("--reason", required=True, metavar="理由", help="准予延期的理由（记录在案并显示）")
@option("--by", "by", default=None, metavar="姓名", help="准予人（默认取 $USER，未设置时为登录名）")
@click.pass_context
def extend(ctx: click.Context, year: int, stage: str, adcode: str, until: str, reason: str, by: str | None) -> None:
    """延长一个县（市、区）或地（州、市）的报送截止时间（某一阶段、某一年度）。"""
    from pilotzones import clock
    from pilotzones.store import deadlines

    home = _open(ctx)
    moment = clock.parse_moment(until, home.programme.tz, "--until")
    x = deadlines.grant_extension(
        home, year=year, stage=stage, adcode=adcode, until=moment, reason=reason, by=by or deadlines.operator_name()
    )
    click.echo(
        f"期限例外 {x['id']}：{x['name']}（{x['adcode']}）{year}年度{_stage_cn(home, stage)}的报送截止时间延长至"
        f" {x['until']}（{x['granted_by']} 于 {x['granted_at']} 准予）{x['note']}。"
    )


@cli.command("accept-late")
@option("--submission", "submission_id", type=int, required=True, metavar="编号", help="submit 给出的该逾期文件编号")
@option("--reason", required=True, metavar="理由", help="接受逾期报送的理由（记录在案并显示）")
@option("--by", "by", default=None, metavar="姓名", help="接受人（默认取 $USER，未设置时为登录名）")
@click.pass_context
def accept_late(ctx: click.Context, submission_id: int, reason: str, by: str | None) -> None:
    """接受一份指定的逾期文件：视同在截止时间前收到。"""
    from pilotzones.store import deadlines

    home = _open(ctx)
    x = deadlines.accept_late(home, submission_id=submission_id, reason=reason, by=by or deadlines.operator_name())
    click.echo(
        f"期限例外 {x['id']}：{x['name']}（{x['adcode']}）逾期报送的文件 {submission_id}（{x['filename']}）"
        f"计入{x['year']}年度{_stage_cn(home, x['stage'])}（{x['granted_by']} 于 {x['granted_at']} 接受）{x['note']}。"
    )


@cli.command("revoke-exception")
@option(
    "--id",
    "exception_id",
    type=int,
    required=True,
    metavar="编号",
    help="期限例外编号（见 extend、accept-late 的回复或 status）",
)
@option("--reason", required=True, metavar="理由", help="撤销理由（记录在案并显示）")
@option("--by", "by", default=None, metavar="姓名", help="撤销人（默认取 $USER，未设置时为登录名）")
@click.pass_context
def revoke_exception(ctx: click.Context, exception_id: int, reason: str, by: str | None) -> None:
    """撤销误准的期限例外：记录保留，不再生效。"""
    from pilotzones.store import deadlines

    home = _open(ctx)
    x = deadlines.revoke(home, exception_id=exception_id, reason=reason, by=by or deadlines.operator_name())
    kind = "延期" if x["kind"] == "extension" else "接受逾期报送"
    click.echo(
        f"期限例外 {x['id']}（{kind}，{x['year']}年度{_stage_cn(home, x['stage'])}，{x['name']} {x['adcode']}）"
        f"已由 {x['revoked_by']} 于 {x['revoked_at']} 撤销{x['note']}。"
    )


@cli.command()
@option("--year", type=int, required=True, metavar="年度", help="查看的年度")
@option("--json", "as_json", is_flag=True, help="输出一个 JSON 对象（字段见接口约定）")
@click.pass_context
def status(ctx: click.Context, year: int, as_json: bool) -> None:
    """查看某一年度各阶段的决定和进展。"""
    from pilotzones.cli.status import render_table, year_status

    home = _open(ctx)  # a new home (created as by any command, and said on stderr): every stage not_run
    st = year_status(home, year)
    click.echo(json.dumps(st, ensure_ascii=False) if as_json else render_table(st, home.programme.programme.words()))


@cli.command()
@option("--year", type=int, required=True, metavar="年度", help="评价年度")
@option(
    "--county",
    default=None,
    metavar="代码或名称",
    help="只为该试验区生成（行政区划代码或名称）；默认为该年度的每个试验区",
)
@option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    metavar="目录",
    help="输出目录（默认为主目录下的 reports/年度/templates）",
)
@click.pass_context
def template(ctx: click.Context, year: int, county: str | None, out: str | None) -> None:
    """生成各试验区的监测评价数据报送表（XLSX：已预填，带数据校验和填报说明）。"""
    from pilotzones.reports.template import write_templates

    paths = write_templates(_open(ctx), year, county, Path(out) if out else None)
    for p in paths:
        click.echo(str(p))
    click.echo(f"已生成{len(paths)}份{year}年度监测评价数据报送表。", err=True)


@cli.command()
@option("--year", type=int, required=True, metavar="年度", help="报告所属年度")
@click.pass_context
def report(ctx: click.Context, year: int) -> None:
    """生成某一年度的报告：监测评价工作簿和 HTML 报告、候补试验区遴选工作簿，存于主目录下的 reports/年度/。"""
    from pilotzones.reports import write_reports

    home = _open(ctx)
    paths = write_reports(home, year)
    if not paths:
        cand = stages.cn("candidates", home.programme.programme.words())
        raise click.UsageError(f"{year}年度尚未运行{_stage_cn(home, 'evaluation')}或{cand}，没有可生成的报告")
    for p in paths:
        click.echo(str(p))


@cli.command()
@option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@option("--year", type=int, default=None, metavar="年度", help="该年度适用的评价细则（默认为本年度）")
@click.pass_context
def rubric(ctx: click.Context, as_json: bool, year: int | None) -> None:
    """查看方案的评价细则：类别、指标、分值和计分规则。"""
    from pilotzones.cli.rubric_view import rubric_json, rubric_table
    from pilotzones.store.home import open_home_if_any
    from pilotzones.store.versions import from_year_of, programme_for

    path = _home_path(ctx)
    home = open_home_if_any(path)
    if home is None:
        # Nothing to read but the built-in programme, which a new home would run: shown without
        # creating the home (a look at the rubric leaves no state behind in the current folder).
        from pilotzones.rules import programme as programme_mod

        _say(f"主目录 {path} 尚未建立：以下为内置方案的评价细则")
        prog = programme_mod.load()
        since = prog.programme.start_year
    else:
        year = home.programme.this_year() if year is None else year
        prog = programme_for(home, year)
        since = from_year_of(home, year)
    click.echo(json.dumps(rubric_json(prog), ensure_ascii=False, indent=1) if as_json else rubric_table(prog, since))


@cli.group(cls=Group)
def programme() -> None:
    """方案版本：自某一年度起施行的修订版评价细则。"""


@programme.command("add")
@click.argument("file", type=click.Path(dir_okay=False), metavar="文件")
@option("--from-year", "from_year", type=int, required=True, metavar="年度", help="修订版评价细则开始适用的年度")
@click.pass_context
def programme_add(ctx: click.Context, file: str, from_year: int) -> None:
    """登记修订后的方案文件，作为自 --from-year 年度起施行的版本；此前各年度仍按原版本。"""
    from pilotzones.store.versions import add_version, version_years

    home = _open_existing(ctx)
    new = add_version(home, Path(file), from_year)
    r = new.rubric
    years = "、".join(str(y) for y in version_years(home))
    click.echo(
        f"评价细则新版本自{from_year}年度起生效（{len(r.items)}项指标，基础分{r.base_max}，加分上限{r.bonus_cap}）；"
        f"此前年度仍按原版本。已有版本起始年度：{home.programme.programme.start_year}、{years}。"
    )


@cli.command()
@option("--years", default="2022-2024", show_default=True, metavar="起始年-结束年", help="演示的起止年度")
@click.pass_context
def demo(ctx: click.Context, years: str) -> None:
    """演示：以内置的默认配置，用数年的样例数据走完每个阶段。

    演示主目录与其他命令相同：取 --home，未指定时取 $PILOTZONES_HOME，均未设置时为 ./.pilotzones。
    只使用空目录或此前演示建立的目录，每次运行前清空；已有文件的其他目录（如正式主目录）一律拒绝。
    状态数据库总是演示主目录中的 SQLite 文件（不使用 PILOTZONES_DATABASE_URL）。"""
    from pilotzones.cli.demo import demo_home, reset_home, run_demo

    try:
        first, last = (int(x) for x in years.split("-"))
    except ValueError:
        raise click.BadParameter(f"“{shown(years)}”应写作 起始年-结束年，如 2022-2024", param_hint="--years") from None
    home = demo_home(ctx.obj.get("home"))
    from pilotzones.settings import forget_database_url

    if forget_database_url():
        # Sample years must never reach a real state database: the demo keeps its own SQLite file.
        click.echo(f"pilotzones: 演示不使用 PILOTZONES_DATABASE_URL，状态数据库为 {home}/pilotzones.db", err=True)
    reset_home(home)
    _prefect_env(home)
    run_demo(home, first, last)


@cli.command()
@option("--year", type=int, default=None, metavar="年度", help="只统计该年度尚未发出的通知")
@click.pass_context
def deliver(ctx: click.Context, year: int | None) -> None:
    """发送发件箱中尚未发出的全部通知（仍有未发出的通知时退出码为 1）。"""
    from pilotzones.notices import deliver as do_deliver
    from pilotzones.notices import raise_if_unsent

    home = _open(ctx)
    _can_send(home)
    report = do_deliver(home, year=year)
    click.echo(f"通知：{report.summary()}")
    raise_if_unsent(report)


@cli.command()
@option("--repair", is_flag=True, help="清除中断写入的残留文件，补登未登记的文件")
@click.pass_context
def check(ctx: click.Context, repair: bool) -> None:
    """核对每份存档文件的 SHA-256 与记录是否一致，并列出异常中断遗留的问题（仍有待修复项时退出码为 1）。"""
    from pilotzones.cli.check_view import render_check
    from pilotzones.store.audit import check_home

    home = _open(ctx)
    found = check_home(home, repair=repair)
    click.echo(render_check(found, home.programme.tz, repair))
    if found.unrepaired:
        sys.exit(EXIT_INTERNAL)


@cli.command()
@option("--port", type=int, default=4200, show_default=True, metavar="端口", help="内置 Prefect 服务器的端口")
@click.pass_context
def serve(ctx: click.Context, port: int) -> None:
    """按日程运行各阶段的部署（未配置 Prefect 服务器时使用内置服务器）。"""
    from pilotzones.deployments.serving import serve_forever

    home = _open(ctx)
    _prefect_env(home.path)
    serve_forever(home, port)


@cli.command()
@option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    metavar="地址",
    help="监听地址（其他机器上的 worker 要连接时用 0.0.0.0）",
)
@option("--port", type=int, default=4200, show_default=True, metavar="端口", help="监听端口")
def server(host: str, port: int) -> None:
    """运行供多台机器共用的 Prefect 服务器（其数据库由 PREFECT_SERVER_DATABASE_CONNECTION_URL 指定）。"""
    from pilotzones.deployments.serving import run_server

    run_server(host, port)


@cli.command()
@option("--pool", default="pilotzones", show_default=True, metavar="工作池", help="worker 轮询的进程工作池")
@click.pass_context
def deploy(ctx: click.Context, pool: str) -> None:
    """在共用服务器的工作池上登记各阶段的部署（服务器由 PREFECT_API_URL 指定）。"""
    from pilotzones.deployments.serving import deploy_to_pool

    home = _open(ctx)
    names = deploy_to_pool(home, pool)
    click.echo(f"已在工作池 {pool} 登记 {len(names)} 个部署：{'、'.join(names)}。")


def _between_commands() -> None:
    """`rectification`, `visit` and `meeting` (issue 14), defined in their own module."""
    from pilotzones.cli.between import COMMANDS

    for command in COMMANDS:
        cli.add_command(command)


_between_commands()


class _TerminalSafe(io.TextIOWrapper):
    """stdout or stderr with configured secrets scrubbed and control characters escaped on the way out."""

    def write(self, s: str) -> int:
        from pilotzones.settings import scrub

        return super().write(terminal_safe(scrub(s)))

    def close(self) -> None:
        self.flush()  # the buffer is the original stream's too: it stays open


def _terminal_safe_output() -> None:
    """Whatever the process prints, a county name's escape sequence never reaches the terminal."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if not isinstance(stream, io.TextIOWrapper):
            continue
        stream.flush()
        safe = _TerminalSafe(stream.buffer, encoding=stream.encoding, errors=stream.errors, write_through=True)
        setattr(sys, name, safe)


def main() -> None:
    _terminal_safe_output()
    # click's own usage errors exit 2, which is the contract's code for usage errors.
    try:
        cli(obj={})
    finally:
        freeze_before_exit()


if __name__ == "__main__":
    main()
