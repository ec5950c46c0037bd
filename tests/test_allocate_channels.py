"""``sopfin allocate`` into a Budget kept by channel: each family's cents of a month go to the
channels Demand has for it by the driver's channel figures, to the cent; opex rows to the
departments keep their Channel blank; worked by hand on the small plan, then checked in
LibreOffice."""

from __future__ import annotations

import pytest

import sopfin
from opex_tables import opex_plan
from plan_tables import Grids, base, set_cell, sheets, write_xlsx
from sopfin import layout
from sopfin.cli import main
from sopfin.xlsx.read import read_raw_sheets

MONTHS = ("2027-01", "2027-02", "2027-03")
# Units budgeted by channel: P-100 150 a month (Retail 100, OEM 50), V-200 10 (Retail).
BY_CHANNEL = """
Budget
| Family | Measure | Channel | 2027-01 | 2027-02 | 2027-03 |
| P-100  | units   | Retail  | 100     | 100     | 100     |
| P-100  | units   | OEM     | 50      | 50      | 50      |
| V-200  | units   | Retail  | 10      | 10      | 10      |
"""
# Actuals of January by channel: P-100 sold 300 in Retail and 100 through OEM.
ACTUALS = """
Actuals
| Family | Measure | Channel | 2027-01 | 2027-02 | 2027-03 |
| P-100  | revenue | Retail  | 300     |         |         |
| P-100  | revenue | OEM     | 100     |         |         |
| V-200  | revenue | Retail  | 100     |         |         |
"""

# The same figures with no channel: what the families get on a Budget without channels.
FLAT_BUDGET = """
Budget
| Family | Measure | 2027-01 | 2027-02 | 2027-03 |
| P-100  | units   | 150     | 150     | 150     |
| V-200  | units   | 10      | 10      | 10      |
"""
FLAT_ACTUALS = """
Actuals
| Family | Measure | 2027-01 | 2027-02 | 2027-03 |
| P-100  | revenue | 400     |         |         |
| V-200  | revenue | 100     |         |         |
"""


def channel_plan(*extra: str) -> Grids:
    grids = base()
    for text in (BY_CHANNEL, *extra):
        grids.update(sheets(text))
    return grids


def budget_rows(path, measure: str) -> dict[tuple[str, str], list[object]]:
    rows = read_raw_sheets(path, ["Budget"])["Budget"].rows
    cols = [rows[0].index(m) for m in MONTHS]
    return {(r[0], r[2]): [r[j] for j in cols] for r in rows[1:] if r[1] == measure}


def cents(rows) -> int:
    return sum(round(v * 100) for row in rows for v in row if v is not None)


def test_budget_units_worked_by_hand_and_a_rerun_replaces(tmp_path, capsys):
    path = write_xlsx(tmp_path / "plan.xlsx", channel_plan())
    units = budget_rows(path, "units")
    # 4,800 over three months by budget units 150 : 10: P-100 1,500 a month, V-200 100; P-100's
    # channels share its 1,500 as their units, 100 : 50.
    assert main(["allocate", str(path), "--amount", "4800", "--measure", "revenue", "--by",
                 "budget_units"]) == 0
    out = capsys.readouterr().out
    assert "2 families, sum 4,800.00; Budget cells set: 18" in out
    assert "    OEM" in out and "recorded on _Imports" in out
    expected = {("P-100", "Retail"): [1000, 1000, 1000], ("P-100", "OEM"): [500, 500, 500],
                ("V-200", "Retail"): [100, 100, 100]}
    assert budget_rows(path, "revenue") == expected
    assert budget_rows(path, "units") == units
    assert main(["check", str(path), "-q"]) == 0
    # the same again sets nothing; another amount replaces the window, never adds to it
    assert main(["allocate", str(path), "--amount", "4800", "--measure", "revenue", "--by",
                 "budget_units"]) == 0
    assert "found (no change): 0" in capsys.readouterr().out
    assert main(["allocate", str(path), "--amount", "2400", "--measure", "revenue", "--by",
                 "budget_units"]) == 0
    assert budget_rows(path, "revenue") == {k: [v / 2 for v in row]
                                            for k, row in expected.items()}
    imports = read_raw_sheets(path, [layout.IMPORTS])[layout.IMPORTS].rows
    assert [(r[2], r[3], r[7]) for r in imports[1:]] == [
        ("allocate", f"allocate {a} by budget_units", 3) for a in ("4,800.00", "4,800.00",
                                                                   "2,400.00")]


