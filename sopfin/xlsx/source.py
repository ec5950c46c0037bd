"""The package a command works on: the workbook file opened once, with its identity.

``read_package`` is the one place that opens a workbook file for reading. Every reader in
``sopfin.xlsx`` takes either a path (opened for that call) or the ``PackageBytes`` a command
opened at its start, so a command that opens the snapshot once never opens the file again;
the writer compares the file on disk with ``identity`` before replacing it.

The package is not held in memory: its bytes are read from the open file when a reader asks
for them (``stream`` for a zip reader, ``data[a:b]`` for a span), so what a command holds does
not grow with the file, which gains a published tab with every close. The file stays open
until the last reader of it is gone. A replacement of the file (a save by rename, sopfin's own
included) leaves what the command reads as it was: the open file is the one read. A change
made into the open file itself is refused (``WorkbookChangedError``) the next time a reader
asks for its bytes. Where a file open for reading cannot be replaced (Windows), the package
is read whole at the start instead (``HOLD_WHOLE``), as one ``bytes``.
"""

from __future__ import annotations

import io
import os
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sopfin.xlsx.errors import PackageLimitError, WorkbookChangedError, WorkbookNotFoundError
from sopfin.xlsx.limits import Limits, describe
from sopfin.xlsx.lock import FileIdentity
from sopfin.xlsx.metadata import refuse_odd_target

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

HOLD_WHOLE = not hasattr(os, "pread")  # no positional reads: Windows, where an open file
# also keeps the atomic save from replacing it
_READ_AHEAD = 1 << 16  # bytes a stream asks the file for at a time
_PREADV = hasattr(os, "preadv")  # reads into a buffer given, without a copy


class OpenPackage:
    """The bytes of a package file held open: ``data[a:b]`` reads a span, ``stream`` a fresh
    binary stream over the whole; both refuse a file changed in place since it was opened.
    The descriptor is closed when the last user of it is gone (or on ``close``)."""

    def __init__(self, path: Path, fd: int, identity: FileIdentity) -> None:
        self.path = path
        self.fd = fd
        self.identity = identity
        self._close = weakref.finalize(self, os.close, fd)

    def __len__(self) -> int:
        return self.identity.size

    def __getitem__(self, span: slice) -> bytes:
        if not isinstance(span, slice) or span.step not in (None, 1):
            raise TypeError("a package is read by contiguous spans only")
        start, stop, _ = span.indices(len(self))
        self.check_unchanged()
        return self.pread(start, max(0, stop - start))

    def pread(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes from ``offset`` (fewer at the end of the file)."""
        fd = self.descriptor()
        parts = []
        while size > 0:
            block = os.pread(fd, size, offset)
            if not block:
                break
            parts.append(block)
            offset += len(block)
            size -= len(block)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def readinto(self, view: memoryview, offset: int) -> int:
        """Bytes from ``offset`` into ``view``, straight from the file where it can; how
        many (0 at the end of the file)."""
        if _PREADV:
            return os.preadv(self.descriptor(), [view], offset)
        data = self.pread(offset, len(view))
        view[:len(data)] = data
        return len(data)

    def descriptor(self) -> int:
        """The open descriptor; a package closed is never read again (its number may since
        name another file)."""
        if not self._close.alive:
            raise ValueError(f"the package of {self.path} is closed")
        return self.fd

    def stream(self) -> BinaryIO:
        self.check_unchanged()
        return io.BufferedReader(_SpanReader(self), _READ_AHEAD)

    def check_unchanged(self) -> None:
        """Refuse a file written into since it was opened (its size or mtime moved)."""
        st = os.fstat(self.descriptor())
        if (st.st_size, st.st_mtime_ns) != (self.identity.size, self.identity.mtime_ns):
            raise WorkbookChangedError(self.path)

    def close(self) -> None:
        self._close()


class _SpanReader(io.RawIOBase):
    """A seekable raw stream over an ``OpenPackage``, with a position of its own: any number
    of them read the one descriptor (positional reads) without disturbing each other."""

    def __init__(self, source: OpenPackage) -> None:
        self.source = source
        self.position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: len(self.source)}
        if whence not in base:
            raise ValueError(f"invalid whence ({whence})")
        position = base[whence] + offset
        if position < 0:
            raise OSError(f"negative seek position {position}")
        self.position = position
        return position

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        done = self.source.readinto(memoryview(buffer).cast("B"), self.position)
        self.position += done
        return done


@dataclass(frozen=True)
class PackageBytes:
    """A workbook package as opened: where it came from, its bytes (read from the open file
    when asked for, or held whole with ``HOLD_WHOLE``), and its identity then."""

    path: Path
    data: OpenPackage | bytes = field(repr=False)
    identity: FileIdentity
    # what a reader built from the bytes once and reuses for the whole command (the
    # spreadsheet reader's parsed package), by reader
    readers: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def stream(self) -> BinaryIO:
        """A fresh binary stream over the bytes (read from the open file, or over the bytes
        held, which are shared, not copied)."""
        if isinstance(self.data, bytes):
            return io.BytesIO(self.data)
        return self.data.stream()


PackageSource = str | Path | PackageBytes


def read_package(path: str | Path, hold: bool | None = None) -> PackageBytes:
    """Open the workbook file at ``path`` once: its bytes and its identity (device, inode,
    size, mtime of the very file opened). ``hold`` reads the bytes whole now and closes the
    file (by default where ``HOLD_WHOLE``; see the module's note). A file larger than the
    package limit (``SOPFIN_MAX_PACKAGE_BYTES``) is refused before it is read."""
    path = Path(path)
    refuse_odd_target(path)
    if not path.is_file():
        raise WorkbookNotFoundError(path)
    refuse_oversized(path, os.stat(path).st_size)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        st = os.fstat(fd)
        refuse_oversized(path, st.st_size)  # grown since: still never read
        identity = FileIdentity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
        if not (HOLD_WHOLE if hold is None else hold):
            return PackageBytes(path, OpenPackage(path, fd, identity), identity)
    except BaseException:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as fh:
        return PackageBytes(path, fh.read(), identity)


def refuse_oversized(path: Path, size: int) -> None:
    """A file larger than the package limit: its parts inflate to at least about as much."""
    limit = Limits.from_env().package_bytes
    if size > limit:
        raise PackageLimitError(path, f"the file is {describe(size)}, over the "
                                      f"{describe(limit)} package limit",
                                "SOPFIN_MAX_PACKAGE_BYTES")


def package_of(source: PackageSource) -> PackageBytes:
    """The package of ``source``: as given, or opened now from a path."""
    return source if isinstance(source, PackageBytes) else read_package(source)


def path_of(source: PackageSource) -> Path:
    """The file ``source`` names (for messages, locks and the atomic save)."""
    return source.path if isinstance(source, PackageBytes) else Path(source)
