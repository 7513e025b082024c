"""A second programme's operators read its words in `status` too (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from pilotzones.cli.main import cli
from pilotzones.rules.proposal_models import EvaluationProposal, RankedZone
from pilotzones.store import models as m
from pilotzones.store.home import init_home
from pilotzones.store.session import session
from tests.unit.test_vocabulary import BUILTIN_WORDS, second_programme

pytestmark = pytest.mark.integration


def _publish(home) -> None:
    """A published 2025 evaluation of the Sichuan programme: 510321 carded twice, withdrawn."""
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


def test_status_of_a_second_programme_carries_none_of_the_built_in_words(tmp_path, monkeypatch):
    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    home = init_home(tmp_path / "sc", second_programme(tmp_path))
    _publish(home)
    r = CliRunner().invoke(cli, ["--home", str(home.path), "status", "--year", "2025"], obj={})
    assert r.exit_code == 0, r.output
    assert "撤销示范县称号：510321" in r.stdout
    assert [w for w in BUILTIN_WORDS if w in r.stdout] == [], r.stdout


def _cells(path) -> str:
    wb = openpyxl.load_workbook(path)
    return " ".join(
        str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None
    ) + " ".join(ws.title for ws in wb.worksheets)


def test_its_operators_read_its_words_in_reports_refusals_and_the_rubric(tmp_path, monkeypatch):
    """What a commission operator of the second programme reads beyond status: the yearly reports,
    the refusals of approve, decline and extend, and the rubric, with none of the built-in words."""
    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    home = init_home(tmp_path / "sc", second_programme(tmp_path))
    _publish(home)

    def run(*args: str):
        return CliRunner().invoke(cli, ["--home", str(home.path), *args], obj={})

    seen = []
    r = run("report", "--year", "2025")
    assert r.exit_code == 0, r.output
    for path in map(Path, r.stdout.split()):
        seen.append(path.read_text(encoding="utf-8") if path.suffix == ".html" else _cells(path))
        assert not [w for w in BUILTIN_WORDS if w in path.name], path.name
    assert "撤销示范县称号" in seen[-1] and "原示范县" not in seen[-1]  # the HTML: 510321 leaves
    for args in (
        ("approve", "--year", "2025", "--stage", "candidates"),
        ("decline", "--year", "2025", "--stage", "candidates", "--note", "x"),
        ("decline", "--year", "2025", "--stage", "evaluation", "--note", "x"),
        ("extend", "--year", "2025", "--stage", "candidates", "--adcode", "510181", "--until", "2025-09-01T00:00:00",
         "--reason", "x"),
        ("extend", "--year", "2025", "--stage", "evaluation", "--adcode", "510107", "--until", "2025-12-01T00:00:00",
         "--reason", "x"),
        ("report", "--year", "2024"),
    ):  # fmt: skip
        r = run(*args)
        assert r.exit_code == 2, (args, r.output)
        seen.append(r.stderr)
    assert "没有待审批的后备示范县遴选方案" in seen[-6] and "不是四川省的市（州）" in seen[-3]
    assert "不是2025年度参加监测评价的示范县" in seen[-2]
    seen.append(run("rubric").stdout)
    for text in seen:
        assert not [w for w in BUILTIN_WORDS if w in text], text
