"""Every help page of the command line reads in Chinese, click's own words included, and fits an
80-column terminal (a Chinese character takes two columns)."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from pilotzones.cli.helptext import display_width, short_help, wrap
from pilotzones.cli.main import cli


def _paths(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _paths(command, (*path, name))


PATHS = [(), *_paths(cli)]

# What stays as written inside Chinese text: option names, choice lists, environment variables.
_TOKENS = re.compile(r"--[a-z][a-z-]*|\[[a-z_]+(?:\|[a-z_]+)+\]|\$?[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
# Three or more ASCII words in a row (what is left of English prose).
_PROSE = re.compile(r"[A-Za-z]+(?:[\s,;:.'()-]+[A-Za-z]+){2,}")
# click's own English, in case one of them is a single word.
_CLICK_WORDS = re.compile(
    r"Usage|Options|Commands|Arguments|Show this|required|default:|\[OPTIONS\]|COMMAND|\[ARGS\]"
    r"|\b(?:INTEGER|TEXT|DIRECTORY|FILE|PATH|FLOAT|BOOLEAN)\b"
)
_HEADING = re.compile(r"^(\S.*)[:：]$")


def _help(path: tuple[str, ...]) -> str:
    r = CliRunner().invoke(cli, [*path, "--help"], obj={}, prog_name="pilotzones")
    assert r.exit_code == 0, r.output
    return r.output


def test_every_command_is_walked():
    names = {" ".join(p) for p in PATHS}
    assert {"submit", "evaluation run", "candidates run", "objection answer", "meeting attend", "extend"} <= names


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "pilotzones")
def test_help_page_is_chinese(path):
    page = _help(path)
    command_path = " ".join(("pilotzones", *path))
    assert page.startswith(f"用法：{command_path} [选项]"), page
    headings = [m[1] for line in page.splitlines() if (m := _HEADING.match(line))]
    assert headings and headings[0] == "选项", page
    assert set(headings) <= {"选项", "命令", "参数"}, headings
    command = cli
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    assert ("命令" in headings) == isinstance(command, click.Group)
    assert "显示本帮助并退出。" in page
    text = _TOKENS.sub(" ", page.replace(command_path, " "))
    assert not _PROSE.search(text), _PROSE.search(text)
    assert not _CLICK_WORDS.search(text), _CLICK_WORDS.search(text)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "pilotzones")
def test_help_page_fits_80_columns(path):
    for line in _help(path).splitlines():
        assert display_width(line) <= 80, line


def test_a_required_option_and_a_default_are_said_in_chinese():
    page = _help(("server",))
    assert "[默认：127.0.0.1]" in page and "[默认：4200]" in page
    assert "--year 年度  报告所属年度 [必填]" in _help(("report",))


def test_wrapping_breaks_between_chinese_characters_and_keeps_tokens_whole():
    lines = wrap("新的截止时间，ISO-8601 格式（未写时区的按方案所在时区） [必填]", 30)
    assert all(display_width(line) <= 30 for line in lines), lines
    assert "ISO-8601" in "".join(lines) and any(line.endswith("[必填]") or line == "[必填]" for line in lines)
    assert not any(line[0] in "，。；：、）" for line in lines), lines


def test_a_commands_line_in_its_group_is_its_first_sentence_cut_at_a_clause():
    assert short_help("初始化主目录：状态数据库、存档和发件箱。其余。", 60) == "初始化主目录：状态数据库、存档和发件箱"
    assert short_help("发送发件箱中尚未发出的全部通知（仍有未发出的通知时退出码为 1）。", 40) == (
        "发送发件箱中尚未发出的全部通知"
    )
    cut = short_help("一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十。", 20)
    assert cut.endswith("…") and display_width(cut) <= 20
