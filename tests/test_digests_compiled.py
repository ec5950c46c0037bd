"""The compiled content fingerprints (``sopfin/close/_digests.c``) give the bytes their Python
twins in ``sopfin.close.digests`` give: cell records, digest tokens (with and without the x86
SHA extensions) against ``hashlib``, input sheet texts and row checksums against ``zlib``, and
the seal and the input fingerprint as a whole, on generated cells and grids; the Python path
stays a working fallback when the extension is not built."""

from __future__ import annotations

import contextlib
import hashlib
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sopfin.close import digests
from sopfin.close.digests import CellArrays, inputs_fingerprint, seal
from test_compiled_modules import switched
from test_digests_fast import columns, grids, outcome, rows, values

compiled = pytest.mark.skipif(not digests.available(),
                              reason="the C content fingerprints are not built")


def fingerprints(compiled: bool) -> contextlib.AbstractContextManager[None]:
    return switched(digests, compiled)


def test_use_compiled_says_what_was_on():
    with fingerprints(True):
        assert digests.enabled() == digests.available()
        assert digests.use_compiled(False) == digests.available()
        assert not digests.enabled()


def both(fn, *args):
    """``fn(*args)`` (or the error it raised) on the compiled path and on the Python path."""
    with fingerprints(True):
        fast = outcome(fn, *args)
    with fingerprints(False):
        slow = outcome(fn, *args)
    return fast, slow


@st.composite
def cell_arrays(draw) -> CellArrays:
    grid = draw(st.dictionaries(st.tuples(st.integers(1, 2_000_000), st.integers(1, 18278)),
                                values, max_size=30))
    return CellArrays.of(grid)


@compiled
@given(cell_arrays())
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_records_are_the_python_records(cells):
    cents, fits = digests._cents(cells)
    fast = outcome(digests._compiled.records, cells.rows, cells.cols, cells.values, cents, fits,
                   digests._value_bytes)
    assert fast == outcome(digests._python_records, cells, cents, fits)


@compiled
def test_records_refuse_arrays_of_another_kind_or_length():
    cells = CellArrays.of({(1, 1): 1.0, (1, 2): "a"})
    cents, fits = digests._cents(cells)
    for bad in (cells.rows.astype(np.float64), cells.rows[:1], cells.rows.astype(np.int32)):
        with pytest.raises(ValueError):
            digests._compiled.records(bad, cells.cols, cells.values, cents, fits,
                                      digests._value_bytes)


@compiled
@pytest.mark.parametrize("extensions", [True, False], ids=["sha-extensions", "portable"])
@given(st.lists(st.binary(max_size=200), max_size=40), st.data())
@settings(max_examples=150)
def test_tokens_are_sha256_of_the_salted_record(extensions, records, data):
    formulas = np.array(data.draw(st.lists(st.booleans(), min_size=len(records),
                                           max_size=len(records))), dtype=bool)
    was = digests._compiled.use_sha_extensions(extensions)
    try:
        fast = digests._compiled.tokens(records, formulas, digests._DIGEST_SALT)
    finally:
        digests._compiled.use_sha_extensions(was)
    expected = [("f" if f else "v") + hashlib.sha256(digests._DIGEST_SALT + r).hexdigest()[:8]
                for r, f in zip(records, formulas.tolist(), strict=True)]
    assert fast == expected
    with fingerprints(False):
        assert digests._tokens(records, formulas) == expected


@compiled
def test_tokens_cross_every_block_boundary():
    """Records from empty to several blocks long, the salt and padding straddling each edge."""
    records = [bytes(range(n % 256)) * (1 + n // 256) for n in range(300)]
    formulas = np.zeros(len(records), dtype=bool)
    for extensions in (True, False):
        was = digests._compiled.use_sha_extensions(extensions)
        try:
            got = digests._compiled.tokens(records, formulas, digests._DIGEST_SALT)
        finally:
            digests._compiled.use_sha_extensions(was)
        assert got == ["v" + hashlib.sha256(digests._DIGEST_SALT + r).hexdigest()[:8]
                       for r in records]


@compiled
@given(rows)
@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
def test_sheet_text_is_the_python_sheet_text(grid):
    fast = outcome(digests._compiled.sheet_text, grid, digests._ROW_SEED, digests._input_cell)
    assert fast == outcome(digests._python_sheet_text, grid)


@compiled
def test_sheet_text_remembers_numbers_without_mixing_them_up():
    """Many distinct fractions and repeats of them: the remembered spellings stay each its own."""
    rng = np.random.default_rng(3)
    numbers = (rng.integers(-10**9, 10**9, 200_000) / 1000).tolist()
    grid = [numbers[i:i + 40] + numbers[:3] for i in range(0, len(numbers), 40)]
    fast = digests._compiled.sheet_text(grid, digests._ROW_SEED, digests._input_cell)
    assert fast == digests._python_sheet_text(grid)
    text, crcs = fast
    line = text.split(b"\n")[0].split(b"|", 1)[1]
    assert crcs[1] == f"{zlib.crc32(line, digests._ROW_SEED):08x}"


@given(grids, columns)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_the_seal_is_the_same_on_both_paths(grid, column):
    fast, slow = both(seal, grid, column)
    assert fast == slow


@given(st.dictionaries(st.sampled_from(["Demand", "Prices", "Ünïcode"]), rows))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_the_input_fingerprint_is_the_same_on_both_paths(tables):
    fast, slow = both(inputs_fingerprint, tables)
    assert fast == slow
