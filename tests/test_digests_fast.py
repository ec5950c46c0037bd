"""The fast content fingerprints give byte-for-byte what the straightforward ones gave.

``tests/digests_reference.py`` keeps the functions as they were before the fast path; here
they are compared with ``sopfin.close.digests`` and ``sopfin.render.recon`` on generated cells
(numbers at the cent-rounding edges, NaN, infinities, huge and tiny, ints, bools, numpy
scalars, NFC and NFD text, formulas, errors, dates) and on real closes of the demo workbook
and the S benchmark plan: every hash stored on a ledger must stay what it was, or workbooks
closed before would no longer verify.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from digests_reference import (
    reference_canonical_cells,
    reference_cell_digests,
    reference_cell_value,
    reference_content_hash,
    reference_digest_cells,
    reference_finalize_recon,
    reference_inputs_hash,
    reference_number,
    reference_recon_cells,
    reference_seal,
)
from sopfin import layout
from sopfin.close import digests
from sopfin.close import ledger as versions
from sopfin.close.digests import (
    DIGEST_MARKER,
    FormulaCell,
    canonical_cells,
    cell_digests,
    content_hash,
    digest_cells,
    inputs_fingerprint,
    inputs_hash,
    seal,
)
from sopfin.model import XlError
from sopfin.render import recon_seal, recon_tab
from sopfin.sheetspec import Block, SheetSpec, Style

# --- generated values ---------------------------------------------------------------------

EDGE_FLOATS = (
    0.0, -0.0, 0.005, -0.005, 0.015, 1.005, 2.675, 12.345, -12.345, 0.125, 1234567.785,
    1e-9, -1e-9, 5e-324, -5e-324, 2.2250738585072014e-308, 0.004999999999999999,
    1e15 - 0.5, 1e15 - 0.125, 1e15, -1e15, 1e15 + 2.0, 2.0**53 + 2, 2.0**63, -(2.0**63),
    1e17, 1e300, 1.7e306, 1.8e306, 1e307, 1.7976931348623157e308, math.inf, -math.inf,
    math.nan,
)
NFC_NFD = ("é", "e\u0301", "Å", "A\u030a", "한", "\u1112\u1161\u11ab", "ﬁ", "Ω", "\u2126",
           "naïve", "nai\u0308ve", "", " ", "Rev", "a\r\nb", "tab\there", "\x00nul",
           f"{DIGEST_MARKER} B=v12345678", f"{DIGEST_MARKER}", "x" * 40000, "é" * 33000)

cent_edges = st.integers(-10**13, 10**13).map(lambda k: (k + 0.5) / 100)


def _ulps_away(amount: float, steps: int) -> float:
    for _ in range(abs(steps)):
        amount = math.nextafter(amount, math.copysign(math.inf, steps))
    return amount


near_edges = st.builds(lambda k, steps: _ulps_away(k / 100 + 0.005, steps),
                       st.integers(-10**11, 10**11), st.integers(-4, 4))
floats = st.one_of(st.sampled_from(EDGE_FLOATS), st.floats(), cent_edges, near_edges,
                   st.floats(-1e16, 1e16))
ints = st.one_of(st.integers(-10**6, 10**6), st.integers(-2**70, 2**70),
                 st.sampled_from([2**63, -(2**63), 10**400]))
numpy_scalars = st.one_of(floats.map(np.float64), st.floats(-1e6, 1e6).map(np.float32),
                          st.integers(-2**62, 2**62).map(np.int64), st.booleans().map(np.bool_))
texts = st.one_of(st.sampled_from(NFC_NFD), st.text(max_size=12))
moments = st.one_of(st.dates(), st.datetimes(), st.times())
errors = st.sampled_from(["#N/A", "#REF!", "#DIV/0!", "#VALUE!", "#NAME?"]).map(XlError)
plain = st.one_of(st.none(), floats, ints, st.booleans(), numpy_scalars, texts, moments, errors)
formulas = st.builds(FormulaCell, st.sampled_from(["=B2*2", "SUM(B2:B9)", "=é+1", "A1"]), plain)
values = st.one_of(plain, formulas)

positions = st.tuples(st.integers(1, 40), st.integers(1, 30)) | st.sampled_from(
    [(1048576, 16384), (7, 26), (7, 27), (99999, 702), (3, 703)])


@st.composite
def spelled(draw, grid: dict[tuple[int, int], object]) -> dict[str, object]:
    """The cells under refs as a user or a reader might spell them: 'B7', 'b7', '$B$7'."""
    out = {}
    for (row, col), value in grid.items():
        letters = layout.column_letter(col)
        style = draw(st.sampled_from(["plain", "lower", "anchored"]))
        ref = {"plain": f"{letters}{row}", "lower": f"{letters.lower()}{row}",
               "anchored": f"${letters}${row}"}[style]
        out[ref] = value
    return out


grids = st.dictionaries(positions, values, max_size=40)
cell_maps = grids.flatmap(spelled)
columns = st.sampled_from(["Z", "z", "C", "AA"])


def outcome(fn, *args):
    """The result of ``fn(*args)``, or the kind of error it raised."""
    try:
        return "ok", fn(*args)
    except (ValueError, TypeError, OverflowError) as exc:
        return "raised", type(exc)


# --- the general functions on {ref: value} ----------------------------------------------

@given(cell_maps)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_canonical_bytes_and_content_hash_match_the_reference(cells):
    assert outcome(canonical_cells, cells) == outcome(reference_canonical_cells, cells)
    assert outcome(content_hash, cells) == outcome(reference_content_hash, cells)


@given(cell_maps, columns)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_cell_digests_and_digest_cells_match_the_reference(cells, column):
    assert outcome(cell_digests, cells) == outcome(reference_cell_digests, cells)
    fast = outcome(digest_cells, cells, column)
    assert fast == outcome(reference_digest_cells, cells, column)
    if fast[0] == "ok":
        assert list(fast[1]) == list(reference_digest_cells(cells, column))  # same order


@given(grids, columns)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_seal_gives_the_digests_and_hash_of_the_two_step_reference(grid, column):
    cells = {layout.cell_name(row, col): v for (row, col), v in grid.items()}

    def reference(cells):
        digests = reference_digest_cells(cells, column)
        return digests, reference_content_hash({**cells, **digests})

    def fast(grid):
        texts, digest = seal(grid, column)
        return {f"{column.upper()}{row}": t for row, t in texts.items()}, digest

    assert outcome(fast, grid) == outcome(reference, cells)


def test_two_spellings_of_one_cell_and_bad_refs_are_refused_alike():
    for cells in ({"B7": 1.0, "$B$7": 2.0}, {"B7": 1.0, "b7": 1.0}, {"7B": 1.0}, {"": 1.0}):
        for fast, reference in ((content_hash, reference_content_hash),
                                (cell_digests, reference_cell_digests)):
            assert outcome(fast, cells) == outcome(reference, cells) == ("raised", ValueError)


def test_the_array_rounding_to_cents_agrees_with_the_scalar_one():
    rng = np.random.default_rng(7)
    amounts = np.concatenate([
        rng.integers(-10**12, 10**12, 150_000) / 100 + 0.005,  # every kind of half cent
        rng.integers(-10**15, 10**15, 50_000) / 1000, rng.uniform(-1e15, 1e15, 50_000),
        rng.normal(0, 1e4, 50_000), np.exp(rng.uniform(-50, 34, 50_000)),
        -np.exp(rng.uniform(-50, 34, 50_000))]).tolist()
    assert all(abs(a) < digests._VECTOR_LIMIT for a in amounts)  # all on the array path
    expected = [int(reference_number(a, exact=False)) for a in amounts]
    n = len(amounts)
    cents, fits = digests._cents(digests.CellArrays(np.ones(n, np.int64), np.arange(1, n + 1),
                                                    amounts))
    assert fits.all()
    assert cents.tolist() == expected


# --- the input grids -----------------------------------------------------------------------

rows = st.lists(st.lists(st.one_of(plain, st.sampled_from([True, 1.0, 1, np.bool_(True),
                                                           0.0, -0.0, False, "1"])),
                         max_size=8), max_size=6)


@given(st.dictionaries(st.sampled_from(["Demand", "Prices", "Ünïcode", "Settings"]), rows))
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_inputs_hash_matches_the_reference(tables):
    assert outcome(inputs_hash, tables) == outcome(reference_inputs_hash, tables)


@given(st.dictionaries(st.sampled_from(["Demand", "Prices", "Settings"]), rows, min_size=1),
       st.data())
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_the_fingerprint_names_the_sheet_and_row_a_change_is_on(tables, data):
    assume(outcome(reference_inputs_hash, tables)[0] == "ok")
    before = inputs_fingerprint(tables)
    assert before.inputs_hash == reference_inputs_hash(tables)
    name = data.draw(st.sampled_from(sorted(tables)))
    grid = [list(row) for row in tables[name]] + [[]]
    row = data.draw(st.integers(0, len(grid) - 1))
    grid[row] = [*grid[row], "changed"]
    after = inputs_fingerprint({**tables, name: grid})
    assert after.inputs_hash != before.inputs_hash
    assert {n for n in tables if after.sheets[n] != before.sheets[n]} == {name}
    was, now = before.rows[name], after.rows[name]
    assert {r for r in set(was) | set(now) if was.get(r) != now.get(r)} == {row + 1}


def test_inputs_hash_tells_true_from_one_though_they_are_equal():
    a = {"S": [[True, 1.0], [1.0, True]]}
    b = {"S": [[1.0, True], [True, 1.0]]}
    assert inputs_hash(a) == reference_inputs_hash(a) != inputs_hash(b) == reference_inputs_hash(b)


# --- the published tab -------------------------------------------------------------------

cell_values = st.one_of(st.none(), floats, ints, st.booleans(), numpy_scalars, texts,
                        st.just(pd.NA), st.just(pd.NaT), moments, errors)


@given(cell_values)
@settings(max_examples=500)
def test_cell_value_matches_the_reference(value):
    fast = outcome(recon_tab.cell_value, value)
    reference = outcome(reference_cell_value, value)
    assert [type(x) for x in fast] == [type(x) for x in reference]
    assert fast == reference


@st.composite
def blocks(draw) -> Block:
    rows, cols = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    row, col = draw(st.integers(1, 14)), draw(st.sampled_from([1, 2, 5, 23, 24, 27]))
    cells = np.empty((rows, cols), dtype=object)
    for i, j in np.ndindex(rows, cols):
        cells[i, j] = draw(cell_values)
    found = None
    if draw(st.booleans()):
        found = np.array([[draw(st.sampled_from([None, "", "=B2*2", "SUM(A1:A3)"]))
                           for _ in range(cols)] for _ in range(rows)], dtype=object)
    return Block(row, col, cells, formulas=found)


def _tab(sealed: tuple[SheetSpec, str]) -> tuple[list[tuple], tuple[int, ...], str]:
    """A sealed tab as comparable data: every block's place, cells, formulas and style."""
    spec, digest = sealed
    blocks = [(b.row, b.col, np.asarray(b.values, dtype=object).tolist(),
               None if b.formulas is None else np.asarray(b.formulas, dtype=object).tolist(),
               b.style if b.style is None or isinstance(b.style, Style) else
               np.asarray(b.style, dtype=object).tolist()) for b in spec.blocks]
    return blocks, spec.hidden_cols, digest


