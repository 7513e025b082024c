"""The kinds of file the system receives, each defined once: what `submit --kind` accepts, how a
notice names it, which check reads it, which deadline governs it, which decision stage counts it, and
what recording an accepted one does besides keeping its values.

Like the stage registry, a kind names its functions by "module:function" (they live in intake/ and
store/), so every layer may read this table and none imports the layers above it. Adding a kind of
file is its check, perhaps a hook, and one `register(...)` below.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FileKind:
    name: str  # `submit --kind NAME` and the submissions table's kind column
    noun: str  # how notices name such a file ({nomination_material}: the programme's words)
    check: str  # "module:function"(home, data, filename, year) -> (sender, value rows, errors)
    counted_by: str | None  # the decision stage that counts such files; None: a record of its own
    deadline: str | None = None  # the programme's moment of the deadline it is judged against
    # "module:function"(home, year, received) -> (on time, context): a receipt judged otherwise than
    # by the deadline (an objection: inside the publicity window or not).
    receipt: str | None = None
    # "module:function"(session, submission, value rows, context) -> object id or None: run in the
    # transaction that records an accepted file.
    recorded: str | None = None
    # "module:function"(home, recorded id) -> Notice: tells the sender of a file recorded late and not
    # heard (a receipt judged not on time).
    late_notice: str | None = None
    lists_items: bool = False  # its values are rubric items (an accepted file may leave some out)

    def call(self, hook: str, *args: Any) -> Any:
        module, _, function = getattr(self, hook).partition(":")
        return getattr(importlib.import_module(module), function)(*args)


_REGISTRY: dict[str, FileKind] = {}


def register(kind: FileKind) -> FileKind:
    if kind.name in _REGISTRY:
        raise ValueError(f"file kind {kind.name!r} is registered twice")
    _REGISTRY[kind.name] = kind
    return kind


def get(name: str) -> FileKind:
    return _REGISTRY[name]


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def noun(name: str) -> str:
    """How a notice names a file of kind `name` (the kind itself when unknown)."""
    return _REGISTRY[name].noun if name in _REGISTRY else name


EVALUATION = register(
    FileKind(
        name="evaluation",
        noun="监测评价数据",
        check="pilotzones.intake.submit:check_evaluation_file",
        counted_by="evaluation",
        deadline="evaluation_deadline",
        lists_items=True,
    )
)
NOMINATION = register(
    FileKind(
        name="nomination",
        noun="{nomination_material}",
        check="pilotzones.intake.submit:check_nomination_file",
        counted_by="candidates",
        deadline="nomination_deadline",
    )
)
REVIEW = register(
    FileKind(
        name="review",
        noun="评审得分表",
        check="pilotzones.intake.submit:check_review_file",
        counted_by="candidates",
    )
)
# Issue 14: a report answers its rectification case, a visit sheet is a record; no stage counts them.
RECTIFICATION = register(
    FileKind(
        name="rectification",
        noun="黄牌整改报告",
        check="pilotzones.intake.submit:check_rectification_file",
        counted_by=None,
        recorded="pilotzones.store.cases:report_recorded",
    )
)
VISITS = register(
    FileKind(
        name="visits",
        noun="专家调研登记表",
        check="pilotzones.intake.submit:check_visits_file",
        counted_by=None,
        recorded="pilotzones.store.visits:sheet_recorded",
    )
)
# Issue 15: heard inside the evaluation's publicity window (公示), recorded late otherwise.
OBJECTION = register(
    FileKind(
        name="objection",
        noun="监测评价结果异议材料",
        check="pilotzones.intake.submit:check_objection_file",
        counted_by="evaluation",
        receipt="pilotzones.intake.objection:receipt",
        recorded="pilotzones.intake.objection:record_objection",
        late_notice="pilotzones.notices.publicity:answer_notice",
    )
)
