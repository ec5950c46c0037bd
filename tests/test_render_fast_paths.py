"""The renderer's and writer's fast paths give exactly what the plain versions give."""

from __future__ import annotations

import random
import weakref
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.layout import column_letter
from sopfin.render.grid import _fill_by_format, fill
from sopfin.sheetspec import Block, FormulaGrid, SheetSpec, Style
from sopfin.xlsx import sheetxml
from sopfin.xlsx.cellxml import (
    _cell,
    _formula_cell,
    _no_infinity,
    _text_result_rows,
    number_classes,
    prepare_block,
)
from sopfin.xlsx.sheetxml import _check_overlaps, worksheet_xml

TEMPLATES = [
    ("{c}{a}*{c}{b}", None),
    ("IF({fam}{x}=0,0,{fam}{y}*{c}{a}/{fam}{x})", "Demand!{c}{a}"),
    ("SUM({c}{a}:{c}{b})", None),
    ("IF({c}{a}=0,\"\",{c}{b}/{c}{a}*100%)", "0"),
    ("'{sheet}'!{c}{a}+{c}{b}-{p}", "{p}"),
]


@pytest.mark.parametrize(("template", "first"), TEMPLATES)
def test_fill_matches_str_format(template, first):
    rng = random.Random(template)
    count, months = 17, 13
    rows = {"a": [rng.randint(2, 9999) for _ in range(count)],
            "b": [rng.randint(2, 9999) for _ in range(count)],
            "x": [rng.randint(2, 9999) for _ in range(count)],
            "y": [rng.randint(2, 9999) for _ in range(count)],
            "p": [f"Prices!$C${rng.randint(2, 99)}" for _ in range(count)],
            "sheet": ["Recon v001"] * count}
    cols = {"c": [f"{chr(65 + j % 26)}{'' if j < 26 else 'A'}" for j in range(months)],
            "fam": ["Inventory!" + chr(66 + j) for j in range(months)]}
    fast = fill(template, count, rows, cols, first)
    per_month = [{n: cols[n][j] for n in cols} for j in range(months)]
    plain = _fill_by_format(template, count, rows, cols, first,
                            np.empty((count, months), dtype=object), per_month)
    assert fast.tolist() == plain.tolist()


@dataclass
class _Box:
    row0: int
    row1: int
    col0: int
    col1: int


def _pairwise_overlap(boxes: list[_Box]) -> bool:
    return any(a.row0 <= b.row1 and b.row0 <= a.row1 and a.col0 <= b.col1 and b.col0 <= a.col1
               for i, a in enumerate(boxes) for b in boxes[i + 1:])


@pytest.mark.parametrize("seed", range(300))
def test_overlap_sweep_agrees_with_the_pairwise_check(seed):
    rng = random.Random(seed)
    boxes = []
    for _ in range(rng.randint(1, 12)):
        r0, c0 = rng.randint(1, 30), rng.randint(1, 8)
        boxes.append(_Box(r0, r0 + rng.randint(0, 6), c0, c0 + rng.randint(0, 3)))
    try:
        _check_overlaps(boxes)
        swept = False
    except ValueError:
        swept = True
    assert swept == _pairwise_overlap(boxes)


# --- the writer's FormulaGrid rows -----------------------------------------------------------

_EDGE_VALUES = [0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 0.05, 0.01, -0.01, 0.005, 0.1 + 0.2, 1 / 3,
                123.45, -123.4, 1e11 + 0.01, 999999999999.99, 1e12, 1e12 + 0.5, 1e15, 1e16,
                2.0**53, 1e-5, 5e-324, 1234567.891, -98765.43, float("nan")]
_values = st.one_of(st.sampled_from(_EDGE_VALUES),
                    st.integers(-10**9, 10**9).map(lambda c: c / 100),
                    st.integers(-10**6, 10**6).map(float),
                    st.floats(allow_nan=True, allow_infinity=False))


