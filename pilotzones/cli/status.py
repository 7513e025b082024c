"""`status --year Y`: what the stages of a year decided, as the contract's JSON object."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from pilotzones.rules.decisions import DecisionState
from pilotzones.rules.proposal_models import CandidateSelection, EvaluationProposal
from pilotzones.store import deadlines, ledger, objections, proposals, runlog
from pilotzones.store.home import Home
from pilotzones.store.proposals import DECLINE_FLOW
from pilotzones.store.session import session
from pilotzones.store.tracker import tracker

_RANK_FIELDS = ("adcode", "county", "base", "bonus", "total", "rank", "yellow_card", "flags")


def year_status(home: Home, year: int, at: datetime | None = None) -> dict:
    """`at`: the moment rectification cases are judged overdue (default now)."""
    with session(home.db_url) as s:
        ev = ledger.decision(s, year, "evaluation")
        cand = ledger.decision(s, year, "candidates")
        published = ev is not None and ev.state == DecisionState.PUBLISHED
        pilots = ledger.pilots_after(s, year) if published else ledger.pilots_for(s, year)
        # Beyond the contract's keys: deadline exceptions granted for the year, and each stage's last run.
        exceptions = deadlines.for_year(s, year, home.programme.tz)
        runs = runlog.last_runs(s, year, home.programme.tz)
        # Beyond the contract's keys: each stage's verdict (who approved or declined, when, how).
        tz = home.programme.tz
        approvals = {
            stage: proposals.approval_json(proposals.last_approval(s, d), tz) if d is not None else None
            for stage, d in (("evaluation", ev), ("candidates", cand))
        }
        # Beyond the contract's keys: 公示, its window and every objection with its state and answer.
        publicity = objections.as_json(s, "evaluation", year, tz)
        # Beyond the contract's keys: every file received per expected sender, and who has none that counts.
        reg = home.register
        evaluated = ledger.pilots_for(s, year)
        submissions = {
            "evaluation": tracker(s, "evaluation", year, evaluated, reg.name, tz),
            "nomination": tracker(s, "nomination", year, list(reg.prefectures), reg.name, tz),
        }
    evaluation: dict = {
        "state": DecisionState.NOT_RUN.value,
        "ranking": [],
        "disqualified": [],
        "promoted": [],
        "vacant_seats": 0,
    }
    if ev is not None:
        p = EvaluationProposal.from_stored(ev.proposal)
        evaluation = {
            "state": ev.state,
            "ranking": [{k: getattr(r, k) for k in _RANK_FIELDS} for r in p.ranking],
            "disqualified": list(p.disqualified),
            "promoted": [{"adcode": x.adcode, "replaces": x.replaces} for x in p.promoted],
            "vacant_seats": p.vacant_seats,
        }
    evaluation["approval"] = approvals["evaluation"]
    evaluation["publicity"] = publicity
    candidates: dict = {"state": DecisionState.NOT_RUN.value, "selected": [], "rejected": []}
    if cand is not None:
        c = CandidateSelection.from_stored(cand.proposal)
        candidates = {
            "state": cand.state,
            "selected": [{k: getattr(x, k) for k in ("adcode", "county", "rank", "review_score")} for x in c.selected],
            "rejected": [{"adcode": x.adcode, "reason": x.reason} for x in c.rejected],
        }
    candidates["approval"] = approvals["candidates"]
    from pilotzones.notices import outbox_counts

    # Beyond the contract's keys: the year's notices by delivery state (queued ones are unsent).
    notices = outbox_counts(home, year)
    from pilotzones.stages.between import year_json

    # Beyond the contract's keys (issue 14): rectification cases, expert visits, exchange meetings.
    between = year_json(home, year, at)
    return {
        "year": year,
        "evaluation": evaluation,
        "candidates": candidates,
        "pilots": pilots,
        "notices": notices,
        "exceptions": exceptions,
        "runs": runs,
        "submissions": submissions,
        **between,
    }


def _pad(text: str, width: int) -> str:
    """Left-justify by display width: a Chinese character takes two terminal columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


def _approval_line(a: dict) -> str:
    what = "批准" if a["verdict"] == "approved" else "拒绝"
    via = {"ui": "Prefect 界面", "cli": "命令行"}.get(a["via"], a["via"])
    line = f"{what}：{a['by']}，{a['at']}，{via}"
    return line + (f"，意见：{a['note']}" if a.get("note") else "")


