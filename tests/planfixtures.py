"""Plans written inline, in the planner's own notation.

    DEMAND = '''
    scenario | family | channel | 2027-01 | 2027-02 | 2027-03
    base     | PUMP   | Retail  |     100 |     120 |      80
    '''
    plan = make_plan(demand=DEMAND, supply=SUPPLY, prices=PRICES, std_cost=COST,
                     constrained=True, shortage_policy="backorder")

Each text table is one input sheet as a planner would lay it out: a header row, then one row
per line, cells separated by ``|``. Columns sit where the text puts them (the first column is
A), the header is row 1 and data rows start at row 2, so every value carries the cell it would
occupy in a real workbook (``sheet_rows`` gives those grids back, to write a real file).
Headers match ignoring case, spaces and underscores. Blank numeric cells are 0; ``1,200`` is
1200. Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sopfin import layout
from sopfin.model import Plan, Table
from sopfin.plan.settings import OPTIONS, Settings

MONTH = re.compile(layout.MONTH_PATTERN)


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
    "budget": Shape(layout.BUDGET, ("family", "measure"), monthly=True),
}
HEADERS = {  # name in Table -> header on the sheet
    "family": "Family", "name": "Name", "product_line": "ProductLine", "uom": "UoM",
    "active": "Active", "scenario": "Scenario", "channel": "Channel", "type": "Type",
    "measure": "Measure", "units": "Units", "material": "Material", "labour": "Labour",
    "overhead": "Overhead", "effective_from": "EffectiveFrom",
}
_BY_HEADER = {h.lower(): name for name, h in HEADERS.items()}


def parse_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """'a | b\\n1 | 2' -> (['a', 'b'], [['1', '2']]). Blank and '#' lines are skipped."""
    lines = [ln.strip() for ln in text.strip("\n").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines:
        return [], []
    rows = [[cell.strip() for cell in ln.split("|")] for ln in lines]
    width = len(rows[0])
    for row in rows[1:]:
        if len(row) != width:
            raise ValueError(f"row {row} has {len(row)} cells, the header has {width}")
    return rows[0], rows[1:]


def _number(text: str) -> float:
    return float(text.replace(",", "")) if text else 0.0


def _header_name(header: str) -> str:
    squashed = header.replace(" ", "").replace("_", "").lower()
    return header if MONTH.match(header) else _BY_HEADER.get(squashed, squashed)


def make_table(kind: str, text: str | None, months: tuple[str, ...]) -> Table:
    """One input table from its text (None or '' = an empty sheet with just its header)."""
    shape = SHAPES[kind]
    header, rows = parse_rows(text or "")
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
    keys = pd.DataFrame({k: [r[column[k]] if k in column else "" for r in rows]
                         for k in shape.keys + shape.optional}, dtype=object)
    if kind == "families":
        keys["active"] = ["FALSE" if a.upper() in ("FALSE", "0", "NO", "N") else "TRUE"
                          for a in keys["active"]]
    if kind == "std_cost":
        keys["effective_from_literal"] = [f'"{e}"' if e else '""' for e in keys["effective_from"]]
    # as the reader does: key_names/key_cols list the key columns the sheet has; ``keys``
    # holds every key of the table, '' where the sheet has no such column
    key_names = tuple(k for k in shape.keys + shape.optional if k in where)
    first = layout.FIRST_DATA_ROW
    keys["row"] = np.arange(first, first + len(rows), dtype=np.int64)
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
            header, _ = parse_rows(text)
            found.append(tuple(h for h in header if MONTH.match(h)))
    if not found:
        raise ValueError("give at least one monthly table or months=")
    return found[0]


def _auto_families(texts: dict[str, str]) -> str:
    seen: dict[str, None] = {}
    for text in texts.values():
        header, rows = parse_rows(text or "")
        names = [_header_name(h) for h in header]
        if "family" in names:
            col = names.index("family")
            seen.update((r[col], None) for r in rows)
    lines = ["family | name | product_line | uom | active"]
    lines += [f"{f} | {f} | | EA | TRUE" for f in seen]
    return "\n".join(lines)


def make_plan(*, demand: str = "", supply: str = "", prices: str = "", std_cost: str = "",
              opening: str = "", variances: str = "", budget: str = "",
              families: str | None = None, months: tuple[str, ...] | None = None,
              **settings: object) -> Plan:
    """A Plan from text tables. ``settings`` are Settings fields (constrained=False, ...);
    scenarios default to those of Demand in order of appearance, months to Demand's."""
    texts = {"demand": demand, "prices": prices, "supply": supply, "opening": opening,
             "std_cost": std_cost, "variances": variances, "budget": budget}
    months = tuple(months) if months is not None else _months_of(texts)
    if "scenarios" not in settings:
        header, rows = parse_rows(demand)
        if "scenario" in [_header_name(h) for h in header]:
            col = [_header_name(h) for h in header].index("scenario")
            settings["scenarios"] = tuple(dict.fromkeys(r[col] for r in rows)) or ("base",)
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


def sheet_rows(plan: Plan) -> dict[str, list[list[object]]]:
    """The plan's input sheets as grids from A1, with every value at its provenance cell."""
    grids: dict[str, list[list[object]]] = {layout.SETTINGS: settings_rows(plan.settings)}
    for kind in SHAPES:
        table: Table = getattr(plan, kind)
        cells: dict[str, list[object]] = {}
        for name, letter in zip(table.key_names, table.key_cols, strict=True):
            cells[letter] = [HEADERS[name]] + [k or None for k in table.keys[name]]
        for j, (name, letter) in enumerate(zip(table.value_names, table.value_cols,
                                               strict=True)):
            cells[letter] = [HEADERS.get(name, name)] + table.values[:, j].tolist()
        width = max(layout.column_index(c) for c in cells)
        grid = [[None] * width for _ in range(len(table) + 1)]
        for letter, column in cells.items():
            for r, value in enumerate(column):
                grid[r][layout.column_index(letter) - 1] = value
        grids[table.sheet] = grid
    return grids


def settings_rows(settings: Settings) -> list[list[object]]:
    rows: list[list[object]] = [list(layout.SETTINGS_HEADERS)]
    for option in OPTIONS:
        value = getattr(settings, option.attr)
        rows.append([option.label, ", ".join(value) if isinstance(value, tuple) else value,
                     option.help])
    return rows
