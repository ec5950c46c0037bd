"""Why sopfin refuses to write a workbook: one exception class per environment fault.

Every message names the file first, then what is wrong, then what to do about it. All are
raised before a single byte is written, so a refused workbook is left exactly as it was.
"""

from __future__ import annotations

import os
from pathlib import Path


class WorkbookError(Exception):
    """Base class: the workbook at ``path`` cannot be read or written as asked."""

    def __init__(self, path: str | Path, problem: str, fix: str = "") -> None:
        self.path = Path(path)
        self.problem = problem
        self.fix = fix
        text = f"{self.path.name}: {problem}"
        if fix:
            text += f"; {fix}"
        if not text.endswith("."):
            text += "."
        super().__init__(text)


class WorkbookNotFoundError(WorkbookError):
    def __init__(self, path: str | Path) -> None:
        super().__init__(path, f"no such file ({os.path.abspath(path)})",
                         "check the path, or create a plan workbook with `sopfin new`")


class WorkbookExistsError(WorkbookError):
    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "the file already exists and a new workbook would overwrite it",
                         "choose another file name, or move the existing file away first")


class NotAWorkbookError(WorkbookError):
    """Not a zip package, no workbook part, a legacy .xls or an encrypted workbook."""

    def __init__(self, path: str | Path, detail: str) -> None:
        super().__init__(path, f"not an Excel workbook sopfin can write ({detail})",
                         "open it in Excel and save it as Excel Workbook (.xlsx) or Excel "
                         "Macro-Enabled Workbook (.xlsm) without a password to open")


class WorkbookLockedError(WorkbookError):
    def __init__(self, path: str | Path, lock_file: str | Path) -> None:
        super().__init__(path, f"the workbook is open in Excel or LibreOffice (lock file "
                               f"{Path(lock_file).name} is beside it)",
                         "close it in Excel/LibreOffice first; if nothing has it open, the "
                         "lock file is left over from a crash and can be deleted")
        self.lock_file = Path(lock_file)


class StructureProtectedError(WorkbookError):
    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "the workbook structure is protected, so sheets cannot be "
                               "added or replaced",
                         "in Excel choose Review > Protect Workbook (enter the password if "
                         "asked) to unprotect the structure, save, and run sopfin again")


class StrictOOXMLError(WorkbookError):
    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "the workbook is saved as Strict Open XML Spreadsheet, which "
                               "sopfin does not write",
                         "open it in Excel and use File > Save As > Excel Workbook (.xlsx)")


class SheetNameTakenError(WorkbookError):
    """A sheet with the wanted name exists and sopfin may not overwrite it."""

    def __init__(self, path: str | Path, sheet: str, by_sopfin: bool = False) -> None:
        if by_sopfin:
            problem = (f"a sheet named '{sheet}' already exists; sopfin only adds input sheets "
                       "that are missing and never overwrites one, since it may hold your data")
            fix = f"delete or rename the sheet '{sheet}' if you want a fresh empty one"
        else:
            problem = (f"a sheet named '{sheet}' already exists and was not written by sopfin, "
                       "so sopfin will not overwrite it")
            fix = f"rename or delete your sheet '{sheet}' and run sopfin again"
        super().__init__(path, problem, fix)
        self.sheet = sheet


class WorkbookBusyError(WorkbookError):
    """Another sopfin run holds the workbook's lock file."""

    def __init__(self, path: str | Path, holder: str, lock_file: str | Path) -> None:
        super().__init__(path, f"another sopfin run is writing it ({holder}; lock file "
                               f"{Path(lock_file).name} is beside it)",
                         "wait for that run to finish and run again; if no sopfin is running, "
                         "the lock file is left over from a crash and can be deleted")
        self.lock_file = Path(lock_file)


class WorkbookChangedError(WorkbookError):
    """The file on disk changed between sopfin reading it and replacing it."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, "the file was changed by another program while sopfin worked on "
                               "it, so sopfin did not save over that change",
                         "run the command again on the file as it is now")


class WorkbookReadOnlyError(WorkbookError):
    """The file itself is not writable: sopfin does not replace what the user may not edit."""

    def __init__(self, path: str | Path, detail: str) -> None:
        super().__init__(path, f"the file is read-only ({detail})",
                         "make it writable (chmod u+w, or untick Read-only in its properties) "
                         "if you mean sopfin to change it, or work on a writable copy")


class FolderNotWritableError(WorkbookError):
    """sopfin cannot create its lock or temporary file beside the workbook."""

    def __init__(self, path: str | Path, detail: str) -> None:
        super().__init__(path, f"cannot write in its folder {Path(path).parent} ({detail})",
                         "move the workbook to a folder you can write, or ask for write access")


class NotAFileError(WorkbookError):
    """PATH is a folder, a device, a pipe or a symbolic link loop."""

    def __init__(self, path: str | Path, what: str) -> None:
        super().__init__(path, f"not a workbook file: it is {what}",
                         "give the path of an .xlsx or .xlsm file")


class SaveFailedError(WorkbookError):
    """Writing the new file failed (disk full, quota, I/O error); the original is kept."""

    def __init__(self, path: str | Path, detail: str) -> None:
        super().__init__(path, f"could not save ({detail}); the workbook was not changed",
                         "free some space or fix the folder, then run again")


class UserSheetPatchError(WorkbookError):
    """Cells cannot be set on a user's sheet as asked: the sheet is missing or sopfin's, or a
    cell to set holds a formula (never overwritten)."""

    def __init__(self, path: str | Path, problem: str, fix: str) -> None:
        super().__init__(path, problem, fix)
class PackageLimitError(WorkbookError):
    """A part, or the whole package, would inflate beyond a limit."""

    def __init__(self, path: str | Path, problem: str, variable: str) -> None:
        super().__init__(path, problem, f"if the file is genuine, raise {variable} and run "
                                        "again")
