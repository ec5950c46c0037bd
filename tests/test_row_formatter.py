"""The compiled row formatter (``sopfin/xlsx/_rowxml.c``) writes the bytes the Python path
writes: value by value against ``repr``, block by block on random blocks, and sheet by sheet
on the demo's and the M benchmark plan's output sheets; the Python path stays a working
fallback when the extension is not built."""

from __future__ import annotations

import contextlib
import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.sheetspec import Block, FormulaGrid, SheetSpec, Style
from sopfin.xlsx import floattext, rowxml
from sopfin.xlsx.cellxml import _number
from sopfin.xlsx.sheetxml import worksheet_chunks, worksheet_xml
from test_float_text import AWKWARD

ROOT = Path(__file__).resolve().parents[1]
compiled = pytest.mark.skipif(not rowxml.available(), reason="the C row formatter is not built")


@contextlib.contextmanager
def formatter(compiled: bool, orjson: bool = True) -> Iterator[None]:
    was_compiled, was_orjson = rowxml.use_compiled(compiled), floattext.use_orjson(orjson)
    try:
        yield
    finally:
        rowxml.use_compiled(was_compiled)
        floattext.use_orjson(was_orjson)


def test_use_compiled_says_what_was_on():
    with formatter(True):
        assert rowxml.enabled() == rowxml.available()
        assert rowxml.use_compiled(False) == rowxml.available()
        assert not rowxml.enabled()


@compiled
def test_awkward_values_are_spelled_as_repr_spells_them():
    for v in [*AWKWARD, float("inf"), float("-inf"), 1e16 - 2, 9007199254740993.0,
              0.01, -0.01, 0.1, 999999999999.99, 1e12 - 0.01, -1e12 + 0.01, 5e-324]:
        assert rowxml.value_text(v) == _number(v), v


@compiled
def test_random_doubles_of_every_magnitude_are_spelled_as_repr_spells_them():
    rng = np.random.default_rng(20)
    bits = rng.integers(0, 2**64, 50_000, dtype=np.uint64).view(np.float64)
    scaled = rng.uniform(-1, 1, 50_000) * 10.0 ** rng.integers(-8, 24, 50_000)
    cents = rng.integers(-10**14, 10**14, 50_000) / 100
    tenths = rng.integers(-10**13, 10**13, 50_000) / 10
    for values in (bits[~np.isnan(bits)], scaled, cents, tenths, np.rint(scaled)):
        assert [rowxml.value_text(v) for v in values.tolist()] == \
            [_number(v) for v in values.tolist()]


@compiled
@settings(max_examples=300, deadline=None)
@given(st.floats(allow_nan=False))
def test_any_double_is_spelled_as_repr_spells_it(v):
    assert rowxml.value_text(v) == _number(v)


@compiled
def test_a_window_of_random_doubles_is_spelled_as_repr_spells_it_with_and_without_orjson():
    rng = np.random.default_rng(21)
    bits = rng.integers(0, 2**64, 40_000, dtype=np.uint64).view(np.float64)
    scaled = rng.uniform(-1, 1, 40_000) * 10.0 ** rng.integers(-8, 24, 40_000)
    window = np.concatenate([bits, scaled, [np.nan, np.inf, -np.inf, -0.0]]).reshape(-1, 4)
    expected = [_number(v) for v in window.ravel().tolist() if v == v]
    for orjson in (True, False):
        with formatter(True, orjson=orjson):
            xml = "".join(rowxml.rows(rowxml.plain_columns("ABCD"), "", (), window, 1, 0))
        assert re.findall("<v>([^<]*)</v>", xml) == expected


