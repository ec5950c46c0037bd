"""The import mapping: which source columns are the date, the item, the channel and the
values, how items map to families, how dates bucket into months, signs and filters; for opex,
the department and account of each line and how the export's names map to the plan's.

A mapping is TOML (see docs/import.md for a complete example). Problems in it are issues
located at the mapping file and key, reported all at once.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sopfin.model import Issue, IssueCode, Severity, SourceRow

# Input sheets an import may fill: monthly tables, keyed as in sopfin.layout.
TARGET_KEYS: dict[str, tuple[str, ...]] = {
    "Actuals": ("family", "measure"),
    "Budget": ("family", "measure"),
    "Forecast": ("scenario", "family", "measure"),
    "Demand": ("scenario", "family", "channel"),
    "Supply": ("scenario", "family"),
    "Prices": ("family", "channel"),
    "PlannedVariances": ("scenario", "family", "type"),
}
# Measures each target accepts (None: the sheet has no Measure column; its one value is
# called "value" in the mapping).
TARGET_MEASURES: dict[str, tuple[str, ...]] = {
    "Actuals": ("units", "revenue", "cogs", "opex"),
    "Budget": ("units", "revenue", "cogs", "opex"),
    "Forecast": ("revenue", "cogs"),
}
OPTIONAL_KEYS = {"channel"}
OPEX = "opex"  # the measure of an opex line, keyed by department and account, not by family
LINE_KEYS = ("department", "account")  # an Opex line's keys
# Keys a line of these sheets carries when the mapping names them (the sheets' optional
# columns): a channel, or an opex line's department and account.
MAPPED_KEYS: dict[str, tuple[str, ...]] = {"Actuals": ("channel", *LINE_KEYS),
                                           "Budget": ("channel", *LINE_KEYS)}
FAMILY_SOURCES = ("table", "item", "sheet")
UNMAPPED_POLICIES = ("error", "skip")
AGGREGATES = ("sum", "mean")


@dataclass(frozen=True)
class Filter:
    """Keep only rows whose ``column`` equals one of ``keep`` (or none of ``drop``)."""

    column: tuple[str, ...]
    keep: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportMap:
    """One mapping, resolved: every column is a tuple of accepted spellings (the first one
    found in the source wins), so a preset can follow an export whose headers changed."""

    name: str
    date: tuple[str, ...] = ()
    date_formats: tuple[str, ...] = ()
    period: tuple[str, ...] = ()
    item: tuple[str, ...] = ()
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # channel, scenario, type
    constants: Mapping[str, str] = field(default_factory=dict)
    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # measure -> column
    amount: tuple[str, ...] = ()  # long layout: one amount column (or debit - credit) ...
    debit: tuple[str, ...] = ()
    credit: tuple[str, ...] = ()
    decimal: str = "."  # the decimal mark of the export: "." (1,234.56) or "," (1.234,56)
    measure_from: tuple[str, ...] = ()  # ... and the column naming its measure
    measures: Mapping[str, str] = field(default_factory=dict)  # source name -> measure
    families: str = "item"
    family_table: Mapping[str, str] = field(default_factory=dict)
    family_sheet: str = "Mapping"
    unmapped: str = "error"
    signs: Mapping[str, float] = field(default_factory=dict)
    filters: tuple[Filter, ...] = ()
    aggregate: str = "sum"
    outside: str = "error"  # rows dated outside the plan's months: "error" or "skip"
    sheet: str | None = None  # the sheet of an .xlsx source
    header_row: int | None = None  # 1-based; None: found by its column names
    group_column: tuple[str, ...] = ()  # report layouts: group header rows name this column
    skip_prefixes: tuple[str, ...] = ()  # rows whose first cell starts so are totals
    line_tables: Mapping[str, Mapping[str, str]] = field(default_factory=dict)  # key -> names
    line_unmapped: Mapping[str, str] = field(default_factory=dict)  # key -> error or skip

    @property
    def is_opex(self) -> bool:
        """An import of opex lines (keyed by department and account), not of families."""
        return OPEX in {*self.values, *self.measures.values()}


def _names(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def key_names(target: str, m: ImportMap) -> tuple[str, ...]:
    """The keys of the lines ``m`` brings to sheet ``target``, in the sheet's order."""
    *keys, last = TARGET_KEYS[target]
    mapped = [k for k in MAPPED_KEYS.get(target, ()) if k in m.keys or k in m.constants]
    return (*keys, *mapped, last)


