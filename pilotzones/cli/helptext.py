"""click's help pages as the operator reads the rest of the command line: in Chinese, wrapped by
display width.

click words its own parts of a page in English (the usage line, the section headings, the help
option, `[required]` and `[default: ...]`, a type's metavar such as INTEGER) through gettext, which
has no Chinese catalogue here. Installing one would change gettext's default domain for every
library in the process and would hang on the locale the operator's shell happens to have, so the
command line's own classes say those parts instead: its commands and groups (`Command`, `Group`:
usage line, help option, one-line summaries), their context's formatter (`HelpFormatter`: headings,
wrapping) and its options (`Option`, declared with `option`: `[必填]`, `[默认：...]`, metavars).
click's usage errors are said in Chinese by `pilotzones.cli.usage`.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

_HEADINGS = {"Options": "选项", "Commands": "命令", "Positional arguments": "参数", "Arguments": "参数"}
HELP_OPTION = "显示本帮助并退出。"
OPTIONS_METAVAR = "[选项]"
SUBCOMMAND_METAVAR = "命令 [参数]..."

# What a value of a click type is, where an option names no metavar of its own.
_TYPE_WORDS = {
    "integer": "整数",
    "float": "数值",
    "text": "文本",
    "boolean": "是或否",
    "directory": "目录",
    "file": "文件",
    "filename": "文件",
    "path": "路径",
}

# A line neither starts with closing punctuation nor ends with opening punctuation.
_NO_START = frozenset("，。；：、）》」』”’！？…")
_NO_END = frozenset("（《「『“‘")
_SENTENCE_END = "。"
_CLAUSE_ENDS = "；，："
_MIN_SHORT = 12  # columns: a summary cut shorter than this says too little


def display_width(text: str) -> int:
    """Terminal columns of `text`: a Chinese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wide(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in "WF"


_PIECES = re.compile(r"\s+|\[[^\s\[\]]*\]|.", re.S)


def _tokens(text: str) -> list[str]:
    """Spaces, runs of narrow characters (an option, a path, ISO-8601), bracketed notes (`[必填]`,
    `[a|b]`), none of them ever split, and single wide characters (a line may break between any two)."""
    out: list[str] = []
    for piece in _PIECES.findall(text):
        if piece.isspace():
            if out and out[-1] != " ":
                out.append(" ")
        elif (len(piece) == 1 and _wide(piece)) or not out or out[-1] == " " or _wide(out[-1][-1]):
            out.append(piece)
        else:
            out[-1] += piece
    return out


def wrap(text: str, width: int) -> list[str]:
    """`text` as lines of at most `width` columns (a narrow run longer than that gets a line of its own)."""
    lines: list[str] = []
    line: list[str] = []
    used = 0
    for token in _tokens(text):
        if token == " ":
            if line:
                line.append(token)
                used += 1
            continue
        w = display_width(token)
        if line and used + w > width:
            carried: list[str] = []
            while line and line[-1] == " ":
                line.pop()
            if token[0] in _NO_START and len(line) > 1:
                carried.append(line.pop())
            while len(line) > 1 and line[-1][-1] in _NO_END:
                carried.insert(0, line.pop())
            while line and line[-1] == " ":
                line.pop()
            lines.append("".join(line))
            line, used = carried, display_width("".join(carried))
        line.append(token)
        used += w
    while line and line[-1] == " ":
        line.pop()
    if line:
        lines.append("".join(line))
    return lines


def _paragraphs(text: str) -> list[tuple[bool, list[str]]]:
    """`text`'s paragraphs (blank-line separated), each either to rewrap (its lines joined, without a
    space where both sides are Chinese) or kept as written (its first line click's `\\b`)."""
    out: list[tuple[bool, list[str]]] = []
    for block in inspect.cleandoc(text).split("\n\n"):
        rows = [row for row in block.split("\n") if row.strip()]
        if not rows:
            continue
        if rows[0].strip() == "\b":
            out.append((False, rows[1:]))
            continue
        joined = ""
        for row in (r.strip() for r in rows):
            glue = "" if not joined or (_wide(joined[-1]) and _wide(row[0])) else " "
            joined += glue + row
        out.append((True, [joined]))
    return out


def short_help(text: str, limit: int) -> str:
    """A command's line in its group's list: the first sentence of its help, cut at a clause, or
    shortened with an ellipsis, to fit `limit` columns."""
    paragraphs = _paragraphs(text)
    if not paragraphs:
        return ""
    rewrap, rows = paragraphs[0]
    first = rows[0] if rewrap else " ".join(r.strip() for r in rows)
    first = first.split(_SENTENCE_END, 1)[0].rstrip(".")
    if display_width(first) <= limit:
        return first
    # Where a clause ends outside any parenthesis, or where the parenthesis that closes the sentence
    # opens; the longest such start that fits and says more than a word or two.
    cuts, depth, opened = [], 0, 0
    for at, ch in enumerate(first):
        if ch in "（(":
            opened = at if depth == 0 else opened
            depth += 1
        elif ch in "）)" and depth:
            depth -= 1
            if depth == 0 and at == len(first) - 1:
                cuts.append(opened)
        elif ch in _CLAUSE_ENDS and depth == 0:
            cuts.append(at)
    fitting = [at for at in cuts if _MIN_SHORT <= display_width(first[:at]) <= limit]
    if fitting:
        return first[: max(fitting)]
    out = ""
    for ch in first:
        if display_width(out + ch) > limit - 1:
            break
        out += ch
    return out.rstrip() + "…"


class HelpFormatter(click.HelpFormatter):
    """click's formatter with Chinese words of its own and lines measured in terminal columns."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        head = " " * self.current_indent + ("用法：" if prefix is None else prefix) + prog
        if not args:
            self.write(head + "\n")
            return
        hang = display_width(head) + 1
        if self.width - hang >= 20:  # the arguments to the right of the command, as click does
            first, *rest = wrap(args, self.width - hang)
            self.write(f"{head} {first}\n")
        else:
            self.write(head + "\n")
            hang = self.current_indent + 4
            rest = wrap(args, self.width - hang)
        for line in rest:
            self.write(" " * hang + line + "\n")

    def write_heading(self, heading: str) -> None:
        self.write(f"{' ' * self.current_indent}{_HEADINGS.get(heading, heading)}：\n")

    def _lines(self, text: str, width: int) -> list[str]:
        out: list[str] = []
        for rewrap, rows in _paragraphs(text):
            if out:
                out.append("")
            out.extend(wrap(rows[0], width) if rewrap else rows)
        return out

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        for line in self._lines(text, self.width - self.current_indent):
            self.write(f"{indent}{line}\n" if line else "\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not rows:
            return
        first_col = min(max(display_width(first) for first, _ in rows), col_max) + col_spacing
        indent = " " * self.current_indent
        hang = " " * (first_col + self.current_indent)
        for first, second in rows:
            self.write(f"{indent}{first}")
            if not second:
                self.write("\n")
                continue
            if display_width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - display_width(first)))
            else:
                self.write("\n" + hang)
            lines = self._lines(second, max(self.width - first_col - 2, 10)) or [""]
            self.write(lines[0] + "\n")
            for line in lines[1:]:
                self.write(f"{hang}{line}\n" if line else "\n")


class Context(click.Context):
    formatter_class = HelpFormatter


class Command(click.Command):
    """A command whose help page is Chinese throughout (its own texts are written in Chinese)."""

    context_class = Context

    def __init__(self, name: str | None, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(name, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION
        return option

    def get_short_help_str(self, limit: int = 45) -> str:
        if self.short_help:
            return inspect.cleandoc(self.short_help)
        return short_help(self.help or "", limit)


class Group(Command, click.Group):
    """A group of such commands: its subcommands and subgroups are made of these classes too."""

    command_class = Command
    group_class = type

    def __init__(self, name: str | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(name, **kwargs)


class Option(click.Option):
    """An option whose help row says `[必填]` and `[默认：...]`, and names its value in Chinese."""

    def make_metavar(self, ctx: click.Context) -> str:
        if self.metavar is None and self.type.get_metavar(param=self, ctx=ctx) is None:
            word = _TYPE_WORDS.get(self.type.name)
            if word:
                return word + ("..." if self.nargs != 1 else "")
        return super().make_metavar(ctx)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        record = super().get_help_record(ctx)  # its left column; the English notes are said anew
        if record is None:
            return None
        extra = self.get_help_extra(ctx)
        notes = []
        if "envvars" in extra:
            notes.append(f"环境变量：{'、'.join(extra['envvars'])}")
        if "default" in extra:
            notes.append(f"默认：{extra['default']}")
        if "range" in extra:
            notes.append(f"范围：{extra['range']}")
        if "required" in extra:
            notes.append("必填")
        said = f"[{'；'.join(notes)}]" if notes else ""
        return record[0], f"{self.help}  {said}" if self.help and said else self.help or said


F = TypeVar("F", bound=Callable[..., Any])


def option(*param_decls: str, **attrs: Any) -> Callable[[F], F]:
    """`click.option` with the Chinese `Option`."""
    attrs.setdefault("cls", Option)
    return click.option(*param_decls, **attrs)
