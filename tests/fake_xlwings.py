"""A workbook in memory with the slice of xlwings' Book / Sheets / Sheet / Range / Names
interface that sopfin's live adapter and ribbon use, behaving the way Excel does through
xlwings where the adapter relies on it:

* ``.value`` reads give a scalar for one cell, a list for one row or column, a list of rows
  otherwise (always a list of rows with ``options(ndim=2)``); empty cells are None, numbers
  float; Excel errors are None, or their text with ``err_to_str=True``.
* Assigning text converts it the way Excel's parser would ('12' -> 12.0, 'TRUE' -> True,
  '2027-01' -> a date, '=...' -> a formula) unless it starts with an apostrophe, which is
  dropped and keeps the text as text. ``.formula`` reads give '=...' for formula cells and
  the constant as text otherwise.
* Formula cells are not calculated: their value reads as None (or what ``calculated`` holds).
* ``used_range`` is the rectangle from the first to the last used cell (A1 when empty).
* A sheet-scoped name reads back as ``Sheet!name`` (quoted when the sheet name needs it).

Every public attribute read or written on a fake object is recorded in ``ACCESS_LOG`` as
(xlwings class, attribute), so a test can check each exists on the real xlwings classes.
``.api`` objects stand for Excel's own object model and are recorded in ``API_LOG``.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

ACCESS_LOG: set[tuple[str, str]] = set()
API_LOG: set[tuple[str, str]] = set()
ERRORS = ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


class XlErrorCell:
    """An Excel error value held in a fake cell."""

    def __init__(self, code: str) -> None:
        self.code = code

    def __eq__(self, other: object) -> bool:
        return isinstance(other, XlErrorCell) and other.code == self.code

    def __repr__(self) -> str:
        return f"XlErrorCell({self.code!r})"


class _Logged:
    KIND = ""

    def __getattribute__(self, name: str) -> Any:
        if not name.startswith("_") and name != "KIND":
            ACCESS_LOG.add((type(self).KIND, name))
        return object.__getattribute__(self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            ACCESS_LOG.add((type(self).KIND, name))
        object.__setattr__(self, name, value)

    def _log(self, name: str) -> None:
        ACCESS_LOG.add((type(self).KIND, name))


class FakeApi:
    """Stands in for a COM object: records every attribute set or method called."""

    def __init__(self, kind: str, **attrs: Any) -> None:
        object.__setattr__(self, "_kind", kind)
        object.__setattr__(self, "_attrs", dict(attrs))
        object.__setattr__(self, "calls", [])

    def __getattr__(self, name: str) -> Any:
        API_LOG.add((self._kind, name))
        if name in self._attrs:
            return self._attrs[name]
        return lambda *a, **k: self.calls.append((name, a, k))

    def __setattr__(self, name: str, value: Any) -> None:
        API_LOG.add((self._kind, name))
        self._attrs[name] = value


# ----------------------------------------------------------------------------- conversion
def excel_parse(value: Any) -> tuple[Any, str | None]:
    """(stored value, formula) for a value assigned to a cell, as Excel parses it."""
    if isinstance(value, str):
        if value.startswith("'"):
            return value[1:], None
        if value.startswith("="):
            return None, value
        if value == "":
            return None, None
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE", None
        if _NUMBER.match(value):
            return float(value), None
        month = _MONTH.match(value)
        if month and 1 <= int(month.group(2)) <= 12:
            return dt.datetime(int(month.group(1)), int(month.group(2)), 1), None
        if value in ERRORS:
            return XlErrorCell(value), None
        return value, None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, int | float):
        return float(value), None
    if isinstance(value, dt.date | XlErrorCell) or value is None:
        return value, None
    raise TypeError(f"Excel cannot hold a {type(value).__name__}")


def _grid(value: Any, rows: int, cols: int) -> list[list[Any]]:
    if not isinstance(value, list | tuple):
        return [[value] * cols for _ in range(rows)]
    if value and not isinstance(value[0], list | tuple):
        value = [value] if rows == 1 else [[v] for v in value]
    if len(value) != rows or any(len(r) != cols for r in value):
        raise ValueError(f"assigning {len(value)}x{len(value[0]) if value else 0} to a "
                         f"{rows}x{cols} range")
    return [list(r) for r in value]


def _shaped(grid: list[list[Any]], ndim: int | None) -> Any:
    if ndim == 2:
        return grid
    if len(grid) == 1 and len(grid[0]) == 1:
        return grid[0][0]
    if len(grid) == 1:
        return grid[0]
    if all(len(r) == 1 for r in grid):
        return [r[0] for r in grid]
    return grid


def _col_letters(col: int) -> str:
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _parse_ref(ref: str) -> tuple[int, int]:
    m = re.match(r"^\$?([A-Za-z]+)\$?(\d+)$", ref)
    if m is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    col = 0
    for ch in m.group(1).upper():
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


# ----------------------------------------------------------------------------- the objects
class FakeApp(_Logged):
    KIND = "App"

    def __init__(self, answers: list[str] | None = None) -> None:
        self.status_bar = False
        self.screen_updating = True
        self.calculation = "automatic"
        self._answers = list(answers or [])
        self._alerts: list[str] = []
        self._api = FakeApi("App", ActiveWindow=FakeApi("Window"))
        self._api._attrs["InputBox"] = self._input_box

    @property
    def api(self) -> FakeApi:
        return self._api

    def _input_box(self, prompt: str, title: str = "", default: str = "", *a: Any,
                   **k: Any) -> Any:
        return self._answers.pop(0) if self._answers else False

    def alert(self, prompt: str, title: str | None = None, **kwargs: Any) -> None:
        self._alerts.append(prompt)


class FakeBook(_Logged):
    KIND = "Book"

    def __init__(self, name: str = "Plan.xlsx", app: FakeApp | None = None) -> None:
        self.name = name
        self._app = app or FakeApp()
        self._sheets = FakeSheets(self)
        self._saved = 0
        self._api = FakeApi("Book", ProtectStructure=False)
        self._names = FakeNames(None)

    @property
    def app(self) -> FakeApp:
        return self._app

    @property
    def sheets(self) -> FakeSheets:
        return self._sheets

    @property
    def api(self) -> FakeApi:
        return self._api

    @property
    def names(self) -> FakeNames:
        return self._names

    def save(self, path: str | None = None) -> None:
        self._saved += 1

    def _add(self, name: str, rows: list[list[Any]] | None = None) -> FakeSheet:
        """A sheet filled with values (as typed by a user), for tests."""
        sheet = FakeSheet(self, name)
        self._sheets._items.append(sheet)
        for i, row in enumerate(rows or []):
            for j, v in enumerate(row):
                if isinstance(getattr(v, "code", None), str):
                    v = XlErrorCell(v.code)  # an Excel error cell
                if v is not None:
                    sheet._cells[(i + 1, j + 1)] = {"value": v, "formula": None}
        return sheet


class FakeSheets(_Logged):
    KIND = "Sheets"

    def __init__(self, book: FakeBook) -> None:
        self._book = book
        self._items: list[FakeSheet] = []
        self._active: FakeSheet | None = None
        self._adds_before_failure: int | None = None  # tests: fail the (N+1)th add

    def __iter__(self):
        self._log("__iter__")
        return iter(list(self._items))

    def __len__(self) -> int:
        self._log("__len__")
        return len(self._items)

    def __getitem__(self, key: int | str) -> FakeSheet:
        self._log("__getitem__")
        if isinstance(key, int):
            return self._items[key]
        for s in self._items:
            if s._name.lower() == key.lower():
                return s
        raise KeyError(key)

    @property
    def active(self) -> FakeSheet:
        return self._active or self._items[0]

    def add(self, name: str | None = None, before: FakeSheet | None = None,
            after: FakeSheet | None = None) -> FakeSheet:
        if self._adds_before_failure is not None:
            if self._adds_before_failure == 0:
                raise RuntimeError("simulated Excel failure while adding a sheet")
            self._adds_before_failure -= 1
        if name is not None and name.lower() in (s._name.lower() for s in self._items):
            raise ValueError(f"Sheet named '{name}' already present in workbook")
        sheet = FakeSheet(self._book, name or f"Sheet{len(self._items) + 1}")
        at = len(self._items)
        if after is not None:
            at = self._items.index(after) + 1
        elif before is not None:
            at = self._items.index(before)
        self._items.insert(at, sheet)
        self._active = sheet
        return sheet


class FakeSheet(_Logged):
    KIND = "Sheet"

    def __init__(self, book: FakeBook, name: str) -> None:
        self._book = book
        self._name = name
        self._cells: dict[tuple[int, int], dict[str, Any]] = {}
        self._formats: dict[tuple[int, int], dict[str, Any]] = {}
        self._col_widths: dict[int, float] = {}
        self._links: dict[tuple[int, int], tuple[str, str, str | None]] = {}
        self._names = FakeNames(self)
        self._visible = True
        self._rows: dict[str, FakeApi] = {}  # Excel's Rows("3:7") objects, by their reference
        self._api = FakeApi("Sheet", Tab=FakeApi("Tab"), PageSetup=FakeApi("PageSetup"),
                            Cells=FakeApi("Cells"), Visible=-1,
                            Rows=lambda ref: self._rows.setdefault(ref, FakeApi("Rows")))
        self._fail_on_write = 0  # tests: make the next N writes to this sheet fail

    @property
    def name(self) -> str:
        return self._name

    @property
    def book(self) -> FakeBook:
        return self._book

    @property
    def names(self) -> FakeNames:
        return self._names

    @property
    def api(self) -> FakeApi:
        return self._api

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._visible = bool(value)
        self._api._attrs["Visible"] = -1 if value else 0

    @property
    def used_range(self) -> FakeRange:
        if not self._cells:
            return FakeRange(self, 1, 1, 1, 1)
        rows = [r for r, _ in self._cells]
        cols = [c for _, c in self._cells]
        return FakeRange(self, min(rows), min(cols), max(rows), max(cols))

    def range(self, first: Any, last: Any = None) -> FakeRange:
        if isinstance(first, str):
            parts = first.split(":")
            r0, c0 = _parse_ref(parts[0])
            r1, c1 = _parse_ref(parts[-1])
        else:
            r0, c0 = first
            r1, c1 = last if last is not None else first
        return FakeRange(self, r0, c0, r1, c1)

    def activate(self) -> None:
        if not self._visible:
            raise RuntimeError("a hidden sheet cannot be activated")
        self._book._sheets._active = self

    def clear(self) -> None:
        self._cells.clear()
        self._formats.clear()
        self._links.clear()

    def delete(self) -> None:
        self._book._sheets._items.remove(self)
        if self._book._sheets._active is self:
            self._book._sheets._active = None

    # test helpers
    def _value(self, row: int, col: int) -> Any:
        return self._cells.get((row, col), {}).get("value")

    def _formula(self, row: int, col: int) -> str | None:
        return self._cells.get((row, col), {}).get("formula")


class FakeRange(_Logged):
    KIND = "Range"

    def __init__(self, sheet: FakeSheet, r0: int, c0: int, r1: int, c1: int,
                 options: dict[str, Any] | None = None) -> None:
        self._sheet = sheet
        self._box = (r0, c0, r1, c1)
        self._options = options or {}

    def _coords(self):
        r0, c0, r1, c1 = self._box
        return [[(r, c) for c in range(c0, c1 + 1)] for r in range(r0, r1 + 1)]

    def options(self, convert: Any = None, **options: Any) -> FakeRange:
        return FakeRange(self._sheet, *self._box, options=options)

    @property
    def sheet(self) -> FakeSheet:
        return self._sheet

    @property
    def row(self) -> int:
        return self._box[0]

    @property
    def column(self) -> int:
        return self._box[1]

    @property
    def last_cell(self) -> FakeRange:
        return FakeRange(self._sheet, self._box[2], self._box[3], self._box[2], self._box[3])

    @property
    def address(self) -> str:
        r0, c0, r1, c1 = self._box
        first = f"${_col_letters(c0)}${r0}"
        return first if (r0, c0) == (r1, c1) else f"{first}:${_col_letters(c1)}${r1}"

    def _read(self, key: str) -> Any:
        cell = self._sheet._cells
        out = []
        for row in self._coords():
            line = []
            for rc in row:
                c = cell.get(rc)
                v = None if c is None else c.get(key)
                if key == "value" and c is not None and c.get("formula"):
                    v = c.get("calculated")
                if isinstance(v, XlErrorCell):
                    v = v.code if self._options.get("err_to_str") else None
                line.append(v)
            out.append(line)
        return out

    def _write(self, value: Any) -> None:
        if self._sheet._fail_on_write:
            self._sheet._fail_on_write -= 1
            raise RuntimeError("simulated Excel failure while writing")
        r0, c0, r1, c1 = self._box
        grid = _grid(value, r1 - r0 + 1, c1 - c0 + 1)
        for coords, vals in zip(self._coords(), grid, strict=True):
            for rc, v in zip(coords, vals, strict=True):
                stored, formula = excel_parse(v)
                if stored is None and formula is None:
                    self._sheet._cells.pop(rc, None)
                else:
                    self._sheet._cells[rc] = {"value": stored, "formula": formula}

    @property
    def value(self) -> Any:
        return _shaped(self._read("value"), self._options.get("ndim"))

    @value.setter
    def value(self, value: Any) -> None:
        self._write(value)

    @property
    def formula(self) -> Any:
        grid = []
        for row in self._coords():
            line = []
            for rc in row:
                c = self._sheet._cells.get(rc)
                if c is None:
                    line.append("")
                elif c["formula"]:
                    line.append(c["formula"])
                else:
                    v = c["value"]
                    line.append(v.code if isinstance(v, XlErrorCell) else
                                ("TRUE" if v is True else "FALSE" if v is False else
                                 (f"'{v}" if isinstance(v, str) and _needs_quote(v)
                                  else str(v))))
            grid.append(tuple(line))
        out = tuple(grid)
        return out[0][0] if len(out) == 1 and len(out[0]) == 1 else out

    @formula.setter
    def formula(self, value: Any) -> None:
        self._write(value)

    def _format(self, key: str, value: Any) -> None:
        for row in self._coords():
            for rc in row:
                self._sheet._formats.setdefault(rc, {})[key] = value

    @property
    def number_format(self) -> Any:
        return self._sheet._formats.get(self._box[:2], {}).get("number_format", "General")

    @number_format.setter
    def number_format(self, value: str) -> None:
        self._format("number_format", value)

    @property
    def color(self) -> Any:
        return self._sheet._formats.get(self._box[:2], {}).get("fill")

    @color.setter
    def color(self, value: Any) -> None:
        self._format("fill", value)

    @property
    def horizontal_alignment(self) -> Any:
        return self._sheet._formats.get(self._box[:2], {}).get("align")

    @horizontal_alignment.setter
    def horizontal_alignment(self, value: str) -> None:
        self._format("align", value)

    @property
    def font(self) -> FakeFont:
        return FakeFont(self)

    @property
    def column_width(self) -> float:
        return self._sheet._col_widths.get(self._box[1], 8.43)

    @column_width.setter
    def column_width(self, value: float) -> None:
        for col in range(self._box[1], self._box[3] + 1):
            self._sheet._col_widths[col] = float(value)

    def add_hyperlink(self, address: str, text_to_display: str | None = None,
                      screen_tip: str | None = None) -> None:
        shown = address if text_to_display is None else text_to_display
        self._sheet._links[self._box[:2]] = (address, shown, screen_tip)
        self._write([[f"'{shown}"]] if self._box[:2] == self._box[2:] else f"'{shown}")

    @property
    def api(self) -> FakeApi:
        return FakeApi("Range", Borders=lambda index: FakeApi("Border"))


def _needs_quote(text: str) -> bool:
    return excel_parse(text) != (text, None)


class FakeFont(_Logged):
    KIND = "Font"

    def __init__(self, rng: FakeRange) -> None:
        object.__setattr__(self, "_rng", rng)

    def __setattr__(self, name: str, value: Any) -> None:
        ACCESS_LOG.add((self.KIND, name))
        self._rng._format(f"font_{name}", value)


class FakeNames(_Logged):
    KIND = "Names"

    def __init__(self, sheet: FakeSheet | None) -> None:
        self._sheet = sheet
        self._items: list[FakeName] = []

    def __iter__(self):
        self._log("__iter__")
        return iter(list(self._items))

    def __len__(self) -> int:
        self._log("__len__")
        return len(self._items)

    def add(self, name: str, refers_to: str) -> FakeName:
        if self._sheet is not None:
            sheet = self._sheet._name
            prefix = f"'{sheet}'" if re.search(r"[^A-Za-z0-9_]", sheet) else sheet
            name = f"{prefix}!{name}"
        item = FakeName(name, refers_to)
        self._items.append(item)
        return item


class FakeName(_Logged):
    KIND = "Name"

    def __init__(self, name: str, refers_to: str) -> None:
        self._name = name
        self._refers_to = refers_to
        self._api = FakeApi("Name", Visible=True)

    @property
    def name(self) -> str:
        return self._name

    @property
    def refers_to(self) -> str:
        return self._refers_to

    @property
    def api(self) -> FakeApi:
        return self._api


def book_with(grids: dict[str, list[list[Any]]], name: str = "Plan.xlsx",
              app: FakeApp | None = None) -> FakeBook:
    """A fake book holding these sheets, cells as a user would have typed them."""
    book = FakeBook(name, app)
    for sheet, rows in grids.items():
        book._add(sheet, rows)
    return book
