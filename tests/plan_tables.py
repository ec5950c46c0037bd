"""Plans written the way a planner sketches them: one pipe table per sheet.

    Demand
    | Scenario | Family | 2027-01 | 2027-02 |
    | base     | P-100  | 100     |         |

Cells: blank is an empty cell, numbers are numbers (1,200 too), TRUE/FALSE are booleans, '#N/A'
and the other Excel errors are error cells, '@2027-03-01' is a date cell, and "double quotes"
keep text as text (so "1,200" or "0042" stay strings). Everything else is text. The header is
row 1 of its sheet and the first column is A, so every value sits at its cell in a real workbook.

Two ways in, one notation:

- Whole workbooks, for the reader: in ``sheets(text)`` a line that does not start with '|' names
  the sheet of the table below it; ``raw_sheets`` hands the grids over as the edge reads them,
  ``write_xlsx`` writes a real file, ``base()`` is a small valid plan to mutate with ``set_cell``.
- One table per input sheet, for the engine: ``make_plan(demand=..., prices=..., ...)`` builds a
  ``Plan`` straight from the tables, laid out as the reader lays it out; ``sheet_rows`` gives
  its sheets back as grids. Headers match ignoring case, spaces and underscores; a blank number
  is 0. ``table(header, rows)`` writes Python rows in the notation.
"""

from __future__ import annotations

import datetime as dt
import numbers
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sopfin import layout
from sopfin.model import Keys, Plan, Table, XlError
from sopfin.plan.settings import OPTIONS, Settings
from sopfin.xlsx.read import RawSheet

EXCEL_ERRORS = ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!")
MONTH = re.compile(layout.MONTH_PATTERN)
THOUSANDS = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")  # 1,200.50
Grids = dict[str, list[list[object]]]

# A small valid plan: 3 months, two scenarios, two active families and one inactive family.
BASE = """
Settings
| Setting                | Value       | Help |
| Company                | Acme Pumps  |      |
| Currency               | USD         |      |
| First period           | 2027-01     |      |
| Horizon (months)       | 3           |      |
| Scenarios              | base, upside |     |
| Constrained by supply  | TRUE        |      |

Families
| Family | Name       | ProductLine | UoM | Active |
| P-100  | Pump 100   | Pumps       | ea  | TRUE   |
| V-200  | Valve 200  | Valves      | ea  |        |
| OLD-1  | Old pump   | Pumps       | ea  | FALSE  |

Demand
| Scenario | Family | Channel | 2027-01 | 2027-02 | 2027-03 |
| base     | P-100  | Retail  | 100     | 110     | 120     |
| base     | P-100  | OEM     | 50      |         | 60      |
| base     | V-200  | Retail  | 10      | 10      | 10      |
| upside   | P-100  | Retail  | 130     | 140     | 150     |
| upside   | V-200  | Retail  | 12      | 12      | 12      |

Prices
| Family | Channel | 2027-01 | 2027-02 | 2027-03 |
| P-100  | Retail  | 25      | 25      | 26      |
| P-100  | OEM     | 20      | 20      | 21      |
| V-200  | Retail  | 8.5     | 8.5     | 8.5     |

Supply
| Scenario | Family | 2027-01 | 2027-02 | 2027-03 |
| base     | P-100  | 150     | 150     | 150     |
| base     | V-200  | 10      | 10      | 10      |
| upside   | P-100  | 160     | 160     | 160     |
| upside   | V-200  | 12      | 12      | 12      |

OpeningInventory
| Family | Units |
| P-100  | 40    |
| V-200  | 5     |

StdCost
| Family | Material | Labour | Overhead | EffectiveFrom |
| P-100  | 10       | 4      | 2        |               |
| P-100  | 11       | 4      | 2        | 2027-03       |
| V-200  | 3        | 1      | 0.5      |               |

PlannedVariances
| Scenario | Family | Type     | 2027-01 | 2027-02 | 2027-03 |
| base     | P-100  | overtime | 500     |         | -200    |

Budget
| Family | Measure | 2027-01 | 2027-02 | 2027-03 |
| P-100  | units   | 150     | 150     | 150     |
| P-100  | revenue | 3600    | 3600    | 3700    |
"""


