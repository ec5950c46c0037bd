"""Importing Budget and Actuals by channel: Superstore's order lines by family and customer
segment land on the rows of each family and channel, to the cent of a sum of the CSV made
with the csv module and Decimal; a channel Demand has not is an error at its source row; an
import without channels cannot fill rows by channel; and opex rows, keyed by department and
account, sit beside rows by channel with their Channel blank."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from finance_exports import (
    SUB_TO_FAMILY,
    SUPERSTORE,
    SUPERSTORE_MONTHS,
    assert_cents,
    json_errors,
    run_import,
    sales_truth,
    sheet_rows,
    superstore_plan,
    write_csv,
)
from plan_tables import write_xlsx
from sopfin.cli import main
from sopfin.imports.mapping import parse_mapping
from sopfin.imports.transform import import_table
from sopfin.model import IssueCode

needs_data = pytest.mark.skipif(not SUPERSTORE.exists(), reason="no public data at "
                                "../shared/data")

SUPERSTORE_MAP = '''
name = "Superstore sales by family and segment"
[source]
outside = "skip"
[columns]
date = "Order Date"
item = "Sub-Category"
channel = "Segment"
[values]
revenue = "Sales"
[families.map]
''' + "\n".join(f'"{k}" = "{v}"' for k, v in SUB_TO_FAMILY.items())


def channel_cells(plan: Path, sheet: str, measure: str) -> dict[tuple[str, ...], Decimal]:
    rows = sheet_rows(plan, sheet)
    first = rows[0].index(SUPERSTORE_MONTHS[0])
    return {(r[0], r[2], m): Decimal(repr(r[first + k])) for r in rows[1:] if r[1] == measure
            for k, m in enumerate(SUPERSTORE_MONTHS) if r[first + k] is not None}


@needs_data
@pytest.mark.parametrize("into", ["Actuals", "Budget"])
def test_sales_by_segment_land_by_family_and_channel(tmp_path, into):
    plan = write_xlsx(tmp_path / "plan.xlsx", superstore_plan())
    assert run_import(plan, SUPERSTORE_MAP, into, SUPERSTORE) == 0
    assert_cents(channel_cells(plan, into, "revenue"), sales_truth())
    units = channel_cells(plan, into, "units")
    assert units == {("TECH", "Consumer", m): Decimal("7.0") for m in SUPERSTORE_MONTHS}
    assert main(["check", str(plan), "-q"]) == 0


@needs_data
def test_a_channel_demand_does_not_have_is_an_error_at_its_first_row(tmp_path, capsys):
    plan = write_xlsx(tmp_path / "plan.xlsx", superstore_plan())
    before = plan.read_bytes()
    mapping = SUPERSTORE_MAP.replace('channel = "Segment"', 'channel = "Region"')
    assert run_import(plan, mapping, "Actuals", SUPERSTORE, "--json") == 1
    issues = json_errors(capsys)
    assert {i["code"] for i in issues} == {IssueCode.CHANNEL_MISMATCH.value}
    assert len(issues) == 4  # Superstore's four regions
    assert issues[0]["location"].startswith("superstore.csv:2 column Region")
    assert plan.read_bytes() == before


@needs_data
def test_an_import_without_channel_cannot_fill_a_sheet_by_channel(tmp_path, capsys):
    plan = write_xlsx(tmp_path / "plan.xlsx", superstore_plan())
    mapping = SUPERSTORE_MAP.replace('channel = "Segment"\n', '').replace(
        'revenue = "Sales"', 'units = "Quantity"')
    assert run_import(plan, mapping, "Actuals", SUPERSTORE, "--json") == 1
    [issue] = json_errors(capsys)
    assert (issue["code"], issue["cell"]) == (IssueCode.CHANNEL_MISMATCH.value, "C2")


@pytest.mark.parametrize("into", ["Actuals", "Budget"])
def test_opex_lands_beside_rows_by_channel_with_its_channel_blank(tmp_path, into):
    plan = write_xlsx(tmp_path / "plan.xlsx", superstore_plan(opex=(("Sales", "Travel"),)))
    source = write_csv(tmp_path / "travel.csv", [["Date", "Dept", "GL", "Amount"],
                                                 ["2017-01-05", "Sales", "Travel", "120.5"],
                                                 ["2017-02-05", "Sales", "Travel", "80"]])
    mapping = ('[columns]\ndate = "Date"\ndepartment = "Dept"\naccount = "GL"\n'
               '[values]\nopex = "Amount"\n')
    assert run_import(tmp_path / "plan.xlsx", mapping, into, source) == 0
    rows = sheet_rows(plan, into)
    assert rows[0][:5] == ["Family", "Measure", "Channel", "Department", "Account"]
    assert [r[:7] for r in rows[1:]] == [["TECH", "units", "Consumer", None, None, 7.0, 7.0],
                                         [None, "opex", None, "Sales", "Travel", 120.5, 80.0]]
    assert main(["check", str(plan), "-q"]) == 0  # an opex row needs no channel


def test_a_channel_on_a_plan_whose_demand_has_none_says_so(tmp_path):
    source = write_csv(tmp_path / "sales.csv", [["Date", "SKU", "Segment", "Sales"],
                                                ["2027-01-05", "P-100", "Retail", "10"]])
    text = ('[columns]\ndate = "Date"\nitem = "SKU"\nchannel = "Segment"\n'
            '[values]\nrevenue = "Sales"\n')
    mapping, _ = parse_mapping(text, "map.toml", "Budget")
    assert mapping is not None
    result = import_table(source, mapping, "Budget", months=["2027-01"], families={"P-100"},
                          channels=[])
    [issue] = result.issues
    assert (issue.code, issue.where.row, issue.where.column) == (
        IssueCode.CHANNEL_MISMATCH, 2, "Segment")
    assert "Demand has no Channel column" in issue.message and result.lines == ()
