"""Benchmark of the December evaluation stage at national scale (issue 2).

    python benchmarks/evaluation_stage.py [--zones 2844] [--year 2023] [--keep DIR] [--database-url URL]
                                          [--no-flow] [--repeat 3] [--profile FILE]

Builds a national programme (the built-in programme's text with region 000000 全国 and the first N
county-level codes of the register as its pilots), writes one valid CSV per zone (demo.sample_rows),
and times the stage step by step: the ingest (`submit_many`: read, one GX run, archive, record, with
the time of each part), then the real Prefect flow `evaluation_stage(approve=True)`, run once on an
embedded (ephemeral) Prefect server, with each of its step functions (collect, score, rank_and_card,
disqualify_and_replace, build_proposal + propose, publish, notices) timed as it runs: the flow's wall
time less the sum of its steps is Prefect's overhead. `--no-flow` calls the same step functions
directly instead. The same files are then read, checked, scored and ranked by a bare pandas script
(benchmarks/bare_pandas.py, in a process of its own), which must find the same ranking.

Prints seconds per step, peak memory (ru_maxrss) after each, and the ratio stage / bare pandas for the
comparable part (ingest + collect + score + rank) and for the whole stage. The comparable part and the
bare script are then each run `--repeat` times in all (default 3; the extra runs of the comparable part
into fresh homes and databases, with no Prefect), and the target (1.3x on SQLite, 1.5x on PostgreSQL)
is judged on the medians: one run on a shared disk varies by a third. The disk is synced before each
timed run of either, so that writing back the generated files or an earlier run's archive is not
counted against the next. `./dev bench` runs this.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pilotzones.gcpause import no_cyclic_gc

BARE = Path(__file__).with_name("bare_pandas.py")
PROGRAMME_ID = "national-bench"
# Issue 16: the comparable part within 1.3x of bare pandas on SQLite, 1.5x on PostgreSQL.
TARGET_RATIO = {"SQLite": 1.3, "PostgreSQL": 1.5}
TARGET_SECONDS = 60.0  # issue 2: the stage under 60 s on a 2-core machine


@dataclass
class Step:
    name: str
    seconds: float
    rss_mb: float
    part: str  # "setup", "stage", "detail" (inside the step above), "flow", "bare"


@dataclass
class Report:
    zones: int
    year: int
    database: str
    steps: list[Step] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bare: dict[str, Any] = field(default_factory=dict)
    # Seconds of the comparable part and of the bare script, one entry per run (the first: the run above).
    repeats: dict[str, list[float]] = field(default_factory=lambda: {"comparable": [], "bare": []})

    def add(self, name: str, seconds: float, part: str) -> None:
        self.steps.append(Step(name, seconds, _rss_mb(), part))

    def seconds(self, *names: str) -> float:
        return sum(s.seconds for s in self.steps if s.name in names)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def settle() -> None:
    """Flush what earlier steps wrote (the generated files, an earlier run's archive and database)
    before a timed run: the kernel writing those back must not land in the next run's time."""
    os.sync()


@contextmanager
def timed(report: Report, name: str, part: str = "stage") -> Iterator[None]:
    start = time.perf_counter()
    yield
    report.add(name, time.perf_counter() - start, part)


# --- set-up -----------------------------------------------------------------------------------------


def zones(n: int) -> list[str]:
    """The first `n` county-level codes of the national register."""
    from pilotzones.rules.register import load_register

    codes = list(load_register("000000").counties)
    if n > len(codes):
        raise SystemExit(f"--zones {n}: the national register has {len(codes)} county-level codes")
    return codes[:n]


def programme_text(codes: list[str]) -> str:
    """The built-in programme made national: other id and region, `codes` as pilots, one contact each."""
    from pilotzones.rules.programme import BUILTIN
    from pilotzones.rules.register import load_register

    text = BUILTIN.read_text(encoding="utf-8")
    text = _replace_once(text, r'^id = "[^"]*"$', f'id = "{PROGRAMME_ID}"')
    text = _replace_once(text, r'^region_code = "[^"]*"$', 'region_code = "000000"')
    text = _replace_once(text, r'^region_name = "[^"]*"$', 'region_name = "全国"')
    text = _replace_once(text, r"^initial = \[[^\]]*\]$", f"initial = {json.dumps(codes)}")
    # The region's own contacts do not fit a national programme: one bureau per zone, prefecture and region.
    text = text[: text.index("[[contacts]]")]
    register = load_register("000000")
    bureaus = {"000000": "region", **dict.fromkeys(sorted({c[:4] + "00" for c in codes}), "prefecture")}
    bureaus.update(dict.fromkeys(codes, "county"))
    entries = [
        f'[[contacts]]\nadcode = "{a}"\nname = "{register.name(a)}卫生健康委员会"\n'
        f'email = "wjw.{a}@example.org"\nrole = "{role}"\n'
        for a, role in bureaus.items()
    ]
    return text + "\n".join(entries)


def _replace_once(text: str, pattern: str, new: str) -> str:
    out, n = re.subn(pattern, new, text, count=1, flags=re.MULTILINE)
    if n != 1:
        raise RuntimeError(f"the built-in programme has no line matching {pattern!r}")
    return out


def write_files(home: Any, codes: list[str], year: int, inbox: Path) -> list[Path]:
    """One valid CSV per zone, as a county sends it."""
    from pilotzones.cli.demo import sample_rows, write_csv

    inbox.mkdir(parents=True, exist_ok=True)
    register = home.register
    return [write_csv(sample_rows(home.programme, register.name(c), c, year), inbox / f"{c}.csv") for c in codes]


@contextmanager
def database(url: str | None, keep: bool) -> Iterator[str | None]:
    """A database of the benchmark's own on the PostgreSQL server at `url` (dropped after), or SQLite (None)."""
    if url is None:
        yield None
        return
    import uuid

    import sqlalchemy as sa

    name = f"pz_bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        from pilotzones.store.session import engine

        engine(url.rsplit("/", 1)[0] + "/" + name).dispose()
        if not keep:
            with admin.connect() as c:
                c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def prefect_env(work: Path) -> None:
    """Run flows on an embedded Prefect server with its database in the work folder, as the CLI does."""
    if "prefect" not in sys.modules and not os.environ.get("PREFECT_API_URL"):
        # Before Prefect is imported: its settings are read once.
        os.environ["PREFECT_HOME"] = str((work / "prefect").resolve())
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from pilotzones.cli.main import _prefect_env

    _prefect_env(work)


# --- the stage --------------------------------------------------------------------------------------


@contextmanager
def spans(report: Report, targets: list[tuple[Any, str, str]], part: str) -> Iterator[None]:
    """Time every call of module attributes (module, attribute, label) while inside; one line per label.

    The tasks and step functions call these through their modules, so the wrappers see every call,
    inside a flow run as well as outside. Labels are reported in the order given.
    """
    totals = dict.fromkeys((label for _, _, label in targets), 0.0)
    peaks = dict.fromkeys(totals, 0.0)  # peak RSS when the label's last call returned
    saved = [(module, attr, getattr(module, attr)) for module, attr, _ in targets]

    def wrap(fn: Callable, label: str) -> Callable:
        def timed_call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                totals[label] += time.perf_counter() - start
                peaks[label] = _rss_mb()

        return timed_call

    for (module, attr, fn), (_, _, label) in zip(saved, targets, strict=True):
        setattr(module, attr, wrap(fn, label))
    try:
        yield
    finally:
        for module, attr, fn in saved:
            setattr(module, attr, fn)
        for label, seconds in totals.items():
            report.steps.append(Step(label, seconds, peaks[label], part))


def ingest(report: Report, home: Any, paths: list[Path], year: int, profile: Path | None) -> None:
    """`submit_many` on every file, on time, with the time spent in its parts."""
    from pilotzones.intake import bulk, evaluation, gx

    at = home.programme.moment("evaluation_deadline", year) - timedelta(days=1)
    parts = [
        (evaluation, "read_columns", "  read (per file, to column lists)"),
        (evaluation, "_combine", "  one frame of all files"),
        (evaluation, "prepare", "  prepare (helper columns, once)"),
        (gx, "validate", "  GX validate (one run)"),
        (evaluation, "_county_suspects", "  county screen"),
        (bulk, "_archived_records", "  archive bytes (one pack)"),
        (bulk, "_record", "  record (one transaction, bulk inserts)"),
    ]
    profiler = cProfile.Profile() if profile else None
    settle()
    start = time.perf_counter()
    with spans(report, parts, "detail"):
        if profiler:
            profiler.enable()
        with no_cyclic_gc():  # as the `submit` command runs it
            outcomes = bulk.submit_many(home, paths, year=year, at=at)
        if profiler:
            profiler.disable()
        seconds = time.perf_counter() - start
    # The step above its parts.
    report.steps.insert(len(report.steps) - len(parts), Step("ingest", seconds, _rss_mb(), "stage"))
    if profiler and profile:
        profiler.dump_stats(profile)
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(25)
        report.notes.append(f"profile of the ingest (top 25, cumulative; also in {profile}):\n{buf.getvalue()}")
    rejected = [o for o in outcomes if not o.accepted]
    if rejected:
        raise RuntimeError(f"{len(rejected)} generated files were rejected, e.g. {rejected[0].errors[:3]}")


STAGE_STEPS = (
    "collect",
    "score",
    "rank_and_card",
    "disqualify_and_replace",
    "build_proposal + propose",
    "publish",
    "notices: build + queue",
    "notices: deliver (.eml)",
)
COMPARABLE = ("ingest", "collect", "score", "rank_and_card")
CACHE_KEYS = "  of which: cache keys (inputs_digest)"


def step_targets() -> list[tuple[Any, str, str]]:
    """The step functions of the stage, as the flow's tasks call them, with their report labels."""
    from pilotzones import notices
    from pilotzones.reports import yearly as reports
    from pilotzones.stages import evaluation as ev

    return [
        (ev, "collect", "collect"),
        (ev, "score", "score"),
        (ev, "rank_and_card", "rank_and_card"),
        (ev, "disqualify_and_replace", "disqualify_and_replace"),
        (ev, "build_proposal", "build_proposal + propose"),
        (ev, "propose", "build_proposal + propose"),
        (ev, "publish", "publish"),
        (reports, "write_year_report", "reports: workbook + HTML"),
        (notices, "evaluation_notices", "notices: build + queue"),
        (notices, "queue", "notices: build + queue"),
        (notices, "deliver", "notices: deliver (.eml)"),
    ]


def step_functions(home: Any, year: int) -> None:
    """Each step of the stage called directly, in the flow's order (no Prefect)."""
    from pilotzones import notices
    from pilotzones.reports import write_reports
    from pilotzones.stages import evaluation as ev

    collected = ev.collect(home, year)
    scores = ev.score(home, collected)
    ranked = ev.rank_and_card(home, scores)
    swaps = ev.disqualify_and_replace(home, year, ranked)
    ev.propose(home, collected, scores, ev.build_proposal(home, collected, scores, ranked, swaps), None)
    ev.publish(home, year)
    write_reports(home, year, "evaluation")  # as publication does
    notices.queue(home, notices.evaluation_notices(home, year, ev.published_result(home, year) or {}))
    notices.deliver(home, year=year, stage="evaluation")


def flow_run(report: Report, home: Any, year: int) -> None:
    """The real Prefect flow once, publishing, each step function timed inside it; the server starts first."""
    from pilotzones.flows.evaluation import evaluation_stage
    from prefect import flow

    from pilotzones.stages import evaluation as ev

    @flow(name="benchmark-warm-up")
    def warm_up() -> None:
        """Starts the embedded server, so the timed run does not pay for it."""

    with timed(report, "Prefect: start the embedded server (first flow)", "setup"):
        warm_up()
    # The flow's cache policy digests the state read by two of its tasks: Prefect overhead, shown apart.
    targets = [*step_targets(), (ev, "inputs_digest", CACHE_KEYS)]
    start = time.perf_counter()
    with spans(report, targets, "stage"):
        result = evaluation_stage(home=str(home.path), year=year, approve=True)
        wall = time.perf_counter() - start
    report.add(f"flow evaluation_stage({year}, approve=True): wall", wall, "flow")
    if result["state"] != "published":
        raise RuntimeError(f"the flow ended {result['state']}")


def direct_run(report: Report, home: Any, year: int) -> None:
    with spans(report, step_targets(), "stage"), no_cyclic_gc():  # as the stage flow runs its steps
        step_functions(home, year)


# --- bare pandas ------------------------------------------------------------------------------------


def bare(report: Report, inbox: Path, year: int, codes: list[str], work: Path) -> Path:
    """The baseline in a process of its own (its own peak memory); returns its ranking file."""
    ranking = work / "bare-ranking.csv"
    out = bare_once(inbox, year, codes, work, ranking)
    report.bare = out
    report.repeats["bare"].append(sum(out["seconds"].values()))
    for name, seconds in out["seconds"].items():
        report.steps.append(Step(f"bare: {name}", seconds, out["peak_rss_mb"], "bare"))
    return ranking


def bare_once(inbox: Path, year: int, codes: list[str], work: Path, ranking: Path | None = None) -> dict[str, Any]:
    """One run of bare_pandas.py: its JSON report, with the process's wall time."""
    pilots = work / "pilots.txt"
    pilots.write_text("\n".join(codes))
    command = [sys.executable, str(BARE), str(inbox), "--year", str(year), "--pilots", str(pilots)]
    if ranking is not None:
        command += ["--ranking", str(ranking)]
    settle()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bare_pandas.py failed:\n{done.stderr[-3000:]}")
    wall = time.perf_counter() - start
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"wall": wall}


