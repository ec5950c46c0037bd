"""``sopfin allocate`` on the demo: the Budget cells of the window sum to the amount to the
cent; a dry run writes nothing; other measures and months stay as they were."""

from __future__ import annotations

import shutil

import pytest

from sopfin.cli import main
from sopfin.xlsx.read import read_raw_sheets


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "plan.xlsx"
    assert main(["new", "--demo", str(path)]) == 0
    return path


@pytest.fixture
def plan(tmp_path, built_demo):
    path = tmp_path / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    return path


def budget(path):
    rows = read_raw_sheets(path, ["Budget"])["Budget"].rows
    head = rows[0]
    return {(r[0], r[1]): dict(zip(head[2:], r[2:], strict=False)) for r in rows[1:] if r[0]}


@pytest.mark.parametrize("driver", ["equal", "budget_units", "revenue"])
def test_the_window_sums_to_the_amount_and_nothing_else_moves(plan, driver):
    before = budget(plan)
    assert main(["allocate", str(plan), "--amount", "12345678.91", "--measure", "revenue",
                 "--by", driver, "--window", "FY2028 Q2"]) == 0
    after = budget(plan)
    window = ("2028-04", "2028-05", "2028-06")
    cents = sum(round((row.get(m) or 0) * 100) for (f, meas), row in after.items()
                if meas == "revenue" for m in window)
    assert cents == 1_234_567_891
    for key, row in after.items():
        for month, value in row.items():
            if not (key[1] == "revenue" and month in window):
                assert value == before.get(key, {}).get(month), (key, month)


def test_dry_run_writes_nothing_and_departments_take_only_opex(plan, capsys):
    original = plan.read_bytes()
    assert main(["allocate", str(plan), "--amount", "1000", "--measure", "units", "--by",
                 "equal", "--dry-run"]) == 0
    assert "would set" in capsys.readouterr().out
    assert plan.read_bytes() == original
    assert main(["allocate", str(plan), "--amount", "1000", "--measure", "revenue", "--to",
                 "departments", "--by", "equal"]) == 2
    assert "departments carry opex" in capsys.readouterr().err
    assert plan.read_bytes() == original

