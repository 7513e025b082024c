"""The candidate selection's workbook: every nomination and what became of it, and the list in force."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from pilotzones.reports.xlsx import workbook, write_row
from pilotzones.rules.decisions import DecisionState
from pilotzones.rules.proposal_models import CandidateSelection
from pilotzones.rules.selection import NOT_SELECTED


def write_candidate_report(home: Any, year: int) -> list[Path]:
    """Write `HOME/reports/Y/Y年度{candidate_name}遴选.xlsx` (none when the selection has not been run)."""
    from pilotzones.store import ledger
    from pilotzones.store import models as m
    from pilotzones.store.session import session

    prog, reg = home.programme, home.register
    tz = prog.tz
    with session(home.db_url) as s:
        d = ledger.decision(s, year, "candidates")
        if d is None:
            return []
        state, p = d.state, CandidateSelection.from_stored(d.proposal)
        ids = {x.submission_id for x in p.selected} | {x.submission_id for x in p.rejected}
        received = {
            i: ledger.utc(t).astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")
            for i, t in s.execute(select(m.Submission.id, m.Submission.received_at).where(m.Submission.id.in_(ids)))
        }
        # The review scores the stage read: accepted review sheets of the year, a later one replacing an earlier.
        reviews: dict[str, str] = {}
        q = (
            select(m.SubmissionValue.adcode, m.SubmissionValue.value)
            .join(m.Submission, m.Submission.id == m.SubmissionValue.submission_id)
            .where(m.Submission.kind == "review", m.Submission.year == year, m.Submission.status == "accepted")
            .where(m.SubmissionValue.key == "review_score")
            .order_by(m.Submission.received_at, m.Submission.id)
        )
        for adcode, value in s.execute(q):
            reviews[adcode] = value
        in_force = ledger.candidates_in_force(s, year)
        # Each nomination's reason, as the prefecture wrote it.
        said = {
            (sid, adcode): (extra or {}).get("reason") or ""
            for sid, adcode, extra in s.execute(
                select(m.SubmissionValue.submission_id, m.SubmissionValue.adcode, m.SubmissionValue.extra).where(
                    m.SubmissionValue.submission_id.in_(ids), m.SubmissionValue.key == "nomination"
                )
            )
        }
    cand = prog.programme.candidate_name
    from pilotzones.reports import report_paths

    (path,) = report_paths(home, year, "candidates")
    wb = workbook(path)
    head = wb.add_format({"bold": True, "bg_color": "#D9E1F2", "border": 1, "text_wrap": True})
    title = wb.add_format({"bold": True, "font_size": 14})
    chosen = wb.add_format({"bg_color": "#E2EFDA"})
    ws = wb.add_worksheet("推荐与审核")
    try:
        state_cn = DecisionState(state).cn
    except ValueError:
        state_cn = state
    ws.write_string(
        0, 0, f"{year}年度{cand}遴选（{state_cn}）：收到推荐{p.nominations}项，入选{len(p.selected)}个", title
    )
    header = [
        "行政区划代码",
        "县（市、区）",
        "推荐单位",
        "收到时间",
        "文件编号",
        "评审得分",
        "是否符合条件",
        "结果与理由",
        "推荐理由",
    ]
    write_row(ws, 2, header, head)
    n = 3
    for x in p.selected:
        row = [
            x.adcode,
            x.county,
            reg.name(x.prefecture),
            received.get(x.submission_id, ""),
            x.submission_id,
            x.review_score,
            "是",
            f"入选，第{x.rank}名",
            said.get((x.submission_id, x.adcode), ""),
        ]
        write_row(ws, n, row, chosen)
        n += 1
    for r in p.rejected:
        score = reviews.get(r.adcode)
        eligible = "是" if r.reason == NOT_SELECTED else "否"  # eligible, ranked below the slots
        row = [
            r.adcode,
            reg.name(r.adcode),
            reg.name(r.prefecture),
            received.get(r.submission_id, ""),
            r.submission_id,
            float(score) if score is not None else None,
            eligible,
            r.reason,
            said.get((r.submission_id, r.adcode), ""),
        ]
        write_row(ws, n, row)
        n += 1
    for col, width in enumerate([12, 16, 20, 20, 9, 9, 12, 40, 40]):
        ws.set_column(col, col, width)
    ws.freeze_panes(3, 0)
    ws2 = wb.add_worksheet(f"现行{cand}名单"[:31])  # Excel's limit on a sheet's name
    ws2.write_string(0, 0, f"{year}年度遴选后现行有效的{cand}名单（已替补入选的不再列出）", title)
    write_row(ws2, 2, ["名次", "行政区划代码", "县（市、区）", "评审得分", "遴选年度"], head)
    for k, c in enumerate(in_force, start=3):
        write_row(ws2, k, [c["rank"], c["adcode"], reg.name(c["adcode"]), c["review_score"], c["year"]])
    if not in_force:
        ws2.write_string(3, 0, f"无（尚未发布遴选结果，或{cand}已全部替补入选）")
    ws2.set_column(0, 4, 16)
    wb.close()
    return [path]
