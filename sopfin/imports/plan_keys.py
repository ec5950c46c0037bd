"""The keys of an import checked against the plan: each row's family (its item mapped, then
looked up on sheet Families), an opex import's departments and accounts (the export's names
mapped to the plan's, then each line looked up on sheet Opex), and the channels of a Budget
or Actuals import (looked up among Demand's channels).

Each unknown name is one issue at its first source row, with its row count, rows and
amounts; an unmapped item, department or account is an error, or its rows are left out (a
warning) as the mapping's ``unmapped`` says. The SQL runs on the import's ``rows`` view
(``sopfin.imports.transform``), where ``key_<name>`` holds each row's key.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import duckdb

from sopfin.imports.duck import amounts_sql, amounts_text, one_row, register, row_list
from sopfin.imports.mapping import ImportMap
from sopfin.model import Issue, IssueCode, Severity, SourceRow
from sopfin.plan.issue_log import suggest_name

# The plan's Opex lines: department -> its accounts.
OpexLines = Mapping[str, Collection[str]]


def family_rows_view(con: duckdb.DuckDBPyConnection, m: ImportMap) -> None:
    """View ``kept_rows``: the kept rows with their family; ``placeable`` where it has one."""
    fam = ("item" if m.families == "item" else
           "(SELECT family FROM famap WHERE famap.item = rows.item)")
    con.execute(f"""
        CREATE TEMP VIEW kept_rows AS
        SELECT *, {fam} AS family, coalesce({fam} <> '', false) AS placeable
        FROM rows WHERE kept""")


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
                            (f"department {dept!r} has no line on sheet Opex" if dept else
                             "a blank department names no line of sheet Opex") + f" ({n} rows",
                            n, suggest_name(dept, plan) if dept else None))
    for dept, account, first, n, *rest in accounts:
        known = list(plan.get(dept, ()))
        out.append(_unknown(m, "account", src, first, measure_cols, rest,
                            (f"account {account!r} is not a line of department {dept!r} on "
                             "sheet Opex" if account else f"a blank account of department "
                             f"{dept!r} names no line of sheet Opex") + f" ({n} rows", n,
                            suggest_name(account, known) if account else None))
    return out


def _grouped(con: duckdb.DuckDBPyConnection, by: str, where: str,
             measure_cols: Sequence[str]) -> list[tuple]:
    return con.execute(f"""
        SELECT {by}, min(_row), count(*), {amounts_sql(measure_cols)},
               list(_row ORDER BY _row)[1:9]
        FROM kept_rows WHERE {where} GROUP BY ALL ORDER BY min(_row)""").fetchall()


def _unknown(m: ImportMap, key: str, src: str, first: int, measure_cols: Sequence[str],
             rest: list, what: str, n: int, hint: str | None) -> Issue:
    """The issue of one unknown name (``hint`` None: a blank one)."""
    sums, rows = rest[:-1], rest[-1]
    skip = m.line_unmapped.get(key) == "skip"
    code = IssueCode.UNKNOWN_DEPARTMENT if key == "department" else IssueCode.UNKNOWN_ACCOUNT
    fix = (f"fill in the {key} in the source, or filter these rows out" if hint is None else
           f"add the line on sheet Opex, or map the name to the plan's under [{key}s.map] in "
           f"the mapping{hint}")
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


def unmapped_items(con: duckdb.DuckDBPyConnection, src: str, m: ImportMap,
              measure_cols: Sequence[str]) -> list[Issue]:
    if m.families == "item":
        blank = one_row(con, "SELECT min(_row), count(*) FROM kept_rows WHERE item IS NULL "
                              "OR item = ''")
        rows = [] if not blank[1] else [("", blank[0], blank[1], *([0.0] * len(measure_cols)),
                                         [blank[0]])]
    else:
        rows = con.execute(f"""
            SELECT coalesce(item, ''), min(_row), count(*), {amounts_sql(measure_cols)},
                   list(_row ORDER BY _row)[1:9]
            FROM kept_rows WHERE family IS NULL GROUP BY item ORDER BY min(_row)""").fetchall()
    severity = Severity.ERROR if m.unmapped == "error" else Severity.WARNING
    where_map = ("the [families.map] table of the mapping" if m.families == "table"
                 else f"sheet {m.family_sheet}" if m.families == "sheet" else "")
    out = []
    for item, first, n, *rest in rows:
        sums, shown = rest[:-1], rest[-1]
        what = f"item {item!r}" if item else "a blank item"
        fix = (f"add it to {where_map}" if where_map else "fill in the item") + (
            "" if severity is Severity.ERROR else " (these rows are left out)")
        out.append(Issue(IssueCode.ITEM_UNMAPPED, severity,
                         SourceRow(src, first, (m.item or m.group_column)[0]),
                         f"{what} has no family ({n} rows: {row_list(shown, total=n)}"
                         f"{'; ' + amounts_text(measure_cols, sums) if sums else ''})", fix))
    return out


def unknown_families(con: duckdb.DuckDBPyConnection, src: str,
                      families: Collection[str] | None) -> list[Issue]:
    if families is None:
        return []
    rows = con.execute("SELECT family, min(_row), count(*) FROM kept_rows "
                       "WHERE family IS NOT NULL GROUP BY family ORDER BY min(_row)").fetchall()
    known = set(families)
    return [Issue(IssueCode.UNKNOWN_FAMILY, Severity.ERROR, SourceRow(src, first),
                  f"family {fam!r} ({count} rows) is not on sheet Families",
                  "add it to sheet Families, or map the items to a family the plan has")
            for fam, first, count in rows if fam not in known]
