"""The test notation itself: what a written table reads back as."""

from __future__ import annotations

import datetime as dt

import pytest

from plan_tables import cell, make_plan, sheet_rows, table, table_rows
from sopfin import layout
from sopfin.model import XlError

TYPED = [None, True, False, XlError("#N/A"), dt.date(2027, 3, 1), 1200.0, -0.5, 1e-05,
         "1,200", "0042", "TRUE", "#REF!", "@home", "PUMP-100"]


def test_every_kind_of_value_written_reads_back_as_itself():
    header, rows = table_rows(table(["v"] * len(TYPED), [TYPED]))
    assert rows == [TYPED] and header == ["v"] * len(TYPED)


@pytest.mark.parametrize(("text", "value"), [
    ("", None), ("12", 12.0), ('"12"', "12"), ("#DIV/0!", XlError("#DIV/0!")),
    ("@2027-01-31", dt.date(2027, 1, 31)), ("FALSE", False), ("false", "false"),
    ("2027-01", "2027-01")])
def test_a_cell_reads_as_the_value_a_reader_hands_over(text, value):
    assert cell(text) == value


def test_a_ragged_table_or_a_stray_line_is_refused():
    with pytest.raises(ValueError, match="has 2 cells, the header has 3"):
        table_rows("| a | b | c |\n| 1 | 2 |")
    with pytest.raises(ValueError, match="not a table row"):
        table_rows("| a |\nDemand\n| 1 |")


def test_keys_are_text_and_blank_numbers_are_zero_in_a_plan():
    plan = make_plan(demand="""
    | scenario | family | 2027-01 | 2027-02 |
    | base     | 1001   | 5       |         |
    | base     | "0042" | 7       | 8       |
    """)
    assert list(plan.demand.keys["family"]) == ["1001", "0042"]
    assert plan.demand.values.tolist() == [[5.0, 0.0], [7.0, 8.0]]
    assert sheet_rows(plan)[layout.DEMAND][1][:3] == ["base", "1001", 5.0]
