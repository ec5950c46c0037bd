"""Source rows -> the lines of an input sheet, in DuckDB: find the header, pick the data rows,
filter, parse, map items to families (or, for opex, name each row's line of sheet Opex), turn
values into measures, sum by key and month.

Every problem is found in the same pass and reported at once, each at its source row: an
unmapped item once with its row count and amounts, a bad date or number at each row (the
first ``ROWS_LISTED`` of a kind, then one issue standing for the rest).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb

from sopfin.imports.duck import (
    amounts_sql,
    amounts_text,
    count,
    ident,
    listed,
    one_row,
    register,
    repr_sql,
    sql_text,
)
from sopfin.imports.mapping import Filter, ImportMap, key_names
from sopfin.imports.plan_keys import (
    OpexLines,
    channel_issues,
    family_rows_view,
    line_issues,
    opex_rows_view,
    unknown_families,
    unmapped_items,
)
from sopfin.imports.sources import load_source
from sopfin.model import Issue, IssueCode, Severity, SourceRow

HEADER_SCAN_ROWS = 100
PERIOD_FORMATS = ("%Y-%m", "%Y%m", "%Y/%m", "%m/%Y", "%b %Y", "%B %Y", "%Y-%m-%d")


@dataclass(frozen=True)
class ImportLine:
    keys: tuple[str, ...]  # in the order of ``ImportResult.key_names``
    month: str
    value: float


@dataclass(frozen=True)
class ImportResult:
    """What an import would put on its sheet, and what it found on the way."""

    source: str
    source_sha256: str
    target: str
    key_names: tuple[str, ...]
    lines: tuple[ImportLine, ...] = ()
    months: tuple[str, ...] = ()  # the months the import covers (replaced on the sheet)
    rows_read: int = 0  # data rows (headers, group and total rows left out)
    rows_filtered: int = 0  # left out by the mapping's filters
    rows_other: int = 0  # long layouts: rows of a measure the mapping does not import
    rows_used: int = 0
    totals: Mapping[str, float] = field(default_factory=dict)  # per measure
    issues: tuple[Issue, ...] = ()


@dataclass(frozen=True)
class _PlanKeys:
    """The plan's names an import's keys are checked against (None: not checked)."""

    families: Collection[str] | None
    opex_lines: OpexLines | None
    channels: Collection[str] | None


@dataclass(frozen=True)
class _Columns:
    """Logical column -> the source column's position, once the header is found."""

    header_row: int
    at: Mapping[str, int]  # "date", "period", "item", "group", "amount", "measure", keys...
    values: Mapping[str, int]  # measure -> position
    filters: tuple[int, ...]


def _norm(text: object) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip().casefold()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def import_table(path: Path, mapping: ImportMap, target: str, *, months: Sequence[str],
                 families: Collection[str] | None = None,
                 family_sheet: Mapping[str, str] | None = None,
                 opex_lines: OpexLines | None = None,
                 channels: Collection[str] | None = None) -> ImportResult:
    """Read ``path`` through ``mapping`` into the lines of sheet ``target`` for the plan's
    ``months``. ``families``: the plan's families (a mapped family not among them is an
    issue); ``family_sheet``: item -> family from the workbook's Mapping sheet;
    ``opex_lines``: the plan's Opex lines, department -> accounts (an opex import's line not
    among them is an issue); ``channels``: Demand's channels, which a Budget or Actuals
    import's channels must be among. None: not checked."""
    base = ImportResult(path.name, file_sha256(path), target, key_names(target, mapping))
    con = duckdb.connect()
    try:
        width, issues = load_source(con, path, mapping.sheet)
        if issues:
            return replace(base, issues=tuple(issues))
        cols, issues = _find_columns(con, mapping, width, path.name)
        if cols is None:
            return replace(base, issues=tuple(issues))
        table = mapping.family_table if mapping.families == "table" else (family_sheet or {})
        register(con, "famap", ("item", "family"), table.items())
        register(con, "meamap", ("name", "measure"), mapping.measures.items())
        register(con, "horizon", ("month",), ((m,) for m in months))
        _rows_view(con, mapping, cols)
        return _collect(con, base, mapping, cols, _PlanKeys(families, opex_lines, channels))
    finally:
        con.close()


