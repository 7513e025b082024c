"""`pilotzones demo` in the home every command uses: $PILOTZONES_HOME, an existing empty folder."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from prefect.settings import PREFECT_API_URL

from pilotzones.cli.demo import MARKER
from tests.integration.cli_runs import EXE

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("prefect_server")]


def test_the_demo_runs_in_an_empty_pilotzones_home_and_status_reads_it_there(tmp_path):
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    env = dict(os.environ, PILOTZONES_HOME=str(home), PREFECT_API_URL=PREFECT_API_URL.value())
    env.pop("PILOTZONES_DATABASE_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)

    real = tmp_path / "real.db"  # an operator's real state database, set in the environment
    demo = subprocess.run(
        [str(EXE), "demo", "--years", "2022-2022"],
        capture_output=True,
        text=True,
        env=dict(env, PILOTZONES_DATABASE_URL=f"sqlite:///{real}"),
        cwd=cwd,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout[-2000:] + demo.stderr[-2000:]
    assert not real.exists() and (home / "pilotzones.db").is_file()  # sample years stay in the demo home
    assert "演示不使用 PILOTZONES_DATABASE_URL" in demo.stderr
    assert f"演示主目录：{home.resolve()}" in demo.stdout
    assert (home / MARKER).is_file() and list(cwd.iterdir()) == []  # no ./.pilotzones beside
    st = run("status", "--year", "2022", "--json")
    assert st.returncode == 0, st.stderr
    assert "是演示主目录" in st.stderr  # real work belongs elsewhere: said, not refused
    shown = json.loads(st.stdout)
    assert shown["evaluation"]["state"] == shown["candidates"]["state"] == "published"
