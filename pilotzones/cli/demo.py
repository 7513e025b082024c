"""`pilotzones demo`: deterministic sample years through every stage, in a home of its own."""

from __future__ import annotations

import csv
import io
import random
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import click

from pilotzones import stages
from pilotzones.errors import ConfigError
from pilotzones.rules.programme import AssessedItem, Programme
from pilotzones.store import DEMO_MARKER, ledger, objections
from pilotzones.store.home import Home, init_home
from pilotzones.store.session import session
from pilotzones.store.versions import add_version, programme_for

MARKER = DEMO_MARKER

# Zones the sample data makes weak, by year: carded twice running, so the demo shows R8 and R9.
WEAK = {"653224": {2022, 2023}, "654321": {2023, 2024}, "650521": {2022}}


def demo_home(explicit: str | None) -> Path:
    """The demo's home, as every command's (contract §4): --home, else $PILOTZONES_HOME, else
    ./.pilotzones. `reset_home` refuses it when it is a real home."""
    if explicit:
        return Path(explicit)
    from pilotzones.settings import settings

    return settings().home


def reset_home(home: Path) -> None:
    """Start from an empty demo home, marked as one. A folder that does not exist or is empty is
    taken; a demo home is emptied; any other folder is refused, so a real home is never deleted."""
    if home.exists() and not home.is_dir():
        raise ConfigError(f"{home} 不是目录：请为演示指定一个空目录作为 --home")
    if home.is_dir() and any(home.iterdir()):
        if not (home / MARKER).is_file():
            raise ConfigError(
                f"{home} 已存在且不是演示主目录（其中已有文件，演示不会清空它）："
                "请为演示指定一个空目录或此前演示建立的目录作为 --home"
            )
        for child in home.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    home.mkdir(parents=True, exist_ok=True)
    (home / MARKER).write_text("made by `pilotzones demo`; emptied and rebuilt by the next demo run\n")


