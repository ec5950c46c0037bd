"""calamine reads the input sheets on two threads of their own, largest part first, while
the next sheet is screened: a sheet is read only once its part has passed the screen, each
thread reads with a book of its own, the grids are those of one sheet read after another,
and a part the screen refuses stops the reads before calamine reads it or any sheet screened
after it."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest

from hostile_files import edit_part, part_of, rewrite
from sopfin import layout
from sopfin.cli import main
from sopfin.pipeline import CLOSE_INPUT_SHEETS
from sopfin.xlsx import read
from sopfin.xlsx.errors import WorkbookError
from sopfin.xlsx.read import (
    calamine_book,
    calamine_books,
    calamine_rows,
    largest_first,
    parts_calamine_reads,
    sheet_parts,
)
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


def _by_size(path: Path, names) -> list[str]:
    """``names`` in the order the reader screens their parts: largest first."""
    parts = {n: part_of(path, n) for n in names}
    with open_zip(path) as zf:
        order = largest_first(zf, parts.values())
    return sorted(names, key=lambda n: order.index(parts[n]))


def test_each_sheet_is_read_after_its_part_is_screened_on_threads_of_their_own(monkeypatch):
    events = Events(monkeypatch)
    grids = read.read_raw_sheets(VALID, CLOSE_INPUT_SHEETS)
    parts = {n: part_of(VALID, n) for n in grids}
    assert sorted(events.read()) == sorted(grids) and layout.DEMAND in grids and len(grids) > 5
    assert list(grids) == [n for n in CLOSE_INPUT_SHEETS if n in grids]
    screened = [n for k, n, _ in events.log if k == "screened" and n in parts.values()]
    assert screened == [parts[n] for n in _by_size(VALID, list(grids))]
    for name, part in parts.items():
        assert events.at("screened", part) < events.at("read", name), name
    threads = {t for k, _, t in events.log if k == "read"}
    assert threading.current_thread().name not in threads and 1 <= len(threads) <= 2
    assert {n: s.rows for n, s in grids.items()} == _one_after_another(VALID, list(grids))


def test_largest_first_orders_parts_by_inflated_size_keeping_ties_in_order():
    with open_zip(VALID) as zf:
        parts = list(sheet_parts(zf).values())
        order = largest_first(zf, parts)
        sizes = [zf.getinfo(p).file_size for p in order]
        assert largest_first(zf, [parts[1], parts[0], parts[1]]) in (
            [parts[1], parts[1], parts[0]], [parts[0], parts[1], parts[1]])
    assert sorted(order) == sorted(parts) and sizes == sorted(sizes, reverse=True)


def test_two_threads_never_share_a_book_and_read_what_one_thread_reads(monkeypatch):
    """A calamine book reads one sheet at a time: each thread takes a book no other thread is
    reading, at most two books are open, and every grid equals the one-thread read, however
    often the sheets are read."""
    busy: set[int] = set()
    shared: list[str] = []
    lock = threading.Lock()
    sheet = read.calamine_sheet

    def guarded(book, name):
        with lock:
            if id(book) in busy:
                shared.append(name)
            busy.add(id(book))
        try:
            return sheet(book, name)
        finally:
            with lock:
                busy.discard(id(book))

    monkeypatch.setattr(read, "calamine_sheet", guarded)
    names = list(CLOSE_INPUT_SHEETS)
    with open_zip(VALID) as zf:
        parts = sheet_parts(zf)
        book, another = calamine_books(zf, VALID, parts_calamine_reads(zf, parts.values()))
        assert another is not None
        opened: list[object] = [book]

        def one_more():
            opened.append(another())
            return opened[-1]

        present = [n for n in names if n in book.sheet_names]
        with read._SheetReader(book, one_more) as reader:
            for _ in range(5):
                reader.read(present * 2)
                grids = {n: read._normalised(read.sheet_rows(sheet.result()))
                         for n, sheet in reader.in_turn(present)}
    assert shared == [] and 1 <= len(opened) <= read.READ_THREADS
    assert grids == _one_after_another(VALID, present)


@pytest.mark.parametrize("refused", [layout.SUPPLY, layout.BUDGET])
def test_a_refused_part_stops_the_reads_before_calamine_reads_it_or_what_follows(
        tmp_path, monkeypatch, capsys, refused):
    """A cell past Excel's grid on the second part screened (Supply) or a later one (Budget):
    the sheets screened before it may have been read, it and the sheets screened after it
    are not, no read is left running, and the refusal is the screen's one line, exit 2."""
    path = tmp_path / "far.xlsx"
    part = part_of(VALID, refused)
    rewrite(VALID, path, edit_part(part, lambda d: d.replace(
        b"</sheetData>", b'<row r="1048577"><c r="A1048577"><v>1</v></c></row></sheetData>', 1)))
    events = Events(monkeypatch)
    with pytest.raises(WorkbookError, match="beyond Excel's grid"):
        read.read_raw_sheets(path, CLOSE_INPUT_SHEETS)
    with open_zip(VALID) as zf:
        order = _by_size(VALID, [n for n in CLOSE_INPUT_SHEETS if n in sheet_parts(zf)])
    after = order[order.index(refused):]
    assert len(after) < len(order) and not set(events.read()) & set(after), events.read()
    assert ("screened", part) not in {(k, n) for k, n, _ in events.log}
    assert not any(t.name.startswith("calamine") for t in threading.enumerate())
    assert main(["check", str(path), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and part in err[0] and "beyond Excel's grid" in err[0]
    assert not any(t.name.startswith("calamine") for t in threading.enumerate())


def test_a_sheet_calamine_cannot_read_is_refused_naming_its_part(tmp_path, capsys):
    """Broken XML calamine meets on its thread is the same one-line refusal as before."""
    path = tmp_path / "broken.xlsx"
    prices = part_of(VALID, layout.PRICES)
    rewrite(VALID, path, edit_part(prices, lambda d: d.replace(b"</sheetData>", b"</row>", 1)))
    assert main(["check", str(path), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and prices in err[0] and "Traceback" not in err[0]


def test_of_two_sheets_calamine_cannot_read_the_first_in_turn_is_named(tmp_path, capsys):
    """The sheets are taken as their reads finish, but the refusal is always that of the
    first broken sheet in the order asked for (Prices), not of whichever finished first."""
    path = tmp_path / "broken.xlsx"
    prices, supply = part_of(VALID, layout.PRICES), part_of(VALID, layout.SUPPLY)
    first = tmp_path / "prices.xlsx"
    rewrite(VALID, first, edit_part(prices, lambda d: d.replace(b"</sheetData>", b"</row>", 1)))
    rewrite(first, path, edit_part(supply, lambda d: d.replace(b"</sheetData>", b"</row>", 1)))
    for _ in range(3):
        with pytest.raises(WorkbookError, match=re.escape(prices)):
            read.read_raw_sheets(path, CLOSE_INPUT_SHEETS)
    assert main(["check", str(path), "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and prices in err[0] and supply not in err[0]
    assert not any(t.name.startswith("calamine") for t in threading.enumerate())