def _xml_both_ways(grid: FormulaGrid, values: np.ndarray, style: Style = Style.MONEY):
    xf = {Style.MONEY: 3, Style.UNITS: 0}
    fast = worksheet_xml(SheetSpec("S", [Block(5, 3, values, grid, style)]), xf)
    plain = worksheet_xml(SheetSpec("S", [Block(5, 3, values, np.asarray(grid), style)]), xf)
    return fast, plain


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.data())
def test_formula_grid_rows_write_what_the_cell_by_cell_path_writes(rows, cols, data):
    values = np.array([[data.draw(_values) for _ in range(cols)] for _ in range(rows)])
    texts = tuple(f"IF({chr(65 + j)}%s<0,\"a&b\",{chr(65 + j)}%s*Prices!$C$%s)"
                  for j in range(cols))
    args = tuple([data.draw(st.integers(1, 10**6)) for _ in range(rows)] for _ in range(3))
    first = None
    if data.draw(st.booleans()):
        first = ("Demand!D%s+%s", ([data.draw(st.integers(1, 99)) for _ in range(rows)],
                                   [data.draw(st.sampled_from(["0", "x&y", "<1>"]))
                                    for _ in range(rows)]))
    explicit = {i: [data.draw(st.sampled_from(["0", "Demand!D7+Demand!D9", "=A1&\"x\"",
                                               "", "SUM(B1:B3)<2"])) for _ in range(cols)]
                for i in range(rows) if data.draw(st.booleans())}
    grid = FormulaGrid(texts, args, rows, first, explicit)
    for sep in ("\x00", "%|"):
        assert [grid.joined_row(i, sep) for i in range(rows)] == [
            sep.join(formulas) for formulas in grid.tolist()]
    fast, plain = _xml_both_ways(grid, values, data.draw(st.sampled_from([Style.MONEY,
                                                                          Style.UNITS])))
    assert fast == plain


def test_number_classes_format_exactly_like_repr():
    values = np.array([v for v in _EDGE_VALUES if v == v] +
                      [c / 100 for c in range(-100_000, 100_000, 7)])
    classes = number_classes(values)
    formats = ("%d", "%.1f", "%.2f", "%r")
    for v, c in zip(values.tolist(), classes.tolist(), strict=True):
        expected = repr(v)[:-2] if repr(v).endswith(".0") else repr(v)
        got = formats[c] % v
        got = got[:-2] if c == 3 and got.endswith(".0") else got
        assert got == expected, (v, c)


_texts = st.one_of(st.sampled_from(["upside", "a&b <c>", "", " x ", "\x01ctl", "é", "=SUM(A1)"]),
                   st.text(max_size=12), st.none(), st.floats(allow_nan=True), st.booleans())


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 5), st.integers(1, 4), st.data())
def test_text_block_rows_write_what_the_cell_by_cell_path_writes(rows, cols, data):
    values = np.empty((rows, cols), dtype=object)
    for i in range(rows):
        for j in range(cols):
            values[i, j] = data.draw(_texts)
    style = data.draw(st.sampled_from([Style.TEXT, Style.NOTE, None]))
    xf = {Style.TEXT: 0, Style.NOTE: 4}
    block = prepare_block(Block(2, 2, values, None, style), xf)
    s = f' s="{xf[style]}"' if style is not None and xf[style] else ""
    letters = [column_letter(2 + j) for j in range(cols)]
    plain = ["".join(_cell(f"{c}{2 + i}", s, v) for c, v in zip(letters, values[i], strict=True))
             for i in range(rows)]
    assert block.rows(2, 1 + rows) == plain


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 5), st.integers(0, 4), st.data())
def test_longest_formula_bounds_every_formula_of_a_grid(rows, cols, data):
    """The bound measures the row arguments once for all columns: each template with every
    placeholder given its widest argument, the first column's own template too."""
    from sopfin.xlsx.sheetxml import _widest, longest_formula

    column = st.one_of(st.lists(st.integers(-10**9, 10**9), min_size=rows, max_size=rows),
                       st.lists(st.sampled_from(["A1", "Prices!$C$12", "x&y"]),
                                min_size=rows, max_size=rows))
    args = tuple(data.draw(column) for _ in range(2))
    texts = tuple(data.draw(st.sampled_from(["%s+%s", "SUM(D%s:D%s)", "IF(%s<0,0,%s*2)"]))
                  for _ in range(cols))
    first = (("Demand!D%s", (data.draw(column),)) if cols and data.draw(st.booleans())
             else None)
    grid = FormulaGrid(texts, args, rows, first)
    templates = [(t, args) for t in texts] + ([first] if first is not None else [])
    expected = max((len(t) + sum(map(_widest, a)) for t, a in templates), default=0)
    assert longest_formula(grid) == expected
    assert all(len(f) <= expected for row in grid.tolist() for f in row)


