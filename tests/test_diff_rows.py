"""diff reads the two tabs it compares as rows: the plan of record it finds is the one the
tab's cells give (``snapshot_from_cells``), on a closed demo workbook, on the same workbook
saved by LibreOffice, and on rows stored out of order or twice."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from sopfin.cli import main
from sopfin.close.rowtable import MonthTable
from sopfin.render.recon import snapshot_from_cells, snapshot_from_rows
from sopfin.workbook import CellsRow, rows_of_cells
from sopfin.xlsx.readback import read_cell_rows, read_cells

TAB = "Recon v001"


@pytest.fixture(scope="module")
def closed(built_demo, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("diff-rows") / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    assert main(["close", str(path), "-q"]) == 0
    return path


def _same(a: MonthTable | None, b: MonthTable) -> None:
    assert a is not None
    assert (a.names, a.keys, a.months) == (b.names, b.keys, b.months)
    assert np.array_equal(a.values, b.values, equal_nan=True)


def test_rows_give_the_snapshot_the_cells_give(closed):
    expected = snapshot_from_cells(read_cells(closed, [TAB])[TAB])
    assert len(expected.keys) > 10 and len(expected.months) > 1
    _same(snapshot_from_rows(read_cell_rows(closed, [TAB])[TAB]), expected)


@pytest.mark.libreoffice
def test_a_tab_saved_by_libreoffice_gives_the_same_snapshot(closed, soffice, tmp_path):
    from lo_oracle import recalculate

    saved = recalculate(closed, tmp_path, soffice)  # a LibreOffice save
    expected = snapshot_from_cells(read_cells(saved, [TAB])[TAB])
    _same(snapshot_from_rows(read_cell_rows(saved, [TAB])[TAB]), expected)
    _same(expected, snapshot_from_cells(read_cells(closed, [TAB])[TAB]))


def test_rows_out_of_order_and_repeated_are_merged_as_cells_are(closed):
    cells = read_cells(closed, [TAB])[TAB]
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
