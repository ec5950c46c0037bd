"""An input sheet's header row: where its key, month and value columns sit (``read_header``),
with an issue at the header cell for every column that is missing, out of order, repeated or
not part of the table. Headers match ignoring case, spaces and underscores."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sopfin import layout
from sopfin.layout import InputSheet, cell_name, column_letter
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.plan.issue_log import IssueLog

_NAME_OVERRIDES = {"UoM": "uom"}
_MONTH_RE = re.compile(layout.MONTH_PATTERN)


@dataclass(frozen=True)
class Columns:
    """Where one table's columns sit (0-based), as read from its header row."""

    keys: dict[str, int]  # layout header -> column, for the key columns on the sheet
    value_names: tuple[str, ...]  # months, or value names ('material', ...)
    value_idx: tuple[int, ...]  # aligned with value_names
    width: int  # header cells up to the first blank one


def key_name(header: str) -> str:
    """Layout header -> Plan key or value name: 'ProductLine' -> 'product_line'."""
    if header in _NAME_OVERRIDES:
        return _NAME_OVERRIDES[header]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", header).lower()


def header_key(value: object) -> str:
    """How headers are compared: case, spaces and underscores do not matter."""
    return re.sub(r"[\s_]+", "", str(value)).lower() if value is not None else ""


def read_header(spec: InputSheet, header: list[object], months: tuple[str, ...],
                log: IssueLog) -> tuple[Columns, bool]:
    """Locate the key and value columns; (columns, True when the header is sound)."""
    width = next((i for i, v in enumerate(header) if is_blank(v)), len(header))
    cells = header[:width]
    keys: dict[str, int] = {}
    for i, name in enumerate(spec.keys):
        if i >= width or header_key(cells[i]) != header_key(name):
            found = shown(cells[i]) if i < width else "a blank cell"
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
                          f"the month header {shown(cells[col + i])} is not a month; "
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
        message = f"the column {shown(value)} after the last month is ignored"
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
                          f"the column {shown(cells[i])} is not part of the {spec.name} table "
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


def is_blank(value: object) -> bool:
    return value is None or (type(value) is str and not value.strip())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def shown(value: object) -> str:
    return "a blank cell" if is_blank(value) else repr(key_text(value))


def key_text(value: object) -> str:
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
