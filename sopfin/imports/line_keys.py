"""The keys of an import checked against the plan: an opex import's departments and accounts
(the export's names mapped to the plan's, then each line looked up on sheet Opex), and the
channels of a Budget or Actuals import (looked up among Demand's channels).

Each unknown name is one issue at its first source row, with its row count, rows and
amounts; a department or account the plan has not is an error, or its rows are left out
(a warning) as the mapping's ``unmapped`` says. The SQL runs on the import's ``rows`` view
(``sopfin.imports.transform``), where ``key_<name>`` holds each row's key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import duckdb

from sopfin.imports.duck import amounts_sql, amounts_text, register, row_list
from sopfin.imports.mapping import ImportMap
from sopfin.model import Issue, IssueCode, Severity, SourceRow
from sopfin.plan.read import suggest_name

# The plan's Opex lines: department -> its accounts.
OpexLines = Mapping[str, Collection[str]]


def opex_rows_view(con: duckdb.DuckDBPyConnection, m: ImportMap,
                   lines: OpexLines | None) -> None:
    """View ``kept_rows`` of an opex import: the kept rows with the plan's department and
    account names, no family, and ``placeable`` where the row's line is on sheet Opex (any
    non-blank line when ``lines`` is None: nothing to check against)."""
    for key, table in (("department", "deptmap"), ("account", "acctmap")):
        register(con, table, ("name", "plan"), m.line_tables.get(key, {}).items())
    register(con, "plan_lines", ("department", "account"),
             ((d, a) for d, accounts in (lines or {}).items() for a in accounts))
    con.execute("""
        CREATE TEMP VIEW mapped_rows AS
        SELECT * REPLACE (
            coalesce((SELECT plan FROM deptmap WHERE deptmap.name = rows.key_department),
                     coalesce(key_department, '')) AS key_department,
            coalesce((SELECT plan FROM acctmap WHERE acctmap.name = rows.key_account),
                     coalesce(key_account, '')) AS key_account)
        FROM rows WHERE kept""")
    of_opex = ("(SELECT measure FROM meamap WHERE meamap.name = mapped_rows.source_measure) "
               "IS NOT NULL" if m.measure_from else "true")
    known = ("true" if lines is None else
             "EXISTS (SELECT 1 FROM plan_lines p WHERE p.department = mapped_rows.key_department"
             " AND p.account = mapped_rows.key_account)")
    con.execute(f"""
        CREATE TEMP VIEW kept_rows AS
        SELECT *, '' AS family, {of_opex} AS is_line,
               (key_department <> '' AND key_account <> '' AND {known}) AS placeable
        FROM mapped_rows""")


def line_issues(con: duckdb.DuckDBPyConnection, src: str, m: ImportMap,
                measure_cols: Sequence[str], lines: OpexLines | None) -> list[Issue]:
    """Each department, then each account of a known department, that is blank or not a
    line of sheet Opex (rows of the measures a long layout leaves out are not lines)."""
    known_dept = ("key_department <> ''" if lines is None else
                  "key_department IN (SELECT department FROM plan_lines)")
    known_line = ("key_account <> ''" if lines is None else
                  "EXISTS (SELECT 1 FROM plan_lines p WHERE p.department = key_department "
                  "AND p.account = key_account)")
    depts = _grouped(con, "key_department", f"is_line AND NOT ({known_dept})", measure_cols)
    accounts = _grouped(con, "key_department, key_account",
                        f"is_line AND ({known_dept}) AND NOT ({known_line})", measure_cols)
    plan = lines or {}
    out = []
    for dept, first, n, *rest in depts:
        out.append(_unknown(m, "department", src, first, measure_cols, rest,
                            f"department {dept!r} has no line on sheet Opex ({n} rows", n,
                            suggest_name(dept, plan) if dept else ""))
    for dept, account, first, n, *rest in accounts:
        known = list(plan.get(dept, ()))
        out.append(_unknown(m, "account", src, first, measure_cols, rest,
                            f"account {account!r} is not a line of department {dept!r} on "
                            f"sheet Opex ({n} rows", n, suggest_name(account, known)
                            if account else ""))
    return out


def _grouped(con: duckdb.DuckDBPyConnection, by: str, where: str,
             measure_cols: Sequence[str]) -> list[tuple]:
    return con.execute(f"""
        SELECT {by}, min(_row), count(*), {amounts_sql(measure_cols)},
               list(_row ORDER BY _row)[1:9]
        FROM kept_rows WHERE {where} GROUP BY ALL ORDER BY min(_row)""").fetchall()


def _unknown(m: ImportMap, key: str, src: str, first: int, measure_cols: Sequence[str],
             rest: list, what: str, n: int, hint: str) -> Issue:
    sums, rows = rest[:-1], rest[-1]
    skip = m.line_unmapped.get(key) == "skip"
    code = IssueCode.UNKNOWN_DEPARTMENT if key == "department" else IssueCode.UNKNOWN_ACCOUNT
    fix = (f"add the line on sheet Opex, or map the name to the plan's under "
           f"[{key}s.map] in the mapping{hint}")
    return Issue(code, Severity.WARNING if skip else Severity.ERROR,
                 SourceRow(src, first, _column(m, key)),
                 f"{what}: {row_list(rows, total=n)}; {amounts_text(measure_cols, sums)})",
                 fix + (" (these rows are left out)" if skip else ""))


def _column(m: ImportMap, key: str) -> str:
    return m.keys[key][0] if key in m.keys else ""


def channel_issues(con: duckdb.DuckDBPyConnection, src: str, m: ImportMap,
                   measure_cols: Sequence[str], channels: Collection[str] | None
                   ) -> list[Issue]:
    """Each channel of a Budget or Actuals import that is not a channel of Demand."""
    if channels is None or ("channel" not in m.keys and "channel" not in m.constants):
        return []
    register(con, "plan_channels", ("channel",), ((c,) for c in channels))
    rows = _grouped(con, "coalesce(key_channel, '')",
                    "coalesce(key_channel, '') NOT IN (SELECT channel FROM plan_channels)",
                    measure_cols)
    known = ", ".join(map(repr, channels))
    fix = ("correct the channel in the source or the mapping, or add its demand on sheet "
           "Demand" if channels else
           "add a Channel column to Demand after Family, or leave channel out of the mapping")
    return [Issue(IssueCode.CHANNEL_MISMATCH, Severity.ERROR,
                  SourceRow(src, first, _column(m, "channel")),
                  f"channel {channel!r} ({n} rows: {row_list(rest[-1], total=n)}; "
                  f"{amounts_text(measure_cols, rest[:-1])}) is not a channel of Demand "
                  f"({known or 'Demand has no Channel column'})",
                  fix + (suggest_name(channel, channels) if channel else ""))
            for channel, first, n, *rest in rows]
