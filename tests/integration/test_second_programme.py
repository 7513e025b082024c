"""A second programme's operators read its words in `status` too (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from pilotzones.cli.main import cli
from pilotzones.rules.proposal_models import EvaluationProposal, RankedZone
from pilotzones.store import models as m
from pilotzones.store.home import init_home
from pilotzones.store.session import session
from tests.unit.test_vocabulary import BUILTIN_WORDS, second_programme

pytestmark = pytest.mark.integration


def test_status_of_a_second_programme_carries_none_of_the_built_in_words(tmp_path, monkeypatch):
    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    home = init_home(tmp_path / "sc", second_programme(tmp_path))
    ranking = [
        RankedZone(adcode=a, county="", base=t, bonus=0, total=t, rank=i + 1, yellow_card=i == 3, flags=[], below=3 - i)
        for i, (a, t) in enumerate(zip(home.programme.pilots.initial, [90.0, 80.0, 70.0, 10.0], strict=True))
    ]
    proposal = EvaluationProposal(year=2025, evaluated=4, ranking=ranking, disqualified=["510321"], promoted=[])
    with session(home.db_url) as s:
        now = datetime.now(UTC)
        s.add(
            m.Decision(
                year=2025,
                stage="evaluation",
                state="published",
                digest="x",
                proposal=proposal.stored(),
                inputs={},
                created_at=now,
                published_at=now,
            )
        )
    r = CliRunner().invoke(cli, ["--home", str(home.path), "status", "--year", "2025"], obj={})
    assert r.exit_code == 0, r.output
    assert "撤销示范县称号：510321" in r.stdout
    assert [w for w in BUILTIN_WORDS if w in r.stdout] == [], r.stdout
