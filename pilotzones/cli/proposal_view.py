"""What a stage decided, for the operator's terminal: the proposal a run asks approval for, or what was published."""

from __future__ import annotations

from collections.abc import Callable

from pilotzones.cli.status import _pad
from pilotzones.rules.proposal_models import CandidateSelection, EvaluationProposal, Proposal


def render_proposal(p: Proposal, name: Callable[[str], str] = str, words: dict[str, str] | None = None) -> str:
    """`name` gives a county's or prefecture's name by its code (the register's); `words` are the
    programme's (`Info.words()`), default the built-in programme's."""
    from pilotzones.rules.programme import Info

    words = words or Info.default_words()
    if isinstance(p, EvaluationProposal):
        return render_evaluation(p, name, words)
    if isinstance(p, CandidateSelection):
        return render_candidates(p, name, words)
    return ""


def render_evaluation(p: EvaluationProposal, name: Callable[[str], str], words: dict[str, str]) -> str:
    known = {r.adcode: r.county for r in p.ranking} | {x.adcode: x.county for x in p.promoted}
    names = _Names(known, name)
    out = [
        f"  {'名次':>4}  {'代码':<6}  {_pad('县（市、区）', 20)}{'基础分':>9}{'加分':>8}{'总分':>9}  黄牌  标注",
    ]
    for r in p.ranking:
        card = "亮黄牌" if r.yellow_card else ""
        out.append(
            f"  {r.rank:>4}  {r.adcode:<6}  {_pad(r.county, 20)}{r.base:>9g}{r.bonus:>8g}{r.total:>9g}  "
            f"{_pad(card, 6)}{' '.join(r.flags)}"
        )
    out.append(
        f"  亮黄牌：{p.carded}个"
        + (f"（{'、'.join(r.county for r in p.ranking if r.yellow_card)}）" if p.carded else "")
    )
    out.append(f"  {words['withdrawal']}：" + ("、".join(f"{names.get(a, a)}（{a}）" for a in p.disqualified) or "无"))
    out.append(
        "  替补："
        + ("、".join(f"{x.county}（{x.adcode}）替补{names.get(x.replaces, x.replaces)}" for x in p.promoted) or "无")
    )
    if p.vacant_seats:
        vacant = "、".join(names.get(a, a) for a in p.vacant)
        out.append(f"  空缺席位：{p.vacant_seats}（{vacant}，无{words['candidate']}可替）")
    if p.exceptions:
        out.append(f"  适用的期限例外：{len(p.exceptions)}项（见 status）")
    out += _rectification_lines(p, names)
    out += _publicity_lines(p.publicity)
    return "\n".join(out)


def _rectification_lines(p: EvaluationProposal, names: dict[str, str]) -> list[str]:
    """Each evaluated zone's rectification case and the cases this year's cards open (issue 14)."""
    if not p.rectification:
        return []
    out = ["  黄牌整改："]
    for c in p.rectification:
        who = f"{names.get(c['adcode'], c['adcode'])}（{c['adcode']}）"
        if c["state"] == "opens":
            out.append(f"    {who}：{c['card_year']}年度黄牌，{c['state_cn']}，期限{c['deadline'][:10]}")
            continue
        late = "，已逾期" if c["overdue"] else ""
        closes = "；发布后因取消资格结案" if c.get("closes_as") else ""
        out.append(f"    {who}：{c['card_year']}年度黄牌（事项 {c['id']}），{c['state_cn']}{late}{closes}")
    return out


def _publicity_lines(publicity: dict | None) -> list[str]:
    """公示, once published after it: the window and each objection's outcome."""
    if not publicity:
        return []
    from pilotzones.cli.status import _publicity_lines as lines

    return ["  公示及异议处理：", *(line[2:] for line in lines(publicity))]


def render_candidates(p: CandidateSelection, name: Callable[[str], str], words: dict[str, str]) -> str:
    cand = words["candidate"]
    out = [f"  收到推荐：{p.nominations}项；{cand}名单："]
    out += [
        f"    {x.rank}. {x.county}（{x.adcode}，{name(x.prefecture)}）评审得分 {_num(x.review_score)}"
        for x in p.selected
    ]
    if not p.selected:
        out.append(f"    无符合条件的推荐对象，原{cand}名单继续有效")
    if p.rejected:
        out.append("  不予计入的推荐：")
        out += [
            f"    {name(x.adcode)}（{x.adcode}，{name(x.prefecture)}推荐，文件 #{x.submission_id}）：{x.reason}"
            for x in p.rejected
        ]
    if p.unmatched_reviews:
        out.append("  评审表中没有对应推荐的县：" + "、".join(p.unmatched_reviews))
    return "\n".join(out)


class _Names(dict):
    """Names known from the proposal, else the register's."""

    def __init__(self, known: dict[str, str], name: Callable[[str], str]) -> None:
        super().__init__(known)
        self._name = name

    def get(self, key, default=None):  # type: ignore[override]
        return super().get(key) or self._name(key)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def stored_view(home, stage: str, year: int) -> str:
    """The decision of `stage` and `year` as stored (what `approve` published), rendered."""
    from pilotzones import stages
    from pilotzones.store import ledger
    from pilotzones.store.session import session

    with session(home.db_url) as s:
        d = ledger.decision(s, year, stage)
        stored = d.proposal if d is not None else None
    if stored is None:
        return ""
    words = home.programme.programme.words()
    return render_proposal(stages.get(stage).proposal.from_stored(stored), home.register.name, words)
