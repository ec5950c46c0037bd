"""A close lets go of what it no longer needs before its peak (sealing and writing the Recon
tab): the input grids once parsed and fingerprinted. Forgotten grids are read again from the
same read of the package when asked, never from the file."""

from __future__ import annotations

from sopfin import layout, pipeline
from sopfin.close.publish import run_close
from sopfin.pipeline import Timings, check_with_finance, read_snapshot, release_raw


def test_released_grids_are_forgotten_and_read_again_alike(demo_copy):
    book = read_snapshot(demo_copy, Timings())
    checked = check_with_finance(book)
    held = book.read_raw_sheets([layout.DEMAND])[layout.DEMAND]
    assert held is checked.raw[layout.DEMAND]  # remembered by the snapshot
    release_raw(checked)
    assert checked.raw == {}
    again = book.read_raw_sheets([layout.DEMAND])[layout.DEMAND]
    assert again is not held
    assert again.rows == held.rows


def test_a_close_keeps_no_input_grid_it_parsed(demo_copy, monkeypatch):
    parsed: dict[str, object] = {}
    parse = pipeline.parse_plan

    def keep(raw, **kwargs):
        parsed.update(raw)
        return parse(raw, **kwargs)

    monkeypatch.setattr(pipeline, "parse_plan", keep)
    book = read_snapshot(demo_copy, Timings())
    result = run_close(book, author="tester")
    assert result.ok and result.version == 1
    assert layout.DEMAND in parsed
    again = book.read_raw_sheets([layout.DEMAND, layout.SUPPLY])
    assert all(again[name] is not parsed[name] for name in again)
