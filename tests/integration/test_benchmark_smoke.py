"""The national-scale benchmark (benchmarks/evaluation_stage.py) still runs, at a small size."""

from __future__ import annotations

import os

import pytest

from benchmarks import evaluation_stage, hostile_input, submit_latency

pytestmark = pytest.mark.integration


@pytest.fixture
def environment():
    """The benchmark sets its own database, Prefect and mail variables: give the session's back."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def _lines(out: str) -> dict[str, str]:
    return {line[:56].strip(): line[56:].strip() for line in out.splitlines() if len(line) > 56}


@pytest.mark.timeout(120)
def test_the_benchmark_times_every_step_and_agrees_with_bare_pandas(environment, capsys):
    assert evaluation_stage.main(["--zones", "20", "--no-flow"]) == 0
    out = capsys.readouterr().out
    steps = _lines(out)
    for step in ("ingest", "GX validate (one run)", *evaluation_stage.STAGE_STEPS, "bare: read", "bare: rank"):
        assert step in steps, step
    assert "ratio comparable / bare (medians):" in out
    assert "comparable, runs:" in out and "bare pandas, runs:" in out  # --repeat 3 by default
    assert "ranks every zone as the stage does" in out


@pytest.mark.timeout(180)
@pytest.mark.usefixtures("prefect_server")
def test_the_benchmark_runs_the_real_flow(environment, capsys, tmp_path):
    assert evaluation_stage.main(["--zones", "6", "--keep", str(tmp_path / "bench")]) == 0
    out = capsys.readouterr().out
    assert "flow evaluation_stage(2023, approve=True): wall" in out
    assert "Prefect overhead" in out
    assert (tmp_path / "bench" / "home" / "programme.toml").exists()


@pytest.mark.timeout(120)
def test_the_submit_latency_benchmark_times_each_command(environment, capsys):
    assert submit_latency.main(["--runs", "1"]) == 0
    out = capsys.readouterr().out
    for command in ("import great_expectations (floor)", "submit --dry-run", "submit", "status --year"):
        assert any(line.startswith(command + " ") for line in out.splitlines()), command


@pytest.mark.timeout(300)
def test_the_hostile_input_benchmark_measures_each_rejection(environment, capsys, tmp_path):
    assert hostile_input.main(["--runs", "1", "--keep", str(tmp_path / "hostile")]) == 0
    out = capsys.readouterr().out
    for label in (
        "1,000,000-row CSV",
        "XLSX shared-string bomb (2 GiB)",
        "XLSX sheet bomb (1 GiB)",
        "1,000,000-row XLSX",
    ):
        assert any(line.startswith(label + " ") for line in out.splitlines()), label
    assert "1,000,000-row CSV, sizes raised" in out and " MB " in out