def cell(text: str) -> object:
    """One cell of the notation -> the value a reader hands over."""
    text = text.strip()
    if not text:
        return None
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    if text in EXCEL_ERRORS:
        return XlError(text)
    if text in ("TRUE", "FALSE"):
        return text == "TRUE"
    if text.startswith("@"):
        return dt.date.fromisoformat(text[1:])
    try:
        return float(text.replace(",", "") if THOUSANDS.match(text) else text)
    except ValueError:
        return text


def table_row(line: str) -> list[object]:
    """'| a | 1 |' -> ['a', 1.0]."""
    return [cell(c) for c in line.strip().strip("|").split("|")]


def sheets(text: str) -> Grids:
    """The notation -> {sheet name: rows from A1}."""
    out: Grids = {}
    current: list[list[object]] | None = None
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("|"):
            assert current is not None, f"a table row before any sheet name: {line}"
            current.append(table_row(line))
        else:
            current = out.setdefault(line, [])
    return out


def table_rows(text: str) -> tuple[list[object], list[list[object]]]:
    """One table, no sheet name -> (header, data rows). Every row is as wide as the header."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if stray := [line for line in lines if not line.startswith("|")]:
        raise ValueError(f"not a table row: {stray[0]!r}")
    rows = [table_row(line) for line in lines]
    if not rows:
        return [], []
    for row in rows[1:]:
        if len(row) != len(rows[0]):
            raise ValueError(f"row {row} has {len(row)} cells, the header has {len(rows[0])}")
    return rows[0], rows[1:]


def notation(value: object) -> str:
    """One value -> its cell in the notation; text that would read otherwise is quoted."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, XlError):
        return value.code
    if isinstance(value, dt.date):
        return f"@{value.isoformat()}"
    if isinstance(value, numbers.Real):
        return repr(float(value))
    text = str(value)
    try:
        return text if cell(text) == text else f'"{text}"'
    except ValueError:  # '@' and not a date
        return f'"{text}"'


def table(header: list[object], rows: list[list[object]]) -> str:
    """Python rows -> one table in the notation."""
    return "\n".join(f"| {' | '.join(notation(c) for c in row)} |" for row in [header, *rows])


def raw_sheets(grids: Grids) -> dict[str, RawSheet]:
    return {name: RawSheet(name, [list(r) for r in rows]) for name, rows in grids.items()}


def base() -> Grids:
    """A fresh copy of the valid base plan's grids (safe to mutate)."""
    return sheets(BASE)


def set_cell(grids: Grids, sheet: str, ref: str, value: object) -> None:
    """Put ``value`` at an A1-style cell, growing the grid as needed."""
    letters = "".join(ch for ch in ref if ch.isalpha())
    row, col = int(ref[len(letters):]) - 1, layout.column_index(letters) - 1
    rows = grids[sheet]
    while len(rows) <= row:
        rows.append([])
    while len(rows[row]) <= col:
        rows[row].append(None)
    rows[row][col] = value


