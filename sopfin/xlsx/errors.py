"""Why sopfin refuses to write a workbook: one exception class per environment fault.

Every message names the file first, then what is wrong, then what to do about it. All are
raised before a single byte is written, so a refused workbook is left exactly as it was.
"""

from __future__ import annotations

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
        super().__init__(path, f"no such file ({Path(path).resolve()})",
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
