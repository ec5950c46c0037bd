"""One writer at a time: an exclusive lock beside the workbook for the whole read-modify-write,
and a check, just before the new file replaces the old, that the old is still the one read.

The lock is the file ``.<name>.sopfin-lock`` beside the resolved workbook (a symlink's target),
created atomically (``O_CREAT | O_EXCL``) and holding the writer's pid, host and start time.
Where the platform has them, the writer also keeps ``fcntl.flock`` (``msvcrt.locking`` on
Windows) on it, so a lock whose process died is recognised at once. A lock is *stale*, and
is removed by the next writer, when no process holds it and, on this host, its pid is gone;
a lock written on another host is stale once it is older than ``STALE_AFTER_SECONDS``.

A second writer waits for the lock up to ``SOPFIN_LOCK_WAIT`` seconds (default 60; 0 refuses
at once) and then refuses with ``WorkbookBusyError``. Holding is re-entrant within a thread:
a command that holds the lock can call ``write_sheets``, which takes it again for free.

While held, the file's identity (device, inode, size, mtime in ns) is remembered from before
the first read; ``assert_unchanged`` compares it with the file on disk before each rename and
raises ``WorkbookChangedError`` when another program (Excel, a sync client, a sopfin that
ignored the lock) replaced or rewrote the file meanwhile.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sopfin.xlsx.errors import FolderNotWritableError, WorkbookBusyError, WorkbookChangedError
from sopfin.xlsx.metadata import refuse_odd_target

try:
    import fcntl
except ImportError:
    fcntl = None  # type: ignore[assignment]
try:
    import msvcrt
except ImportError:
    msvcrt = None  # type: ignore[assignment]

LOCK_SUFFIX = ".sopfin-lock"
WAIT_ENV = "SOPFIN_LOCK_WAIT"
DEFAULT_WAIT_SECONDS = 60.0
STALE_AFTER_SECONDS = 3600.0  # a lock from another host (or unheld, pid unknown) expires
CREATING_GRACE_SECONDS = 10.0  # an empty lock file this young is being written right now
POLL_SECONDS = 0.05


@dataclass(frozen=True)
class FileIdentity:
    """What says 'the same file, unchanged': a replace or rewrite changes at least one."""

    device: int
    inode: int
    size: int
    mtime_ns: int


@dataclass
class _Hold:
    lock_path: Path
    fd: int
    identity: FileIdentity | None  # None: the workbook did not exist when the lock was taken
    depth: int = 1


_held: dict[tuple[str, int], _Hold] = {}


def lock_path_of(target: str | Path) -> Path:
    real = Path(os.path.realpath(target))
    return real.with_name(f".{real.name}{LOCK_SUFFIX}")


def identity_of(path: str | Path) -> FileIdentity | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return FileIdentity(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _key(target: str | Path) -> tuple[str, int]:
    return os.path.realpath(target), threading.get_ident()


def _wait_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, DEFAULT_WAIT_SECONDS)))
    except ValueError:
        return DEFAULT_WAIT_SECONDS


@contextlib.contextmanager
def exclusive(target: str | Path, wait: float | None = None) -> Iterator[None]:
    """Hold the workbook's lock for the block; re-entrant within one thread."""
    key = _key(target)
    hold = _held.get(key)
    if hold is not None:
        hold.depth += 1
        try:
            yield
        finally:
            hold.depth -= 1
        return
    refuse_odd_target(target)
    lock_path = lock_path_of(target)
    fd = _acquire(Path(target), lock_path, _wait_seconds() if wait is None else wait)
    _held[key] = _Hold(lock_path, fd, identity_of(key[0]))
    try:
        yield
    finally:
        del _held[key]
        _release(lock_path, fd)


def assert_unchanged(target: str | Path) -> None:
    """Raise WorkbookChangedError if the file is not the one there when the lock was taken."""
    hold = _held.get(_key(target))
    if hold is not None and identity_of(os.path.realpath(target)) != hold.identity:
        raise WorkbookChangedError(target)


def record_replaced(target: str | Path) -> None:
    """This writer has just replaced the file: its new identity is the one to expect."""
    key = _key(target)
    hold = _held.get(key)
    if hold is not None:
        hold.identity = identity_of(key[0])


