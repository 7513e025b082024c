"""The bare pandas baseline of the evaluation-stage benchmark: the same reading, checking, scoring and
ranking as the stage, in one vectorized pandas script, with no database, no Great Expectations and no
Prefect. The stage is held to within 1.5x of this.

    python benchmarks/bare_pandas.py INBOX --year 2023 [--ranking OUT.csv]

Reads every *.csv of INBOX (one county each, UTF-8), checks them (columns, known keys, one value per
key, numbers, ranges per key, integer counts, licensed <= village doctors, year, one county per file,
the county a pilot), scores (R3-R5: assessed points, item 29's share rule, bonus with its cap,
staffing tiers) and ranks (total then base, min-rank ties). Prints one JSON object: seconds per step,
files, rejected, peak RSS. Rules come from the built-in programme's rubric where they are data.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pilotzones.rules.programme import Programme, load

COLUMNS = ["year", "adcode", "county", "key", "value"]


def read(paths: list[Path]) -> pd.DataFrame:
    """All files in one frame, with each row's file index; a file missing a column raises."""
    frames = []
    for path in paths:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        missing = set(COLUMNS) - set(frame.columns)
        if missing:
            raise ValueError(f"{path.name}: missing columns {sorted(missing)}")
        frames.append(frame)
    combined = pd.concat(frames, ignore_index=True)
    combined["file"] = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    return combined


def check(frame: pd.DataFrame, programme: Programme, year: int, pilots: set[str]) -> pd.Series:
    """Per file, whether it has any error (True: rejected)."""
    kinds = programme.rubric.key_kinds()  # key -> (points | count, weight)
    key = frame["key"].str.strip()
    value = pd.to_numeric(frame["value"].str.strip(), errors="coerce")
    kind = key.map({k: v[0] for k, v in kinds.items()})
    weight = key.map({k: v[1] for k, v in kinds.items()}).astype("float64")
    points, counts = kind == "points", kind == "count"
    decimals = programme.rules.score_decimals
    bad = kind.isna() | value.isna() | frame.duplicated(["file", "key"])
    bad |= points & ((value < 0) | (value > weight) | ((value * 10**decimals).round(6) % 1 != 0))
    bad |= counts & ((value < 0) | (value % 1 != 0))
    bad |= frame["year"].str.strip() != str(year)
    first_adcode = frame.groupby("file")["adcode"].transform("first")
    bad |= (frame["adcode"] != first_adcode) | ~frame["adcode"].isin(pilots)
    wide = pd.DataFrame({"file": frame["file"], "key": key, "value": value}).pivot_table(
        index="file", columns="key", values="value", aggfunc="first"
    )
    over = pd.Series(False, index=wide.index)
    for numerator, denominator in _share_pairs(programme).items():
        if numerator in wide and denominator in wide:
            over |= wide[numerator] > wide[denominator]
    per_file = bad.groupby(frame["file"]).any()
    return per_file | over.reindex(per_file.index, fill_value=False)


def _share_pairs(programme: Programme) -> dict[str, str]:
    pairs = {}
    for item in programme.rubric.items:
        if item.rule == "share_growth":
            pairs[item.numerator] = item.denominator
            pairs[item.numerator + item.previous_suffix] = item.denominator + item.previous_suffix
    return pairs


def score(frame: pd.DataFrame, programme: Programme) -> pd.DataFrame:
    """Per county: base (categories 1-9 capped), bonus (capped) and total."""
    wide = frame.assign(num=pd.to_numeric(frame["value"], errors="coerce")).pivot_table(
        index="adcode", columns="key", values="num", aggfunc="first"
    )
    base = pd.Series(0.0, index=wide.index)
    bonus = pd.Series(0.0, index=wide.index)
    for category in programme.rubric.categories:
        points = pd.Series(0.0, index=wide.index)
        for item in category.items:
            points += _item_points(item, wide)
        if category.bonus:
            bonus += points
        else:
            base += points.clip(upper=category.max)
    bonus = bonus.clip(upper=programme.rubric.bonus_cap)
    scores = pd.DataFrame({"base": base.round(2), "bonus": bonus.round(2)}).rename_axis("adcode").reset_index()
    return scores.assign(total=lambda d: (d["base"] + d["bonus"]).round(2))


