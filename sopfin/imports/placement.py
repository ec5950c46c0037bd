"""An import's lines -> the cells to set on its sheet: the imported months of every row are
replaced (a row the import does not mention gets blanks there, so importing the same months
twice never doubles them), other months are left as they are, and keys the sheet lacks get
new rows after the table.

Pure: the sheet comes in as its grid (from A1), the cells go out as ``(ref, value)`` pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sopfin import layout
from sopfin.imports.transform import ImportResult
from sopfin.layout import InputSheet, cell_name
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.plan.headers import read_header
from sopfin.plan.issue_log import IssueLog
from sopfin.plan.read import table_end

# The import's key names -> the sheet's headers.
HEADERS = {"family": "Family", "measure": "Measure", "scenario": "Scenario",
           "channel": "Channel", "type": "Type", "department": "Department",
           "account": "Account"}


@dataclass(frozen=True)
class Placement:
    """What an import changes on its sheet."""

    cells: tuple[tuple[str, float | str | None], ...]  # (ref, value) in sheet order
    rows_updated: int
    rows_added: int
    rows_cleared: int  # rows the import does not mention, blanked in its months


def _text(value: object) -> str:
    return "" if value is None else str(value).strip()


def place_import(rows: Sequence[Sequence[object]], result: ImportResult,
                 months: tuple[str, ...]) -> tuple[Placement | None, list[Issue]]:
    """Where ``result`` lands on its sheet, whose grid is ``rows``; or the issues that stop
    it (a broken header, a key column the sheet lacks, duplicate rows, no room below)."""
    spec = next(s for s in layout.INPUT_SHEETS + layout.FINANCE_SHEETS if s.name == result.target)
    log = IssueLog()
    columns, ok = read_header(spec, list(rows[0]) if rows else [], months, log)
    issues = [i for i in log.issues() if i.severity is Severity.ERROR]
    if not ok or issues:
        return None, issues
    headers = [HEADERS[k] for k in result.key_names]
    used = {k for ln in result.lines for k, v in zip(result.key_names, ln.keys, strict=True)
            if v}
    missing = [h for k, h in zip(result.key_names, headers, strict=True)
               if h not in columns.keys and k in used]
    if missing:
        return None, [Issue(IssueCode.MISSING_COLUMN, Severity.ERROR, CellRef(spec.name, "A1"),
                            f"the import has a {missing[0]} for each line but sheet "
                            f"{spec.name} has no {missing[0]} column",
                            f"add the {missing[0]} column after the key columns, or leave "
                            f"{missing[0].lower()} out of the mapping")]
    month_col = dict(zip(columns.value_names, columns.value_idx, strict=True))
    end = table_end(rows, columns.width)
    wanted: dict[tuple[str, ...], dict[str, float]] = {}
    for ln in result.lines:
        key = tuple(v for v, h in zip(ln.keys, headers, strict=True) if h in columns.keys)
        wanted.setdefault(key, {})[ln.month] = ln.value
    present = [h for h in headers if h in columns.keys]
    in_scope = _scope(present, wanted)
    existing, issues = _existing_rows(rows, spec, columns.keys, headers, end, in_scope)
    issues += _channel_not_brought(rows, spec, columns.keys, headers, end, in_scope)
    if issues:
        return None, issues
    return _cells(rows, spec, columns.keys, headers, month_col, existing, wanted,
                  result.months, end)


SCOPE_HEADERS = ("Measure", "Scenario", "Type")


def _scope(present: list[str], wanted: dict[tuple[str, ...], dict[str, float]]
           ) -> Callable[[tuple[str, ...]], bool]:
    """Which existing rows an import replaces in its months: those of the measures (and
    scenarios, variance types) it brings; on a sheet without such keys (Prices), those of
    the families it brings. An import of revenue never blanks units."""
    named = [present.index(h) for h in SCOPE_HEADERS if h in present]
    if not named:
        named = [present.index("Family")]
    brought = {tuple(k[i] for i in named) for k in wanted}
    return lambda key: tuple(key[i] for i in named) in brought


def _existing_rows(rows: Sequence[Sequence[object]], spec: InputSheet,
                   key_cols: dict[str, int], headers: list[str], end: int,
                   in_scope: Callable[[tuple[str, ...]], bool],
                   ) -> tuple[dict[tuple[str, ...], int], list[Issue]]:
    """The rows the import replaces, by key: only rows in its scope (the opex rows of
    Actuals, keyed by Department and Account, are out of a family import's scope)."""
    present = [h for h in headers if h in key_cols]
    out: dict[tuple[str, ...], int] = {}
    issues = []
    for i in range(1, end):
        row = rows[i]
        key = tuple(_text(row[key_cols[h]] if key_cols[h] < len(row) else None)
                    for h in present)
        if not in_scope(key):
            continue
        if key in out:
            issues.append(Issue(IssueCode.DUPLICATE_ROW, Severity.ERROR,
                                CellRef(spec.name, cell_name(i + 1, 1)),
                                f"row {i + 1} repeats the keys of row {out[key] + 1} "
                                f"({', '.join(key)}), so the import cannot tell which to fill",
                                "merge the two rows, or delete one"))
        else:
            out[key] = i
    return out, issues


def _channel_not_brought(rows: Sequence[Sequence[object]], spec: InputSheet,
                         key_cols: dict[str, int], headers: list[str], end: int,
                         in_scope: Callable[[tuple[str, ...]], bool]) -> list[Issue]:
    """An import without a channel cannot fill rows by channel: it could not tell whose."""
    col = key_cols.get("Channel")
    if col is None or "Channel" in headers:
        return []
    present = [h for h in headers if h in key_cols]
    for i in range(1, end):
        row = rows[i]
        key = tuple(_text(row[key_cols[h]] if key_cols[h] < len(row) else None)
                    for h in present)
        channel = _text(row[col] if col < len(row) else None)
        if channel and in_scope(key):
            return [Issue(IssueCode.CHANNEL_MISMATCH, Severity.ERROR,
                          CellRef(spec.name, cell_name(i + 1, col + 1)),
                          f"sheet {spec.name} holds these measures by channel ({channel!r} "
                          "here) and the import brings no channel, so it cannot tell which "
                          "row a figure belongs to",
                          "name the channel in the mapping (channel = \"<column>\" under "
                          "[columns]), or import into a sheet without channels")]
    return []


def _cells(rows: Sequence[Sequence[object]], spec: InputSheet, key_cols: dict[str, int],
           headers: list[str], month_col: dict[str, int],
           existing: dict[tuple[str, ...], int], wanted: dict[tuple[str, ...], dict[str, float]],
           months: Sequence[str], end: int) -> tuple[Placement | None, list[Issue]]:
    cells: list[tuple[int, int, float | str | None]] = []
    updated = cleared = 0
    for key, i in existing.items():
        new = wanted.get(key, {})
        changed = False
        for m in months:
            col = month_col[m]
            old = rows[i][col] if col < len(rows[i]) else None
            value = new.get(m)
            if value != old:
                cells.append((i + 1, col + 1, value))
                changed = True
        updated += bool(new) and changed
        cleared += not new and changed
    present = [h for h in headers if h in key_cols]
    added = [k for k in wanted if k not in existing]
    blocked = _no_room(rows, end, len(added), spec)
    if blocked:
        return None, [blocked]
    for n, key in enumerate(added):
        r = end + 1 + n
        cells += [(r, key_cols[h] + 1, v) for h, v in zip(present, key, strict=True)]
        cells += [(r, month_col[m] + 1, v) for m, v in wanted[key].items()]
    ordered = tuple((cell_name(r, c), v) for r, c, v in sorted(cells, key=lambda x: x[:2]))
    return Placement(ordered, updated, len(added), cleared), []


def _no_room(rows: Sequence[Sequence[object]], end: int, needed: int, spec: InputSheet
             ) -> Issue | None:
    """New rows go right after the table; the rows there must be empty."""
    for i in range(end, min(end + needed, len(rows))):
        if any(_text(v) for v in rows[i]):
            return Issue(IssueCode.VALUE_INVALID, Severity.ERROR,
                         CellRef(spec.name, cell_name(i + 1, 1)),
                         f"the import adds {needed} rows after the table, but row {i + 1} "
                         "holds something", "move what is below the table further down, or "
                         "insert empty rows after the table")
    return None
