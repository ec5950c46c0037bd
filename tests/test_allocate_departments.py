"""``sopfin allocate --measure opex --to departments``: a top-down opex amount over the
departments by a driver, and beneath each over its accounts, written as Budget opex rows that
sum to the amount to the cent; worked by hand on a small plan, then on the demo."""

from __future__ import annotations

import pytest

import sopfin
from opex_tables import opex_plan
from plan_tables import Grids, base, sheets, write_xlsx
from sopfin.cli import main
from sopfin.xlsx.read import read_raw_sheets

MONTHS = ("2027-01", "2027-02", "2027-03")
# Sales has 3 heads (on Salaries), Operations 1: by headcount Sales gets 3/4. Beneath Sales,
# Salaries and Travel share by their plan over the window: 900 : 300.
HEADS = """
Opex
| Scenario | Department | Account  | Headcount | 2027-01 | 2027-02 | 2027-03 |
| base     | Sales      | Salaries | 3         | 300     | 300     | 300     |
| base     | Sales      | Travel   |           | 100     | 100     | 100     |
| base     | Operations | Freight  | 1         | 200     | 200     | 200     |
| upside   | Sales      | Salaries | 9         | 300     | 300     | 300     |
"""


def heads_plan() -> Grids:
    """The opex plan with HEADS for its Opex sheet (its Budget without the Commission line,
    which HEADS has not)."""
    grids = opex_plan()
    grids.update(sheets(HEADS))
    grids["Budget"] = [row for row in grids["Budget"] if row[3] != "Commission"]
    return grids


def opex_budget(path) -> dict[tuple[str, str], list[object]]:
    rows = read_raw_sheets(path, ["Budget"])["Budget"].rows
    head = [str(h) for h in rows[0]]
    months = [head.index(m) for m in MONTHS]
    return {(r[2], r[3]): [r[j] for j in months] for r in rows[1:]
            if len(r) > 3 and r[1] == "opex"}


def family_budget(path) -> list[list[object]]:
    return [r for r in read_raw_sheets(path, ["Budget"])["Budget"].rows[1:] if r[1] != "opex"]


def test_headcount_worked_by_hand(tmp_path, capsys):
    path = write_xlsx(tmp_path / "heads.xlsx", heads_plan())
    families = family_budget(path)
    assert main(["allocate", str(path), "--amount", "1200", "--measure", "opex", "--to",
                 "departments", "--by", "headcount"]) == 0
    assert "2 departments, sum 1,200.00" in capsys.readouterr().out
    # Sales 900 (300 a month): Salaries 225, Travel 75; Operations 300 (100 a month). Travel
    # had no Budget row: it gets one.
    assert opex_budget(path) == {("Sales", "Salaries"): [225, 225, 225],
                                 ("Operations", "Freight"): [100, 100, 100],
                                 ("Sales", "Travel"): [75, 75, 75]}
    assert family_budget(path) == families
    assert main(["check", str(path), "-q"]) == 0


def test_prior_actuals_weigh_departments_and_accounts_by_what_they_booked(tmp_path):
    grids = heads_plan()
    grids["Actuals"] += [[None, "opex", "Sales", "Travel", 350, 250, None],
                         [None, "opex", "Operations", "Freight", 200, 200, None]]
    path = write_xlsx(tmp_path / "actuals.xlsx", grids)
    # booked: Sales Salaries 2,170, Travel 600, Operations Freight 400 (3,170 in all); three
    # times that over three months gives each line its booked total a month
    assert main(["allocate", str(path), "--amount", "9510", "--measure", "opex", "--to",
                 "departments", "--by", "prior_actuals"]) == 0
    assert opex_budget(path) == {("Sales", "Salaries"): [2170, 2170, 2170],
                                 ("Operations", "Freight"): [400, 400, 400],
                                 ("Sales", "Travel"): [600, 600, 600]}


@pytest.mark.parametrize("by", ["equal", "headcount", "prior_actuals", "revenue",
                                "budget_units"])
def test_every_driver_sums_to_the_amount_to_the_cent(tmp_path, by):
    path = write_xlsx(tmp_path / "odd.xlsx", heads_plan())
    assert main(["allocate", str(path), "--amount", "1000.01", "--measure", "opex", "--to",
                 "departments", "--by", by]) == 0
    cents = sum(round(v * 100) for row in opex_budget(path).values() for v in row if v)
    assert cents == 100_001


def test_revenue_shapes_the_months(tmp_path):
    """By revenue the months follow the plan's revenue; the departments share each month by
    their plan opex over the window (Sales 1,200 : Operations 600 here)."""
    path = write_xlsx(tmp_path / "revenue.xlsx", heads_plan())
    out = sopfin.allocate_budget(path, amount=1800, measure="opex", to="departments",
                                 by="revenue", dry_run=True)
    sales, ops = out.cells["Sales"], out.cells["Operations"]
    assert [round(sales[m] / ops[m], 4) for m in MONTHS] == [2.0, 2.0, 2.0]
    assert sales["2027-03"] > sales["2027-01"]  # March sells more in the base plan
    assert not out.written


