"""Summary by month, fiscal quarter and fiscal year, against figures added up by hand.

The dollarized figures are written straight into a ``Dollarized`` so that these tests check the
summary alone, whatever the engine does.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from plan_tables import table_rows
from sopfin.calendar import (
    days_in_month,
    fiscal_quarter,
    fiscal_quarters,
    fiscal_year,
    fiscal_years,
)
from sopfin.engine.results import FAMILY_MEASURES, Dollarized
from sopfin.engine.summary import MEASURES, headline, summarize
from sopfin.model import Keys, text_column

MONTHS = ("2027-05", "2027-06", "2027-07", "2027-08", "2027-09", "2027-10", "2027-11",
          "2027-12")

# Two families, A and B, month by month (scenario 'base'). Scenario 'flat' is all zeros.
FAMILY_A = """
| measure         | 2027-05 | 2027-06 | 2027-07 | 2027-08 | 2027-09 | 2027-10 | 2027-11 | 2027-12 |
| shipments_units |      10 |      20 |      30 |      40 |      50 |      60 |      70 |      80 |
| revenue         |     100 |     200 |     300 |     400 |     500 |     600 |     700 |     800 |
| cogs            |      50 |      50 |      50 |      50 |      50 |      50 |      50 |      50 |
| inventory_value |    1000 |     900 |     800 |     700 |     600 |     500 |     400 |     300 |
| inventory_cash  |     100 |     100 |     100 |     100 |     100 |     100 |     100 |     100 |
| revenue_at_risk |       0 |       0 |       5 |       0 |       0 |       0 |       0 |       0 |
"""
FAMILY_B = """
| measure         | 2027-05 | 2027-06 | 2027-07 | 2027-08 | 2027-09 | 2027-10 | 2027-11 | 2027-12 |
| shipments_units |       1 |       1 |       1 |       1 |       1 |       1 |       1 |       1 |
| revenue         |      10 |      10 |      10 |      10 |      10 |      10 |      10 |      10 |
| cogs            |       0 |       0 |       0 |       0 |       0 |       0 |       0 |       0 |
| inventory_value |       5 |       5 |       5 |       5 |       5 |       5 |       5 |       5 |
| inventory_cash  |       0 |       0 |       0 |       0 |       0 |       0 |       0 |      -5 |
| revenue_at_risk |       0 |       0 |       0 |       0 |       0 |       0 |       0 |       0 |
"""
BUDGET_A = """
| measure | 2027-05 | 2027-06 | 2027-07 | 2027-08 | 2027-09 | 2027-10 | 2027-11 | 2027-12 |
| units   |      10 |      10 |      10 |      10 |      10 |      10 |      10 |      10 |
| revenue |     100 |     100 |     100 |     100 |     100 |     100 |     100 |     100 |
| cogs    |      40 |      40 |      40 |      40 |      40 |      40 |      40 |      40 |
"""

# Fiscal year from July: May-Jun 2027 close FY2027 (a partial year), Jul-Dec open FY2028.
PLAN_BY_PERIOD = """
| measure         | FY2027 Q4 | FY2028 Q1      | FY2028 Q2      | FY2027 | FY2028 |
| units           |        32 |            123 |            213 |     32 |    336 |
| revenue         |       320 |           1230 |           2130 |    320 |   3360 |
| cogs            |       100 |            150 |            150 |    100 |    300 |
| gross_margin    |       220 |           1080 |           1980 |    220 |   3060 |
| gm_pct          |    0.6875 | 0.878048780488 | 0.929577464789 | 0.6875 | 0.910714285714 |
| inventory_value |       905 |            605 |            305 |    905 |    305 |
| inventory_cash  |       200 |            300 |            295 |    200 |    595 |
| revenue_at_risk |         0 |              5 |              0 |      0 |      5 |
"""
BUDGET_BY_PERIOD = """
| measure         | FY2027 Q4 | FY2028 Q1 | FY2028 Q2 | FY2027 | FY2028 |
| units           |        20 |        30 |        30 |     20 |     60 |
| revenue         |       200 |       300 |       300 |    200 |    600 |
| cogs            |        80 |       120 |       120 |     80 |    240 |
| gross_margin    |       120 |       180 |       180 |    120 |    360 |
| gm_pct          |       0.6 |       0.6 |       0.6 |    0.6 |    0.6 |
| inventory_value |         - |         - |         - |      - |      - |
| inventory_cash  |         - |         - |         - |      - |      - |
| revenue_at_risk |         - |         - |         - |      - |      - |
"""


def _rows(text: str) -> dict[str, list[float]]:
    _, rows = table_rows(text)
    return {r[0]: [math.nan if c == "-" else float(c) for c in r[1:]] for r in rows}


def _by_period(text: str) -> dict[tuple[str, str], float]:
    header, rows = table_rows(text)
    return {(period, r[0]): (math.nan if c == "-" else float(c))
            for r in rows for period, c in zip(header[1:], r[1:], strict=True)}


def _dollarized() -> Dollarized:
    s, f, m = 2, 2, len(MONTHS)
    fam = {name: np.zeros((s, f, m)) for name in FAMILY_MEASURES}
    for f_idx, text in enumerate((FAMILY_A, FAMILY_B)):
        for name, values in _rows(text).items():
            fam[name][0, f_idx] = values
    fam["gross_margin"] = fam["revenue"] - fam["cogs"]
    budget = {name: np.zeros((f, m)) for name in ("units", "revenue", "cogs")}
    for name, values in _rows(BUDGET_A).items():
        budget[name][0] = values
    return Dollarized(
        months=MONTHS, scenarios=("base", "flat"), families=("A", "B"),
        lines=Keys({"family": text_column([]), "channel": text_column([]),
                    "fam_idx": np.zeros(0, np.int64)}),
        variance_lines=Keys({"family": text_column([]), "type": text_column([]),
                             "fam_idx": np.zeros(0, np.int64)}),
        fam=fam, line={}, variance=np.zeros((s, 0, m)), budget=budget,
        opening_units=np.zeros(f), opening_value=np.zeros((s, f)),
        days_in_month=days_in_month(MONTHS))


def _close(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) < 1e-9  # gm_pct: 12 decimals


def test_quarters_and_fiscal_years_from_july_sum_flows_and_take_closing_balances():
    frame = summarize(_dollarized(), fiscal_year_start=7)
    base = frame[(frame["scenario"] == "base") & (frame["period_type"] != "month")]
    assert base["period"].drop_duplicates().tolist() == [
        "FY2027 Q4", "FY2028 Q1", "FY2028 Q2", "FY2027", "FY2028"]
    assert base.drop_duplicates("period")["period_type"].tolist() == [
        "quarter", "quarter", "quarter", "year", "year"]
    plan, budget = _by_period(PLAN_BY_PERIOD), _by_period(BUDGET_BY_PERIOD)
    for row in base.itertuples():
        key = (row.period, row.measure)
        assert _close(row.plan, plan[key]), f"plan {key}: {row.plan} != {plan[key]}"
        assert _close(row.budget, budget[key]), f"budget {key}: {row.budget} != {budget[key]}"
        assert _close(row.gap, plan[key] - budget[key]), f"gap {key}"


def test_months_are_summarised_one_by_one():
    frame = summarize(_dollarized(), fiscal_year_start=7)
    months = frame[(frame["scenario"] == "base") & (frame["period_type"] == "month")]
    assert months["period"].drop_duplicates().tolist() == list(MONTHS)
    june = months[months["period"] == "2027-06"].set_index("measure")
    assert june.loc["revenue", "plan"] == 210 and june.loc["revenue", "budget"] == 100
    assert june.loc["gross_margin", "plan"] == 160 and june.loc["gross_margin", "gap"] == 100
    assert june.loc["inventory_value", "plan"] == 905
    assert math.isnan(june.loc["inventory_value", "budget"])
    assert june.loc["gm_pct", "plan"] == pytest.approx(160 / 210)


def test_the_frame_is_tidy_and_complete():
    frame = summarize(_dollarized(), fiscal_year_start=7)
    assert frame.columns.tolist() == ["scenario", "period_type", "period", "measure", "plan",
                                      "dollarized", "overrides", "budget", "gap"]
    assert len(frame) == 2 * (8 + 3 + 2) * len(MEASURES)
    assert not frame.duplicated(["scenario", "period", "measure"]).any()
    assert set(frame["measure"]) == {"units", "revenue", "cogs", "gross_margin", "gm_pct",
                                     "inventory_value", "inventory_cash", "revenue_at_risk"}


def test_a_period_without_revenue_has_a_blank_gm_pct():
    frame = summarize(_dollarized(), fiscal_year_start=7)
    flat = frame[(frame["scenario"] == "flat") & (frame["measure"] == "gm_pct")]
    assert flat["plan"].isna().all() and flat["gap"].isna().all()
    assert (flat["budget"] == 0.6).all()


def test_a_january_fiscal_year_is_the_calendar_year():
    frame = summarize(_dollarized(), fiscal_year_start=1)
    periods = frame[frame["period_type"] != "month"]["period"].drop_duplicates().tolist()
    assert periods == ["FY2027 Q2", "FY2027 Q3", "FY2027 Q4", "FY2027"]
    year = frame[(frame["scenario"] == "base") & (frame["period"] == "FY2027")]
    year = year.set_index("measure")
    assert year.loc["revenue", "plan"] == 3680 and year.loc["revenue", "budget"] == 800
    assert year.loc["inventory_value", "plan"] == 305
    q2 = frame[(frame["scenario"] == "base") & (frame["period"] == "FY2027 Q2")]
    assert q2.set_index("measure").loc["units", "plan"] == 32  # May + June


def test_headline_covers_the_whole_horizon():
    frame = headline(_dollarized())
    assert frame.index.tolist() == ["base", "flat"]
    base = frame.loc["base"]
    expected = {"revenue": 3680, "budget_revenue": 800, "revenue_gap": 2880, "cogs": 400,
                "budget_cogs": 320, "gross_margin": 3280, "budget_gross_margin": 480,
                "gross_margin_gap": 2800, "gm_pct": 3280 / 3680, "budget_gm_pct": 0.6,
                "inventory_value": 305, "inventory_cash": 795, "revenue_at_risk": 5}
    for key, value in expected.items():
        assert base[key] == pytest.approx(value), key
    assert math.isnan(frame.loc["flat", "gm_pct"])
    assert frame.loc["flat", "revenue_gap"] == -800


# ----------------------------------------------------------------------------- calendar
def test_days_in_month_know_leap_years():
    assert days_in_month(["2027-01", "2027-02", "2028-02", "2027-04"]).tolist() == [
        31, 28, 29, 30]


@pytest.mark.parametrize(("month", "start", "year", "quarter"), [
    ("2026-07", 7, 2027, 1), ("2026-10", 7, 2027, 2), ("2027-01", 7, 2027, 3),
    ("2027-06", 7, 2027, 4), ("2027-07", 7, 2028, 1), ("2027-03", 4, 2027, 4),
    ("2027-04", 4, 2028, 1), ("2027-12", 1, 2027, 4), ("2027-01", 1, 2027, 1),
    ("2027-01", 2, 2027, 4), ("2027-02", 2, 2028, 1),
])
def test_fiscal_year_is_named_by_the_calendar_year_it_ends_in(month, start, year, quarter):
    assert fiscal_year([month], start).tolist() == [year]
    assert fiscal_quarter([month], start).tolist() == [quarter]


def test_periods_cut_by_the_horizon_keep_the_months_they_have():
    quarters = fiscal_quarters(MONTHS, 7)
    assert quarters.labels == ("FY2027 Q4", "FY2028 Q1", "FY2028 Q2")
    assert quarters.months_in().tolist() == [2, 3, 3]
    assert quarters.group.tolist() == [0, 0, 1, 1, 1, 2, 2, 2]
    years = fiscal_years(MONTHS, 7)
    assert years.labels == ("FY2027", "FY2028") and years.last.tolist() == [1, 7]