def repeat(
    report: Report, runs: int, programme: Path, inbox: Path, year: int, codes: list[str], work: Path, url: str | None
) -> None:
    """The comparable part (into a fresh home, and on PostgreSQL a fresh database, each time; steps
    called directly) and the bare script, `runs - 1` more times each, alternating: a disk or a
    neighbour busy for one run moves the median of several much less than a single figure."""
    from pilotzones.intake import bulk
    from pilotzones.stages import evaluation as ev
    from pilotzones.store.home import init_home

    paths = sorted(inbox.glob("*.csv"))
    for n in range(1, runs):
        report.repeats["bare"].append(sum(bare_once(inbox, year, codes, work)["seconds"].values()))
        with database(url, keep=False) as fresh:
            if fresh:
                os.environ["PILOTZONES_DATABASE_URL"] = fresh
            home = init_home(work / f"home-repeat-{n}", programme)
            at = home.programme.moment("evaluation_deadline", year) - timedelta(days=1)
            settle()
            start = time.perf_counter()
            with no_cyclic_gc():  # as the `submit` command and the stage flow's steps run
                bulk.submit_many(home, paths, year=year, at=at)
                collected = ev.collect(home, year)
                ev.rank_and_card(home, ev.score(home, collected))
            report.repeats["comparable"].append(time.perf_counter() - start)


