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
import difflib
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np

from sopfin import layout
from sopfin.layout import InputSheet, cell_name, column_letter
from sopfin.model import CellRef, Issue, IssueCode, Keys, Plan, Severity, Table, XlError
from sopfin.plan.settings import Settings, parse_settings

ISSUES_PER_CODE = 50  # issues kept per code and sheet; the rest are counted in one summary
REQUIRED_SHEETS = (layout.FAMILIES, layout.DEMAND, layout.PRICES, layout.SUPPLY, layout.STD_COST)
IDENTIFYING_KEYS = frozenset({"Scenario", "Family", "Channel", "Type", "Measure",
                              *layout.OPEX_LINE_KEYS})
PLAN_FIELDS = {
    layout.FAMILIES: "families", layout.DEMAND: "demand", layout.PRICES: "prices",
    layout.SUPPLY: "supply", layout.OPENING_INVENTORY: "opening", layout.STD_COST: "std_cost",
    layout.PLANNED_VARIANCES: "variances", layout.BUDGET: "budget", layout.OPEX: "opex",
}
_NAME_OVERRIDES = {"UoM": "uom"}
_MONTH_RE = re.compile(layout.MONTH_PATTERN)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_TRUE_TEXT = frozenset({"true", "yes", "y", "1"})
_FALSE_TEXT = frozenset({"false", "no", "n", "0"})


class SheetGrid(Protocol):
    """What the parser needs of a sheet read by the edge (``sopfin.xlsx.read.RawSheet``)."""

    @property
    def name(self) -> str: ...

    @property
    def rows(self) -> list[list[object]]: ...


class IssueLog:
    """Collects issues, keeping the first ``limit`` per code and sheet and counting the rest."""

    def __init__(self, limit: int = ISSUES_PER_CODE) -> None:
        self.limit = limit
        self._kept: list[Issue] = []
        self._counts: Counter[tuple[IssueCode, str]] = Counter()
        self._severity: dict[tuple[IssueCode, str], Severity] = {}

    def room(self, code: IssueCode, sheet: str) -> int:
        return max(0, self.limit - self._counts[(code, sheet)])

    def add(self, issue: Issue) -> None:
        key = (issue.code, issue.sheet)
        self._counts[key] += 1
        self._severity.setdefault(key, issue.severity)
        if self._counts[key] <= self.limit:
            self._kept.append(issue)

    def extend(self, issues: Sequence[Issue]) -> None:
        for issue in issues:
            self.add(issue)

    def count_more(self, code: IssueCode, severity: Severity, sheet: str, n: int) -> None:
        """Count ``n`` further issues that were not built because the limit is reached."""
        if n > 0:
            self._counts[(code, sheet)] += n
            self._severity.setdefault((code, sheet), severity)

    def issues(self) -> list[Issue]:
        out = list(self._kept)
        for (code, sheet), count in self._counts.items():
            if count > self.limit:
                out.append(Issue(code, self._severity[(code, sheet)], CellRef(sheet),
                                 f"\u2026 and {count - self.limit:,} more {code.value} issues "
                                 "like the ones above", "fix those, then check again",
                                 more=count - self.limit))
        return out


def suggest_name(name: str, known: Iterable[str]) -> str:
    """' (did you mean 'X'?)' for a known name equal but for case, or close; else ''."""
    known = list(known)
    same = [k for k in known if k.casefold() == name.casefold()]
    close = same or difflib.get_close_matches(name, known, n=1, cutoff=0.8)
    return f" (did you mean {close[0]!r}?)" if close else ""


def limit_issues(issues: Sequence[Issue], limit: int = ISSUES_PER_CODE) -> list[Issue]:
    """Keep the first ``limit`` issues per code and sheet; summarise the rest in one issue."""
    log = IssueLog(limit)
    log.extend(issues)
    return log.issues()


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


def key_name(header: str) -> str:
    """Layout header -> Plan key or value name: 'ProductLine' -> 'product_line'."""
    if header in _NAME_OVERRIDES:
        return _NAME_OVERRIDES[header]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", header).lower()


def header_key(value: object) -> str:
    """How headers are compared: case, spaces and underscores do not matter."""
    return re.sub(r"[\s_]+", "", str(value)).lower() if value is not None else ""


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
@dataclass(frozen=True)
class Columns:
    """Where one table's columns sit (0-based), as read from its header row."""

    keys: dict[str, int]  # layout header -> column, for the key columns on the sheet
    value_names: tuple[str, ...]  # months, or value names ('material', ...)
    value_idx: tuple[int, ...]  # aligned with value_names
    width: int  # header cells up to the first blank one


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
        if all(_is_blank(v) for v in rows[i][:width]):
            return i
    return len(rows)


