"""Raw sheet grids -> a Plan of aligned arrays that remember their source cells, plus issues.

The contract is docs/workbook.md; the sheet shapes are ``sopfin.layout.INPUT_SHEETS``.
Reading rules, where the contract leaves room:

* Headers sit in row 1 from column A and end at the first blank header cell. They match
  ignoring case, spaces and underscores. Required key columns come first, in order; optional
  keys (``Channel``, ``EffectiveFrom``) follow them. Monthly tables then have the horizon's
  months; fixed-value tables (OpeningInventory, StdCost) have their value columns in any order
  (EffectiveFrom may also sit after them). Other headers on fixed-value tables are ignored
  with a warning, and so are columns after the last month of the horizon.
* Data rows run from row 2 to the first blank row.
* An empty numeric cell is 0 (units, prices, costs, variances, budget). Text, TRUE/FALSE, a
  date or an Excel error in a numeric cell is an error, even when the text looks like a
  number: "1,200" typed as text is not summed by Excel's own formulas either.
* Keys are text, stripped; a whole number typed in a key cell reads as its digits ("1001").
  A blank Scenario, Family, Channel, Type or Measure is an error and the row is left out.
  Budget measures are read in lower case. Families.Active reads TRUE/FALSE, yes/no, 1/0 and
  blank (= TRUE).
* Missing sheets: Families, Demand, Prices, Supply and StdCost are required (error); a missing
  Budget is a warning; OpeningInventory and PlannedVariances may be absent. A missing Settings
  sheet is an error (the defaults are used so that everything else is still checked).
* Structural errors (a missing required sheet, a missing key or value column, broken month
  headers) leave no Plan; cell-level errors keep it, so validation can still run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from sopfin import layout
from sopfin.layout import InputSheet, column_letter
from sopfin.model import CellRef, Issue, IssueCode, Keys, Plan, Severity, Table, XlError
from sopfin.plan.headers import (
    Columns,
    is_blank,
    key_name,
    key_text,
    month_text,
    read_header,
    shown,
)
from sopfin.plan.issue_log import IssueLog
from sopfin.plan.settings import Settings, parse_settings

REQUIRED_SHEETS = (layout.FAMILIES, layout.DEMAND, layout.PRICES, layout.SUPPLY, layout.STD_COST)
IDENTIFYING_KEYS = frozenset({"Scenario", "Family", "Channel", "Type", "Measure",
                              *layout.OPEX_LINE_KEYS})
PLAN_FIELDS = {
    layout.FAMILIES: "families", layout.DEMAND: "demand", layout.PRICES: "prices",
    layout.SUPPLY: "supply", layout.OPENING_INVENTORY: "opening", layout.STD_COST: "std_cost",
    layout.PLANNED_VARIANCES: "variances", layout.BUDGET: "budget", layout.OPEX: "opex",
}
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_TRUE_TEXT = frozenset({"true", "yes", "y", "1"})
_FALSE_TEXT = frozenset({"false", "no", "n", "0"})


class SheetGrid(Protocol):
    """What the parser needs of a sheet read by the edge (``sopfin.xlsx.read.RawSheet``)."""

    @property
    def name(self) -> str: ...

    @property
    def rows(self) -> list[list[object]]: ...


# ----------------------------------------------------------------------------- the plan
def parse_plan(raw: Mapping[str, SheetGrid], source: str = "") -> tuple[Plan | None, list[Issue]]:
    """Raw sheets (as read from the workbook) -> (Plan or None, every issue found)."""
    log = IssueLog()
    settings = _settings(raw, log)
    months = settings.months
    tables: dict[str, Table] = {}
    broken = False
    for spec in layout.INPUT_SHEETS:
        sheet = raw.get(spec.name)
        if sheet is None:
            broken |= _report_absent(spec, log)
            tables[spec.name] = empty_table(spec, months)
            continue
        table = parse_table(sheet.rows, spec, months, log)
        if table is None:
            broken = True
        else:
            tables[spec.name] = table
    if broken:
        return None, log.issues()
    by_field: dict[str, Any] = {PLAN_FIELDS[name]: t for name, t in tables.items()}
    by_field["budget"], by_field["opex_budget"] = split_opex_rows(tables[layout.BUDGET])
    plan = Plan(settings=settings, months=months,
                has_channel="channel" in tables[layout.DEMAND].key_names,
                source=source, **by_field)
    return plan, log.issues()


def split_opex_rows(table: Table) -> tuple[Table, Table]:
    """A Budget or Actuals table -> (its family rows, its rows of measure opex), each keeping
    the cells its rows came from."""
    opex = (table.keys["measure"] == layout.OPEX_MEASURE).astype(bool) \
        if len(table) else np.zeros(0, dtype=bool)
    return _rows_where(table, ~opex), _rows_where(table, opex)


def _rows_where(table: Table, mask: np.ndarray) -> Table:
    return replace(table, keys=table.keys.take(mask),
                   values=np.ascontiguousarray(table.values[mask]))


def _settings(raw: Mapping[str, SheetGrid], log: IssueLog) -> Settings:
    sheet = raw.get(layout.SETTINGS)
    if sheet is None:
        log.add(Issue(IssueCode.MISSING_SHEET, Severity.ERROR, CellRef(layout.SETTINGS),
                      "the workbook has no sheet 'Settings' (first period, horizon, scenarios)",
                      "add it (sopfin init writes it with every option and its default)"))
        return Settings()
    settings, issues = parse_settings(sheet.rows)
    log.extend(issues)
    return settings


def _report_absent(spec: InputSheet, log: IssueLog) -> bool:
    """Report a missing input sheet; True when the plan cannot be built without it."""
    if spec.name in REQUIRED_SHEETS:
        log.add(Issue(IssueCode.MISSING_SHEET, Severity.ERROR, CellRef(spec.name),
                      f"the workbook has no sheet {spec.name!r}, which every plan needs",
                      "add it with its header row, or run sopfin init to add the missing "
                      "input sheets"))
        return True
    if spec.name == layout.BUDGET:
        log.add(Issue(IssueCode.MISSING_SHEET, Severity.WARNING, CellRef(spec.name),
                      "the workbook has no sheet 'Budget', so there is no budget to compare with",
                      "add it (sopfin init adds it) if the plan should be compared with a budget"))
    return False


def plan_key_names(spec: InputSheet) -> tuple[str, ...]:
    """Every key column the Plan's table has, present on the sheet or not."""
    names = tuple(key_name(h) for h in spec.keys + spec.optional_keys)
    if spec.name == layout.STD_COST:
        names += ("effective_from_literal",)
    return names


