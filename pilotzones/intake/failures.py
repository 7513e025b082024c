"""GX failures as the errors a sender reads: each located by row and key, its message filled in Chinese.

The suites (`suites.py`) carry, in each expectation's meta, the check name, the contract rule and
the templates of the message and the key; this module fills them from the failing row (raw and
helper columns), the run-time parameters and the expectation's own scalar arguments.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pilotzones.intake import RowError

if TYPE_CHECKING:
    import pandas as pd

    from pilotzones.intake.gx import Failure

EMPTY = "（空）"
_ROW_COLUMN = "_row"
_FIRST_ROW = "first_row"


def row_errors(failures: list[Failure], frame: pd.DataFrame, context: dict[str, Any]) -> list[tuple[int, RowError]]:
    """Turn failed expectations into errors, each with its check's position for a stable order."""
    out: list[tuple[int, RowError]] = []
    for order, failure in enumerate(failures):
        meta = failure.meta
        base = {**context, **{k: v for k, v in failure.kwargs.items() if not isinstance(v, list | dict)}}
        if failure.indices is None:
            missing = (failure.details or {}).get("mismatched", {}).get("missing") or [None]
            out += [(order, _error(meta, None, {**base, "column": c} if c else base)) for c in missing]
            continue
        indices = list(failure.indices)
        if meta.get("once") and len(indices) > 1:
            # The same fault on every row (a wrong year): one line for the file, not one per row.
            record = frame.loc[indices[0]].to_dict()
            first = _error(meta, None, {**base, **record})
            rows = f"（第{int(record[_ROW_COLUMN])}行起共{len(indices)}行）"
            out.append((order, RowError(None, first.key, first.rule, first.message.rstrip("。") + rows + "。")))
            continue
        for index in indices:
            record = frame.loc[index].to_dict()
            if meta.get("only_repeats") and record.get(_ROW_COLUMN) == record.get(_FIRST_ROW):
                continue
            out.append((order, _error(meta, int(record[_ROW_COLUMN]), {**base, **record})))
    return out


def ordered(found: list[tuple[int, RowError]]) -> list[RowError]:
    """Order errors: whole-file errors first, then by row, then in suite order."""
    ranked = sorted(found, key=lambda p: (p[1].row is not None, p[1].row or 0, p[0]))
    return [e for _, e in ranked]


def _error(meta: dict[str, Any], row: int | None, values: dict[str, Any]) -> RowError:
    shown = {k: text(v) for k, v in values.items()}
    key = fill(meta.get("key") or "", shown, "") or None
    message = meta["message"]
    # A blank cell is not "（空）不是数字": the check says that the value is missing.
    if meta.get("empty_of") and not shown.get(meta["empty_of"], "").strip():
        message = meta.get("empty_message", message)
    return RowError(row, key, meta.get("rule", "§3"), fill(message, shown, EMPTY))


class _Fields(dict):
    def __missing__(self, name: str) -> str:
        return "?"


def fill(template: str, values: dict[str, str], empty: str) -> str:
    """Fill a message template; an empty value reads as `empty`."""
    return template.format_map(_Fields({k: v if v != "" else empty for k, v in values.items()}))


def text(value: Any) -> str:
    """Show a cell or parameter in a message: numbers without a trailing .0, missing as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        number = float(value)
        if math.isnan(number):
            return ""
        if math.isinf(number):
            return "∞"
        return format(Decimal(repr(number)).normalize(), "f")
    return str(value)