@given(st.lists(blocks(), max_size=6))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_finalize_recon_matches_the_reference_on_random_tabs(found):
    spec = SheetSpec("Recon v001", found)
    fast = outcome(recon_seal.recon_cells, spec)
    assert fast == outcome(reference_recon_cells, spec)
    fast = outcome(lambda s: _tab(recon_seal.finalize_recon(s)), spec)
    assert fast == outcome(lambda s: _tab(reference_finalize_recon(s)), spec)
    if fast[0] == "ok":  # sealing a sealed tab gives it again
        sealed, _ = recon_seal.finalize_recon(spec)
        assert _tab(recon_seal.finalize_recon(sealed)) == fast[1]


# --- real closes -------------------------------------------------------------------------

def _s_plan(path: Path) -> None:
    from sopfin.plan.demo import demo_sheets
    from sopfin.xlsx.writer import create_workbook

    create_workbook(path, demo_sheets(families=50, months=24, channels=("Distributors", "Direct"),
                                      scenarios=("upside", "base", "downside")))


def _demo_plan(path: Path) -> None:
    from sopfin.cli import main

    assert main(["new", str(path), "--demo", "-q"]) == 0


@pytest.mark.parametrize("make_plan", [_demo_plan, _s_plan], ids=["demo", "S"])
def test_a_real_close_stores_the_reference_hashes(make_plan, tmp_path, monkeypatch):
    from sopfin.close import publish, published
    from sopfin.close.verify import run_verify
    from sopfin.xlsx.adapter import FileWorkbook

    path = tmp_path / "plan.xlsx"
    make_plan(path)
    seen: dict[str, object] = {}
    finalize, hash_inputs = publish.finalize_recon, versions.inputs_fingerprint

    def finalize_seen(spec):
        seen["spec"] = spec
        return finalize(spec)

    def inputs_seen(tables):
        seen["tables"] = tables
        return hash_inputs(tables)

    monkeypatch.setattr(publish, "finalize_recon", finalize_seen)
    monkeypatch.setattr(published, "inputs_fingerprint", inputs_seen)
    assert publish.run_close(path, author="A. Analyst").ok
    entry = publish.load_ledger(FileWorkbook(path))[-1]
    digests, recon_hash = reference_seal(seen["spec"])
    assert entry.recon_hash == recon_hash
    assert entry.input_hash == reference_inputs_hash(seen["tables"])
    tab = layout.recon_tab_name(entry.version)
    back = FileWorkbook(path).read_cells([tab])[tab]  # values as verify reads them from XML
    assert reference_content_hash(recon_seal.hashed_cells(back)) == recon_hash
    assert {r: v for r, v in back.items() if r.startswith(layout.RECON_DIGEST_COLUMN)} == digests
    assert cell_digests(back) == reference_cell_digests(back)
    assert run_verify(path).ok


def test_dates_in_a_tab_are_hashed_by_their_iso_text():
    cells = {"A1": date(2027, 1, 31), "A2": datetime(2027, 1, 31, 8, 5), "A3": time(8, 5)}
    assert canonical_cells(cells) == reference_canonical_cells(cells)
    assert b"10:2027-01-31," in canonical_cells(cells)
