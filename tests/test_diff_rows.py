"""diff reads the two tabs it compares as grids of values in one fast pass (calamine), else as
rows: the plan of record it finds either way is the one the tab's cells give
(``snapshot_from_cells``), on a closed demo workbook, on the same workbook saved by
LibreOffice, and on rows stored out of order or twice. A tab the grid cannot read as the rows
do (an error cell, a formula without a value, a date, a part the screen refuses) gives no
grid, and its rows are read as before."""

from __future__ import annotations

import random
import re
import shutil
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest

from hostile_files import declare_smaller, edit_part, part_of, rewrite
from sopfin.cli import main
from sopfin.close.rowtable import MonthTable
from sopfin.render.recon import snapshot_from_cells, snapshot_from_grid, snapshot_from_rows
from sopfin.workbook import CellsRow, GridRows, rows_of_cells
from sopfin.xlsx.readback import read_cell_rows, read_cells

TAB = "Recon v001"
_ROW = re.compile(rb"<row [^>]*>.*?</row>", re.S)


def _same(a: MonthTable | None, b: MonthTable | None) -> None:
    assert a is not None and b is not None
    assert (a.names, a.keys, a.months) == (b.names, b.keys, b.months)
    assert np.array_equal(a.values, b.values, equal_nan=True)


def test_rows_give_the_snapshot_the_cells_give(closed_demo):
    expected = snapshot_from_cells(read_cells(closed_demo, [TAB])[TAB])
    assert len(expected.keys) > 10 and len(expected.months) > 1
    _same(snapshot_from_rows(read_cell_rows(closed_demo, [TAB])[TAB]), expected)


@pytest.mark.libreoffice
def test_a_tab_saved_by_libreoffice_gives_the_same_snapshot(closed_demo, soffice, tmp_path):
    from lo_oracle import recalculate

    saved = recalculate(closed_demo, tmp_path, soffice)  # a LibreOffice save
    expected = snapshot_from_cells(read_cells(saved, [TAB])[TAB])
    _same(snapshot_from_rows(read_cell_rows(saved, [TAB])[TAB]), expected)
    _same(expected, snapshot_from_cells(read_cells(closed_demo, [TAB])[TAB]))


def test_rows_out_of_order_and_repeated_are_merged_as_cells_are(closed_demo):
    cells = read_cells(closed_demo, [TAB])[TAB]
    rows = rows_of_cells(cells)
    shuffled: list[CellsRow] = list(rows)
    random.Random(7).shuffle(shuffled)
    start = next(r.number for r in rows if str(r.cells().get("A", "")).startswith(
        "Plan of record"))
    data = next(r for r in rows if r.number > start + 1)
    stale = CellsRow(data.number, {c: -1.0 for c in data.cells() if c not in "AB"})
    shuffled.insert(0, stale)  # stored first, then the row again: the later cells win
    _same(snapshot_from_rows(shuffled), snapshot_from_cells(cells))
    moved = dict(cells)
    for column, value in stale.cells().items():
        moved[f"{column}{data.number}"] = value
    late = [*rows, stale]  # stored last: now its cells win
    _same(snapshot_from_rows(late), snapshot_from_cells(moved))


def test_an_empty_tab_is_none_and_a_tab_without_the_section_is_refused():
    assert snapshot_from_rows([]) is None
    assert snapshot_from_rows([CellsRow(1, {})]) is None
    with pytest.raises(ValueError, match="no 'Plan of record' section"):
        snapshot_from_rows(rows_of_cells({"A1": "something else"}))


def _grid(path: Path) -> list[list[object]] | None:
    rows = read_cell_rows(path, [TAB])[TAB]
    assert isinstance(rows, GridRows)
    return rows.grid()


def _cells_snapshot(path: Path) -> MonthTable | None:
    return snapshot_from_cells(read_cells(path, [TAB])[TAB])


def test_the_grid_gives_the_snapshot_the_cells_give(closed_demo):
    grid = _grid(closed_demo)
    assert grid is not None
    expected = _cells_snapshot(closed_demo)
    assert expected is not None and len(expected.keys) > 10 and len(expected.months) > 1
    _same(snapshot_from_grid(grid), expected)


@pytest.mark.libreoffice
def test_a_tab_saved_by_libreoffice_gives_the_same_snapshot_from_its_grid(closed_demo, soffice,
                                                                          tmp_path):
    from lo_oracle import recalculate

    saved = recalculate(closed_demo, tmp_path, soffice)  # shared strings, LibreOffice's numbers
    grid = _grid(saved)
    assert grid is not None
    _same(snapshot_from_grid(grid), _cells_snapshot(saved))
    _same(snapshot_from_grid(grid), _cells_snapshot(closed_demo))