# ------------------------------------------------------------------ the header


def _wanted(m: ImportMap) -> dict[str, tuple[str, ...]]:
    want = {"date": m.date, "period": m.period, "item": m.item, "amount": m.amount,
            "credit": m.credit, "measure": m.measure_from, **{k: v for k, v in m.keys.items()}}
    return {k: v for k, v in want.items() if v}


def _find_columns(con: duckdb.DuckDBPyConnection, m: ImportMap, width: int, source: str
                  ) -> tuple[_Columns | None, list[Issue]]:
    head = con.execute(f"SELECT * FROM raw WHERE _row <= {HEADER_SCAN_ROWS} ORDER BY _row"
                       ).fetchall()
    wanted = _wanted(m)
    every = [*wanted.values(), *m.values.values(), *(f.column for f in m.filters)]
    rows = [r for r in head if m.header_row is None or r[0] == m.header_row]
    best: tuple[int, int, list[str]] = (-1, 0, [])
    for row in rows:
        cells = [_norm(c) for c in row[1:]]
        found = sum(any(_norm(n) in cells for n in names) for names in every)
        if found > best[0]:
            best = (found, row[0], cells)
        if found == len(every):
            break
    found, header_row, cells = best
    missing = [names for names in every if not any(_norm(n) in cells for n in names)]
    group = _group_position(m, cells)
    if m.group_column and group is None:
        missing.append(m.group_column)
    if missing or header_row == 0:
        shown = "; ".join(" or ".join(repr(n) for n in names) for names in missing)
        where = SourceRow(source, header_row or 0)
        look = (f"row {header_row}" if header_row else
                f"the first {HEADER_SCAN_ROWS} rows")
        return None, [Issue(IssueCode.SOURCE_COLUMN_MISSING, Severity.ERROR, where,
                            f"no column {shown} in {look} (the header row found has "
                            f"{len([c for c in cells if c])} named columns)",
                            "check the export's columns, or set the names in the mapping")]

    def pos(names: tuple[str, ...]) -> int:
        return next(cells.index(_norm(n)) for n in names if _norm(n) in cells)

    at = {k: pos(v) for k, v in wanted.items()}
    if group is not None:
        at["group"] = group
        if not m.item:  # report layouts: the group rows name the item
            at["item"] = group
    values = {measure: pos(names) for measure, names in m.values.items()}
    return _Columns(header_row, at, values, tuple(pos(f.column) for f in m.filters)), []


def _group_position(m: ImportMap, cells: list[str]) -> int | None:
    """Report layouts put each group's name on a row of its own; the group column is named in
    the header, or is the header's first, unnamed column."""
    if not m.group_column:
        return None
    for name in m.group_column:
        if _norm(name) in cells:
            return cells.index(_norm(name))
    return 0 if cells and not cells[0] else None


# ------------------------------------------------------------------ the rows


def _number(col: str, decimal: str = ".") -> str:
    """SQL: a source text -> an exact DECIMAL (NULL when blank or not a number; ``_bad``
    tells the two apart). Accepts thousands separators, currency signs, (1.00) and 1.00- for
    negatives, and exponents. Sums stay exact; they become float64 once, at the end."""
    if decimal == ",":  # 1.234,56 -> 1234.56
        t = (f"replace(regexp_replace(trim({col}), '[$€£¥.\\s]', '', 'g'), ',', '.')")
    else:
        t = f"regexp_replace(trim({col}), '[$€£¥,\\s]', '', 'g')"
    signed = (f"CASE WHEN regexp_matches({t}, '^\\(.*\\)$') "
              f"THEN '-' || substr({t}, 2, length({t}) - 2) "
              f"WHEN regexp_matches({t}, '^[^-].*-$') THEN '-' || substr({t}, 1, length({t}) - 1) "
              f"ELSE {t} END")
    return (f"coalesce(TRY_CAST({signed} AS DECIMAL(38, 10)), "
            f"TRY_CAST(TRY_CAST({signed} AS DOUBLE) AS DECIMAL(38, 10)))")


