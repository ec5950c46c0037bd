"""The plan of record read from a grid of values (``snapshot_from_grid``, which reads runs of
plain data rows column by column) is the one the same cells give read one by one
(``snapshot_from_cells``), whatever the grid holds: bands under several month headers, keys
repeated or missing from a band, rows that are not plain (an int, a bool, a text or an empty
cell among the figures, an empty key, a digest mark), rows of other lengths, the section's
end. A grid holding a date where the rows would read a key or a figure gives None."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.close.digests import DIGEST_MARKER
from sopfin.close.rowtable import MonthTable
from sopfin.layout import column_letter
from sopfin.render.recon import snapshot_from_cells, snapshot_from_grid
from sopfin.render.recon_tab import SNAPSHOT_TITLE

TITLE = f"{SNAPSHOT_TITLE}: base, with overrides"
MONTHS = ["2027-01", "2027-02", "2027-03", "2027-04"]
FAMILIES = ["PMP-1", "PMP-2", "VLV-7"]
MEASURES = ["units", "revenue"]
MARK = f"{DIGEST_MARKER} A=v1"
ODD = st.sampled_from(["", "", MARK, "note", 3, True, 2.5, datetime(2027, 1, 1), "2027-02"])


def _cells(grid: list[list[object]]) -> dict[str, object]:
    return {f"{column_letter(c + 1)}{r + 1}": v for r, row in enumerate(grid)
            for c, v in enumerate(row) if v != ""}


def _same(a: MonthTable, b: MonthTable) -> None:
    assert (a.names, a.keys, a.months) == (b.names, b.keys, b.months)
    assert np.array_equal(a.values, b.values, equal_nan=True)


@st.composite
def _band(draw: st.DrawFn, width: int) -> list[list[object]]:
    """A month header, then data rows: mostly plain, some with an odd cell."""
    months = draw(st.lists(st.sampled_from(MONTHS), min_size=1, max_size=3))
    rows: list[list[object]] = [["Family", "Measure", *months]]
    keys = draw(st.lists(st.tuples(st.sampled_from(FAMILIES), st.sampled_from(MEASURES)),
                         max_size=8))
    for family, measure in keys:
        figures = draw(st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=len(months),
                                max_size=len(months)))
        row: list[object] = [family, measure, *figures]
        if draw(st.integers(0, 5)) == 0:
            row[draw(st.integers(0, len(row) - 1))] = draw(ODD)
        rows.append(row)
    return [row + [""] * (width - len(row)) for row in rows]


@st.composite
def _grids(draw: st.DrawFn) -> list[list[object]]:
    width = draw(st.integers(5, 7))
    grid: list[list[object]] = [["Title", *[""] * (width - 1)], [""] * width]
    grid.append([TITLE, *[""] * (width - 2), MARK])
    for band in draw(st.lists(_band(width), min_size=1, max_size=3)):
        grid += band
        if draw(st.booleans()):
            grid.append([""] * width)
    for _ in range(draw(st.integers(0, 2))):  # a row of another length or odd cells
        at = draw(st.integers(3, len(grid)))
        grid.insert(at, draw(st.lists(ODD, max_size=width + 1)))
    if draw(st.booleans()):  # the next section, then rows the snapshot does not read
        grid.append(["Next section", *[""] * (width - 1)])
        grid.append(["PMP-1", "units", 1.0, 2.0, *[""] * (width - 4)])
    return grid


@settings(max_examples=300, deadline=None)
@given(_grids())
def test_a_grid_gives_the_snapshot_its_cells_give(grid):
    found = snapshot_from_grid(grid)
    dated = any(isinstance(v, datetime) for row in grid for v in row)
    if found is None:
        assert dated  # only a date or time makes the grid unable to tell
        return
    _same(found, snapshot_from_cells(_cells(grid)))


def test_runs_of_plain_rows_under_several_headers_are_read_whole():
    width = 26
    grid: list[list[object]] = [[TITLE, *[""] * (width - 1)]]
    expected: dict[tuple[str, str], list[float]] = {}
    for year, months in enumerate((MONTHS[:2], MONTHS[2:])):
        grid.append(["Family", "Measure", *months, *[""] * (width - 5), MARK])
        for i, family in enumerate(FAMILIES * 200):
            figures = [float(i + year), float(-i)]
            grid.append([family, str(i), *figures, *[""] * (width - 5), MARK])
            expected.setdefault((family, str(i)), []).extend(figures)
    found = snapshot_from_grid(grid)
    assert found is not None
    assert found.names == ("family", "measure") and found.months == tuple(MONTHS)
    assert found.keys == tuple(expected)
    assert np.array_equal(found.values, np.array(list(expected.values())))
    _same(found, snapshot_from_cells(_cells(grid)))


def test_a_later_row_for_the_same_key_wins_and_a_missing_figure_is_nan():
    grid: list[list[object]] = [
        [TITLE, "", "", ""],
        ["Family", "Measure", "2027-01", "2027-02"],
        ["PMP-1", "units", 1.0, 2.0],
        ["PMP-2", "units", 3.0, 4.0],
        ["PMP-1", "units", 5.0, ""],
    ]
    found = snapshot_from_grid(grid)
    assert found is not None
    assert found.keys == (("PMP-1", "units"), ("PMP-2", "units"))
    assert np.array_equal(found.values, np.array([[5.0, np.nan], [3.0, 4.0]]), equal_nan=True)
    _same(found, snapshot_from_cells(_cells(grid)))
