"""A stage's decision state and the moves between states, written once.

The values are the strings the state database and `status --json` have always held, so a StrEnum
member compares equal to what is stored and serialises as it. The publicity period (公示) between
a proposal and its publication is one more member (IN_PUBLICITY) and its transitions here.
"""

from __future__ import annotations

from enum import StrEnum

from pilotzones.errors import StageError


class DecisionState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"
    # 公示: the draft is public, objections are heard; final approval waits for the window's end.
    IN_PUBLICITY = "in_publicity"
    PUBLISHED = "published"
    DECLINED = "declined"
    # Not stored: what `status` says of a stage with no proposal yet.
    NOT_RUN = "not_run"

    @property
    def cn(self) -> str:
        return _CN[self]

    @property
    def settled(self) -> bool:
        """Whether an operator's verdict ended the wait for approval."""
        return self in (DecisionState.PUBLISHED, DecisionState.DECLINED)

    @property
    def pending(self) -> bool:
        """Whether a proposal waits for its final verdict (for approval, or through publicity)."""
        return self in (DecisionState.AWAITING_APPROVAL, DecisionState.IN_PUBLICITY)


class Verdict(StrEnum):
    """What an approval record says of the proposal it answers."""

    APPROVED = "approved"
    DECLINED = DecisionState.DECLINED.value


_CN = {
    DecisionState.AWAITING_APPROVAL: "待审批",
    DecisionState.IN_PUBLICITY: "公示中",
    DecisionState.PUBLISHED: "已发布",
    DecisionState.DECLINED: "已拒绝",
    DecisionState.NOT_RUN: "未运行",
}

# A proposal is made (from nothing), approved and published, or declined; a rerun after a decline
# proposes again. Where the programme sets a publicity period, the proposal is publicized first and
# published (or declined) from publicity; rebuilt in publicity (an objection upheld) it stays there.
# Publication is final: nothing moves a published decision.
TRANSITIONS: dict[DecisionState, frozenset[DecisionState]] = {
    DecisionState.NOT_RUN: frozenset({DecisionState.AWAITING_APPROVAL}),
    DecisionState.AWAITING_APPROVAL: frozenset(
        {
            DecisionState.AWAITING_APPROVAL,
            DecisionState.IN_PUBLICITY,
            DecisionState.PUBLISHED,
            DecisionState.DECLINED,
        }
    ),
    DecisionState.IN_PUBLICITY: frozenset(
        {DecisionState.IN_PUBLICITY, DecisionState.PUBLISHED, DecisionState.DECLINED}
    ),
    DecisionState.DECLINED: frozenset({DecisionState.AWAITING_APPROVAL}),
    DecisionState.PUBLISHED: frozenset(),
}


def state_of(stored: str | None) -> DecisionState:
    """The state of a stored decision (None: no decision yet)."""
    return DecisionState.NOT_RUN if stored is None else DecisionState(stored)


def can_move(stored: str | None, to: DecisionState) -> bool:
    return to in TRANSITIONS[state_of(stored)]


def move(decision, to: DecisionState) -> None:
    """Set a decision row's state, refusing a move the table above does not allow."""
    if not can_move(decision.state, to):
        raise StageError(f"a {decision.state} decision cannot become {to.value}")
    decision.state = to.value
