"""Deflating worksheet parts, on two processes when they are large.

Writing a large plan is CPU-bound in Python (building the sheet XML, one core), so the
worksheet parts are split between this process and one forked child. Each deflates its share
into an unlinked temporary file beside the workbook; the package is then assembled from those
bytes in its usual entry order. The child is forked before the new workbook's temporary file
is opened, so it never holds that file (or its lock). The compressed bytes do not depend on
which process made them, so the file is the same either way. Where ``os.fork`` is missing
(Windows), the parts are small or ``SOPFIN_WORKERS=1`` is set, everything is deflated here,
one part after another.

A child that fails for any reason leaves its parts to this process, which deflates them again
(an error in the data then surfaces here, with its normal traceback).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

SHEET_COMPRESS_LEVEL = 1  # worksheets are large: 4x faster than level 6 for ~15% more bytes
# Worksheets of a user's workbook are deflated with ISA-L when python-isal is installed (a
# dependency; zlib stays the fallback): on the benchmark plans about 5x faster than zlib at
# level 1, with smaller output. New workbooks (templates, `sopfin new`) keep zlib so that the
# same specs give the same bytes on every machine.
FAST_DEFLATE_LEVEL = 1
PARALLEL_MIN_CELLS = 400_000  # below this a fork costs more than it saves
WORKERS_ENV = "SOPFIN_WORKERS"  # "1": never fork

try:
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - depends on the platform's wheels
    _isal_zlib = None  # type: ignore[assignment]


def deflater(level: int, fast: bool = False) -> Any:
    """A raw-deflate compressor: ISA-L when ``fast`` and available, else zlib at ``level``."""
    if fast and _isal_zlib is not None:
        return _isal_zlib.compressobj(FAST_DEFLATE_LEVEL, zlib.DEFLATED, -15)
    return zlib.compressobj(level, zlib.DEFLATED, -15)


@dataclass(frozen=True)
class Deflated:
    """A part's compressed bytes at ``offset`` of a temporary file, with its zip fields."""

    offset: int
    csize: int
    usize: int
    crc: int


def deflate_into(fh: BinaryIO, chunks: Iterable[bytes], compressor: Any | None,
                 ) -> tuple[int, int, int]:
    """Write ``chunks`` to ``fh`` through ``compressor`` (None: stored as they are); return
    (crc, uncompressed size, written size). zlib and ISA-L release the GIL, so chunk k is
    compressed on a worker thread while the caller's generator builds chunk k+1."""
    crc = usize = csize = 0
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending: Future[bytes] | None = None
        for chunk in chunks:
            crc = zlib.crc32(chunk, crc)
            usize += len(chunk)
            if compressor is None:
                fh.write(chunk)
                csize += len(chunk)
                continue
            if pending is not None:
                csize += _write(fh, pending.result())
            pending = worker.submit(compressor.compress, chunk)
        if pending is not None:
            csize += _write(fh, pending.result())
    if compressor is not None:
        csize += _write(fh, compressor.flush())
    return crc, usize, csize


def _write(fh: BinaryIO, data: bytes) -> int:
    fh.write(data)
    return len(data)


@dataclass(frozen=True)
class DeflateJob:
    """One worksheet part to deflate: its chunks (made when the job runs) and its size in
    cells, which balances the two processes."""

    name: str
    chunks: Callable[[], Iterable[bytes]]
    cells: int


def split_jobs(jobs: Sequence[DeflateJob]) -> tuple[list[DeflateJob], list[DeflateJob]]:
    """(this process's share, the child's share): largest first, each to the lighter side;
    this process takes the lighter side, since it assembles the package afterwards."""
    sides: tuple[list[DeflateJob], list[DeflateJob]] = ([], [])
    loads = [0, 0]
    for job in sorted(jobs, key=lambda j: -j.cells):
        k = 0 if loads[0] <= loads[1] else 1
        sides[k].append(job)
        loads[k] += job.cells
    heavy = 0 if loads[0] > loads[1] else 1
    return sides[1 - heavy], sides[heavy]