@pytest.mark.parametrize("by", ["equal", "budget_units", "revenue", "prior_actuals"])
def test_every_driver_keeps_the_families_shares_and_sums_to_the_cent(tmp_path, by):
    """The channels of a family's month add up to the cents the family gets on a Budget
    without channels, and the whole to the amount."""
    flat = channel_plan(FLAT_BUDGET, FLAT_ACTUALS)
    families = sopfin.allocate_budget(write_xlsx(tmp_path / "flat.xlsx", flat),
                                      amount=1000.01, measure="revenue", by=by, dry_run=True)
    path = write_xlsx(tmp_path / "channels.xlsx", channel_plan(ACTUALS))
    out = sopfin.allocate_budget(path, amount=1000.01, measure="revenue", by=by)
    assert out.cells == families.cells
    for family, channels in out.channels.items():
        for m in MONTHS:
            assert sum(round(row[m] * 100) for row in channels.values()) == \
                round(out.cells[family][m] * 100)
    assert set(out.channels["P-100"]) == {"Retail", "OEM"}
    assert cents(budget_rows(path, "revenue").values()) == 100_001
    assert out.split_equally == ()
    assert [r["channel"] for r in out.rows()] == ["Retail", "OEM", "Retail"]


def test_revenue_follows_each_channels_plan_revenue(tmp_path):
    """OEM sells no P-100 in February in the base plan: it gets none of February."""
    path = write_xlsx(tmp_path / "plan.xlsx", channel_plan())
    out = sopfin.allocate_budget(path, amount=10_000, measure="revenue", by="revenue",
                                 dry_run=True)
    oem, retail = out.channels["P-100"]["OEM"], out.channels["P-100"]["Retail"]
    assert oem["2027-02"] == 0 and oem["2027-01"] > 0 and retail["2027-02"] > 0
    # January: Retail 100 at 25, OEM 50 at 20 (shipped in full: supply covers demand)
    assert retail["2027-01"] / oem["2027-01"] == pytest.approx(2500 / 1000, abs=1e-3)


def test_prior_actuals_without_channels_split_equally_and_say_so(tmp_path, capsys):
    path = write_xlsx(tmp_path / "plan.xlsx", channel_plan(FLAT_ACTUALS))
    assert main(["allocate", str(path), "--amount", "800", "--measure", "revenue", "--by",
                 "prior_actuals", "--window", "2027-02"]) == 0
    out = capsys.readouterr().out
    assert "split equally over their channels where prior_actuals has no figure by channel: " \
           "P-100" in out
    # P-100 booked 400, V-200 100 (no channel): P-100 640, its channels 320 each
    assert budget_rows(path, "revenue") == {("P-100", "Retail"): [None, 320, None],
                                            ("P-100", "OEM"): [None, 320, None],
                                            ("V-200", "Retail"): [None, 160, None]}


def test_a_family_with_a_share_and_no_channel_is_an_error_at_its_row(tmp_path, capsys):
    grids = channel_plan()
    set_cell(grids, "Families", "E4", "TRUE")  # OLD-1: active, and no demand by channel
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    original = path.read_bytes()
    assert main(["allocate", str(path), "--amount", "900", "--measure", "revenue", "--by",
                 "equal", "--dry-run"]) == 1
    out = capsys.readouterr()
    assert "plan.xlsx!Families!A4: family 'OLD-1' takes 300.00" in out.out
    assert "Traceback" not in out.out + out.err
    assert path.read_bytes() == original
    assert main(["allocate", str(path), "--amount", "900", "--measure", "revenue", "--by",
                 "budget_units", "--dry-run"]) == 0  # no units budgeted: OLD-1 takes nothing


