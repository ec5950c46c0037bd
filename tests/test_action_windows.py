"""Gap-closure actions count only inside the close's window: each action's impact is spread
evenly over its months (Start to End, blank = the horizon's ends)."""

from __future__ import annotations

import shutil

import openpyxl
import pytest

from sopfin.cli import main
from sopfin.close.publish import run_reconcile
from sopfin.close.records import Action
from sopfin.model import CellRef

HORIZON = tuple(f"{y}-{m:02d}" for y in (2027, 2028) for m in range(1, 13))


def action(start: str = "", end: str = "") -> Action:
    return Action("A", "base", "", "", 1200.0, 600.0, 1.0, CellRef("Actions", "A2"), start, end)


@pytest.mark.parametrize("start, end, window, share", [
    ("", "", HORIZON, 1.0),
    ("", "", ("2027-03",), 1 / 24),
    ("2027-07", "", ("2027-03",), 0.0),
    ("2027-07", "2027-12", tuple(f"2027-{m:02d}" for m in range(1, 13)), 1.0),
    ("2027-07", "2027-12", ("2027-07", "2027-08", "2027-09"), 0.5),
    ("2029-01", "", HORIZON, 0.0),
])
def test_share_of_an_action_in_a_window(start, end, window, share):
    assert action(start, end).share(window, HORIZON) == pytest.approx(share)


@pytest.fixture(scope="module")
def built_demo(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "plan.xlsx"
    assert main(["new", "--demo", str(path)]) == 0
    return path


def with_spans(path, spans):
    wb = openpyxl.load_workbook(path)
    ws = wb["Actions"]
    ws["H1"], ws["I1"] = "Start", "End"
    for row, (start, end) in enumerate(spans, start=2):
        ws[f"H{row}"], ws[f"I{row}"] = start, end
    wb.save(path)


def test_a_march_close_counts_only_what_falls_in_march(tmp_path, built_demo):
    path = tmp_path / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    # ACT-01 all horizon, ACT-02 a second shift from July 2027, ACT-03 March 2027 only
    with_spans(path, [(None, None), ("2027-07", None), ("2027-03", "2027-03")])
    rec = run_reconcile(path, window="2027-03").reconciliation
    expected = 1_500_000 * 0.6 / 24 + 0 + 600_000 * 0.8
    assert rec.revenue_gap_after_actions - rec.revenue_gap == pytest.approx(expected)
    horizon = run_reconcile(path, window="Horizon").reconciliation
    assert horizon.revenue_gap_after_actions - horizon.revenue_gap == pytest.approx(
        1_500_000 * 0.6 + 2_200_000 * 0.5 + 600_000 * 0.8)


def test_a_start_that_is_no_month_or_an_end_before_the_start_is_an_error(tmp_path, built_demo,
                                                                         capsys):
    path = tmp_path / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    with_spans(path, [("July", None), ("2027-09", "2027-03")])
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Actions!H2: Start must be a month (YYYY-MM) or blank, found 'July'" in out
    assert "Actions!I3: the action ends (2027-03) before it starts (2027-09)" in out
