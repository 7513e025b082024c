"""Sample submission files for tests, built like the ones counties send."""

from __future__ import annotations

from pathlib import Path

from pilotzones.cli import demo
from pilotzones.rules.programme import AssessedItem
from pilotzones.store.home import Home


def rows_for(home: Home, adcode: str, year: int, **overrides: str) -> list[dict]:
    """Valid rows for a zone and year; `overrides` maps key -> value (None drops the key)."""
    rows = demo.sample_rows(home.programme, home.register.name(adcode), adcode, year)
    out = []
    for r in rows:
        if r["key"] in overrides:
            if overrides[r["key"]] is None:
                continue
            r = dict(r, value=overrides[r["key"]])
        out.append(r)
    return out


def full_marks(home: Home, adcode: str, year: int, scale: float = 1.0) -> list[dict]:
    """Rows scoring `scale` x each assessed weight (980 points in all) and nothing for items 29-42."""
    rows = []
    for item in home.programme.rubric.items:
        if isinstance(item, AssessedItem):
            rows.append((str(item.id), f"{round(item.weight * scale * 2) / 2:g}"))
    rows += [
        ("29.village_doctors", "100"),
        ("29.village_doctors_licensed", "10"),
        ("29.village_doctors.prev", "100"),
        ("29.village_doctors_licensed.prev", "10"),
    ]
    name = home.register.name(adcode)
    return [{"year": year, "adcode": adcode, "county": name, "key": k, "value": v, "evidence": ""} for k, v in rows]


def write(rows: list[dict], path: Path, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return demo.write_csv(rows, path, encoding)
