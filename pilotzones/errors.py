"""Errors a user can act on, each with the exit code the contract gives it."""

from __future__ import annotations

import errno
import re

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_REJECTED = 3


class PilotzonesError(Exception):
    """An error reported to the user as a message, never as a traceback."""

    exit_code = EXIT_INTERNAL


class ConfigError(PilotzonesError):
    """Usage or configuration is wrong (bad programme file, no home, unknown option value)."""

    exit_code = EXIT_USAGE


class StageError(PilotzonesError):
    """A stage cannot run now (an earlier year awaits approval, nothing to approve, ...)."""

    exit_code = EXIT_USAGE


class SubmissionRejected(PilotzonesError):
    """A submitted file has errors; it was archived and recorded as rejected."""

    exit_code = EXIT_REJECTED

    def __init__(self, message: str, errors: list | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


# Control characters (C0, DEL, C1), bidirectional overrides and isolates, line and paragraph
# separators: in text a file or a user supplied, they would move the cursor, retitle the terminal,
# split a line of stderr or reverse the text around them.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


# The reasons an operating system gives most often, as the operator reads them (strerror is English).
_OS_REASONS = {
    errno.ENOENT: "文件或目录不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "不允许此操作",
    errno.ENOSPC: "磁盘空间已满",
    errno.EROFS: "文件系统只读",
    errno.EISDIR: "是目录",
    errno.ENOTDIR: "路径中有一段不是目录",
    errno.EEXIST: "已存在",
    errno.EIO: "读写出错（I/O 错误）",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EDQUOT: "超出磁盘配额",
    errno.ELOOP: "符号链接层数过多",
    errno.EBUSY: "正被占用",
}


def os_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in Chinese where the reason is a common one."""
    return _OS_REASONS.get(exc.errno or 0) or (f"{exc.strerror}（errno {exc.errno}）" if exc.strerror else str(exc))


def shown(text: str) -> str:
    """`text` fit for a terminal line: every control character escaped (`\\x1b`, `\\n`, `\\u202e`)."""
    return _UNSAFE.sub(_escape, text)


def shown_lines(text: str) -> str:
    """`shown` on each line of a message we composed: its own line breaks stay, nothing else does."""
    return "\n".join(shown(line) for line in text.split("\n"))


# The stream-wide net (`terminal_safe`): our own line breaks and tabs pass, and colour sequences
# (SGR, which can neither move the cursor nor retitle the window) from Prefect's console logs.
_NET = re.compile(
    "(\x1b\\[[0-9;]*m)|([\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069])"
)


def terminal_safe(text: str) -> str:
    """What the command line writes to a terminal: control characters escaped, save line breaks,
    tabs and colour. Text from files and users is escaped at its source as well (`shown`)."""
    return _NET.sub(lambda m: m.group(1) or _escape(m), text)


def _escape(match: re.Match[str]) -> str:
    c = match.group(match.lastindex or 0)
    return _NAMED.get(c) or (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
