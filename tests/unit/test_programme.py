"""A programme is data: the built-in Annex 1 rubric, and other programmes from files."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotzones.errors import ConfigError
from pilotzones.rules import programme

P = programme.load()


def test_annex_1_is_transcribed_exactly():
    """Nine scored categories with items 1-39 make 1000 points; bonus items 40-42 capped at 100."""
    r = P.rubric
    assert [c.max for c in r.scored] == [150, 200, 100, 100, 100, 100, 80, 50, 120]
    assert [i.id for c in r.scored for i in c.items] == list(range(1, 40))
    assert r.base_max == 1000
    assert [i.id for i in r.bonus_items] == [40, 41, 42]
    assert r.bonus_cap == 100
    assert r.item(1).name == "党委政府主导" and r.item(1).weight == 80
    assert r.item(29).weight == 20 and r.item(29).rule == "share_growth"
    assert r.item(39).weight == 40


def test_six_pilots_of_the_notice():
    assert P.pilots.initial == ("654025", "654002", "654321", "650521", "652926", "653224")
    assert (P.rules.candidate_slots, P.rules.cards_per_year, P.rules.consecutive_cards_to_disqualify) == (
        3,
        2,
        2,
    )


def test_deadlines_are_local_time():
    d = P.moment("evaluation_deadline", 2023)
    assert d.isoformat() == "2023-12-20T23:59:59+08:00"


def _write(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "p.toml"
    f.write_text(text, encoding="utf-8")
    return f


def test_broken_programme_file_names_file_and_field(tmp_path):
    """A category whose weights do not add up is refused with the field named."""
    text = programme.BUILTIN.read_text(encoding="utf-8").replace("weight = 80", "weight = 81", 1)
    with pytest.raises(ConfigError) as exc:
        programme.load(_write(tmp_path, text))
    assert str(exc.value).startswith(f"{tmp_path / 'p.toml'}：rubric.categories[0]：")
    assert "weight 合计151分，与 max = 150 不符" in str(exc.value)


def test_not_toml_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="不是有效的 TOML 文件（第1行第11列有误）"):
        programme.load(_write(tmp_path, "[programme\n"))


def test_each_rule_kind_is_its_own_class_owning_its_keys():
    r = P.rubric
    kinds = {i.id: type(i) for i in r.items}
    assert kinds[1] is programme.AssessedItem and kinds[29] is programme.ShareGrowthItem
    assert (kinds[40], kinds[41], kinds[42]) == (programme.PerCountItem,) * 2 + (programme.TieredCountItem,)
    assert r.item(1).key_kind() == ("points", 80) and r.item(42).key_kind() == ("count", None)
    assert r.pairs() == {
        "29.village_doctors_licensed": "29.village_doctors",
        "29.village_doctors_licensed.prev": "29.village_doctors.prev",
    }


def _with_items(items: list[dict]) -> dict:
    raw = P.model_dump(mode="json")
    raw["rubric"]["categories"] = [{"id": 1, "name": "加分项", "max": 100, "bonus": True, "items": items}]
    return raw


def test_a_kind_refuses_another_kinds_fields_and_names_what_it_needs():
    with pytest.raises(ValueError, match="tiers"):
        programme.Programme.model_validate(
            _with_items([{"id": 1, "name": "x", "rule": "assessed", "weight": 5, "tiers": []}])
        )
    with pytest.raises(ValueError, match="计分规则 tiered_count 须填写 key"):
        programme.Programme.model_validate(_with_items([{"id": 1, "name": "x", "rule": "tiered_count"}]))


def test_the_suite_gets_the_checks_of_the_kinds_the_rubric_has():
    checks = [e["meta"]["check"] for e in P.rubric.expectations()]
    assert checks == ["score_min", "score_max", "score_decimals", "count_min", "count_integer", "count_pair"]
    counts_only = programme.Programme.model_validate(
        _with_items([{"id": 1, "name": "x", "rule": "per_count", "counts": [{"key": "a", "name": "a", "points": 1}]}])
    )
    assert [e["meta"]["check"] for e in counts_only.rubric.expectations()] == ["count_min", "count_integer"]


def test_an_item_error_is_located_as_in_the_file(tmp_path):
    text = programme.BUILTIN.read_text(encoding="utf-8").replace("weight = 80\n", "", 1)
    with pytest.raises(ConfigError) as exc:
        programme.load(_write(tmp_path, text))
    assert "：rubric.categories[0].items[0].weight：指标1的计分规则 assessed 须填写 weight" in str(exc.value)


def _places(tmp_path: Path, **swap: str) -> Path:
    """The built-in file with lines replaced (old -> new), written to tmp_path."""
    text = programme.BUILTIN.read_text(encoding="utf-8")
    for old, new in swap.items():
        assert old in text
        text = text.replace(old, new, 1)
    return _write(tmp_path, text)


_PILOTS = 'initial = ["654025", "654002", "654321", "650521", "652926", "653224"]'


@pytest.mark.parametrize(
    ("old", "new", "field", "says"),
    [
        (_PILOTS, 'initial = ["654025", "654002", "654025"]', "pilots.initial[2]", "654025 已列于 pilots.initial[0]"),
        ('region_code = "650000"', 'region_code = "990000"', "programme.region_code", "990000 不是 GB/T 2260 的省级"),
        ('region_code = "650000"', 'region_code = "660000"', "programme.region_code", "660000 不是 GB/T 2260 的省级"),
        ('region_code = "650000"', 'region_code = "654000"', "programme.region_code", "654000 不是 GB/T 2260 的省级"),
        (_PILOTS, 'initial = ["654025", "450102"]', "pilots.initial[1]", "450102 不是新疆维吾尔自治区（650000）的县级"),
        (_PILOTS, 'initial = ["654025", "654000"]', "pilots.initial[1]", "654000 是地（州、市）或省级的代码"),
        ('region_name = "新疆维吾尔自治区"', 'region_name = "广西壮族自治区"', "programme.region_name", "请改为“新疆"),
    ],
)
def test_places_the_register_does_not_have_are_refused_naming_the_field(tmp_path, old, new, field, says):
    """One line in Chinese: the file, the key as the file writes it, what is wrong and what to write."""
    with pytest.raises(ConfigError) as exc:
        programme.check_places(programme.load(_places(tmp_path, **{old: new})), tmp_path / "p.toml")
    (line,) = str(exc.value).splitlines()
    assert line.startswith(f"{tmp_path / 'p.toml'}：{field}：") and says in line and "请" in line


def test_the_built_in_programme_names_its_places_right():
    programme.check_places(P)


@pytest.mark.parametrize(
    ("old", "new", "line"),
    [
        # pydantic's own checks, each in Chinese with what to write instead
        (
            "weight = 80\n",
            "weight = 80\nweigth = 1\n",
            "rubric.categories[0].items[0].weigth：方案文件没有这一项：请删去",
        ),
        ('region_code = "650000"', 'region_code = "65000"', "programme.region_code：“65000”格式不对：应为6位数字"),
        ("candidate_slots = 3", "candidate_slots = -1", "rules.candidate_slots：-1太小：应不小于0"),
        (
            'rule = "assessed"',
            'rule = "assesed"',
            "rubric.categories[0].items[0].rule：没有计分规则“assesed”：应为 assessed、",
        ),
        ('"12-20 23:59:59"', '"02-30 23:59:59"', "calendar.evaluation_deadline：“02-30 23:59:59”不是日历上有的日子"),
        ('"12-20 23:59:59"', '"12-20"', "calendar.evaluation_deadline：“12-20”格式不对：应写作“月-日 时:分:秒”"),
        # the programme's own validators, located at the key
        ("id = 2\n", "id = 1\n", "rubric.categories[0].items[1].id：指标编号 1 已用于 rubric.categories[0].items[0]"),
        ('timezone = "Asia/Shanghai"', 'timezone = "Mars/Base"', "programme.timezone：没有时区“Mars/Base”"),
    ],
)
def test_a_broken_programme_file_is_told_in_chinese_one_line_per_fault(tmp_path, old, new, line):
    with pytest.raises(ConfigError) as exc:
        programme.load(_places(tmp_path, **{old: new}))
    (said,) = str(exc.value).splitlines()
    assert said.startswith(f"{tmp_path / 'p.toml'}：{line}")
    assert not any(w in said for w in ("Value error", "Field required", "Input should", "not valid"))


def test_each_duplicate_pilot_is_a_line_of_its_own_naming_its_place_in_the_list(tmp_path):
    f = _places(tmp_path, **{_PILOTS: 'initial = ["654025", "654002", "654025", "654002"]'})
    with pytest.raises(ConfigError) as exc:
        programme.load(f)
    assert str(exc.value).splitlines() == [
        f"{f}：pilots.initial[2]：654025 已列于 pilots.initial[0]：每个县只能列出一次，请删去重复的一项",
        f"{f}：pilots.initial[3]：654002 已列于 pilots.initial[1]：每个县只能列出一次，请删去重复的一项",
    ]


def test_a_missing_programme_file_says_so_in_chinese(tmp_path):
    with pytest.raises(ConfigError, match="找不到方案文件"):
        programme.load(tmp_path / "nope.toml")