def sample_rows(prog: Programme, county: str, adcode: str, year: int) -> list[dict]:
    """A zone's monitoring data for a year: weaker zones score lower, all values valid."""
    rnd = random.Random(f"{adcode}-{year}")
    quality = 0.3 if year in WEAK.get(adcode, set()) else 0.6 + 0.35 * rnd.random()
    rows = []
    for item in prog.rubric.items:
        if isinstance(item, AssessedItem):
            assert item.weight is not None
            pts = min(item.weight, round(item.weight * quality * rnd.uniform(0.85, 1.1) * 2) / 2)
            rows.append((str(item.id), f"{pts:g}", "见佐证材料" if rnd.random() < 0.3 else ""))
    doctors_prev = rnd.randint(80, 200)
    licensed_prev = rnd.randint(10, doctors_prev // 3)
    doctors = doctors_prev + rnd.randint(-5, 10)
    growth = 1.3 if quality > 0.5 else 1.05
    licensed = min(doctors, int(licensed_prev * growth * doctors / doctors_prev) + 1)
    rows += [
        ("29.village_doctors", str(doctors), ""),
        ("29.village_doctors_licensed", str(licensed), ""),
        ("29.village_doctors.prev", str(doctors_prev), ""),
        ("29.village_doctors_licensed.prev", str(licensed_prev), ""),
        ("40.national", str(int(rnd.random() < quality / 3)), ""),
        ("40.nhc", str(rnd.randint(0, 2)), ""),
        ("40.regional", str(rnd.randint(0, 3)), ""),
        ("40.prefecture", str(rnd.randint(0, 4)), ""),
        ("41", str(int(rnd.random() < quality / 2)), ""),
        ("42", str(rnd.choice([0, 5, 12, 20]) if quality > 0.5 else 0), ""),
    ]
    return [{"year": year, "adcode": adcode, "county": county, "key": k, "value": v, "evidence": e} for k, v, e in rows]


def write_csv(rows: list[dict], path: Path, encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["year", "adcode", "county", "key", "value", "evidence"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(rows: list[dict], path: Path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    cols = ["year", "adcode", "county", "key", "value", "evidence"]
    ws.append(cols)
    for r in rows:
        ws.append([r[c] for c in cols])
    wb.save(path)
    return path


def _submit(home: Home, path: Path, year: int, at: datetime, kind: str = "evaluation") -> None:
    from pilotzones.intake.submit import submit

    out = submit(home, path, year=year, kind=kind, at=at)
    verdict = "已接收" if out.accepted else f"退回（{out.error_count}处错误）"
    late = "" if out.on_time else "，逾期"
    click.echo(f"  报送 {path.name}：{verdict}{late}")


def _revise_rubric(home: Home, year: int, inbox: Path) -> str:
    """A revised 试行 rubric from the last year: weight moved from item 1 to item 2 (same category).
    Returns what changed, for the demo's summary."""
    text = (home.path / "programme.toml").read_text(encoding="utf-8")
    old = programme_for(home, year).rubric
    one, two = old.item(1), old.item(2)
    assert one.weight is not None and two.weight is not None
    text = text.replace(
        f'id = 1\nname = "{one.name}"\nweight = {one.weight}',
        f'id = 1\nname = "{one.name}"\nweight = {one.weight - 10}',
        1,
    )
    text = text.replace(
        f'id = 2\nname = "{two.name}"\nweight = {two.weight}',
        f'id = 2\nname = "{two.name}"\nweight = {two.weight + 10}',
        1,
    )
    revised = inbox / "programme-revised.toml"
    revised.write_text(text, encoding="utf-8")
    add_version(home, revised, year)
    change = f"第1项{one.name} {one.weight}→{one.weight - 10}分，第2项{two.name} {two.weight}→{two.weight + 10}分"
    click.echo(
        f"\n== {year}：评价细则修订自{year}年度起生效（pilotzones programme add FILE --from-year {year}）："
        f"{change}；{year - 1}年度及以前仍按原细则"
    )
    return change


def _turn_on_publicity(home: Home, year: int) -> Home:
    """The programme file gains a publicity period (公示, five working days, New Year's Day off) from
    this year: written into the home's programme file and taken in as `init` does after an edit."""
    path = home.path / "programme.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text + "\n# 公示: the evaluation's draft results are public for five working days before they are final.\n"
        "[publicity]\npublicity_days = { evaluation = 5 }\n"
        f'day_kind = "working"\nholidays = [{year + 1}-01-01]\n',
        encoding="utf-8",
    )
    click.echo(f"\n== {year}：方案增设监测评价公示期（[publicity] 5个工作日，{year + 1}年1月1日放假）")
    return init_home(home.path)


def write_objection(rows: list[dict], path: Path) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(
        buf, fieldnames=["year", "adcode", "county", "key", "value", "claim", "evidence"], lineterminator="\n"
    )
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def _publicity_year(home: Home, year: int, inbox: Path) -> None:
    """公示 in the demo: the proposal is publicized on the evaluation date; the zone carded nearest the
    line objects to the items it lost most on (upheld: its card moves to the next zone), the weakest
    zone objects and is dismissed, and one objection comes a second after the window and is not heard."""
    from pilotzones.flows.notices import deliver_outbox
    from pilotzones.stages.publicity import answer, publicize

    opened = home.programme.moment("evaluation", year)
    out = publicize(home, year, by="演示操作员", via="cli", at=opened)
    click.echo(f"  公示：{out['opened_at']} 至 {out['closes_at']}（含），公示稿{out['notices_new']}份")
    deliver_outbox(home=str(home.path), year=year)
    closes = datetime.fromisoformat(out["closes_at"])
    proposal = out["proposal"]
    ranking = proposal.ranking
    carded = [r for r in ranking if r.yellow_card]
    safe_lowest = min(r.total for r in ranking if not r.yellow_card)
    # The objector has a counted file to correct; the weakest carded zone objects too and is dismissed.
    nearest = next(r for r in carded if r.submission_id is not None)
    weakest = carded[-1] if carded[-1] is not nearest else carded[0]
    # Its full marks on the items it lost most on, until it would pass the lowest zone not carded (in
    # the default years, four items move its card to the next zone).
    prog = programme_for(home, year)
    with session(home.db_url) as s:
        sent = {
            k: v for k, v in ledger.values_frame(s, [nearest.submission_id])[["key", "value"]].itertuples(index=False)
        }
    lost = sorted(
        (i for i in prog.rubric.items if isinstance(i, AssessedItem) and str(i.id) in sent),
        key=lambda i: float(sent[str(i.id)]) - (i.weight or 0),
    )
    claimed, gain = [], 0.0
    for item in lost[:5]:  # a plausible objection contests a few items, whether or not they are enough
        if nearest.total + gain > safe_lowest:
            break
        assert item.weight is not None
        gain += item.weight - float(sent[str(item.id)])
        claimed.append(item)
    rows = [
        {
            "year": year,
            "adcode": nearest.adcode,
            "county": nearest.county,
            "key": str(i.id),
            "value": str(i.weight),
            "claim": f"第{i.id}项{i.name}已全部落实，填报时误填分值",
            "evidence": "会议纪要及文件（附件）",
        }
        for i in claimed
    ]
    _submit(
        home,
        write_objection(rows, inbox / f"objection-{nearest.adcode}.csv"),
        year,
        opened + timedelta(days=2),
        "objection",
    )
    dismissed = [
        {
            "year": year,
            "adcode": weakest.adcode,
            "county": weakest.county,
            "key": "3",
            "value": "",
            "claim": "评分偏严，请求复核",
            "evidence": "",
        }
    ]
    _submit(home, write_objection(dismissed, inbox / f"objection-{weakest.adcode}.csv"), year, closes, "objection")
    late = [dict(dismissed[0], key="4", claim="补充异议")]
    late_at = closes + timedelta(seconds=1)
    _submit(home, write_objection(late, inbox / f"objection-{weakest.adcode}-late.csv"), year, late_at, "objection")
    with session(home.db_url) as s:
        heard = [o.id for o in objections.pending(s, "evaluation", year)]
    first, second = heard
    answered_at = closes + timedelta(hours=10)
    upheld = answer(home, first, uphold=True, reason="佐证材料属实，按所报分值更正", by="演示操作员", at=answered_at)
    moved = "、".join(f"{home.register.name(a)}（{a}）" for a in upheld["moved"]) or "无"
    click.echo(f"  异议{first}（{nearest.county}）成立，更正{len(claimed)}项；黄牌调整：{moved}")
    answer(home, second, uphold=False, reason="经复核，第3项按细则评分无误", by="演示操作员", at=answered_at)
    click.echo(f"  异议{second}（{weakest.county}）不成立，维持公示结果")
    deliver_outbox(home=str(home.path), year=year)


def _year_files(home: Home, year: int, inbox: Path, remind) -> None:
    prog, reg = programme_for(home, year), home.register
    with session(home.db_url) as s:
        zones = ledger.pilots_for(s, year)
    deadline = prog.moment("evaluation_deadline", year)
    for i, z in enumerate(zones):
        # Short names are what counties type: 巴里坤县 for 巴里坤哈萨克自治县.
        name = "巴里坤县" if z == "650521" else reg.name(z)
        rows = sample_rows(prog, name, z, year)
        at = deadline - timedelta(days=10 - i)
        if i == 3:  # 15 Dec: the reminder goes to the zones that have not sent a valid file yet
            remind(home=str(home.path), year=year)
        if z == "653224" and year == 2023:
            _submit(home, write_csv(rows, inbox / f"{z}-late.csv"), year, deadline + timedelta(hours=5))
            continue
        if i == 0:
            bad = [dict(r, value="95") if r["key"] == "2" else r for r in rows]
            _submit(home, write_csv(bad, inbox / f"{z}-first.csv"), year, at - timedelta(days=2))
        if i == 1:
            _submit(home, write_xlsx(rows, inbox / f"{z}.xlsx"), year, at)
        elif i == 2:
            _submit(home, write_csv(rows, inbox / f"{z}-gb18030.csv", "gb18030"), year, at)
        else:
            _submit(home, write_csv(rows, inbox / f"{z}.csv", "utf-8-sig" if i % 2 else "utf-8"), year, at)


# Nominations per year: (prefecture, county adcode, review score or None, minutes after the first).
# Some do not count, each for its own reason: wrong prefecture, already a pilot, exited, no review
# score, nominated twice, or late.
NOMINATIONS: dict[int, list[tuple[str, str, float | None]]] = {
    0: [
        ("652900", "652901", 92.0),
        ("652900", "652902", 84.5),
        ("653100", "653101", 88.0),
        ("653100", "652922", 90.0),
        ("654000", "654025", 95.0),
        ("654200", "654203", None),
        ("652300", "652301", 86.0),
    ],
    1: [
        ("652900", "652902", 91.0),
        ("652300", "652301", 87.5),
        ("653100", "653101", 85.0),
        ("653200", "653224", 99.0),
        ("652300", "652302", 80.0),
        ("650100", "650121", 82.0),
    ],
    2: [
        ("652900", "652922", 89.0),
        ("653200", "653224", 93.0),
        ("652300", "652302", 83.0),
        ("654300", "654301", 90.5),
        ("650100", "650121", 78.0),
    ],
}


def write_nominations(rows: list[dict], path: Path) -> Path:
    buf = io.StringIO()
    w = csv.DictWriter(
        buf,
        fieldnames=["year", "prefecture", "adcode", "county", "contact_email", "reason"],
        lineterminator="\n",
    )
    w.writeheader()
    w.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))
    return path


def _candidate_files(home: Home, year: int, inbox: Path) -> None:
    reg = home.register
    plan = NOMINATIONS[(year - home.programme.programme.start_year) % len(NOMINATIONS)]
    deadline = home.programme.moment("nomination_deadline", year)
    by_pref: dict[str, list[dict]] = {}
    for pref, adcode, _ in plan:
        by_pref.setdefault(pref, []).append(
            {
                "year": year,
                "prefecture": reg.prefectures[pref],
                "adcode": adcode,
                "county": reg.name(adcode),
                "contact_email": f"wjw.{adcode}@example.org",
                "reason": "党委政府支持力度大，工作基础较好",
            }
        )
    for i, (pref, rows) in enumerate(sorted(by_pref.items())):
        at = deadline - timedelta(days=7 - i)
        if pref == "650100":  # 乌鲁木齐市 sends its file an hour after the deadline
            at = deadline + timedelta(hours=1)
        _submit(home, write_nominations(rows, inbox / f"nominations-{pref}.csv"), year, at, "nomination")
    if year == 2022:  # 阿克苏地区 sends 阿克苏市 again: the earliest receipt counts
        again = [r for r in by_pref["652900"] if r["adcode"] == "652901"]
        _submit(
            home,
            write_nominations(again, inbox / "nominations-652900-again.csv"),
            year,
            deadline - timedelta(days=1),
            "nomination",
        )
    reviews = [(a, score) for _, a, score in plan if score is not None] + [("654202", 77.0)]
    buf = io.StringIO()
    buf.write("year,adcode,review_score\n")
    for adcode, score in reviews:
        buf.write(f"{year},{adcode},{score:g}\n")
    review = inbox / "review-sheet.csv"
    review.write_text(buf.getvalue(), encoding="utf-8")
    _submit(home, review, year, deadline + timedelta(hours=8), "review")


def run_demo(home_path: Path, first: int, last: int) -> None:
    from pilotzones.cli import demo_between
    from pilotzones.cli.status import render_table, year_status
    from pilotzones.flows.candidates import candidate_selection
    from pilotzones.flows.evaluation import evaluation_stage, publish_evaluation
    from pilotzones.flows.notices import (
        deliver_outbox,
        evaluation_call,
        evaluation_reminder,
        nomination_call,
        nomination_reminder,
    )
    from pilotzones.reports import report_paths

    home = init_home(home_path)
    prog = home.programme
    words = prog.programme.words()
    ev_cn, cand_cn = stages.cn("evaluation", words), stages.cn("candidates", words)

    def on(moment: str, year: int) -> str:  # a calendar date of the programme, as 9月1日
        d = prog.moment(moment, year)
        return f"{d.month}月{d.day}日"

    click.echo(f"演示主目录：{home.path.resolve()}")
    revised: dict[int, str] = {}
    for year in range(first, last + 1):
        inbox = home.path / "inbox" / str(year)
        inbox.mkdir(parents=True)
        if year == last and last > first:
            home = _turn_on_publicity(home, year)
            revised[year] = _revise_rubric(home, year, inbox)
        # Between evaluations (issue 14): last December's cards, visits, a meeting.
        demo_between.spring(home, year, inbox)
        deliver_outbox(home=str(home.path), year=year)
        click.echo(f"\n== {year}：推荐通知（{on('nomination_call', year)}）与提醒（{on('nomination_reminder', year)}）")
        nomination_call(home=str(home.path), year=year)
        nomination_reminder(home=str(home.path), year=year)
        click.echo(f"== {year}：{words['nomination_material']}与评审得分表")
        _candidate_files(home, year, inbox)
        click.echo(f"== {year}：{cand_cn}（{on('candidate_selection', year)}）")
        candidate_selection(home=str(home.path), year=year, approve=True)
        demo_between.autumn(home, year)
        click.echo(f"== {year}：监测评价数据报送通知（{on('evaluation_call', year)}）")
        evaluation_call(home=str(home.path), year=year)
        click.echo(f"== {year}：监测评价数据报送")
        _year_files(home, year, inbox, evaluation_reminder)
        deliver_outbox(home=str(home.path), year=year)
        click.echo(f"== {year}：{ev_cn}（{on('evaluation', year)}）")
        if year == last:
            # The last year shows the approval step: the run stops, then an operator approves
            # (after the publicity period, when the programme has one).
            evaluation_stage(home=str(home.path), year=year, approve=False)
            if home.programme.publicity.days("evaluation"):
                _publicity_year(home, year, inbox)
            click.echo(f"  方案待审批；现予批准（pilotzones approve --year {year} --stage evaluation）")
            publish_evaluation(home=str(home.path), year=year)
        else:
            evaluation_stage(home=str(home.path), year=year, approve=True)
        # As the year ends: the cases its cards opened are not overdue yet.
        at = home.programme.moment("evaluation", year)
        click.echo(render_table(year_status(home, year, at), words))
        for report in report_paths(home, year):
            if report.exists():
                click.echo(f"  报告：{report.resolve()}")
    click.echo("\n运行结果：")
    reg = home.register
    for year in range(first, last + 1):
        if year in revised:
            click.echo(f"  {year}：按自{year}年度起生效的修订版评价细则评分（{revised[year]}）")
        ev = year_status(home, year)["evaluation"]
        carded = [f"{r['adcode']} {r['county']}" for r in ev["ranking"] if r["yellow_card"]]
        click.echo(f"  {year}：亮黄牌 {'、'.join(carded) or '无'}")
        for z in ev["disqualified"]:
            swap = next((p for p in ev["promoted"] if p["replaces"] == z), None)
            by = f"由{words['candidate']} {swap['adcode']} {reg.name(swap['adcode'])} 替补" if swap else "席位空缺"
            n = prog.rules.consecutive_cards_to_disqualify
            click.echo(f"  {year}：{z} {reg.name(z)} 连续{n}年亮黄牌，{words['withdrawal']}；{by}")
        heard = (ev.get("publicity") or {}).get("objections", [])
        if heard:
            from pilotzones.rules.publicity import ObjectionState

            told = "；".join(f"#{o['id']} {reg.name(o['adcode'])} {ObjectionState(o['state']).cn}" for o in heard)
            click.echo(f"  {year}：发布前公示，异议{len(heard)}件：{told}")
    click.echo(
        "\n查看：\n"
        f"  状态数据库  {home.db_url}\n"
        f"  收到的文件  {home.archive.resolve()}（按收到时原样保存）\n"
        f"  通知        {home.outbox.resolve()}（.eml；设置 PILOTZONES_SMTP_HOST 即通过 SMTP 发送）\n"
        f"  报告        {home.reports.resolve()}/年度（排名工作簿、可打印的 HTML、{words['candidate']}工作簿）\n"
        f"  状态        pilotzones --home {home.path} status --year {last} [--json]\n"
        f"  Prefect 运行 PREFECT_HOME={(home.path / 'prefect').resolve()} prefect server start"
    )
