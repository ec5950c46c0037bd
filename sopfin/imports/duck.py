"""The small DuckDB helpers of an import: one-row queries, temporary tables of the mapping's
names, SQL text, and the shape of the issues that list source rows."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import duckdb

from sopfin.model import Issue, IssueCode, Severity, SourceRow

ROWS_LISTED = 20


def one_row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    """The one row an aggregate query returns."""
    row = con.execute(sql).fetchone()
    if row is None:  # an aggregate without GROUP BY always returns a row
        raise AssertionError(f"no row from {sql}")
    return row


def count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The single number a ``SELECT count(...)`` returns."""
    return int(one_row(con, sql)[0])


def register(con: duckdb.DuckDBPyConnection, name: str, columns: Sequence[str],
             rows: object) -> None:
    """A temporary table ``name`` of text ``columns`` holding ``rows``."""
    con.execute(f"CREATE TEMP TABLE {name} ({', '.join(c + ' VARCHAR' for c in columns)})")
    data = [tuple(map(str, r)) for r in rows]  # type: ignore[attr-defined]
    if data:
        con.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(columns))})", data)


def sql_text(text: str) -> str:
    return text.replace("'", "''")


def repr_sql(text: str) -> str:
    return "'" + sql_text(text) + "'"


def ident(name: str) -> str:
    return re.sub(r"\W", "_", name)


def row_list(rows: Sequence[int], shown: int = 8, total: int | None = None) -> str:
    """The first ``shown`` of ``rows``, and how many more of ``total`` (default: all rows)."""
    text = ", ".join(map(str, rows[:shown]))
    more = (len(rows) if total is None else total) - min(shown, len(rows))
    return text + (f" and {more} more" if more > 0 else "")


def listed(rows: list[tuple], make: object, code: IssueCode, src: str, what: str
           ) -> list[Issue]:
    """An issue per row for the first ``ROWS_LISTED`` rows, then one standing for the rest."""
    out = [make(r) for r in rows[:ROWS_LISTED]]  # type: ignore[operator]
    if len(rows) > ROWS_LISTED:
        rest = rows[ROWS_LISTED:]
        out.append(Issue(code, Severity.ERROR, SourceRow(src, rest[0][0]),
                         f"{len(rest)} more rows with {what} (rows "
                         f"{row_list([r[0] for r in rest])})",
                         "fix them in the source, or filter them out in the mapping",
                         more=len(rest)))
    return out


def amounts_sql(measure_cols: Sequence[str]) -> str:
    return ", ".join(f"coalesce(sum(v_{ident(x)}), 0)::DOUBLE" for x in measure_cols)


def amounts_text(names: Sequence[str], sums: Sequence[float]) -> str:
    shown = [f"{n if n != '__amount' else 'amount'} {s:,.2f}" for n, s in zip(names, sums,
                                                                               strict=True)]
    return ", ".join(shown)
