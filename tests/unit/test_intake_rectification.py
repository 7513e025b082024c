"""A rectification report is checked row by row: each error named by row and column, in Chinese."""

from __future__ import annotations

import pytest

from pilotzones.intake.rectification import check_rectification
from pilotzones.rules import programme
from pilotzones.rules.register import load_register

P = programme.load()
REG = load_register("650000")
HEAD = "年度,行政区划代码,县（市、区）,指标,发现问题,整改措施,佐证材料\n"


def check(body: str, state: str | None = "open"):
    data = (HEAD + body).encode("utf-8")
    return check_rectification(data, "r.csv", year=2022, programme=P, register=REG, case_state=lambda _: state)


@pytest.mark.parametrize(
    ("body", "state", "errors"),
    [
        ("2022,654002,伊宁市,1,未定期研究,建立例会,纪要\n", "open", []),  # a full row
        (
            "2022,654002,伊宁市,1,未定期研究,建立例会,\n2022,654002,伊宁市,2,,,\n",
            "open",
            [],
        ),  # prefilled row left alone
        ("2022,654002,伊宁市,1,,,\n", "open", [(None, None)]),  # nothing filled at all
        ("2022,654002,伊宁市,1,未定期研究,,\n", "returned", [(2, "done")]),  # found without done
        ("2022,654002,伊宁市,99,问题,措施,\n", "open", [(2, "key")]),  # not an item of the rubric
        ("2023,654002,伊宁市,,问题,措施,\n", "open", [(2, "year")]),  # the card's year, not another
        ("2022,654002,伊宁市,,问题,措施,\n2022,654025,新源县,,问题,措施,\n", "open", [(3, "adcode")]),  # one sender
        ("2022,654002,伊宁市,,问题,措施,\n", None, [(None, "adcode")]),  # no case of that card
        ("2022,654002,伊宁市,,问题,措施,\n", "accepted", [(None, "adcode")]),  # the case is closed
    ],
)
def test_rows_and_the_case_are_checked(body, state, errors):
    c = check(body, state)
    assert [(e.row, e.key) for e in c.errors] == errors
    if not errors:
        assert c.sender == "654002" and all(r["extra"]["found"] and r["extra"]["done"] for r in c.rows)


def test_a_missing_column_is_one_error_naming_it():
    data = "年度,行政区划代码,发现问题\n2022,654002,问题\n".encode()
    c = check_rectification(data, "r.csv", year=2022, programme=P, register=REG, case_state=lambda _: "open")
    assert len(c.errors) == 1 and "整改措施" in c.errors[0].message