# Values of every class the writer meets: whole, cents, tenths, long repr values, tiny
# magnitudes, negative zero, blanks (NaN), huge values and infinities.
_values = st.one_of(
    st.sampled_from([*AWKWARD, float("nan"), -0.0]),
    st.integers(-10**9, 10**9).map(float),
    st.integers(-10**13, 10**13).map(lambda c: c / 100),
    st.integers(-10**6, 10**6).map(lambda c: c / 10),
    st.floats(-1e6, 1e6).map(lambda x: x * 1.1),
    st.floats(-1e-3, 1e-3),
    st.floats(allow_nan=True, allow_infinity=True),
)
_args = st.text(alphabet="AB1&<>é'\"", min_size=0, max_size=4)
_labels = st.text(alphabet="ab &<>é\x01\t\ud800", min_size=1, max_size=5)
_formula = st.sampled_from(["", "=", "=A1", "SUM(A1:B2)", "=1<2", "C3&\"é\"", "x>%y"])


@st.composite
def _blocks(draw) -> list[Block]:
    rows, cols = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    values = np.array([[draw(_values) for _ in range(cols)] for _ in range(rows)])
    style = draw(st.sampled_from([None, Style.MONEY, Style.TEXT]))
    kind = draw(st.sampled_from(["plain", "grid", "grid-first", "grid-explicit", "written"]))
    if kind == "plain":
        return [Block(3, 2, values, None, style), Block(4, 2 + cols, [["x", "y"]])]
    if kind == "written":  # formulas as an array of text (None and NaN: no formula)
        formulas = np.empty((rows, cols), dtype=object)
        formulas[:] = [[draw(_formula | st.sampled_from([None, np.nan, "=a\x00b"]))
                        for _ in range(cols)] for _ in range(rows)]
        return [Block(3, 2, values, formulas, style), Block(3, 2 + cols, [["k"]] * rows)]
    args = tuple([draw(_args) for _ in range(rows)] for _ in range(draw(st.integers(0, 2))))
    texts = tuple(draw(st.sampled_from(["=", "'Rev é'!X", "Y<", ">%%", "A1&"]))
                  + "".join(draw(st.sampled_from(["%s", "%.0s", "-%s"])) for _ in args)
                  for _ in range(cols))
    first = None
    if kind == "grid-first":
        first = ("F%s+%s", (list(range(rows)), [draw(_args) for _ in range(rows)]))
    explicit = {}
    if kind == "grid-explicit":
        explicit = {i: [draw(_formula) for _ in range(cols)]
                    for i in draw(st.sets(st.integers(0, rows - 1), min_size=1))}
    grid = FormulaGrid(texts, args, rows, first, explicit)
    labels = [[draw(_labels)] for _ in range(rows)]
    return [Block(3, 2, values, grid, style), Block(3, 2 + cols, labels, style=Style.TEXT),
            Block(2 + draw(st.integers(0, rows + 1)), 3 + cols, [["below"]], style=None)]


class _Error:
    code = "#N/A"


# Plain values of every type a rendered sheet holds, for blocks styled cell by cell.
_plain = st.one_of(
    _values, st.none(), st.booleans(), st.integers(-10**20, 10**20), _labels, st.just(""),
    st.text(max_size=3), st.sampled_from([np.float64(2.5), np.int64(7), np.bool_(True),
                                          np.float32(0.1), _Error(), "x" * 32800]))


@st.composite
def _styled_blocks(draw) -> list[Block]:
    rows, cols = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    values = np.empty((rows, cols), dtype=object)
    values[:] = [[draw(_plain) for _ in range(cols)] for _ in range(rows)]
    pick = st.sampled_from([None, Style.MONEY, Style.TEXT])
    if draw(st.booleans()):
        return [Block(2, 1, values, None, draw(pick))]
    styles = np.empty((rows, cols), dtype=object)
    styles[:] = [[draw(pick) for _ in range(cols)] for _ in range(rows)]
    return [Block(2, 1, values, None, styles)]


def _both(spec: SheetSpec) -> tuple[bytes, bytes, bytes]:
    xf = {Style.MONEY: 3, Style.TEXT: 0}
    with formatter(True):
        fast = worksheet_xml(spec, xf)
    with formatter(False):
        with_orjson = worksheet_xml(spec, xf)
    with formatter(False, orjson=False):
        plain = worksheet_xml(spec, xf)
    return fast, with_orjson, plain


