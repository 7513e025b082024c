"""The files a notice carries: each pilot's own template with its evaluation call and reminder,
the year's evaluation workbook with the summary to the commission, a carded zone's rectification
report form (its lost items prefilled) with its yellow card, a zone's objection form (its lost
items prefilled from the draft) with its draft in publicity.

Derived from the notice's identity (kind, year, about) when the message is built, so nothing more
is stored in the outbox and a notice sent again carries the same files.
"""

from __future__ import annotations

from pilotzones.store.home import Home


def attachments_for(home: Home, kind: str, year: int, about: str) -> list[tuple[str, bytes]]:
    """(file name, bytes) of each file the notice carries; none for other kinds or a missing report."""
    if kind in ("evaluation_call", "evaluation_reminder"):
        from pilotzones.reports.template import template_name, write_template
        from pilotzones.store.versions import programme_for, version_file

        name = template_name(year, about, home.register.name(about))
        path = home.reports / str(year) / "templates" / name
        # Made again when a version for the year was added since: the template lists the items in force.
        if not path.exists() or path.stat().st_mtime_ns <= version_file(home, year).stat().st_mtime_ns:
            write_template(path, programme_for(home, year), home.register, year, about)
        return [(name, path.read_bytes())]
    if kind == "yellow_card":
        from pilotzones.reports.rectification import write_forms

        # None for a zone the card disqualifies: it has no case to report on.
        return [(p.name, p.read_bytes()) for p in write_forms(home, year, adcode=about)]
    if kind == "rectification_reminder":
        from pilotzones.reports.rectification import write_forms
        from pilotzones.store import cases
        from pilotzones.store.session import session

        # The reminder's year is its deadline's: the form of each card whose case falls due then.
        with session(home.db_url) as s:
            card_years = sorted({c.card_year for c in cases.due_in(s, year, home.programme.tz) if c.adcode == about})
        return [(p.name, p.read_bytes()) for y in card_years for p in write_forms(home, y, adcode=about)]
    if kind == "evaluation_draft":
        from pilotzones.reports.objection import write_forms as objection_forms

        # 公示: the zone's objection form, its lost items prefilled from the draft it is sent with.
        return [(p.name, p.read_bytes()) for p in objection_forms(home, year, county=about)]
    if kind == "evaluation_summary":
        from pilotzones.reports import report_paths

        workbook = report_paths(home, year, "evaluation")[0]
        return [(workbook.name, workbook.read_bytes())] if workbook.exists() else []
    return []