def _bad(col: str, parsed: str) -> str:
    return f"({col} IS NOT NULL AND trim({col}) <> '' AND ({parsed}) IS NULL)"


def _date(col: str, formats: Sequence[str]) -> str:
    tries = [f"TRY_CAST(trim({col}) AS DATE)",
             f"TRY_CAST(TRY_CAST(trim({col}) AS TIMESTAMP) AS DATE)"]
    tries += [f"CAST(try_strptime(trim({col}), '{sql_text(f)}') AS DATE)" for f in formats]
    return f"coalesce({', '.join(tries)})"


def _rows_view(con: duckdb.DuckDBPyConnection, m: ImportMap, c: _Columns) -> None:
    """View ``rows``: one row per data row, with its parsed fields and flags."""
    mapped = sorted({*c.at.values(), *c.values.values()} - {c.at.get("group", -1)})
    any_mapped = " OR ".join(f"coalesce(trim(c{i}) <> '', false)" for i in mapped)
    first = "c0"
    skip = " OR ".join(f"coalesce(starts_with(trim({first}), '{sql_text(p)}'), false)"
                       for p in m.skip_prefixes) or "false"
    group_expr = "NULL"
    is_group = "false"
    if "group" in c.at:
        g = f"c{c.at['group']}"
        is_group = f"({g} IS NOT NULL AND trim({g}) <> '' AND NOT ({any_mapped}) AND NOT ({skip}))"
        group_expr = (f"last_value(CASE WHEN {is_group} THEN trim({g}) END IGNORE NULLS) "
                      "OVER (ORDER BY _row ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)")
    item_col = c.at.get("item")
    item = (f"trim(c{item_col})" if item_col is not None and item_col != c.at.get("group")
            else "grp")
    if m.date:
        date_text = "c" + str(c.at["date"])
        month = "strftime(" + _date(date_text, m.date_formats) + ", '%Y-%m')"
    else:
        date_text = "c" + str(c.at["period"])
        month = "strftime(" + _date(date_text, PERIOD_FORMATS) + ", '%Y-%m')"
    keys = {k: f"trim(c{c.at[k]})" for k in m.keys}
    keys.update({k: f"'{sql_text(v)}'" for k, v in m.constants.items() if k not in keys})
    sources = {"__amount": c.at["amount"]} if m.amount else dict(c.values)
    values = {k: _number(f"c{i}", m.decimal) for k, i in sources.items()}
    bad = {k: _bad(f"c{i}", _number(f"c{i}", m.decimal)) for k, i in sources.items()}
    texts = {k: f"c{i}" for k, i in sources.items()}
    if m.credit:  # debit - credit, each blank as zero
        credit = f"c{c.at['credit']}"
        values["__amount"] = (f"coalesce({values['__amount']}, 0) - "
                              f"coalesce({_number(credit, m.decimal)}, 0)")
        bad["__amount"] = (f"({bad['__amount']} OR "
                           f"{_bad(credit, _number(credit, m.decimal))})")
        texts["__amount"] = f"concat_ws(' / ', {texts['__amount']}, {credit})"
    keep = [_filter_sql(f, i) for f, i in zip(m.filters, c.filters, strict=True)]
    parts = [f"{date_text} AS date_text", f"{month} AS month", f"{item} AS item",
             *(f"{sql} AS key_{k}" for k, sql in keys.items()),
             *(f"{sql} AS v_{ident(k)}" for k, sql in values.items()),
             *(f"{sql} AS bad_{ident(k)}" for k, sql in bad.items()),
             *(f"{sql} AS t_{ident(k)}" for k, sql in texts.items())]
    if m.measure_from:
        parts.append(f"trim(c{c.at['measure']}) AS source_measure")
    con.execute(f"""
        CREATE TEMP VIEW marked AS
        SELECT *, {group_expr} AS grp, {is_group} AS is_group, ({skip}) AS is_total,
               ({any_mapped}) AS has_data
        FROM raw WHERE _row > {c.header_row}""")
    con.execute(f"""
        CREATE TEMP VIEW rows AS
        SELECT _row, ({' AND '.join(keep) or 'true'}) AS kept, {', '.join(parts)}
        FROM marked WHERE has_data AND NOT is_group AND NOT is_total""")


