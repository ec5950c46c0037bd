"""The key and Check columns of a grid: placed as whole-column arrays, written exactly as the
row-by-row lists they replace."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.render.grid import Grid
from sopfin.render.refs import CHECK_OK
from sopfin.sheetspec import Block, SheetSpec, Style
from sopfin.xlsx.sheetxml import worksheet_xml

XF = {Style.TEXT: 0}
TEXTS = st.one_of(st.sampled_from(["base", "12", "", "a<b&\"c\"", "Total"]), st.text(max_size=8))


def _grid() -> Grid:
    return Grid("Revenue", ("Scenario", "Family", "Measure"), ("Check", "Total"), ("2027-01",))


def _xml(blocks: list[Block]) -> bytes:
    return worksheet_xml(SheetSpec("Revenue", blocks=tuple(blocks)), XF)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(TEXTS, TEXTS, TEXTS), min_size=1, max_size=12), st.integers(3, 900))
def test_keys_are_written_as_the_rows_given(keys: list[tuple[str, str, str]], first: int,
                                            ) -> None:
    grid = _grid()
    grid.put_keys(first, keys)
    (block,) = grid.blocks
    assert isinstance(block.values, np.ndarray) and block.values.shape == (len(keys), 3)
    assert block.values.tolist() == [list(k) for k in keys]
    assert _xml(grid.blocks) == _xml([Block(first, 1, [list(k) for k in keys],
                                            style=Style.TEXT)])


def test_no_keys_place_nothing_and_ragged_rows_are_placed_as_given() -> None:
    grid = _grid()
    grid.put_keys(3, [])
    grid.put_keys(3, [()])
    assert grid.blocks == []
    grid.put_keys(3, [("base", "A"), ("base",)])
    assert grid.blocks[0].values == [["base", "A"], ["base"]]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.just(""),
                          st.sampled_from(['IF(Demand!$A$4="base","ok","RE-SORTED")',
                                           'IF(AND(Demand!$A$5="x",Demand!$B$5&""="1"),'
                                           '"ok","RE-SORTED")'])), min_size=1, max_size=12))
def test_checks_cache_ok_where_there_is_a_formula(checks: list[str | None]) -> None:
    grid = _grid()
    grid.put_checks(7, checks)
    if all(c is None for c in checks):
        assert grid.blocks == []
        return
    (block,) = grid.blocks
    assert block.col == grid.lead("Check") == 4
    assert block.formulas.tolist() == [[c] for c in checks]
    assert block.values.tolist() == [[CHECK_OK if c else None] for c in checks]
    listed = Block(7, 4, [[CHECK_OK if c else None] for c in checks], [[c] for c in checks],
                   Style.TEXT)
    assert _xml(grid.blocks) == _xml([listed])
