"""How long an operator waits for a stage command, and for a whole year of the six pilots (issue 16).

    python benchmarks/stage_latency.py [--runs 3] [--year 2025] [--no-warm] [--no-year] [--keep DIR]

Every figure is the wall time of a new process, as an operator's shell starts it, in an environment
with no Prefect server configured (no PREFECT_API_URL, Prefect's database in the home):

- latency: a home of the built-in programme with the six pilots' files of --year accepted (Prefect's
  own database already created, as after an operator's first command), copied afresh for each run;
  `evaluation run --year Y` then `approve --year Y --stage evaluation`, cold (no server running: the
  command starts its own) and warm (`pilotzones serve` running on the home, started before and
  stopped after, untimed); `status --year Y`. `--runs` runs of each, the median beside its target.
- an operator's year (one run cold, one with `serve` running, each in a new home): the calls and
  reminders (flows in a process of their own: no command sends them by hand, `serve` sends them on
  their dates), the nominations and the review sheet, the candidate selection and its approval,
  the six evaluation files, the evaluation and its approval; each command's wall time and their
  sum beside the 60 s target.

The machine may be shared: judge by the medians of repeated runs, and rerun when the load was high
(the load average is printed before and after).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

EXE = Path(sys.executable).with_name("pilotzones")
TARGET_COLD = 5.0
TARGET_WARM = 3.0
TARGET_STATUS = 0.5
TARGET_YEAR = 60.0

# A call or reminder as its scheduled deployment runs it, in a process of its own that chooses its
# Prefect server as the stage commands do (deployments/local_api.py).
CALL = """
import sys
from pathlib import Path
from pilotzones.cli.main import _flow_run, _prefect_env
from pilotzones.deployments.local_api import choose_api
home, kind, year = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
_prefect_env(home)
api = choose_api(home)
from pilotzones.flows import notices
with _flow_run(api):
    getattr(notices, kind)(home=str(home), year=year)