def _filter_sql(f: Filter, position: int) -> str:
    col = f"coalesce(trim(c{position}), '')"
    parts = []
    if f.keep:
        parts.append(f"{col} IN ({', '.join(repr_sql(v) for v in f.keep)})")
    if f.drop:
        parts.append(f"{col} NOT IN ({', '.join(repr_sql(v) for v in f.drop)})")
    return "(" + " AND ".join(parts) + ")"


# ------------------------------------------------------------------ problems and lines


def _collect(con: duckdb.DuckDBPyConnection, base: ImportResult, m: ImportMap, c: _Columns,
             plan: _PlanKeys) -> ImportResult:
    src = base.source
    read = count(con, "SELECT count(*) FROM rows")
    filtered = count(con, "SELECT count(*) FROM rows WHERE NOT kept")
    measure_cols = (["__amount"] if m.amount else list(c.values))
    if m.is_opex:
        opex_rows_view(con, m, plan.opex_lines)
    else:
        family_rows_view(con, m)
    issues: list[Issue] = []
    issues += _bad_dates(con, src, m, c)
    for meas in measure_cols:
        issues += _bad_numbers(con, src, meas, c, m)
    if m.is_opex:
        issues += line_issues(con, src, m, measure_cols, plan.opex_lines)
    else:
        issues += unmapped_items(con, src, m, measure_cols)
        issues += unknown_families(con, src, plan.families)
    issues += channel_issues(con, src, m, measure_cols, plan.channels)
    issues += _outside(con, src, measure_cols, m.outside)
    lines, totals, used, other = _lines(con, base, m, measure_cols)
    months = tuple(sorted({ln.month for ln in lines}))
    errors = any(i.severity is Severity.ERROR for i in issues)
    return replace(base, lines=() if errors else tuple(lines), months=() if errors else months,
                 rows_read=read, rows_filtered=filtered, rows_other=other, rows_used=used,
                 totals=totals, issues=tuple(issues))


def _bad_dates(con: duckdb.DuckDBPyConnection, src: str, m: ImportMap, c: _Columns
               ) -> list[Issue]:
    rows = con.execute("SELECT _row, date_text FROM kept_rows WHERE month IS NULL "
                       "ORDER BY _row").fetchall()
    column = (m.date or m.period)[0]
    fmt = (f" (formats tried: ISO, {', '.join(m.date_formats)})" if m.date_formats
           else "")

    def make(r: tuple) -> Issue:
        found = "a blank" if r[1] is None or not str(r[1]).strip() else repr(r[1])
        return Issue(IssueCode.SOURCE_DATE_INVALID, Severity.ERROR,
                     SourceRow(src, r[0], column),
                     f"{found} is not a date{fmt}",
                     "fix the date, or set date_format under [source] in the mapping")
    return listed(rows, make, IssueCode.SOURCE_DATE_INVALID, src, "no date")


def _bad_numbers(con: duckdb.DuckDBPyConnection, src: str, measure: str, c: _Columns,
                 m: ImportMap) -> list[Issue]:
    name = ident(measure)
    rows = con.execute(f"SELECT _row, t_{name} FROM kept_rows WHERE bad_{name} "
                       "ORDER BY _row").fetchall()
    column = (m.amount if measure == "__amount" else m.values[measure])[0]

    def make(r: tuple) -> Issue:
        return Issue(IssueCode.SOURCE_NUMBER_INVALID, Severity.ERROR,
                     SourceRow(src, r[0], column), f"{r[1]!r} is not a number",
                     "fix the number in the source (1234.56, 1,234.56 and (1,234.56) read)")
    return listed(rows, make, IssueCode.SOURCE_NUMBER_INVALID, src, "no number")