def _is_blank(value: object) -> bool:
    return value is None or (type(value) is str and not value.strip())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _shown(value: object) -> str:
    return "a blank cell" if _is_blank(value) else repr(_key_text(value))


# ----------------------------------------------------------------------------- headers
def read_header(spec: InputSheet, header: list[object], months: tuple[str, ...],
                log: IssueLog) -> tuple[Columns, bool]:
    """Locate the key and value columns; (columns, True when the header is sound)."""
    width = next((i for i, v in enumerate(header) if _is_blank(v)), len(header))
    cells = header[:width]
    keys: dict[str, int] = {}
    for i, name in enumerate(spec.keys):
        if i >= width or header_key(cells[i]) != header_key(name):
            found = _shown(cells[i]) if i < width else "a blank cell"
            log.add(Issue(IssueCode.MISSING_COLUMN, Severity.ERROR,
                          CellRef(spec.name, cell_name(1, i + 1)),
                          f"expected the column {name!r} here, found {found}; the table must "
                          f"start in column A with {', '.join(spec.keys)}, in this order",
                          f"rename this header to {name!r} or insert the column"))
            return Columns({}, (), (), width), False
        keys[name] = i
    col = len(spec.keys)
    optional = {header_key(h): h for h in spec.optional_keys}
    while col < width and optional.get(header_key(cells[col])) not in (None, *keys):
        keys[optional[header_key(cells[col])]] = col
        col += 1
    if spec.monthly:
        names, idx, ok = _month_columns(spec.name, cells, col, months, log)
    else:
        names, idx, ok = _value_columns(spec, cells, col, keys, log)
    return Columns(keys, names, idx, width), ok


def _all_headers(spec: InputSheet) -> tuple[str, ...]:
    return spec.keys + spec.values + spec.optional_values + spec.optional_keys


def month_text(value: object) -> str | None:
    """A month header or EffectiveFrom cell -> 'YYYY-MM' (None when it is not a month)."""
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    if isinstance(value, str) and _MONTH_RE.match(value.strip()):
        return value.strip()
    return None


def _month_columns(sheet: str, cells: list[object], col: int, months: tuple[str, ...],
                   log: IssueLog) -> tuple[tuple[str, ...], tuple[int, ...], bool]:
    span = f"the {len(months)} months {months[0]} to {months[-1]}"
    found = [month_text(v) for v in cells[col:]]
    used = min(len(found), len(months))
    ok = True
    for i in range(used):
        if found[i] is None:
            ok = False
            log.add(Issue(IssueCode.MONTH_HEADER_INVALID, Severity.ERROR,
                          CellRef(sheet, cell_name(1, col + i + 1)),
                          f"the month header {_shown(cells[col + i])} is not a month; "
                          f"expected {months[i]!r}",
                          f"type the header as the text '{months[i]}' (YYYY-MM)"))
    seen = set(found)
    missing = [k for k, m in enumerate(months)
               if m not in seen and not (k < len(found) and found[k] is None)]
    if missing:
        listed = ", ".join(months[k] for k in missing[:6])
        listed += ", \u2026" if len(missing) > 6 else ""
        log.add(Issue(IssueCode.MONTHS_MISSING, Severity.ERROR,
                      CellRef(sheet, cell_name(1, col + missing[0] + 1)),
                      f"{_count(len(missing), 'month')} of the horizon "
                      f"{'is' if len(missing) == 1 else 'are'} missing ({listed}); expected "
                      f"{span}, one column each, from column {column_letter(col + 1)}",
                      f"insert a column headed '{months[missing[0]]}' here"))
        ok = False
    elif ok:
        wrong = next((i for i in range(len(months)) if found[i] != months[i]), None)
        if wrong is not None:
            log.add(Issue(IssueCode.MONTHS_OUT_OF_ORDER, Severity.ERROR,
                          CellRef(sheet, cell_name(1, col + wrong + 1)),
                          f"found month {found[wrong]} where {months[wrong]} was expected; "
                          f"the headers must be {span}, in order, one column each",
                          "put the month columns in order and remove repeated months"))
            ok = False
    if ok:
        for i in range(len(months), len(found)):
            _report_extra_column(sheet, cells[col + i], found[i], col + i, months, log)
    return months[:used], tuple(range(col, col + used)), ok


