"""The workbook file's own properties: what kind of file it is, who may write it, and what a
save keeps.

A folder, a device, a pipe or a symbolic link loop given as the workbook is refused by name.

A save writes a new file and renames it over the old one, so the new file must be given
what the old one carried: owner and group (when sopfin runs as root, or the user belongs to
the group), permission bits, and extended attributes, which hold POSIX ACLs
(``system.posix_acl_access``), SELinux labels and user tags. What cannot be kept is named,
never dropped silently.

Before anything is written, a file its user may not write is refused: a rename in a writable
folder could replace it, but that would override the read-only mark. For root, which the OS
lets write anything, the mode bits decide: a file nobody may write (e.g. 0444) is refused.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from sopfin.xlsx.errors import FolderNotWritableError, NotAFileError, WorkbookReadOnlyError


def refuse_odd_target(target: str | Path) -> None:
    """A folder, a device, a pipe or a symlink loop given as the workbook: refuse by name."""
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise NotAFileError(target, "a symbolic link that loops back on itself") from None
        raise FolderNotWritableError(target, exc.strerror or str(exc)) from None
    if stat.S_ISDIR(mode):
        raise NotAFileError(target, "a folder")
    if not stat.S_ISREG(mode):
        raise NotAFileError(target, "a device, pipe or socket, not a regular file")


def refuse_unwritable(path: str | Path) -> None:
    """Raise WorkbookReadOnlyError if the existing file at ``path`` is not writable."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    mode = stat.S_IMODE(st.st_mode)
    if _is_root():
        if not mode & 0o222:
            raise WorkbookReadOnlyError(path, f"mode {mode:04o}: nobody may write it, so "
                                              "sopfin does not either, even as root")
        return
    effective = os.access in os.supports_effective_ids
    if not os.access(path, os.W_OK, effective_ids=effective):
        raise WorkbookReadOnlyError(path, f"mode {mode:04o}, owner uid {st.st_uid}: you do "
                                          "not have write permission on it")


def keep_metadata(original: os.stat_result | None, target: Path, tmp: Path) -> list[str]:
    """Give ``tmp`` what ``target`` (as ``original``) carries; return what could not be kept."""
    if original is None:  # a new file: the usual mode for this user
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        return []
    lost = _keep_extended_attributes(target, tmp)
    lost += _keep_owner(original, tmp)
    os.chmod(tmp, stat.S_IMODE(original.st_mode))  # after chown, which clears set-id bits
    return lost


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _keep_owner(original: os.stat_result, tmp: Path) -> list[str]:
    if not hasattr(os, "chown"):
        return []
    now = os.stat(tmp)
    if (now.st_uid, now.st_gid) == (original.st_uid, original.st_gid):
        return []
    try:
        os.chown(tmp, original.st_uid, original.st_gid)
        return []
    except PermissionError:
        pass
    try:
        os.chown(tmp, -1, original.st_gid)
    except PermissionError:
        return [f"owner (uid {original.st_uid}) and group (gid {original.st_gid})"]
    return [f"owner (uid {original.st_uid})"] if now.st_uid != original.st_uid else []


def _keep_extended_attributes(target: Path, tmp: Path) -> list[str]:
    if not hasattr(os, "listxattr"):
        return []
    try:
        names = os.listxattr(target)
    except OSError:
        return []  # the filesystem has none
    lost = []
    for name in names:
        try:
            value = os.getxattr(target, name)
            if _xattr_or_none(tmp, name) != value:  # e.g. an SELinux label it already has
                os.setxattr(tmp, name, value)
        except OSError:
            lost.append(f"extended attribute {name}")
    return lost


def _xattr_or_none(path: Path, name: str) -> bytes | None:
    try:
        return os.getxattr(path, name)
    except OSError:
        return None

