"""Two writers at once lose nothing: one holds the workbook's lock, the other waits or refuses,
and a file that another program changed mid-run is never saved over."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sopfin import layout
from sopfin.cli import main
from sopfin.close import ledger as versions
from sopfin.close.publish import load_ledger, run_close
from sopfin.close.verify import run_verify
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.errors import WorkbookChangedError
from sopfin.xlsx.lock import WAIT_ENV, exclusive, lock_path_of
from sopfin.xlsx.writer import WorkbookError, sheet_names

PUBLISHED = re.compile(r"published Recon v(\d{3}) \(draft\).*ledger head ([0-9a-f]{64})")
BUSY = "another sopfin run is writing it"
HOLDER = """
import sys, time
from sopfin.xlsx.lock import exclusive
with exclusive(sys.argv[1]):
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def plan(demo_copy: Path) -> Path:
    return demo_copy


def start_close(path: Path, wait: float | None) -> subprocess.Popen:
    env = dict(os.environ)
    env.pop(WAIT_ENV, None)
    if wait is not None:
        env[WAIT_ENV] = str(wait)
    # --force: the closes share inputs and author, and each is meant to publish a version
    return subprocess.Popen([sys.executable, "-m", "sopfin.cli", "close", str(path), "-q",
                             "--force"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def leftovers(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir() if p.name.startswith(f".{path.name}"))


def published_in_file(path: Path) -> dict[int, str]:
    """{version: its publish entry hash} as the final file records them."""
    return {e.version: e.entry_hash for e in load_ledger(FileWorkbook(path))
            if e.event == versions.PUBLISH}


def run_concurrent_closes(path: Path, waits: list[float | None]) -> list[tuple]:
    procs = [start_close(path, wait) for wait in waits]
    out = []
    for wait, proc in zip(waits, procs, strict=True):
        stdout, stderr = proc.communicate(timeout=300)
        out.append((wait, proc.returncode, stdout, stderr))
    return out


def assert_nothing_lost(path: Path, runs: list[tuple], before: frozenset[int] = frozenset(),
                        ) -> set[int]:
    """Every run that said 'published vNNN' has its version (and its head) in the final file;
    every other run exited non-zero saying why."""
    printed: dict[int, str] = {}
    for wait, code, stdout, stderr in runs:
        assert "Traceback" not in stderr
        match = PUBLISHED.search(stdout)
        if code == 0:
            assert match, stdout
            assert int(match.group(1)) not in printed, "two runs published the same version"
            printed[int(match.group(1))] = match.group(2)
        else:
            assert code == 2 and match is None and BUSY in stderr, (code, stdout, stderr)
            assert wait == 0, "a run allowed to wait for the lock refused"
    recorded = published_in_file(path)
    for version, head in printed.items():
        assert recorded.get(version) == head, f"v{version:03d} was printed but is not in the file"
        assert layout.recon_tab_name(version) in sheet_names(path)
    assert set(recorded) == before | set(printed), "the file lists a version nobody printed"
    assert run_verify(path).ok
    assert leftovers(path) == [], "a lock or temporary file was left behind"
    return set(printed)


def test_concurrent_closes_lose_no_published_version(plan: Path):
    # two wait for the lock (long enough for a slow machine), four refuse if it is taken
    runs = run_concurrent_closes(plan, [240, 0, 0, 240, 0, 0])
    published = assert_nothing_lost(plan, runs)
    assert len(published) >= 2 and published == set(range(1, len(published) + 1))


@pytest.mark.slow
def test_many_concurrent_closes_lose_nothing(plan: Path):
    published: set[int] = set()
    for _ in range(3):
        runs = run_concurrent_closes(plan, [600, 0] * 6)
        published |= assert_nothing_lost(plan, runs, frozenset(published))
    assert published == set(range(1, len(published) + 1)) and len(published) >= 18


@contextlib.contextmanager
def held_elsewhere(path: Path) -> Iterator[int]:
    """Another process holds the workbook's lock for the block; yields its pid."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), "30"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        yield holder.pid
    finally:
        holder.kill()
        holder.wait()


def test_a_held_lock_refuses_with_who_holds_it(plan: Path, capsys, monkeypatch):
    monkeypatch.setenv(WAIT_ENV, "0.3")
    old = plan.read_bytes()
    with held_elsewhere(plan) as pid:
        assert main(["dollarize", str(plan), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert BUSY in err and f"pid {pid} on {socket.gethostname()}" in err
    assert len(err.splitlines()) == 1 and plan.read_bytes() == old


def test_a_ribbon_button_holds_the_lock_of_the_books_file(plan: Path, monkeypatch):
    from fake_xlwings import book_with
    from plan_tables import base
    from sopfin.excel import ribbon

    book = book_with(base())
    book.fullname = str(plan)  # the file Excel has open
    monkeypatch.setenv(WAIT_ENV, "0")
    with held_elsewhere(plan):
        message = ribbon.dollarize(book=book)
        help_message = ribbon.help(book=book)  # a button that runs no pipeline step
    assert "dollarize failed, the workbook is unchanged" in message and BUSY in message
    assert "help failed" in help_message and BUSY in help_message
    assert ribbon.HELP_SHEET not in [s.name for s in book.sheets]
    assert layout.REVENUE not in [s.name for s in book.sheets]
    assert ribbon.dollarize(book=book).startswith("sopfin: wrote Revenue")
    assert leftovers(plan) == []


def write_lock(path: Path, pid: int, host: str, age: float) -> Path:
    lock = lock_path_of(path)
    lock.write_text(json.dumps({"pid": pid, "host": host, "since": time.time() - age}))
    return lock


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


@pytest.mark.parametrize("host, age", [("same", 5.0), ("elsewhere.example", 7200.0)])
def test_a_stale_lock_is_taken_over(plan: Path, host: str, age: float):
    pid = dead_pid() if host == "same" else os.getpid()
    lock = write_lock(plan, pid, socket.gethostname() if host == "same" else host, age)
    with exclusive(plan, wait=0):
        assert json.loads(lock.read_text())["pid"] == os.getpid()
    assert not lock.exists()


def test_a_recent_lock_from_another_host_is_respected(plan: Path):
    write_lock(plan, os.getpid(), "elsewhere.example", 60.0)
    busy = f"{BUSY} \\(pid {os.getpid()} on elsewhere"
    with pytest.raises(WorkbookError, match=busy), exclusive(plan, wait=0.2):
        pass


def test_a_symlink_and_its_target_share_one_lock(plan: Path, tmp_path: Path):
    link = tmp_path / "elsewhere" / "link.xlsx"
    link.parent.mkdir()
    link.symlink_to(plan)
    assert lock_path_of(link) == lock_path_of(plan) == plan.with_name(".plan.xlsx.sopfin-lock")


def replace_with(path: Path, other: Path):
    """A progress callback that, when the close is about to publish, has another program save
    the workbook (a new file renamed over it, as Excel and LibreOffice do)."""

    def progress(message: str) -> None:
        if message == "publish...":
            staged = path.with_name("staged-by-another-program.xlsx")
            shutil.copyfile(other, staged)
            os.replace(staged, path)

    return progress


def rewrite_in_place(path: Path, other: Path):
    def progress(message: str) -> None:
        if message == "publish...":
            path.write_bytes(other.read_bytes())

    return progress


@pytest.mark.parametrize("change", [replace_with, rewrite_in_place])
def test_a_file_changed_mid_close_is_not_saved_over(plan: Path, tmp_path: Path, change):
    other = tmp_path / "other.xlsx"
    shutil.copyfile(plan, other)
    assert main(["dollarize", str(other), "-q"]) == 0  # what the other program saved
    with pytest.raises(WorkbookChangedError, match="changed by another program"):
        run_close(plan, progress=change(plan, other))
    assert plan.read_bytes() == other.read_bytes()
    assert leftovers(plan) == []


def test_one_command_may_save_twice_under_its_own_lock(plan: Path):
    from sopfin.sheetspec import SheetSpec
    from sopfin.xlsx.writer import write_sheets

    with exclusive(plan):
        write_sheets(plan, [SheetSpec("Scratch A")])
        write_sheets(plan, [SheetSpec("Scratch B")])
    assert sheet_names(plan)[-2:] == ["Scratch A", "Scratch B"]
