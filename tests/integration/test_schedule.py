"""The calendar fires by itself: a real Prefect server with its scheduler creates each stage's runs at
the programme's dates, and a run whose date comes executes to its end through `serve` and through a
process worker.

The drill programme is the built-in one with its evaluation call moved a couple of minutes ahead,
so one wait covers both ways of running it. The session's test harness runs no scheduler, so this
module starts servers of its own: `serve`'s embedded one, and `pilotzones server` for the workers.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.integration.cli_runs import EXE, ROOT
from tests.smtp_server import Recorder, smtp_server

pytestmark = pytest.mark.integration

TZ = ZoneInfo("Asia/Shanghai")
PREFECT = str(Path(sys.executable).parent / "prefect")
BUILTIN = ROOT / "pilotzones" / "programmes" / "xinjiang.toml"
STAGE_MOMENTS = {
    "nomination-call": "nomination_call",
    "nomination-reminder": "nomination_reminder",
    "candidate-selection": "candidate_selection",
    "evaluation-call": "evaluation_call",
    "evaluation-reminder": "evaluation_reminder",
    "evaluation-stage": "evaluation",
    "rectification-reminder": "rectification_reminder",
    "rectification-overdue": "rectification_overdue",
    "visit-check": "visit_check",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return json.loads(r.read())
    except (OSError, ValueError):
        return None


def _wait(what: str, check, seconds: float, every: float = 1.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(every)
    raise AssertionError(f"{what}: not within {seconds:.0f} s")


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _calendar(programme: Path) -> dict[str, str]:
    import tomllib

    return tomllib.loads(programme.read_text(encoding="utf-8"))["calendar"]


def next_date(entry: str, after: datetime) -> datetime:
    """The next moment a yearly calendar entry ("12-31 09:00:00") comes, in programme time."""
    md, hms = entry.split(" ")
    month, day = (int(x) for x in md.split("-"))
    hour, minute, second = (int(x) for x in hms.split(":"))
    for year in (after.year, after.year + 1):
        at = datetime(year, month, day, hour, minute, second, tzinfo=TZ)
        if at > after:
            return at
    raise AssertionError("unreachable")


def _flow_runs(api_url: str) -> list:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def read():
        async with get_client() as client:
            deployments = {d.id: d for d in await client.read_deployments()}
            return [(deployments.get(r.deployment_id), r) for r in await client.read_flow_runs()]

    with temporary_settings({PREFECT_API_URL: api_url}):
        return asyncio.run(read())


def scheduled_by_deployment(api_url: str, home: Path) -> dict[str, list[datetime]]:
    """The Scheduled runs the server created for this home's deployments, in programme time."""
    out: dict[str, list[datetime]] = {}
    for dep, run in _flow_runs(api_url):
        if dep is None or run.parameters.get("home") != str(home.resolve()):
            continue
        if run.state_name == "Scheduled":
            out.setdefault(dep.name, []).append(run.expected_start_time.astimezone(TZ))
    return {k: sorted(v) for k, v in out.items()}


@dataclass
class Drill:
    programme: Path
    fires_at: datetime  # the evaluation call's moment, programme time


@pytest.fixture(scope="module")
def drill(tmp_path_factory) -> Drill:
    """The built-in programme with its evaluation call at the next whole minute at least 150 s away."""
    now = datetime.now(TZ)
    fires = (now + timedelta(seconds=150)).replace(second=0, microsecond=0) + timedelta(minutes=1)
    text = BUILTIN.read_text(encoding="utf-8")
    text, n = re.subn(r'(?m)^evaluation_call = ".*"$', f'evaluation_call = "{fires:%m-%d %H:%M}:00"', text, count=1)
    assert n == 1
    path = tmp_path_factory.mktemp("drill") / "drill.toml"
    path.write_text(text, encoding="utf-8")
    return Drill(path, fires)


def _env(home: Path, prefect_home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "PILOTZONES_"))}
    env.update(
        PILOTZONES_HOME=str(home),
        PILOTZONES_DATABASE_URL=f"sqlite:///{home / 'state.db'}",
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        GX_ANALYTICS_ENABLED="false",
    )
    env.update(extra)
    return env


