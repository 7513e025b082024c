"""Several machines on this one: a real Prefect server with its services on (automations included;
its database on PostgreSQL where one answers), the deployments of prefect.yaml on a process work
pool, and process workers with PREFECT_HOMEs of their own standing in for worker hosts that share
only the state database and the shared home."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.settings import PREFECT_API_URL, temporary_settings

from pilotzones.cli.status import year_status
from pilotzones.store import models as m
from pilotzones.store.home import PROGRAMME_FILE, init_home
from pilotzones.store.session import session
from tests.conftest import PG_ADMIN, _postgres_reachable
from tests.integration.cli_runs import ROOT, SCALES
from tests.integration.test_evaluation_flow import send

pytestmark = pytest.mark.integration

PREFECT = str(Path(sys.executable).parent / "prefect")
PASSWORD = "Sh4red-pa55-never-in-the-ui"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(what: str, check, timeout: float, every: float = 1.0):
    """Poll `check` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every)


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL a worker and every process it started (its flow runs start sessions of their own)."""
    for pid in [proc.pid, *_descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server_database() -> Iterator[str | None]:
    """A fresh PostgreSQL database for the Prefect server, as the README sets it up; None (the
    server's own SQLite) where no PostgreSQL answers."""
    if _postgres_reachable():
        yield None
        return
    import sqlalchemy as sa

    name = f"pz_prefect_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("+psycopg", "+asyncpg") + "/" + name
    finally:
        with admin.connect() as c:
            c.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def server(tmp_path_factory, server_database) -> Iterator[str]:
    """`prefect server start` on a free port with every service on (the test harness runs none)."""
    work = tmp_path_factory.mktemp("prefect-server")
    port = _free_port()
    env = dict(
        os.environ,
        PREFECT_HOME=str(work),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_SERVER_API_HOST="127.0.0.1",
        PREFECT_SERVER_API_PORT=str(port),
    )
    env.pop("PREFECT_API_URL", None)
    if server_database:
        env["PREFECT_API_DATABASE_CONNECTION_URL"] = server_database
    log = (work / "server.log").open("wb")
    proc = subprocess.Popen(
        [PREFECT, "server", "start", "--no-ui"], env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    api = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            assert proc.poll() is None, (work / "server.log").read_text()
            return False

    try:
        _wait("the Prefect server", healthy, timeout=120)
        yield api
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _prefect(api: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    full = dict(os.environ, PREFECT_API_URL=api, **env)
    return subprocess.run([PREFECT, *args], capture_output=True, text=True, env=full, cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def deployed(server, tmp_path_factory) -> dict:
    """The pool, the zombie automation and `prefect deploy --all`, as the README tells an operator.

    The deployer's environment holds a database URL with a password: none of it may reach the
    server. The shared home is the one every test's workers mount.
    """
    shared = tmp_path_factory.mktemp("srv") / "pilotzones"
    secret_url = f"postgresql+psycopg://pilotzones:{PASSWORD}@db.invalid:5432/pilotzones"
    for args in (
        ("work-pool", "create", "pilotzones", "--type", "process", "--overwrite"),
        ("automation", "create", "--from-file", "deployments/crash-zombie-flows.yaml"),
        ("--no-prompt", "deploy", "--all"),
    ):
        done = _prefect(
            server,
            *args,
            PILOTZONES_HOME=str(shared),
            PILOTZONES_CHECKOUT=str(ROOT),
            PILOTZONES_DATABASE_URL=secret_url,
            PILOTZONES_SMTP_PASSWORD=PASSWORD,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert PASSWORD not in done.stdout + done.stderr
    with temporary_settings({PREFECT_API_URL: server}), get_client(sync_client=True) as client:
        deployments = {d.name: d for d in client.read_deployments()}
    return {"home": shared, "deployments": deployments}


def _worker(api: str, name: str, prefect_home: Path, db_url: str, **env: str) -> subprocess.Popen:
    """A process worker as on its own host: its own PREFECT_HOME, the secrets in its environment."""
    prefect_home.mkdir(parents=True, exist_ok=True)
    full = dict(
        os.environ,
        PREFECT_API_URL=api,
        PREFECT_HOME=str(prefect_home),
        PREFECT_WORKER_QUERY_SECONDS="2",
        PILOTZONES_DATABASE_URL=db_url,
        **env,
    )
    for k in ("PILOTZONES_HOME", "PREFECT_RESULTS_LOCAL_STORAGE_PATH", "PILOTZONES_FAULT"):
        if k not in env:
            full.pop(k, None)
    log = (prefect_home / "worker.log").open("wb")
    return subprocess.Popen(
        [PREFECT, "worker", "start", "--pool", "pilotzones", "--name", name],
        env=full,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=prefect_home,
        start_new_session=True,
    )


def _run(api: str, deployment, **parameters):
    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        return client.create_flow_run_from_deployment(deployment.id, parameters=parameters)


def _read(api: str, run_id):
    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def _final(api: str, run_id, timeout: float = 240):
    return _wait(f"flow run {run_id} to end", lambda: (r := _read(api, run_id)).state.is_final() and r, timeout)


def test_deployments_hold_no_secret_and_say_how_notices_go(deployed):
    """Job variables, parameters and pull steps are shown in the UI: no database URL, no password."""
    deployments = deployed["deployments"]
    assert len(deployments) == 9  # six of the cycle, three between evaluations (issue 14)
    for d in deployments.values():
        shown = json.dumps(
            {"job_variables": d.job_variables, "parameters": d.parameters, "pull_steps": d.pull_steps},
            ensure_ascii=False,
        )
        assert PASSWORD not in shown and "postgresql" not in shown and "DATABASE_URL" not in shown, shown
        env = d.job_variables["env"]
        assert env["PILOTZONES_DELIVERY"] == "smtp"
        assert env["PREFECT_RESULTS_LOCAL_STORAGE_PATH"] == f"{deployed['home']}/results"
        assert int(env["PREFECT_FLOWS_HEARTBEAT_FREQUENCY"]) == 30
        assert d.parameters["home"] == str(deployed["home"])


@pytest.mark.parametrize("problem", ["missing", "not_initialised", "other_programme"])
def test_a_worker_without_the_shared_home_refuses_and_creates_nothing(
    server, deployed, db_url, tmp_path, problem, monkeypatch
):
    """The run ends Failed with one line naming the home and what to do; no home is created."""
    home = deployed["home"]
    if problem == "not_initialised":
        home.mkdir(parents=True)
    if problem == "other_programme":
        monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
        init_home(home)
        text = (home / PROGRAMME_FILE).read_text(encoding="utf-8")
        (home / PROGRAMME_FILE).write_text(text + "\n# edited on one worker only\n", encoding="utf-8")
    try:
        worker = _worker(server, f"refusing-{problem}", tmp_path / "worker", db_url)
        try:
            run = _run(server, deployed["deployments"]["evaluation-call"], year=2022)
            final = _final(server, run.id, timeout=180)
        finally:
            _kill_tree(worker)
        assert final.state.is_failed(), (final.state, (tmp_path / "worker" / "worker.log").read_text())
        message = final.state.message
        assert "\n" not in message and str(home) in message and "pilotzones --home" in message, message
        if problem == "other_programme":
            assert message.count("sha256") == 2, message
        elif problem == "missing":
            assert not home.exists()
        else:
            assert list(home.iterdir()) == []
    finally:
        import shutil

        shutil.rmtree(home, ignore_errors=True)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_run_whose_worker_died_ends_crashed_and_a_retry_completes_on_the_other(
    server, deployed, db_url, tmp_path, monkeypatch
):
    """Worker A is SIGKILLed with its flow mid-run; heartbeats stop; the automation crashes the run;
    a retry runs on worker B, which takes the finished steps from the shared result storage."""
    home_path = deployed["home"]
    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    home = init_home(home_path)
    send(home, tmp_path, 2022, SCALES)
    a = _worker(
        server,
        "host-a",
        tmp_path / "host-a",
        db_url,
        PILOTZONES_FAULT="rank-and-card:sleep",
        PILOTZONES_FAULT_SLEEP="900",
    )
    b = None
    try:
        run = _run(server, deployed["deployments"]["evaluation-stage"], year=2022, wait_for_approval=False)

        def tasks(run_id):
            with temporary_settings({PREFECT_API_URL: server}), get_client(sync_client=True) as client:
                return client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))

        def held() -> bool:
            return any(t.name.startswith("rank-and-card") and t.state.is_running() for t in tasks(run.id))

        _wait("the run to be held at rank-and-card on worker A", held, timeout=240)
        _kill_tree(a)
        crashed = _wait(
            "the automation to mark the run Crashed",
            lambda: (r := _read(server, run.id)).state.is_crashed() and r,
            timeout=300,
            every=3,
        )
        assert "心跳" in crashed.state.message
        b = _worker(server, "host-b", tmp_path / "host-b", db_url)
        retry = _prefect(server, "flow-run", "retry", str(run.id))  # what the README tells the operator
        assert retry.returncode == 0, retry.stdout + retry.stderr
        final = _final(server, run.id)
        assert final.state.is_completed(), (final.state, (tmp_path / "host-b" / "worker.log").read_text())
        assert final.run_count == 2
        states = {t.name: t.state.name for t in tasks(run.id)}
        cached = [
            t for t in tasks(run.id) if t.name.startswith(("collect-submissions", "score")) and t.state.name == "Cached"
        ]
        assert len(cached) == 2, states
        assert any(p.name for p in (home_path / "results").iterdir())
        assert year_status(home, 2022)["evaluation"]["state"] == "awaiting_approval"
    finally:
        for w in (a, b):
            if w is not None and w.poll() is None:
                _kill_tree(w)


def test_the_worker_launcher_refuses_a_home_whose_programme_the_database_does_not_know(db_url, tmp_path, monkeypatch):
    """`python -m pilotzones.deployments.worker` checks the shared home before it starts a worker at all."""
    home = tmp_path / "shared"
    env = dict(os.environ, PILOTZONES_HOME=str(home), PILOTZONES_DATABASE_URL=db_url)

    def launch(*args: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "pilotzones.deployments.worker", *args]
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)

    missing = launch()
    assert missing.returncode == 2 and str(home) in missing.stderr and "init" in missing.stderr
    assert not home.exists()

    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    init_home(home)
    assert launch("--help").returncode == 0  # a fit machine goes on to `prefect worker start`

    text = (home / PROGRAMME_FILE).read_text(encoding="utf-8")
    (home / PROGRAMME_FILE).write_text(text.replace("\n", "\n\n", 1), encoding="utf-8")
    other = launch()
    assert other.returncode == 2 and other.stderr.count("sha256") == 2, other.stderr
    assert other.stderr.count("\n") == 1 and "Traceback" not in other.stderr


def test_a_command_where_the_shared_home_is_not_mounted_creates_no_home_of_its_own(db_url, tmp_path, monkeypatch):
    """Beside a state database already initialised, a missing home is refused, not created for the
    built-in programme (which would also re-seed the shared database with it)."""
    from tests.integration.cli_runs import EXE

    monkeypatch.setenv("PILOTZONES_DATABASE_URL", db_url)
    shared = init_home(tmp_path / "shared")
    text = (shared.path / PROGRAMME_FILE).read_text(encoding="utf-8")
    (shared.path / PROGRAMME_FILE).write_text(text + "\n# the shared copy\n", encoding="utf-8")
    init_home(shared.path)
    with session(db_url) as s:
        digest = s.get(m.Meta, "programme_sha256").value
    elsewhere = tmp_path / "not-mounted"
    env = dict(os.environ, PILOTZONES_DATABASE_URL=db_url)
    done = subprocess.run(
        [str(EXE), "--home", str(elsewhere), "status", "--year", "2022"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert str(elsewhere) in done.stderr and "init" in done.stderr and "Traceback" not in done.stderr
    assert not elsewhere.exists()
    with session(db_url) as s:
        assert s.get(m.Meta, "programme_sha256").value == digest