class _Reader:
    """Reads one mapping document, collecting every problem instead of stopping."""

    def __init__(self, doc: Mapping[str, Any], source: str) -> None:
        self.doc = doc
        self.source = source
        self.issues: list[Issue] = []

    def problem(self, key: str, message: str, fix: str = "") -> None:
        self.issues.append(Issue(IssueCode.MAPPING_INVALID, Severity.ERROR,
                                 SourceRow(self.source, 0, key), message, fix))

    def table(self, key: str) -> Mapping[str, Any]:
        value = self.doc.get(key, {})
        if not isinstance(value, Mapping):
            self.problem(key, f"[{key}] must be a table, found {type(value).__name__}")
            return {}
        return value

    def columns(self, table: str, key: str, value: Any) -> tuple[str, ...]:
        names = _names(value)
        if names is None:
            self.problem(f"{table}.{key}", "a column is a name or a list of names (the first "
                         f"one found is used), found {value!r}")
            return ()
        return names

    def text(self, table: str, key: str, value: Any) -> str:
        if not isinstance(value, str):
            self.problem(f"{table}.{key}", f"must be text, found {value!r}")
            return ""
        return value

    def choice(self, table: str, key: str, value: Any, allowed: Sequence[str]) -> str:
        if value not in allowed:
            self.problem(f"{table}.{key}", f"must be one of {', '.join(allowed)}, found "
                         f"{value!r}")
            return allowed[0]
        return str(value)