def _ok(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess:
    """Run a command in the checkout, as an operator would, and require it to succeed."""
    done = subprocess.run([str(a) for a in args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _init(home: Path, programme: Path, env: dict[str, str]) -> None:
    _ok(env, EXE, "init", "--program", programme)


def _log(path: Path):
    return open(path, "ab")


@dataclass
class Place:
    home: Path
    api_url: str
    env: dict
    logs: Path
    mail: Recorder | None = None


@pytest.fixture(scope="module")
def served(drill, tmp_path_factory) -> Iterator[Place]:
    """One office machine: `pilotzones serve --port N` with its embedded server (scheduler on)."""
    base = tmp_path_factory.mktemp("served")
    home, port = base / "home", _free_port()
    env = _env(home, base / "prefect")
    _init(home, drill.programme, env)
    proc = subprocess.Popen(
        [str(EXE), "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=_log(base / "serve.log"),
        stderr=subprocess.STDOUT,
    )
    try:
        yield Place(home, f"http://127.0.0.1:{port}/api", env, base)
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def shared(drill, tmp_path_factory) -> Iterator[Place]:
    """Several machines: `pilotzones server`, the stages deployed to a work pool, one process worker."""
    base = tmp_path_factory.mktemp("shared")
    home, port = base / "home", _free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    mail = smtp_server(Recorder())
    recorder, smtp_port = mail.__enter__()
    server = subprocess.Popen(
        [str(EXE), "server", "--port", str(port)],
        env=_env(home, base / "server-prefect"),
        cwd=ROOT,
        stdout=_log(base / "server.log"),
        stderr=subprocess.STDOUT,
    )
    procs = [server]
    try:
        _wait("pilotzones server answers", lambda: _get(f"{api_url}/health"), 180)
        # Deployments on a pool send by SMTP (PILOTZONES_DELIVERY=smtp): the worker knows the server.
        env = _env(
            home,
            base / "worker-prefect",
            PREFECT_API_URL=api_url,
            PILOTZONES_SMTP_HOST="127.0.0.1",
            PILOTZONES_SMTP_PORT=str(smtp_port),
            PILOTZONES_MAIL_FROM="jcws@example.org",
        )
        _init(home, drill.programme, env)
        _ok(env, PREFECT, "work-pool", "create", "drill", "--type", "process", "--overwrite")
        assert f"{len(STAGE_MOMENTS)} 个部署" in _ok(env, EXE, "deploy", "--pool", "drill").stdout
        # The worker runs elsewhere: its own folder, the checkout reached through the deployment.
        worker = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", "drill", "--type", "process"],
            env=env,
            cwd=tempfile.gettempdir(),
            stdout=_log(base / "worker.log"),
            stderr=subprocess.STDOUT,
        )
        procs.append(worker)
        yield Place(home, api_url, env, base, recorder)
    finally:
        for p in reversed(procs):
            _stop(p)
        mail.__exit__(None, None, None)


def _check_calendar(scheduled: dict[str, list[datetime]], programme: Path, registered_at: datetime) -> None:
    calendar = _calendar(programme)
    assert set(scheduled) == set(STAGE_MOMENTS), scheduled
    for name, moment in STAGE_MOMENTS.items():
        assert scheduled[name][0] == next_date(calendar[moment], registered_at), (name, scheduled[name])


def test_serve_schedules_every_stage_at_its_programme_date_and_its_ui_finds_the_api(served, shared, drill):
    """Within a minute of `serve`, the Upcoming tab holds each stage's next date in programme time."""
    started = datetime.now(TZ)
    settings = _wait(
        "serve's embedded server answers", lambda: _get(served.api_url.removesuffix("/api") + "/ui-settings"), 180
    )
    # The UI asks the server where its API is: the port serve was given, not Prefect's default.
    assert settings["api_url"] == served.api_url
    scheduled = _wait(
        "the scheduler creates a run for every deployment",
        lambda: (s := scheduled_by_deployment(served.api_url, served.home)) and len(s) == len(STAGE_MOMENTS) and s,
        90,
    )
    _check_calendar(scheduled, drill.programme, started)
    assert scheduled["evaluation-stage"][0].strftime("%m-%d %H:%M") == "12-31 09:00"


def test_deploy_to_a_work_pool_is_scheduled_the_same_way(shared, drill):
    started = datetime.now(TZ)
    scheduled = _wait(
        "the scheduler creates a run for every deployment on the pool",
        lambda: (s := scheduled_by_deployment(shared.api_url, shared.home)) and len(s) == len(STAGE_MOMENTS) and s,
        90,
    )
    _check_calendar(scheduled, drill.programme, started - timedelta(minutes=5))


def _completed_call(place: Place):
    for dep, run in _flow_runs(place.api_url):
        if dep is not None and dep.name == "evaluation-call" and dep.parameters.get("home") == str(place.home):
            if run.state and run.state.is_final():
                return run
    return None


@pytest.mark.parametrize("way", ["served", "shared"])
def test_a_stage_whose_date_comes_runs_to_its_end_by_itself(way, served, shared, drill):
    """Nobody triggers it: the scheduled evaluation call runs at its minute and sends its notices."""
    place = served if way == "served" else shared
    wait = (drill.fires_at - datetime.now(TZ)).total_seconds() + 120
    run = _wait(f"the scheduled evaluation call ({way}) ends", lambda: _completed_call(place), wait, every=3)
    assert run.state.is_completed(), (run.state, (place.logs / "worker.log"))
    assert abs((run.expected_start_time - drill.fires_at).total_seconds()) < 1
    assert run.start_time >= drill.fires_at - timedelta(seconds=30)
    st = json.loads(_ok(place.env, EXE, "status", "--year", str(drill.fires_at.year), "--json").stdout)
    assert st["runs"]["evaluation_call"]["outcome"] == "done"
    assert st["runs"]["evaluation_call"]["flow_run_id"] == str(run.id)
    # Six pilot zones, each called with its prefecture in copy: six notices, written as .eml files
    # on one machine, mailed by the worker (its deployments say smtp).
    assert st["runs"]["evaluation_call"]["counts"]["notices_new"] == 6
    if place.mail is not None:
        kinds = [m.message["X-Notice-Kind"] for m in place.mail.received]
        assert kinds == ["evaluation_call"] * 6
    else:
        assert len(list((place.home / "outbox").rglob("*.eml"))) == 6


def test_prefect_yaml_deployments_are_scheduled_at_the_programme_dates(shared, tmp_path):
    """`prefect deploy --all` (prefect.yaml) to the shared server: every stage on the Upcoming tab.

    Last in this module: it registers the same deployment names as the worker drill, over them.
    """
    drill_deployments = _deployments(shared.api_url)
    home = tmp_path / "yaml-home"
    env = dict(shared.env, PILOTZONES_HOME=str(home), PILOTZONES_CHECKOUT=str(ROOT))
    _ok(env, PREFECT, "work-pool", "create", "pilotzones", "--type", "process", "--overwrite")
    started = datetime.now(TZ)
    _ok(env, PREFECT, "--no-prompt", "deploy", "--all")
    scheduled = _wait(
        "the scheduler creates a run for every prefect.yaml deployment",
        lambda: (s := scheduled_by_deployment(shared.api_url, home)) and len(s) == len(STAGE_MOMENTS) and s,
        90,
    )
    _check_calendar(scheduled, BUILTIN, started)
    # `pilotzones deploy` gives a run what prefect.yaml gives it: the same pull steps, the same
    # job variables (no secret in either) and parameters, the home aside.
    yaml_deployments = _deployments(shared.api_url)
    for name in STAGE_MOMENTS:
        ours, theirs = drill_deployments[name], yaml_deployments[name]
        assert theirs["parameters"]["home"] == str(home), name
        assert json.loads(json.dumps(ours).replace(str(shared.home), "HOME")) == json.loads(
            json.dumps(theirs).replace(str(home), "HOME")
        ), name


def _deployments(api_url: str) -> dict[str, dict]:
    """Each deployment's job variables, parameters and pull steps other than the working directory."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def read():
        async with get_client() as client:
            return await client.read_deployments()

    with temporary_settings({PREFECT_API_URL: api_url}):
        found = asyncio.run(read())
    return {
        d.name: {
            "job_variables": d.job_variables,
            "parameters": d.parameters,
            "pull_steps": [step for step in d.pull_steps or [] if "set_working_directory" not in json.dumps(step)],
        }
        for d in found
    }