def write_xlsx(path: Path, grids: Grids) -> Path:
    """Write the grids as a workbook (openpyxl; fixtures only). Error cells are real errors."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for name, rows in grids.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                target = sheet.cell(row=r, column=c)
                if isinstance(value, XlError):
                    target.value = value.code
                    target.data_type = "e"
                else:
                    target.value = value
                    if isinstance(value, str):
                        target.data_type = "s"  # keep '=...' or '#...' text as text
    book.save(path)
    return path


# --- one table per input sheet -> a Plan ---------------------------------------------------
@dataclass(frozen=True)
class Shape:
    """How one sheet's columns map to a ``Table``'s key and value names."""

    sheet: str
    keys: tuple[str, ...]
    optional: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # fixed value columns; () for monthly tables
    monthly: bool = False


SHAPES = {
    "families": Shape(layout.FAMILIES, ("family", "name", "product_line", "uom", "active")),
    "demand": Shape(layout.DEMAND, ("scenario", "family"), ("channel",), monthly=True),
    "prices": Shape(layout.PRICES, ("family",), ("channel",), monthly=True),
    "supply": Shape(layout.SUPPLY, ("scenario", "family"), monthly=True),
    "opening": Shape(layout.OPENING_INVENTORY, ("family",), values=("units",)),
    "std_cost": Shape(layout.STD_COST, ("family",), ("effective_from",),
                      values=("material", "labour", "overhead")),
    "variances": Shape(layout.PLANNED_VARIANCES, ("scenario", "family", "type"), monthly=True),
    "budget": Shape(layout.BUDGET, ("family", "measure"), ("channel", "department", "account"),
                    monthly=True),
}
HEADERS = {  # name in Table -> header on the sheet
    "family": "Family", "name": "Name", "product_line": "ProductLine", "uom": "UoM",
    "active": "Active", "scenario": "Scenario", "channel": "Channel", "type": "Type",
    "measure": "Measure", "units": "Units", "material": "Material", "labour": "Labour",
    "overhead": "Overhead", "effective_from": "EffectiveFrom",
}
_BY_HEADER = {h.lower(): name for name, h in HEADERS.items()}


def as_text(value: object) -> str:
    """A key cell as the text the reader keeps ('' when blank)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = notation(value)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


def _number(value: object) -> float:
    return 0.0 if value is None else float(value)  # type: ignore[arg-type]


def _header_name(header: object) -> str:
    text = str(header)
    squashed = text.replace(" ", "").replace("_", "").lower()
    return text if MONTH.match(text) else _BY_HEADER.get(squashed, squashed)


def _key_texts(shape: Shape, column: dict[str, int], rows: list[list[object]],
               ) -> dict[str, list[str]]:
    keys = {k: [as_text(r[column[k]]) if k in column else "" for r in rows]
            for k in shape.keys + shape.optional}
    if shape.sheet == layout.FAMILIES:
        keys["active"] = ["FALSE" if a.upper() in ("FALSE", "0", "NO", "N") else "TRUE"
                          for a in keys["active"]]
    if shape.sheet == layout.STD_COST:
        keys["effective_from_literal"] = [f'"{e}"' if e else '""' for e in keys["effective_from"]]
    return keys


def make_table(kind: str, text: str | None, months: tuple[str, ...]) -> Table:
    """One input table from its text (None or '' = an empty sheet with just its header)."""
    shape = SHAPES[kind]
    header, rows = table_rows(text or "")
    if not header:  # an empty sheet: the standard header, no data rows
        header = [HEADERS[k] for k in shape.keys]
        header += list(months) if shape.monthly else [HEADERS[v] for v in shape.values]
    names = [_header_name(h) for h in header]
    letters = [layout.column_letter(i + 1) for i in range(len(names))]
    where = dict(zip(names, letters, strict=True))
    missing = [k for k in shape.keys if k not in where]
    value_names = tuple(months) if shape.monthly else shape.values
    missing += [v for v in value_names if v not in where]
    if missing:
        raise ValueError(f"{shape.sheet}: columns {missing} are missing from {header}")
    if shape.monthly and [n for n in names if MONTH.match(n)] != list(months):
        raise ValueError(f"{shape.sheet}: months {names} differ from the plan's {months}")
    column = {n: i for i, n in enumerate(names)}
    texts = _key_texts(shape, column, rows)
    # as the reader does: key_names/key_cols list the key columns the sheet has; ``keys``
    # holds every key of the table, '' where the sheet has no such column
    key_names = tuple(k for k in shape.keys + shape.optional if k in where)
    first = layout.FIRST_DATA_ROW
    keys = Keys.of(texts, row=np.arange(first, first + len(rows), dtype=np.int64))
    values = np.array([[_number(r[column[v]]) for v in value_names] for r in rows],
                      dtype=np.float64).reshape(len(rows), len(value_names))
    return Table(
        sheet=shape.sheet, key_names=key_names, keys=keys, value_names=tuple(value_names),
        values=values, key_cols=tuple(where[k] for k in key_names),
        value_cols=tuple(where[v] for v in value_names), first_row=first,
        last_row=first + len(rows) - 1)


