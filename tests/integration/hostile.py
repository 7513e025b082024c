"""What the hostile-input tests share: the installed command as a county runs it, and what a home holds."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from sqlalchemy import select

from pilotzones.store import models as m
from pilotzones.store.home import Home
from pilotzones.store.session import session
from tests.support import rows_for, write

EXE = Path(sys.executable).parent / "pilotzones"
YEAR = "2023"
AT = "2023-12-10T10:00:00"
ZONE = "654025"


def cli(home: Home | Path, *args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """The installed command, a process of its own, as a county or operator runs it."""
    path = home.path if isinstance(home, Home) else home
    full = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    full.update(PILOTZONES_HOME=str(path), GX_ANALYTICS_ENABLED="false", **env)
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=full, timeout=timeout)


def measured(home: Home, *args: str) -> tuple[int, int, str]:
    """Exit code, peak resident memory (bytes) and stderr of one `pilotzones` process."""
    env = dict(os.environ, PILOTZONES_HOME=str(home.path), GX_ANALYTICS_ENABLED="false")
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen([str(EXE), *args], env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        err.seek(0)
        return os.waitstatus_to_exitcode(status), usage.ru_maxrss * 1024, err.read().decode()


def submissions(home: Home) -> list[m.Submission]:
    with session(home.db_url) as s:
        return list(s.scalars(select(m.Submission).order_by(m.Submission.id)))


def archived(home: Home) -> list[Path]:
    """Files kept in the archive (not its lock, not a write in progress)."""
    return sorted(
        p for p in home.archive.rglob("*") if p.is_file() and p.name != ".writers.lock" and p.suffix != ".part"
    )


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(2**20):
            h.update(chunk)
    return h.hexdigest()


def valid_file(home: Home, folder: Path, name: str = "xinyuan.csv") -> Path:
    return write(rows_for(home, ZONE, int(YEAR)), folder / name)
