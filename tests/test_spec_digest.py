"""The spec digest tells apart any two specs the writer could spell differently.

It is taken over each block's cells as one run (text joined, floats as their bytes, plain
values as orjson writes them, anything else by ``repr``): these tests hold every run to
"equal digests only for equal cells", the cells compared by type and ``repr``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sopfin.sheetspec import Block, FormulaGrid, SheetSpec, Style
from sopfin.xlsx.specdigest import spec_digest


def digest_of(*rows: list[object], style: object = None, row: int = 3) -> str | None:
    return spec_digest(SheetSpec("S", [Block(row, 1, [list(r) for r in rows], None, style)]),
                       {})


def key(cells: list[object]) -> list[tuple[type, str]]:
    return [(type(v), repr(v)) for v in cells]


plain = st.one_of(st.text(max_size=6), st.floats(), st.integers(-2**70, 2**70), st.booleans(),
                  st.none(), st.sampled_from(list(Style)))


@given(st.lists(plain, min_size=1, max_size=5), st.lists(plain, min_size=1, max_size=5))
def test_equal_digests_only_for_equal_cells(a, b):
    if key(a) != key(b):
        assert digest_of(a) != digest_of(b) or digest_of(a) is None
    else:
        assert digest_of(a) == digest_of(b)


@pytest.mark.parametrize("one, other", [
    ([None, 1.5], [math.nan, 1.5]),  # orjson writes both as null
    ([None, 1.5], [math.inf, 1.5]),
    ([math.nan, "x"], [-math.inf, "x"]),
    ([1, "x"], [1.0, "x"]),
    ([True, "x"], [1, "x"]),
    (["a\x00b", "c"], ["a", "b\x00c"]),  # text joined by the character it holds
    (["ab", "c"], ["a", "bc"]),
    ([0.0, 1.0], [-0.0, 1.0]),
    ([1.5, 2.5], [1.5, 2.5000000000000004]),
    (["title"], [Style.TITLE]),
    (["x", None], ["x", ""]),
])
def test_values_the_writer_may_spell_apart_have_different_digests(one, other):
    assert digest_of(one) != digest_of(other)


def test_the_same_cells_have_one_digest_held_as_rows_or_as_an_array():
    rows = [["PMP-100", 1.5, None], ["PMP-200", 2.0, True]]
    held = SheetSpec("S", [Block(3, 1, np.array(rows, dtype=object))])
    assert spec_digest(held, {}) == digest_of(*rows)
    assert digest_of(*rows) != digest_of(rows[0] + rows[1])  # the shape counts


def test_rows_of_different_lengths_have_no_digest():
    assert digest_of(["a", "b"], ["c"]) is None


def test_styles_cell_by_cell_count():
    rows = (["a", "b"],)
    assert digest_of(*rows, style=[[Style.TEXT, None]]) \
        != digest_of(*rows, style=[[None, Style.TEXT]])
    assert digest_of(*rows, style=[[Style.TEXT, Style.TEXT]]) \
        == digest_of(*rows, style=np.array([[Style.TEXT, "text"]], dtype=object))
    assert digest_of(*rows, style=Style.TEXT) != digest_of(*rows, style=Style.MONEY)


def test_a_fingerprint_column_counts_by_its_shape_alone():
    marks = np.array([["sopfin-row/1 ;1;aaa"], [None], ["sopfin-row/1 ;1;bbb"]], dtype=object)
    other = np.array([["sopfin-row/1 ;1;ccc"], [None], ["sopfin-row/1 ;1;ddd"]], dtype=object)
    assert digest_of(*marks.tolist()) == digest_of(*other.tolist())
    typed_over = np.array([["sopfin-row/1 ;1;aaa"], ["12"], ["sopfin-row/1 ;1;bbb"]],
                          dtype=object)
    assert digest_of(*typed_over.tolist()) != digest_of(*marks.tolist())


def test_float_arrays_and_grids_count_by_their_bytes_and_arguments():
    values = np.arange(6.0).reshape(3, 2)

    def grid_digest(args: list[object], data: np.ndarray = values) -> str | None:
        grid = FormulaGrid(("A%s*2", "B%s*2"), (args,), 3)
        return spec_digest(SheetSpec("S", [Block(3, 1, data, grid, Style.MONEY)]), {})

    assert grid_digest([3, 4, 5]) == grid_digest([3, 4, 5])
    assert grid_digest([3, 4, 5]) != grid_digest([3, 4, 6])
    assert grid_digest([3, 4, 5]) != grid_digest(["3", "4", "5"])
    changed = values.copy()
    changed[2, 1] = np.nextafter(changed[2, 1], 10)
    assert grid_digest([3, 4, 5]) != grid_digest([3, 4, 5], changed)