def _report_extra_column(sheet: str, value: object, month: str | None, col: int,
                         months: tuple[str, ...], log: IssueLog) -> None:
    if month is not None:
        message = (f"the month {month} is after the plan horizon ({months[0]} to {months[-1]}) "
                   "and is ignored")
        fix = "extend 'Horizon (months)' on Settings to include it, or delete the column"
    else:
        message = f"the column {_shown(value)} after the last month is ignored"
        fix = "delete it, or leave a blank column before it (a blank header ends the table)"
    log.add(Issue(IssueCode.UNKNOWN_COLUMN, Severity.WARNING, CellRef(sheet, cell_name(1, col + 1)),
                  message, fix))


def _value_columns(spec: InputSheet, cells: list[object], col: int, keys: dict[str, int],
                   log: IssueLog) -> tuple[tuple[str, ...], tuple[int, ...], bool]:
    wanted = {header_key(v): v for v in spec.values}
    optional = {header_key(h): h for h in spec.optional_keys}
    read_elsewhere = {header_key(h) for h in spec.optional_values}
    found: dict[str, int] = {}
    ok = True
    for i in range(col, len(cells)):
        label, where = header_key(cells[i]), CellRef(spec.name, cell_name(1, i + 1))
        name = wanted.get(label)
        if label in read_elsewhere:
            continue  # optional values are not in the plan's table (StdCost's standards)
        if name is not None and name in found:
            ok = False
            log.add(Issue(IssueCode.UNKNOWN_COLUMN, Severity.ERROR, where,
                          f"the column {name!r} appears twice (first in "
                          f"{cell_name(1, found[name] + 1)})", "delete or rename one of them"))
        elif name is not None:
            found[name] = i
        elif optional.get(label) is not None and optional[label] not in keys:
            keys[optional[label]] = i
        else:
            log.add(Issue(IssueCode.UNKNOWN_COLUMN, Severity.WARNING, where,
                          f"the column {_shown(cells[i])} is not part of the {spec.name} table "
                          "and is ignored",
                          f"the columns are {', '.join(_all_headers(spec))}"
                          "; rename it if it is meant to be one of them"))
    missing = [v for v in spec.values if v not in found]
    if missing:
        ok = False
        log.add(Issue(IssueCode.MISSING_COLUMN, Severity.ERROR,
                      CellRef(spec.name, cell_name(1, len(cells) + 1)),
                      f"the column(s) {', '.join(repr(v) for v in missing)} are missing; "
                      f"expected the columns {', '.join(spec.keys + spec.values)}",
                      f"add a column headed {missing[0]!r} here"))
    names = tuple(key_name(v) for v in spec.values if v in found)
    return names, tuple(found[v] for v in spec.values if v in found), ok


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
                 f"expected a number for {name}, found {_key_text(value)}",
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

        texts = [v.strip() if type(v) is str else _key_text(v) for v in cells]
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
    opex = [_key_text(v).lower() == layout.OPEX_MEASURE for v in grid[:, measure_col]]
    if header in layout.OPEX_LINE_KEYS:
        return opex
    return [not o for o in opex] if header in ("Family", "Channel") else [True] * len(grid)


def _key_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def _active(value: object, where: CellRef, log: IssueLog) -> str:
    """Families.Active -> 'TRUE' / 'FALSE' (blank = TRUE)."""
    text = _key_text(value).lower()
    if not text or text in _TRUE_TEXT:
        return "TRUE"
    if text in _FALSE_TEXT:
        return "FALSE"
    log.add(Issue(IssueCode.VALUE_INVALID, Severity.ERROR, where,
                  f"Active must be TRUE or FALSE, found {_shown(value)}",
                  "type TRUE or FALSE (blank means TRUE)"))
    return "TRUE"


def _rate(value: object, header: str, where: CellRef, log: IssueLog) -> str | None:
    """Opex.Rate or Headcount -> the number as text ('' when blank); None (reported) for
    anything else."""
    if _is_blank(value):
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
        if _is_blank(value):
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
                          f"{_shown(value)}",
                          "type the month as text, e.g. '2027-03', or leave it blank for "
                          "'from the start'"))
            texts.append(_key_text(value))
            literals.append('""')
    return {"effective_from": texts, "effective_from_literal": literals}


def _date_serial(value: dt.date) -> str:
    """A date cell's value as Excel stores it: days since 1899-12-30 (time as a fraction)."""
    if isinstance(value, dt.datetime):
        delta = value - dt.datetime.combine(_EXCEL_EPOCH, dt.time())
        serial = delta.days + delta.seconds / 86400
        return str(int(serial)) if float(serial).is_integer() else repr(serial)
    return str((value - _EXCEL_EPOCH).days)
