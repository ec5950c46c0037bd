"""The package bytes a command works on: the workbook file read once, with its identity.

``read_package`` is the one place that opens a workbook file for reading. Every reader in
``sopfin.xlsx`` takes either a path (read once for that call) or the ``PackageBytes`` a command
read at its start, so a command that reads the snapshot once never opens the file again; the
writer compares the file on disk with ``identity`` before replacing it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

from sopfin.xlsx.errors import PackageLimitError, WorkbookNotFoundError
from sopfin.xlsx.limits import Limits, describe
from sopfin.xlsx.lock import FileIdentity
from sopfin.xlsx.metadata import refuse_odd_target


@dataclass(frozen=True)
class PackageBytes:
    """A workbook package as read: where it came from, its bytes, and its identity then."""

    path: Path
    data: bytes
    identity: FileIdentity
    # what a reader built from the bytes once and reuses for the whole command (the
    # spreadsheet reader's parsed package), by reader
    readers: dict[str, object] = field(default_factory=dict, compare=False, repr=False)

    def stream(self) -> io.BytesIO:
        """A fresh binary stream over the bytes (the bytes are shared, not copied)."""
        return io.BytesIO(self.data)


PackageSource = str | Path | PackageBytes


def read_package(path: str | Path) -> PackageBytes:
    """Read the workbook file at ``path`` in one open: its bytes and its identity (device,
    inode, size, mtime of the very file read). A file larger than the package limit
    (``SOPFIN_MAX_PACKAGE_BYTES``) is refused before it is read into memory."""
    path = Path(path)
    refuse_odd_target(path)
    if not path.is_file():
        raise WorkbookNotFoundError(path)
    refuse_oversized(path, os.stat(path).st_size)
    with path.open("rb") as fh:
        st = os.fstat(fh.fileno())
        refuse_oversized(path, st.st_size)  # grown since: still never read whole
        data = fh.read()
    return PackageBytes(path, data, FileIdentity(st.st_dev, st.st_ino, st.st_size,
                                                 st.st_mtime_ns))


def refuse_oversized(path: Path, size: int) -> None:
    """A file larger than the package limit: its parts inflate to at least about as much."""
    limit = Limits.from_env().package_bytes
    if size > limit:
        raise PackageLimitError(path, f"the file is {describe(size)}, over the "
                                      f"{describe(limit)} package limit",
                                "SOPFIN_MAX_PACKAGE_BYTES")


def package_of(source: PackageSource) -> PackageBytes:
    """The bytes of ``source``: as given, or read now from a path."""
    return source if isinstance(source, PackageBytes) else read_package(source)


def path_of(source: PackageSource) -> Path:
    """The file ``source`` names (for messages, locks and the atomic save)."""
    return source.path if isinstance(source, PackageBytes) else Path(source)
