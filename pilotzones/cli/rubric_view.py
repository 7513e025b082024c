"""`rubric`: the programme's rubric as the contract's JSON object, or as a table."""

from __future__ import annotations

from pilotzones.rules.programme import Item, Programme


def _item(i: Item) -> dict:
    d: dict = {
        "id": i.id,
        "name": i.name,
        "rule": i.rule,
        "keys": list(i.keys()),
        "description": i.explanation(),
    }
    # Every item has the key (contract §4): a bonus item's is the most it gives (item 42's highest
    # tier), null for one counted without a limit of its own (40, 41: only the bonus cap bounds them).
    d["weight"] = i.most_points()
    d.update(i.details())
    if i.text:
        d["text"] = i.text
    return d


def rubric_json(p: Programme) -> dict:
    r = p.rubric
    return {
        "programme": p.programme.id,
        "categories": [
            {"id": c.id, "name": c.name, "max": c.max, "bonus": c.bonus, "items": [_item(i) for i in c.items]}
            for c in r.categories
        ],
        "base_max": r.base_max,
        "bonus_cap": r.bonus_cap,
        "score_decimals": p.rules.score_decimals,
    }


def rubric_table(p: Programme, since: int | None = None) -> str:
    """The rubric as a table; `since`, the first year of the version shown."""
    version = f"，{since}年度起适用" if since is not None else ""
    out = [f"{p.programme.name} 监测评价细则（基础分{p.rubric.base_max}，加分上限{p.rubric.bonus_cap}{version}）"]
    for c in p.rubric.categories:
        out.append(f"{c.id}. {c.name} ({'上限' if c.bonus else '满分'} {c.max})")
        for i in c.items:
            w = f"{i.weight:>4}" if i.weight is not None else "   +"
            out.append(f"   {i.id:>2} {w}  {i.name}  [{i.rule}]")
    return "\n".join(out)
