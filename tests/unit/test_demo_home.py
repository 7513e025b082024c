"""Where `pilotzones demo` runs, and which folders it may empty: an empty or demo-made one only."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from pilotzones.cli.demo import MARKER, demo_home, reset_home
from pilotzones.cli.main import cli
from pilotzones.errors import ConfigError


def test_the_home_is_every_commands_home_option_then_pilotzones_home_then_dot_pilotzones(tmp_path, monkeypatch):
    monkeypatch.delenv("PILOTZONES_HOME", raising=False)
    assert demo_home(None) == Path(".pilotzones")  # contract §4: the default home of every command
    monkeypatch.setenv("PILOTZONES_HOME", str(tmp_path / "env"))
    assert demo_home(None) == tmp_path / "env"
    assert demo_home(str(tmp_path / "given")) == tmp_path / "given"
    monkeypatch.setenv("PILOTZONES_HOME", "")  # empty counts as unset, as for every command
    assert demo_home(None) == Path(".pilotzones")


def test_a_missing_or_empty_folder_is_taken_and_marked(tmp_path):
    (tmp_path / "empty").mkdir()
    for home in (tmp_path / "new" / "demo", tmp_path / "empty"):
        reset_home(home)
        assert [p.name for p in home.iterdir()] == [MARKER]


def test_a_demo_home_is_emptied_in_place(tmp_path):
    reset_home(tmp_path)
    (tmp_path / "archive" / "2022").mkdir(parents=True)
    (tmp_path / "archive" / "2022" / "a.csv").write_text("x")
    (tmp_path / "pilotzones.db").write_text("x")
    outside = tmp_path.parent / f"{tmp_path.name}-kept"
    outside.mkdir()
    (outside / "keep.txt").write_text("x")
    (tmp_path / "link").symlink_to(outside, target_is_directory=True)
    reset_home(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [MARKER]
    assert (outside / "keep.txt").read_text() == "x"  # a link is removed, not followed


@pytest.mark.parametrize("what", ["file", "folder", "hidden"])
def test_a_folder_with_anything_in_it_and_no_mark_is_refused_untouched(tmp_path, what):
    home = tmp_path / "real"
    home.mkdir()
    thing = home / {"file": "pilotzones.db", "folder": "archive", "hidden": ".lock"}[what]
    thing.mkdir() if what == "folder" else thing.write_text("x")
    with pytest.raises(ConfigError, match="已存在且不是演示主目录"):
        reset_home(home)
    assert [p.name for p in home.iterdir()] == [thing.name]


def test_a_file_is_refused(tmp_path):
    f = tmp_path / "home"
    f.write_text("x")
    with pytest.raises(ConfigError, match="不是目录"):
        reset_home(f)
    assert f.read_text() == "x"


def test_the_command_refuses_a_real_home_named_by_pilotzones_home_in_one_line(tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    (real / "programme.toml").write_text("x")
    monkeypatch.setenv("PILOTZONES_HOME", str(real))
    r = CliRunner().invoke(cli, ["demo", "--years", "2022-2022"], obj={}, prog_name="pilotzones")
    assert r.exit_code == 2, r.output
    (line,) = r.stderr.splitlines()
    assert str(real) in line and "已存在且不是演示主目录" in line
    assert [p.name for p in real.iterdir()] == ["programme.toml"]