def empty_table(spec: InputSheet, months: tuple[str, ...]) -> Table:
    """The table of an absent sheet: no rows, no columns on any sheet."""
    values = months if spec.monthly else tuple(key_name(v) for v in spec.values)
    keys = Keys.of({n: [] for n in plan_key_names(spec)}, row=[])
    return Table(sheet=spec.name, key_names=(), keys=keys, value_names=values,
                 values=np.zeros((0, len(values))), key_cols=(), value_cols=("",) * len(values),
                 first_row=layout.FIRST_DATA_ROW, last_row=layout.FIRST_DATA_ROW - 1)


# ----------------------------------------------------------------------------- one table


def parse_table(rows: Sequence[Sequence[object]], spec: InputSheet, months: tuple[str, ...],
                log: IssueLog) -> Table | None:
    """One input sheet's grid -> Table, or None when its header row is broken."""
    header = list(rows[0]) if rows else []
    columns, header_ok = read_header(spec, header, months, log)
    if not columns.keys:
        return None
    end = table_end(rows, columns.width)
    grid, sheet_rows = body_grid(rows, columns.width, end)
    values = read_numbers(grid[:, list(columns.value_idx)], sheet_rows, columns.value_idx,
                          columns.value_names, spec.name, log)
    if not header_ok:
        return None
    keys, keep = read_keys(grid, sheet_rows, spec, columns, log)
    present = [h for h in spec.keys + spec.optional_keys if h in columns.keys]
    return Table(sheet=spec.name, key_names=tuple(key_name(h) for h in present),
                 keys=keys.take(keep), value_names=columns.value_names,
                 values=np.ascontiguousarray(values[keep]),
                 key_cols=tuple(column_letter(columns.keys[h] + 1) for h in present),
                 value_cols=tuple(column_letter(c + 1) for c in columns.value_idx),
                 first_row=layout.FIRST_DATA_ROW, last_row=end)


def body_grid(rows: Sequence[Sequence[object]], width: int, end: int,
              ) -> tuple[np.ndarray, np.ndarray]:
    """The table's body (rows 1 to ``end`` of the grid, each padded or cut to ``width``) as
    an object array, and the sheet row of each of its rows."""
    body = [list(r[:width]) + [None] * (width - len(r)) for r in rows[1:end]]
    grid = np.empty((len(body), width), dtype=object)
    if body:
        grid[:, :] = body
    return grid, np.arange(layout.FIRST_DATA_ROW, layout.FIRST_DATA_ROW + len(body))


