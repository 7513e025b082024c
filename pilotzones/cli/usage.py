"""click's own usage errors (a missing option, a mistyped command, a value of the wrong type) as the
operator reads the rest of the command line: one line in Chinese, naming the option and what to
write. click words them in English (and through gettext, which has no Chinese catalogue here)."""

from __future__ import annotations

import re
from typing import IO, Any

import click

from pilotzones.errors import shown

_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# click's messages for a value of the wrong type (click.types), as patterns, in Chinese.
_VALUES = (
    (re.compile(r"^'(.*)' is not a valid integer( range)?\.?$", re.S), "“{0}”不是整数"),
    (re.compile(r"^'(.*)' is not a valid float( range)?\.?$", re.S), "“{0}”不是数"),
    (re.compile(r"^'(.*)' is not a valid boolean\.?$", re.S), "“{0}”应为 true 或 false"),
    (re.compile(r"^'(.*)' is not (?:one of )?(.*?)\.?$", re.S), "“{0}”不是可选的值：应为 {1} 之一"),
    (re.compile(r"^(?:File|Directory|Path) '(.*)' does not exist\.?$", re.S), "“{0}”不存在"),
    (re.compile(r"^(?:File|Directory|Path) '(.*)' is a directory\.?$", re.S), "“{0}”是目录，不是文件"),
    (re.compile(r"^(?:File|Directory|Path) '(.*)' is a file\.?$", re.S), "“{0}”是文件，不是目录"),
    (re.compile(r"^(?:File|Directory|Path) '(.*)' is not readable\.?$", re.S), "“{0}”不可读"),
    (re.compile(r"^(?:File|Directory|Path) '(.*)' is not writable\.?$", re.S), "“{0}”不可写"),
)


def _unquoted(hint: str) -> str:
    return hint.replace("'", "").replace('"', "")


def _hint(exc: click.MissingParameter | click.BadParameter) -> str:
    if exc.param_hint is not None:
        hint = exc.param_hint if isinstance(exc.param_hint, str) else " / ".join(exc.param_hint)
    elif exc.param is not None and exc.ctx is not None:
        hint = exc.param.get_error_hint(exc.ctx)
    else:
        hint = ""
    return _unquoted(hint)


def _choices(text: str) -> str:
    return "、".join(c.strip().strip("'") for c in re.split(r",\s*|\s+or\s+", text) if c.strip())


def _value(message: str) -> str:
    if _CJK.search(message):
        return message  # one of ours, already in Chinese
    for pattern, said in _VALUES:
        m = pattern.match(message)
        if m:
            groups = [shown(g or "") for g in m.groups()]
            if "{1}" in said:
                groups[1] = _choices(groups[1])
            return said.format(*groups)
    return shown(message)


def usage_cn(exc: click.UsageError) -> str:
    """`exc` in Chinese, one line: what is wrong and what to write (click's English kept only for a
    message it has that is not listed here)."""
    message = exc.message
    if isinstance(exc, click.MissingParameter):
        what = "参数" if isinstance(exc.param, click.Argument) else "选项"
        return f"缺少{what} {_hint(exc)}"
    if isinstance(exc, click.NoSuchOption):
        maybe = f"（是否想用 {'、'.join(exc.possibilities)}？）" if exc.possibilities else ""
        return f"没有选项 {shown(exc.option_name)}{maybe}"
    if isinstance(exc, click.BadOptionUsage):
        m = re.match(r"Option '(.+)' requires (an argument|(\d+) arguments)", message)
        if m:
            return f"选项 {m[1]} 后面须写{m[3] or '一'}个值"
        m = re.match(r"Option '(.+)' does not take a value", message)
        if m:
            return f"选项 {m[1]} 不带值（写作 {m[1]} 即可）"
        return f"选项 {shown(exc.option_name)} 的用法不对：{_value(message)}"
    if isinstance(exc, click.BadParameter):
        return f"{_hint(exc)} 的值不对：{_value(message)}"
    m = re.match(r"No such command '(.*)'\.(?: Did you mean '(.*)'\?)?", message, re.S)
    if m:
        alike: list[str] = list(getattr(exc, "possibilities", None) or ([m[2]] if m[2] else []))
        return f"没有命令“{shown(m[1])}”" + (f"（是否想用 {'、'.join(map(shown, alike))}？）" if alike else "")
    if message == "Missing command.":
        return "缺少命令"
    m = re.match(r"Got unexpected extra arguments? \((.*)\)", message, re.S)
    if m:
        return f"多余的参数：{shown(m[1])}"
    return _value(message)


class ChineseUsageError(click.UsageError):
    """A usage error shown as one Chinese line with where to read the usage; exit code 2 as click's."""

    def __init__(self, exc: click.UsageError) -> None:
        super().__init__(usage_cn(exc), exc.ctx)

    def show(self, file: IO[Any] | None = None) -> None:
        where = f"；运行 {self.ctx.command_path} --help 查看用法" if self.ctx is not None else ""
        click.echo(f"pilotzones: 用法有误：{self.message}{where}", err=True, file=file)