"""


def operator_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILOTZONES_", "PREFECT_"))}
    return dict(env, PILOTZONES_HOME=str(home), GX_ANALYTICS_ENABLED="false")


def timed(command: list[str], home: Path) -> float:
    """Wall seconds of one process running `command` on `home`, from its start to its exit."""
    start = time.perf_counter()
    done = subprocess.run(command, env=operator_env(home), capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[1:])} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return seconds


def cli(home: Path, *args: str) -> float:
    return timed([str(EXE), *args], home)


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(home: Path) -> Iterator[None]:
    """`pilotzones serve` on `home` until the block ends, stopped as systemd would (SIGTERM)."""
    from pilotzones.deployments.local_api import SERVE_RECORD, running_serve

    log = open(home / "serve-bench.log", "wb")
    proc = subprocess.Popen(
        [str(EXE), "serve", "--port", str(_free_port())],
        env=operator_env(home),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300
        while not ((home / SERVE_RECORD).exists() and running_serve(home)):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"serve did not start: see {log.name}")
            time.sleep(0.2)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # serve and the server it started, never left behind
            proc.wait()
        log.close()


def evaluation_files(home: Path, year: int, folder: Path) -> list[Path]:
    from pilotzones.cli.demo import sample_rows, write_csv
    from pilotzones.store.home import Home

    h = Home(home)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        write_csv(sample_rows(h.programme, h.register.name(z), z, year), folder / f"{z}.csv")
        for z in h.programme.pilots.initial
    ]


def nomination_files(home: Path, year: int, folder: Path) -> tuple[list[Path], Path]:
    """One nomination file per prefecture (the demo's first plan) and the review sheet."""
    from pilotzones.cli.demo import NOMINATIONS, write_nominations
    from pilotzones.store.home import Home

    reg = Home(home).register
    by_pref: dict[str, list[dict]] = {}
    for pref, adcode, _ in NOMINATIONS[0]:
        row = {"year": year, "prefecture": reg.prefectures[pref], "adcode": adcode, "county": reg.name(adcode)}
        row.update(contact_email=f"wjw.{adcode}@example.org", reason="党委政府支持力度大，工作基础较好")
        by_pref.setdefault(pref, []).append(row)
    folder.mkdir(parents=True, exist_ok=True)
    files = [write_nominations(rows, folder / f"nominations-{p}.csv") for p, rows in sorted(by_pref.items())]
    review = folder / "review-sheet.csv"
    lines = ["year,adcode,review_score"] + [f"{year},{a},{s:g}" for _, a, s in NOMINATIONS[0] if s is not None]
    review.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files, review


def template(work: Path, year: int) -> Path:
    """A home with the six pilots' files of `year` accepted and Prefect's database created."""
    from pilotzones.deployments.local_api import TemporaryServer

    from pilotzones.store.home import init_home

    home = init_home(work / "template").path
    files = evaluation_files(home, year, work / "files")
    at = deadline(home, "evaluation_deadline", year, days=-10)
    cli(home, "submit", *map(str, files), "--year", str(year), "--at", at)
    # Prefect's database, created and migrated once as an operator's first command would.
    (home / "prefect").mkdir(exist_ok=True)
    os.environ.update(PREFECT_HOME=str(home / "prefect"), PREFECT_SERVER_ANALYTICS_ENABLED="false")
    server = TemporaryServer(work / "template-server.log")
    server.ready(300)
    server.stop()
    return home


def deadline(home: Path, moment: str, year: int, days: float = 0, hours: float = 0) -> str:
    from pilotzones.store.home import Home

    return (Home(home).programme.moment(moment, year) + timedelta(days=days, hours=hours)).isoformat()


def latency(work: Path, home: Path, year: int, runs: int, warm: bool) -> list[tuple[str, list[float], float]]:
    y = str(year)
    rows: dict[str, list[float]] = {}
    for i in range(runs):
        h = work / f"cold-{i}"
        shutil.copytree(home, h)
        rows.setdefault("evaluation run, cold (no server)", []).append(cli(h, "evaluation", "run", "--year", y))
        rows.setdefault("approve, cold (no server)", []).append(cli(h, "approve", "--year", y, "--stage", "evaluation"))
        rows.setdefault("status --year", []).append(cli(h, "status", "--year", y))
    if warm:
        for i in range(runs):
            h = work / f"warm-{i}"
            shutil.copytree(home, h)
            with serving(h):
                rows.setdefault("evaluation run, warm (serve running)", []).append(
                    cli(h, "evaluation", "run", "--year", y)
                )
                rows.setdefault("approve, warm (serve running)", []).append(
                    cli(h, "approve", "--year", y, "--stage", "evaluation")
                )
    targets = {"cold": TARGET_COLD, "warm": TARGET_WARM, "status": TARGET_STATUS}
    return [(name, xs, next(t for k, t in targets.items() if k in name)) for name, xs in rows.items()]


def operator_year(work: Path, year: int, warm: bool) -> list[tuple[str, float]]:
    from pilotzones.store.home import init_home

    home = init_home(work / ("year-warm" if warm else "year-cold")).path
    with serving(home) if warm else contextlib.nullcontext():
        return _year(work, home, year)


def _year(work: Path, home: Path, year: int) -> list[tuple[str, float]]:
    y = str(year)
    nominations, review = nomination_files(home, year, home / "inbox")
    files = evaluation_files(home, year, home / "inbox")

    def call(kind: str) -> float:
        return timed([sys.executable, "-c", CALL, str(home), kind, y], home)

    out: list[tuple[str, float]] = []
    out.append(("call: nomination-call (flow)", call("nomination_call")))
    out.append(("call: nomination-reminder (flow)", call("nomination_reminder")))
    at = deadline(home, "nomination_deadline", year, days=-3)
    out.append(
        (
            f"submit {len(nominations)} nomination files",
            cli(home, "submit", *map(str, nominations), "--year", y, "--kind", "nomination", "--at", at),
        )
    )
    at = deadline(home, "nomination_deadline", year, hours=8)
    out.append(
        ("submit the review sheet", cli(home, "submit", str(review), "--year", y, "--kind", "review", "--at", at))
    )
    out.append(("candidates run", cli(home, "candidates", "run", "--year", y)))
    out.append(("approve --stage candidates", cli(home, "approve", "--year", y, "--stage", "candidates")))
    out.append(("call: evaluation-call (flow)", call("evaluation_call")))
    out.append(("call: evaluation-reminder (flow)", call("evaluation_reminder")))
    at = deadline(home, "evaluation_deadline", year, days=-10)
    out.append(
        (f"submit {len(files)} evaluation files", cli(home, "submit", *map(str, files), "--year", y, "--at", at))
    )
    out.append(("evaluation run", cli(home, "evaluation", "run", "--year", y)))
    out.append(("approve --stage evaluation", cli(home, "approve", "--year", y, "--stage", "evaluation")))
    out.append(("status --year", cli(home, "status", "--year", y)))
    status = subprocess.run(
        [str(EXE), "status", "--year", y, "--json"], env=operator_env(home), capture_output=True, text=True
    )
    state = json.loads(status.stdout)
    if state["evaluation"]["state"] != "published" or state["candidates"]["state"] != "published":
        raise SystemExit(f"the year did not end published: {status.stdout[:400]}")
    return out


def verdict(value: float, target: float) -> str:
    return f"≤ {target:g} s: {'met' if value <= target else 'NOT met'}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=3, help="runs of each latency figure (default 3)")
    p.add_argument("--year", type=int, default=2025, help="the year evaluated (default 2025)")
    p.add_argument("--no-warm", action="store_true", help="skip the runs with `serve` running")
    p.add_argument("--no-year", action="store_true", help="skip the operator's year")
    p.add_argument("--no-latency", action="store_true", help="only the operator's year")
    p.add_argument("--keep", type=Path, help="work in DIR and keep it")
    args = p.parse_args(argv)
    for k in [k for k in os.environ if k.startswith(("PILOTZONES_", "PREFECT_"))]:
        del os.environ[k]
    work = args.keep or Path(tempfile.mkdtemp(prefix="pilotzones-latency-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"stage-command latency: the six pilots, year {args.year}, {os.cpu_count()} CPUs, SQLite home")
        print(f"load average before: {load()}")
        if not args.no_latency:
            home = template(work, args.year)
            rows = latency(work, home, args.year, args.runs, warm=not args.no_warm)
            print(f"{'command':<40} {'runs (s)':<26} {'median':>7}  target")
            for name, xs, target in rows:
                med = statistics.median(xs)
                print(f"{name:<40} {' '.join(f'{x:.2f}' for x in xs):<26} {med:>7.2f}  {verdict(med, target)}")
        if not args.no_year:
            years = {"cold": operator_year(work, args.year, warm=False)}
            if not args.no_warm:
                years["warm"] = operator_year(work, args.year, warm=True)
            print(f"an operator's year {args.year} through the command line: cold (no server), warm (serve running)")
            print(f"  {'command':<40} {'cold':>6} {'warm':>6}")
            for i, (name, seconds) in enumerate(years["cold"]):
                warm = f"{years['warm'][i][1]:>6.2f}" if "warm" in years else ""
                print(f"  {name:<40} {seconds:>6.2f} {warm}")
            sums = {k: sum(s for _, s in v) for k, v in years.items()}
            warm = f" {sums['warm']:>6.2f}" if "warm" in sums else ""
            print(f"  {'sum':<40} {sums['cold']:>6.2f}{warm}  {verdict(min(sums.values()), TARGET_YEAR)} (the better)")
        print(f"load average after: {load()}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
