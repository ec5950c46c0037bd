"""Importing real exports into an input sheet's lines: totals by family and month equal the
source's, to the cent, for a hand-written mapping and for each preset; every problem is
reported at once, at its source row.

The public data sets in ../shared/data are the real exports. The presets' layouts (QuickBooks'
report with group rows, NetSuite's saved search, SAP's billing items, a GL trial balance) are
filled with the same real rows, written the way each system writes them.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from sopfin.imports.mapping import parse_mapping
from sopfin.imports.presets import PRESETS
from sopfin.imports.transform import import_table
from sopfin.model import IssueCode, Severity, SourceRow

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SUPERSTORE = DATA / "superstore" / "superstore.csv"
FINANCIAL = DATA / "financial_sample" / "Financial Sample.xlsx"
FACTFINANCE = DATA / "adventureworks" / "factfinance_tidy.csv"
needs_data = pytest.mark.skipif(not SUPERSTORE.exists(), reason=f"no public data at {DATA}")


def months(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def mapping(text: str, target: str = "Actuals"):
    m, issues = parse_mapping(text, "map.toml", target)
    assert not issues, [i.format() for i in issues]
    return m


def by_key(result, measure: str) -> dict[tuple[str, str], Decimal]:
    """Imported values of one measure by (family, month), as exact decimals of the floats."""
    at = result.key_names.index("measure")
    return {(ln.keys[0], ln.month): Decimal(repr(ln.value)) for ln in result.lines
            if ln.keys[at] == measure}


def cents(x: Decimal) -> Decimal:
    return x.quantize(Decimal("0.01"))


def assert_same_cents(mine: dict, truth: dict) -> None:
    assert set(mine) == set(truth)
    off = {k: (mine[k], truth[k]) for k in truth if cents(mine[k]) != cents(truth[k])}
    assert not off, list(off.items())[:5]


SUB_TO_FAMILY = {  # Superstore's sub-categories grouped into five plan families
    "Bookcases": "FURN-CASE", "Chairs": "FURN-SEAT", "Furnishings": "FURN-CASE",
    "Tables": "FURN-CASE", "Appliances": "OFF-EQUIP", "Art": "OFF-SUPPLY",
    "Binders": "OFF-SUPPLY", "Envelopes": "OFF-SUPPLY", "Fasteners": "OFF-SUPPLY",
    "Labels": "OFF-SUPPLY", "Paper": "OFF-SUPPLY", "Storage": "OFF-EQUIP",
    "Supplies": "OFF-SUPPLY", "Accessories": "TECH", "Copiers": "TECH", "Machines": "TECH",
    "Phones": "TECH"}


def superstore_truth(horizon: list[str]) -> dict[str, dict]:
    """Sales and quantity by family and order month, summed exactly from the CSV."""
    out: dict[str, dict] = {"revenue": defaultdict(Decimal), "units": defaultdict(Decimal)}
    with SUPERSTORE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            month = row["Order Date"][:7]
            if month in horizon:
                key = (SUB_TO_FAMILY[row["Sub-Category"]], month)
                out["revenue"][key] += Decimal(row["Sales"])
                out["units"][key] += Decimal(row["Quantity"])
    return out


HAND_MAPPING = '''
name = "Superstore order lines by family"
[source]
outside = "skip"
[columns]
date = "Order Date"
item = "Sub-Category"
[values]
units = "Quantity"
revenue = "Sales"
[families.map]
''' + "\n".join(f'"{k}" = "{v}"' for k, v in SUB_TO_FAMILY.items())


@needs_data
def test_hand_written_mapping_on_superstore_gives_the_source_totals():
    horizon = months("2016-01", "2017-12")
    result = import_table(SUPERSTORE, mapping(HAND_MAPPING), "Actuals", months=horizon,
                          families=set(SUB_TO_FAMILY.values()))
    assert [i.code for i in result.issues] == [IssueCode.MONTH_OUTSIDE_HORIZON]
    assert result.issues[0].severity is Severity.WARNING  # left out, as the mapping says
    truth = superstore_truth(horizon)
    assert_same_cents(by_key(result, "revenue"), truth["revenue"])
    assert_same_cents(by_key(result, "units"), truth["units"])
    assert result.months == tuple(horizon)
    assert result.rows_read == 9994 and result.rows_used == 5899
    assert len(result.source_sha256) == 64


@needs_data
def test_parquet_and_xlsx_copies_import_the_same_lines(tmp_path):
    horizon = months("2016-01", "2017-12")
    parquet = tmp_path / "superstore.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv('{SUPERSTORE}')) TO '{parquet}' (FORMAT parquet)")
    m = mapping(HAND_MAPPING)
    from_csv = import_table(SUPERSTORE, m, "Actuals", months=horizon)
    from_parquet = import_table(parquet, m, "Actuals", months=horizon)
    assert from_parquet.lines == from_csv.lines


@needs_data
def test_financial_sample_xlsx_by_product_into_actuals():
    """The Power BI Financial Sample, read from its .xlsx (dates are date cells, one header
    has a leading space: ' Sales')."""
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(FINANCIAL)).get_sheet_by_name("Sheet1").to_python()
    head = [str(h).strip() for h in rows[0]]
    truth: dict[str, dict] = {"revenue": defaultdict(Decimal), "cogs": defaultdict(Decimal),
                              "units": defaultdict(Decimal)}
    for r in rows[1:]:
        rec = dict(zip(head, r, strict=False))
        key = (rec["Product"], rec["Date"].strftime("%Y-%m"))
        truth["revenue"][key] += Decimal(repr(rec["Sales"]))
        truth["cogs"][key] += Decimal(repr(rec["COGS"]))
        truth["units"][key] += Decimal(repr(rec["Units Sold"]))
    text = '''
[source]
sheet = "Sheet1"
[columns]
date = "Date"
item = "Product"
[values]
units = "Units Sold"
revenue = "Sales"
cogs = "COGS"
'''
    result = import_table(FINANCIAL, mapping(text), "Actuals", months=months("2013-09", "2014-12"))
    assert not result.issues
    for measure in ("revenue", "cogs", "units"):
        assert_same_cents(by_key(result, measure), truth[measure])


@needs_data
def test_adventureworks_gl_fact_long_layout_with_a_filter():
    """GL lines: one amount column, the account says the measure; only actuals."""
    truth: dict[str, dict] = {"revenue": defaultdict(Decimal), "cogs": defaultdict(Decimal)}
    wanted = {"Trade Sales": "revenue", "Standard Cost of Sales": "cogs"}
    first, last = "9999", "0000"
    with FACTFINANCE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            first, last = min(first, row["Date"][:7]), max(last, row["Date"][:7])
            if row["ScenarioName"] == "Actual" and row["AccountDescription"] in wanted:
                key = (row["OrganizationName"], row["Date"][:7])
                truth[wanted[row["AccountDescription"]]][key] += Decimal(row["Amount"])
    text = '''
[columns]
date = "Date"
item = "OrganizationName"
amount = "Amount"
measure = "AccountDescription"
[measures]
"Trade Sales" = "revenue"
"Standard Cost of Sales" = "cogs"
[[filter]]
column = "ScenarioName"
equals = "Actual"
'''
    result = import_table(FACTFINANCE, mapping(text), "Actuals", months=months(first, last))
    assert not result.issues
    assert result.rows_other > 0  # salaries, taxes, ... are not imported
    for measure in ("revenue", "cogs"):
        assert_same_cents(by_key(result, measure), truth[measure])


# ------------------------------------------------------------------ presets on real rows


def superstore_rows(horizon: list[str]) -> list[dict[str, str]]:
    with SUPERSTORE.open(newline="", encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["Order Date"][:7] in horizon]


def us_date(iso: str) -> str:
    return dt.date.fromisoformat(iso).strftime("%m/%d/%Y")


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def qbo_report(rows: list[dict[str, str]]) -> list[list[str]]:
    """Superstore lines as QuickBooks Online writes Sales by Product/Service Detail."""
    out = [["Superstore, Inc.", *[""] * 9], ["Sales by Product/Service Detail", *[""] * 9],
           ["January 2016 - December 2017", *[""] * 9], [],
           ["", "Transaction date", "Transaction type", "Num", "Customer full name",
            "Description", "Quantity", "Sales price", "Amount", "Balance"]]
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        groups[r["Sub-Category"]].append(r)
    grand = Decimal(0)
    for item, lines in groups.items():
        out.append([item, *[""] * 9])
        balance = Decimal(0)
        for r in lines:
            amount = Decimal(r["Sales"])
            balance += amount
            out.append(["", us_date(r["Order Date"]), "Invoice", r["Order ID"],
                        r["Customer Name"], r["Product Name"], f"{Decimal(r['Quantity']):.2f}",
                        "", f"{amount:,}", f"{balance:,}"])
        grand += balance
        out.append([f"Total for {item}", "", "", "", "", "", "", "", f"${balance:,}", ""])
    out.append(["TOTAL", "", "", "", "", "", "", "", f"${grand:,}", ""])
    out += [[], [" Thursday, December 3, 2026 10:02 AM GMT-05:00", *[""] * 9]]
    return out


def netsuite_search(rows: list[dict[str, str]]) -> list[list[str]]:
    out = [["Date", "Type", "Document Number", "Name", "Item", "Quantity", "Amount"]]
    for r in rows:
        out.append([us_date(r["Order Date"]), "Invoice", r["Order ID"], r["Customer Name"], "",
                    "", ""])  # the main line: no item
        out.append([us_date(r["Order Date"]), "Invoice", r["Order ID"], r["Customer Name"],
                    r["Sub-Category"], r["Quantity"], r["Sales"]])
    return out


def sap_items(rows: list[dict[str, str]]) -> list[list[str]]:
    out = [["Billing Doc.", "Item", "Billing Date", "Material", "Billed Quantity", "SU",
            "Net Value", "Curr."]]
    for n, r in enumerate(rows, start=1):
        day = dt.date.fromisoformat(r["Order Date"]).strftime("%d.%m.%Y")
        out.append([f"{90000000 + n}", "10", day, r["Sub-Category"], r["Quantity"], "EA",
                    r["Sales"], "USD"])
    return out


def with_mapping_sheet(preset: str) -> str:
    """The preset, with the Mapping sheet's table given inline (the workbook side is the
    import command's)."""
    return PRESETS[preset].replace('from = "sheet"', 'from = "table"') + "\n[families.map]\n" + \
        "\n".join(f'"{k}" = "{v}"' for k, v in SUB_TO_FAMILY.items())


