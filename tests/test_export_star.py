"""The star schema built from plain data: a small plan, a named override and a version whose
tab names a family the Families sheet no longer has, with the figures worked by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from plan_tables import make_plan
from sopfin.close.ledger import LedgerEntry
from sopfin.close.records import Override
from sopfin.engine.dollarize import dollarize
from sopfin.export.facts import Coded, Version
from sopfin.export.recon_tab import BridgeStep, ReconTab
from sopfin.export.star import build_star
from sopfin.model import CellRef

PLAN = dict(
    demand="""
    | scenario | family | channel | 2027-01 | 2027-02 | 2027-03 |
    | base     | PUMP   | Direct  |     100 |     120 |      80 |
    | base     | PUMP   | Retail  |      10 |      10 |      10 |
    """,
    prices="""
    | family | channel | 2027-01 | 2027-02 | 2027-03 |
    | PUMP   | Direct  |      10 |      10 |      11 |
    | PUMP   | Retail  |      20 |      20 |      20 |
    """,
    std_cost="""
    | family | material | labour | overhead |
    | PUMP   |        3 |    1.5 |      0.5 |
    """,
    budget="""
    | family | measure | 2027-01 | 2027-02 | 2027-03 |
    | PUMP   | units   |     100 |     100 |     100 |
    | PUMP   | revenue |    1000 |    1000 |    1000 |
    | PUMP   | cogs    |     500 |     500 |     500 |
    """,
)
# worked by hand: revenue = Direct units x price + Retail units x 20; cogs = units x 5
LIVE_BASE = {
    "revenue": [1000 + 200, 1200 + 200, 880 + 200],
    "cogs": [550, 650 + 50, 450],  # + the COGS override of 50 in 2027-02
    "gross_margin": [650, 750 - 50, 630],
}
FREIGHT = Override("OVR-1", "base", "PUMP", "2027-02", "cogs", 50.0, "M. Chen", "freight", "",
                   CellRef("Overrides", "A2"))


def _entry(seq: int, event: str, author: str, status: str) -> LedgerEntry:
    return LedgerEntry(seq, event, 1, "2027-01", f"2027-01-2{seq}T09:00:00Z", author, status,
                       "in" * 32, "tab" * 16, "0" * 64, f"{seq}" * 64, "")


def _version() -> Version:
    """v001 as its tab reads back: PUMP and OLD (a family deleted from Families since)."""
    index = pd.MultiIndex.from_product([["OLD", "PUMP"], ["units", "revenue", "cogs"]],
                                       names=["family", "measure"])
    snapshot = pd.DataFrame([[1, 1, 1], [9, 9, 9], [4, 4, 4],
                             [100, 100, 100], [1000.5, 1000, 1000], [500, 500, 500.25]],
                            index=index, columns=["2027-01", "2027-02", "2027-03"], dtype=float)
    totals = pd.DataFrame({"revenue": [3027.5], "budget_revenue": [3000.0],
                           "revenue_gap": [27.5]}, index=pd.Index(["base"], name="scenario"))
    bridges = (BridgeStep("revenue", 1, "Budget revenue", 3000.0, "", ""),
               BridgeStep("revenue", 2, "Price", 27.5, "", ""),
               BridgeStep("revenue", 3, "Plan revenue", 3027.5, "", ""))
    tab = ReconTab("2027-01", "base", "Horizon", "USD", bridges, totals, snapshot)
    return Version(1, tab, (_entry(1, "publish", "A. Planner", "draft"),
                            _entry(2, "approve", "R. Alvarez", "approved")))


@pytest.fixture(scope="module")
def star() -> dict[str, dict[str, list[object]]]:
    plan = make_plan(**PLAN, constrained=False, currency="USD")
    d, _ = dollarize(plan)
    version = _version()
    tables = build_star(plan, d, [FREIGHT], [version], list(version.entries))
    return {name: {k: (np.asarray(v.labels, dtype=object)[v.codes] if isinstance(v, Coded)
                       else v).tolist() for k, v in cols.items()}
            for name, cols in tables.items()}


def _sums(facts: dict[str, list[object]], version: str, scenario: str, measure: str,
          family: str | None = None) -> list[float]:
    out: dict[str, float] = {}
    for k, value in enumerate(facts["value"]):
        if (facts["version"][k], facts["scenario"][k], facts["measure"][k]) == (
                version, scenario, measure) and family in (None, facts["family"][k]):
            out[facts["month"][k]] = out.get(facts["month"][k], 0.0) + value
    return [out[m] for m in sorted(out)]


@pytest.mark.parametrize("measure", sorted(LIVE_BASE))
def test_the_live_plan_sums_to_the_figures_worked_by_hand(star, measure):
    assert _sums(star["fact_plan"], "live", "base", measure) == pytest.approx(
        LIVE_BASE[measure], abs=0.005)


def test_revenue_is_per_channel_cogs_per_family_and_an_override_on_its_own_row(star):
    facts = star["fact_plan"]
    channels = {(facts["measure"][k], facts["channel"][k]) for k in range(len(facts["value"]))
                if facts["version"][k] == "live" and facts["scenario"][k] == "base"}
    assert {c for m, c in channels if m == "revenue"} == {"Direct", "Retail"}
    assert {c for m, c in channels if m == "cogs"} == {"(all)", "(override)"}
    assert star["dim_channel"]["kind"] == ["channel", "channel", "all", "override"]


def test_the_budget_is_a_scenario_of_its_own(star):
    assert _sums(star["fact_plan"], "live", "budget", "gross_margin") == [500.0] * 3
    assert star["dim_scenario"]["scenario"] == ["base", "budget"]
    assert star["dim_scenario"]["kind"] == ["plan", "budget"]


def test_a_version_is_its_tab_with_gross_margin_as_revenue_less_cogs(star):
    facts = star["fact_plan"]
    assert _sums(facts, "v001", "base", "revenue", "PUMP") == [1000.5, 1000.0, 1000.0]
    assert _sums(facts, "v001", "base", "gross_margin", "PUMP") == [500.5, 500.0, 499.75]
    assert _sums(facts, "v001", "base", "units", "OLD") == [1.0, 1.0, 1.0]
    assert set(facts["status"][k] for k in range(len(facts["value"]))
               if facts["version"][k] == "v001") == {"approved"}


def test_a_family_only_a_version_names_is_in_the_family_dimension(star):
    families = star["dim_family"]
    row = families["family"].index("OLD")
    assert [families[c][row] for c in ("name", "product_line", "uom", "active")] == [None] * 4
    assert families["active"][families["family"].index("PUMP")] is True


def test_the_version_dimension_comes_from_the_ledger(star):
    versions = star["dim_version"]
    assert versions["version"] == ["live", "v001"]
    v1 = {k: values[1] for k, values in versions.items()}
    assert (v1["status"], v1["author"], v1["approved_by"]) == ("approved", "A. Planner",
                                                               "R. Alvarez")
    assert (v1["published_at"], v1["approved_at"]) == ("2027-01-21 09:00:00",
                                                       "2027-01-22 09:00:00")
    assert v1["is_plan_of_record"] is True and versions["is_plan_of_record"][0] is False


def test_the_bridge_marks_its_start_and_end(star):
    assert star["fact_bridge"]["line_type"] == ["start", "step", "end"]
    assert star["fact_version_totals"]["measure"] == ["revenue", "budget_revenue",
                                                      "revenue_gap"]