def parse_mapping(text: str, source: str, target: str) -> tuple[ImportMap | None, list[Issue]]:
    """TOML text -> an ImportMap checked against the target sheet, or every problem in it."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        issue = Issue(IssueCode.MAPPING_INVALID, Severity.ERROR, SourceRow(source, 0, ""),
                      f"not valid TOML: {exc}", "fix the mapping file's syntax")
        return None, [issue]
    r = _Reader(doc, source)
    known = {"name", "source", "columns", "constants", "values", "measures", "families",
             "signs", "filter", "departments", "accounts"}
    for key in doc:
        if key not in known:
            r.problem(key, f"unknown section {key!r}", f"use {', '.join(sorted(known))}")
    src, cols, values = r.table("source"), r.table("columns"), r.table("values")
    fams, signs_t, consts = r.table("families"), r.table("signs"), r.table("constants")
    measures_t = r.table("measures")
    m: dict[str, Any] = {"name": str(doc.get("name", source))}
    _read_source(r, src, m)
    _read_columns(r, cols, m)
    _read_values(r, values, measures_t, m)
    _read_families(r, fams, m)
    _read_lines(r, m)
    m["constants"] = {k: r.text("constants", k, v) for k, v in consts.items()}
    if bool(m.get("debit")) != bool(m.get("credit")):
        r.problem("columns.debit", "debit and credit come together",
                  "name both columns, or one amount column")
    elif m.get("debit"):
        m["amount"] = m["debit"]  # the long layout, valued as debit - credit
    m["signs"] = _read_signs(r, signs_t)
    m["filters"] = _read_filters(r, doc.get("filter", []))
    mapping = ImportMap(**m)
    _check_target(r, mapping, target)
    return (None if r.issues else mapping), r.issues


def _read_source(r: _Reader, src: Mapping[str, Any], m: dict[str, Any]) -> None:
    for key, value in src.items():
        if key == "sheet":
            m["sheet"] = r.text("source", key, value)
        elif key == "header_row":
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                r.problem("source.header_row", f"must be a row number from 1, found {value!r}")
            else:
                m["header_row"] = value
        elif key == "group_column":
            m["group_column"] = r.columns("source", key, value)
        elif key == "skip_rows_starting":
            m["skip_prefixes"] = r.columns("source", key, value)
        elif key == "date_format":
            m["date_formats"] = r.columns("source", key, value)
        elif key == "aggregate":
            m["aggregate"] = r.choice("source", key, value, AGGREGATES)
        elif key == "decimal":
            m["decimal"] = r.choice("source", key, value, (".", ","))
        elif key == "outside":
            m["outside"] = r.choice("source", key, value, UNMAPPED_POLICIES)
        else:
            r.problem(f"source.{key}", f"unknown key {key!r}", "use sheet, header_row, "
                      "group_column, skip_rows_starting, date_format, decimal, aggregate or "
                      "outside")


def _read_columns(r: _Reader, cols: Mapping[str, Any], m: dict[str, Any]) -> None:
    keys: dict[str, tuple[str, ...]] = {}
    for key, value in cols.items():
        if key in ("date", "period", "item", "amount", "measure", "debit", "credit"):
            m["measure_from" if key == "measure" else key] = r.columns("columns", key, value)
        elif key in ("channel", "scenario", "type", *LINE_KEYS):
            keys[key] = r.columns("columns", key, value)
        else:
            r.problem(f"columns.{key}", f"unknown key {key!r}", "use date or period, item, "
                      "channel, scenario, type, department, account, amount (or debit and "
                      "credit) and measure")
    m["keys"] = keys


def _read_values(r: _Reader, values: Mapping[str, Any], measures: Mapping[str, Any],
                 m: dict[str, Any]) -> None:
    m["values"] = {k: r.columns("values", k, v) for k, v in values.items()}
    m["measures"] = {k: r.text("measures", k, v) for k, v in measures.items()}


def _read_families(r: _Reader, fams: Mapping[str, Any], m: dict[str, Any]) -> None:
    table = fams.get("map", {})
    if not isinstance(table, Mapping):
        r.problem("families.map", "must be a table of item = family")
        table = {}
    m["families"] = r.choice("families", "from", fams.get("from", "table" if table else "item"),
                             FAMILY_SOURCES)
    m["family_table"] = {str(k): r.text("families.map", str(k), v) for k, v in table.items()}
    if "sheet" in fams:
        m["family_sheet"] = r.text("families", "sheet", fams["sheet"])
    m["unmapped"] = r.choice("families", "unmapped", fams.get("unmapped", "error"),
                             UNMAPPED_POLICIES)
    for key in fams:
        if key not in ("from", "map", "sheet", "unmapped"):
            r.problem(f"families.{key}", f"unknown key {key!r}",
                      "use from, map, sheet and unmapped")


def _read_lines(r: _Reader, m: dict[str, Any]) -> None:
    """[departments] and [accounts]: the export's names -> the plan's (``map``; a name not
    in it is taken as it is), and what becomes of a line not on sheet Opex (``unmapped``)."""
    tables: dict[str, dict[str, str]] = {}
    unmapped: dict[str, str] = {}
    for key in LINE_KEYS:
        section = key + "s"
        t = r.table(section)
        table = t.get("map", {})
        if not isinstance(table, Mapping):
            r.problem(f"{section}.map", f"must be a table of export name = {key}")
            table = {}
        tables[key] = {str(k): r.text(f"{section}.map", str(k), v) for k, v in table.items()}
        unmapped[key] = r.choice(section, "unmapped", t.get("unmapped", "error"),
                                 UNMAPPED_POLICIES)
        for name in t:
            if name not in ("map", "unmapped"):
                r.problem(f"{section}.{name}", f"unknown key {name!r}", "use map and unmapped")
    m["line_tables"], m["line_unmapped"] = tables, unmapped


def _read_signs(r: _Reader, signs: Mapping[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in signs.items():
        if value not in (1, -1) or isinstance(value, bool):
            r.problem(f"signs.{key}", f"a sign is 1 or -1, found {value!r}")
        else:
            out[key] = float(value)
    return out


def _read_filters(r: _Reader, filters: Any) -> tuple[Filter, ...]:
    if not isinstance(filters, list):
        r.problem("filter", "write filters as [[filter]] tables")
        return ()
    out = []
    for n, f in enumerate(filters, start=1):
        where = f"filter #{n}"
        if not isinstance(f, Mapping) or "column" not in f:
            r.problem(where, "a filter needs a column")
            continue
        column = r.columns(where, "column", f["column"])
        keep = f.get("equals", f.get("in", ()))
        drop = f.get("not_in", ())
        keep_t = (str(keep),) if isinstance(keep, str | int | float) else tuple(map(str, keep))
        drop_t = (str(drop),) if isinstance(drop, str | int | float) else tuple(map(str, drop))
        if not keep_t and not drop_t:
            r.problem(where, "a filter needs equals, in or not_in")
        out.append(Filter(column, keep_t, drop_t))
    return tuple(out)


def _check_target(r: _Reader, m: ImportMap, target: str) -> None:
    if target not in TARGET_KEYS:
        r.problem("", f"cannot import into sheet {target!r}",
                  f"use one of {', '.join(TARGET_KEYS)}")
        return
    if not m.date and not m.period:
        r.problem("columns.date", "the mapping names no date or period column",
                  "add date = \"<column>\" (or period = ...) under [columns]")
    produced = set(m.values) | set(m.measures.values())
    if m.is_opex and target in TARGET_MEASURES:
        _check_opex(r, m, produced)
    elif not m.item and not m.group_column:
        r.problem("columns.item", "the mapping names no item column",
                  "add item = \"<column>\" under [columns]")
    needed = [k for k in TARGET_KEYS[target] if k not in ("family", "measure")]
    for key in needed:
        if key not in m.keys and key not in m.constants and key not in OPTIONAL_KEYS:
            r.problem(f"columns.{key}", f"sheet {target} needs a {key}",
                      f"add {key} = \"<column>\" under [columns] or under [constants]")
    if not m.is_opex:
        for key in LINE_KEYS:
            if key in m.keys or key in m.constants:
                r.problem(f"columns.{key}", f"a {key} keys an opex line, and the mapping "
                          "imports no opex", f"import opex (opex = \"<column>\" under "
                          f"[values]), or leave the {key} out")
    allowed = TARGET_MEASURES.get(target, ("value",))
    if m.values and m.amount:
        r.problem("values", "use either [values] (one column per measure) or columns.amount "
                  "with columns.measure, not both")
    if not produced and not m.amount:
        r.problem("values", "the mapping names no value column",
                  f"add e.g. {allowed[0]} = \"<column>\" under [values]")
    if m.amount and not m.measure_from and len(allowed) > 1:
        r.problem("columns.measure", "an amount column needs the column that says its measure",
                  "add measure = \"<column>\" under [columns] and a [measures] table")
    for measure in sorted(produced - set(allowed)):
        r.problem("values", f"sheet {target} takes {', '.join(allowed)}, not {measure!r}")
    for measure in m.signs:
        if measure not in allowed:
            r.problem(f"signs.{measure}", f"sheet {target} has no measure {measure!r}")


def _check_opex(r: _Reader, m: ImportMap, produced: set[str]) -> None:
    """An opex import brings lines of sheet Opex: a department and an account each, no item,
    family or channel; and opex alone (families come with their own mapping)."""
    for key in LINE_KEYS:
        if key not in m.keys and key not in m.constants:
            r.problem(f"columns.{key}", f"an opex line needs its {key}",
                      f"add {key} = \"<column>\" under [columns] or under [constants]")
    if produced - {OPEX}:
        r.problem("values", f"an opex import brings opex alone, not also "
                  f"{', '.join(sorted(produced - {OPEX}))}",
                  "import the family measures with a mapping of their own")
    for key, what in (("item", m.item or m.group_column), ("channel", "channel" in m.keys
                                                          or "channel" in m.constants)):
        if what:
            r.problem(f"columns.{key}", f"an opex line is keyed by department and account, "
                      f"not by {key}", f"leave the {key} out of the mapping")