def _months_of(texts: dict[str, str]) -> tuple[str, ...]:
    found: list[tuple[str, ...]] = []
    for kind, text in texts.items():
        if text and SHAPES[kind].monthly:
            header, _ = table_rows(text)
            found.append(tuple(str(h) for h in header if MONTH.match(str(h))))
    if not found:
        raise ValueError("give at least one monthly table or months=")
    return found[0]


def _names(text: str) -> list[str]:
    return [_header_name(h) for h in table_rows(text or "")[0]]


def _column_keys(text: str, name: str) -> list[str]:
    """The keys in column ``name`` of a table, in order ([] when it has no such column)."""
    names, rows = _names(text), table_rows(text or "")[1]
    return [as_text(r[names.index(name)]) for r in rows] if name in names else []


def _auto_families(texts: dict[str, str]) -> str:
    seen = dict.fromkeys(f for text in texts.values() for f in _column_keys(text, "family"))
    return table(["family", "name", "product_line", "uom", "active"],
                 [[f, f, None, "EA", True] for f in seen])


def make_plan(*, demand: str = "", supply: str = "", prices: str = "", std_cost: str = "",
              opening: str = "", variances: str = "", budget: str = "",
              families: str | None = None, months: tuple[str, ...] | None = None,
              **settings: object) -> Plan:
    """A Plan from one table per input sheet. ``settings`` are Settings fields
    (constrained=False, ...); scenarios default to those of Demand in order of appearance,
    months to Demand's."""
    texts = {"demand": demand, "prices": prices, "supply": supply, "opening": opening,
             "std_cost": std_cost, "variances": variances, "budget": budget}
    months = tuple(months) if months is not None else _months_of(texts)
    if "scenarios" not in settings and "scenario" in _names(demand):
        settings["scenarios"] = tuple(dict.fromkeys(_column_keys(demand, "scenario"))) or ("base",)
    if months:
        settings.setdefault("first_period", months[0])
        settings.setdefault("horizon", len(months))
    config = Settings(**settings)  # type: ignore[arg-type]
    if months and config.months != months:
        raise ValueError(f"Settings months {config.months} differ from the tables' {months}")
    fam_text = families if families is not None else _auto_families(texts)
    tables = {kind: make_table(kind, text, months) for kind, text in texts.items()}
    return Plan(settings=config, months=months, families=make_table("families", fam_text, months),
                demand=tables["demand"], prices=tables["prices"], supply=tables["supply"],
                opening=tables["opening"], std_cost=tables["std_cost"],
                variances=tables["variances"], budget=tables["budget"],
                has_channel="channel" in tables["demand"].key_names, source="fixture.xlsx")


def sheet_rows(plan: Plan) -> Grids:
    """The plan's input sheets as grids from A1, with every value at its provenance cell."""
    grids: Grids = {layout.SETTINGS: settings_rows(plan.settings)}
    for kind in SHAPES:
        sheet: Table = getattr(plan, kind)
        cells: dict[str, list[object]] = {}
        for name, letter in zip(sheet.key_names, sheet.key_cols, strict=True):
            cells[letter] = [HEADERS[name]] + [k or None for k in sheet.keys[name]]
        for j, (name, letter) in enumerate(zip(sheet.value_names, sheet.value_cols,
                                               strict=True)):
            cells[letter] = [HEADERS.get(name, name)] + sheet.values[:, j].tolist()
        width = max(layout.column_index(c) for c in cells)
        grid: list[list[object]] = [[None] * width for _ in range(len(sheet) + 1)]
        for letter, column in cells.items():
            for r, value in enumerate(column):
                grid[r][layout.column_index(letter) - 1] = value
        grids[sheet.sheet] = grid
    return grids


def settings_rows(settings: Settings) -> list[list[object]]:
    rows: list[list[object]] = [list(layout.SETTINGS_HEADERS)]
    for option in OPTIONS:
        value = getattr(settings, option.attr)
        rows.append([option.label, ", ".join(value) if isinstance(value, tuple) else value,
                     option.help])
    return rows
