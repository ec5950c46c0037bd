"""Plans written the way a planner sketches them: one pipe table per sheet.

    Demand
    | Scenario | Family | 2027-01 | 2027-02 |
    | base     | P-100  | 100     |         |

A line that does not start with '|' names the sheet of the table below it. Cells: blank is an
empty cell, numbers are numbers, TRUE/FALSE are booleans, '#N/A' and the other Excel errors
are error cells, '@2027-03-01' is a date cell, and "double quotes" keep text as text (so
"1,200" or "0042" stay strings). Everything else is text.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sopfin.model import XlError
from sopfin.xlsx.read import RawSheet

EXCEL_ERRORS = ("#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!")

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
        return float(text)
    except ValueError:
        return text


def sheets(text: str) -> dict[str, list[list[object]]]:
    """The notation -> {sheet name: rows from A1}."""
    out: dict[str, list[list[object]]] = {}
    current: list[list[object]] | None = None
    for line in text.strip().splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("|"):
            assert current is not None, f"a table row before any sheet name: {line}"
            current.append([cell(c) for c in line.strip("|").split("|")])
        else:
            current = out.setdefault(line, [])
    return out


def raw_sheets(grids: dict[str, list[list[object]]]) -> dict[str, RawSheet]:
    return {name: RawSheet(name, [list(r) for r in rows]) for name, rows in grids.items()}


def base() -> dict[str, list[list[object]]]:
    """A fresh copy of the valid base plan's grids (safe to mutate)."""
    return sheets(BASE)


def set_cell(grids: dict[str, list[list[object]]], sheet: str, ref: str, value: object) -> None:
    """Put ``value`` at an A1-style cell, growing the grid as needed."""
    letters = "".join(ch for ch in ref if ch.isalpha())
    row = int(ref[len(letters):]) - 1
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    col -= 1
    rows = grids[sheet]
    while len(rows) <= row:
        rows.append([])
    while len(rows[row]) <= col:
        rows[row].append(None)
    rows[row][col] = value


def write_xlsx(path: Path, grids: dict[str, list[list[object]]]) -> Path:
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
