"""Workbooks and printable reports for the people in the cycle: county templates, yearly reports.

A layer between store and notices: it reads the programme and the state, writes files under
`HOME/reports/` (or where asked), and notices may point to or attach what it wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def write_reports(home: Any, year: int, stage: str | None = None) -> list[Path]:
    """Write the reports of `year` (of one stage, or both) to HOME/reports/Y/; return the paths written."""
    from pilotzones.reports.candidates import write_candidate_report
    from pilotzones.reports.yearly import write_year_report

    out: list[Path] = []
    if stage in (None, "evaluation"):
        out += write_year_report(home, year)
    if stage in (None, "candidates"):
        out += write_candidate_report(home, year)
    return out


def report_paths(home: Any, year: int, stage: str | None = None) -> list[Path]:
    """Where the reports of `year` (one stage, or both) are written."""
    prog = home.programme.programme
    folder = home.reports / str(year)
    out = []
    if stage in (None, "evaluation"):
        stem = f"{year}年度{prog.zone_name}监测评价报告"
        out += [folder / f"{stem}.xlsx", folder / f"{stem}.html"]
    if stage in (None, "candidates"):
        out.append(folder / f"{year}年度{prog.candidate_name}遴选.xlsx")
    return out