# How a person at a terminal reads the stages, the run outcomes and the notice states (the JSON
# keeps the contract's English values). Programme-neutral: any programme's operators read these.
_ROUND_CN = {
    "nomination_call": "推荐通知",
    "nomination_reminder": "推荐提醒",
    "evaluation_call": "数据报送通知",
    "evaluation_reminder": "数据报送提醒",
    "deliver_notices": "通知发送",
    "rectification_reminder": "整改报告提醒",
    "rectification_overdue": "整改逾期名单",
    "visit_shortfall": "专家调研与交流会议次数检查",
}
_OUTCOME_CN = {"running": "运行中（或已中断）", "done": "完成", "failed": "失败", "busy": "未执行（另一运行正在进行）"}
_NOTICE_CN = {
    "queued": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "发送失败",
    "no_recipient": "无收件地址",
}


def _run_kind(stage: str, flow: str) -> str:
    """Which of a stage's runs a record is, for the table (its Prefect flow name stays in --json):
    nothing for the stage's own run, what else it was for an approval or a refusal."""
    from pilotzones import stages

    if stage in stages.names() and flow == stages.get(stage).flow_name("publish"):
        return "审批后发布，"
    return {DECLINE_FLOW: "命令行拒绝，"}.get(flow, "")


def _state_cn(state: str) -> str:
    try:
        return DecisionState(state).cn
    except ValueError:
        return _OUTCOME_CN.get(state, state)


def render_table(st: dict, words: dict[str, str] | None = None) -> str:
    """The same facts for a person at a terminal, in Chinese as the notices are; `words` are the
    programme's (`Info.words()`: its withdrawal), default the built-in programme's."""
    from pilotzones import stages
    from pilotzones.rules.programme import Info

    words = words or Info.default_words()

    def stage_cn(name: str) -> str:
        return stages.cn(name, words) if name in stages.names() else _ROUND_CN.get(name, name)

    ev = st["evaluation"]
    out = [f"{st['year']}年度", f"  {stage_cn('evaluation')}：{_state_cn(ev['state'])}"]
    if ev.get("approval"):
        out.append(f"    {_approval_line(ev['approval'])}")
    out += _publicity_lines(ev.get("publicity"))
    if ev["ranking"]:
        out.append(
            f"    {'排名':>4}  {'代码':<6}  {_pad('县（市、区）', 20)}{'基础分':>9}{'加分':>8}{'总分':>9}  黄牌  标注"
        )
        for r in ev["ranking"]:
            card = "是" if r["yellow_card"] else ""
            out.append(
                f"    {r['rank']:>4}  {r['adcode']:<6}  {_pad(r['county'], 20)}{r['base']:>9g}{r['bonus']:>8g}"
                f"{r['total']:>9g}  {_pad(card, 4)}  {'、'.join(r['flags'])}"
            )
        out.append(f"    {words['withdrawal']}：{'、'.join(ev['disqualified']) or '无'}")
        promoted = "、".join(f"{p['adcode']}（递补 {p['replaces']}）" for p in ev["promoted"])
        out.append(f"    递补：{promoted or '无'}")
        out.append(f"    空缺席位：{ev['vacant_seats']}")
    c = st["candidates"]
    out.append(f"  {stage_cn('candidates')}：{_state_cn(c['state'])}")
    if c.get("approval"):
        out.append(f"    {_approval_line(c['approval'])}")
    for x in c["selected"]:
        out.append(f"    {x['rank']}. {x['adcode']} {x['county']} 评审得分 {x['review_score']:g}")
    for x in c["rejected"]:
        out.append(f"    未计入：{x['adcode']} {x['reason']}")
    out.append(f"  本年度名单：{'、'.join(st['pilots'])}")
    counts = st.get("notices", {})
    out.append("  通知：" + ("，".join(f"{_NOTICE_CN.get(k, k)} {v}" for k, v in counts.items() if v) or "无"))
    exceptions = st.get("exceptions", [])
    out.append("  报送期限例外：" + ("" if exceptions else "无"))
    for x in exceptions:
        what = f"延期至 {x['until']}" if x["kind"] == "extension" else f"认可逾期文件 {x['submission_id']}"
        stage = stage_cn(x["stage"])
        line = f"    #{x['id']} {stage} {x['adcode']}：{what}；{x['granted_by']}于{x['granted_at']}登记"
        line += f"；理由：{x['reason']}"
        if x.get("revoked_at"):
            line += f"；已撤销（{x['revoked_by']}，{x['revoked_at']}）：{x['revoke_reason']}"
        out.append(line)
    runs = st.get("runs", {})
    out.append("  最近运行：" + ("" if runs else "无"))
    for stage, r in runs.items():
        when = r["finished_at"] or r["started_at"]
        line = f"    {stage_cn(stage)}：{_state_cn(r['outcome'])}（{_run_kind(stage, r['flow'])}{when}）"
        if r.get("message"):
            line += f"：{r['message']}"
        early = (r.get("counts") or {}).get("forced_early")
        if early:
            line += f"；截止时间 {early['deadline']} 之前提前运行（{early['by']}）：{early['reason']}"
        out.append(line)
    out += render_submissions(st.get("submissions", {}))
    out += render_between(st)
    return "\n".join(out)


