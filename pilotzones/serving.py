"""`pilotzones serve`: every stage's deployment on its schedule, in one long-running process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import click

from pilotzones.errors import PilotzonesError
from pilotzones.home import Home


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


@contextmanager
def embedded_server(home: Home, port: int) -> Iterator[str]:
    """A Prefect server on 127.0.0.1 with its database in the home, for one office machine."""
    api_url = f"http://127.0.0.1:{port}/api"
    if _healthy(api_url):  # already running (another serve, or the operator's own server)
        yield api_url
        return
    log = open(home.path / "prefect-server.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 120
        while not _healthy(api_url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise PilotzonesError(f"the embedded Prefect server did not start; see {log.name}")
            time.sleep(0.5)
        yield api_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def serve_forever(home: Home, port: int) -> None:
    from deployments.schedules import deployments

    configured = os.environ.get("PREFECT_API_URL")
    with embedded_server(home, port) if not configured else _given(configured) as api_url:
        os.environ["PREFECT_API_URL"] = api_url
        from prefect import serve

        deps = deployments(home.path, home.programme)
        click.echo(f"serving {len(deps)} deployments against {api_url} (UI: {api_url.removesuffix('/api')})")
        serve(*deps, print_starting_message=False)


@contextmanager
def _given(api_url: str) -> Iterator[str]:
    yield api_url
