"""The package a command opens once (``sopfin.xlsx.source``): read from the open file a span
or a stream at a time, it gives the same bytes as the package held whole, keeps giving the
file as it was opened when the file is replaced, and refuses a file written into meanwhile.
"""

from __future__ import annotations

import gc
import io
import os
import warnings
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.cli import main
from sopfin.xlsx import source
from sopfin.xlsx.errors import WorkbookChangedError
from sopfin.xlsx.partdigest import entry_digest, stored_digest
from sopfin.xlsx.readback import sheet_part_digests
from sopfin.xlsx.source import HOLD_WHOLE, OpenPackage, read_package

pytestmark = pytest.mark.skipif(HOLD_WHOLE, reason="this platform holds the package whole")

PARTS = {f"xl/worksheets/sheet{k}.xml": (f"<row r='{k}'>" * (200 * k + 1)).encode()
         for k in range(1, 6)}


def _package(folder: Path, parts: dict[str, bytes] = PARTS) -> Path:
    path = folder / "book.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return path


@pytest.fixture
def book(tmp_path: Path) -> Path:
    return _package(tmp_path)


def test_the_package_is_served_from_the_open_file_not_held(book):
    package = read_package(book)
    assert isinstance(package.data, OpenPackage)
    assert isinstance(read_package(book, hold=True).data, bytes)


def test_a_stream_gives_the_whole_file_and_the_held_bytes(book):
    whole = book.read_bytes()
    assert read_package(book).stream().read() == whole
    assert read_package(book, hold=True).stream().read() == whole
    assert len(read_package(book).data) == len(whole)


@settings(max_examples=200, deadline=None)
@given(start=st.integers(-50, 2_000), stop=st.integers(-50, 2_000) | st.none())
def test_any_span_reads_as_the_same_span_of_the_bytes(tmp_path_factory, start, stop):
    path = _package(tmp_path_factory.mktemp("spans"))
    whole = path.read_bytes()
    assert read_package(path).data[start:stop] == whole[start:stop]


def test_a_stepped_span_or_an_index_is_refused(book):
    data = read_package(book).data
    assert isinstance(data, OpenPackage)
    with pytest.raises(TypeError):
        data[::2]
    with pytest.raises(TypeError):
        data[3]  # type: ignore[call-overload]


def test_streams_keep_positions_of_their_own(book):
    whole = book.read_bytes()
    package = read_package(book)
    one, two = package.stream(), package.stream()
    assert one.read(10) == whole[:10]
    two.seek(-20, io.SEEK_END)
    assert one.read(10) == whole[10:20]
    assert two.read() == whole[-20:]
    one.seek(5)
    assert one.tell() == 5 and one.read(3) == whole[5:8]


def test_zip_readers_on_two_streams_read_every_part(book):
    package = read_package(book)
    with zipfile.ZipFile(package.stream()) as a, zipfile.ZipFile(package.stream()) as b:
        for name, data in PARTS.items():
            with a.open(name) as first:
                assert first.read(7) == data[:7]
                assert b.read(name) == data
                assert first.read() == data[7:]


def test_part_digests_are_those_of_the_bytes_held(book):
    package = read_package(book)
    whole = memoryview(book.read_bytes())
    with zipfile.ZipFile(book) as zf:
        for info in zf.infolist():
            assert entry_digest(package.data, info) == entry_digest(whole, info)
            assert stored_digest(package.data, info) == stored_digest(whole, info)
            assert stored_digest(package.data, info) is not None


def test_a_replaced_file_still_reads_as_opened(tmp_path, book):
    whole = book.read_bytes()
    package = read_package(book)
    (tmp_path / "other").mkdir()
    other = _package(tmp_path / "other", {"xl/other.xml": b"<other/>"})
    os.replace(other, book)  # a save by rename, as sopfin's own and the apps' are
    assert package.stream().read() == whole
    assert package.data[:] == whole


def test_a_file_written_into_is_refused(book):
    package = read_package(book)
    with book.open("ab") as fh:
        fh.write(b"more")
    with pytest.raises(WorkbookChangedError):
        package.stream()
    with pytest.raises(WorkbookChangedError):
        package.data[:4]


def test_a_file_touched_in_place_is_refused(book):
    package = read_package(book)
    st_before = book.stat()
    os.utime(book, ns=(st_before.st_atime_ns, st_before.st_mtime_ns + 1_000_000_000))
    with pytest.raises(WorkbookChangedError):
        package.stream()


def test_sheet_digests_of_a_changed_file_are_refused(book):
    package = read_package(book)
    with book.open("ab") as fh:
        fh.write(b"more")
    with pytest.raises(WorkbookChangedError):
        sheet_part_digests(package, ["Sheet1"])


def test_the_file_is_closed_when_the_package_and_its_streams_are_gone(book):
    package = read_package(book)
    data = package.data
    assert isinstance(data, OpenPackage)
    fd = data.fd
    stream = package.stream()
    del package, data
    gc.collect()
    os.fstat(fd)  # the stream still reads it
    assert stream.read(2) == b"PK"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del stream  # never closed by its reader: dropped, without a warning
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]
    with pytest.raises(OSError):
        os.fstat(fd)


def test_close_closes_the_file_at_once(book):
    data = read_package(book).data
    assert isinstance(data, OpenPackage)
    data.close()
    with pytest.raises(OSError):
        os.fstat(data.fd)
    with pytest.raises(ValueError):
        data[:4]  # never a read of whatever file the number names next


def test_a_stream_reads_the_same_with_or_without_reads_into_its_buffer(book, monkeypatch):
    whole = book.read_bytes()
    monkeypatch.setattr(source, "_PREADV", False)
    stream = read_package(book).stream()
    stream.seek(100)
    assert stream.read(5000) == whole[100:5100] and stream.read() == whole[5100:]


def _open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="no /proc to count files")
def test_a_package_held_whole_keeps_no_file_open(book):
    before = _open_descriptors()
    held = read_package(book, hold=True)
    assert _open_descriptors() == before
    opened = read_package(book)
    assert _open_descriptors() == before + 1
    assert held.stream().read() == opened.stream().read()


@pytest.mark.parametrize("hold", [False, True])
def test_a_close_and_a_verify_run_on_either_package(closed_copy, monkeypatch, hold):
    monkeypatch.setattr(source, "HOLD_WHOLE", hold)
    assert isinstance(read_package(closed_copy).data, bytes) is hold
    assert main(["close", str(closed_copy), "--force", "-q"]) == 0
    assert main(["verify", str(closed_copy), "-q"]) == 0
    with zipfile.ZipFile(closed_copy) as zf:
        assert zf.testzip() is None
