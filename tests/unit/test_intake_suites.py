"""The expectation suites: generated from the programme, kept as JSON, loaded per programme home."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pilotzones.intake import gx
from pilotzones.intake.evaluation import check_evaluation
from pilotzones.intake.suites import (
    BUILDERS,
    DEFAULT_DIR,
    build_evaluation_suite,
    load_suite,
    suite_text,
    write_builtin_suites,
)
from pilotzones.rules.programme import Programme
from tests.unit.test_intake_helpers import (
    EVALUATION_COLUMNS,
    csv_bytes,
    evaluation_rows,
    pilots,
    programme,
    register,
    with_value,
)

PROG = programme()


@pytest.mark.parametrize("kind", sorted(BUILDERS))  # each suite kept in expectations/
def test_the_committed_suite_is_what_the_generator_produces(kind):
    committed = (DEFAULT_DIR / f"{kind}.json").read_text(encoding="utf-8")
    assert committed == suite_text(BUILDERS[kind](PROG)), "run: python -m pilotzones.intake.suites"


def test_write_builtin_suites_writes_every_kind(tmp_path):
    paths = write_builtin_suites(tmp_path)
    assert sorted(p.name for p in paths) == ["evaluation.json", "nomination.json", "review.json"]


def test_the_evaluation_suite_accepts_exactly_the_rubric_keys():
    suite = build_evaluation_suite(PROG)
    known = next(e for e in suite["expectations"] if e["meta"]["check"] == "key_known")
    assert known["kwargs"]["value_set"] == list(PROG.rubric.key_kinds())
    assert "29" not in known["kwargs"]["value_set"]  # item 29 is computed from its counts


def test_every_expectation_names_a_rule_and_a_chinese_message():
    for build in BUILDERS.values():
        suite = build(PROG)
        checks = [e["meta"]["check"] for e in suite["expectations"]]
        assert len(checks) == len(set(checks))
        for e in suite["expectations"]:
            assert e["meta"]["rule"]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in e["meta"]["message"])


def _smaller_rubric() -> Programme:
    raw = PROG.model_dump()
    bonus = raw["rubric"]["categories"][-1]
    bonus["items"] = [i for i in bonus["items"] if i["id"] != 42]
    return Programme.model_validate(raw)


def test_a_stored_suite_made_for_another_rubric_is_not_used(tmp_path):
    write_builtin_suites(tmp_path)
    other = _smaller_rubric()
    suite = load_suite("evaluation", other, tmp_path)
    known = next(e for e in suite["expectations"] if e["meta"]["check"] == "key_known")
    assert "42" not in known["kwargs"]["value_set"]


def test_a_home_without_suites_uses_generated_ones(tmp_path):
    assert load_suite("evaluation", PROG, tmp_path) == build_evaluation_suite(PROG)


def test_a_hand_made_suite_in_a_home_is_used(tmp_path):
    suite = build_evaluation_suite(PROG)
    del suite["meta"]["fingerprint"]
    for e in suite["expectations"]:
        if e["meta"]["check"] == "count_min":  # this home insists on at least one media report
            e["kwargs"]["min_value"] = 1
    (tmp_path / "evaluation.json").write_text(json.dumps(suite, ensure_ascii=False), encoding="utf-8")
    data = csv_bytes(with_value(evaluation_rows(), "40.nhc", "0"), EVALUATION_COLUMNS)
    result = check_evaluation(
        data, "data.csv", year=2023, programme=PROG, register=register(), pilots=pilots(), suites_dir=tmp_path
    )
    assert [e.key for e in result.errors] == ["40.nhc"]


def test_an_invalid_expectation_in_a_suite_is_an_error_not_a_silent_skip():
    suite = {"name": "broken", "expectations": [{"type": "expect_no_such_thing", "kwargs": {}}]}
    import pandas as pd

    with pytest.raises(ValueError, match="invalid expectations"):
        gx.validate(pd.DataFrame({"a": [1]}), suite, {})


def test_importing_the_intake_does_not_import_great_expectations():
    code = (
        "import sys, pilotzones.intake.evaluation, pilotzones.intake.nomination, pilotzones.intake.review;"
        "sys.exit(1 if 'great_expectations' in sys.modules else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0
