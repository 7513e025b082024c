"""公示 notices: the draft result to each zone and the draft summary to the commission (marked 公示稿),
and the answer to each objection. Pure, like `build`: facts in, notices out.

A draft's identity carries its revision (`ref` = "r1", "r2", ...): the first goes to every zone; a
rebuild that moves the card line sends the next revision to the zones it moved, and the summary.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from pilotzones.notices.build import _card_line, _Context, _score_sheet
from pilotzones.notices.load import EvaluationFacts, Facts
from pilotzones.notices.notice import Notice

if TYPE_CHECKING:
    from pilotzones.store.home import Home


def _line(r: dict, carded_best: float | None, safe_lowest: float | None) -> dict:
    if r["yellow_card"]:
        gap = None if safe_lowest is None else round(safe_lowest - r["total"], 6)
        return {"carded": True, "gap": gap, "reference": safe_lowest}
    gap = None if carded_best is None else round(r["total"] - carded_best, 6)
    return {"carded": False, "gap": gap, "reference": carded_best}


def draft_notices(
    facts: EvaluationFacts,
    *,
    opened: datetime,
    closes: datetime,
    revision: int = 1,
    only: Collection[str] | None = None,
    upheld: list[dict] | None = None,
) -> list[Notice]:
    """evaluation_draft to each zone (`only`: those a rebuild moved across the card line) and
    evaluation_draft_summary to the commission; the window's end in programme time."""
    year, proposal = facts.year, facts.proposal
    assert proposal is not None
    ctx = _Context(facts)
    info, tz = ctx.info, ctx.prog.tz
    opened, closes = opened.astimezone(tz), closes.astimezone(tz)
    issued = opened.date()
    ranking = [r.model_dump(mode="json") for r in proposal.ranking]
    carded_best, safe_lowest = _card_line(ranking)
    ref = f"r{revision}"
    window = {"opened": opened, "closes": closes, "revision": revision}
    out: list[Notice] = []
    for r in ranking:
        z = r["adcode"]
        if only is not None and z not in only:
            continue
        sheet = _score_sheet(ctx, facts.points.get(z, {}), facts.counts.get(r.get("submission_id") or -1, {}))
        row = {**r, "evaluated": proposal.evaluated, "line": _line(r, carded_best, safe_lowest)}
        name = r.get("county") or ctx.reg.name(z)
        again = "（更新）" if revision > 1 else ""
        out.append(
            ctx.notice(
                "evaluation_draft",
                year,
                about=z,
                recipient=z,
                issued=issued,
                ref=ref,
                title=f"关于{name}{year}年度{info.zone_name}监测评价结果（公示稿）{again}的通知",
                email_hint=facts.email_hints.get(z),
                data={"about_name": name, "r": row, "window": window, **sheet},
            )
        )
    out.append(
        ctx.to_commission(
            "evaluation_draft_summary",
            year,
            issued=issued,
            ref=ref,
            title=f"关于{year}年度{info.name}监测评价结果（公示稿）{'（更新）' if revision > 1 else ''}的报告",
            data={
                "ranking": ranking,
                "evaluated": proposal.evaluated,
                "carded": [x for x in ranking if x["yellow_card"]],
                "disqualified": [{"adcode": z, "county": ctx.reg.name(z)} for z in proposal.disqualified],
                "promoted": [{"adcode": p.adcode, "county": p.county} for p in proposal.promoted],
                "window": window,
                "moved": [f"{ctx.reg.name(a)}（{a}）" for a in sorted(only)] if only is not None else [],
                "upheld": upheld or [],
            },
        )
    )
    return out


def objection_answer_notice(facts: Facts, year: int, objection: dict) -> Notice:
    """The answer to one objection, to the zone that sent it (cc its prefecture): upheld with the
    values corrected, dismissed with the reason, or received outside the window and not heard."""
    ctx = _Context(facts)
    tz = ctx.prog.tz
    z = objection["adcode"]
    name = ctx.reg.name(z)
    received = datetime.fromisoformat(objection["received_at"]).astimezone(tz)
    answered = objection.get("answered_at")
    issued = (datetime.fromisoformat(answered).astimezone(tz) if answered else received).date()
    closes = objection.get("closes_at")
    sender = objection.get("sender") or z
    notice = ctx.notice(
        "objection_answer",
        year,
        about=z,
        recipient=sender,
        issued=issued,
        ref=str(objection["id"]),
        title=f"关于{name}对{year}年度{ctx.info.zone_name}监测评价结果（公示稿）所提异议的答复",
        data={
            "about_name": name,
            "o": objection,
            "received": received,
            "closes": datetime.fromisoformat(closes).astimezone(tz) if closes else None,
            "by_prefecture": sender != z,
        },
    )
    if sender in notice.cc:  # the prefecture objected for its zone: it is the addressee, not a copy
        notice = replace(notice, cc=(), data={**notice.data, "cc_names": []})
    return notice


def answer_notice(home: Home, objection_id: int) -> Notice:
    """The answer to (or the late receipt of) one objection, read from the record (like `load`)."""
    from pilotzones.store import ledger, objections
    from pilotzones.store.session import session

    tz = home.programme.tz
    with session(home.db_url) as s:
        o = objections.get(s, objection_id)
        assert o is not None
        listed = (objections.as_json(s, o.stage, o.year, tz) or {"objections": []})["objections"]
        data = next(x for x in listed if x["id"] == o.id)
        w = objections.window(s, o.stage, o.year)
        data["closes_at"] = None if w is None else ledger.utc(w.closes_at).astimezone(tz).isoformat()
        year = o.year
    return objection_answer_notice(Facts.of(home, year), year, data)
