"""Turn what a stage decided into notices: plain data for the templates, one Notice per recipient.

Pure: each builder takes the facts `load` gathered from the database and returns notices, with no
session and no file. `outbox.queue` numbers, renders and keeps what these return.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pilotzones.notices.directory import Directory, valid_email
from pilotzones.notices.kinds import CALL_KINDS
from pilotzones.notices.kinds import kind as kind_of
from pilotzones.notices.load import CallFacts, CandidateFacts, EvaluationFacts, Facts, RejectionFacts
from pilotzones.notices.notice import Notice
from pilotzones.notices.render import add_months
from pilotzones.rules import file_kinds
from pilotzones.rules.clauses import in_words


def check_call_kind(kind: str) -> None:
    if kind not in CALL_KINDS:
        raise ValueError(f"{kind!r} is not a call or reminder; one of {', '.join(CALL_KINDS)}")


class _Context:
    """What every builder needs once: programme, register, directory."""

    def __init__(self, facts: Facts) -> None:
        self.prog = facts.prog
        self.info = facts.prog.programme
        self.reg = facts.reg
        self.directory = Directory(self.prog, self.reg)

    def issued(self, moment: str, year: int) -> date:
        return self.prog.moment(moment, year).date()

    def notice(
        self,
        kind: str,
        year: int,
        *,
        about: str,
        recipient: str,
        issued: date,
        title: str,
        data: dict,
        ref: str = "",
        email_hint: str | None = None,
    ) -> Notice:
        """A notice with the data every template shows (addressee, authority, date, copies)."""
        cc = (self.prog.prefecture_of(about),) if kind_of(kind).cc_prefecture else ()
        common = {
            "kind": kind,
            "year": year,
            "title": title,
            "addressee": self.directory.name(recipient),
            "authority": self.info.authority,
            "programme": self.info.name,
            "zone_name": self.info.zone_name,
            "candidate_name": self.info.candidate_name,
            "prefecture_name": self.info.prefecture_name,
            "withdrawal_name": self.info.withdrawal,
            "region_name": self.info.region_name,
            "issued": issued,
            "cc_names": [self.directory.name(a) for a in cc],
        }
        return Notice(
            year=year,
            kind=kind,
            about=about,
            recipient=recipient,
            issued=issued,
            data={**common, **data},
            ref=ref,
            cc=cc,
            email_hint=valid_email(email_hint),
        )

    def to_commission(self, kind: str, year: int, *, issued: date, title: str, data: dict, ref: str = "") -> Notice:
        """A notice to the regional commission about the whole programme (a summary, a list, a count)."""
        region = self.info.region_code
        data = {"about_name": self.info.region_name, **data}
        return self.notice(kind, year, about=region, recipient=region, issued=issued, title=title, data=data, ref=ref)


# -- calls and reminders -------------------------------------------------------------------------


def call_notices(facts: CallFacts) -> list[Notice]:
    """A call to everyone concerned, or a reminder to those who still owe their file.

    nomination_*: every prefecture; the reminder skips prefectures with an accepted on-time
    nomination file. evaluation_*: every pilot zone of `year`; the reminder skips zones with an
    accepted on-time evaluation file.
    """
    kind, year = facts.kind, facts.year
    check_call_kind(kind)
    ctx = _Context(facts)
    reminder = kind.endswith("_reminder")
    issued = ctx.issued(kind, year)
    targets, heard = facts.targets, facts.heard
    if kind.startswith("nomination"):
        deadline = ctx.prog.moment("nomination_deadline", year)
        title = (
            f"关于尽快报送{year}年度{ctx.info.candidate_name}推荐材料的通知"
            if reminder
            else f"关于推荐{year}年度{ctx.info.candidate_name}的通知"
        )
        extra = {"deadline": deadline, "slots": ctx.prog.rules.candidate_slots}
    else:
        deadline = ctx.prog.moment("evaluation_deadline", year)
        title = (
            f"关于尽快报送{year}年度{ctx.info.zone_name}监测评价数据的通知"
            if reminder
            else f"关于报送{year}年度{ctx.info.zone_name}监测评价数据的通知"
        )
        extra = {
            "deadline": deadline,
            "categories": [{"name": c.name, "max": c.max} for c in ctx.prog.rubric.scored],
            "base_max": ctx.prog.rubric.base_max,
            "bonus_cap": ctx.prog.rubric.bonus_cap,
        }
    return [
        ctx.notice(
            kind,
            year,
            about=a,
            recipient=a,
            issued=issued,
            title=title,
            data={**extra, "about_name": ctx.reg.name(a)},
            # A promoted county may not be in the directory yet: its nomination gave an address.
            email_hint=facts.email_hints.get(a),
        )
        for a in targets
        if a not in heard
    ]


# -- rejected files ------------------------------------------------------------------------------


def submission_rejected_notice(facts: RejectionFacts) -> Notice | None:
    """The rejection of one file to its sender, listing every error by row and key.

    Returns None when the file did not even say who sent it (unreadable, or a review sheet):
    there is no one to address, and `submit` reports the errors to the operator itself.
    """
    sender, year, kind, received, deadline = facts.sender, facts.year, facts.kind, facts.received, facts.deadline
    if not sender:
        return None
    assert received is not None
    ctx = _Context(facts)
    what = file_kinds.noun(kind).format(**ctx.info.words())
    name = ctx.reg.name(sender)
    return ctx.notice(
        "submission_rejected",
        year,
        about=sender,
        recipient=sender,
        issued=received.date(),
        title=f"关于{name}报送的{year}年度{what}未通过审核的通知",
        ref=str(facts.submission_id),
        data={
            "about_name": name,
            "what": what,
            "filename": facts.filename,
            "received": received,
            # Each error's rule in words a clerk can look up, not the contract's clause code.
            "errors": [dict(e, rule_words=in_words(e.get("rule") or "", ctx.info.document)) for e in facts.errors],
            # A capped list (limits.listed_errors) ends with a line counting the errors left out.
            "error_total": sum(e.get("omitted") or 1 for e in facts.errors),
            "deadline": deadline,
            "still_open": deadline is None or received <= deadline,
        },
    )


# -- candidate selection -------------------------------------------------------------------------


def candidate_notices(facts: CandidateFacts) -> list[Notice]:
    """nomination_rejected to each prefecture with nominations that did not make the list;
    candidate_selection to every nominating prefecture and every selected county."""
    year, proposal = facts.year, facts.proposal
    assert proposal is not None
    ctx = _Context(facts)
    issued = ctx.issued("candidate_selection", year)
    reg = ctx.reg
    selected = [
        {
            "rank": c.rank,
            "adcode": c.adcode,
            "county": c.county or reg.name(c.adcode),
            "prefecture": c.prefecture or ctx.prog.prefecture_of(c.adcode),
            "prefecture_name": reg.name(c.prefecture or ctx.prog.prefecture_of(c.adcode)),
            "review_score": c.review_score,
        }
        for c in proposal.selected
    ]
    by_pref: dict[str, list[dict]] = {}
    for r in proposal.rejected:
        if r.prefecture:
            by_pref.setdefault(r.prefecture, []).append(
                {"adcode": r.adcode, "county": reg.name(r.adcode), "reason": r.reason, "row": r.row}
            )
    nominating = sorted({c.prefecture for c in proposal.selected if c.prefecture} | set(by_pref))
    # The list notice names the deadline exceptions the selection applied: the list is only fair if
    # every prefecture can see who was given more time.
    exceptions = _exceptions(ctx, proposal.exceptions, reg.name)
    common = {"candidates": selected, "slots": ctx.prog.rules.candidate_slots, "exceptions": exceptions}
    out: list[Notice] = []
    for pref in sorted(by_pref):
        name = reg.name(pref)
        out.append(
            ctx.notice(
                "nomination_rejected",
                year,
                about=pref,
                recipient=pref,
                issued=issued,
                title=f"关于{name}{year}年度{ctx.info.candidate_name}推荐审核结果的通知",
                data={**common, "about_name": name, "rejected": by_pref[pref]},
            )
        )
    title = f"关于公布{year}年度{ctx.info.candidate_name}名单的通知"
    for pref in nominating:
        own = [c for c in selected if c["prefecture"] == pref]
        out.append(
            ctx.notice(
                "candidate_selection",
                year,
                about=pref,
                recipient=pref,
                issued=issued,
                title=title,
                data={**common, "about_name": reg.name(pref), "own": own, "you": None},
            )
        )
    for c, row in zip(proposal.selected, selected, strict=True):
        out.append(
            ctx.notice(
                "candidate_selection",
                year,
                about=c.adcode,
                recipient=c.adcode,
                issued=issued,
                title=title,
                email_hint=c.contact_email,
                data={**common, "about_name": row["county"], "own": [], "you": row},
            )
        )
    return out


# -- the evaluation -----------------------------------------------------------------------------


def _count(value: str | None) -> int:
    try:
        return int(float(value or 0))
    except ValueError:
        return 0


def _score_sheet(ctx: _Context, points: dict[int, tuple[float, str]], counts: dict[str, str]) -> dict:
    """Per category: points against the maximum and the items not reported; the bonus and why."""
    rubric = ctx.prog.rubric
    categories = []
    lost_items: list[dict[str, Any]] = []
    for c in rubric.scored:
        got = sum(points.get(i.id, (0.0, ""))[0] for i in c.items)
        missing = [f"{i.id}.{i.name}" for i in c.items if points.get(i.id, (0, ""))[1]]
        categories.append({"name": c.name, "max": c.max, "points": round(got, 6), "missing": missing})
        # Item by item, what the zone lost: what "请对照失分指标整改" points to.
        for i in c.items:
            earned, flag = points.get(i.id, (0.0, ""))
            if i.weight and earned < i.weight:
                lost_items.append(
                    {
                        "id": i.id,
                        "name": i.name,
                        "category": c.name,
                        "max": i.weight,
                        "points": earned,
                        "lost": round(i.weight - earned, 6),
                        "flag": flag,
                    }
                )
    bonus_items: list[dict[str, Any]] = []
    for item in rubric.bonus_items:
        reasons = item.reasons(lambda key: _count(counts.get(key)))
        bonus_items.append(
            {
                "id": item.id,
                "name": item.name,
                "points": points.get(item.id, (0.0, ""))[0],
                "reasons": reasons,
            }
        )
    return {
        "categories": categories,
        "lost_items": lost_items,
        "lost_total": round(sum(x["lost"] for x in lost_items), 6),
        "bonus_items": bonus_items,
        "bonus_uncapped": round(sum(b["points"] for b in bonus_items), 6),
        "base_max": rubric.base_max,
        "bonus_cap": rubric.bonus_cap,
    }


def _card_line(ranking: list[dict]) -> tuple[float | None, float | None]:
    """(best total among carded zones, lowest total among zones not carded)."""
    carded = [r["total"] for r in ranking if r["yellow_card"]]
    safe = [r["total"] for r in ranking if not r["yellow_card"]]
    return (max(carded) if carded else None, min(safe) if safe else None)


def _exceptions(ctx: _Context, exceptions: list[dict], name) -> list[dict]:
    """The deadline exceptions a stage applied, as its notices list them."""
    tz = ctx.prog.tz

    def moment(text: str | None) -> datetime | None:
        return None if not text else datetime.fromisoformat(text).astimezone(tz)

    return [
        {
            "adcode": x["adcode"],
            "county": name(x["adcode"]),
            "kind": x["kind"],
            "until": moment(x.get("until")),
            "submission_id": x.get("submission_id"),
            "reason": x["reason"],
            "granted_by": x["granted_by"],
            "granted_at": moment(x["granted_at"]),
            "counted": x.get("counted_submissions", []),
        }
        for x in exceptions
    ]


def _publicity(ctx: _Context, publicity: dict | None, name) -> dict | None:
    """公示 as the summary notice records it: the window and every objection with its answer."""
    if not publicity or not publicity.get("window"):
        return None
    from pilotzones.rules.publicity import ObjectionState

    tz = ctx.prog.tz
    w = publicity["window"]

    def moment(text: str) -> datetime:
        return datetime.fromisoformat(text).astimezone(tz)

    return {
        "window": {
            "opened": moment(w["opened_at"]),
            "closes": moment(w["closes_at"]),
            "days": w["days"],
            "day_kind": w["day_kind"],
        },
        "objections": [
            dict(o, county=name(o["adcode"]), received=moment(o["received_at"]), state_cn=ObjectionState(o["state"]).cn)
            for o in publicity.get("objections", [])
        ],
    }


def evaluation_notices(facts: EvaluationFacts) -> list[Notice]:
    """evaluation_result to every evaluated zone, yellow_card, disqualification and promotion
    to the zones concerned, and evaluation_summary to the regional commission."""
    # Here, not at the top: scoring brings numpy, which `status` (the outbox counts) never needs.
    from pilotzones.rules.scoring import NOT_ON_TIME

    year, proposal = facts.year, facts.proposal
    assert proposal is not None
    ctx = _Context(facts)
    reg, rules, info = ctx.reg, ctx.prog.rules, ctx.info
    issued = ctx.issued("evaluation", year)
    # The rows go into the templates as they are stored.
    ranking = [r.model_dump(mode="json") for r in proposal.ranking]
    n = proposal.evaluated
    names = {r["adcode"]: r.get("county") or reg.name(r["adcode"]) for r in ranking}

    def name(adcode: str) -> str:
        # The name the evaluation recorded; the register's for counties outside the ranking.
        return names.get(adcode) or reg.name(adcode)

    points, counts = facts.points, facts.counts
    carded_best, safe_lowest = _card_line(ranking)
    rectify_by = add_months(issued, rules.rectification_months)
    history = {z: set(y) for z, y in proposal.card_history.items()}
    replaced_by = {p.replaces: p for p in proposal.promoted}
    out: list[Notice] = []
    for r in ranking:
        z = r["adcode"]
        sheet = _score_sheet(ctx, points.get(z, {}), counts.get(r.get("submission_id") or -1, {}))
        if r["yellow_card"]:
            line = {
                "carded": True,
                "gap": None if safe_lowest is None else round(safe_lowest - r["total"], 6),
                "reference": safe_lowest,
            }
        else:
            line = {
                "carded": False,
                "gap": None if carded_best is None else round(r["total"] - carded_best, 6),
                "reference": carded_best,
            }
        row = {**r, "county": name(z), "evaluated": n, "line": line}
        out.append(
            ctx.notice(
                "evaluation_result",
                year,
                about=z,
                recipient=z,
                issued=issued,
                title=f"关于{name(z)}{year}年度{info.zone_name}监测评价结果的通知",
                email_hint=facts.email_hints.get(z),
                data={"about_name": name(z), "r": row, **sheet},
            )
        )
        if r["yellow_card"]:
            weakest = sorted(sheet["categories"], key=lambda c: (c["points"] / c["max"]) if c["max"] else 1)[:3]
            prior = sorted(y for y in history.get(z, set()) if y < year)
            out.append(
                ctx.notice(
                    "yellow_card",
                    year,
                    about=z,
                    recipient=z,
                    issued=issued,
                    title=f"关于对{name(z)}{info.zone_name}亮黄牌并限期整改的通知",
                    email_hint=facts.email_hints.get(z),
                    data={
                        "about_name": name(z),
                        "r": row,
                        "rectify_by": rectify_by,
                        "months": rules.rectification_months,
                        "weakest": weakest,
                        "prior_cards": prior,
                        "cards_to_disqualify": rules.consecutive_cards_to_disqualify,
                        "disqualified_now": z in proposal.disqualified,
                    },
                )
            )
    for z in proposal.disqualified:
        rep = replaced_by.get(z)
        out.append(
            ctx.notice(
                "disqualification",
                year,
                about=z,
                recipient=z,
                issued=issued,
                title=f"关于取消{name(z)}{info.zone_name}资格的通知",
                email_hint=facts.email_hints.get(z),
                data={
                    "about_name": name(z),
                    "card_years": sorted(history.get(z, set()) | {year}),
                    "replacement": None
                    if rep is None
                    else {"adcode": rep.adcode, "county": rep.county or reg.name(rep.adcode)},
                    "last_year": year,
                    "next_year": year + 1,
                },
            )
        )
    for p in proposal.promoted:
        a = p.adcode
        county = p.county or reg.name(a)
        out.append(
            ctx.notice(
                "promotion",
                year,
                about=a,
                recipient=a,
                issued=issued,
                title=f"关于{county}递补为{info.zone_name}的通知",
                email_hint=facts.email_hints.get(a),
                data={
                    "about_name": county,
                    "replaces": {"adcode": p.replaces, "county": name(p.replaces)},
                    "first_year": year + 1,
                },
            )
        )
    summary_rows = [{**r, "county": name(r["adcode"])} for r in ranking]
    out.append(
        ctx.to_commission(
            "evaluation_summary",
            year,
            issued=issued,
            title=f"关于{year}年度{info.name}监测评价结果及动态调整情况的通知",
            data={
                "ranking": summary_rows,
                "evaluated": n,
                "carded": [x for x in summary_rows if x["yellow_card"]],
                # A zone disqualified by this card has no rectification ahead of it.
                "rectifying": [
                    x for x in summary_rows if x["yellow_card"] and x["adcode"] not in proposal.disqualified
                ],
                "carded_out": [x for x in summary_rows if x["yellow_card"] and x["adcode"] in proposal.disqualified],
                "disqualified": [{"adcode": z, "county": name(z)} for z in proposal.disqualified],
                "promoted": [
                    {"adcode": p.adcode, "county": p.county or reg.name(p.adcode), "replaces": name(p.replaces)}
                    for p in proposal.promoted
                ],
                "vacant": [{"adcode": z, "county": name(z)} for z in proposal.vacant],
                "late": [{"adcode": z, "county": name(z)} for z in proposal.late],
                # Every zone the ranking flags: a late file, or no file at all (R7).
                "not_on_time": [
                    {"adcode": x["adcode"], "county": x["county"], "late": x["adcode"] in proposal.late}
                    for x in summary_rows
                    if NOT_ON_TIME in x["flags"]
                ],
                "exceptions": _exceptions(ctx, proposal.exceptions, name),
                "approval": facts.approval,
                "publicity": _publicity(ctx, proposal.publicity, name),
                "rectify_by": rectify_by,
                # Each carded zone's rectification case and its state (issue 14).
                "rectification": [
                    dict(
                        c,
                        county=name(c["adcode"]),
                        deadline=datetime.fromisoformat(c["deadline"]),
                        state_cn="本年度亮黄牌，已立案整改" if c["state"] == "opens" else c["state_cn"],
                        closes_as=c.get("closes_as"),
                    )
                    for c in proposal.rectification
                ],
            },
        )
    )
    return out
