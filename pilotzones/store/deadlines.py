"""Deadline exceptions: an extension for one county (or prefecture), or one named late file accepted.

Both are granted by an operator with a reason, recorded with who and when, and change only the
treatment of that county's (or prefecture's) files for that stage and year. A file keeps the
`on_time` it was recorded with; the stage's collection counts it when an exception covers it
(`ledger.Leeway`). Nothing here imports Prefect.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime, tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from pilotzones import clock, stages
from pilotzones.errors import ConfigError, StageError
from pilotzones.rules.decisions import DecisionState
from pilotzones.rules.register import normalize_adcode
from pilotzones.store import ledger
from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session

STAGES = stages.names()
KINDS = ("extension", "accept_late")
_DEADLINE = {s.name: s.deadline for s in stages.all_stages()}


def operator_name() -> str:
    """Who grants, by default: $USER, else the login name."""
    name = os.environ.get("USER") or os.environ.get("LOGNAME")
    if not name:
        try:
            name = getpass.getuser()
        except Exception:  # no passwd entry in some containers
            name = "unknown"
    return name


def _iso(dt: datetime | None, tz: tzinfo) -> str | None:
    return None if dt is None else ledger.utc(dt).astimezone(tz).isoformat()


def as_dict(x: m.DeadlineException, tz: tzinfo) -> dict:
    """An exception as status, proposals and notices show it (times in the programme's timezone)."""
    return {
        "id": x.id,
        "year": x.year,
        "stage": x.stage,
        "adcode": x.adcode,
        "kind": x.kind,
        "until": _iso(x.until, tz),
        "submission_id": x.submission_id,
        "reason": x.reason,
        "granted_by": x.granted_by,
        "granted_at": _iso(x.granted_at, tz),
        "revoked_at": _iso(x.revoked_at, tz),
        "revoked_by": x.revoked_by,
        "revoke_reason": x.revoke_reason,
    }


def for_year(s: Session, year: int, tz: tzinfo, stage: str | None = None) -> list[dict]:
    """Every exception of `year`, revoked ones included (`revoked_at` set): the record status shows."""
    return [as_dict(x, tz) for x in ledger.deadline_exceptions(s, year, stage, revoked=True)]


def applied(
    s: Session, year: int, stage: str, tz: tzinfo, counted: list[m.Submission], deadline: datetime
) -> list[dict]:
    """The stage's exceptions, each with the files of `counted` that count only because of it."""
    lw = ledger.leeway(s, ledger.STAGE_KIND[stage], year)
    by_exception: dict[int, list[int]] = {}
    for sub in counted:
        if sub.id in lw.accepted:
            by_exception.setdefault(lw.accepted[sub.id], []).append(sub.id)
        elif lw.extended(sub) and ledger.utc(sub.received_at) > deadline:
            # The sender's latest extension is the one that covers it.
            by_exception.setdefault(lw.extension_ids[sub.sender or ""][-1], []).append(sub.id)
    return [
        dict(as_dict(x, tz), counted_submissions=sorted(set(by_exception.get(x.id, []))))
        for x in ledger.deadline_exceptions(s, year, stage)
    ]


def _published(s: Session, year: int, stage: str) -> bool:
    d = ledger.decision(s, year, stage, lock=True)
    return d is not None and d.state == DecisionState.PUBLISHED


def _awaiting(s: Session, year: int, stage: str) -> bool:
    d = ledger.decision(s, year, stage)
    return d is not None and DecisionState(d.state).pending


def _text(value: str, what: str, limit: int | None = None) -> str:
    value = (value or "").strip()
    if not value:
        raise ConfigError(f"{what}：不能为空")
    if limit is not None and len(value) > limit:
        raise ConfigError(f"{what}：不能超过{limit}个字符")
    return value


def _stage_cn(home: Home, stage: str) -> str:
    """The stage's name in the home programme's words, as the operator reads it."""
    return stages.cn(stage, home.programme.programme.words())


def _after_note(home: Home, awaiting: bool, stage: str, year: int) -> str:
    if not awaiting:
        return ""
    return (
        f"；{year}年度{_stage_cn(home, stage)}方案正在待审批：请重新运行"
        f"（{stages.get(stage).rerun_command(year)}），使其决定考虑这一变化"
    )


def grant_extension(home: Home, *, year: int, stage: str, adcode: str, until: datetime, reason: str, by: str) -> dict:
    """Extend the deadline of `stage` in `year` for one of its senders: a county (evaluation data) or
    a prefecture (nominations), as the stage says (`Stage.senders`)."""
    if stage not in STAGES:
        raise ConfigError(f"--stage 只能是 {'、'.join(STAGES)} 之一")
    reason, by = _text(reason, "--reason"), _text(by, "--by", 64)
    if until.tzinfo is None:
        raise ConfigError("--until 需要时区（不写时区即按方案所在时区）")
    prog, reg = home.programme, home.register
    words = prog.programme.words()
    deadline = prog.moment(_DEADLINE[stage], year)
    with session(home.db_url) as s:
        if stages.get(stage).senders == stages.Senders.COUNTY:
            code = normalize_adcode(adcode)
            if code is None or reg.county(code) is None:
                raise ConfigError(f"--adcode {adcode}：不是{reg.region_name}的县级行政区划")
            if code not in ledger.pilots_for(s, year):
                raise ConfigError(f"--adcode {code}（{reg.name(code)}）：不是{year}年度参加监测评价的{words['zone']}")
        else:
            code = reg.prefecture_code(adcode)
            if code is None:
                raise ConfigError(f"--adcode {adcode}：不是{reg.region_name}的{words['prefecture']}")
        if _published(s, year, stage):
            raise StageError(f"{year}年度{_stage_cn(home, stage)}已经发布，延期已不能改变其结果")
        current = ledger.extended_deadline(s, ledger.STAGE_KIND[stage], year, code)
        floor = max(deadline, current) if current is not None else deadline
        if until <= floor:
            which = "已延长的截止时间" if current is not None and current >= deadline else "截止时间"
            raise ConfigError(
                f"--until {until.astimezone(prog.tz).isoformat()}：不晚于{reg.name(code)}（{code}）的{which}"
                f"{floor.astimezone(prog.tz).isoformat()}"
            )
        x = m.DeadlineException(
            year=year,
            stage=stage,
            adcode=code,
            kind="extension",
            until=until.astimezone(UTC),  # SQLite keeps no offset: store UTC
            reason=reason,
            granted_by=by,
            granted_at=clock.now(),
        )
        s.add(x)
        s.flush()
        out = as_dict(x, prog.tz)
        awaiting = _awaiting(s, year, stage)
    out["name"] = reg.name(code)
    out["note"] = _after_note(home, awaiting, stage, year)
    return out


def accept_late(home: Home, *, submission_id: int, reason: str, by: str) -> dict:
    """Accept one named late file: it counts as if received by the deadline."""
    reason, by = _text(reason, "--reason"), _text(by, "--by", 64)
    prog, reg = home.programme, home.register
    with session(home.db_url) as s:
        sub = s.get(m.Submission, submission_id)
        if sub is None:
            raise ConfigError(f"--submission {submission_id}：没有这一编号的报送文件")
        stage = ledger.KIND_STAGE.get(sub.kind)
        if stage is None:
            what = home.programme.programme.words()["nomination_material"] if sub.kind == "nomination" else "评审得分表"
            raise ConfigError(f"报送文件 {submission_id} 是{what}，没有报送截止时间")
        if sub.status != "accepted":
            raise ConfigError(f"报送文件 {submission_id} 未通过校验，只有通过校验的文件才能接受逾期报送")
        lw = ledger.leeway(s, sub.kind, sub.year)
        if sub.on_time or lw.extended(sub):
            raise ConfigError(f"报送文件 {submission_id} 并未逾期：已经计入")
        if sub.id in lw.accepted:
            raise ConfigError(f"报送文件 {submission_id} 已接受逾期报送（例外编号 {lw.accepted[sub.id]}）")
        before = s.scalars(select(m.DeadlineException).where(m.DeadlineException.submission_id == sub.id)).first()
        if before is not None:
            # One acceptance per file, kept with its revocation: the record never loses either.
            raise ConfigError(
                f"报送文件 {submission_id} 曾被接受逾期报送（例外编号 {before.id}），后已撤销；"
                "如需现在计入，请将其报送单位的截止时间延长到收到时间之后（pilotzones extend）"
            )
        if _published(s, sub.year, stage):
            raise StageError(f"{sub.year}年度{_stage_cn(home, stage)}已经发布，不能再接受逾期报送的文件")
        x = m.DeadlineException(
            year=sub.year,
            stage=stage,
            adcode=sub.sender or "",
            kind="accept_late",
            submission_id=sub.id,
            reason=reason,
            granted_by=by,
            granted_at=clock.now(),
        )
        s.add(x)
        s.flush()
        out = as_dict(x, prog.tz)
        out["filename"] = sub.filename
        awaiting = _awaiting(s, sub.year, stage)
    out["name"] = reg.name(out["adcode"]) if out["adcode"] else ""
    out["note"] = _after_note(home, awaiting, stage, out["year"])
    return out


def revoke(home: Home, *, exception_id: int, reason: str, by: str) -> dict:
    """Revoke an exception granted by mistake: it stays on record, revoked, and counts no more.

    The files it made count are late again for the stage's next run. Refused once the stage of its
    year is published (the decisions taken with it stand), and for one already revoked.
    """
    reason, by = _text(reason, "--reason"), _text(by, "--by", 64)
    prog, reg = home.programme, home.register
    with session(home.db_url) as s:
        x = s.get(m.DeadlineException, exception_id)
        if x is None:
            raise ConfigError(f"--id {exception_id}：没有这一编号的期限例外")
        if x.revoked_at is not None:
            raise ConfigError(f"期限例外 {exception_id} 已于 {_iso(x.revoked_at, prog.tz)} 由 {x.revoked_by} 撤销")
        if _published(s, x.year, x.stage):
            raise StageError(
                f"{x.year}年度{_stage_cn(home, x.stage)}已经发布（适用了期限例外 {exception_id}），不能再撤销"
            )
        x.revoked_at, x.revoked_by, x.revoke_reason = clock.now(), by, reason
        s.flush()
        out = as_dict(x, prog.tz)
        awaiting = _awaiting(s, x.year, x.stage)
    out["name"] = reg.name(out["adcode"]) if out["adcode"] else ""
    out["note"] = _after_note(home, awaiting, out["stage"], out["year"])
    return out
