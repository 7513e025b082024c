"""The programme's calendar on a Prefect server: `serve` (one machine), `server` and `deploy` (several).

A yearly stage has one run a year, and Prefect's scheduler only creates runs 100 days ahead by
default: most stages would have no run on the Upcoming tab. Every server this module starts looks
400 days ahead, so each deployment shows its next date as soon as it is registered.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import click
from pilotzones.deployments.local_api import forget_serve, healthy, record_serve, stop_server

from pilotzones.errors import PilotzonesError
from pilotzones.store.home import Home

# ISO-8601 duration: more than a year, so a yearly stage always has its next run scheduled.
SCHEDULE_HORIZON = "P400D"


def server_env(host: str, port: int) -> dict[str, str]:
    """The settings a Prefect server needs to show and schedule the programme's year.

    Host and port go to Prefect's own settings as well as to the command line: the UI asks the
    server where its API is, and without them it answers port 4200 whatever port it listens on.
    An operator's own PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME and PREFECT_UI_API_URL
    are kept.
    """
    env = {
        "PREFECT_SERVER_API_HOST": host,
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME": os.environ.get(
            "PREFECT_SERVER_SERVICES_SCHEDULER_MAX_SCHEDULED_TIME", SCHEDULE_HORIZON
        ),
    }
    if host in ("0.0.0.0", "::") and not os.environ.get("PREFECT_UI_API_URL"):
        # Listening everywhere: browsers on other machines reach the API by this machine's name.
        env["PREFECT_UI_API_URL"] = f"http://{socket.getfqdn()}:{port}/api"
    return env


def server_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "prefect", "server", "start", "--host", host, "--port", str(port)]


def run_server(host: str, port: int) -> None:
    """Run a Prefect server in the foreground, with its services, for workers on other machines."""
    env = dict(os.environ, **server_env(host, port))
    click.echo(f"Prefect 服务器：http://{host}:{port}/api（界面 http://{host}:{port}）；Ctrl+C 停止。")
    try:
        sys.exit(subprocess.call(server_command(host, port), env=env))
    except KeyboardInterrupt:
        sys.exit(0)


@contextmanager
def embedded_server(home: Home, port: int) -> Iterator[str]:
    """A Prefect server on 127.0.0.1 with its database in the home, for one office machine."""
    api_url = f"http://127.0.0.1:{port}/api"
    if healthy(api_url):  # already running (another serve, or the operator's own server)
        yield api_url
        return
    log = open(home.path / "prefect-server.log", "ab")
    proc = subprocess.Popen(
        server_command("127.0.0.1", port),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ, **server_env("127.0.0.1", port)),
    )
    try:
        deadline = time.monotonic() + 120
        while not healthy(api_url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise PilotzonesError(f"内置 Prefect 服务器未能启动，请查看 {log.name}")
            time.sleep(0.5)
        yield api_url
    finally:
        stop_server(proc, grace=20)
        log.close()


@contextmanager
def _given(api_url: str) -> Iterator[str]:
    yield api_url


def serve_forever(home: Home, port: int) -> None:
    """Register every stage's deployment and run each in this process when its date comes."""
    from pilotzones.deployments.schedules import deployments

    configured = os.environ.get("PREFECT_API_URL")
    with embedded_server(home, port) if not configured else _given(configured) as api_url:
        os.environ["PREFECT_API_URL"] = api_url
        from prefect import serve

        deps = deployments(home.path, home.programme)
        ui = api_url.removesuffix("/api")
        # Stage commands on this home report to this server while it runs (local_api.py).
        record_serve(home.path, api_url)
        try:
            click.echo(f"已按日程登记 {len(deps)} 个部署，Prefect 接口 {api_url}（界面 {ui}）；Ctrl+C 停止。")
            serve(*deps, print_starting_message=False)
        finally:
            forget_serve(home.path)


def deploy_to_pool(home: Home, pool: str) -> list[str]:
    """Register every stage's deployment on a work pool of a shared server; workers run them.

    The schedules come from the home's programme, like `serve`'s; the flows' code from this
    checkout, which every worker must have at the same path.
    """
    if not os.environ.get("PREFECT_API_URL"):
        raise PilotzonesError("未配置共享的 Prefect 服务器：请设置 PREFECT_API_URL（例如 http://服务器:4200/api）")
    from pilotzones.deployments.schedules import deployments
    from prefect.client.orchestration import get_client
    from prefect.deployments.runner import deploy

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except Exception as exc:  # ObjectNotFound, or the server cannot be reached
            raise PilotzonesError(
                f"工作池 {pool} 不可用（{type(exc).__name__}）：先运行 prefect work-pool create {pool} --type process"
            ) from None
    deps = deployments(home.path, home.programme, pool=pool)
    deploy(*deps, work_pool_name=pool, build=False, push=False, print_next_steps_message=False)
    return [d.name for d in deps]