@pytest.mark.parametrize("edit, where, words", [
    (lambda g: g["Opex"][1].__setitem__(3, -2), "Opex!D2", "Headcount must be 0 or more"),
    (lambda g: g["Opex"][1].__setitem__(3, "three"), "Opex!D2", "expected a number"),
    (lambda g: [row.__setitem__(3, None) for row in g["Opex"][1:]], "Opex!D1",
     "every row's driver is zero"),
    (lambda g: [row.pop(3) for row in g["Opex"]], "Opex!A1", "needs a Headcount column"),
])
def test_headcount_problems_are_issues_at_their_cells(tmp_path, capsys, edit, where, words):
    grids = heads_plan()
    edit(grids)
    path = write_xlsx(tmp_path / "bad.xlsx", grids)
    original = path.read_bytes()
    assert main(["allocate", str(path), "--amount", "100", "--measure", "opex", "--to",
                 "departments", "--by", "headcount"]) == 1
    out = capsys.readouterr()
    assert where in out.out and words in out.out
    assert "Traceback" not in out.out + out.err
    assert path.read_bytes() == original


def test_prior_actuals_without_opex_actuals_is_an_issue(tmp_path, capsys):
    grids = heads_plan()
    grids["Actuals"] = [row for row in grids["Actuals"] if row[1] != "opex"]
    path = write_xlsx(tmp_path / "no-actuals.xlsx", grids)
    assert main(["allocate", str(path), "--amount", "100", "--measure", "opex", "--to",
                 "departments", "--by", "prior_actuals"]) == 1
    assert "Actuals" in capsys.readouterr().out


@pytest.mark.parametrize("grids, args, words", [
    (base, ["--measure", "opex", "--to", "departments", "--by", "equal"], "Opex sheet"),
    (heads_plan, ["--measure", "revenue", "--to", "departments", "--by", "equal"],
     "departments carry opex"),
    (heads_plan, ["--measure", "opex", "--to", "families", "--by", "equal"],
     "opex goes --to departments"),
    (heads_plan, ["--measure", "revenue", "--by", "headcount"], "drivers to families"),
    (heads_plan, ["--measure", "opex", "--to", "teams", "--by", "equal"],
     "families or departments"),
])
def test_what_allocate_does_not_do_is_one_line_and_exit_2(tmp_path, capsys, grids, args,
                                                         words):
    path = write_xlsx(tmp_path / "plan.xlsx", grids())
    original = path.read_bytes()
    assert main(["allocate", str(path), "--amount", "100", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert path.read_bytes() == original


def test_dry_run_shows_the_accounts_and_writes_nothing(demo_copy, capsys):
    original = demo_copy.read_bytes()
    assert main(["allocate", str(demo_copy), "--amount", "2400000", "--measure", "opex",
                 "--to", "departments", "--by", "headcount", "--window", "FY2028",
                 "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "4 departments, sum 2,400,000.00; Budget cells would set" in out
    assert "    Commissions" in out and "  G&A" in out
    assert demo_copy.read_bytes() == original


def test_on_the_demo_the_window_holds_the_amount_and_nothing_else_moves(demo_copy):
    def cells(path):
        rows = read_raw_sheets(path, ["Budget"])["Budget"].rows
        head = [str(h) for h in rows[0]]
        return head, {tuple(r[:4]): list(r[4:]) for r in rows[1:]}

    head, before = cells(demo_copy)
    window = [head.index(m) - 4 for m in ("2028-04", "2028-05", "2028-06")]
    out = sopfin.allocate_budget(demo_copy, amount=654_321.09, measure="opex",
                                 to="departments", by="headcount", window="FY2028 Q2")
    assert out.written and out.recorded is not None
    _, after = cells(demo_copy)
    assert set(after) == set(before)  # every demo line already had its Budget row
    opex = sum(round(after[k][j] * 100) for k in after if k[1] == "opex" for j in window)
    assert opex == 65_432_109
    for key, row in after.items():
        for j, value in enumerate(row):
            if not (key[1] == "opex" and j in window):
                assert value == before[key][j], (key, head[j + 4])
    heads = {"Sales": 14, "Marketing": 5, "Operations": 11, "G&A": 8}
    for dept, n in heads.items():
        share = sum(sum(row.values()) for row in out.accounts[dept].values())
        assert share == pytest.approx(654_321.09 * n / 38, abs=0.03)  # a cent a month


def test_the_pnl_budget_of_the_window_is_the_amount_after_dollarize(demo_copy):
    """End to end: allocate, dollarize, and the P&L's opex budget over the window is the
    amount, in every scenario (the budget has none)."""
    assert main(["allocate", str(demo_copy), "--amount", "1234567.89", "--measure", "opex",
                 "--to", "departments", "--by", "prior_actuals", "--window", "FY2028 Q3"]) == 0
    assert main(["dollarize", str(demo_copy), "-q"]) == 0
    grid = read_raw_sheets(demo_copy, ["P&L"])["P&L"].rows
    column = grid[1].index("FY2028 Q3")
    budgets = [r[column] for r in grid[2:] if r[1] == "Opex" and r[3] == "Budget"]
    assert len(budgets) == 3 and budgets == pytest.approx([1234567.89] * 3, abs=0.005)


def test_in_python_usage_is_a_value_error_and_data_a_plan_error(tmp_path):
    grids = heads_plan()
    for row in grids["Opex"]:
        row.pop(3)  # no Headcount column
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    with pytest.raises(ValueError, match="departments carry opex"):
        sopfin.allocate_budget(path, amount=1, measure="units", to="departments", by="equal")
    with pytest.raises(sopfin.PlanError) as raised:
        sopfin.allocate_budget(path, amount=1, measure="opex", to="departments",
                               by="headcount")
    assert [str(i.where) for i in raised.value.issues] == ["Opex!A1"]
    assert sopfin.allocate_budget(path, amount=1, measure="opex", to="departments",
                                  by="equal").written
