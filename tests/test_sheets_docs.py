"""The sheet tables of docs/workbook.md ("Input tables", "Finance sheets") explain each sheet in
words, so they are written by hand; their sheets and columns are declared in
``sopfin.layout``, and this test holds the two together: every sheet once, in the layout's
order, naming exactly the columns it reads, optional ones said to be optional. "Output
sheets" describes every output sheet of the layout once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sopfin import layout

REPO = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `(?P<sheet>[A-Za-z]+)` \| (?P<columns>.*)$")
TICKED = re.compile(r"`([A-Za-z]+)`")


def documented_sheets(text: str) -> dict[str, str]:
    """Sheet -> the rest of its row (columns and what they hold), for every row of a sheet
    table."""
    rows: dict[str, str] = {}
    for line in text.splitlines():
        match = ROW.match(line)
        if match and match["sheet"] in (*layout.INPUT_SHEET_NAMES, *layout.FINANCE_SHEET_NAMES):
            assert match["sheet"] not in rows, f"{match['sheet']} is documented twice"
            rows[match["sheet"]] = match["columns"]
    return rows


DOCUMENTED = documented_sheets((REPO / "docs" / "workbook.md").read_text(encoding="utf-8"))


def test_every_input_and_finance_sheet_is_documented_in_the_layouts_order():
    assert list(DOCUMENTED) == [*layout.INPUT_SHEET_NAMES, *layout.FINANCE_SHEET_NAMES]


def test_the_settings_columns_are_the_layouts():
    assert TICKED.findall(DOCUMENTED[layout.SETTINGS]) == list(layout.SETTINGS_HEADERS)


def column_problems(sheet: layout.InputSheet, row: str) -> list[str]:
    """What a sheet's row in the docs gets wrong about its columns ([] when nothing)."""
    columns = {*sheet.keys, *sheet.optional_keys, *sheet.values, *sheet.optional_values}
    named = {word for word in TICKED.findall(row) if word[0].isupper()}
    problems = [f"{c} is not documented" for c in sorted(columns - named)]
    problems += [f"{c} is not a column" for c in sorted(named - columns)]
    problems += [f"{c} is not said to be optional" for c in sheet.optional_keys
                 + sheet.optional_values if f"optional `{c}`" not in row]
    return problems


@pytest.mark.parametrize("sheet", [*layout.INPUT_SHEETS, *layout.FINANCE_SHEETS],
                         ids=lambda s: s.name)
def test_a_sheet_row_names_exactly_its_columns(sheet: layout.InputSheet):
    assert column_problems(sheet, DOCUMENTED[sheet.name]) == [], sheet.name


def test_a_renamed_or_unmarked_column_is_caught():
    demand = layout.INPUT_BY_NAME[layout.DEMAND]
    drifted = documented_sheets("| `Demand` | `Scenario`, `Famly`, `Channel` | months |\n")
    assert column_problems(demand, drifted[layout.DEMAND]) == [
        "Family is not documented", "Famly is not a column",
        "Channel is not said to be optional"]


def output_section() -> str:
    text = (REPO / "docs" / "workbook.md").read_text(encoding="utf-8")
    return text.split("\n## Output sheets\n", 1)[1].split("\n## ", 1)[0]


def test_every_output_sheet_is_described_once():
    section = output_section()
    described = re.findall(r"^- \*\*([A-Za-z&]+)\*\*:", section, re.MULTILINE)
    assert sorted(described) == sorted(layout.OUTPUT_SHEET_NAMES)
    listed = re.findall(r"`([A-Za-z&]+)`", section.split(" are regenerated", 1)[0])
    assert listed == list(layout.OUTPUT_SHEET_NAMES), "the opening list of output sheets"
