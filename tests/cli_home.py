"""The command line run in-process on a home of its own (SQLite in the home), for CLI tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pilotzones.cli.main import cli


def run(home: Path, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home), *args], obj={}, catch_exceptions=False)


@pytest.fixture
def cli_home(tmp_path, monkeypatch) -> Path:
    """An initialised home of the built-in programme (SQLite in the home, whatever the environment says)."""
    monkeypatch.delenv("PILOTZONES_DATABASE_URL", raising=False)
    h = tmp_path / "home"
    assert run(h, "init").exit_code == 0
    return h
