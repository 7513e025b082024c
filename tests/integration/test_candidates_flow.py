"""The candidate stage and the swaps it feeds (R9, R10), on a real Prefect server and database."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pilotzones.flows.candidates import candidate_selection
from pilotzones.flows.evaluation import evaluation_stage

from pilotzones.cli.status import year_status
from pilotzones.intake.submit import submit
from tests.support import full_marks, write

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

PILOTS = ["654025", "654002", "654321", "650521", "652926", "653224"]


def nominate(home, tmp_path: Path, year: int, prefecture: str, adcodes: list[str], at: datetime) -> None:
    reg = home.register
    lines = ["year,prefecture,adcode,county,contact_email,reason"]
    lines += [f"{year},{reg.prefectures[prefecture]},{a},{reg.name(a)},wjw.{a}@example.org,基础较好" for a in adcodes]
    f = tmp_path / f"nom-{year}-{prefecture}-{at.timestamp():.0f}.csv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = submit(home, f, year=year, kind="nomination", at=at)
    assert out.accepted, out.errors


def review(home, tmp_path: Path, year: int, scores: dict[str, float]) -> None:
    f = tmp_path / f"review-{year}-{len(scores)}.csv"
    f.write_text(
        "year,adcode,review_score\n" + "".join(f"{year},{a},{s}\n" for a, s in scores.items()),
        encoding="utf-8",
    )
    out = submit(home, f, year=year, kind="review", at=home.programme.moment("candidate_selection", year))
    assert out.accepted, out.errors


def evaluate(home, tmp_path: Path, year: int, scales: dict[str, float]) -> dict:
    at = home.programme.moment("evaluation_deadline", year) - timedelta(days=3)
    for z, scale in scales.items():
        f = write(full_marks(home, z, year, scale), tmp_path / f"ev-{year}-{z}.csv")
        assert submit(home, f, year=year, kind="evaluation", at=at).accepted
    return evaluation_stage(home=str(home.path), year=year, approve=True)


def test_deadline_second_is_on_time_and_five_seconds_later_is_late(home, tmp_path):
    """R10: 23:59:59 on 30 Sep Asia/Shanghai counts; 00:00:05 on 1 Oct does not."""
    deadline = home.programme.moment("nomination_deadline", 2023)
    assert deadline.isoformat() == "2023-09-30T23:59:59+08:00"
    nominate(home, tmp_path, 2023, "652900", ["652901"], deadline)
    nominate(home, tmp_path, 2023, "652300", ["652301"], deadline + timedelta(seconds=6))
    review(home, tmp_path, 2023, {"652901": 80, "652301": 90})
    r = candidate_selection(home=str(home.path), year=2023, approve=True)
    assert [x["adcode"] for x in r["proposal"]["selected"]] == ["652901"]
    st = year_status(home, 2023)["candidates"]
    assert st["state"] == "published"
    assert st["selected"] == [{"adcode": "652901", "county": "阿克苏市", "rank": 1, "review_score": 80.0}]
    assert st["rejected"][0]["adcode"] == "652301" and "逾期" in st["rejected"][0]["reason"]


def test_a_later_review_sheet_replaces_scores_and_unnominated_scores_are_reported(home, tmp_path):
    deadline = home.programme.moment("nomination_deadline", 2023)
    nominate(home, tmp_path, 2023, "652900", ["652901", "652902"], deadline - timedelta(days=3))
    review(home, tmp_path, 2023, {"652901": 70, "652902": 80})
    review(home, tmp_path, 2023, {"652901": 95, "654202": 60})
    r = candidate_selection(home=str(home.path), year=2023)
    assert [(x["adcode"], x["review_score"]) for x in r["proposal"]["selected"]] == [
        ("652901", 95.0),
        ("652902", 80.0),
    ]
    assert r["proposal"]["unmatched_reviews"] == ["654202"]
    assert r["state"] == "awaiting_approval"


def test_two_disqualifications_with_one_candidate_left_swap_one_and_leave_one_vacant(home, tmp_path):
    """R9: the lower-ranked disqualified zone takes the only candidate; the other seat stays vacant."""
    deadline = home.programme.moment("nomination_deadline", 2022)
    nominate(home, tmp_path, 2022, "652900", ["652901"], deadline - timedelta(days=2))
    review(home, tmp_path, 2022, {"652901": 88})
    candidate_selection(home=str(home.path), year=2022, approve=True)
    weak = dict(zip(PILOTS, [0.9, 0.8, 0.3, 0.7, 0.6, 0.2], strict=True))
    evaluate(home, tmp_path, 2022, weak)
    r23 = evaluate(home, tmp_path, 2023, weak)
    p = r23["proposal"]
    assert p["disqualified"] == ["653224", "654321"]  # worst first
    assert p["promoted"][0] == {"adcode": "652901", "replaces": "653224", "county": "阿克苏市"}
    st = year_status(home, 2023)
    assert st["evaluation"]["promoted"] == [{"adcode": "652901", "replaces": "653224"}]
    assert st["evaluation"]["vacant_seats"] == 1
    # The promoted county takes the seat of the zone it replaces; it is first evaluated in 2024 (R2).
    assert st["pilots"] == ["654025", "654002", "650521", "652926", "652901"]
    r24 = evaluate(home, tmp_path, 2024, {z: 0.5 for z in st["pilots"]})
    assert sorted(r["adcode"] for r in r24["proposal"]["ranking"]) == sorted(st["pilots"])
    # A clean card history: carded in 2024 only, so not disqualified.
    assert "652901" not in r24["proposal"]["disqualified"]


def test_empty_selection_keeps_the_old_list_and_exited_county_is_never_a_candidate(home, tmp_path):
    """R10: a selection with no eligible nominee leaves the previous list in force; R8: exit is final."""
    deadline = home.programme.moment("nomination_deadline", 2022)
    nominate(home, tmp_path, 2022, "652900", ["652901", "652902"], deadline - timedelta(days=2))
    review(home, tmp_path, 2022, {"652901": 88, "652902": 70})
    candidate_selection(home=str(home.path), year=2022, approve=True)
    weak = dict(zip(PILOTS, [0.9, 0.8, 0.7, 0.6, 0.3, 0.2], strict=True))
    evaluate(home, tmp_path, 2022, weak)
    # 2023: only the exited-to-be zone's prefecture nominates a pilot: nothing eligible.
    nominate(home, tmp_path, 2023, "654000", ["654025"], home.programme.moment("nomination_deadline", 2023))
    review(home, tmp_path, 2023, {"654025": 99})
    r = candidate_selection(home=str(home.path), year=2023, approve=True)
    assert r["proposal"]["selected"] == []
    r23 = evaluate(home, tmp_path, 2023, weak)
    # The 2022 list is still in force: 652901 then 652902 replace 653224 and 652926.
    assert [(x["adcode"], x["replaces"]) for x in r23["proposal"]["promoted"]] == [
        ("652901", "653224"),
        ("652902", "652926"),
    ]
    nominate(home, tmp_path, 2024, "653200", ["653224"], home.programme.moment("nomination_deadline", 2024))
    review(home, tmp_path, 2024, {"653224": 99})
    r24 = candidate_selection(home=str(home.path), year=2024, approve=True)
    assert r24["proposal"]["rejected"][0]["reason"].startswith("已退出")
    # Running the published stage again applies nothing.
    assert candidate_selection(home=str(home.path), year=2024, approve=True)["applied"] is False


def test_approval_refuses_a_selection_made_before_a_new_review_sheet(home, tmp_path):
    """Approving publishes what was reviewed: a proposal older than its inputs is refused, not published."""
    from pilotzones.flows.candidates import publish_candidates

    from pilotzones.errors import StageError

    deadline = home.programme.moment("nomination_deadline", 2023)
    nominate(home, tmp_path, 2023, "652900", ["652901", "652922"], deadline - timedelta(days=2))
    review(home, tmp_path, 2023, {"652901": 80, "652922": 70})
    first = candidate_selection(home=str(home.path), year=2023)
    assert [x["adcode"] for x in first["proposal"]["selected"]] == ["652901", "652922"]
    review(home, tmp_path, 2023, {"652901": 60, "652922": 70})
    with pytest.raises(StageError, match="方案已过时"):
        publish_candidates(home=str(home.path), year=2023)
    assert year_status(home, 2023)["candidates"]["state"] == "awaiting_approval"
    candidate_selection(home=str(home.path), year=2023)
    assert publish_candidates(home=str(home.path), year=2023)["applied"]
    assert [x["adcode"] for x in year_status(home, 2023)["candidates"]["selected"]] == ["652922", "652901"]