@pytest.mark.parametrize("stale_last", [False, True], ids=["stale first", "stale last"])
def test_rows_stored_out_of_order_or_twice_give_the_snapshot_the_rows_give(closed_demo, tmp_path,
                                                                          stale_last):
    part = part_of(closed_demo, TAB)
    original = _cells_snapshot(closed_demo)
    assert original is not None

    def shuffle(xml: bytes) -> bytes:
        rows = list(_ROW.finditer(xml))
        start = next(k for k, m in enumerate(rows) if b"Plan of record" in m.group(0))
        late, repeated = rows[start + 5], rows[start + 3]  # data rows of the section
        stale = re.sub(rb"<v>[0-9.E+-]+</v>", b"<v>-1</v>", repeated.group(0))
        first, end = rows[0].start(), rows[-1].end()
        head, tail = (b"", stale) if stale_last else (stale, b"")
        return (xml[:first] + head + xml[first:late.start()] + xml[late.end():end]
                + late.group(0) + tail + xml[end:])

    moved = tmp_path / "moved.xlsx"
    rewrite(closed_demo, moved, edit_part(part, shuffle))
    grid = _grid(moved)
    expected = snapshot_from_rows(read_cell_rows(moved, [TAB])[TAB])
    _same(expected, _cells_snapshot(moved))
    assert expected is not None
    assert np.array_equal(expected.values, original.values, equal_nan=True) != stale_last
    assert grid is not None
    _same(snapshot_from_grid(grid), expected)


@pytest.mark.parametrize("change", [
    lambda xml: re.sub(rb'<c r="C(\d+)"([^>]*)><v>[^<]*</v></c>',
                       rb'<c r="C\1" t="e"><v>#N/A</v></c>', xml, count=1),
    lambda xml: re.sub(rb'<c r="C(\d+)"([^>]*)><v>([^<]*)</v></c>',
                       rb'<c r="C\1"\2><f>1+1</f></c>', xml, count=1),
], ids=["error cell", "formula without a value"])
def test_a_tab_with_cells_calamine_reads_as_empty_has_no_grid(closed_demo, tmp_path, change):
    part = part_of(closed_demo, TAB)
    edited = tmp_path / "edited.xlsx"
    rewrite(closed_demo, edited, edit_part(part, lambda xml: _changed(xml, change)))
    assert _grid(edited) is None


def _changed(xml: bytes, change) -> bytes:
    out = change(xml)
    assert out != xml
    return bytes(out)


def test_a_tab_part_the_screen_refuses_has_no_grid_and_diff_says_what_the_rows_say(
        closed_demo, tmp_path, capsys):
    lying = tmp_path / "lying.xlsx"
    shutil.copyfile(closed_demo, lying)
    part = part_of(closed_demo, TAB)
    declare_smaller(lying, part, 1000)
    assert _grid(lying) is None
    code = main(["diff", str(lying), "v1", "v1"])
    err = capsys.readouterr().err
    assert code != 0 and part in err and "Traceback" not in err


def test_a_grid_with_a_date_or_without_the_section_tells_nothing():
    grid: list[list[object]] = [
        ["Plan of record: base", "", "", ""],
        ["Family", "Measure", "2027-01", "2027-02"],
        ["Pumps", "units", 1.0, 2.0],
        ["", "", "", ""],
        ["End", "", "", ""],
    ]
    table = snapshot_from_grid(grid)
    assert table is not None and table.keys == (("Pumps", "units"),)
    assert table.values.tolist() == [[1.0, 2.0]]
    dated = [list(row) for row in grid]
    dated[2][3] = datetime(2027, 2, 1)  # a number styled as a date reads as one
    assert snapshot_from_grid(dated) is None
    assert snapshot_from_grid([["something else"]]) is None


def test_a_tab_saved_by_openpyxl_reads_as_a_grid_despite_its_header_parts(closed_demo, tmp_path):
    import openpyxl

    saved = tmp_path / "openpyxl.xlsx"
    book = openpyxl.load_workbook(closed_demo)
    book.save(saved)  # writes <firstHeader>, <firstFooter>: elements, not formulas
    grid = _grid(saved)
    assert grid is not None
    _same(snapshot_from_grid(grid), _cells_snapshot(closed_demo))
