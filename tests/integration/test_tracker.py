"""The submission tracker: before the deadline the operator sees who has sent what, and who has nothing."""

from __future__ import annotations

import json

import pytest

from pilotzones.store.home import Home
from tests.cli_home import run
from tests.support import rows_for, write

pytestmark = pytest.mark.integration


def test_status_lists_every_file_per_pilot_and_who_has_none(cli_home, tmp_path):
    home = Home(cli_home)
    bad = write(rows_for(home, "654025", 2023, **{"1": "95", "2": "x"}), tmp_path / "bad.csv")
    good = write(rows_for(home, "654025", 2023), tmp_path / "good.csv")
    late = write(rows_for(home, "654002", 2023), tmp_path / "late.csv")
    not_pilot = write(rows_for(home, "652901", 2023), tmp_path / "aksu.csv")
    assert run(cli_home, "submit", str(not_pilot), "--year", "2023", "--at", "2023-12-10T08:00:00").exit_code == 3
    assert run(cli_home, "submit", str(bad), "--year", "2023", "--at", "2023-12-10T09:00:00").exit_code == 3
    assert run(cli_home, "submit", str(good), "--year", "2023", "--at", "2023-12-11T09:00:00").exit_code == 0
    assert run(cli_home, "submit", str(late), "--year", "2023", "--at", "2023-12-21T00:00:00").exit_code == 0

    r = run(cli_home, "status", "--year", "2023", "--json")
    st = json.loads(r.stdout)
    assert st["evaluation"]["state"] == "not_run" and "pilots" in st  # the contract's fields stay
    t = st["submissions"]["evaluation"]
    assert (t["expected"], t["counted"]) == (6, 1)
    assert t["missing"] == ["654002", "654321", "650521", "652926", "653224"]
    by = {x["adcode"]: x for x in t["senders"]}
    xinyuan = by["654025"]
    assert xinyuan["state"] == "counted" and [f["status"] for f in xinyuan["files"]] == ["rejected", "accepted"]
    assert xinyuan["files"][0]["errors"] == 2 and xinyuan["counting"] == xinyuan["files"][1]["id"]
    assert [f["counts"] for f in xinyuan["files"]] == [False, True]
    assert xinyuan["files"][1]["received_at"] == "2023-12-11T09:00:00+08:00"
    assert by["654002"]["state"] == "late_only" and by["654002"]["files"][0]["late"]
    assert by["654321"]["state"] == "nothing" and by["654321"]["files"] == []
    # A county that is not a pilot is no expected sender, and is named all the same.
    aksu = by["652901"]
    assert (aksu["name"], aksu["expected"], aksu["state"]) == ("阿克苏市", False, "rejected_only")
    assert st["submissions"]["nomination"]["expected"] == len(home.register.prefectures)

    text = run(cli_home, "status", "--year", "2023").stdout
    assert "评价数据报送情况：应报6，有效1，缺5" in text
    assert "退回（2处错误）" in text and "← 计入" in text and "逾期，不计入" in text and "尚未报送" in text
    assert "652901 阿克苏市" in text and "652901 652901" not in text