def _may_fork(jobs: Sequence[DeflateJob]) -> bool:
    return (hasattr(os, "fork") and os.environ.get(WORKERS_ENV, "").strip() != "1"
            and len(jobs) >= 2 and sum(j.cells for j in jobs) >= PARALLEL_MIN_CELLS)


@contextlib.contextmanager
def deflated_parts(jobs: Sequence[DeflateJob], folder: Path, fast: bool,
                   ) -> Iterator[Callable[[], dict[str, tuple[BinaryIO, Deflated]]]]:
    """Start deflating ``jobs``: the child (if any) is forked on entry; the yielded function
    does this process's share, collects the child's and returns {part name: (temporary file,
    where its bytes are)}. Call it inside ``atomic_replace`` so the child never holds the new
    workbook's file. The temporary files are unlinked (nothing is left if the process is
    killed) and closed on exit; a child still running then is stopped."""
    mine, theirs = split_jobs(jobs) if _may_fork(jobs) else (list(jobs), [])
    with _temporary(folder) as own, _temporary(folder) as shared:
        child = _start_child(theirs, shared, fast) if theirs else None

        def finish() -> dict[str, tuple[BinaryIO, Deflated]]:
            nonlocal child
            ready = {job.name: (own, deflate_job(own, job, fast)) for job in mine}
            if child is None:
                return ready
            done, child = _child_results(*child), None
            for job, result in zip(theirs, done or [], strict=False):
                ready[job.name] = (shared, result)
            for job in theirs[len(done or []):]:  # the child failed: do its share here
                ready[job.name] = (own, deflate_job(own, job, fast))
            return ready

        try:
            yield finish
        finally:
            if child is not None:
                _stop(*child)


def _temporary(folder: Path) -> Any:
    try:
        return tempfile.TemporaryFile(dir=folder)
    except OSError:  # a read-only or odd folder: the system's temporary folder will do
        return tempfile.TemporaryFile()


def deflate_job(fh: BinaryIO, job: DeflateJob, fast: bool) -> Deflated:
    """Deflate ``job`` onto the end of ``fh``; where its bytes are."""
    fh.seek(0, os.SEEK_END)
    offset = fh.tell()
    crc, usize, csize = deflate_into(fh, job.chunks(), deflater(SHEET_COMPRESS_LEVEL, fast))
    return Deflated(offset, csize, usize, crc)


def _start_child(jobs: Sequence[DeflateJob], fh: BinaryIO, fast: bool) -> tuple[int, int]:
    """Fork a child that deflates ``jobs`` into ``fh`` and reports on a pipe; (pid, read fd)."""
    release_free_heap()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        status = 1
        try:
            os.close(read_fd)
            results = [deflate_job(fh, job, fast) for job in jobs]
            fh.flush()
            payload = json.dumps([[r.offset, r.csize, r.usize, r.crc] for r in results])
            with os.fdopen(write_fd, "w") as out:
                out.write(payload)
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    return pid, read_fd


def release_free_heap() -> None:
    """Hand the pages the C heap holds free back to the system (glibc's ``malloc_trim``)
    before the fork: what the steps before the write let go of (the input grids, the
    engine's results, the seal's records) stays mapped otherwise, in this process and,
    shared, in the child. Nothing where the C library has no such call."""
    if not sys.platform.startswith("linux"):
        return
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return
    trim(0)


def _child_results(pid: int, read_fd: int) -> list[Deflated] | None:
    """The child's results, or None when it failed (its share is then redone here)."""
    with os.fdopen(read_fd, "r") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    try:
        return [Deflated(*map(int, item)) for item in json.loads(payload)]
    except (ValueError, TypeError):
        return None


def _stop(pid: int, read_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(read_fd)
    with contextlib.suppress(OSError):
        os.kill(pid, 9)
        os.waitpid(pid, 0)
