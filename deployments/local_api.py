"""Which Prefect API a stage command reports to, found before Prefect is imported (issue 16).

A stage command (`evaluation run`, `approve`, ...) used to pay for Prefect's temporary server in
series: the client imported the whole server module only to reach its launcher (2.3 s), then
waited for a new process to import it again and answer (3 s and more). Prefect's own database
migrations and the services are not where the time goes: the server's imports are. So, in order:

1. `PREFECT_API_URL` set (a shared server, the tests' server): that one, as before.
2. `pilotzones serve` running on this home: it leaves `HOME/prefect-server.json` (its API and its
   pid) while it runs; a live pid and a healthy API make the command use that server, which holds
   the same Prefect database, so the run shows among serve's on its UI.
3. Otherwise a temporary server of our own, started at once, before the command imports Prefect
   and the flows, so that both imports run side by side on two cores. It listens on a socket the
   command opened itself (no port race), runs what Prefect's temporary server runs (no UI, the
   services Prefect keeps for ephemeral servers), and is stopped when the command exits, after
   Prefect's own exit handlers have sent the last logs and events. The kernel ends it too if the
   command dies without running them (SIGKILL, a crash drill): it never outlives its command.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pilotzones.errors import PilotzonesError

SERVE_RECORD = "prefect-server.json"
TEMPORARY_LOG = "prefect-temporary-server.log"


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=timeout) as r:
            return r.status == 200
    except (OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def record_serve(home_path: Path, api_url: str) -> Path:
    """Say, for the stage commands on this home, that this process serves `api_url` (see 2. above)."""
    path = home_path / SERVE_RECORD
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps({"api_url": api_url, "pid": os.getpid()}), encoding="utf-8")
    os.replace(tmp, path)
    return path


def forget_serve(home_path: Path) -> None:
    """Remove the record if it is still this process's (another serve may have written its own)."""
    path = home_path / SERVE_RECORD
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass


def running_serve(home_path: Path) -> str | None:
    """The API of a `serve` running on this home, if its process lives and its API answers."""
    path = home_path / SERVE_RECORD
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
        api_url, pid = str(found["api_url"]), int(found["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not _alive(pid):
        path.unlink(missing_ok=True)  # serve was killed: its record goes with it
        return None
    return api_url if healthy(api_url, timeout=1.0) else None


class TemporaryServer:
    """Prefect's API in a child process for one command; `ready()` waits until it answers."""

    def __init__(self, log_path: Path) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
        self.api_url = f"http://127.0.0.1:{sock.getsockname()[1]}/api"
        self.log_path = log_path
        env = dict(
            os.environ,
            # What Prefect's own temporary server sets: no UI, the ephemeral set of services.
            PREFECT_UI_ENABLED="0",
            PREFECT__SERVER_EPHEMERAL="1",
            PREFECT__SERVER_FINAL="1",
        )
        env.pop("PREFECT_API_URL", None)
        command = [sys.executable, "-m", "uvicorn", "--factory", "prefect.server.api.server:create_app"]
        command += ["--fd", str(sock.fileno()), "--log-level", "error", "--lifespan", "on"]
        try:
            log = open(log_path, "ab")
        except OSError:  # a home this user may read but not write: the server's errors on stderr
            log = None
        try:
            self.process: subprocess.Popen[bytes] | None = subprocess.Popen(
                command,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT if log else None,
                pass_fds=[sock.fileno()],
                preexec_fn=_parent_death_signal(),
            )
        finally:
            if log:
                log.close()
            sock.close()  # the child holds the listening socket now
        atexit.register(self.stop)

    def ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not healthy(self.api_url, timeout=2.0):
            if self.process is None or self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise PilotzonesError(f"临时 Prefect 服务器未能启动，请查看 {self.log_path}")
            time.sleep(0.05)

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            stop_server(process, grace=10)


def stop_server(process: subprocess.Popen, grace: float) -> None:
    """Stop a Prefect server we started: SIGTERM (it finishes its requests and services), SIGKILL
    after `grace` seconds; either way reaped before this returns, never left behind."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _parent_death_signal():
    """What the child runs before exec: ask the kernel for SIGTERM when the command's process dies,
    however it dies (Linux's prctl; elsewhere nothing). Resolved here, in the parent: the child
    between fork and exec must not import."""
    import signal

    try:
        import ctypes

        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    pr_set_pdeathsig = 1

    def ask() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM)

    return ask


class LocalApi:
    """The server a command chose itself (`serve`'s or a temporary one), not a configured one."""

    def __init__(self, api_url: str, server: TemporaryServer | None = None) -> None:
        self.api_url = api_url
        self.server = server

    @contextmanager
    def running(self, timeout: float) -> Iterator[None]:
        """Around the command's flow run: the temporary server answering, and no heartbeat thread.

        Heartbeats serve the shared server's automation that marks a lost machine's run Crashed
        (README, Operations); neither a temporary server nor `serve`'s has it. Prefect's default
        sends one every 180 s from a thread that wakes once a second, and the run's end waits for
        that wake-up: half a second per command on average, for nothing."""
        if self.server is not None:
            # While the server starts on the other core: what the flow call would do first anyway.
            _engine_imports()
            from pilotzones.gcpause import freeze_once

            freeze_once()
            self.server.ready(timeout)
        from prefect.settings import temporary_settings

        with temporary_settings(updates={"flows.heartbeat_frequency": None}):
            yield


def _engine_imports() -> None:
    """What Prefect imports when a flow is first called (its flow and task engines, FastAPI's encoder
    for the parameters, graphviz for flow diagrams), imported while the command would otherwise
    wait for the server idle: the names are modules, and a missing one is only imported later."""
    import importlib

    for name in _FIRST_CALL_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # another Prefect release: the flow call imports what it needs


_FIRST_CALL_IMPORTS = (
    "prefect.flow_engine",
    "prefect.task_engine",
    "prefect.utilities.visualization",
    "fastapi.encoders",
    "prefect.concurrency.context",
    "prefect.concurrency.v1.context",
    "prefect._internal.control_listener",
    "prefect.telemetry.run_telemetry",
)


def choose_api(home_path: Path) -> LocalApi | None:
    """Point PREFECT_API_URL at the server this command reports to (see the module's docstring).
    None when the choice is not ours: a server is configured, or Prefect is imported already (an
    in-process caller such as a test runner: its settings are fixed, and Prefect's rules apply)."""
    if "prefect" in sys.modules or os.environ.get("PREFECT_API_URL"):
        return None
    if os.environ.get("PREFECT_SERVER_EPHEMERAL_ENABLED", "true").lower() in ("0", "false", "no", "off"):
        return None
    serve = running_serve(home_path)
    if serve:
        os.environ["PREFECT_API_URL"] = serve
        return LocalApi(serve)
    server = TemporaryServer(home_path / TEMPORARY_LOG)
    os.environ["PREFECT_API_URL"] = server.api_url
    return LocalApi(server.api_url, server)
