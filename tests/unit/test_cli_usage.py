"""click's own usage errors, said to the operator in Chinese on one line, exit 2 as before."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from pilotzones.cli.main import Group, cli


@pytest.mark.parametrize(
    ("args", "said"),
    [
        # a missing argument or option names it
        (["submit"], "缺少参数 文件...；运行 pilotzones submit --help 查看用法"),
        (["evaluation", "run"], "缺少选项 --year；运行 pilotzones evaluation run --help 查看用法"),
        # a value of the wrong type says what it should be
        (["submit", "x.csv", "--year", "abc"], "--year 的值不对：“abc”不是整数；"),
        (
            ["approve", "--year", "2023", "--stage", "x"],
            "--stage 的值不对：“x”不是可选的值：应为 candidates、evaluation 之一；",
        ),
        # a mistyped command or option suggests the right one
        (["sumbit"], "没有命令“sumbit”（是否想用 submit？）；运行 pilotzones --help 查看用法"),
        (["status", "--yeer", "1"], "没有选项 --yeer（是否想用 --year？）；"),
        (["--hme", "x", "status"], "没有选项 --hme（是否想用 --home"),
        (["status", "--year"], "选项 --year 后面须写一个值"),
        (["status", "--year", "2023", "extra"], "多余的参数：extra；"),
        (["submit", "x.csv", "--year", "2023", "--dry-run=yes"], "选项 --dry-run 不带值（写作 --dry-run 即可）"),
        # options of the top level only, no command
        (["--home", "h"], "缺少命令；运行 pilotzones --help 查看用法"),
    ],
)
def test_a_usage_error_is_one_chinese_line_naming_the_option_and_exits_2(args, said):
    r = CliRunner().invoke(cli, args, obj={}, prog_name="pilotzones")
    assert r.exit_code == 2
    (line,) = r.stderr.splitlines()
    assert line.startswith("pilotzones: 用法有误：") and said in line, line
    assert not any(w in r.stderr for w in ("Usage:", "Error:", "Missing", "Invalid value", "No such", "Option"))


@pytest.mark.parametrize("args", [[], ["evaluation"], ["rectification"]])
def test_a_group_named_without_a_command_shows_its_chinese_help_and_exits_2(args):
    r = CliRunner().invoke(cli, args, obj={}, prog_name="pilotzones")
    assert r.exit_code == 2
    assert r.stderr.startswith(f"用法：{' '.join(['pilotzones', *args])} [选项] 命令 [参数]...")
    assert "用法有误" not in r.stderr and "命令：" in r.stderr


def _root_with(failure: BaseException) -> click.Group:
    """The command line's group class with one command that fails so (as Ctrl-C or click would)."""

    @click.group(cls=Group)
    def root() -> None:
        pass

    @root.command()
    def fail() -> None:
        raise failure

    return root


@pytest.mark.parametrize("failure", [KeyboardInterrupt(), click.Abort()])
def test_an_interrupt_is_said_in_chinese_and_exits_1(failure):
    r = CliRunner().invoke(_root_with(failure), ["fail"], prog_name="pilotzones")
    assert r.exit_code == 1
    assert r.stderr.strip() == "pilotzones: 已中止" and "Aborted" not in r.stderr


def test_a_click_error_other_than_usage_has_no_english_prefix():
    r = CliRunner().invoke(_root_with(click.ClickException("无法读取")), ["fail"], prog_name="pilotzones")
    assert r.exit_code == 1 and r.stderr == "pilotzones: 无法读取\n"
