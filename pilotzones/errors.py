"""Errors a user can act on, each with the exit code the contract gives it."""

from __future__ import annotations

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
