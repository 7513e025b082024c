"""Programme versions by year (issue 11): a revised rubric from a year; earlier years keep theirs."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import openpyxl
import pytest
from click.testing import CliRunner

from pilotzones.cli import demo
from pilotzones.cli.main import cli
from pilotzones.intake.submit import submit
from pilotzones.notices import evaluation_notices
from pilotzones.notices.attachments import attachments_for
from pilotzones.reports.template import write_templates
from pilotzones.reports.yearly import gather, write_year_report
from pilotzones.rules import programme
from pilotzones.rules.proposal_models import EvaluationProposal
from pilotzones.stages import evaluation as ev
from pilotzones.store import ledger
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


# Item 1 down from 80 to 70, item 2 up from 20 to 30: category 1 still adds up to 150. The revised
# rubric is issued as a document of its own, which messages from its years cite.
MOVED = (
    ('监测评价细则(试行)"', '监测评价细则(2023年修订)"'),
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
    assert programme_for(home, 2023).programme.document.endswith("(2023年修订)")
    assert programme_for(home, 2022).programme.document.endswith("(试行)")

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
    # The programme's words are the programme's, not a revision's: changing them is refused, named.
    r = run(home, "programme", "add", str(_revised(tmp_path, ('zone_name = "试验区"', 'zone_name = "示范区"'))),
            "--from-year", "2024")  # fmt: skip
    assert r.exit_code == 2 and "programme.zone_name" in r.stderr
    assert not (home.path / "programmes").exists() or not list((home.path / "programmes").glob("*.toml"))


def test_a_version_added_makes_its_years_inputs_new_so_an_older_proposal_cannot_be_approved(home, tmp_path):
    before = {y: ev.inputs_digest(home, y) for y in (2022, 2023)}
    assert run(home, "programme", "add", str(_revised(tmp_path, *MOVED)), "--from-year", "2023").exit_code == 0
    assert ev.inputs_digest(home, 2022) == before[2022]
    assert ev.inputs_digest(home, 2023) != before[2023]


# The revision of the test: item 1 down to 70, item 2 dropped, item 43 added in its place (30).
REVISED = (
    ("weight = 80", "weight = 70"),
    ('id = 2\nname = "制定试验区实施方案"\nweight = 20', 'id = 43\nname = "建立基层卫生健康工作专班"\nweight = 30'),
)


def _evaluate(home, year: int, tmp_path) -> EvaluationProposal:
    """Every pilot's sample file for `year` (from the rubric in force), then the stage's steps, published."""
    prog = programme_for(home, year)
    with session(home.db_url) as s:
        zones = ledger.pilots_for(s, year)
    for z in zones:
        f = write(demo.sample_rows(prog, home.register.name(z), z, year), tmp_path / f"{year}-{z}.csv")
        out = submit(home, f, year=year, kind="evaluation", at=prog.moment("evaluation_deadline", year))
        assert out.accepted and not out.left_out, out.errors
    c = ev.collect(home, year)
    scores = ev.score(home, c)
    ranked = ev.rank_and_card(home, scores)
    proposal = ev.build_proposal(home, c, scores, ranked, ev.disqualify_and_replace(home, year, ranked))
    ev.propose(home, c, scores, proposal, None)
    ev.publish(home, year)
    published = ev.published_result(home, year)
    assert published is not None
    return published


def _attached_items(home, year: int) -> set[str]:
    ((_, data),) = attachments_for(home, "evaluation_reminder", year, "654025")
    ws = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    return {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}


def _template_items(home, year: int) -> set[str]:
    (path,) = write_templates(home, year, county="654025", out=home.path / f"t{year}")
    ws = openpyxl.load_workbook(path).worksheets[0]
    return {str(c.value) for row in ws.iter_rows() for c in row if c.value is not None}


def test_a_revision_adding_and_dropping_items_leaves_earlier_years_results_and_reports_as_they_were(home, tmp_path):
    y22 = _evaluate(home, 2022, tmp_path)
    report22, status22 = gather(home, 2022), run(home, "status", "--json", "--year", "2022").stdout
    html22 = write_year_report(home, 2022)[1].read_text(encoding="utf-8")
    assert "制定试验区实施方案" in html22

    called = _attached_items(home, 2023)  # the 2023 call went out before the revision
    r = run(home, "programme", "add", str(_revised(tmp_path, *REVISED)), "--from-year", "2023")
    assert r.exit_code == 0, r.output
    # The reminder after it carries the template of the items now in force for 2023.
    assert "制定试验区实施方案" in called and "建立基层卫生健康工作专班" not in called
    reminded = _attached_items(home, 2023)
    assert "建立基层卫生健康工作专班" in reminded and "制定试验区实施方案" not in reminded

    # 2022 after the revision: its rubric, result, status and report are what they were.
    assert [i.id for i in programme_for(home, 2022).rubric.items][:2] == [1, 2]
    assert gather(home, 2022) == report22
    assert run(home, "status", "--json", "--year", "2022").stdout == status22
    assert write_year_report(home, 2022)[1].read_text(encoding="utf-8") == html22
    assert "制定试验区实施方案" in _template_items(home, 2022)
    assert "建立基层卫生健康工作专班" not in _template_items(home, 2022)
    assert '"name": "制定试验区实施方案"' in run(home, "rubric", "--json", "--year", "2022").stdout

    # 2023 is checked, scored, reported and explained with its own rubric.
    t23 = _template_items(home, 2023)
    assert "建立基层卫生健康工作专班" in t23 and "制定试验区实施方案" not in t23
    old = write(rows_for(home, "654025", 2023), tmp_path / "old-rubric.csv")  # item 2, no item 43
    out = submit(home, old, year=2023, kind="evaluation", at=home.programme.moment("evaluation_deadline", 2023))
    assert not out.accepted and any(e.key == "2" for e in out.errors), out.errors
    y23 = _evaluate(home, 2023, tmp_path)
    with session(home.db_url) as s:
        items23 = {x.item for x in ledger.item_scores(s, 2023)}
        items22 = {x.item for x in ledger.item_scores(s, 2022)}
    assert 43 in items23 and 2 not in items23 and 2 in items22 and 43 not in items22
    report23 = gather(home, 2023)
    assert report23 is not None
    assert [line.item for line in report23.items["654025"]][:2] == [1, 43]
    assert report23.items["654025"][0].maximum == 70
    notices = evaluation_notices(home, 2023, y23.as_json())
    result = next(n for n in notices if n.kind == "evaluation_result" and n.about == "653224")
    sheet = str(result.data)
    assert "建立基层卫生健康工作专班" in sheet and "制定试验区实施方案" not in sheet

    # History spans the versions: 653224, carded in 2022 and again in 2023, is disqualified.
    assert "653224" in [z.adcode for z in y22.ranking if z.yellow_card]
    assert "653224" in y23.disqualified
    assert report23.history_years == [2022, 2023]
