"""Facts the evaluation notices state (issue 11): every zone flagged 未按时报送 is in section 五, a
zone disqualified is not told to rectify, and a county the directory lacks is addressed at the
address its nomination gave."""

from __future__ import annotations

import pytest

from pilotzones.intake.submit import submit
from pilotzones.notices import build, load
from pilotzones.notices.render import render
from pilotzones.rules.proposal_models import EvaluationProposal, RankedZone
from tests.unit.test_intake_helpers import NOMINATION_COLUMNS, csv_bytes
from tests.unit.test_intake_nomination import nomination

pytestmark = pytest.mark.integration

YEAR = 2023
# 652922 温宿县: promoted in an earlier year's evaluation, not in the built-in directory.
ZONES = ["654025", "654002", "652922", "650521", "652926", "653224"]


def _proposal() -> EvaluationProposal:
    flags = {"652926": ["未按时报送"], "653224": ["未按时报送"]}
    ranking = [
        RankedZone(
            adcode=z,
            county="",
            base=total,
            bonus=0,
            total=total,
            rank=i + 1,
            yellow_card=i >= 4,
            flags=flags.get(z, []),
            below=len(ZONES) - i - 1,
            submission_id=None,
        )
        for i, (z, total) in enumerate(zip(ZONES, [900, 800, 700, 600, 0, 0], strict=True))
    ]
    return EvaluationProposal(
        year=YEAR,
        evaluated=6,
        ranking=ranking,
        disqualified=["653224"],
        promoted=[],
        vacant=["653224"],
        vacant_seats=1,
        late=["652926"],  # a late file; 653224 sent none at all
        card_history={"653224": [YEAR - 1]},
    )


def test_the_summary_states_every_zone_not_on_time_and_no_rectification_for_a_zone_disqualified(home, tmp_path):
    f = tmp_path / "nominations.csv"
    f.write_bytes(csv_bytes([nomination("652922", "温宿县", year=str(YEAR - 1))], NOMINATION_COLUMNS))
    assert submit(home, f, year=YEAR - 1, kind="nomination", at=home.programme.moment("nomination_call", YEAR - 1))
    facts = load.evaluation_facts(home, YEAR, _proposal())
    assert facts.email_hints["652922"] == "wjw.652922@example.org"

    notices = build.evaluation_notices(facts)
    mine = [n for n in notices if n.recipient == "652922"]
    assert [n.kind for n in mine] == ["evaluation_result"] and mine[0].email_hint == "wjw.652922@example.org"

    (summary,) = [n for n in notices if n.kind == "evaluation_summary"]
    text = render("evaluation_summary", dict(summary.data, doc_number="x")).text
    assert "五、未按时报送：拜城县（逾期报送）、洛浦县（未报送），按0分参与排名。" in text
    assert "二、亮黄牌：拜城县，限2024年6月30日前完成整改；洛浦县因连续被亮黄牌" in text
    assert "不再限期整改" in text
