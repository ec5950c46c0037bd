"""Replace a file atomically: the target is either its old bytes or the complete new ones.

The new content goes to a temporary file in the same folder (``.<name>.sopfin-<random>.tmp``),
is flushed and fsynced, takes the original file's owner, group, permission bits and extended
attributes (``sopfin.xlsx.metadata``) and is then renamed over the target with ``os.replace``,
under the workbook's lock and only if the file on disk is still the one that was read
(``sopfin.xlsx.lock``); the folder is fsynced so the rename survives a power cut. Any
exception removes the temporary file and leaves the target untouched.

A run killed mid-save leaves its temporary file behind. It never gets in the way: every run
uses a fresh random name, and the next save removes leftovers no live process still holds
(each writer keeps an exclusive ``flock`` on its temporary file while it works).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from sopfin.xlsx.errors import FolderNotWritableError, SaveFailedError
from sopfin.xlsx.lock import assert_unchanged, exclusive, record_replaced
from sopfin.xlsx.metadata import keep_metadata, refuse_unwritable

try:
    import fcntl
except ImportError:  # Windows: open files cannot be deleted there anyway
    fcntl = None  # type: ignore[assignment]

TEMP_MARK = ".sopfin-"
TEMP_SUFFIX = ".tmp"


def temp_prefix(target: Path) -> str:
    return f".{target.name}{TEMP_MARK}"


def stale_temp_files(target: str | Path) -> list[Path]:
    """Temporary files of earlier saves of ``target`` that no running process holds."""
    target = Path(target)
    folder = target.parent
    prefix = temp_prefix(target)
    found = []
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            if entry.name.startswith(prefix) and entry.name.endswith(TEMP_SUFFIX):
                path = folder / entry.name
                if not _held_by_live_writer(path):
                    found.append(path)
    return sorted(found)


def remove_stale_temp_files(target: str | Path) -> list[Path]:
    """Delete leftovers of killed saves of ``target``; return what was removed."""
    removed = []
    for path in stale_temp_files(target):
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed


def _held_by_live_writer(path: Path) -> bool:
    if fcntl is None:
        return True  # cannot tell: leave it alone
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None


def _fsync_folder(folder: Path) -> None:
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def save_faults(target: str | Path) -> Iterator[None]:
    """An OSError in the block (a full disk while staging parts beside the workbook, a
    failing temporary file) is a SaveFailedError naming ``target``."""
    try:
        yield
    except OSError as exc:
        raise SaveFailedError(target, exc.strerror or str(exc)) from None


@contextlib.contextmanager
def atomic_replace(target: str | Path, warnings: list[str] | None = None,
                   ) -> Iterator[BinaryIO]:
    """Yield a binary file opened for writing; on a clean exit it replaces ``target``.

    A symlinked target is resolved so the link keeps pointing at the updated file. The save
    holds the workbook's lock (``sopfin.xlsx.lock``), refuses a file that is not writable,
    keeps the original's owner, group, mode and extended attributes (ACLs included) where it
    can, and appends to ``warnings`` what it could not keep. Any OSError while saving (a full
    disk, a quota) becomes a ``SaveFailedError``; the target is untouched and no temporary
    file is left.
    """
    target = Path(os.path.realpath(target))
    with exclusive(target):
        refuse_unwritable(target)
        remove_stale_temp_files(target)
        original = _stat_or_none(target)
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(target), suffix=TEMP_SUFFIX,
                                            dir=target.parent)
        except OSError as exc:
            raise FolderNotWritableError(target, exc.strerror or str(exc)) from None
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w+b") as fh:
                if fcntl is not None:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
                lost = keep_metadata(original, target, tmp)
                assert_unchanged(target)
                os.replace(tmp, target)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise SaveFailedError(target, exc.strerror or str(exc)) from None
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        record_replaced(target)
        with contextlib.suppress(OSError):  # saved already; a folder that cannot be synced
            _fsync_folder(target.parent)    # (some network filesystems) changes nothing
    if warnings is not None and lost:
        warnings.append(f"the saved file could not keep the original's {', '.join(lost)}")
