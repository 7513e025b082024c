"""Expectation suites of the intake, generated from the programme and kept as JSON in `expectations/`.

Each expectation's meta carries its check name, the contract rule, a Chinese message template and a
template for the error's key (`failures.py` fills them). The checks of a rubric item's values come
from the item's kind (`programme.py`); the rest are the file's structure, year and county.
"""

from __future__ import annotations

import hashlib
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

from pilotzones.rules.programme import Programme

# expectations/ ships as the package `pilotzones.expectations` (the checkout's folder in an editable install).
DEFAULT_DIR = Path(str(files("pilotzones.expectations")))
KINDS = ("evaluation", "nomination", "review")

EVALUATION_COLUMNS = ("year", "adcode", "county", "key", "value")
NOMINATION_COLUMNS = ("year", "prefecture", "adcode", "county", "contact_email", "reason")
REVIEW_COLUMNS = ("year", "adcode", "review_score")
REVIEW_RANGE = (0, 100)  # R10: the review panel scores 0-100
EMAIL_PATTERN = r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$"


def _expect(
    check: str,
    kind: str,
    kwargs: dict[str, Any],
    rule: str,
    message: str,
    key: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"check": check, "rule": rule, "message": message}
    if key is not None:
        meta["key"] = key
    meta.update(extra)
    return {"type": kind, "kwargs": kwargs, "meta": meta}


def _table_checks(columns: tuple[str, ...], what: str, optional: str = "") -> list[dict[str, Any]]:
    listed = ", ".join(columns) + (f"（{optional}可选）" if optional else "")
    checks = [
        _expect(
            "rows",
            "expect_table_row_count_to_be_between",
            {"min_value": 1},
            "§3",
            "文件没有数据行：表头之下至少应有一行数据。",
        )
    ]
    # One check for every column: a failure lists each missing column, reported one error apiece.
    checks.append(
        _expect(
            "columns",
            "expect_table_columns_to_match_set",
            {"column_set": list(columns), "exact_match": False},
            "§3",
            f"缺少列“{{column}}”：{what}应有列 {listed}。",
            key="{column}",
        )
    )
    return checks


def _year_check(key: str) -> dict[str, Any]:
    return _expect(
        "year",
        "expect_column_values_to_be_in_set",
        {"column": "year_text", "value_set": {"$PARAMETER": "years"}},
        "§3",
        "年份“{year}”与报送年度{expected_year}不符。",
        key=key,
        once=True,
    )


def _adcode_format_check(key: str, what: str) -> dict[str, Any]:
    return _expect(
        "adcode_format",
        "expect_column_values_to_not_be_null",
        {"column": "adcode6"},
        "§3",
        f"{what}代码“{{adcode}}”格式不正确：应为6位行政区划代码或12位统计用区划代码。",
        key=key,
    )


def _key_examples(programme: Programme) -> str:
    kinds = programme.rubric.key_kinds()
    points = [k for k, (kind, _) in kinds.items() if kind == "points"]
    counts = [k for k, (kind, _) in kinds.items() if kind == "count"]
    return "、".join([*points[:2], *counts[:1]])


def build_evaluation_suite(programme: Programme) -> dict[str, Any]:
    """Generate the evaluation suite (GX 1.x JSON) from the programme's rubric."""
    keys = list(programme.rubric.key_kinds())
    row = "{key}"
    checks = _table_checks(EVALUATION_COLUMNS, "评价数据", "evidence")
    checks += [
        _expect(
            "key_filled",
            "expect_column_values_to_not_be_null",
            {"column": "key"},
            "§3",
            "键为空：每行应填写评价细则规定的一个键。",
            key=row,
        ),
        _expect(
            "key_known",
            "expect_column_values_to_be_in_set",
            {"column": "key", "value_set": keys},
            "§3",
            f"未知的键“{{key}}”：应为评价细则规定的键（如 {_key_examples(programme)}）。",
            key=row,
        ),
        _expect(
            "key_unique",
            "expect_column_values_to_be_unique",
            {"column": "key"},
            "§3",
            "键“{key}”重复：已在第{first_row}行填报，每个键只能填报一次。",
            key=row,
            only_repeats=True,
        ),
        _expect(
            "value_number",
            "expect_column_values_to_not_be_null",
            {"column": "value_num"},
            "§3",
            "数值“{value}”不是数字：应填写阿拉伯数字，如 12 或 12.5。",
            key=row,
            empty_of="value",
            empty_message="数值为空：每个键都应填写数值，如 12 或 12.5；没有的项可整行不报（按0分计）。",
        ),
        *programme.rubric.expectations(),
        _year_check(row),
        _adcode_format_check(row, "县级"),
        _expect(
            "one_county",
            "expect_column_values_to_be_in_set",
            {"column": "adcode6", "value_set": {"$PARAMETER": "adcodes"}},
            "R11",
            "另一县的数据（代码{adcode6}）：本文件报送的是{file_county}，一份文件只能报送一个县。",
            key=row,
        ),
    ]
    return _suite("evaluation", checks, _fingerprint(_made_of(programme, checks)))


