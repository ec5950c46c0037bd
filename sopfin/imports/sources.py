"""The door from a source file to DuckDB: CSV, Parquet or an .xlsx/.xlsm sheet, loaded as text
into a table ``raw`` with one column per source column (``c0``, ``c1``, ...) and ``_row``, the
row number a spreadsheet app shows for it (1 is the first line of the file).

Everything is loaded as text so that parsing dates and numbers happens in one place
(sopfin.imports.transform) with one error per bad cell, whatever the file type.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
from pathlib import Path
from typing import Any

import duckdb

from sopfin.model import Issue, IssueCode, Severity, SourceRow
from sopfin.xlsx.errors import WorkbookError
from sopfin.xlsx.read import read_raw_sheets, workbook_sheet_names
from sopfin.xlsx.source import read_package

SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".parquet": "parquet",
            ".xlsx": "xlsx", ".xlsm": "xlsx"}


class SourceError(Exception):
    """The source file cannot be read as a table (an issue for the user, raised inside the
    door and turned into one at its edge)."""


def load_source(con: duckdb.DuckDBPyConnection, path: Path, sheet: str | None
                ) -> tuple[int, list[Issue]]:
    """Load ``path`` into table ``raw``; return its column count, or issues."""
    kind = SUFFIXES.get(path.suffix.lower())
    where = SourceRow(path.name)
    if kind is None:
        return 0, [Issue(IssueCode.SOURCE_UNREADABLE, Severity.ERROR, where,
                         f"sopfin reads .csv, .parquet and .xlsx files, not {path.suffix!r}",
                         "export the table as CSV, or save it as .xlsx")]
    try:
        if kind == "csv":
            _load_csv(con, path)
        elif kind == "parquet":
            _load_parquet(con, path)
        else:
            _load_xlsx(con, path, sheet)
    except (SourceError, duckdb.Error, OSError, ValueError) as exc:
        return 0, [Issue(IssueCode.SOURCE_UNREADABLE, Severity.ERROR, where,
                         f"cannot read it as a table: {_first_line(exc)}",
                         "check that the file is the export you meant, complete and "
                         "not open in another program")]
    columns = [r[0] for r in con.execute("DESCRIBE raw").fetchall() if r[0] != "_row"]
    return len(columns), []


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _rename(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """``table`` (text columns in file order) -> ``raw`` with c0.. and the row number."""
    names = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
    cols = ", ".join(f'"{n}"::VARCHAR AS c{i}' for i, n in enumerate(names))
    con.execute(f"CREATE OR REPLACE TABLE raw AS SELECT rowid + 1 AS _row, {cols} "
                f"FROM {table} ORDER BY rowid")
    con.execute(f"DROP TABLE {table}")


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Python's csv reader, not DuckDB's: it keeps blank lines as rows, so row numbers are
    the ones a spreadsheet app shows, and report exports (title rows, group rows) load as
    written. UTF-8 (with or without a byte order mark), else Windows-1252."""
    try:
        rows = _csv_rows(path, "utf-8-sig")
    except UnicodeDecodeError:
        rows = _csv_rows(path, "cp1252")
    _load_rows(con, rows)


def _csv_rows(path: Path, encoding: str) -> list[list[str | None]]:
    with path.open(newline="", encoding=encoding) as f:
        sample = f.read(1 << 16)
        f.seek(0)
        try:  # only the delimiter is sniffed; quoting is Excel's, which every ERP writes
            delimiter = csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
        except csv.Error:
            delimiter = ","
        return [[v if v != "" else None for v in row]
                for row in csv.reader(f, csv.excel, delimiter=delimiter)]


def _load_rows(con: duckdb.DuckDBPyConnection, rows: list[list[str | None]]) -> None:
    width = max((len(r) for r in rows), default=0)
    if width == 0:
        raise SourceError("the file is empty")
    import pandas as pd  # a frame is how rows of text reach DuckDB without a copy per cell

    frame = pd.DataFrame([r + [None] * (width - len(r)) for r in rows],
                         columns=[f"c{i}" for i in range(width)], dtype=object)
    con.register("_frame", frame)
    con.execute("CREATE OR REPLACE TABLE _file AS SELECT * FROM _frame")
    con.unregister("_frame")
    _rename(con, "_file")


def _load_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    # A Parquet file has its header in its schema: put the names back as row 1, so that
    # header detection and row numbers work as for a CSV export of the same table.
    con.execute("CREATE OR REPLACE TABLE _typed AS SELECT * FROM read_parquet(?)", [str(path)])
    names = [r[0] for r in con.execute("DESCRIBE _typed").fetchall()]
    header = ", ".join(f"? AS c{i}" for i in range(len(names)))
    cols = ", ".join(f'CAST("{n}" AS VARCHAR) AS c{i}' for i, n in enumerate(names))
    con.execute(f"CREATE OR REPLACE TABLE _file AS SELECT {header}", names)
    con.execute(f"INSERT INTO _file SELECT {cols} FROM _typed ORDER BY rowid")
    con.execute("DROP TABLE _typed")
    _rename(con, "_file")


def _load_xlsx(con: duckdb.DuckDBPyConnection, path: Path, sheet: str | None) -> None:
    """The plan's own reader (``sopfin.xlsx.read``), so an export is screened as a plan is
    (zip bombs, entities, oversized sheets) and an Excel error cell reads as its code
    ('#N/A'), which no number parses, not as a blank. One read of the file."""
    try:
        package = read_package(path)
        names = workbook_sheet_names(package)
        if sheet is None:
            sheet = names[0] if names else None
        if sheet is None or sheet not in names:
            raise SourceError(f"it has no sheet {sheet!r} (sheets: {', '.join(names)})")
        rows = read_raw_sheets(package, [sheet])[sheet].rows
    except WorkbookError as exc:
        raise SourceError(exc.problem) from None
    if not rows:
        raise SourceError(f"sheet {sheet!r} is empty")
    _load_rows(con, [[_text(v) for v in r] for r in rows])


def _text(value: Any) -> str | None:
    """A cell as the text a CSV export of it would hold."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)