def same_ranking(proposal: dict, ranking: Path) -> str | None:
    """None when the bare script ranks as the stage did, else what differs."""
    import pandas as pd

    theirs = pd.read_csv(ranking, dtype={"adcode": str})
    ours = {r["adcode"]: (r["rank"], round(r["total"], 2), round(r["base"], 2)) for r in proposal["ranking"]}
    bare_ranks = {
        a: (int(k), round(float(t), 2), round(float(b), 2))
        for a, k, t, b in zip(theirs["adcode"], theirs["rank"], theirs["total"], theirs["base"], strict=True)
    }
    diff = [a for a in ours if ours[a] != bare_ranks.get(a)]
    return f"{len(diff)} zones differ, e.g. {diff[:3]}" if diff or len(ours) != len(bare_ranks) else None


# --- report -----------------------------------------------------------------------------------------


def render(report: Report) -> str:
    lines = [
        f"Evaluation stage benchmark: {report.zones} zones, year {report.year}, {report.database}, "
        f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
        "",
        f"{'step':<56} {'seconds':>9} {'peak RSS MB':>12}",
        "-" * 79,
    ]
    for s in report.steps:
        lines.append(f"{s.name:<56} {s.seconds:>9.2f} {s.rss_mb:>12.0f}")
    stage = report.seconds("ingest", *STAGE_STEPS)
    comparable = report.seconds(*COMPARABLE)
    bare_total = sum(report.bare.get("seconds", {}).values())
    steps_sum = report.seconds(*STAGE_STEPS)
    flow = next((s.seconds for s in report.steps if s.part == "flow"), None)
    lines += ["-" * 79]
    lines.append(f"{'stage: ingest + every step':<56} {stage:>9.2f}")
    lines.append(f"{'comparable: ingest + collect + score + rank_and_card':<56} {comparable:>9.2f}")
    lines.append(f"{'bare pandas: read + check + score + rank':<56} {bare_total:>9.2f}")
    if bare_total:
        lines.append(f"ratio comparable / bare, this run: {comparable / bare_total:.2f}x")
        runs = report.repeats
        if len(runs["comparable"]) > 1:
            ours, theirs = statistics.median(runs["comparable"]), statistics.median(runs["bare"])
            lines.append(f"comparable, runs: {_figures(runs['comparable'])}; median {ours:.2f}")
            lines.append(f"bare pandas, runs: {_figures(runs['bare'])}; median {theirs:.2f}")
        else:
            ours, theirs = comparable, bare_total
        ratio = ours / theirs
        target = TARGET_RATIO[report.database]
        verdict = "within" if ratio <= target else "OVER"
        lines.append(f"ratio comparable / bare (medians): {ratio:.2f}x ({verdict} the {target}x target)")
        lines.append(f"ratio whole stage / bare: {stage / bare_total:.2f}x")
    lines.append(f"stage under {TARGET_SECONDS:.0f} s: {'yes' if stage < TARGET_SECONDS else 'NO'} ({stage:.1f} s)")
    if flow is not None:
        overhead = flow - steps_sum
        cache = report.seconds(CACHE_KEYS)
        lines.append(
            f"flow wall {flow:.2f} s = its steps {steps_sum:.2f} s + Prefect overhead {overhead:.2f} s "
            f"({overhead / steps_sum:.0%}; of which {cache:.2f} s computing cache keys)"
        )
    if report.bare:
        wall, peak = report.bare["wall"], report.bare["peak_rss_mb"]
        lines.append(f"bare pandas process: {wall:.2f} s wall (imports included), peak RSS {peak:.0f} MB")
    lines.append(f"peak RSS of the stage process: {_rss_mb():.0f} MB")
    lines += ["", *report.notes]
    return "\n".join(lines)