def _outside(con: duckdb.DuckDBPyConnection, src: str, measure_cols: Sequence[str],
             policy: str) -> list[Issue]:
    rows = con.execute(f"""
        SELECT month, min(_row), count(*), {amounts_sql(measure_cols)}
        FROM kept_rows WHERE month IS NOT NULL AND month NOT IN (SELECT month FROM horizon)
        GROUP BY month ORDER BY month""").fetchall()
    if not rows:
        return []
    horizon = one_row(con, "SELECT min(month), max(month) FROM horizon")
    n_rows = sum(r[2] for r in rows)
    months = [r[0] for r in rows]
    shown = months[0] if len(months) == 1 else f"{months[0]}..{months[-1]}"
    sums = [sum(r[3 + i] for r in rows) for i in range(len(measure_cols))]
    severity = Severity.ERROR if policy == "error" else Severity.WARNING
    fix = ("filter the export to the plan's months, or set outside = \"skip\" under [source] "
           "in the mapping" if policy == "error" else "left out, as the mapping says")
    return [Issue(IssueCode.MONTH_OUTSIDE_HORIZON, severity,
                  SourceRow(src, min(r[1] for r in rows)),
                  f"{n_rows} rows are dated {shown}, outside the plan's months "
                  f"{horizon[0]}..{horizon[1]} ({len(months)} months; "
                  f"{amounts_text(measure_cols, sums)})", fix)]


def _lines(con: duckdb.DuckDBPyConnection, base: ImportResult, m: ImportMap,
           measure_cols: Sequence[str]) -> tuple[list[ImportLine], dict[str, float], int, int]:
    keys = [k for k in base.key_names if k not in ("family", "measure")]
    key_sql = [f"coalesce(key_{k}, '')" if k in m.keys or k in m.constants else "''"
               for k in keys]
    if m.amount:
        measure = "(SELECT measure FROM meamap WHERE meamap.name = kept_rows.source_measure)"
        if not m.measure_from:
            measure = "'value'"
        unpivot = f"SELECT *, {measure} AS measure, v___amount AS value FROM kept_rows"
    else:
        unpivot = " UNION ALL ".join(
            f"SELECT *, '{sql_text(x)}' AS measure, v_{ident(x)} AS value FROM kept_rows"
            for x in measure_cols)
    sign = " ".join(f"WHEN '{sql_text(k)}' THEN {v}" for k, v in m.signs.items())
    sign_sql = f"CASE measure {sign} ELSE 1 END" if sign else "1"
    agg = "sum" if m.aggregate == "sum" else "avg"
    good = "placeable AND month IN (SELECT month FROM horizon) AND value IS NOT NULL"
    con.execute(f"CREATE TEMP VIEW long AS SELECT * FROM ({unpivot}) WHERE measure IS NOT NULL")
    other = count(con, f"SELECT count(*) FROM ({unpivot}) WHERE measure IS NULL")
    key_cols = ", ".join(["family", *key_sql, "measure"])
    rows = con.execute(f"""
        SELECT {key_cols}, month, CAST({agg}(value * {sign_sql}) AS DOUBLE)
        FROM long WHERE {good}
        GROUP BY ALL ORDER BY ALL""").fetchall()
    used = count(con, f"SELECT count(DISTINCT _row) FROM long WHERE {good}")
    order = list(base.key_names)
    lines = []
    totals: dict[str, float] = {}
    for r in rows:
        named = {"family": r[0], **dict(zip(keys, r[1:1 + len(keys)], strict=True)),
                 "measure": r[1 + len(keys)]}
        month, value = r[-2], float(r[-1])
        lines.append(ImportLine(tuple(named[k] for k in order), month, value))
        totals[named["measure"]] = totals.get(named["measure"], 0.0) + value
    return lines, totals, used, other
