"""Deflating worksheet parts, on two processes when they are large.

Writing a large plan is CPU-bound in Python (building the sheet XML, one core), so the
worksheet parts are shared between this process and one forked child. They take the parts
from one queue, costliest first (a pipe holding each part's number, filled before the fork:
whichever process is free takes the next), so neither waits on the other for long whatever
the parts cost; this process takes its first part only once it has done what it does while
the child starts (the spec digests). Each deflates its parts into an unlinked temporary file
beside the workbook; the package is then assembled from those bytes in its usual entry order.
The child is forked before the new workbook's temporary file is opened, so it never holds
that file (or its lock). The compressed bytes do not depend on which process made them, so
the file is the same either way. Where ``os.fork`` is missing (Windows), the parts are small
or ``SOPFIN_WORKERS=1`` is set, everything is deflated here, one part after another.

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
    (crc, uncompressed size, written size). Chunk k is checksummed, compressed and written on
    a worker thread while the caller's generator builds chunk k+1 (zlib and ISA-L release the
    GIL, and so does the file's write); one chunk at most waits for the worker."""
    usize = 0
    out = _Output(fh, compressor)
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending: Future[None] | None = None
        for chunk in chunks:
            usize += len(chunk)
            if pending is not None:
                pending.result()
            pending = worker.submit(out.take, chunk)
        if pending is not None:
            pending.result()
    out.finish()
    return out.crc, usize, out.csize


def crc32(data: bytes | memoryview, value: int = 0) -> int:
    """The zip CRC-32 of ``data`` continued from ``value``: ISA-L's when installed (several
    times faster), else zlib's; the same number either way."""
    return _crc32(data, value)


_crc32 = _isal_zlib.crc32 if _isal_zlib is not None else zlib.crc32


class _Output:
    """A part's bytes on their way into ``fh``: the running CRC-32 and written size. Only
    one thread at a time feeds it, chunk after chunk in order."""

    def __init__(self, fh: BinaryIO, compressor: Any | None) -> None:
        self.fh, self.compressor = fh, compressor
        self.crc = self.csize = 0

    def take(self, chunk: bytes) -> None:
        self.crc = _crc32(chunk, self.crc)
        self._write(chunk if self.compressor is None else self.compressor.compress(chunk))

    def finish(self) -> None:
        if self.compressor is not None:
            self._write(self.compressor.flush())

    def _write(self, data: bytes) -> None:
        self.fh.write(data)
        self.csize += len(data)


@dataclass(frozen=True)
class DeflateJob:
    """One worksheet part to deflate: its chunks (made when the job runs) and what it costs
    to build, in float cells (``sopfin.xlsx.writer``: a cell of text or of a small block
    counts as several), which orders the queue the two processes share."""

    name: str
    chunks: Callable[[], Iterable[bytes]]
    cost: int


def _may_fork(jobs: Sequence[DeflateJob]) -> bool:
    return (hasattr(os, "fork") and os.environ.get(WORKERS_ENV, "").strip() != "1"
            and 2 <= len(jobs) <= _Queue.MAX_JOBS
            and sum(j.cost for j in jobs) >= PARALLEL_MIN_CELLS)


class _Queue:
    """The numbers of the jobs left, in a pipe both processes read: every number is written
    before the fork, and a read of its 4 bytes takes it whole (pipe reads of what is there
    are atomic), so each job goes to exactly one process."""

    ITEM = 4
    MAX_JOBS = 1024  # 4 KiB: a pipe holds at least a page, so the write never waits

    def __init__(self, count: int) -> None:
        self.read_fd, write_fd = os.pipe()
        try:
            os.write(write_fd, b"".join(k.to_bytes(self.ITEM, "little") for k in range(count)))
        finally:
            os.close(write_fd)

    def take(self) -> Iterator[int]:
        """The numbers this process takes, one at a time, until none is left."""
        while len(item := os.read(self.read_fd, self.ITEM)) == self.ITEM:
            yield int.from_bytes(item, "little")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self.read_fd)


@contextlib.contextmanager
def deflated_parts(jobs: Sequence[DeflateJob], folder: Path, fast: bool,
                   ) -> Iterator[Callable[[], dict[str, tuple[BinaryIO, Deflated]]]]:
    """Start deflating ``jobs``: the child (if any) is forked on entry and starts taking jobs;
    the yielded function takes jobs here until none is left, collects the child's and
    returns {part name: (temporary file, where its bytes are)}. Call it inside
    ``atomic_replace`` so the child never holds the new workbook's file. The temporary files
    are unlinked (nothing is left if the process is killed) and closed on exit; a child
    still running then is stopped."""
    order = sorted(jobs, key=lambda j: -j.cost)
    with _temporary(folder) as own, _temporary(folder) as shared:
        queue = _Queue(len(order)) if _may_fork(order) else None
        child = _start_child(order, queue, shared, fast) if queue is not None else None

        def finish() -> dict[str, tuple[BinaryIO, Deflated]]:
            nonlocal child
            taken = queue.take() if queue is not None else iter(range(len(order)))
            ready = {order[k].name: (own, deflate_job(own, order[k], fast)) for k in taken}
            if child is None:
                return ready
            done, child = _child_results(*child), None
            for k, result in done:
                ready[order[k].name] = (shared, result)
            for job in order:  # the child failed: what it took is done here
                if job.name not in ready:
                    ready[job.name] = (own, deflate_job(own, job, fast))
            return ready

        try:
            yield finish
        finally:
            if child is not None:
                _stop(*child)
            if queue is not None:
                queue.close()


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


def _start_child(jobs: Sequence[DeflateJob], queue: _Queue, fh: BinaryIO, fast: bool,
                 ) -> tuple[int, int]:
    """Fork a child that deflates the jobs it takes from ``queue`` into ``fh`` and reports on
    a pipe; (pid, read fd)."""
    release_free_heap()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into the caller's code
        status = 1
        try:
            os.close(read_fd)
            results = [(k, deflate_job(fh, jobs[k], fast)) for k in queue.take()]
            fh.flush()
            payload = json.dumps([[k, r.offset, r.csize, r.usize, r.crc] for k, r in results])
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


def _child_results(pid: int, read_fd: int) -> list[tuple[int, Deflated]]:
    """The child's results by job number; none when it failed (what it took is then done
    here)."""
    with os.fdopen(read_fd, "r") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return []
    try:
        return [(int(item[0]), Deflated(*map(int, item[1:]))) for item in json.loads(payload)]
    except (ValueError, TypeError, IndexError):
        return []


def _stop(pid: int, read_fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(read_fd)
    with contextlib.suppress(OSError):
        os.kill(pid, 9)
        os.waitpid(pid, 0)
