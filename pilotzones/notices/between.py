"""The notices between evaluations (issue 14): the rectification reminder and overdue list, the
visit shortfall and the meeting invitation. Pure: facts in (`between_facts`), notices out; the
outbox keeps each once per identity, as every notice.
"""

from __future__ import annotations

import dataclasses

from pilotzones.notices.between_facts import MeetingCountFacts, MeetingFacts, RectificationFacts, VisitFacts
from pilotzones.notices.build import _Context
from pilotzones.notices.notice import Notice
from pilotzones.rules.visits import MeetingKind, shortfall


def rectification_reminders(facts: RectificationFacts) -> list[Notice]:
    """To each zone whose case due this year still owes its report, before the deadline."""
    ctx, at = _Context(facts), facts.at
    assert at is not None
    info = ctx.info
    out = []
    for c in facts.cases:
        if not c["state"].owing or c["overdue"] or c["deadline"] < at:
            continue
        z = c["adcode"]
        name = ctx.reg.name(z)
        out.append(
            ctx.notice(
                "rectification_reminder",
                facts.year,
                about=z,
                recipient=z,
                issued=at.date(),
                title=f"关于尽快报送{name}{c['card_year']}年度黄牌整改报告的通知",
                ref=str(c["id"]),
                data={
                    "about_name": name,
                    "card_year": c["card_year"],
                    "deadline": c["deadline"],
                    "returned": c["return_reason"] is not None,
                    "return_reason": c["return_reason"],
                    "months": ctx.prog.rules.rectification_months,
                    "zone_word": info.zone_name,
                },
            )
        )
    return out


def rectification_overdue(facts: RectificationFacts) -> list[Notice]:
    """To the commission: the cases due this year whose report is overdue, and those whose report came
    after the deadline (late, accepted for the case); none of either: no notice."""
    ctx, at = _Context(facts), facts.at
    assert at is not None
    overdue = [dict(c, county=ctx.reg.name(c["adcode"])) for c in facts.cases if c["overdue"]]
    late = [
        dict(c, county=ctx.reg.name(c["adcode"]), state_cn=c["state"].cn)
        for c in facts.cases
        if c.get("late") and not c["overdue"]
    ]
    if not overdue and not late:
        return []
    done = [
        dict(c, county=ctx.reg.name(c["adcode"]), state_cn=c["state"].cn)
        for c in facts.cases
        if not c["overdue"] and not c.get("late")
    ]
    return [
        ctx.to_commission(
            "rectification_overdue",
            facts.year,
            issued=at.date(),
            title=f"关于{facts.year}年黄牌整改逾期情况的报告",
            data={
                "overdue": overdue,
                "late": late,
                "others": done,
                "at": at,
                "effect": ctx.prog.rules.rectification_overdue_effect,
                "points": f"{ctx.prog.rules.rectification_overdue_points:g}",
            },
        )
    ]


def visit_shortfalls(facts: VisitFacts) -> list[Notice]:
    """To the expert group of each pilot short of the yearly minimum, its leader in charge copied
    (the commission when the programme names neither)."""
    ctx, at = _Context(facts), facts.at
    assert at is not None
    guidance = ctx.prog.guidance
    minimum = guidance.visits_per_year
    counts = {z: len(v) for z, v in facts.visits.items()}
    out = []
    for z, n in shortfall(facts.zones, counts, minimum):
        group, leader = guidance.of(z)
        recipient = group.id if group else ctx.info.region_code
        name = ctx.reg.name(z)
        notice = ctx.notice(
            "visit_shortfall",
            facts.year,
            about=z,
            recipient=recipient,
            issued=at.date(),
            title=f"关于{name}{facts.year}年度专家指导调研次数不足的提示",
            data={
                "about_name": name,
                "visits": facts.visits.get(z, []),
                "count": n,
                "minimum": minimum,
                "group": None if group is None else {"name": group.name, "placeholder": group.placeholder},
                "leader": None if leader is None else {"name": leader.name, "placeholder": leader.placeholder},
                "year_end": f"{facts.year}年12月31日",
            },
        )
        cc = (leader.id,) if leader else ()
        out.append(
            dataclasses.replace(notice, cc=cc, data={**notice.data, "cc_names": [leader.name] if leader else []})
        )
    return out


def meeting_shortfall(facts: MeetingCountFacts) -> list[Notice]:
    """To the commission, once a year on the visit check: the meetings held against the programme's
    yearly count, when fewer were held (none: no notice)."""
    ctx, at = _Context(facts), facts.at
    assert at is not None
    required = ctx.prog.guidance.meetings_per_year
    held = len(facts.meetings)
    if held >= required:
        return []
    info = ctx.info
    return [
        ctx.to_commission(
            "meeting_shortfall",
            facts.year,
            issued=at.date(),
            title=f"关于{facts.year}年度{info.name}交流会议次数不足的提示",
            data={
                "required": required,
                "held": held,
                "meetings": [dict(mt, kind_cn=MeetingKind(mt["kind"]).cn) for mt in facts.meetings],
                "year_end": f"{facts.year}年12月31日",
            },
        )
    ]


def meeting_invitations(facts: MeetingFacts) -> list[Notice]:
    """To every pilot and candidate zone of the meeting's year, each copying its prefecture."""
    ctx = _Context(facts)
    mt = facts.meeting
    kind = MeetingKind(mt["kind"])
    info = ctx.info
    title = f"关于参加{facts.year}年度{info.name}{kind.cn}的通知"
    out = []
    for z, role in [
        *((a, info.zone_name) for a in facts.pilots),
        *((a, info.candidate_name) for a in facts.candidates),
    ]:
        out.append(
            ctx.notice(
                "meeting_invitation",
                facts.year,
                about=z,
                recipient=z,
                issued=mt["recorded_on"],
                title=title,
                ref=str(mt["id"]),
                email_hint=facts.email_hints.get(z),
                data={
                    "about_name": ctx.reg.name(z),
                    "role": role,
                    "held_on": mt["held_on"],
                    "place": mt["place"],
                    "kind_cn": kind.cn,
                },
            )
        )
    return out
