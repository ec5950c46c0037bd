"""Key checks of input rows: the column-at-a-time build gives what the row-by-row spelling
(one ``key_equals`` per key cell, joined by ``check_formula``) gives."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.model import Keys, Table
from sopfin.render.refs import InputRows, check_formula, key_equals, sheet_prefix

KEY_TEXTS = st.one_of(st.sampled_from(["base", "PMP-110", "12", "-3.5", "1e3", "", "a\"b",
                                       "Ünïcode", "x" * 300]),
                      st.text(max_size=12))


def _table(sheet: str, texts: dict[str, list[str]], key_names: tuple[str, ...],
           first: int, letters: str = "ABC") -> Table:
    n = len(next(iter(texts.values())))
    keys = Keys.of(texts, row=np.arange(first, first + n, dtype=np.int64))
    return Table(sheet=sheet, key_names=key_names, keys=keys, value_names=("2027-01",),
                 values=np.zeros((n, 1)), key_cols=tuple(letters[:len(key_names)]),
                 value_cols=("E",), first_row=first, last_row=first + n - 1)


def _spelled(rows: InputRows, i: int, names: tuple[str, ...]) -> list[str]:
    """The conditions as written one cell at a time."""
    table = rows.table
    return [key_equals(f"{sheet_prefix(table.sheet)}${table.key_col(n)}${rows.sheet_row(i)}",
                       str(table.keys[n][i])) for n in names if n in table.key_names]


TABLES = st.integers(0, 8).flatmap(lambda n: st.tuples(
    st.lists(KEY_TEXTS, min_size=n, max_size=n), st.lists(KEY_TEXTS, min_size=n, max_size=n),
    st.lists(KEY_TEXTS, min_size=n, max_size=n), st.integers(1, 3), st.sampled_from(
        ["Demand", "My Sheet", "O'Brien"]), st.integers(2, 1_000_000),
    st.sampled_from(["ABC", "AAB", "ABA"])))


@settings(max_examples=200, deadline=None)
@given(TABLES, st.data())
def test_key_checks_match_the_row_by_row_spelling(table: tuple, data: st.DataObject) -> None:
    scenario, family, channel, columns, sheet, first, letters = table
    names = ("family", "scenario", "channel")[:columns]  # the key columns the sheet has
    texts = {"scenario": scenario, "family": family, "channel": channel}
    rows = InputRows(_table(sheet, texts, names, first, letters),
                     ("scenario", "family", "channel"))
    n = len(scenario)
    picks = data.draw(st.lists(st.lists(st.integers(0, max(n - 1, 0)), max_size=3)
                               if n else st.just([]), max_size=6))
    for i in range(n):
        assert rows.key_conditions(i) == _spelled(rows, i, rows.key_names)
        assert rows.key_conditions(i, ("family",)) == _spelled(rows, i, ("family",))
        assert rows.rows_check([i]) == check_formula(_spelled(rows, i, rows.key_names))
    for chosen in picks:
        spelled = [c for i in chosen for c in _spelled(rows, i, rows.key_names)]
        assert rows.rows_check(chosen) == check_formula(spelled)


def test_a_row_check_compares_every_key_cell_and_numeric_keys_as_text() -> None:
    rows = InputRows(_table("Demand", {"scenario": ["base"], "family": ["12"],
                                       "channel": [""]}, ("scenario", "family"), 14),
                     ("scenario", "family", "channel"))
    assert rows.rows_check([0]) == ('IF(AND(Demand!$A$14="base",Demand!$B$14&""="12"),'
                                    '"ok","RE-SORTED")')
    assert rows.rows_check([]) is None
    assert rows.rows_check([0, 0]) == rows.rows_check([0])


def test_a_table_without_key_columns_has_no_check() -> None:
    rows = InputRows(_table("Budget", {"scenario": ["base", "low"]}, (), 3), ("scenario",))
    assert rows.key_conditions(1) == []
    assert rows.rows_check([1]) is None