def test_a_block_is_prepared_when_its_rows_are_written_and_let_go_after_them(monkeypatch):
    made: list[weakref.ref] = []
    held_before: list[int] = []

    def observed(block, xf):
        prepared = prepare_block(block, xf)
        held_before.append(sum(ref() is not None for ref in made))
        made.append(weakref.ref(prepared))
        return prepared

    monkeypatch.setattr(sheetxml, "prepare_block", observed)
    rows = (1, 1 + sheetxml.ROW_WINDOW, 1 + 3 * sheetxml.ROW_WINDOW)
    blocks = [Block(r, 2, np.full((3, 2), r + 0.5), None, Style.MONEY) for r in rows]
    xml = worksheet_xml(SheetSpec("S", [blocks[0], Block(1, 1, [["key"]]), *blocks[1:]]),
                        {Style.MONEY: 3})
    assert held_before == [0, 1, 0, 0]  # the key beside the first block; never one left over
    assert xml.count(b"<row ") == 9 and f'<c r="C{rows[2] + 2}" s="3"><v>{rows[2]}.5'.encode() \
        in xml


_CHECK_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | \
    st.sampled_from(["ok", "CHECK", "a&b<c>", "x\x01y", "\ue000", "=1"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_CHECK_TEXT | st.none(), _CHECK_TEXT | st.none(),
                          st.sampled_from([None, "ok", "", 1.5, "<not ok>"])),
                min_size=1, max_size=12),
       st.sampled_from([Style.TEXT, None]), st.integers(1, 2))
def test_formula_cells_with_text_results_are_written_as_cell_by_cell(cells, style, width):
    """A Check column: formulas whose cached results are text (or missing) and empty cells,
    escaped in one pass, give the bytes of ``_formula_cell`` and ``_cell``, and any other
    cell (a number, a text without a formula) is written cell by cell."""
    n = len(cells) // width or 1
    cells = (cells * width)[:n * width]
    formulas = np.array([f if k % 2 else g for k, (f, g, _) in enumerate(cells)],
                        dtype=object).reshape(n, width)
    values = np.array([v for _, _, v in cells], dtype=object).reshape(n, width)
    block = Block(row=4, col=3, values=values, formulas=formulas, style=style)
    xf = {Style.TEXT: 7}
    s = ' s="7"' if style else ""
    want = []
    for i in range(n):
        row = []
        for j in range(width):
            ref = f"{column_letter(3 + j)}{4 + i}"
            f, v = formulas[i, j], values[i, j]
            text = f[1:] if isinstance(f, str) and f.startswith("=") else f
            row.append(_formula_cell(ref, s, text, v) if text else _cell(ref, s, v))
        want.append("".join(row))
    assert prepare_block(block, xf).rows(4, 3 + n) == want


def test_a_check_column_is_written_in_one_pass_and_a_number_among_it_cell_by_cell():
    letters, numbers = ["B"], range(5, 8)
    formulas = [["IF(A5>0,\"ok\",\"CHECK\")"], [""], ["A7&\"<\""]]
    assert _text_result_rows(letters, ' s="2"', numbers, [["ok"], [None], [None]],
                             formulas) == [
        '<c r="B5" s="2" t="str"><f>IF(A5&gt;0,"ok","CHECK")</f><v>ok</v></c>', "",
        '<c r="B7" s="2" t="str"><f>A7&amp;"&lt;"</f><v></v></c>']
    assert _text_result_rows(letters, "", numbers, [["ok"], [None], [1.0]], formulas) is None
    assert _text_result_rows(letters, "", numbers, [["ok"], ["x"], [None]], formulas) is None
    assert _text_result_rows(letters, "", numbers, [["o\ue000k"], [None], [None]],
                             formulas) is None


@pytest.mark.parametrize("cells", [[], [1.5, -2.0], [np.nan, 3.0], [np.inf], [-np.inf, 1.0],
                                   [np.nan, -np.inf], [1e308, 1e308], [np.inf, -np.inf],
                                   [-1e308, -1e308, np.nan]])
def test_no_infinity_is_told_as_np_isinf_tells_it(cells):
    values = np.array(cells, dtype=np.float64).reshape(1, -1)
    assert _no_infinity(values) is (not np.isinf(values).any())