def _item_points(item, wide: pd.DataFrame) -> pd.Series:
    def col(key: str) -> pd.Series:
        return wide[key].fillna(0) if key in wide else pd.Series(0.0, index=wide.index)

    if item.rule == "assessed":
        return col(str(item.id))
    if item.rule == "share_growth":
        s = item.previous_suffix
        lic, doc = col(item.numerator), col(item.denominator)
        lic_p, doc_p = col(item.numerator + s), col(item.denominator + s)
        g = item.growth
        # share(Y) >= 1.2 x share(Y-1), cross-multiplied: 以上 includes the bound itself.
        grows = lic * doc_p * g.denominator >= g.numerator * lic_p * doc
        earned = (doc > 0) & (lic > 0) & ((doc_p == 0) | (lic_p == 0) | grows)
        return earned * float(item.weight)
    if item.rule == "per_count":
        return sum((col(level.key) * level.points for level in item.counts), pd.Series(0.0, index=wide.index))
    count = col(item.key)
    points = pd.Series(0.0, index=wide.index)
    for tier in sorted(item.tiers, key=lambda t: t.min):
        points = points.where(count < tier.min, float(tier.points))
    return points


def rank(scores: pd.DataFrame) -> pd.DataFrame:
    """By total then base, both descending; equal in both share the best rank (1, 2, 2, 4)."""
    ordered = scores.sort_values(["total", "base", "adcode"], ascending=[False, False, True]).reset_index(drop=True)
    # Both in hundredths, in one integer: ties are exact, and one vectorized rank does both keys.
    key = (ordered["total"] * 100).round().astype("int64") * 10**6 + (ordered["base"] * 100).round().astype("int64")
    ordered["rank"] = key.rank(method="min", ascending=False).astype("int64")
    return ordered


def run(inbox: Path, year: int, pilots: set[str] | None = None) -> tuple[dict[str, float], pd.DataFrame, int]:
    """Seconds per step, the ranking, and how many files were rejected."""
    programme = load()
    paths = sorted(inbox.glob("*.csv"))
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    frame = read(paths)
    seconds["read"] = time.perf_counter() - t
    t = time.perf_counter()
    pilots = pilots if pilots is not None else set(frame["adcode"].unique())
    rejected = check(frame, programme, year, pilots)
    accepted = frame[~frame["file"].map(rejected)]
    seconds["check"] = time.perf_counter() - t
    t = time.perf_counter()
    scores = score(accepted, programme)
    seconds["score"] = time.perf_counter() - t
    t = time.perf_counter()
    ranked = rank(scores)
    seconds["rank"] = time.perf_counter() - t
    return seconds, ranked, int(rejected.sum())


def peak_rss_mb() -> float:
    """This process's peak resident memory. On Linux ru_maxrss survives exec (a child started by the
    benchmark would report its parent's peak), so the high-water mark of this image is read instead."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inbox", type=Path)
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--ranking", type=Path, help="write the ranking here (CSV)")
    parser.add_argument("--pilots", type=Path, help="a file of pilot adcodes, one a line (default: every file's)")
    args = parser.parse_args(argv)
    pilots = set(args.pilots.read_text().split()) if args.pilots else None
    seconds, ranked, rejected = run(args.inbox, args.year, pilots)
    if args.ranking:
        ranked.to_csv(args.ranking, index=False)
    peak_mb = peak_rss_mb()
    out = {"seconds": seconds, "files": int(ranked.shape[0]) + rejected, "rejected": rejected, "peak_rss_mb": peak_mb}
    json.dump(out, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
