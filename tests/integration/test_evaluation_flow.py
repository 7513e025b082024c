"""The evaluation stage end to end on a real Prefect server and a real database."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from pilotzones.flows.evaluation import evaluation_stage, publish_evaluation
from sqlalchemy import func, select

from pilotzones.cli.status import year_status
from pilotzones.errors import StageError
from pilotzones.intake.submit import submit
from pilotzones.store import models as m
from pilotzones.store.session import session
from tests.support import full_marks, write

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

PILOTS = ["654025", "654002", "654321", "650521", "652926", "653224"]


def on_time(home, year: int, days_before: int = 5) -> datetime:
    return home.programme.moment("evaluation_deadline", year) - timedelta(days=days_before)


def send(home, tmp_path, year: int, scales: dict[str, float], at: datetime | None = None) -> None:
    for z, scale in scales.items():
        f = write(full_marks(home, z, year, scale), tmp_path / f"in-{year}-{z}-{scale}.csv")
        out = submit(home, f, year=year, kind="evaluation", at=at or on_time(home, year))
        assert out.accepted, out.errors


def test_zone_carded_two_years_running_is_disqualified_and_its_seat_stays_vacant(home, tmp_path):
    """R7-R9: bottom two carded; carded again next year disqualifies; no candidates leaves a vacancy."""
    send(home, tmp_path, 2022, dict(zip(PILOTS, [0.9, 0.8, 0.3, 0.7, 0.6, 0.2], strict=True)))
    r22 = evaluation_stage(home=str(home.path), year=2022, approve=True)
    assert r22["state"] == "published"
    carded = {r["adcode"] for r in r22["proposal"]["ranking"] if r["yellow_card"]}
    assert carded == {"654321", "653224"}
    assert r22["proposal"]["disqualified"] == []

    send(home, tmp_path, 2023, dict(zip(PILOTS, [0.9, 0.8, 0.7, 0.3, 0.6, 0.2], strict=True)))
    evaluation_stage(home=str(home.path), year=2023, approve=True)
    st = year_status(home, 2023)
    ev = st["evaluation"]
    assert ev["state"] == "published"
    assert {r["adcode"] for r in ev["ranking"] if r["yellow_card"]} == {"650521", "653224"}
    assert ev["disqualified"] == ["653224"]
    assert ev["promoted"] == [] and ev["vacant_seats"] == 1
    assert st["pilots"] == ["654025", "654002", "654321", "650521", "652926"]
    bottom = ev["ranking"][-1]
    assert (bottom["adcode"], bottom["total"], bottom["rank"]) == ("653224", 196.0, 6)

    # Run again: same decisions, nothing applied twice.
    again = evaluation_stage(home=str(home.path), year=2023, approve=True)
    assert again["applied"] is False
    # The same decisions; only the run log (`runs`) records the extra run.
    assert {k: v for k, v in year_status(home, 2023).items() if k != "runs"} == {
        k: v for k, v in st.items() if k != "runs"
    }
    with session(home.db_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Card)) == 4
        left = s.scalars(select(m.Membership).where(m.Membership.left_year.is_not(None))).all()
        assert [(x.adcode, x.left_year) for x in left] == [("653224", 2023)]

    # R2: the disqualified zone is not evaluated in 2024.
    r24 = evaluation_stage(home=str(home.path), year=2024)
    assert [r["adcode"] for r in r24["proposal"]["ranking"] if r["adcode"] == "653224"] == []
    assert len(r24["proposal"]["ranking"]) == 5


def test_run_stops_for_approval_and_approve_publishes_once(home, tmp_path):
    """Without --approve nothing is applied; approving publishes; approving again applies nothing."""
    send(home, tmp_path, 2022, {z: 0.5 for z in PILOTS})
    r = evaluation_stage(home=str(home.path), year=2022)
    assert r["state"] == "awaiting_approval"
    assert year_status(home, 2022)["evaluation"]["state"] == "awaiting_approval"
    with session(home.db_url) as s:
        assert s.scalar(select(func.count()).select_from(m.Card)) == 0
    assert publish_evaluation(home=str(home.path), year=2022)["applied"] is True
    assert publish_evaluation(home=str(home.path), year=2022)["applied"] is False
    st = year_status(home, 2022)
    assert st["evaluation"]["state"] == "published"
    # All six tied: nobody ranks below anybody, so all are carded (R7 ties at the line).
    assert all(r["yellow_card"] and r["rank"] == 1 for r in st["evaluation"]["ranking"])


def test_latest_on_time_file_counts_and_a_late_file_scores_zero(home, tmp_path):
    """R11: a resubmission replaces the earlier file; a file after the deadline is not scored."""
    send(home, tmp_path, 2022, {z: 0.5 for z in PILOTS[:5]})
    send(home, tmp_path, 2022, {"654025": 0.9}, at=on_time(home, 2022, days_before=1))
    deadline = home.programme.moment("evaluation_deadline", 2022)
    send(home, tmp_path, 2022, {"653224": 1.0}, at=deadline + timedelta(seconds=1))
    r = evaluation_stage(home=str(home.path), year=2022)
    rows = {x["adcode"]: x for x in r["proposal"]["ranking"]}
    assert rows["654025"]["total"] == 882.0 and rows["654025"]["rank"] == 1
    assert rows["653224"]["total"] == 0 and rows["653224"]["flags"] == ["未按时报送"]
    assert rows["653224"]["yellow_card"]


def test_file_received_at_the_deadline_second_counts(home, tmp_path):
    """The deadline is inclusive: 23:59:59 on 20 Dec is on time."""
    deadline = home.programme.moment("evaluation_deadline", 2022)
    send(home, tmp_path, 2022, {"654025": 0.8}, at=deadline)
    r = evaluation_stage(home=str(home.path), year=2022)
    assert {x["adcode"]: x["total"] for x in r["proposal"]["ranking"]}["654025"] == 784.0


def test_new_file_before_approval_rebuilds_the_proposal(home, tmp_path):
    """A file accepted before publication changes the proposal; after publication nothing changes."""
    send(home, tmp_path, 2022, {z: 0.5 for z in PILOTS})
    first = evaluation_stage(home=str(home.path), year=2022)
    send(home, tmp_path, 2022, {"654002": 0.7}, at=on_time(home, 2022, 1))
    second = evaluation_stage(home=str(home.path), year=2022, approve=True)
    assert first["proposal"]["ranking"][0]["total"] == 490.0
    assert second["proposal"]["ranking"][0]["adcode"] == "654002"
    assert year_status(home, 2022)["evaluation"]["ranking"][0]["total"] == 686.0


def test_approval_refuses_a_proposal_made_before_a_new_file(home, tmp_path):
    """Approving publishes what was reviewed: a proposal older than its inputs is refused, not published."""
    send(home, tmp_path, 2022, {z: 0.5 for z in PILOTS})
    evaluation_stage(home=str(home.path), year=2022)
    send(home, tmp_path, 2022, {"654002": 0.7}, at=on_time(home, 2022, 1))
    with pytest.raises(StageError, match="方案已过时"):
        publish_evaluation(home=str(home.path), year=2022)
    assert year_status(home, 2022)["evaluation"]["state"] == "awaiting_approval"
    evaluation_stage(home=str(home.path), year=2022)
    assert publish_evaluation(home=str(home.path), year=2022)["applied"]
    assert year_status(home, 2022)["evaluation"]["ranking"][0]["total"] == 686.0


def test_a_year_cannot_run_while_the_previous_awaits_approval(home, tmp_path):
    send(home, tmp_path, 2022, {z: 0.5 for z in PILOTS})
    evaluation_stage(home=str(home.path), year=2022)
    with pytest.raises(StageError, match="2022年度监测评价方案待审批"):
        evaluation_stage(home=str(home.path), year=2023)
