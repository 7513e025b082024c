"""The county register: current GB/T 2260 codes, official names and short forms."""

from __future__ import annotations

import pytest

from pilotzones.rules.register import load_register, normalize_adcode

R = load_register("650000")


@pytest.mark.parametrize(
    ("adcode", "name", "prefecture"),
    [
        ("652902", "库车市", "652900"),  # 库车县 became 库车市 in 2019 (old code 652923)
        ("654203", "沙湾市", "654200"),  # 沙湾县 became 沙湾市 in 2021 (old code 654223)
        ("650521", "巴里坤哈萨克自治县", "650500"),
        ("654025", "新源县", "654000"),
        ("654321", "布尔津县", "654300"),
        ("653224", "洛浦县", "653200"),
    ],
)
def test_known_codes(adcode, name, prefecture):
    c = R.county(adcode)
    assert c is not None and c.name == name and c.prefecture == prefecture


def test_old_codes_are_not_current():
    assert R.county("652923") is None and R.county("654223") is None


@pytest.mark.parametrize(
    ("name", "adcode"),
    [("巴里坤县", "650521"), ("巴里坤", "650521"), ("察布查尔县", "654022"), ("新源", "654025")],
)
def test_short_forms(name, adcode):
    assert R.names_match(adcode, name)


def test_ambiguous_short_form_names_neither():
    """伊宁 could be 伊宁市 or 伊宁县."""
    assert not R.names_match("654002", "伊宁") and not R.names_match("654021", "伊宁")


def test_an_official_name_shared_nationally_matches_each_of_its_codes():
    """朝阳区 is in Beijing (110105) and in Changchun (220104); the adcode says which."""
    national = load_register("000000")
    assert national.names_match("110105", "朝阳区") and national.names_match("220104", "朝阳区")
    assert not national.names_match("110105", "海淀区")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("654025", "654025"),
        ("654025000000", "654025"),
        ("654025.0", "654025"),
        (" ６５４０２５ ", "654025"),
        ("65402", None),
        ("654025000001", None),
    ],
)
def test_adcode_forms(raw, code):
    assert normalize_adcode(raw) == code


def test_prefecture_by_name_or_code():
    assert R.prefecture_code("伊犁哈萨克自治州") == "654000"
    assert R.prefecture_code("伊犁州") == "654000"
    assert R.prefecture_code("654300") == "654300"
    assert R.prefecture_code("不存在地区") is None
