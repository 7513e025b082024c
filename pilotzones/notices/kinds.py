"""The kinds of notice (§5), the stage each belongs to, and whom each copies."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    name: str  # the X-Notice-Kind value and the template name
    stage: str  # groups a stage's notices in the outbox; part of the identity
    cc_prefecture: bool  # copy the prefecture of the county the notice is about


# Stages: the calls and reminders are small flows of their own, so they get stages of their own.
NOMINATION = "nomination"
CANDIDATES = "candidates"
EVALUATION_DATA = "evaluation_data"
EVALUATION = "evaluation"
SUBMISSION = "submission"
# Between evaluations (issue 14): each dated step and the meetings are small flows of their own.
RECTIFICATION = "rectification"
VISITS = "visits"
MEETINGS = "meetings"
PUBLICITY = "publicity"  # 公示: the drafts of a stage in publicity and the answers to objections

KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("nomination_call", NOMINATION, False),
        Kind("nomination_reminder", NOMINATION, False),
        Kind("nomination_rejected", CANDIDATES, False),
        Kind("candidate_selection", CANDIDATES, False),
        Kind("evaluation_call", EVALUATION_DATA, True),
        Kind("evaluation_reminder", EVALUATION_DATA, False),
        Kind("submission_rejected", SUBMISSION, False),
        Kind("evaluation_result", EVALUATION, True),
        Kind("yellow_card", EVALUATION, True),
        Kind("disqualification", EVALUATION, True),
        Kind("promotion", EVALUATION, True),
        Kind("evaluation_summary", EVALUATION, False),
        Kind("rectification_reminder", RECTIFICATION, True),
        Kind("rectification_overdue", RECTIFICATION, False),
        Kind("visit_shortfall", VISITS, False),
        Kind("meeting_invitation", MEETINGS, True),
        Kind("meeting_shortfall", VISITS, False),  # sent by the visit check, with its shortfalls
        Kind("evaluation_draft", PUBLICITY, True),
        Kind("evaluation_draft_summary", PUBLICITY, False),
        Kind("objection_answer", PUBLICITY, True),
    )
}

CALL_KINDS = ("nomination_call", "nomination_reminder", "evaluation_call", "evaluation_reminder")

STATES = ("queued", "sending", "sent", "failed", "no_recipient")


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown notice kind {name!r}; known: {', '.join(KINDS)}") from None
