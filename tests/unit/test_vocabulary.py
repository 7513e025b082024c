"""A second programme speaks its own language (issue 11): every notice kind rendered for another
programme, its rubric view and its nomination suite carry its words and none of the built-in's."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from pilotzones.cli.rubric_view import rubric_json, rubric_table
from pilotzones.intake.suites import BUILDERS, load_suite
from pilotzones.notices import build, load, publicity
from pilotzones.notices.kinds import CALL_KINDS, KINDS
from pilotzones.notices.outbox import doc_number
from pilotzones.notices.render import render
from pilotzones.rules import programme, selection
from pilotzones.rules.proposal_models import (
    CandidateSelection,
    EvaluationProposal,
    NotCounted,
    Promotion,
    RankedZone,
    SelectedCandidate,
)
from pilotzones.rules.register import load_register

# What only the built-in programme says: its zone, candidate, prefecture and withdrawal words, its
# region, its document prefix and item 29's explanation.
BUILTIN_WORDS = ("试验区", "地（州、市）", "地(州、市)", "新疆", "自治区", "新卫", "乡村医生", "执业", "取消资格")

SECOND = """
[programme]
id = "sc-sfx"
name = "四川省基层卫生健康示范县"
zone_name = "示范县"
candidate_name = "后备示范县"
prefecture_name = "市（州）"
withdrawal_name = "撤销示范县称号"
region_code = "510000"
region_name = "四川省"
start_year = 2024
authority = "四川省卫生健康委员会"
authority_short = "省卫生健康委"
document_prefix = "川卫基层函"

[pilots]
initial = ["510181", "510184", "510129", "510321"]

[rules]
candidate_slots = 1
cards_per_year = 1
consecutive_cards_to_disqualify = 2
rectification_months = 3

[calendar]
nomination_call = "08-01 09:00:00"
nomination_reminder = "08-20 09:00:00"
nomination_deadline = "08-31 23:59:59"
candidate_selection = "09-05 09:00:00"
evaluation_call = "10-15 09:00:00"
evaluation_reminder = "11-01 09:00:00"
evaluation_deadline = "11-10 23:59:59"
evaluation = "11-20 09:00:00"

[rubric]
bonus_cap = 20

[[rubric.categories]]
id = 1
name = "组织保障"
max = 100

[[rubric.categories.items]]
id = 1
name = "领导机制"
weight = 60
rule = "assessed"

[[rubric.categories.items]]
id = 2
name = "家庭医生签约率提升"
weight = 40
rule = "share_growth"
numerator = "2.signed"
denominator = "2.residents"
min_growth = "11/10"
share_name = "家庭医生签约率"
pair_note = "签约人数不能多于常住人口数"

[[rubric.categories]]
id = 2
name = "加分"
max = 20
bonus = true

[[rubric.categories.items]]
id = 3
name = "经验推广"
rule = "per_count"
counts = [{ key = "3.province", name = "省级推广", points = 5 }]

[[rubric.categories.items]]
id = 4
name = "新增编制"
rule = "tiered_count"
key = "4"
tiers = [{ min = 10, points = 10 }, { min = 5, points = 4 }]

