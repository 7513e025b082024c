"""Check the review panel's sheet: one score (0-100) per nominated county for the year."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pilotzones.intake import RowError, canonical_number, gx, year_text
from pilotzones.intake.failures import ordered, row_errors
from pilotzones.intake.read import ROW, read_table
from pilotzones.intake.suites import load_suite
from pilotzones.rules.programme import Programme
from pilotzones.rules.register import Register, normalize_adcode


@dataclass
class ReviewCheck:
    scores: dict[str, str] = field(default_factory=dict)  # adcode -> canonical decimal string
    errors: list[RowError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors


def check_review(
    data: bytes,
    filename: str,
    *,
    year: int,
    programme: Programme,
    register: Register,
    suites_dir: Path | None = None,
) -> ReviewCheck:
    """Read and check the review sheet; list every error; raise FileUnreadable."""
    frame = prepare(read_table(data, filename, programme.limits))
    failures = gx.validate(frame, load_suite("review", programme, suites_dir), {"years": [str(year)]})
    errors = ordered(row_errors(failures, frame, {"expected_year": year}))
    return ReviewCheck(_scores(frame), errors)


def prepare(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the helper columns the review suite checks."""
    frame = frame.reset_index(drop=True)
    if "year" in frame:
        frame["year_text"] = frame["year"].map(year_text)
    if "adcode" in frame:
        frame["adcode6"] = frame["adcode"].map(normalize_adcode)
        frame["first_row"] = frame.groupby("adcode6")[ROW].transform("min")
    if "review_score" in frame:
        frame["score"] = frame["review_score"].map(canonical_number)
        frame["score_num"] = pd.to_numeric(frame["score"], errors="coerce").astype("float64")
    return frame


def _scores(frame: pd.DataFrame) -> dict[str, str]:
    """Collect the first score given to each well-formed adcode."""
    if "adcode6" not in frame or "score" not in frame:
        return {}
    scores: dict[str, str] = {}
    for record in frame.dropna(subset=["adcode6", "score"]).to_dict("records"):
        scores.setdefault(record["adcode6"], record["score"])
    return scores
