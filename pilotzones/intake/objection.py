"""Check an objection file (公示): one zone contests items of its draft result.

Columns: year, adcode, county (optional), key (the item contested, as in the evaluation file),
value (the value the zone claims; may be blank), claim (why), evidence (what shows it; may be blank),
prefecture (optional: when the zone's prefecture objects for it, its code or name on every row).
Every row names the same zone, a pilot evaluated in the year; every key is one of the year's
rubric; a claimed value passes the checks a submitted value passes; every row gives its claim.
The Chinese headers of the objection form (年度, 行政区划代码, 县（市、区）, 指标, 报送值, 异议理由,
佐证材料, 地（州、市）) are these columns (intake/read.py ALIASES). A row with neither a value, a
claim nor evidence is a prefilled item of the form left alone, and is skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from pilotzones.intake import RowError, year_text
from pilotzones.intake.read import ROW, read_table
from pilotzones.rules.programme import Programme
from pilotzones.rules.publicity import ObjectionState, check_value
from pilotzones.rules.publicity import received_state as rule_state
from pilotzones.rules.register import Register, normalize_adcode, normalize_text

REQUIRED = ("year", "adcode", "key", "claim")
_HEADERS = {"year": "年度", "adcode": "行政区划代码", "key": "指标", "claim": "异议理由"}


@dataclass
class ObjectionCheck:
    adcode: str | None  # the zone objecting (or objected for)
    items: list[dict] = field(default_factory=list)  # {key, value, claim, evidence, row}
    errors: list[RowError] = field(default_factory=list)
    sender: str | None = None  # the zone, or its prefecture when the prefecture sent the file


def check_objection(
    data: bytes, filename: str, *, year: int, programme: Programme, register: Register, pilots: frozenset[str]
) -> ObjectionCheck:
    """Read and check the file; list every error; raise FileUnreadable."""
    frame = read_table(data, filename, programme.limits)
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        cols = "、".join(f"{c}（{_HEADERS[c]}）" for c in missing)
        need = "、".join(_HEADERS[c] for c in REQUIRED)
        return ObjectionCheck(None, errors=[RowError(None, None, "§3", f"缺少列：{cols}（异议材料应有{need}）")])
    records = [r for r in frame.to_dict("records") if any(_cell(r, c) for c in ("value", "claim", "evidence"))]
    if not records:
        return ObjectionCheck(None, errors=[RowError(None, None, "§3", "异议材料没有任何异议行")])
    errors: list[RowError] = []
    items: list[dict] = []
    zones: set[str] = set()
    senders: set[str | None] = set()
    words = programme.programme.words()
    for rec in records:
        row = int(rec[ROW])
        given = _cell(rec, "prefecture")
        pref = register.prefecture_code(given) if given else None
        senders.add(pref if given else None)
        if given and pref is None:
            errors.append(RowError(row, "prefecture", "§3", f"{words['prefecture']}{given!r}无法识别"))
        if year_text(rec.get("year")) != str(year):
            errors.append(RowError(row, "year", "§3", f"年度{rec.get('year')!r}应为{year}"))
        adcode = normalize_adcode(rec.get("adcode"))
        if adcode is None or register.county(adcode) is None:
            errors.append(RowError(row, "adcode", "§3", f"行政区划代码{rec.get('adcode')!r}不是本区域的县级行政区划"))
        else:
            zones.add(adcode)
            if pref is not None and pref != programme.prefecture_of(adcode):
                where = f"{register.name(adcode)}所在的{words['prefecture']}"
                errors.append(RowError(row, "prefecture", "§3", f"{register.name(pref)}不是{where}"))
            if adcode not in pilots:
                errors.append(
                    RowError(row, "adcode", "R2", f"{register.name(adcode)}不是{year}年度参加监测评价的{words['zone']}")
                )
            county = _cell(rec, "county")
            if county and not register.names_match(adcode, county):
                errors.append(
                    RowError(row, "county", "§3", f"县名{county}与代码{adcode}（{register.name(adcode)}）不符")
                )
        key = _cell(rec, "key")
        value = _cell(rec, "value")
        claimed = None
        if value:
            claimed, error = check_value(programme.rubric, key, value, programme.rules.score_decimals)
            if error:
                errors.append(RowError(row, key or "key", "R3", error))
        elif key not in programme.rubric.key_kinds():
            errors.append(RowError(row, "key", "§3", f"指标{key!r}不是本年度评价细则的报送项"))
        claim = _cell(rec, "claim")
        if not claim:
            errors.append(RowError(row, "claim", "§3", "异议理由为空：每一行都应写明理由"))
        evidence = _cell(rec, "evidence")
        items.append(
            {
                "key": key,
                "value": claimed,
                "claim": claim,
                "evidence": evidence or None,
                "row": row,
            }
        )
    if len(zones) > 1:
        errors.append(
            RowError(None, "adcode", "§3", f"一份异议材料只能涉及一个{words['zone']}，本文件涉及{len(zones)}个")
        )
    if len(senders) > 1:
        errors.append(RowError(None, "prefecture", "§3", f"{words['prefecture']}列应每行相同（或都不填）"))
    zone = next(iter(zones)) if len(zones) == 1 else None
    pref = next(iter(senders)) if len(senders) == 1 else None
    return ObjectionCheck(zone, items, errors, sender=pref or zone)


def _cell(rec: dict, column: str) -> str:
    """A cell as stripped text; a missing column or an empty cell is ""."""
    value = rec.get(column)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return normalize_text(value)


def received_state(home, year: int, received: datetime) -> ObjectionState:
    """Pending when received inside the evaluation's publicity window of `year`, else late."""
    from pilotzones.store import ledger, objections
    from pilotzones.store.session import session

    with session(home.db_url) as s:
        w = objections.window(s, "evaluation", year)
        if w is None:
            return ObjectionState.LATE
        return rule_state(received, ledger.utc(w.opened_at), ledger.utc(w.closes_at))


def receipt(home, year: int, received: datetime) -> tuple[bool, ObjectionState]:
    """(heard, its state): the file kind's receipt, judged by the publicity window, not a deadline."""
    state = received_state(home, year, received)
    return state != ObjectionState.LATE, state


def record_objection(s, sub, rows: list[dict], state: ObjectionState) -> int:
    """The objection of an accepted file, in the transaction that records the file."""
    from pilotzones.store import objections

    items = [r["extra"] for r in rows]
    row = objections.record(
        s,
        submission_id=sub.id,
        stage="evaluation",
        year=sub.year,
        adcode=rows[0]["adcode"],
        sender=sub.sender,
        items=items,
        received_at=sub.received_at,
        state=state,
    )
    return row.id