def table_end(rows: Sequence[Sequence[object]], width: int) -> int:
    """Index of the first blank row after the header (the table's last sheet row)."""
    for i in range(1, len(rows)):
        if all(is_blank(v) for v in rows[i][:width]):
            return i
    return len(rows)


# ----------------------------------------------------------------------------- cells
def read_numbers(block: np.ndarray, sheet_rows: np.ndarray, cols: Sequence[int],
                 names: Sequence[str], sheet: str, log: IssueLog) -> np.ndarray:
    """Value cells -> float64 (empty = 0). Any other cell is reported and read as 0."""
    flat = block.ravel()
    kinds = np.fromiter(map(type, flat), dtype=object, count=flat.size)
    # Elementwise comparisons of the cells' types over an object array (not a type test).
    number = (kinds == float) | (kinds == int)  # noqa: E721
    if number.all():
        return flat.astype(np.float64).reshape(block.shape)
    out = np.zeros(flat.size)
    out[number] = flat[number].astype(np.float64)
    fine = number | (kinds == type(None))  # noqa: E721
    for k in np.flatnonzero(kinds == str):  # noqa: E721
        fine[k] = not flat[k].strip()
    error = kinds == XlError  # noqa: E721
    width = block.shape[1]
    for code, hits in ((IssueCode.EXCEL_ERROR, np.flatnonzero(~fine & error)),
                       (IssueCode.NOT_A_NUMBER, np.flatnonzero(~fine & ~error))):
        room = log.room(code, sheet)
        for k in hits[:room]:
            r, c = divmod(int(k), width)
            where = CellRef(sheet, f"{column_letter(cols[c] + 1)}{sheet_rows[r]}")
            log.add(_bad_number(flat[k], names[c], where))
        log.count_more(code, Severity.ERROR, sheet, len(hits) - room)
    return out.reshape(block.shape)


def _bad_number(value: object, name: str, where: CellRef) -> Issue:
    if isinstance(value, XlError):
        return Issue(IssueCode.EXCEL_ERROR, Severity.ERROR, where,
                     f"expected a number for {name}, found {value.described()}",
                     "fix the formula or the cell it refers to, or type a number")
    if isinstance(value, str):
        plain = value.strip().replace(",", "").replace(" ", "")
        try:
            as_number = float(plain)
        except ValueError:
            return Issue(IssueCode.NOT_A_NUMBER, Severity.ERROR, where,
                         f"expected a number for {name}, found the text {value!r}",
                         "type a number, or leave the cell empty for 0")
        return Issue(IssueCode.NOT_A_NUMBER, Severity.ERROR, where,
                     f"expected a number for {name}, found the text {value!r}",
                     f"type it as a number ({as_number:g}), not as text")
    return Issue(IssueCode.NOT_A_NUMBER, Severity.ERROR, where,
                 f"expected a number for {name}, found {key_text(value)}",
                 "type a number, or leave the cell empty for 0")


def read_keys(grid: np.ndarray, sheet_rows: np.ndarray, spec: InputSheet, columns: Columns,
              log: IssueLog) -> tuple[Keys, np.ndarray]:
    """Key cells -> text columns (one per Plan key name, plus ``row``) and the rows to keep.

    Rows with a blank identifying key or an Excel error in a key are reported and dropped.
    """
    keep = np.ones(len(grid), dtype=bool)
    data: dict[str, list[str]] = {}
    for header in spec.keys + spec.optional_keys:
        col = columns.keys.get(header)
        if header == "EffectiveFrom":
            data.update(_effective_from(grid, sheet_rows, col, spec.name, log))
            continue
        if col is None:
            data[key_name(header)] = [""] * len(grid)
            continue
        cells, letter = grid[:, col].tolist(), column_letter(col + 1)

        def where(i: int, letter: str = letter) -> CellRef:
            return CellRef(spec.name, f"{letter}{sheet_rows[i]}")

        texts = [v.strip() if type(v) is str else key_text(v) for v in cells]
        for i in [i for i, v in enumerate(cells) if type(v) is XlError]:
            keep[i], texts[i] = False, ""
            log.add(Issue(IssueCode.EXCEL_ERROR, Severity.ERROR, where(i),
                          f"expected a {header}, found {cells[i].described()}",
                          "fix the formula or the cell it refers to, or type the value"))
        if header == "Active":
            texts = [_active(v, where(i), log) if keep[i] else "" for i, v in enumerate(cells)]
        elif header in ("Rate", layout.OPEX_HEADCOUNT):
            rates = [_rate(v, header, where(i), log) for i, v in enumerate(cells)]
            keep &= np.array([r is not None for r in rates], dtype=bool)
            texts = [r or "" for r in rates]
        elif header in IDENTIFYING_KEYS:
            needed = _key_needed(header, grid, spec, columns)
            for i in [i for i, t in enumerate(texts) if not t and keep[i] and needed[i]]:
                keep[i] = False
                log.add(Issue(IssueCode.BLANK_KEY, Severity.ERROR, where(i),
                              f"{header} is blank in a row that has data",
                              f"fill in the {header}, or delete the row"))
        data[key_name(header)] = [t.lower() for t in texts] if header == "Measure" else texts
    return Keys.of(data, row=sheet_rows.astype(np.int64)), keep


