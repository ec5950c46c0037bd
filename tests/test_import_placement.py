"""Where imported lines land on their sheet: imported months replaced, other months kept,
new keys appended, re-importing changes nothing."""

from __future__ import annotations

from sopfin.imports.placement import place_import
from sopfin.imports.transform import ImportLine, ImportResult
from sopfin.model import IssueCode

MONTHS = ("2027-01", "2027-02", "2027-03")
HEADER = ["Family", "Measure", *MONTHS]


def result(*lines: tuple[str, str, str, float], months=("2027-01", "2027-02")) -> ImportResult:
    return ImportResult("gl.csv", "0" * 64, "Actuals", ("family", "measure"),
                        lines=tuple(ImportLine((f, m), mo, v) for f, m, mo, v in lines),
                        months=months)


def apply(rows, cells):
    out = [list(r) + [None] * 5 for r in rows] + [[None] * 10 for _ in range(5)]
    for ref, value in cells:
        col = ord(ref[0]) - 64
        out[int(ref[1:]) - 1][col - 1] = value
    return out


def test_imported_months_are_replaced_and_other_months_kept():
    rows = [HEADER, ["PUMP", "revenue", 1.0, 2.0, 3.0], ["VALVE", "revenue", 4.0, 5.0, 6.0]]
    imp = result(("PUMP", "revenue", "2027-01", 10.0), ("PUMP", "revenue", "2027-02", 20.0),
                 ("DRUM", "units", "2027-02", 7.0))
    placed, issues = place_import(rows, imp, MONTHS)
    assert not issues
    assert placed.cells == (("C2", 10.0), ("D2", 20.0), ("C3", None), ("D3", None),
                            ("A4", "DRUM"), ("B4", "units"), ("D4", 7.0))
    assert (placed.rows_updated, placed.rows_added, placed.rows_cleared) == (1, 1, 1)
    after = apply(rows, placed.cells)
    assert after[1][:5] == ["PUMP", "revenue", 10.0, 20.0, 3.0]  # March untouched
    again, _ = place_import(after, imp, MONTHS)
    assert again.cells == ()  # the same import twice changes nothing


def test_a_duplicate_row_or_no_room_below_stops_the_import():
    rows = [HEADER, ["PUMP", "revenue", 1.0], ["PUMP", "revenue", 2.0]]
    _, [issue] = place_import(rows, result(("PUMP", "revenue", "2027-01", 1.0)), MONTHS)
    assert issue.code is IssueCode.DUPLICATE_ROW and str(issue.where) == "Actuals!A3"
    rows = [HEADER, ["PUMP", "revenue", 1.0], [None] * 5, ["notes", None, None]]
    imp = result(("A", "units", "2027-01", 1.0), ("B", "units", "2027-01", 1.0))
    _, [issue] = place_import(rows, imp, MONTHS)
    assert str(issue.where) == "Actuals!A4" and "holds something" in issue.message


def test_a_broken_header_is_reported_at_its_cell():
    rows = [["Family", "Kind", *MONTHS]]
    placed, issues = place_import(rows, result(("PUMP", "revenue", "2027-01", 1.0)), MONTHS)
    assert placed is None and issues[0].code is IssueCode.MISSING_COLUMN
    assert str(issues[0].where) == "Actuals!B1"


def test_an_import_replaces_only_the_measures_it_brings():
    rows = [HEADER, ["PUMP", "revenue", 1.0, 2.0, 3.0], ["PUMP", "units", 4.0, 5.0, 6.0],
            ["VALVE", "revenue", 7.0, 8.0, 9.0]]
    imp = result(("PUMP", "revenue", "2027-01", 10.0))
    placed, _ = place_import(rows, imp, MONTHS)
    # VALVE's revenue is blanked in the imported months, PUMP's units are not touched
    assert placed.cells == (("C2", 10.0), ("D2", None), ("C4", None), ("D4", None))
