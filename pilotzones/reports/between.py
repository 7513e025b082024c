"""Between evaluations in figures (issue 14): the rectification cases of a year, each pilot's
expert visits against the programme's minimum, the year's meetings and attendance. What
`status --json` shows and the yearly report lays out, read once here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pilotzones.store import cases, ledger, visits
from pilotzones.store.session import session


def year_between(home, year: int, at: datetime) -> dict[str, dict]:
    """`status --json`'s `rectification`, `visits` and `meetings` of `year`, as things stand at `at`."""
    from pilotzones.rules.visits import per_zone

    prog = home.programme
    tz = prog.tz
    with session(home.db_url) as s:
        rect = cases.year_json(s, year, tz, at)
        zones = ledger.pilots_for(s, year)
        counts = visits.counts(s, year)
        visit_rows = [
            {
                "id": v.id,
                "adcode": v.adcode,
                "date": v.visited_on.isoformat(),
                "who": v.who,
                "found": v.found,
                "follow_up": v.follow_up,
                "case_id": v.case_id,
            }
            for v in visits.visits(s, year)
        ]
        held = visits.meetings(s, year)
    minimum = prog.guidance.visits_per_year
    meetings: list[dict[str, Any]] = [
        {
            "id": mt.id,
            "date": mt.held_on.isoformat(),
            "place": mt.place,
            "kind": mt.kind,
            "attended": who,
        }
        for mt, who in held
    ]
    attendance = {z: sum(z in x["attended"] for x in meetings) for z in zones}
    rect["deadline_months"] = prog.rules.rectification_months
    rect["overdue_effect"] = prog.rules.rectification_overdue_effect
    rect["overdue_points"] = prog.rules.rectification_overdue_points
    return {
        "rectification": rect,
        "visits": {
            "minimum": minimum,
            "zones": per_zone(zones, counts, minimum),
            "recorded": visit_rows,
            "check": prog.moment("visit_check", year).isoformat(),
        },
        "meetings": {
            "required": prog.guidance.meetings_per_year,
            "held": len(meetings),
            "meetings": meetings,
            "attendance": attendance,
        },
    }
