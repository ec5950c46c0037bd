"""Worksheet parts deflated on two processes give exactly the bytes of one process."""

from __future__ import annotations

import io
import os
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.sheetspec import Block, SheetSpec, Style
from sopfin.xlsx.deflate import (
    PARALLEL_MIN_CELLS,
    WORKERS_ENV,
    DeflateJob,
    _Queue,
    crc32,
    deflate_into,
    deflated_parts,
    deflater,
)
from sopfin.xlsx.writer import create_workbook, write_sheets

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork here")


def _job(name: str, cost: int, payload: bytes = b"", fail_in_child: int | None = None,
         pause: float = 0.0):
    def chunks():
        if fail_in_child is not None and os.getpid() != fail_in_child:
            raise RuntimeError("the child cannot build this part")
        time.sleep(pause)  # a part that takes a while to build, so both processes take some
        return [payload or name.encode() * 1000, b"<end/>"]
    return DeflateJob(name, chunks, cost)


def _inflate(found) -> dict[str, bytes]:
    out = {}
    for name, (fh, part) in found.items():
        fh.seek(part.offset)
        data = zlib.decompress(fh.read(part.csize), -15)
        assert len(data) == part.usize and zlib.crc32(data) == part.crc
        out[name] = data
    return out


def test_each_job_number_is_taken_once_by_whichever_reader_asks_first():
    queue = _Queue(7)
    try:
        mine, theirs = queue.take(), queue.take()
        taken = [next(mine), next(theirs), next(theirs), next(mine)]
        assert taken == [0, 1, 2, 3]
        assert list(theirs) == [4, 5, 6] and list(mine) == []
    finally:
        queue.close()


def test_too_many_parts_for_the_queue_are_deflated_here(tmp_path: Path):
    jobs = [_job(f"p{i}", PARALLEL_MIN_CELLS) for i in range(_Queue.MAX_JOBS + 1)]
    with deflated_parts(jobs, tmp_path, fast=True) as deflate_all:
        found = deflate_all()
    assert len({id(fh) for fh, _ in found.values()}) == 1 and len(found) == len(jobs)


@needs_fork
def test_both_processes_deflate_every_part(tmp_path: Path):
    jobs = [_job(f"sheet{i}.xml", PARALLEL_MIN_CELLS * (i + 1), os.urandom(50_000) * 3, pause=0.2)
            for i in range(4)]
    found = _inflate_ctx(jobs, tmp_path)
    assert found == {j.name: b"".join(j.chunks()) for j in jobs}


def _inflate_ctx(jobs, folder: Path) -> dict[str, bytes]:
    with deflated_parts(jobs, folder, fast=True) as deflate_all:
        found = deflate_all()
        assert len({id(fh) for fh, _ in found.values()}) == 2  # both processes wrote parts
        return _inflate(found)


@needs_fork
def test_a_child_that_fails_leaves_its_parts_to_this_process(tmp_path: Path):
    me = os.getpid()
    jobs = [_job(f"p{i}", PARALLEL_MIN_CELLS, fail_in_child=me) for i in range(3)]
    with deflated_parts(jobs, tmp_path, fast=False) as deflate_all:
        assert _inflate(deflate_all()) == {j.name: b"".join(j.chunks()) for j in jobs}
    assert list(tmp_path.iterdir()) == []  # the temporary files are gone


def test_an_error_here_propagates_and_nothing_is_left(tmp_path: Path):
    def broken():
        raise ValueError("block at row 3 overlaps")
    jobs = [DeflateJob("big", broken, PARALLEL_MIN_CELLS * 2), _job("small", 10)]
    with pytest.raises(ValueError, match="overlaps"), \
            deflated_parts(jobs, tmp_path, True) as deflate_all:
        deflate_all()
    assert list(tmp_path.iterdir()) == []


def _big_sheets() -> list[SheetSpec]:
    rng = np.random.default_rng(7)
    specs = []
    for k, name in enumerate(("Revenue", "COGS", "Inventory")):
        values = np.round(rng.random((4000, 40)) * 1e6) / 100
        formulas = np.array([[f"A{r}*{k + 2}" for _ in range(40)] for r in range(4000)],
                            dtype=object)
        specs.append(SheetSpec(name, [Block(1, 1, values, formulas, Style.MONEY)]))
    return specs


@needs_fork
def test_a_workbook_written_by_two_processes_is_byte_identical(tmp_path: Path, monkeypatch):
    specs = _big_sheets()
    assert sum(b.shape[0] * b.shape[1] for s in specs for b in s.blocks) >= PARALLEL_MIN_CELLS
    files = {}
    for workers in ("1", "2"):
        path = tmp_path / f"w{workers}.xlsx"
        create_workbook(path, [SheetSpec("Inputs", [Block(1, 1, [["x"]])], owned=False)])
        monkeypatch.setenv(WORKERS_ENV, workers)
        before = os.times().children_user
        write_sheets(path, specs)
        files[workers] = path.read_bytes()
        forked = os.times().children_user > before  # a child did part of the work
        assert forked == (workers == "2")
    assert files["1"] == files["2"]


@pytest.mark.skipif(not hasattr(os, "copy_file_range"), reason="no os.copy_file_range here")
def test_a_copy_the_system_gives_up_half_way_is_finished_here(tmp_path: Path, monkeypatch):
    specs = [SheetSpec(f"S{k}", [Block(1, 1, np.arange(k, 60_000.0 + k).reshape(-1, 20),
                                       None, Style.UNITS)]) for k in range(3)]
    made = {}
    real = os.copy_file_range
    for mode in ("kernel", "gives up", "refused"):
        path = tmp_path / f"{mode}.xlsx"
        create_workbook(path, [SheetSpec("Inputs", [Block(1, 1, [["x"]])], owned=False)])
        calls = []

        def flaky(src, dst, count, offset_src, offset_dst, mode=mode, calls=calls):
            calls.append(count)
            if mode == "refused" or (mode == "gives up" and len(calls) > 1):
                raise OSError(18, "Invalid cross-device link")
            return real(src, dst, min(count, 1000), offset_src, offset_dst)

        monkeypatch.setattr(os, "copy_file_range", flaky)
        write_sheets(path, specs)
        made[mode] = path.read_bytes()
        assert calls  # the kernel was asked each time
    assert made["kernel"] == made["gives up"] == made["refused"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=3000), max_size=6), st.integers(0, 2**32 - 1))
def test_the_crc_is_zlibs_for_any_bytes_continued_from_any_value(chunks, seed):
    crc, want = seed, seed
    for chunk in chunks:
        crc, want = crc32(chunk, crc), zlib.crc32(chunk, want)
    assert crc == want


@pytest.mark.parametrize("fast", [True, False])
@pytest.mark.parametrize("stored", [True, False])
def test_chunks_written_from_the_worker_thread_keep_their_order_size_and_crc(fast, stored):
    rng = np.random.default_rng(7)
    chunks = [rng.integers(0, 40, size=int(n), dtype=np.uint8).tobytes()
              for n in rng.integers(0, 200_000, size=25)]
    fh = io.BytesIO()
    crc, usize, csize = deflate_into(fh, iter(chunks), None if stored else deflater(1, fast))
    whole = b"".join(chunks)
    written = fh.getvalue()
    assert (crc, usize, csize) == (zlib.crc32(whole), len(whole), len(written))
    assert (written if stored else zlib.decompress(written, -15)) == whole
