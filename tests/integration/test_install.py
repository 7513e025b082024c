"""A real install: the wheel, in a fresh virtualenv, runs the demo from another folder.

The virtualenv borrows the dependencies of the project's own environment (a plain path line in a
.pth file adds that folder without running its .pth files, so the editable checkout stays out):
what it imports of pilotzones comes from the wheel alone.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from tests.integration.cli_runs import ROOT

pytestmark = pytest.mark.integration


def _run(*args, **kw) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def test_the_wheel_installs_alone_and_runs_the_demo_from_another_folder(tmp_path):
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path, ROOT)
    (wheel,) = tmp_path.glob("pilotzones-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    # One import name in site-packages: nothing generic such as `flows`, `tasks` or `deployments`.
    assert {n.split("/")[0] for n in names} == {"pilotzones", wheel.name.split("-py3")[0] + ".dist-info"}
    for shipped in (
        "pilotzones/templates/evaluation_result.txt.j2",
        "pilotzones/expectations/evaluation.json",
        "pilotzones/flows/evaluation.py",
        "pilotzones/programmes/xinjiang.toml",
    ):
        assert shipped in names, shipped

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv)
    site = Path(
        _run(venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "-q", "--no-deps", wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    python = venv / "bin" / "python"
    where = _run(python, "-c", "import pilotzones; print(pilotzones.__file__)", cwd=elsewhere).stdout
    assert where.startswith(str(site)), where
    for generic in ("flows", "tasks", "deployments"):
        probe = subprocess.run([python, "-c", f"import {generic}"], capture_output=True, cwd=elsewhere)
        assert probe.returncode != 0, f"`import {generic}` works in the installed environment"

    # Notices render from the shipped templates and intake checks with the shipped suites: no
    # folder outside site-packages is looked for (a missing suite would be generated silently).
    found = _run(
        python,
        "-c",
        "from pilotzones.intake.suites import DEFAULT_DIR; from pilotzones.notices.render import templates_dir;"
        "print(DEFAULT_DIR / 'evaluation.json'); print(templates_dir() / '_layout.html.j2')",
        cwd=elsewhere,
    ).stdout.split()
    for path in found:
        assert path.startswith(str(site)) and Path(path).is_file(), path

    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "GX_ANALYTICS_ENABLED": "false"}
    demo = _run(venv / "bin" / "pilotzones", "demo", "--years", "2022-2023", cwd=elsewhere, env=env)
    assert "2023" in demo.stdout
    home = elsewhere / ".pilotzones"  # the default home of every command (contract §4)
    eml = sorted((home / "outbox").rglob("*.eml"))
    assert eml, "the demo wrote no notice"
    assert any("evaluation_result" in p.read_text(errors="replace") for p in eml)
    # Each published year's report, and the demo says where it is.
    report = home / "reports" / "2022" / "2022年度试验区监测评价报告.html"
    assert report.is_file() and f"报告：{report.resolve()}" in demo.stdout
    assert "Traceback" not in demo.stderr
    # Operators read the demo: every line it prints speaks Chinese (commands and paths within it).
    for line in demo.stdout.splitlines():
        assert not line.strip() or re.search(r"[\u4e00-\u9fff]", line), line