def build_nomination_suite(programme: Programme) -> dict[str, Any]:
    """Generate the nomination suite: structure, year, prefecture, adcode and e-mail of every row."""
    prefecture = programme.programme.prefecture_name
    checks = _table_checks(NOMINATION_COLUMNS, "提名表")
    checks += [
        _year_check("year"),
        _adcode_format_check("adcode", "被提名县的"),
        _expect(
            "prefecture_known",
            "expect_column_values_to_not_be_null",
            {"column": "prefecture_code"},
            "§3",
            f"提名地区“{{prefecture}}”不是{programme.programme.region_name}的{prefecture}：应填写地区名称或代码。",
            key="prefecture",
        ),
        _expect(
            "one_prefecture",
            "expect_column_values_to_be_in_set",
            {"column": "prefecture_code", "value_set": {"$PARAMETER": "prefectures"}},
            "R11",
            f"另一地区的提名（{{prefecture}}）：本文件由{{file_prefecture}}提名，一份文件只能由一个{prefecture}提名。",
            key="prefecture",
        ),
        _expect(
            "email",
            "expect_column_values_to_match_regex",
            {"column": "email", "regex": EMAIL_PATTERN},
            "§3",
            "联系邮箱“{contact_email}”格式不正确：应为有效的电子邮件地址，如 wjw@example.org。",
            key="contact_email",
        ),
    ]
    return _suite("nomination", checks, _fingerprint(_made_of(programme, checks)))


def build_review_suite(programme: Programme) -> dict[str, Any]:
    """Generate the review-sheet suite: year, adcode, one score per county, 0-100."""
    low, high = REVIEW_RANGE
    checks = _table_checks(REVIEW_COLUMNS, "评审表")
    checks += [
        _year_check("{adcode}"),
        _adcode_format_check("{adcode}", "县级"),
        _expect(
            "adcode_unique",
            "expect_column_values_to_be_unique",
            {"column": "adcode6"},
            "§3",
            "县{adcode6}重复：已在第{first_row}行评分，每个县只能有一个评审分数。",
            key="{adcode}",
            only_repeats=True,
        ),
        _expect(
            "score_number",
            "expect_column_values_to_not_be_null",
            {"column": "score_num"},
            "§3",
            "评审分数“{review_score}”不是数字：应填写阿拉伯数字，如 85 或 85.5。",
            key="{adcode}",
            empty_of="review_score",
            empty_message="评审分数为空：每个县都应填写评审分数，如 85 或 85.5。",
        ),
        _expect(
            "score_range",
            "expect_column_values_to_be_between",
            {"column": "score_num", "min_value": low, "max_value": high},
            "R10",
            f"评审分数{{review_score}}超出范围：应在{low}到{high}之间。",
            key="{adcode}",
        ),
    ]
    return _suite("review", checks, _fingerprint(_made_of(programme, checks)))


BUILDERS = {
    "evaluation": build_evaluation_suite,
    "nomination": build_nomination_suite,
    "review": build_review_suite,
}


def _suite(name: str, checks: list[dict[str, Any]], fingerprint: str) -> dict[str, Any]:
    return {
        "name": name,
        "expectations": checks,
        "meta": {"generated_by": "pilotzones.intake.suites", "fingerprint": fingerprint},
    }


def _made_of(programme: Programme, checks: list[dict[str, Any]]) -> dict[str, Any]:
    """What a generated suite depends on: its programme and every check with its message, so a
    stored suite is used only for the programme (and the words, and the rubric) it was made for."""
    return {"programme": programme.programme.id, "checks": checks}


def _fingerprint(inputs: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:16]


def load_suite(kind: str, programme: Programme, suites_dir: Path | None = None) -> dict[str, Any]:
    """Load suite `kind` from `suites_dir`; generate it instead when absent or made for another rubric."""
    generated = BUILDERS[kind](programme)
    path = (suites_dir or DEFAULT_DIR) / f"{kind}.json"
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return generated
    # A hand-made suite carries no fingerprint and is trusted; a generated one must fit this rubric.
    mark = stored.get("meta", {}).get("fingerprint")
    if mark is not None and mark != generated["meta"]["fingerprint"]:
        return generated
    return stored


def suite_text(suite: dict[str, Any]) -> str:
    """Render a suite as the JSON text kept in `expectations/`."""
    return json.dumps(suite, ensure_ascii=False, indent=2) + "\n"


def write_builtin_suites(directory: Path | None = None) -> list[Path]:
    """Write the suites of the built-in programme to `directory` (default: the repository's)."""
    from pilotzones.rules.programme import load

    programme = load()
    directory = directory or DEFAULT_DIR
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind, build in BUILDERS.items():
        path = directory / f"{kind}.json"
        path.write_text(suite_text(build(programme)), encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_builtin_suites():
        print(written)
