"""Cached values written by orjson are the bytes Python's repr path writes, and the
pure-Python path stays a working fallback that writes the same sheet."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.sheetspec import Block, FormulaGrid, SheetSpec, Style
from sopfin.xlsx import floattext
from sopfin.xlsx.cellxml import _number
from sopfin.xlsx.sheetxml import worksheet_xml

AWKWARD = [59128.200000000004, 1e16, -1e16, 1e-7, -1e-7, -0.0, 0.0, 5e-324, -5e-324,
           1.7976931348623157e308, -1.7976931348623157e308, 2.2250738585072014e-308, 1e-4,
           9.999999999999999e-05, 1.5e-5, 0.0001234, 1e15, 999999999999999.9, 2.0**53,
           2.0**53 + 2, 123456789012345680.0, 1e22, 0.1 + 0.2, 1 / 3, 100.0, 3.0, -7.0,
           1e12 + 0.5, 12.5, 0.05, 1234567.891]


@contextlib.contextmanager
def formatter(orjson: bool):
    was = floattext.use_orjson(orjson)
    try:
        yield
    finally:
        floattext.use_orjson(was)


def _usable_texts(values: np.ndarray) -> list[tuple[float, str]]:
    texts = floattext.value_texts(values.reshape(1, -1) if values.ndim == 1 else values)
    assert texts is not None
    flat, usable = texts
    n = values.shape[-1]
    return [(v, t) for k, ok in enumerate(usable) if ok
            for v, t in zip(values.reshape(-1, n)[k].tolist(), flat[k * n:(k + 1) * n],
                            strict=True)]


def test_usable_texts_are_the_repr_path_spelling_of_awkward_values():
    values = np.array(AWKWARD + [float(i) for i in range(-50, 50)]).reshape(-1, 1)
    checked = _usable_texts(values)
    assert {t for _, t in checked} >= {"59128.200000000004", "1e+16", "-0", "0",
                                       "1.7976931348623157e+308", "100", "0.0001"}
    for v, text in checked:
        assert text == _number(v), v


def test_values_spelled_differently_by_orjson_are_left_to_the_caller():
    for v in (1e-7, 5e-324, 1.5e-5, 9.999999999999999e-05, float("nan"), float("inf")):
        row = np.array([[1.0, v, 2.5]])
        texts = floattext.value_texts(row)
        assert texts is not None and texts[1] == [False], v
    assert floattext.value_texts(np.array([[1.0, 1e-4, 0.0, -0.0]]))[1] == [True]


def test_random_doubles_of_every_magnitude_match_repr():
    rng = np.random.default_rng(14)
    bits = rng.integers(0, 2**63, 20_000, dtype=np.uint64).view(np.float64)
    scaled = rng.uniform(-1, 1, 20_000) * 10.0 ** rng.integers(-6, 24, 20_000)
    cents = rng.integers(-10**11, 10**11, 20_000) / 100
    for values in (bits[np.isfinite(bits)], scaled, cents):
        checked = _usable_texts(values.reshape(-1, 1))
        assert len(checked) > len(values) // 3
        assert all(text == _number(v) for v, text in checked)


def test_without_orjson_every_row_is_left_to_the_caller():
    with formatter(False):
        assert floattext.value_texts(np.array([[1.0, 2.0]])) is None


def _sheet(values: np.ndarray, explicit: dict[int, list[str]] | None = None) -> bytes:
    rows, cols = values.shape
    texts = tuple(f"Demand!{chr(68 + j)}%s*Prices!$C$%s" for j in range(cols))
    grid = FormulaGrid(texts, (list(range(3, 3 + rows)), [f"{k}" for k in range(rows)]),
                       rows, explicit=explicit or {})
    spec = SheetSpec("S", [Block(4, 2, [[f"fam {i}"] for i in range(rows)], style=Style.TEXT),
                           Block(4, 3, values, grid, Style.MONEY)])
    return worksheet_xml(spec, {Style.MONEY: 3, Style.TEXT: 0})


def _both_paths(values: np.ndarray, explicit: dict[int, list[str]] | None = None):
    with formatter(True):
        fast = _sheet(values, explicit)
    with formatter(False):
        plain = _sheet(values, explicit)
    return fast, plain


def test_both_paths_write_the_same_sheet_with_awkward_values():
    values = np.array(AWKWARD + [float("nan")]).reshape(-1, 4)
    fast, plain = _both_paths(values)
    assert fast == plain
    assert b"<v>59128.200000000004</v>" in fast and b"<v>1e-07</v>" in fast
    assert b"<v>1e+16</v>" in fast and b"<v>-0</v>" in fast and b"<v>100</v>" in fast
    assert b't="str"><f>' in fast  # the NaN row's blank cached result


def test_both_paths_write_the_same_sheet_on_a_window_of_plain_rows():
    rng = np.random.default_rng(3)
    values = np.round(rng.normal(0, 1e6, (3000, 12)), 2)
    values[::7] = np.rint(values[::7])
    values[5, 3] = 59128.200000000004
    fast, plain = _both_paths(values, explicit={17: ["0"] * 12})
    assert fast == plain


_values = st.one_of(st.sampled_from(AWKWARD),
                    st.integers(-10**9, 10**9).map(lambda c: c / 100),
                    st.integers(-10**6, 10**6).map(float),
                    st.floats(allow_nan=True, allow_infinity=False))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 6), st.integers(1, 5), st.data())
def test_both_paths_write_the_same_sheet(rows, cols, data):
    values = np.array([[data.draw(_values) for _ in range(cols)] for _ in range(rows)])
    fast, plain = _both_paths(values)
    assert fast == plain


def test_a_machine_without_orjson_writes_the_same_sheet():
    import hashlib
    import subprocess
    import sys

    code = ("import sys; sys.modules['orjson'] = None\n"
            "import hashlib, numpy as np\n"
            "from tests.test_float_text import AWKWARD, _sheet\n"
            "from sopfin.xlsx import floattext\n"
            "assert floattext.orjson is None and floattext.value_texts(np.ones((1, 1))) is None\n"
            "values = np.array(AWKWARD + [float('nan')]).reshape(-1, 4)\n"
            "print(hashlib.sha256(_sheet(values)).hexdigest())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True, cwd=Path(__file__).resolve().parents[1])
    with formatter(True):
        here = _sheet(np.array(AWKWARD + [float("nan")]).reshape(-1, 4))
    assert done.stdout.strip() == hashlib.sha256(here).hexdigest()
