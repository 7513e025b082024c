"""The proposals of the decision stages as typed models, from the moment a stage builds one.

A proposal becomes JSON only where it leaves the process: the decision row that stores it (whose
digest is taken over that JSON), a flow's result and `status --json`. `decision_id` is not part of
what is stored: it names the row a published proposal was read from.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Self

from pydantic import BaseModel, ConfigDict


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Proposal(_Model):
    """What every stage's proposal has: its year, the deadline exceptions it applied, its row."""

    year: int
    # The deadline exceptions the stage applied (deadlines.as_dict rows): part of the decision's trace.
    exceptions: list[dict[str, Any]] = []
    # Set when a drill ran the stage before its deadline: reason, by, at, deadline (prechecks.check_time).
    forced_early: dict[str, Any] | None = None
    decision_id: int | None = None
    # 公示, once published after a publicity period: the window and every objection with its answer.
    publicity: dict[str, Any] | None = None

    def stored(self) -> dict:
        """The JSON the decision row keeps (and its digest is taken over); no `publicity` key without
        one, so the digests of proposals made before publicity existed stand."""
        out = self.model_dump(mode="json", exclude={"decision_id"})
        if out.get("publicity") is None:
            out.pop("publicity", None)
        return out

    def as_json(self) -> dict:
        """The JSON a flow returns: what is stored, with the row's id once published."""
        out = self.stored()
        if self.decision_id is not None:
            out["decision_id"] = self.decision_id
        return out

    @classmethod
    def from_stored(cls, data: dict, decision_id: int | None = None) -> Self:
        return cls.model_validate(dict(data, decision_id=decision_id))

    def digest(self, *inputs: Any) -> str:
        return hashlib.sha256(json.dumps([self.stored(), *inputs], sort_keys=True).encode()).hexdigest()


# -- the evaluation ------------------------------------------------------------------------------


class RankedZone(_Model):
    adcode: str
    county: str
    base: float
    bonus: float
    total: float
    rank: int
    yellow_card: bool
    flags: list[str]
    # How many zones rank below this one (ties share a rank): what the notices state.
    below: int
    submission_id: int | None = None


class Promotion(_Model):
    adcode: str
    replaces: str
    county: str


class EvaluationProposal(Proposal):
    evaluated: int
    ranking: list[RankedZone]
    disqualified: list[str]
    promoted: list[Promotion]
    vacant: list[str] = []
    vacant_seats: int = 0
    late: list[str] = []
    # What R9 drew from and the card years behind R8: the decision's trace, empty when not traced.
    candidates_in_force: list[dict[str, Any]] = []
    card_history: dict[str, list[int]] = {}
    # Each evaluated zone's rectification case from an earlier card and the cases this year's cards
    # open (rules.rectification.at_evaluation); empty when there are none.
    rectification: list[dict[str, Any]] = []

    @property
    def carded(self) -> int:
        return sum(r.yellow_card for r in self.ranking)


# -- the candidate selection ----------------------------------------------------------------------


class SelectedCandidate(_Model):
    adcode: str
    county: str
    rank: int
    review_score: float | None
    prefecture: str
    contact_email: str | None = None
    submission_id: int


class NotCounted(_Model):
    adcode: str
    reason: str
    prefecture: str
    submission_id: int
    row: int | None = None


class CandidateSelection(Proposal):
    selected: list[SelectedCandidate]
    rejected: list[NotCounted]
    unmatched_reviews: list[str] = []
    nominations: int = 0
