"""The Power BI Financial Sample closed as a plan: 2014 is the plan, 2013 the budget.

The data (``../shared/data/financial_sample/Financial Sample.xlsx``, sheet ``Sheet1``) sells
six products in five segments from 2013-09 to 2014-12; list prices never change, but the
Government segment sells at three list prices (7, 20 and 350) and discount bands move the net
price. The plan workbook built here has the products as families, the horizon 2014-09..2014-12,
Demand and Prices from the 2014 rows (net price = Sales / Units Sold per month) and a Budget
from the 2013 rows of the same months. Its channel is the segment, Government split by its
list price ("Government 20"): the grain at which prices do not change. Each workbook is
closed with the command line and its Recon tab read back with openpyxl.

Figures found (revenue, horizon): gap +9.74M. Budget by family: Price +4.85M (50% of the
gap). Budget by channel: Price -45k (0.5% of the gap), Mix within families +5.03M, Mix
between families -0.77M; by segment alone (Government's three list prices in one channel)
Price is still +0.97M (10%).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from plan_tables import make_plan, sheet_rows, table, write_xlsx
from sopfin import layout
from sopfin.cli import main
from sopfin.close.reconcile import COARSER_BUDGET_NOTE
from sopfin.money import to_cents

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "data" / "financial_sample" / \
    "Financial Sample.xlsx"
if not SAMPLE.exists():
    pytest.skip(f"the Financial Sample is not at {SAMPLE}", allow_module_level=True)

MONTHS = ("2014-09", "2014-10", "2014-11", "2014-12")
TITLE = "Revenue bridge, budget to plan"


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    data = pd.read_excel(SAMPLE, sheet_name="Sheet1", engine="calamine")
    data.columns = [str(c).strip() for c in data.columns]
    data["month"] = pd.to_datetime(data["Date"]).dt.strftime("%m")
    points = data.groupby("Segment")["Sale Price"].nunique()
    data["price_point"] = [s if points[s] == 1 else f"{s} {p:g}"
                           for s, p in zip(data["Segment"], data["Sale Price"], strict=True)]
    return data[data["month"].isin([m[5:] for m in MONTHS])]


def by_month(rows: pd.DataFrame, year: int, value: str, keys: list[str]) -> pd.DataFrame:
    picked = rows[rows["Year"] == year]
    grid = picked.pivot_table(index=keys, columns="month", values=value, aggfunc="sum",
                              fill_value=0.0)
    return grid.reindex(columns=[m[5:] for m in MONTHS], fill_value=0.0)


def plan_workbook(rows: pd.DataFrame, channel: str | None, path: Path) -> Path:
    """The plan workbook: Demand and Prices per product and ``channel`` from 2014, a Budget
    from 2013 per product and ``channel`` (None: per product)."""
    keys = ["Product", channel or "price_point"]
    units, sales = by_month(rows, 2014, "Units Sold", keys), by_month(rows, 2014, "Sales", keys)
    price = sales / units.replace(0.0, np.nan)
    demand = [["base", f, c, *units.loc[(f, c)]] for f, c in units.index]
    prices = [[f, c, *(None if np.isnan(p) else float(p) for p in price.loc[(f, c)])]
              for f, c in price.index]
    supply = [["base", f, *units.loc[f].sum()] for f in units.index.unique(0)]
    cost = rows.groupby("Product")["Manufacturing Price"].first()
    budget_keys = ["Product", channel] if channel else ["Product"]
    budget = []
    for value, measure in (("Units Sold", "units"), ("Sales", "revenue"), ("COGS", "cogs")):
        grid = by_month(rows, 2013, value, budget_keys)
        budget += [[key[0], measure, *key[1:], *grid.loc[key]] if isinstance(key, tuple)
                   else [key, measure, *grid.loc[key]] for key in grid.index]
    plan = make_plan(
        demand=table(["scenario", "family", "channel", *MONTHS], demand),
        prices=table(["family", "channel", *MONTHS], prices),
        supply=table(["scenario", "family", *MONTHS], supply),
        std_cost=table(["family", "material", "labour", "overhead"],
                       [[f, float(c), 0, 0] for f, c in cost.items()]),
        budget=table(["family", "measure", *(["channel"] if channel else []), *MONTHS], budget),
        company="Financial Sample", currency="USD")
    return write_xlsx(path, sheet_rows(plan))


def closed_recon(path: Path) -> tuple[dict[str, float], list[str]]:
    """Close the workbook; its revenue bridge (label -> amount) and the tab's texts."""
    assert main(["close", str(path), "--author", "test", "-q"]) == 0
    assert main(["verify", str(path), "-q"]) == 0
    sheet = openpyxl.load_workbook(path, read_only=True)[layout.recon_tab_name(1)]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    at = next(i for i, r in enumerate(cells) if str(r[0] or "").startswith(TITLE))
    bridge = {}
    for r in cells[at + 2:]:
        if r[0] is None:
            break
        bridge[str(r[0])] = float(r[1])
    texts = [str(c) for r in cells for c in r if isinstance(c, str)]
    return bridge, texts


def steps_add_up(bridge: dict[str, float]) -> float:
    """The gap; asserts the published steps make it to the cent."""
    amounts = list(bridge.values())
    cents = [round(to_cents(a) * 100) for a in amounts]
    assert sum(cents[1:-1]) == cents[-1] - cents[0]
    return amounts[-1] - amounts[0]


def test_by_product_and_channel_the_price_step_is_near_zero_and_the_gain_is_mix(rows, tmp_path):
    bridge, texts = closed_recon(plan_workbook(rows, "price_point", tmp_path / "fs.xlsx"))
    gap = steps_add_up(bridge)
    assert gap == pytest.approx(9_742_264, abs=1)  # 36,157,519.26 - 26,415,255.51
    assert abs(bridge["Price"]) < 0.01 * gap  # -45,182.37
    assert bridge["Mix within families"] > 0.5 * gap  # 5.03M
    assert bridge["Mix within families"] == max(
        bridge[k] for k in ("Price", "Quantity", "Mix between families", "Mix within families"))
    assert COARSER_BUDGET_NOTE not in texts


def test_by_product_alone_the_channel_mix_lands_in_price(rows, tmp_path):
    bridge, texts = closed_recon(plan_workbook(rows, None, tmp_path / "fs.xlsx"))
    gap = steps_add_up(bridge)
    assert bridge["Price"] > 0.45 * gap  # 4.85M of 9.74M
    assert "Mix within families" not in bridge and "Mix" in bridge
    assert COARSER_BUDGET_NOTE in texts


def test_by_segment_alone_the_list_price_mix_of_government_stays_in_price(rows, tmp_path):
    bridge, _ = closed_recon(plan_workbook(rows, "Segment", tmp_path / "fs.xlsx"))
    gap = steps_add_up(bridge)
    assert 0.05 * gap < bridge["Price"] < 0.12 * gap  # 0.97M: 7, 20 and 350 in one channel
