"""The objection form (异议材料表) of each zone of a draft in publicity (公示): the items it lost points
on prefilled from its draft (the item, its maximum, the draft's points, the value counted), a row per
key for the value it claims, why, and the evidence.

Submitted as it is (`submit --kind objection`), it is read like every file: the header row below the
title is found, its Chinese headers are the columns intake reads (intake/read.py ALIASES); the name,
maximum, points and counted-value columns are there for the clerk and are not read. A prefilled row
left alone (no claimed value, reason or evidence) is skipped, so the clerk fills only what it contests.
"""

from __future__ import annotations

from pathlib import Path

from pilotzones.reports.xlsx import FORM_HEADER_ROW, PREFILLED_COLUMNS, prefilled_form

HEADER = [
    *PREFILLED_COLUMNS,
    "公示得分",
    "原报送值",
    "报送值",
    "异议理由",
    "佐证材料",
]
HEADER_ROW = FORM_HEADER_ROW


def write_form(path: Path, *, year: int, adcode: str, county: str, closes: str, rows: list[tuple]) -> Path:
    """`rows`: (key, item name, maximum, draft points, counted value) of each key prefilled."""
    return prefilled_form(
        path,
        sheet="异议材料",
        title=f"{county}{year}年度监测评价结果（公示稿）异议材料（公示期至{closes}）",
        guide="已预填公示稿中失分的指标；对有异议的指标，填写“报送值”（主张的数值，可不填）、“异议理由”（必填）和"
        "“佐证材料”，无异议的行留空即可。其他指标有异议的，另起一行填写年度、行政区划代码和指标。",
        header=HEADER,
        rows=[
            [str(year), adcode, county, key, name, maximum, points, counted]
            for key, name, maximum, points, counted in rows
        ],
        widths=[7, 12, 16, 6, 30, 7, 9, 10, 10, 40, 30],
    )


def form_name(year: int, adcode: str, county: str) -> str:
    return f"{year}年度监测评价异议材料表_{adcode}_{county}.xlsx"


def write_forms(home, year: int, out: Path | None = None, county: str | None = None) -> list[Path]:
    """The form of every zone of `year`'s draft (or of `county`, adcode or name); the paths."""
    from pilotzones import stages
    from pilotzones.errors import ConfigError, StageError
    from pilotzones.rules.proposal_models import EvaluationProposal
    from pilotzones.rules.register import normalize_adcode, normalize_text
    from pilotzones.store import ledger, objections
    from pilotzones.store.session import session
    from pilotzones.store.versions import programme_for

    prog, reg = programme_for(home, year), home.register
    zone = prog.programme.zone_name
    with session(home.db_url) as s:
        d = ledger.decision(s, year, stages.EVALUATION.name)
        if d is None or not d.proposal:
            raise StageError(f"{year}年度还没有监测评价方案（公示稿），无法生成异议材料表")
        proposal = EvaluationProposal.from_stored(d.proposal, d.id)
        ranking = list(proposal.ranking)
        if county is not None:
            code = normalize_adcode(county) or reg.aliases.get(normalize_text(county))
            ranking = [r for r in ranking if r.adcode == code]
            if not ranking:
                raise ConfigError(f"--county {county}：不是{year}年度参加监测评价的{zone}")
        zones = None if county is None else [r.adcode for r in ranking]
        points = {(x.adcode, x.item): x.points for x in ledger.item_scores(s, year, zones)}
        counted: dict[str, dict[str, str]] = {}
        for r in ranking:
            if r.submission_id is not None:
                values = objections.file_values(s, r.submission_id)
                for a in objections.amendments(s, [r.submission_id]):
                    values[a.key] = a.new_value
                counted[r.adcode] = values
        w = objections.window(s, stages.EVALUATION.name, year)
        closes = "公示期满" if w is None else _day(ledger.utc(w.closes_at).astimezone(prog.tz))
    folder = out or home.reports / str(year) / "objection"
    paths = []
    for r in ranking:
        values = counted.get(r.adcode, {})
        rows = [
            (key, i.name, i.weight, points.get((r.adcode, i.id), 0.0), values.get(key))
            for i in prog.rubric.items
            if i.weight and points.get((r.adcode, i.id), 0.0) < i.weight
            for key in i.keys()
        ]
        name = reg.name(r.adcode)
        paths.append(
            write_form(
                folder / form_name(year, r.adcode, name),
                year=year,
                adcode=r.adcode,
                county=name,
                closes=closes,
                rows=rows,
            )
        )
    return paths


def _day(moment) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日{moment:%H:%M:%S}"
