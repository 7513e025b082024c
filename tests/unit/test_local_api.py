"""The record `serve` leaves for the stage commands on its home (deployments/local_api.py)."""

from __future__ import annotations

import json
import os
import socket
import subprocess

from pilotzones.deployments.local_api import SERVE_RECORD, forget_serve, record_serve, running_serve


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/api"


def test_a_record_whose_serve_died_is_ignored_and_removed(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    (tmp_path / SERVE_RECORD).write_text(json.dumps({"api_url": _closed_port_url(), "pid": dead.pid}))
    assert running_serve(tmp_path) is None
    assert not (tmp_path / SERVE_RECORD).exists()


def test_a_live_serve_whose_api_does_not_answer_is_not_used(tmp_path):
    record_serve(tmp_path, _closed_port_url())
    assert json.loads((tmp_path / SERVE_RECORD).read_text())["pid"] == os.getpid()
    assert running_serve(tmp_path) is None
    assert (tmp_path / SERVE_RECORD).exists()  # serve may still be starting: its record stays


def test_serve_removes_only_its_own_record(tmp_path):
    (tmp_path / SERVE_RECORD).write_text(json.dumps({"api_url": "http://127.0.0.1:1/api", "pid": 1}))
    forget_serve(tmp_path)
    assert (tmp_path / SERVE_RECORD).exists()  # another serve's
    record_serve(tmp_path, "http://127.0.0.1:1/api")
    forget_serve(tmp_path)
    assert not (tmp_path / SERVE_RECORD).exists()


def test_no_record_or_a_broken_one_means_no_serve(tmp_path):
    assert running_serve(tmp_path) is None
    (tmp_path / SERVE_RECORD).write_text("{not json")
    assert running_serve(tmp_path) is None