@needs_data
@pytest.mark.parametrize("preset, layout", [
    ("quickbooks-sales-by-product", qbo_report),
    ("netsuite-sales", netsuite_search),
    ("sap-billing-items", sap_items)])
def test_preset_reads_its_export_layout(tmp_path, preset, layout):
    horizon = months("2016-01", "2017-12")
    source = write_csv(tmp_path / f"{preset}.csv", layout(superstore_rows(horizon)))
    result = import_table(source, mapping(with_mapping_sheet(preset)), "Actuals",
                          months=horizon)
    assert not result.issues, [i.format() for i in result.issues]
    truth = superstore_truth(horizon)
    assert_same_cents(by_key(result, "revenue"), truth["revenue"])
    assert_same_cents(by_key(result, "units"), truth["units"])


@needs_data
def test_gl_trial_balance_preset_on_adventureworks(tmp_path):
    """AdventureWorks' GL actuals as a trial balance by period: debit and credit columns,
    revenue as credits."""
    tb: dict[tuple, Decimal] = defaultdict(Decimal)
    kinds = {"Trade Sales": "Revenue", "Standard Cost of Sales": "Cost of Goods Sold",
             "Salaries": "Expense"}
    with FACTFINANCE.open(newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["ScenarioName"] == "Actual" and r["AccountDescription"] in kinds:
                kind = kinds[r["AccountDescription"]]
                sign = -1 if kind == "Revenue" else 1  # revenue is a credit balance
                tb[(r["OrganizationName"], kind, r["Date"][:7])] += sign * Decimal(r["Amount"])
    rows = [["Account", "Account Type", "Period", "Debit", "Credit"]]
    for (org, kind, period), net in sorted(tb.items()):
        rows.append([org, kind, period, f"{net:.2f}" if net > 0 else "",
                     f"{-net:.2f}" if net < 0 else ""])
    source = write_csv(tmp_path / "tb.csv", rows)
    text = PRESETS["gl-trial-balance"].replace('from = "sheet"', 'from = "item"')
    periods = sorted({k[2] for k in tb})
    result = import_table(source, mapping(text), "Actuals", months=months(periods[0], periods[-1]))
    assert not result.issues, [i.format() for i in result.issues]
    truth = {m: {(o, p): (v if m == "cogs" else -v) for (o, k, p), v in tb.items()
                 if k == ("Revenue" if m == "revenue" else "Cost of Goods Sold")}
             for m in ("revenue", "cogs")}
    for measure in ("revenue", "cogs"):
        assert_same_cents(by_key(result, measure), truth[measure])
    assert result.rows_other > 0  # the salaries lines


# ------------------------------------------------------------------ problems, all at once


def test_every_problem_is_reported_at_once_with_its_source_row(tmp_path):
    source = write_csv(tmp_path / "sales.csv", [
        ["Date", "Item", "Qty", "Sales"],
        ["2027-01-15", "Pump A", "10", "1,000.00"],
        ["2027-13-01", "Pump A", "1", "100"],          # row 3: no such month
        ["2027-02-01", "Pump A", "two", "200"],        # row 4: not a number
        ["2027-02-03", "Gizmo", "1", "50"],            # row 5: unmapped
        ["2027-02-04", "Gizmo", "2", "(25.50)"],       # row 6: unmapped again
        ["2026-12-31", "Pump A", "1", "10"],           # row 7: before the plan
        ["2027-03-01", "Valve", "5", "500"],           # row 8: a family the plan lacks
    ])
    text = '''
[columns]
date = "Date"
item = "Item"
[values]
units = "Qty"
revenue = "Sales"
[families.map]
"Pump A" = "PUMP"
"Valve" = "VALVE"
'''
    result = import_table(source, mapping(text), "Actuals", months=months("2027-01", "2027-12"),
                          families={"PUMP"})
    found = {(i.code, i.where) for i in result.issues}
    assert found == {
        (IssueCode.SOURCE_DATE_INVALID, SourceRow("sales.csv", 3, "Date")),
        (IssueCode.SOURCE_NUMBER_INVALID, SourceRow("sales.csv", 4, "Qty")),
        (IssueCode.ITEM_UNMAPPED, SourceRow("sales.csv", 5, "Item")),
        (IssueCode.MONTH_OUTSIDE_HORIZON, SourceRow("sales.csv", 7)),
        (IssueCode.UNKNOWN_FAMILY, SourceRow("sales.csv", 8)),
    }
    unmapped = next(i for i in result.issues if i.code is IssueCode.ITEM_UNMAPPED)
    assert unmapped.format() == (
        "sales.csv:5 column Item: item 'Gizmo' has no family (2 rows: 5, 6; "
        "units 3.00, revenue 24.50); add it to the [families.map] table of the mapping.")
    assert all(i.severity is Severity.ERROR for i in result.issues)
    assert result.lines == () and result.months == ()  # nothing to write while errors stand


def test_many_bad_rows_are_listed_then_counted(tmp_path):
    rows = [["Date", "Item", "Sales"]] + [["someday", "A", "1"]] * 45
    source = write_csv(tmp_path / "bad.csv", rows)
    text = '[columns]\ndate = "Date"\nitem = "Item"\n[values]\nrevenue = "Sales"\n'
    result = import_table(source, mapping(text), "Actuals", months=["2027-01"])
    assert len(result.issues) == 21
    assert result.issues[-1].more == 25 and result.issues[-1].where.row == 22
    assert sum(i.count for i in result.issues) == 45


def test_a_mapped_column_missing_from_the_source(tmp_path):
    source = write_csv(tmp_path / "s.csv", [["Date", "Product", "Sales"], ["2027-01-01", "A", "1"]])
    text = '[columns]\ndate = "Date"\nitem = ["Item", "SKU"]\n[values]\nrevenue = "Sales"\n'
    result = import_table(source, mapping(text), "Actuals", months=["2027-01"])
    [issue] = result.issues
    assert issue.code is IssueCode.SOURCE_COLUMN_MISSING
    assert "'Item' or 'SKU'" in issue.message and issue.where == SourceRow("s.csv", 1)


@pytest.mark.parametrize("name, content", [
    ("notes.pdf", b"%PDF-1.4"),
    ("broken.xlsx", b"PK\x03\x04 not really a zip"),
    ("empty.csv", b""),
])
def test_an_unreadable_source_is_one_issue(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    text = '[columns]\ndate = "Date"\nitem = "Item"\n[values]\nrevenue = "Sales"\n'
    result = import_table(path, mapping(text), "Actuals", months=["2027-01"])
    assert [i.code for i in result.issues] in ([IssueCode.SOURCE_UNREADABLE],
                                                [IssueCode.SOURCE_COLUMN_MISSING])
    assert result.lines == ()


def test_mapping_problems_are_all_reported():
    text = '''
colours = 1
[columns]
date = 5
[values]
margin = "Profit"
[signs]
revenue = 2
[families]
from = "somewhere"
'''
    m, issues = parse_mapping(text, "bad.toml", "Actuals")
    assert m is None
    where = {i.where.column for i in issues}
    assert {"colours", "columns.date", "signs.revenue", "families.from", "columns.item",
            "values"} <= where
    assert all(i.code is IssueCode.MAPPING_INVALID for i in issues)
    bad, [issue] = parse_mapping("x = [", "broken.toml", "Actuals")
    assert bad is None and "not valid TOML" in issue.message


def test_every_preset_is_a_valid_mapping():
    for name, text in PRESETS.items():
        m, issues = parse_mapping(text, f"preset:{name}", "Actuals")
        assert m is not None and not issues, (name, [i.format() for i in issues])


def test_sap_style_numbers_with_a_decimal_comma_and_a_trailing_minus(tmp_path):
    source = write_csv(tmp_path / "sap.csv", [
        ["Billing Date", "Material", "Billed Quantity", "Net Value"],
        ["02.01.2027", "P-100", "1.000", "12.345,60"],
        ["15.01.2027", "P-100", "10", "1.000,00-"],   # a credit memo
    ])
    text = PRESETS["sap-billing-items"].replace('[source]', '[source]\ndecimal = ","').replace(
        'from = "sheet"', 'from = "item"')
    result = import_table(source, mapping(text), "Actuals", months=["2027-01"])
    assert not result.issues
    assert {ln.keys[1]: ln.value for ln in result.lines} == {"units": 1010.0,
                                                             "revenue": 11345.6}
