"""Checking many evaluation files at once gives each file exactly the result of checking it alone."""

from __future__ import annotations

import pytest

from pilotzones.intake import RowError, gx
from pilotzones.intake.batch import batch_variant
from pilotzones.intake.evaluation import EvaluationCheck, check_evaluation, check_evaluations
from pilotzones.intake.read import FileUnreadable
from pilotzones.intake.suites import build_evaluation_suite
from tests.unit.test_intake_helpers import (
    EVALUATION_COLUMNS,
    csv_bytes,
    evaluation_rows,
    pilots,
    programme,
    register,
    with_value,
    xlsx_bytes,
)

PROG, REG, PILOTS = programme(), register(), pilots()
ROWS = evaluation_rows()


def _csv(rows: list[dict], columns=EVALUATION_COLUMNS, encoding: str = "utf-8") -> bytes:
    return csv_bytes(rows, columns, encoding)


def _several_errors() -> list[dict]:
    rows = with_value(ROWS, "1", "85")  # out of range
    rows = with_value(rows, "2", "abc")  # not a number
    rows = with_value(rows, "3", "99", "key")  # unknown key
    rows = with_value(rows, "4", "2021", "year")  # wrong year
    rows = with_value(rows, "41", "0.5")  # a count that is no integer
    rows = with_value(rows, "29.village_doctors_licensed", "500")  # more licensed than doctors
    return [*rows, dict(rows[11], value="1"), dict(rows[12], value="2")]  # keys 12 and 13 again


def _other_county_rows() -> list[dict]:
    rows = evaluation_rows(adcode="654002", county="伊宁市")
    rows[3:5] = [dict(r, adcode="654025", county="新源县") for r in rows[3:5]]
    return rows


# A mix like a national intake: valid files of several zones and encodings, and every kind of error.
FILES: list[tuple[bytes, str]] = [
    (_csv(ROWS), "654025.csv"),
    (_csv(_several_errors()), "several.csv"),
    (_csv(evaluation_rows(adcode="650521", county="巴里坤县"), encoding="gb18030"), "650521.csv"),
    (_csv(with_value(ROWS, "12", "12.555")), "decimals.csv"),
    (_csv(_other_county_rows()), "other-county.csv"),
    (_csv(evaluation_rows(adcode="652901", county="阿克苏市")), "not-a-pilot.csv"),
    (_csv(evaluation_rows(adcode="110101", county="东城区")), "not-in-region.csv"),
    (_csv([dict(r, county="新疆县") for r in ROWS]), "wrong-name.csv"),
    (_csv(with_value(ROWS, "12", "伊宁市", "county")), "one-wrong-name.csv"),
    (_csv([dict(r, adcode="新源") for r in ROWS[:3]]), "no-code.csv"),
    (_csv(with_value(ROWS, "12", "65402", "adcode")), "bad-code.csv"),
    (_csv(with_value(ROWS, "12", "", "key")), "empty-key.csv"),
    (_csv(with_value(ROWS, "29.village_doctors_licensed.prev", "119")), "pair-prev.csv"),
    (_csv(evaluation_rows(adcode="654321000000", county="布尔津县")), "twelve-digits.csv"),
    (_csv(ROWS, columns=EVALUATION_COLUMNS[:-1]), "no-evidence.csv"),
    (_csv(ROWS, columns=["year", "adcode", "county", "key", "evidence"]), "no-value-column.csv"),
    (_csv(ROWS, columns=["year", "key"]), "two-columns.csv"),
    (_csv([]), "header-only.csv"),
    (xlsx_bytes(evaluation_rows(adcode="652926", county="拜城县"), EVALUATION_COLUMNS), "652926.xlsx"),
    (xlsx_bytes(with_value(ROWS, "42", "3.5"), EVALUATION_COLUMNS), "bad.xlsx"),
    (b"", "empty.csv"),
    (b'year,adcode\n"2023,654025\n', "quote.csv"),
    (_csv(evaluation_rows(adcode="653224", county="洛浦县")), "653224.csv"),
]


def _alone(data: bytes, filename: str) -> EvaluationCheck:
    """One file checked by itself; an unreadable file as `submit` records it."""
    try:
        return check_evaluation(data, filename, year=2023, programme=PROG, register=REG, pilots=PILOTS)
    except FileUnreadable as exc:
        return EvaluationCheck(None, None, errors=[RowError(None, None, "§3", str(exc))])


def _batch(files: list[tuple[bytes, str]]) -> list[EvaluationCheck]:
    return check_evaluations(files, year=2023, programme=PROG, register=REG, pilots=PILOTS)


def test_the_batch_gives_every_file_the_result_it_gets_alone():
    expected = [_alone(d, n) for d, n in FILES]
    assert sum(not e.accepted for e in expected) > 15  # the mix does exercise the errors
    got = _batch(FILES)
    assert len(got) == len(FILES)
    for (_, name), want, have in zip(FILES, expected, got, strict=True):
        assert have == want, name


def test_files_with_the_same_columns_are_validated_in_one_run(monkeypatch):
    calls: list[int] = []
    real = gx.validate

    def counting(frame, suite, parameters):
        calls.append(len(frame))
        return real(frame, suite, parameters)

    monkeypatch.setattr(gx, "validate", counting)
    files = [f for f in FILES if f[1].endswith(".csv") and f[1] not in ("no-evidence.csv", "header-only.csv")]
    files = [f for f in files if f[1] not in ("no-value-column.csv", "two-columns.csv", "empty.csv", "quote.csv")]
    results = _batch(files)
    assert len(calls) == 1
    assert any(not r.accepted for r in results) and any(r.accepted for r in results)


def test_a_duplicate_key_in_one_file_is_not_a_duplicate_of_another_files_key():
    one, two = _batch([(_csv(ROWS), "a.csv"), (_csv(evaluation_rows(adcode="654002", county="伊宁市")), "b.csv")])
    assert one.accepted and two.accepted
    assert (one.adcode, two.adcode) == ("654025", "654002")


def test_the_order_of_files_does_not_change_their_results():
    forward = _batch(FILES)
    backward = _batch(FILES[::-1])
    assert forward == backward[::-1]


@pytest.mark.parametrize(
    "expectation",
    [
        {"type": "expect_column_mean_to_be_between", "kwargs": {"column": "value_num", "min_value": 0}},
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "key", "mostly": 0.9}},
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1, "max_value": 60}},
    ],
)
def test_a_suite_with_a_check_that_only_means_something_per_file_is_not_batched(expectation):
    suite = build_evaluation_suite(PROG)
    assert batch_variant(suite) is not None
    assert batch_variant(dict(suite, expectations=[*suite["expectations"], expectation])) is None