@compiled
@settings(max_examples=400, deadline=None)
@given(st.one_of(_blocks(), _styled_blocks()))
def test_random_blocks_give_the_same_xml_through_both_paths(blocks):
    """Float blocks with and without FormulaGrids, labels, and plain values of every type
    styled cell by cell."""
    fast, with_orjson, plain = _both(SheetSpec("S", blocks))
    assert fast == plain
    assert with_orjson == plain


@compiled
def test_a_window_of_many_rows_with_explicit_rows_and_blanks():
    rng = np.random.default_rng(7)
    values = np.round(rng.normal(0, 1e6, (5000, 12)), 2)
    values[::7] = np.rint(values[::7])
    values[::11, 3] = rng.normal(0, 1e5, len(values[::11]))
    values[13, 5] = np.nan
    texts = tuple(f"Demand!{chr(68 + j)}%s*Prices!$C$%s" for j in range(12))
    grid = FormulaGrid(texts, (list(range(3, 5003)), [str(k) for k in range(5000)]), 5000,
                       explicit={17: ["=0"] * 12, 4000: ["", "=A1"] * 6})
    fast, with_orjson, plain = _both(SheetSpec("S", [Block(4, 3, values, grid, Style.MONEY)]))
    assert fast == plain == with_orjson
    assert fast.count(b"<row ") == 5000


def test_templates_with_other_conversions_are_left_to_the_python_path():
    def escape(s: str) -> str:
        return s.replace("<", "&lt;")

    assert rowxml.template_column("B", "X%s<%.0s%%Y%s", [0, 1, 2], escape) == \
        ('<c r="B', ("X", "&lt;%Y", ""), (0, 2))
    assert rowxml.template_column("B", "X%s%d", [0, 1], escape) is None
    assert rowxml.template_column("B", "X%s", [0, 1], escape) is None
    assert rowxml.template_column("B", "X%s%s", [0], escape) is None


def _digests(specs: Sequence[SheetSpec], xf: dict) -> list[str]:
    out = []
    for spec in specs:
        digest = hashlib.sha256()
        for chunk in worksheet_chunks(spec, xf):
            digest.update(chunk)
        out.append(digest.hexdigest())
    return out


def _output_specs_both_ways(path: Path) -> tuple[list[str], list[str], int]:
    from benchmarks.write_speed import cell_counts, output_specs, style_ids

    specs = output_specs(str(path))
    xf = style_ids(specs)
    with formatter(True):
        fast = _digests(specs, xf)
    with formatter(False):
        plain = _digests(specs, xf)
    return fast, plain, cell_counts(specs)[1]


@compiled
def test_the_demo_output_sheets_are_the_same_bytes_through_both_paths(built_demo: Path):
    fast, plain, formulas = _output_specs_both_ways(built_demo)
    assert fast == plain and formulas > 1000


@compiled
def test_the_m_plan_output_sheets_are_the_same_bytes_through_both_paths():
    from benchmarks.run import SIZES, plan_workbook

    fast, plain, formulas = _output_specs_both_ways(plan_workbook(SIZES["M"]))
    assert fast == plain and formulas > 4_000_000


def test_without_the_extension_the_python_path_writes_the_same_sheet():
    code = ("import sys; sys.modules['sopfin.xlsx._rowxml'] = None\n"
            "import hashlib, numpy as np\n"
            "from sopfin.xlsx import rowxml\n"
            "assert not rowxml.available() and not rowxml.enabled()\n"
            "assert not rowxml.use_compiled(True)\n"
            "from tests.test_float_text import AWKWARD, _sheet\n"
            "values = np.array(AWKWARD + [float('nan')]).reshape(-1, 4)\n"
            "print(hashlib.sha256(_sheet(values, {1: ['=A1', '', 'B2', '=']})).hexdigest())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True, cwd=ROOT)
    from test_float_text import _sheet

    with formatter(True):
        here = _sheet(np.array(AWKWARD + [float("nan")]).reshape(-1, 4),
                      {1: ["=A1", "", "B2", "="]})
    assert done.stdout.strip() == hashlib.sha256(here).hexdigest()