def _figures(seconds: list[float]) -> str:
    return " ".join(f"{x:.2f}" for x in seconds)


# --- main -------------------------------------------------------------------------------------------


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--zones", type=int, default=2844, help="pilot zones, one file each (default 2844)")
    p.add_argument("--year", type=int, default=2023, help="the evaluation year timed step by step (default 2023)")
    p.add_argument("--keep", type=Path, help="work in DIR and keep it (home, files, Prefect database)")
    p.add_argument(
        "--database-url",
        help="a PostgreSQL server (SQLAlchemy URL to an admin database): the benchmark creates a database "
        "of its own there and drops it afterwards (kept with --keep). Default: SQLite in the work folder.",
    )
    p.add_argument("--no-flow", action="store_true", help="skip the Prefect flow run (no server needed)")
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of the comparable part and of the bare script; the target is judged on their medians (default 3)",
    )
    p.add_argument("--profile", type=Path, help="write a cProfile of the ingest to FILE and print its top")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if args.zones < 3:
        p.error("--zones must be at least 3 (two yellow cards and one zone above them)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="pilotzones-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        report = run(args, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    print(render(report))
    return 0


def run(args: argparse.Namespace, work: Path) -> Report:
    os.environ.pop("PILOTZONES_SMTP_HOST", None)  # notices go to .eml files, never to a mail server
    if not args.no_flow:
        prefect_env(work)
    with database(args.database_url, args.keep is not None) as url:
        if url:
            os.environ["PILOTZONES_DATABASE_URL"] = url
        else:
            os.environ.pop("PILOTZONES_DATABASE_URL", None)
        report = Report(args.zones, args.year, "PostgreSQL" if url else "SQLite")
        home, codes = _set_up(report, args, work)
        inbox = work / "inbox" / str(args.year)
        ingest(report, home, sorted(inbox.glob("*.csv")), args.year, args.profile)
        if args.no_flow:
            direct_run(report, home, args.year)
        else:
            flow_run(report, home, args.year)
        report.repeats["comparable"].append(report.seconds(*COMPARABLE))
        ranking = bare(report, inbox, args.year, codes, work)
        repeat(report, args.repeat, work / "national.toml", inbox, args.year, codes, work, args.database_url)
        if url:
            os.environ["PILOTZONES_DATABASE_URL"] = url
        from pilotzones.stages import evaluation as ev

        published = ev.published_result(home, args.year)
        differs = same_ranking(published.as_json() if published else {"ranking": []}, ranking)
        if differs:
            raise RuntimeError(f"the bare pandas ranking differs from the stage's: {differs}")
        report.notes.append("The bare pandas script ranks every zone as the stage does (rank, total, base).")
        return report


def _set_up(report: Report, args: argparse.Namespace, work: Path) -> tuple[Any, list[str]]:
    from pilotzones.intake import gx
    from pilotzones.store.home import init_home

    codes = zones(args.zones)
    programme = work / "national.toml"
    programme.write_text(programme_text(codes), encoding="utf-8")
    with timed(report, "init home (migrations, seed pilots)", "setup"):
        home = init_home(work / "home", programme)
    with timed(report, f"write {len(codes)} CSV files", "setup"):
        write_files(home, codes, args.year, work / "inbox" / str(args.year))
    with timed(report, "GX import + context (once per process)", "setup"):
        with no_cyclic_gc():  # as the `submit` command imports it
            gx.warm_up()
    settle()
    with timed(report, f"disk probe: create {len(codes)} small files", "setup"):
        probe(work / "probe", len(codes))
    return home, codes


def probe(folder: Path, files: int) -> None:
    """Create `files` small files, as the archive does: on this project's machines this costs 0.05 s
    on a quiet disk and up to 1 s while the disk still discards what a large deletion freed (an
    earlier benchmark's work folder), which the ingest's archive then pays too."""
    folder.mkdir(parents=True, exist_ok=True)
    data = b"x" * 1500
    for i in range(files):
        part = folder / f"{i}.part"
        part.write_bytes(data)
        part.replace(folder / f"{i}.csv")


if __name__ == "__main__":
    sys.exit(main())