# --- the lock file ----------------------------------------------------------------------------
def _acquire(target: Path, lock_path: Path, wait: float) -> int:
    deadline = time.monotonic() + wait
    while True:
        fd = _try_create(target, lock_path)
        if fd is not None:
            return fd
        holder = _live_holder(lock_path)
        if holder is not None and time.monotonic() >= deadline:
            raise WorkbookBusyError(target, holder, lock_path)
        if holder is not None:
            time.sleep(POLL_SECONDS)


def _try_create(target: Path, lock_path: Path) -> int | None:
    """Create and hold the lock file; None when it already exists."""
    try:
        fd = os.open(lock_path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o644)
    except FileExistsError:
        return None
    except OSError as exc:
        raise FolderNotWritableError(target, exc.strerror or str(exc)) from None
    try:
        _hold_fd(fd, blocking=True)
        if not _same_file(fd, lock_path):  # removed as stale between create and hold
            os.close(fd)
            return None
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                 "since": time.time()}).encode("utf-8"))
    except OSError as exc:
        _release(lock_path, fd)
        raise FolderNotWritableError(target, exc.strerror or str(exc)) from None
    return fd


def _live_holder(lock_path: Path) -> str | None:
    """Who holds the existing lock, or None after removing a stale one (or if it vanished)."""
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    except OSError:
        return "a run whose lock file sopfin cannot read"
    try:
        if not _hold_fd(fd, blocking=False):
            return _describe(_read_owner(fd))
        owner = _read_owner(fd)
        if not _is_stale(owner, os.fstat(fd).st_mtime):
            return _describe(owner)
        if _same_file(fd, lock_path):  # still the stale one, not a new writer's lock
            try:
                os.unlink(lock_path)
            except FileNotFoundError:
                pass
            except OSError:
                return "a crashed run whose lock file sopfin cannot remove"
        return None
    finally:
        os.close(fd)


def _read_owner(fd: int) -> dict[str, object]:
    os.lseek(fd, 0, os.SEEK_SET)
    try:
        owner = json.loads(os.read(fd, 4096).decode("utf-8"))
    except (OSError, ValueError):  # locked for reading (Windows), or not written yet
        return {}
    return owner if isinstance(owner, dict) else {}


def _is_stale(owner: dict[str, object], mtime: float) -> bool:
    """Nobody holds the file (or this platform cannot tell): is its writer gone?"""
    since = owner.get("since")
    age = time.time() - (since if isinstance(since, int | float) else mtime)
    pid = owner.get("pid")
    if not isinstance(pid, int):
        return age > CREATING_GRACE_SECONDS
    if owner.get("host") != socket.gethostname():
        return age > STALE_AFTER_SECONDS
    if fcntl is not None or msvcrt is not None:
        return True  # a live writer on this host would hold it
    return not _pid_alive(pid) or age > STALE_AFTER_SECONDS


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _describe(owner: dict[str, object]) -> str:
    pid, host, since = owner.get("pid"), owner.get("host"), owner.get("since")
    if not isinstance(pid, int):
        return "a run that is starting"
    when = (time.strftime(" since %H:%M:%S UTC", time.gmtime(since))
            if isinstance(since, int | float) else "")
    return f"pid {pid} on {host}{when}"


def _same_file(fd: int, path: Path) -> bool:
    try:
        on_disk = os.stat(path)
    except FileNotFoundError:
        return False
    held = os.fstat(fd)
    return (on_disk.st_dev, on_disk.st_ino) == (held.st_dev, held.st_ino)


def _hold_fd(fd: int, blocking: bool) -> bool:
    """Take the OS lock on the lock file; False if another process has it."""
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        elif msvcrt is not None:
            os.lseek(fd, 0, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_LOCK if blocking else msvcrt.LK_NBLCK, 1)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK, errno.EDEADLK):
            return False
        if exc.errno in (errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP):
            return True  # a filesystem without locks: the lock file alone decides
        raise
    return True


def _release(lock_path: Path, fd: int) -> None:
    """Remove the lock file while still holding it, so a waiter never takes a dead name."""
    if msvcrt is None:
        with contextlib.suppress(OSError):
            if _same_file(fd, lock_path):
                os.unlink(lock_path)
        os.close(fd)
        return
    os.close(fd)  # Windows cannot remove an open file
    with contextlib.suppress(OSError):
        os.unlink(lock_path)
