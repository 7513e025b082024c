"""A stage cannot run before its time (issue 11): refused before its deadline in programme time,
from the command line and from the flow a deployment runs; a drill forces it with a reason that is
recorded; a file for a year whose stage is published is kept and said not to count."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from pilotzones.flows.evaluation import evaluation_stage

from pilotzones.cli.main import cli
from pilotzones.cli.status import year_status
from pilotzones.errors import StageError
from pilotzones.store import ledger
from pilotzones.store.session import session
from tests.support import full_marks, write

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]

# A year whose deadlines have not come, whatever today is.
FUTURE = 2099


def run(home, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home.path), *args], obj={}, catch_exceptions=False)


def test_a_stage_before_its_deadline_is_refused_naming_deadline_and_now(home):
    for stage, deadline in (("evaluation", "2099-12-20T23:59:59+08:00"), ("candidates", "2099-09-30T23:59:59+08:00")):
        r = run(home, stage, "run", "--year", str(FUTURE), "--approve")
        assert r.exit_code == 2, r.output
        assert f"截止时间 {deadline}" in r.stderr and "现在 20" in r.stderr and "--force-early" in r.stderr
    r = run(home, "evaluation", "run", "--year", str(FUTURE), "--force-early")
    assert r.exit_code == 2 and "--reason" in r.stderr
    with session(home.db_url) as s:
        assert ledger.decision(s, FUTURE, "evaluation") is None


def test_a_deployment_run_is_refused_and_a_drill_is_recorded(home, tmp_path):
    # What a deployment runs: the flow itself, no command in front of it.
    with pytest.raises(StageError, match="截止时间 2099-12-20T23:59:59"):
        evaluation_stage(home=str(home.path), year=FUTURE)
    assert year_status(home, FUTURE)["runs"]["evaluation"]["outcome"] == "failed"

    result = evaluation_stage(home=str(home.path), year=FUTURE, approve=True, early_reason="年度演练")
    assert result["state"] == "published"
    forced = result["proposal"]["forced_early"]
    assert forced["reason"] == "年度演练" and forced["deadline"] == "2099-12-20T23:59:59+08:00" and forced["by"]
    run_log = year_status(home, FUTURE)["runs"]["evaluation"]
    assert run_log["counts"]["forced_early"]["reason"] == "年度演练"

    # The year is published: a file for it is still kept and recorded, and told it no longer counts.
    f = write(full_marks(home, "654025", FUTURE), tmp_path / "late.csv")
    r = run(home, "submit", str(f), "--year", str(FUTURE))
    assert r.exit_code == 0, r.output
    assert "2099年度监测评价已经发布，本文件已存档并记录，但不能再计入" in r.stderr
    with session(home.db_url) as s:
        assert ledger.decision(s, FUTURE, "evaluation").proposal["forced_early"]["reason"] == "年度演练"
