"""Which rubric items a file leaves out: what `submit` warns about before the item scores 0."""

from __future__ import annotations

from collections.abc import Iterable

from pilotzones.rules.programme import Rubric


def left_out(rubric: Rubric, keys: Iterable[str]) -> list[tuple[int, str]]:
    """(item id, name) of every item the keys leave out, in Annex order.

    A scored item is left out when any key it reads is missing (it scores 0, flagged 未填报); a
    bonus item only when all its keys are: a level with no media report is simply not written.
    """
    present = set(keys)
    out = []
    for cat in rubric.categories:
        for item in cat.items:
            wanted = item.keys()
            missing = [k for k in wanted if k not in present]
            if (cat.bonus and len(missing) == len(wanted)) or (not cat.bonus and missing):
                out.append((item.id, item.name))
    return out
