"""Each command reads the workbook file once: one open for reading, whatever steps it runs.

Opens are counted with a Python audit hook on the ``open`` event (every ``open``, ``Path.open``
and ``os.open`` raises it), so any reader that went back to the file would be counted, not
only the adapter's. Each command runs through the command line on the demo workbook.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

from fake_xlwings import book_with
from plan_tables import base
from sopfin import pipeline
from sopfin.cli import main
from sopfin.close.publish import run_close, run_reconcile
from sopfin.excel.live import LiveWorkbook
from sopfin.xlsx import adapter, source
from sopfin.xlsx.read import RawSheet


class _Reads:
    """Opens for reading of one watched file (its real path), as the audit hook sees them."""

    path: str | None = None
    count = 0


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or _Reads.path is None:
        return
    path, mode, flags = args
    if not isinstance(path, str | bytes | os.PathLike):
        return  # an open file descriptor, not a path
    if os.path.realpath(os.fsdecode(path)) != _Reads.path:
        return
    writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
        mode is None and isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR))
    if not writing:
        _Reads.count += 1


sys.addaudithook(_audit)  # hooks cannot be removed; this one is idle unless a path is watched


@pytest.fixture
def opens(monkeypatch):
    """Run a command line; return how often the workbook was opened for reading, and how
    often the adapter read its package."""
    packages: list[Path] = []
    original = source.read_package

    def counted(path):
        packages.append(Path(path))
        return original(path)

    monkeypatch.setattr(source, "read_package", counted)  # package_of and the CLI's init
    monkeypatch.setattr(adapter, "read_package", counted)  # FileWorkbook.snapshot

    def run(path: Path, *argv: str, expect: int = 0) -> tuple[int, int]:
        _Reads.path, _Reads.count = os.path.realpath(path), 0
        packages.clear()
        try:
            assert main([*argv, "-q"]) == expect
        finally:
            _Reads.path = None
        return _Reads.count, len(packages)

    return run


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("one-read") / "plan.xlsx"
    assert main(["new", str(path), "--demo", "-q"]) == 0
    return path


def test_every_command_opens_the_workbook_once(demo, opens):
    p = str(demo)
    commands = [
        ("check", p), ("dollarize", p), ("reconcile", p),
        ("close", p, "--author", "A. Analyst"),
        ("close", p, "--author", "A. Analyst", "--force"),
        ("approve", p, "--version", "1", "--by", "C. Fo"),
        ("verify", p), ("diff", p, "v1", "v2"), ("init", p),
    ]
    counts = {" ".join(argv[:1] + argv[2:]): opens(demo, *argv) for argv in commands}
    assert counts == {name: (1, 1) for name in counts}


def test_a_nothing_changed_close_and_a_refused_close_also_read_once(demo, opens, tmp_path):
    p = str(demo)
    assert opens(demo, "close", p, "--author", "A. Analyst") == (1, 1)
    assert opens(demo, "close", p, "--author", "A. Analyst") == (1, 1)  # nothing changed
    missing = tmp_path / "absent.xlsx"
    assert opens(missing, "check", str(missing), expect=2) == (0, 1)


def test_verify_reads_each_copy_once(demo, opens, tmp_path):
    other = tmp_path / "other.xlsx"
    other.write_bytes(demo.read_bytes())
    assert opens(demo, "verify", str(demo), str(other)) == (1, 2)  # demo once, other once


def test_a_snapshot_is_not_written_over_a_file_changed_since_its_read(demo, tmp_path):
    """Another run saves the file between the snapshot's read and its write: the write is
    refused and the other run's save is kept as it is."""
    from sopfin.pipeline import check_with_finance, plan_outputs
    from sopfin.xlsx.errors import WorkbookChangedError
    from sopfin.xlsx.writer import sheet_names

    path = tmp_path / "plan.xlsx"
    path.write_bytes(demo.read_bytes())
    snapshot = adapter.FileWorkbook(path).snapshot()
    specs = plan_outputs(check_with_finance(snapshot)).specs
    assert specs
    assert main(["reconcile", str(path), "-q"]) == 0  # the other run writes the file
    saved = path.read_bytes()
    with pytest.raises(WorkbookChangedError):
        snapshot.write_sheets(specs)
    assert path.read_bytes() == saved and "Revenue" in sheet_names(path)


class _CountingLive(LiveWorkbook):
    """The live adapter over a fake Excel book, counting what a command asks the book."""

    def __init__(self, book: object) -> None:
        super().__init__(book)
        self.asked: Counter[str] = Counter()

    def sheet_names(self) -> list[str]:
        self.asked["sheet list"] += 1
        return super().sheet_names()

    def owned_sheet_names(self) -> set[str]:
        self.asked["owned sheets"] += 1
        return super().owned_sheet_names()

    def read_raw_sheets(self, names: Iterable[str]) -> Mapping[str, RawSheet]:
        names = list(names)
        self.asked.update(f"grid {n}" for n in names)
        return super().read_raw_sheets(names)


def test_a_book_open_in_excel_is_read_once_per_command_too():
    """The same snapshot over a book open in Excel: each fact and each sheet's grid is read
    from the book once per command, however many steps ask."""
    book = book_with(base())
    assert pipeline.run_dollarize(LiveWorkbook(book)).ok
    for run in (pipeline.run_dollarize, run_reconcile, run_close,
                lambda live: run_close(live, force=True)):
        live = _CountingLive(book)
        assert run(live).ok
        assert live.asked and max(live.asked.values()) == 1, live.asked


def test_a_file_over_the_package_limit_is_refused_without_being_read(demo, opens, monkeypatch,
                                                                     capsys):
    monkeypatch.setenv("SOPFIN_MAX_PACKAGE_BYTES", "10K")
    assert opens(demo, "check", str(demo), expect=2) == (0, 1)
    assert "over the 10 KiB package limit" in capsys.readouterr().err
