"""A save is all or nothing: killed at any moment, the workbook is either exactly the old
file or a complete new one, never a broken mix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sopfin.sheetspec import Block, SheetSpec
from sopfin.xlsx.atomic import atomic_replace, stale_temp_files
from sopfin.xlsx.writer import (
    WorkbookLockedError,
    create_workbook,
    sheet_names,
    write_sheets,
)

TESTS = Path(__file__).resolve().parent
# The writer runs in its own process, on the import path pyproject gives the tests.
WRITER_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [str(TESTS.parent), str(TESTS), *filter(None, [os.environ.get("PYTHONPATH")])]))
ROWS, COLS = 6000, 60  # 360,000 formula cells: a save that takes a noticeable while
KILL_FRACTIONS = (0.0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.1)


@pytest.fixture
def original(tmp_path: Path) -> Path:
    path = tmp_path / "Plan.xlsx"
    create_workbook(path, [SheetSpec("Demand", owned=False, blocks=[Block(1, 1, [["Family"]])])])
    os.chmod(path, 0o640)
    return path


def temp_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.sopfin-*.tmp"))


def start_writer(path: Path) -> tuple[subprocess.Popen, float]:
    proc = subprocess.Popen([sys.executable, "-m", "xlsx_helpers.slow_writer", str(path),
                             str(ROWS), str(COLS)], stdout=subprocess.PIPE, text=True,
                            env=WRITER_ENV)
    assert proc.stdout.readline().strip() == "start"
    return proc, time.perf_counter()


def assert_old_or_complete_new(path: Path, old: bytes) -> str:
    data = path.read_bytes()
    if data == old:
        return "old"
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None, "a new file with a corrupt entry"
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["Demand", "Big"]
    wb.close()
    assert path.stat().st_mode & 0o777 == 0o640, "the new file lost the original's mode"
    return "new"


def kill_when_temp_appears(path: Path, old: bytes) -> str:
    """Start a save, SIGKILL it as soon as its temp file exists; the outcome as in the test."""
    path.write_bytes(old)
    os.chmod(path, 0o640)
    proc, _ = start_writer(path)
    while not temp_files(path) and proc.poll() is None:
        time.sleep(0.0005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    outcome = assert_old_or_complete_new(path, old)
    return outcome + ("+temp" if temp_files(path) else "")


def test_kill_at_any_moment_leaves_old_or_new(original: Path):
    old = original.read_bytes()
    # An uninterrupted save, to learn how long one takes on this machine.
    proc, started = start_writer(original)
    assert proc.stdout.readline().strip() == "done"
    duration = time.perf_counter() - started
    assert proc.wait() == 0
    assert assert_old_or_complete_new(original, old) == "new"

    seen = []
    for fraction in KILL_FRACTIONS:
        original.write_bytes(old)
        os.chmod(original, 0o640)
        proc, started = start_writer(original)
        time.sleep(max(0.0, started + fraction * duration - time.perf_counter()))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcome = assert_old_or_complete_new(original, old)
        seen.append(outcome + ("+temp" if temp_files(original) else ""))
    assert "old" in {s.split("+")[0] for s in seen}, f"never killed before the rename: {seen}"
    # Fixed fractions of a save may all miss the moment the temp file is being written (how
    # long the save spends before opening it depends on the machine): kill once more the
    # moment the temp file appears, which lands mid-write unless the save ends first.
    mid_write = [kill_when_temp_appears(original, old) for _ in range(3)]
    assert "old+temp" in seen + mid_write, \
        f"no kill landed mid-write: {seen}, {mid_write} (save {duration:.2f}s)"

    # Leftovers of killed saves do not disturb the next run, which clears them away.
    original.write_bytes(old)
    report = write_sheets(original, [SheetSpec("Cash", blocks=[Block(1, 1, [[1.0]])])])
    assert report.added == ("Cash",)
    assert sheet_names(original) == ["Demand", "Cash"]
    assert temp_files(original) == []


def test_exception_mid_save_leaves_the_file_and_no_temp(original: Path):
    old = original.read_bytes()
    with pytest.raises(RuntimeError, match="disk on fire"), atomic_replace(original) as fh:
        fh.write(b"half a workbook")
        assert len(temp_files(original)) == 1
        raise RuntimeError("disk on fire")
    assert original.read_bytes() == old
    assert temp_files(original) == []


def test_unwritable_spec_leaves_the_file_and_no_temp(original: Path):
    old = original.read_bytes()
    broken = SheetSpec("Cash", blocks=[Block(1, 1, [[1.0, 2.0]], formulas=[["A1"]])])
    with pytest.raises(ValueError, match="formulas shape"):
        write_sheets(original, [broken])
    assert original.read_bytes() == old and temp_files(original) == []


def test_failure_while_streaming_a_sheet_leaves_the_file(original: Path):
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("cannot render this value")

    old = original.read_bytes()
    with pytest.raises(RuntimeError, match="cannot render"):
        write_sheets(original, [SheetSpec("Cash", blocks=[Block(1, 1, [[Unprintable()]])])])
    assert original.read_bytes() == old and temp_files(original) == []


def test_a_live_writers_temp_file_is_not_stale(original: Path):
    with atomic_replace(original) as fh:
        fh.write(b"in progress")
        assert stale_temp_files(original) == []  # held by this (live) writer
        dead = original.parent / f".{original.name}.sopfin-deadbeef.tmp"
        dead.write_bytes(b"left by a killed run")
        assert stale_temp_files(original) == [dead]
        fh.write(b"!")
    assert original.read_bytes() == b"in progress!"


def test_symlinked_workbook_stays_a_symlink(original: Path, tmp_path: Path):
    link = tmp_path / "link.xlsx"
    link.symlink_to(original)
    write_sheets(link, [SheetSpec("Cash")])
    assert link.is_symlink() and sheet_names(original) == ["Demand", "Cash"]


def test_new_file_gets_the_usual_mode(tmp_path: Path):
    umask = os.umask(0o022)
    try:
        create_workbook(tmp_path / "new.xlsx", [SheetSpec("Cash")])
    finally:
        os.umask(umask)
    assert (tmp_path / "new.xlsx").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("lock", ["~$Plan.xlsx", ".~lock.Plan.xlsx#"])
def test_lock_files_are_refused_before_any_temp_file(original: Path, lock: str):
    (original.parent / lock).write_text("user")
    old = original.read_bytes()
    with pytest.raises(WorkbookLockedError, match="close it in Excel/LibreOffice first"):
        write_sheets(original, [SheetSpec("Cash")])
    assert original.read_bytes() == old and temp_files(original) == []
