"""A stage's proposal: stored once per (year, stage), replaced while unpublished, checked before publishing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from sqlalchemy.orm import Session

from pilotzones import clock, ledger
from pilotzones.db import models as m
from pilotzones.errors import StageError

Stored = Literal["unchanged", "new", "replaced"]


def store(
    s: Session, *, year: int, stage: str, digest: str, proposal: dict, inputs: dict, flow_run_id: str | None
) -> tuple[m.Decision, Stored]:
    """Store the proposal as awaiting approval; a rerun with the same digest, or after publication, changes nothing."""
    d = ledger.decision(s, year, stage, lock=True)
    if d is not None and (d.state == "published" or d.digest == digest):
        return d, "unchanged"
    if d is None:
        d = m.Decision(year=year, stage=stage, state="awaiting_approval", digest=digest)
        s.add(d)
        outcome: Stored = "new"
    else:
        outcome = "replaced"  # new inputs arrived before approval: the proposal is rebuilt from them
    d.digest, d.proposal, d.inputs, d.created_at, d.flow_run_id = digest, proposal, inputs, clock.now(), flow_run_id
    s.flush()
    return d, outcome


def ensure_current(d: m.Decision, state: str, rerun: str) -> None:
    """Refuse to publish a proposal made before the state it read changed (a new file, an exception).

    The operator approves what the proposal shows; publishing it over newer inputs would ignore them,
    and rebuilding it silently would publish something nobody reviewed.
    """
    made_from = (d.inputs or {}).get("state")
    if made_from and made_from != state:
        raise StageError(
            f"the {d.stage} proposal of {d.year} is out of date: its inputs changed after it was made "
            f"(a new file or a deadline exception). Run `{rerun}` to rebuild it, review it, then approve."
        )


def rerun_command(stage: str, year: int) -> str:
    return f"pilotzones {stage} run --year {year}"


def nothing_to_approve(stage: str, year: int) -> StageError:
    what = "evaluation" if stage == "evaluation" else "candidate selection"
    return StageError(f"no {what} of {year} to approve: run `{rerun_command(stage, year)}`")


def to_publish(s: Session, stage: str, year: int, current_state: Callable[[], str]) -> m.Decision:
    """The decision an approval publishes, locked (already published: returned as it is).

    Refused when there is none, or when the state it was built from has changed since.
    """
    d = ledger.decision(s, year, stage, lock=True)
    if d is None:
        raise nothing_to_approve(stage, year)
    if d.state != "published":
        ensure_current(d, current_state(), rerun_command(stage, year))
    return d