def _key_needed(header: str, grid: np.ndarray, spec: InputSheet, columns: Columns) -> list[bool]:
    """Per row, whether a blank ``header`` cell is an error. On Budget and Actuals a row of
    measure opex names a Department and Account and leaves Family (and Channel) blank; a family
    row needs its Family (and Channel) and no Department or Account."""
    measure_col = columns.keys.get("Measure")
    if measure_col is None or spec.name == layout.OPEX:
        return [True] * len(grid)
    opex = [key_text(v).lower() == layout.OPEX_MEASURE for v in grid[:, measure_col]]
    if header in layout.OPEX_LINE_KEYS:
        return opex
    return [not o for o in opex] if header in ("Family", "Channel") else [True] * len(grid)


def _active(value: object, where: CellRef, log: IssueLog) -> str:
    """Families.Active -> 'TRUE' / 'FALSE' (blank = TRUE)."""
    text = key_text(value).lower()
    if not text or text in _TRUE_TEXT:
        return "TRUE"
    if text in _FALSE_TEXT:
        return "FALSE"
    log.add(Issue(IssueCode.VALUE_INVALID, Severity.ERROR, where,
                  f"Active must be TRUE or FALSE, found {shown(value)}",
                  "type TRUE or FALSE (blank means TRUE)"))
    return "TRUE"


def _rate(value: object, header: str, where: CellRef, log: IssueLog) -> str | None:
    """Opex.Rate or Headcount -> the number as text ('' when blank); None (reported) for
    anything else."""
    if is_blank(value):
        return ""
    if type(value) in (int, float):
        return repr(float(value))  # type: ignore[arg-type]
    if not isinstance(value, XlError):
        log.add(_bad_number(value, header, where))
    return None


def _effective_from(grid: np.ndarray, sheet_rows: np.ndarray, col: int | None, sheet: str,
                    log: IssueLog) -> dict[str, list[str]]:
    """StdCost.EffectiveFrom -> 'YYYY-MM' or '' and the cell's value as a formula literal."""
    if col is None:
        return {"effective_from": [""] * len(grid), "effective_from_literal": ['""'] * len(grid)}
    texts, literals = [], []
    letter = column_letter(col + 1)
    for i, value in enumerate(grid[:, col]):
        month = month_text(value)
        if is_blank(value):
            texts.append("")
            literals.append(f'"{value or ""}"')
        elif month is not None:
            texts.append(month)
            literals.append(_date_serial(value) if isinstance(value, dt.date)
                            else '"' + str(value).replace('"', '""') + '"')
        else:
            log.add(Issue(IssueCode.VALUE_INVALID, Severity.ERROR,
                          CellRef(sheet, f"{letter}{sheet_rows[i]}"),
                          "EffectiveFrom must be a month (YYYY-MM) or blank, found "
                          f"{shown(value)}",
                          "type the month as text, e.g. '2027-03', or leave it blank for "
                          "'from the start'"))
            texts.append(key_text(value))
            literals.append('""')
    return {"effective_from": texts, "effective_from_literal": literals}


def _date_serial(value: dt.date) -> str:
    """A date cell's value as Excel stores it: days since 1899-12-30 (time as a fraction)."""
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime.combine(_EXCEL_EPOCH, dt.time())
        serial = delta.days + delta.seconds / 86400
        return str(int(serial)) if float(serial).is_integer() else repr(serial)
    return str((value - _EXCEL_EPOCH).days)