def test_dry_run_shows_the_channels_and_writes_nothing(tmp_path, capsys):
    path = write_xlsx(tmp_path / "plan.xlsx", channel_plan())
    original = path.read_bytes()
    assert main(["allocate", str(path), "--amount", "900", "--measure", "units", "--by",
                 "equal", "--dry-run"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == ["  P-100                  450.00", "    Retail                   225.00",
                       "    OEM                      225.00", "  V-200                  450.00",
                       "    Retail                   450.00"]
    assert path.read_bytes() == original


def opex_by_channel() -> Grids:
    """The opex plan with a Channel column on Budget: family rows in Retail, opex rows blank."""
    grids = opex_plan()
    grids["Budget"] = [[*r[:2], "Channel" if i == 0 else ("Retail" if r[1] != "opex" else None),
                        *r[2:]] for i, r in enumerate(grids["Budget"])]
    return grids


def test_departments_fill_opex_rows_with_their_channel_blank(tmp_path):
    path = write_xlsx(tmp_path / "plan.xlsx", opex_by_channel())
    before = read_raw_sheets(path, ["Budget"])["Budget"].rows
    out = sopfin.allocate_budget(path, amount=900, measure="opex", to="departments",
                                 by="equal")
    rows = read_raw_sheets(path, ["Budget"])["Budget"].rows
    assert rows[:3] == before[:3]  # the family rows by channel stay as they were
    opex = [r for r in rows[1:] if r[1] == "opex"]
    assert [r[:5] for r in opex] == [[None, "opex", None, "Sales", "Salaries"],
                                     [None, "opex", None, "Sales", "Commission"],
                                     [None, "opex", None, "Operations", "Freight"]]
    assert cents(r[5:8] for r in opex) == 90_000
    assert {r["channel"] for r in out.rows()} == {None}
    assert main(["check", str(path), "-q"]) == 0


def test_an_opex_row_naming_a_channel_is_an_error_at_its_channel_cell(tmp_path, capsys):
    grids = opex_by_channel()
    grids["Budget"][3][2] = "Retail"
    path = write_xlsx(tmp_path / "plan.xlsx", grids)
    original = path.read_bytes()
    assert main(["allocate", str(path), "--amount", "900", "--measure", "opex", "--to",
                 "departments", "--by", "equal"]) == 1
    out = capsys.readouterr().out
    assert "plan.xlsx!Budget!C4: the opex row of Sales Salaries names channel 'Retail'" in out
    assert "allocating to departments" in out and "import" not in out
    assert path.read_bytes() == original


@pytest.mark.libreoffice
def test_libreoffice_recalculates_the_allocated_budget_on_the_pnl(tmp_path, soffice):
    """Allocated into a Budget by channel and closed: recalculated in LibreOffice, the P&L's
    budget revenue (formulas over the Budget's channel rows) is the allocation month by month
    and the amount over the quarter; the Recon tab's revenue bridge starts from it, and the
    saved copy verifies."""
    from lo_oracle import read_values, recalculate

    path = write_xlsx(tmp_path / "plan.xlsx", channel_plan())
    out = sopfin.allocate_budget(path, amount=12_345.67, measure="revenue", by="revenue")
    assert main(["close", str(path), "--author", "test", "-q"]) == 0
    saved = recalculate(path, tmp_path / "saved", soffice)
    pnl = read_raw_sheets(path, ["P&L"])["P&L"].rows
    header = pnl[1]
    row = next(i for i, r in enumerate(pnl) if r[:4] == ["base", "Revenue", None, "Budget"])
    values = read_values(saved, ["P&L", layout.recon_tab_name(1)])
    columns = {h: layout.column_letter(j + 1) for j, h in enumerate(header)}
    for m in MONTHS:
        month = sum(v[m] for v in out.cells.values())
        assert values["P&L"][f"{columns[m]}{row + 1}"] == pytest.approx(month, abs=0.005)
    assert values["P&L"][f"{columns['FY2027 Q1']}{row + 1}"] == pytest.approx(12_345.67,
                                                                            abs=0.005)
    recon = values[layout.recon_tab_name(1)]
    starts = [k for k, v in recon.items() if v == "Budget revenue"]
    assert starts and recon[starts[0].replace("A", "B", 1)] == pytest.approx(12_345.67,
                                                                              abs=0.005)
    assert main(["verify", str(saved), "-q"]) == 0