def render_between(st: dict) -> list[str]:
    """Rectification cases, visits per pilot against the minimum, and the year's meetings."""
    from pilotzones.rules.visits import MeetingKind

    out: list[str] = []
    rect = st.get("rectification")
    if rect and rect["cases"]:
        late_reports = rect.get("late_reports", 0)
        also = f"，逾期报送{late_reports}" if late_reports else ""
        out.append(f"  黄牌整改：{len(rect['cases'])}项，未结案{rect['open']}，逾期{rect['overdue']}{also}")
        for c in rect["cases"]:
            late = "，已逾期" if c["overdue"] else ("，逾期报送" if c.get("late_report") else "")
            out.append(
                f"    #{c['id']} {c['adcode']} {c['card_year']}年度黄牌 期限{c['deadline'][:10]}：{c['state_cn']}{late}"
            )
    v = st.get("visits")
    if v and v["zones"]:
        short = [z for z in v["zones"] if z["short"]]
        line = "、".join(f"{z['adcode']}（{z['visits']}次）" for z in short) or "无"
        out.append(f"  专家调研：每年不少于{v['minimum']}次；未达到的：{line}")
    mt = st.get("meetings")
    if mt:
        out.append(f"  交流会议：应开{mt['required']}次，已登记{mt['held']}次")
        for x in mt["meetings"]:
            kind = MeetingKind(x["kind"]).cn
            out.append(f"    #{x['id']} {x['date']} {x['place']}（{kind}）参会{len(x['attended'])}个")
    return out


def _publicity_lines(p: dict | None) -> list[str]:
    """公示: the window and each objection, its state and answer."""
    if not p:
        return []
    from pilotzones.rules.publicity import ObjectionState

    out = []
    w = p.get("window")
    if w:
        unit = "工作日" if w["day_kind"] == "working" else "自然日"
        out.append(f"    公示期：{w['opened_at']} 至 {w['closes_at']}（{w['days']}个{unit}）")
    for o in p["objections"]:
        keys = "、".join(i["key"] for i in o["items"])
        # The sender: the zone itself, or its prefecture objecting for it (the answer goes to the sender).
        sender = o.get("sender") or o["adcode"]
        line = (
            f"    异议 #{o['id']} {o['adcode']}（{o['received_at']}，提出单位 {sender}，指标 {keys}）："
            f"{ObjectionState(o['state']).cn}"
        )
        if o.get("answer"):
            line += f"；{o['answer']}"
        for a in o.get("amendments", []):
            line += f"；{a['key']} {a['old_value']}→{a['new_value']}"
        out.append(line)
    return out


_STATE_CN = {"counted": "已报送", "rejected_only": "仅有退回的文件", "late_only": "仅有逾期文件", "nothing": "尚未报送"}


def render_submissions(subs: dict) -> list[str]:
    """Per expected sender, each file received (id, time, outcome, the one that counts), and who is missing."""
    out: list[str] = []
    for kind, what in (("evaluation", "评价数据"), ("nomination", "推荐材料")):
        t = subs.get(kind)
        if not t or (kind == "nomination" and not any(r["files"] for r in t["senders"])):
            continue
        out.append(f"  {what}报送情况：应报{t['expected']}，有效{t['counted']}，缺{len(t['missing'])}")
        for r in t["senders"]:
            if kind == "nomination" and not r["files"]:
                continue
            out.append(f"    {r['adcode']} {_pad(r['name'], 20)}{_STATE_CN[r['state']]}")
            for f in r["files"]:
                if f["status"] == "rejected":
                    outcome = f"退回（{f['errors']}处错误）"
                else:
                    outcome = "逾期，不计入" if f["late"] else "已接收"
                mark = "  ← 计入" if f["counts"] else ""
                out.append(f"      #{f['id']} {f['received_at']} {outcome} {f['filename']}{mark}")
        if t["unknown_sender"]:
            ids = "、".join(f"#{f['id']}" for f in t["unknown_sender"])
            out.append(f"    无法识别报送单位的退回文件：{ids}")
        if t["missing"] and kind == "nomination":
            out.append(f"    尚未推荐：{'、'.join(r['name'] for r in t['senders'] if r['adcode'] in t['missing'])}")
    return out
