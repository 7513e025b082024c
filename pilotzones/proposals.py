"""What every stage's proposal obeys before it is published."""

from __future__ import annotations

from pilotzones.db import models as m
from pilotzones.errors import StageError


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