[[contacts]]
adcode = "510000"
name = "四川省卫生健康委员会基层处"
email = "jc@sc.example.org"
"""


def second_programme(tmp_path: Path) -> Path:
    f = tmp_path / "sichuan.toml"
    f.write_text(SECOND, encoding="utf-8")
    return f


@pytest.fixture(scope="module")
def prog(tmp_path_factory) -> programme.Programme:
    p = programme.load(second_programme(tmp_path_factory.mktemp("sc")))
    programme.check_places(p)
    return p


def _builtin_words_in(text: str) -> list[str]:
    return [w for w in BUILTIN_WORDS if w in text]


def _notices(prog: programme.Programme) -> list:
    reg = load_register("510000")
    year, zones = 2025, list(prog.pilots.initial)
    out = []
    for kind in CALL_KINDS:
        out += build.call_notices(load.CallFacts(prog, reg, year, kind, zones if "evaluation" in kind else ["510100"]))
    received = datetime(2025, 11, 12, 10, tzinfo=prog.tz)
    for kind in ("evaluation", "nomination"):
        errors = [{"row": 2, "key": "1", "rule": "R3", "message": "分值99超出范围：应在0到60之间。"}]
        facts = load.RejectionFacts(prog, reg, 7, "510181", year, kind, "f.csv", received, errors, received)
        out.append(build.submission_rejected_notice(facts))
    noms = [
        selection.Nomination(a, reg.name(a), pref, received, 9, row)
        for row, (a, pref) in enumerate([("510107", "510100"), ("510181", "510100"), ("510321", "510100")], 2)
    ]
    verdicts = selection.judge(noms, {"510107": 90.0}, reg, {"510181"}, set(), prog.programme.words())
    assert {v.reason for v in verdicts} == {None, "已是示范县", "不属于推荐的市（州）"}
    cand = CandidateSelection(
        year=year,
        selected=[
            SelectedCandidate(
                adcode="510107", county="武侯区", rank=1, review_score=90.0, prefecture="510100", submission_id=9
            )
        ],
        rejected=[
            NotCounted(
                adcode=v.nomination.adcode, reason=v.reason, prefecture="510100", submission_id=9, row=v.nomination.row
            )
            for v in verdicts
            if v.reason
        ],
    )
    out += build.candidate_notices(load.CandidateFacts(prog, reg, year, cand))
    ranking = [
        RankedZone(
            adcode=a,
            county=reg.name(a),
            base=b,
            bonus=0,
            total=b,
            rank=i + 1,
            yellow_card=i >= 2,
            flags=["未按时报送"] if b == 0 else [],
            below=3 - i,
            submission_id=None,
        )
        for i, (a, b) in enumerate(zip(zones, [90.0, 80.0, 50.0, 0.0], strict=True))
    ]
    ev = EvaluationProposal(
        year=year,
        evaluated=4,
        ranking=ranking,
        disqualified=["510321"],
        promoted=[Promotion(adcode="510107", replaces="510321", county="武侯区")],
        late=[],
        card_history={"510321": [2024]},
    )
    points = {a: {1: (r.total, ""), 2: (0.0, "未填报")} for a, r in zip(zones, ranking, strict=True)}
    facts = load.EvaluationFacts(prog, reg, year, ev, points, {}, {}, None)
    out += build.evaluation_notices(facts)
    # 公示: the drafts, a later draft to the zones a rebuild moved, and an answer to an objection.
    opened, closes = datetime(2024, 12, 31, 9, tzinfo=prog.tz), datetime(2025, 1, 8, 23, 59, 59, tzinfo=prog.tz)
    out += publicity.draft_notices(facts, opened=opened, closes=closes)
    out += publicity.draft_notices(facts, opened=opened, closes=closes, revision=2, only=[zones[1]])
    answer = {
        "id": 1,
        "adcode": zones[2],
        "received_at": "2025-01-03T10:00:00+08:00",
        "answered_at": "2025-01-09T10:00:00+08:00",
        "closes_at": "2025-01-08T23:59:59+08:00",
        "state": "upheld",
        "items": [{"key": "1", "value": "80", "claim": "已落实", "evidence": None, "row": 2}],
        "claim": "已落实",
        "answer": "属实",
        "amendments": [{"submission_id": 1, "key": "1", "old_value": "40", "new_value": "80"}],
    }
    out.append(publicity.objection_answer_notice(load.Facts(prog, reg), year, answer))
    return out + _between_notices(prog, reg, year, zones)


def _between_notices(prog: programme.Programme, reg, year: int, zones: list[str]) -> list:
    """Issue 14's kinds: the rectification reminder and overdue list, the visit shortfall, the invitation."""
    from datetime import date

    from pilotzones.notices import between, between_facts
    from pilotzones.rules.rectification import CaseState

    due = datetime(year, 2, 20, 23, 59, 59, tzinfo=prog.tz)
    case = {"id": 1, "adcode": zones[2], "card_year": year - 1, "deadline": due, "return_reason": None}
    before, after = datetime(year, 1, 20, 9, tzinfo=prog.tz), datetime(year, 2, 21, 9, tzinfo=prog.tz)
    owing = dict(case, state=CaseState.OPEN, overdue=False)
    late = dict(case, state=CaseState.RETURNED, overdue=True, return_reason="佐证材料不足")
    out = between.rectification_reminders(between_facts.RectificationFacts(prog, reg, year, before, [owing]))
    out += between.rectification_overdue(between_facts.RectificationFacts(prog, reg, year, after, [late]))
    out += between.visit_shortfalls(between_facts.VisitFacts(prog, reg, year, after, zones, {}))
    held = [{"held_on": date(year, 6, 1), "place": "成都", "kind": "exchange"}]
    out += between.meeting_shortfall(between_facts.MeetingCountFacts(prog, reg, year, after, held))
    meeting = {
        "id": 1,
        "held_on": date(year, 6, 1),
        "place": "成都",
        "kind": "exchange",
        "recorded_on": date(year, 5, 1),
    }
    out += between.meeting_invitations(between_facts.MeetingFacts(prog, reg, year, meeting, zones, ["510107"], {}))
    return out


def test_every_notice_kind_of_a_second_programme_speaks_its_words_only(prog):
    notices = _notices(prog)
    assert {n.kind for n in notices} == set(KINDS)
    for n in notices:
        rendered = render(n.kind, {**n.data, "doc_number": doc_number(prog.programme.document_prefix, n.year, 1)})
        for text in (rendered.subject, rendered.text, rendered.html):
            assert not _builtin_words_in(text), (n.kind, _builtin_words_in(text), text)
    everything = "".join(render(n.kind, {**n.data, "doc_number": "x"}).text for n in notices)
    for own in ("示范县", "后备示范县", "市（州）", "撤销示范县称号", "后备示范县推荐材料"):
        assert own in everything


def test_its_rubric_view_and_suites_speak_its_words_and_the_stored_suites_are_not_used(prog, tmp_path):
    view = str(rubric_json(prog)) + rubric_table(prog)
    assert not _builtin_words_in(view) and "家庭医生签约率同比增长达标" in view and "签约人数不能多于" in view
    for kind in BUILDERS:
        suite = load_suite(kind, prog)  # the repository's stored suites are the built-in programme's
        assert suite == BUILDERS[kind](prog)
        assert not _builtin_words_in(str(suite)), kind
    assert "不是四川省的市（州）" in str(load_suite("nomination", prog))


def test_the_built_in_programme_keeps_its_words():
    p = programme.load()
    w = p.programme.words()
    assert (w["zone"], w["candidate"], w["prefecture"], w["withdrawal"]) == (
        "试验区",
        "候补试验区",
        "地（州、市）",
        "取消试验区资格",
    )
    assert w == programme.Info.default_words()
    assert (
        p.rubric.item(29).explanation()
        == "计算得分：执业(助理)医师占比同比增长达标得满分，否则0分（执业(助理)医师数不能多于乡村医生数）"
    )
    assert re.search("不是新疆维吾尔自治区的地（州、市）", str(load_suite("nomination", p)))
