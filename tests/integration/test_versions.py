"""Programme versions by year (issue 11): a revised rubric from a year; earlier years keep theirs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from pilotzones.cli.main import cli
from pilotzones.intake.submit import submit
from pilotzones.rules import programme
from pilotzones.stages import evaluation as ev
from pilotzones.store import models as m
from pilotzones.store.session import session
from pilotzones.store.versions import from_year_of, programme_for
from tests.support import rows_for, write

pytestmark = pytest.mark.integration


def run(home, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home.path), *args], obj={}, catch_exceptions=False)


def _revised(tmp_path, *swaps: tuple[str, str]):
    text = programme.BUILTIN.read_text(encoding="utf-8")
    for old, new in swaps:
        assert old in text
        text = text.replace(old, new, 1)
    f = tmp_path / "revised.toml"
    f.write_text(text, encoding="utf-8")
    return f


# Item 1 down from 80 to 70, item 2 up from 20 to 30: category 1 still adds up to 150.
MOVED = (
    ("weight = 80", "weight = 70"),
    ('id = 2\nname = "制定试验区实施方案"\nweight = 20', 'id = 2\nname = "制定试验区实施方案"\nweight = 30'),
)


def test_a_revised_rubric_applies_from_its_year_and_earlier_years_keep_theirs(home, tmp_path):
    r = run(home, "programme", "add", str(_revised(tmp_path, *MOVED)), "--from-year", "2023")
    assert r.exit_code == 0, r.output
    assert "自2023年度起生效" in r.stdout
    assert programme_for(home, 2022).rubric.item(2).weight == 20 and from_year_of(home, 2022) == 2022
    assert (
        programme_for(home, 2023).rubric.item(2).weight == 30 and programme_for(home, 2030).rubric.item(1).weight == 70
    )
    assert '"weight": 30' in run(home, "rubric", "--json", "--year", "2024").stdout

    # Intake checks each year against its own rubric: 25 points for item 2 fit 2023, not 2022.
    for year, accepted in ((2022, False), (2023, True)):
        f = write(rows_for(home, "654025", year, **{"2": "25"}), tmp_path / f"x{year}.csv")
        out = submit(home, f, year=year, kind="evaluation", at=home.programme.moment("evaluation_deadline", year))
        assert out.accepted is accepted, out.errors
    # And scoring: the 2023 file's 25 points count under the 2023 rubric.
    scores = ev.score(home, ev.collect(home, 2023))
    item2 = scores.items[(scores.items["adcode"] == "654025") & (scores.items["item"] == 2)]
    assert int(item2["units"].iloc[0]) == 25 * scores.scale


def test_a_version_is_refused_for_a_published_year_a_changed_rule_or_the_start_year(home, tmp_path):
    with session(home.db_url) as s:
        now = datetime.now(UTC)
        s.add(
            m.Decision(
                year=2023, stage="evaluation", state="published", digest="x", proposal={}, inputs={}, created_at=now
            )
        )
    r = run(home, "programme", "add", str(_revised(tmp_path, *MOVED)), "--from-year", "2023")
    assert r.exit_code == 2 and "2023年度已经发布" in r.stderr
    r = run(
        home,
        "programme",
        "add",
        str(_revised(tmp_path, ("cards_per_year = 2", "cards_per_year = 3"))),
        "--from-year",
        "2024",
    )
    assert r.exit_code == 2 and "rules" in r.stderr
    r = run(home, "programme", "add", str(_revised(tmp_path, *MOVED)), "--from-year", "2022")
    assert r.exit_code == 2 and "2023年度或以后" in r.stderr
    assert not (home.path / "programmes").exists() or not list((home.path / "programmes").glob("*.toml"))


def test_a_version_added_makes_its_years_inputs_new_so_an_older_proposal_cannot_be_approved(home, tmp_path):
    before = {y: ev.inputs_digest(home, y) for y in (2022, 2023)}
    assert run(home, "programme", "add", str(_revised(tmp_path, *MOVED)), "--from-year", "2023").exit_code == 0
    assert ev.inputs_digest(home, 2022) == before[2022]
    assert ev.inputs_digest(home, 2023) != before[2023]
