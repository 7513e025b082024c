"""How long a county waits for `pilotzones submit` to answer (issue 2: "within about 3 s").

    python benchmarks/submit_latency.py [--runs 5]

Sets up a home for the built-in programme in a temporary folder, writes one valid file of a pilot,
then times the real command line, each run a new process as a county's call is: `submit --dry-run`
and `submit`, `--runs` times each, and `status --year`, which never loads Great Expectations. Also
times importing Great Expectations alone in a bare process, the floor under `submit`. Prints each
run's wall seconds and the median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXE = Path(sys.executable).with_name("pilotzones")
YEAR = 2023


def timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Wall seconds of one process running `command`, from its start to its exit."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    return time.perf_counter() - start, done


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each command (default 5)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="pilotzones-submit-"))
    try:
        return _run(work, args.runs)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run(work: Path, runs: int) -> int:
    from pilotzones.cli.demo import sample_rows, write_csv
    from pilotzones.store.home import init_home

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILOTZONES_", "PREFECT_"))}
    env.update(PILOTZONES_HOME=str(work / "home"), GX_ANALYTICS_ENABLED="false")
    os.environ.pop("PILOTZONES_DATABASE_URL", None)
    home = init_home(work / "home")
    zone = home.programme.pilots.initial[0]
    file = write_csv(sample_rows(home.programme, home.register.name(zone), zone, YEAR), work / f"{zone}.csv")
    at = home.programme.moment("evaluation_deadline", YEAR).isoformat()  # on time, whatever today is
    commands = {
        "import great_expectations (floor)": [sys.executable, "-c", "import great_expectations"],
        "submit --dry-run": [str(EXE), "submit", str(file), "--year", str(YEAR), "--dry-run", "--at", at],
        "submit": [str(EXE), "submit", str(file), "--year", str(YEAR), "--at", at],
        "status --year": [str(EXE), "status", "--year", str(YEAR)],
    }
    print(f"submit latency: one file of {zone}, {runs} runs each, {os.cpu_count()} CPUs, SQLite home")
    print(f"{'command':<36} {'runs (s)':<34} {'median':>7}")
    for name, command in commands.items():
        figures = []
        for _ in range(runs):
            seconds, done = timed(command, env)
            if done.returncode != 0:
                raise SystemExit(f"{name} exited {done.returncode}:\n{done.stdout}{done.stderr}")
            figures.append(seconds)
        runs_text = " ".join(f"{x:.2f}" for x in figures)
        print(f"{name:<36} {runs_text:<34} {statistics.median(figures):>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
