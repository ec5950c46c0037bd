"""calamine reads an input sheet on a thread of its own while the next sheet is screened: a
sheet is read only once its part has passed the screen, the grids are those of one sheet
read after another, and a part the screen refuses stops the read before calamine reads it
or any later sheet."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hostile_files import edit_part, part_of, rewrite
from sopfin import layout
from sopfin.cli import main
from sopfin.pipeline import CLOSE_INPUT_SHEETS
from sopfin.xlsx import read
from sopfin.xlsx.errors import WorkbookError
from sopfin.xlsx.read import calamine_book, calamine_rows, parts_calamine_reads, sheet_parts
from sopfin.xlsx.screen import open_zip

VALID = Path(__file__).resolve().parent / "errors" / "valid.xlsx"


class Events:
    """What the reader did, in order, from whichever thread did it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.log: list[tuple[str, str, str]] = []
        screen, sheet = read.screen_inflated, read.calamine_sheet

        def screened(zf, path, names, limits, sheets=(), observe=None):
            out = screen(zf, path, names, limits, sheets, observe)
            self.log += [("screened", n, threading.current_thread().name) for n in names]
            return out

        def calamine(book, name):
            self.log.append(("read", name, threading.current_thread().name))
            return sheet(book, name)

        monkeypatch.setattr(read, "screen_inflated", screened)
        monkeypatch.setattr(read, "calamine_sheet", calamine)

    def at(self, kind: str, name: str) -> int:
        return next(i for i, (k, n, _) in enumerate(self.log) if (k, n) == (kind, name))

    def read(self) -> list[str]:
        return [n for k, n, _ in self.log if k == "read"]


def _one_after_another(path: Path, names) -> dict[str, list[list[object]]]:
    """The grids as calamine gives them reading each sheet in turn on this thread."""
    with open_zip(path) as zf:
        parts = sheet_parts(zf)
        wanted = [parts[n] for n in names if n in parts]
        book = calamine_book(zf, path, parts_calamine_reads(zf, wanted))
        return {n: read._normalised(calamine_rows(book, n)) for n in names
                if n in book.sheet_names}


def test_each_sheet_is_read_after_its_part_is_screened_on_a_thread_of_its_own(monkeypatch):
    events = Events(monkeypatch)
    grids = read.read_raw_sheets(VALID, CLOSE_INPUT_SHEETS)
    parts = {n: part_of(VALID, n) for n in grids}
    assert events.read() == list(grids) and layout.DEMAND in grids and len(grids) > 5
    for name, part in parts.items():
        assert events.at("screened", part) < events.at("read", name), name
    threads = {t for k, _, t in events.log if k == "read"}
    assert threading.current_thread().name not in threads and len(threads) == 1
    assert {n: s.rows for n, s in grids.items()} == _one_after_another(VALID, list(grids))


def test_a_refused_part_stops_the_read_before_calamine_reads_it_or_what_follows(
        tmp_path, monkeypatch, capsys):
    """A cell past Excel's grid on Budget: the sheets before it may have been read, Budget
    and the sheets after it are not, and the refusal is the screen's one line, exit 2."""
    path = tmp_path / "far.xlsx"
    budget = part_of(VALID, layout.BUDGET)
    rewrite(VALID, path, edit_part(budget, lambda d: d.replace(
        b"</sheetData>", b'<row r="1048577"><c r="A1048577"><v>1</v></c></row></sheetData>', 1)))
    events = Events(monkeypatch)
    with pytest.raises(WorkbookError, match="beyond Excel's grid"):
        read.read_raw_sheets(path, CLOSE_INPUT_SHEETS)
    after = CLOSE_INPUT_SHEETS[CLOSE_INPUT_SHEETS.index(layout.BUDGET):]
    assert not set(events.read()) & set(after), events.read()
    assert ("screened", budget) not in {(k, n) for k, n, _ in events.log}
    assert main(["check", str(path), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and budget in err[0] and "beyond Excel's grid" in err[0]
    assert not any(t.name.startswith("calamine") for t in threading.enumerate())


def test_a_sheet_calamine_cannot_read_is_refused_naming_its_part(tmp_path, capsys):
    """Broken XML calamine meets on its thread is the same one-line refusal as before."""
    path = tmp_path / "broken.xlsx"
    prices = part_of(VALID, layout.PRICES)
    rewrite(VALID, path, edit_part(prices, lambda d: d.replace(b"</sheetData>", b"</row>", 1)))
    assert main(["check", str(path), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and prices in err[0] and "Traceback" not in err[0]
