"""The published tab: what a CFO reads where, what is hashed, and that the hash recorded at
publish is what the file holds (after LibreOffice too), while one edited cell is named."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from sopfin import layout
from sopfin.close.ledger import DIGEST_MARKER, content_hash, new_entry
from sopfin.close.ledger_checks import verify_ledger
from sopfin.close.protection import check_password, hash_password
from sopfin.close.records import (
    END,
    MIX,
    NEW,
    OVERRIDE,
    PRICE,
    QUANTITY,
    START,
    Action,
    BridgeLine,
    Override,
    Reconciliation,
    Window,
    silent_override,
)
from sopfin.close.rowtable import MonthTable, RowTable
from sopfin.model import CellRef, IssueCode
from sopfin.render import recon_sections
from sopfin.render.recon import render_recon, snapshot_from_cells
from sopfin.render.recon_page import axis_floor, chart_label
from sopfin.render.recon_seal import finalize_recon, hashed_cells, recon_cells
from sopfin.render.recon_sections import waterfall
from sopfin.render.recon_tab import RECON_HASH_CELL, RECON_HASH_SHORT_CELL, money_text
from sopfin.sheetspec import SheetProtection
from sopfin.xlsx.readback import read_cells
from sopfin.xlsx.writer import create_workbook
from xlsx_helpers.libreoffice import convert

# The March close, worked by hand ($):
#   Budget revenue                 260,000,000.00
#   Price                           -4,500,000.00
#   Quantity                        -6,000,000.00
#   Mix                             +1,250,000.00
#   New: VALVES-9                   +2,000,000.00
#   OVR-7 Rebate (J. Ortiz)         -4,750,000.00
#   Plan revenue                   248,000,000.00   gap -12,000,000 = -4.615% of budget
# Waterfall (base, up, down, total), running total before -> after each step:
#   Budget  total 260.00M
#   Price   260.00 -> 255.50: base 255.50, down 4.50
#   Qty     255.50 -> 249.50: base 249.50, down 6.00
#   Mix     249.50 -> 250.75: base 249.50, up 1.25
#   New     250.75 -> 252.75: base 250.75, up 2.00
#   OVR-7   252.75 -> 248.00: base 248.00, down 4.75
#   Plan    total 248.00M
M = 1e6
REVENUE = (BridgeLine(START, "Budget revenue", 260 * M), BridgeLine(PRICE, "Price", -4.5 * M),
           BridgeLine(QUANTITY, "Quantity", -6 * M), BridgeLine(MIX, "Mix", 1.25 * M),
           BridgeLine(NEW, "New: VALVES-9", 2 * M),
           BridgeLine(OVERRIDE, "OVR-7 Rebate (J. Ortiz)", -4.75 * M, "J. Ortiz"),
           BridgeLine(END, "Plan revenue", 248 * M))
WATERFALL = [(None, None, None, 260.0), (255.5, None, 4.5, None), (249.5, None, 6.0, None),
             (249.5, 1.25, None, None), (250.75, 2.0, None, None), (248.0, None, 4.75, None),
             (None, None, None, 248.0)]
# Margin: budget 91.0M - price 4.5M - standard cost 1.2M + volume and mix 2.0M = 87.3M,
# gap -3.7M (-4.07% of budget); after actions -3.7M + 3M x 0.75 = -1.45M, shown -$1.5M.
MARGIN = (BridgeLine(START, "Budget gross margin", 91 * M), BridgeLine(PRICE, "Price", -4.5 * M),
          BridgeLine("cost", "Standard cost", -1.2 * M), BridgeLine(MIX, "Volume and mix", 2 * M),
          BridgeLine(END, "Plan gross margin", 87.3 * M))
MONTHS = tuple(f"2027-{m:02d}" for m in range(1, 13)) + tuple(f"2028-{m:02d}" for m in (1, 2))


def reconciliation(**changes) -> Reconciliation:
    family = pd.DataFrame(
        {"price": [-4.5 * M, 0.0, -4.5 * M], "quantity": [-6 * M, 0.0, -6 * M],
         "mix": [1.25 * M, 0.0, 1.25 * M], "volume": [-4.75 * M, 2 * M, -2.75 * M],
         "total": [-9.25 * M, 2 * M, -7.25 * M], "status": ["both", "new", ""]},
        index=pd.Index(["PUMPS-200", "VALVES-9", "Total"], name="family"))
    snapshot = pd.DataFrame(
        [[100.0 + j for j in range(14)], [1041.67 * (100 + j) for j in range(14)],
         [700.125 * (100 + j) for j in range(14)]],
        index=pd.MultiIndex.from_tuples([("PUMPS-200", "units"), ("PUMPS-200", "revenue"),
                                         ("PUMPS-200", "cogs")], names=["family", "measure"]),
        columns=list(MONTHS))
    scenarios = pd.DataFrame({"revenue": [248 * M, 255 * M], "budget_revenue": [260 * M] * 2,
                              "revenue_gap": [-12 * M, -5 * M],
                              "cash_vs_budget": [1.5 * M, np.nan]},
                             index=pd.Index(["base", "upside"], name="scenario"))
    fields = dict(
        cycle="2027-03", scenario="base", window=Window("FY2027", MONTHS[:12]), currency="USD",
        revenue_bridge=REVENUE, margin_bridge=MARGIN, family_revenue=RowTable.from_frame(family),
        family_margin=RowTable.from_frame(family), scenarios=RowTable.from_frame(scenarios),
        overrides=(Override("OVR-7", "base", "PUMPS-200", "2027-03", "revenue", -4.75 * M,
                            "J. Ortiz", "Rebate to distributor", "CFO", CellRef("Overrides",
                                                                                "A2")),),
        actions=(Action("ACT-1", "base", "List price +3%", "K. Lee", 4 * M, 3 * M, 0.75,
                        CellRef("Actions", "A2")),),
        revenue_gap=-12 * M, margin_gap=-3.7 * M,
        revenue_gap_after_actions=-12 * M + 3 * M, margin_gap_after_actions=-3.7 * M + 2.25 * M,
        snapshot=MonthTable.from_frame(snapshot),
        silent_overrides=(silent_override(CellRef("Revenue", "G17"),
                                          IssueCode.TYPED_OVER_FORMULA, "F17*$E17", 125000.0,
                                          "typed over", ""),),
        notes=("Budget has no channels: channel shifts show in Price.",))
    fields.update(changes)
    return Reconciliation(**fields)


def published(rec: Reconciliation | None = None, **kw) -> tuple:
    spec = render_recon(rec or reconciliation(), version=1, timestamp="2027-04-02T09:15:00Z",
                        author="a.chen", input_hash="ab" * 32, prev_hash="0" * 64,
                        company="Acme Pumps", **kw)
    return finalize_recon(spec)


def find(cells: dict, text: str) -> str:
    """The reference of the first cell (in reading order) whose value is ``text``."""
    hits = [ref for ref, v in cells.items() if v == text]
    assert hits, f"{text!r} is not on the tab"
    return min(hits, key=lambda r: (int(re.sub(r"\D", "", r)), len(r), r))


def row_of(cells: dict, text: str) -> int:
    return int(re.sub(r"\D", "", find(cells, text)))


def at(cells: dict, row: int, cols: str) -> list:
    return [cells.get(f"{c}{row}") for c in cols]


def test_header_block_and_headline():
    spec, recon_hash = published()
    cells = {**recon_cells(spec), RECON_HASH_CELL: recon_hash}
    assert spec.name == "Recon v001"
    assert cells["A1"] == "Acme Pumps Reconciliation v001"
    assert [(cells[f"A{r}"], cells.get(f"B{r}")) for r in range(4, 11)] == [
        ("Version", 1.0), ("Cycle", "2027-03"), ("Status at publish", "draft"),
        ("Published (UTC)", "2027-04-02T09:15:00Z"), ("Author", "a.chen"),
        ("Input hash", "ab" * 6 + "…"), ("Previous hash", "0" * 12 + "…")]
    assert cells["A11"] == "Own hash"
    # hashes show their first characters; the whole value is in hidden column Y, linked
    assert [cells.get(f"Y{r}") for r in (9, 10, 11)] == ["ab" * 32, "0" * 64, recon_hash]
    assert (RECON_HASH_CELL, RECON_HASH_SHORT_CELL) == ("Y11", "B11")
    assert {c.cell: c.target for c in spec.links} == {
        "B9": "'Recon v001'!Y9", "B10": "'Recon v001'!Y10", "B11": "'Recon v001'!Y11"}
    assert layout.column_index("Y") in spec.hidden_cols
    assert cells["A13"] == ("Plan lands at $248.0M against a $260.0M budget: gap -$12.0M "
                            "(-4.6%); after actions -$9.0M")
    assert cells["A14"] == ("Gross margin lands at $87.3M against a $91.0M budget margin: gap "
                            "-$3.7M (-4.1%); after actions -$1.5M")


def test_a_tab_published_with_the_whole_hash_in_b11_still_verifies():
    """Tabs published before the short hashes held the whole own hash in B11 and nothing in
    Y11; both cells are outside the hash, so such a tab verifies as it did."""
    spec, recon_hash = published()
    digest = layout.RECON_DIGEST_COLUMN
    cells = {**recon_cells(spec), RECON_HASH_CELL: recon_hash,
             RECON_HASH_SHORT_CELL: recon_hash[:12] + "…",
             **{f"{digest}{b.row}": b.values[0][0] for b in spec.blocks
                if b.col == layout.column_index(digest)}}
    assert content_hash(hashed_cells(cells)) == recon_hash
    older = {ref: v for ref, v in cells.items() if ref != RECON_HASH_CELL}
    older[RECON_HASH_SHORT_CELL] = recon_hash
    assert content_hash(hashed_cells(older)) == recon_hash


def test_bridges_waterfall_and_chart():
    spec, _ = published()
    cells = recon_cells(spec)
    first = row_of(cells, "Budget revenue")
    for k, line in enumerate(REVENUE):
        assert at(cells, first + k, "ABC") == [line.label, line.amount, line.owner or None]
        expected = [None if v is None else v * M for v in WATERFALL[k]]
        assert at(cells, first + k, "UVWX") == expected
        assert cells[f"T{first + k}"] == chart_label(line.label)
    assert at(cells, first - 1, "TUVWX") == ["Chart label", "Waterfall base", "Increase",
                                             "Decrease", "Total"]
    # the helper table is out of the reader's way: hidden, right of everything printed
    assert {layout.column_index(c) for c in "TUVWX"} <= set(spec.hidden_cols)
    margin = row_of(cells, "Budget gross margin")
    assert [cells[f"B{margin + k}"] for k in range(5)] == [91 * M, -4.5 * M, -1.2 * M, 2 * M,
                                                          87.3 * M]
    (chart,) = spec.charts
    assert chart.categories == [chart_label(line.label) for line in REVENUE]
    assert chart.categories_ref == f"'Recon v001'!$T${first}:$T${first + 6}"
    assert [s.name for s in chart.series] == ["Base", "Increase", "Decrease", "Total"]
    assert [s.color is None for s in chart.series] == [True, False, False, False]
    assert chart.series[2].values_ref == f"'Recon v001'!$W${first}:$W${first + 6}"
    assert chart.series[2].cached[1] == 4.5 * M and np.isnan(chart.series[2].cached[0])
    from_col, from_row, to_col, to_row = chart.anchor
    assert from_row < first < to_row
    covered = [r for r in cells
               if from_col < layout.column_index(re.sub(r"\d", "", r)) <= to_col + 1
               and from_row < int(re.sub(r"\D", "", r)) <= to_row + 1]
    assert covered == []  # the chart hides no content


def test_waterfall_below_zero_and_across_it():
    lines = (BridgeLine(START, "Budget", -10.0), BridgeLine(PRICE, "Price", -5.0),
             BridgeLine(MIX, "Mix", 25.0), BridgeLine(END, "Plan", 10.0))
    # -10 -> -15: both below zero: base -10, bar -5 stacks down to -15
    # -15 -> +10: crosses zero, the larger side (+10 over 15 below) is drawn from zero
    assert waterfall(lines) == [(None, None, None, -10.0), (-10.0, None, -5.0, None),
                                (None, -15.0, None, None), (None, None, None, 10.0)]


def test_tables_below_the_bridges():
    spec, _ = published()
    cells = recon_cells(spec)
    pvm = row_of(cells, "Price / volume / mix by family: revenue") + 2
    assert at(cells, pvm, "ABCDEFG") == ["PUMPS-200", "both", -4.5 * M, -6 * M, 1.25 * M,
                                        -4.75 * M, -9.25 * M]
    assert at(cells, pvm - 1, "ABCDEFG") == ["Family", "Status", "Price", "Quantity", "Mix",
                                            "Volume", "Total"]
    ovr = row_of(cells, "OVR-7")
    assert at(cells, ovr, "ABCDEFGHI") == ["OVR-7", "base", "PUMPS-200", "2027-03", "revenue",
                                          -4.75 * M, "J. Ortiz", "Rebate to distributor", "CFO"]
    act = row_of(cells, "ACT-1")  # expected = impact x probability x its share in the window
    rec = reconciliation()
    share = rec.actions[0].share(rec.window.months, rec.snapshot.months)
    assert at(cells, act, "EFG") == [4 * M, 3 * M, 0.75]
    assert at(cells, act, "JK") == [round(4 * M * 0.75 * share, 2),
                                    round(3 * M * 0.75 * share, 2)]
    after = row_of(cells, "Gap after actions")
    assert at(cells, after + 2, "ABCD") == ["Revenue", -12 * M, 3 * M, -9 * M]
    assert at(cells, after + 3, "ABCD") == ["Gross margin", -3.7 * M, 2.25 * M, -1.45 * M]
    upside = row_of(cells, "upside")
    assert at(cells, upside - 2, "ABCDE") == ["Scenario", "Revenue", "Budget revenue",
                                             "Revenue gap", "Cash vs budget"]
    assert at(cells, upside, "ABCDE") == ["upside", 255 * M, 260 * M, -5 * M, None]
    silent = row_of(cells, "Revenue!G17")
    assert at(cells, silent, "ABCDE") == ["Revenue!G17", "typed-over-formula", "F17*$E17",
                                         125000.0, "typed over"]
    assert find(cells, "Budget has no channels: channel shifts show in Price.")


def test_snapshot_in_bands_of_twelve_months_left_of_the_digest_column():
    spec, _ = published()
    cells = recon_cells(spec)
    bands = sorted(int(re.sub(r"\D", "", r)) for r, v in cells.items() if v == "Family"
                   and cells.get(f"B{re.sub(r'[A-Z]', '', r)}") == "Measure")
    first, second = bands
    assert at(cells, first, "CN") == ["2027-01", "2027-12"] and f"O{first}" not in cells
    assert at(cells, second, "CDE") == ["2028-01", "2028-02", None]
    # revenue row, 2028-02 = 1041.67 x 113 = 117,708.71; cogs 700.125 x 113 = 79,114.125 -> cents
    assert at(cells, second + 2, "ABD") == ["PUMPS-200", "revenue", 117708.71]
    assert at(cells, second + 3, "ABD") == ["PUMPS-200", "cogs", 79114.13]
    assert max(layout.column_index(re.sub(r"\d", "", r)) for r in cells) < 26


def test_empty_registers_say_none():
    spec, _ = published(reconciliation(overrides=(), actions=(), silent_overrides=()))
    cells = recon_cells(spec)
    for title in ("Overrides register", "Gap-closure actions", "Silent overrides found"):
        assert cells[f"A{row_of(cells, title) + 2}"] == "none"


def test_the_hash_covers_content_and_digests_but_not_its_own_cell():
    spec, recon_hash = published()
    again, same = published()
    assert same == recon_hash  # rendering is deterministic
    cells = recon_cells(spec)
    assert RECON_HASH_CELL not in cells
    assert not any(r.startswith("Z") for r in cells)
    digests = {r: v for r, v in _all_cells(spec).items() if r.startswith("Z")}
    content_rows = {int(re.sub(r"\D", "", r)) for r in cells}
    assert {int(r[1:]) for r in digests} == content_rows  # one digest per content row
    assert all(v.startswith(DIGEST_MARKER) for v in digests.values())
    assert content_hash({**cells, **digests}) == recon_hash
    assert 26 in spec.hidden_cols
    moved = tuple(BridgeLine(x.kind, x.label, x.amount + (0.01 if x.kind == PRICE else 0))
                  for x in REVENUE)
    _, other = published(reconciliation(revenue_bridge=moved))
    assert other != recon_hash  # a cent moves the hash
    spec2, _ = finalize_recon(spec)  # sealing twice gives the same tab
    assert _all_cells(spec2) == _all_cells(spec)


def _all_cells(spec) -> dict:
    out = {}
    for b in spec.blocks:
        values = np.asarray(b.values, dtype=object)
        for i, j in np.ndindex(values.shape):
            if values[i, j] is not None:
                out[layout.cell_name(b.row + i, b.col + j)] = values[i, j]
    return out


def test_money_text():
    assert money_text(248e6, "USD") == "$248.0M"
    assert money_text(-12_049_999.99, "USD", True) == "-$12.0M"
    assert money_text(1_500, "EUR", True) == "+€1.5K"
    assert money_text(999.4, "CHF") == "CHF 999"
    assert money_text(999.5, "USD") == "$1.0K"
    assert money_text(999_960, "USD") == "$1.0M"  # not $1,000.0K
    assert money_text(-1.45e6, "USD") == "-$1.5M"  # half away from zero, as Excel's ROUND
    assert money_text(2.5e9, "GBP") == "£2.5B"
    assert money_text(-0.001, "USD") == "$0"


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("recon") / "plan.xlsx"
    protection = hash_password("close-2027-03", spin_count=1_000)
    spec, recon_hash = published(protection=protection)
    create_workbook(path, [spec])
    return path, recon_hash


def test_what_is_written_reads_back_to_the_recorded_hash(written):
    path, recon_hash = written
    cells = read_cells(path, ["Recon v001"])["Recon v001"]
    assert cells[RECON_HASH_CELL] == recon_hash
    assert content_hash(hashed_cells(cells)) == recon_hash
    entry = new_entry([], event="publish", version=1, cycle="2027-03",
                      timestamp="2027-04-02T09:15:00Z", author="a.chen", status="draft",
                      input_hash="ab" * 32, recon_hash=recon_hash)
    assert verify_ledger([entry], {1: hashed_cells(cells)}, None) == []


def test_the_snapshot_reads_back_from_the_file(written):
    path, _ = written
    back = snapshot_from_cells(read_cells(path, ["Recon v001"])["Recon v001"]).frame()
    snapshot = reconciliation().snapshot.frame()
    assert list(back.columns) == list(MONTHS) and list(back.index) == list(snapshot.index)
    assert back.index.names == ["family", "measure"]
    assert back.loc[("PUMPS-200", "units")].tolist() == snapshot.loc[("PUMPS-200", "units")]\
        .tolist()
    # money is written to the cent: 700.125 x 100 = 70,012.50; 1041.67 x 113 = 117,708.71
    assert back.loc[("PUMPS-200", "cogs"), "2027-01"] == 70012.5
    assert back.loc[("PUMPS-200", "revenue"), "2028-02"] == 117708.71
    with pytest.raises(ValueError, match="Plan of record"):
        snapshot_from_cells({"A1": "something else"})


def test_an_openpyxl_edit_of_one_value_is_named(written, tmp_path: Path):
    path, recon_hash = written
    wb = openpyxl.load_workbook(path)
    ws = wb["Recon v001"]
    ws.protection.sheet = False
    cells = read_cells(path, ["Recon v001"])["Recon v001"]
    target = find(cells, "Quantity")
    amount = "B" + target[1:]
    ws[amount] = ws[amount].value + 1.0
    edited = tmp_path / "edited.xlsx"
    wb.save(edited)
    now = hashed_cells(read_cells(edited, ["Recon v001"])["Recon v001"])
    assert content_hash(now) != recon_hash
    entry = new_entry([], event="publish", version=1, cycle="2027-03",
                      timestamp="2027-04-02T09:15:00Z", author="a.chen", status="draft",
                      input_hash="ab" * 32, recon_hash=recon_hash)
    findings = verify_ledger([entry], {1: now}, None)
    assert [(f.code, f.where) for f in findings] == [
        (IssueCode.TAMPERED_CELL, CellRef("Recon v001", amount))]


def test_libreoffice_keeps_the_tab_protected_and_its_values(written, tmp_path: Path):
    path, recon_hash = written
    ods = convert("soffice", [path], tmp_path / "ods", fmt="ods")[path]
    assert ods is not None
    with zipfile.ZipFile(ods) as zf:
        content = zf.read("content.xml").decode()
    table = re.search(r'<table:table table:name="Recon v001"[^>]*>', content).group(0)
    assert 'table:protected="true"' in table
    assert "<draw:object" in content  # the waterfall chart
    # ODF cannot carry an OOXML SHA-512 verifier; LibreOffice keeps it and saves it back to
    # .xlsx unchanged, so the password still unlocks and nothing else does.
    xlsx = convert("soffice", [path], tmp_path / "xlsx", fmt="xlsx")[path]
    assert xlsx is not None
    with zipfile.ZipFile(xlsx) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml").decode()
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', re.search(r"<sheetProtection[^>]*>",
                                                          sheet).group(0)))
    kept = SheetProtection(attrs["algorithmName"], attrs["hashValue"], attrs["saltValue"],
                           int(attrs["spinCount"]))
    assert kept.algorithm_name == "SHA-512" and attrs["sheet"] in ("1", "true")
    assert check_password("close-2027-03", kept) and not check_password("close", kept)
    cells = read_cells(xlsx, ["Recon v001"])["Recon v001"]
    assert content_hash(hashed_cells(cells)) == recon_hash  # LibreOffice changed no value


def test_the_waterfall_axis_starts_at_zero_unless_the_steps_would_vanish():
    assert axis_floor([281.2e6, 280.4e6, 271.4e6, 264.8e6, 265.0e6]) == 250e6
    assert axis_floor([100.0, 160.0, 90.0]) == 0.0  # large steps: from zero
    assert axis_floor([-5.0, 20.0]) == 0.0  # the bars cross zero
    assert axis_floor([7.5e6, 7.5e6]) == 0.0  # no step at all
    assert axis_floor([]) is None
    spec, _ = published()
    (chart,) = spec.charts  # 260M -> 248M in steps of a few millions: the axis is broken
    assert chart.value_axis_min and chart.value_axis_min < 248e6
    assert chart.value_axis_title.startswith("axis starts at $") and "not zero" in \
        chart.value_axis_title


@pytest.mark.parametrize("figures", [
    [[100.0, np.nan, -0.0, 1e307], [2.675, -2.675, np.inf, 0.005], [-1.5e15, 7.0, 1e-9, -np.inf]],
    [[1.0, 2.0, 3.0, 4.0], [0.125, 0.375, 1234567.785, 12.345], [np.nan] * 4],
])
def test_a_band_of_the_plan_of_record_is_written_as_row_by_row(monkeypatch, figures):
    """The plan of record taken a band at a time (cents over the band, units as they are,
    what is not finite empty) gives the cells, and so the hash, of the row-by-row render."""
    snapshot = MonthTable(("family", "measure"), (("PUMPS-200", "units"), ("PUMPS-200",
                                                                           "revenue"),
                                                  ("VALVES-9", "Units cost")),
                          MONTHS[:4], np.array(figures, dtype=np.float64))
    rec = reconciliation(snapshot=snapshot, latest_estimate=snapshot)
    spec, recon_hash = published(rec)
    monkeypatch.setattr(recon_sections, "month_block", lambda *args: False)
    row_by_row, row_hash = published(rec)
    assert recon_cells(spec) == recon_cells(row_by_row)
    assert recon_hash == row_hash
    assert len(row_by_row.blocks) > len(spec.blocks)
