"""The star schema ``sopfin export`` writes: every table, column, type and meaning, once.

docs/export.md describes the same tables for readers; a test checks that it names every
column here. Types are DuckDB SQL types; the files carry them (Parquet) or are read back to
them (CSV, header row, ISO dates).
"""

from __future__ import annotations

from dataclasses import dataclass

LIVE = "live"  # the version key of the plan as it stands in the workbook now
LIVE_STATUS = "live"
BUDGET = "budget"  # the scenario key of the Budget sheet's figures
ALL_CHANNELS = "(all)"  # the channel of a measure planned per family, not per channel
OVERRIDE_CHANNEL = "(override)"  # the channel of a named override (sheet Overrides)
FORMATS = ("parquet", "csv")


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str
    meaning: str


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    unit: str  # 'units' or 'currency'
    aggregation: str  # 'sum' over months, or 'last' (a balance at the end of the month)
    grain: str  # 'channel' (per family and channel) or 'family'


def _c(name: str, sql_type: str, meaning: str) -> Column:
    return Column(name, sql_type, meaning)


FACT_PLAN = (
    _c("version", "VARCHAR", "'live', or the published version 'v001', 'v002'... (dim_version)"),
    _c("status", "VARCHAR", "'live', or the version's status now: draft or approved"),
    _c("scenario", "VARCHAR", "plan scenario, or 'budget' (dim_scenario)"),
    _c("family", "VARCHAR", "product family id (dim_family)"),
    _c("channel", "VARCHAR", "sales channel, '(all)' for a family-level measure, "
                              "'(override)' for a named override (dim_channel)"),
    _c("month", "DATE", "first day of the month (dim_calendar)"),
    _c("measure", "VARCHAR", "what the value is (dim_measure)"),
    _c("value", "DOUBLE", "the figure: units, or money in the currency"),
    _c("currency", "VARCHAR", "ISO currency of a money measure; empty for units"),
)
FACT_VERSION_TOTALS = (
    _c("version", "VARCHAR", "published version (dim_version)"),
    _c("scenario", "VARCHAR", "scenario of the tab's scenario comparison (dim_scenario)"),
    _c("window", "VARCHAR", "the months the version reconciles ('Horizon', 'FY2027'...)"),
    _c("measure", "VARCHAR", "revenue, budget_revenue, revenue_gap, gross_margin, "
                              "budget_gross_margin, gross_margin_gap, inventory_value, "
                              "inventory_cash, budget_inventory_cash, cash_vs_budget, "
                              "revenue_at_risk"),
    _c("value", "DOUBLE", "the figure over the window, as on the tab (cents)"),
    _c("currency", "VARCHAR", "ISO currency"),
)
FACT_BRIDGE = (
    _c("version", "VARCHAR", "published version (dim_version)"),
    _c("bridge", "VARCHAR", "'revenue' or 'gross_margin': budget to plan over the window"),
    _c("step", "INTEGER", "order on the tab: 1 is the budget, the last is the plan"),
    _c("line_type", "VARCHAR", "'start' (budget), 'step', or 'end' (plan)"),
    _c("line", "VARCHAR", "the line's label (Price, Quantity, Mix, New: X, an override...)"),
    _c("amount", "DOUBLE", "the line's amount (cents); the steps sum to end - start"),
    _c("owner", "VARCHAR", "who owns the line (overrides), else empty"),
    _c("note", "VARCHAR", "the tab's note on the line, else empty"),
    _c("currency", "VARCHAR", "ISO currency"),
)
DIM_VERSION = (
    _c("version", "VARCHAR", "key: 'live', 'v001', 'v002'..."),
    _c("version_number", "INTEGER", "1, 2...; empty for live"),
    _c("cycle", "VARCHAR", "S&OP cycle (YYYY-MM) the version closes; live: Settings' cycle"),
    _c("status", "VARCHAR", "'live', draft or approved (the ledger's latest word)"),
    _c("is_plan_of_record", "BOOLEAN", "the latest approved version"),
    _c("scenario", "VARCHAR", "the scenario the version reconciles; empty for live"),
    _c("window", "VARCHAR", "the window the version reconciles; empty for live"),
    _c("author", "VARCHAR", "who published it"),
    _c("published_at", "TIMESTAMP", "when it was published (UTC)"),
    _c("approved_by", "VARCHAR", "who approved it, if approved"),
    _c("approved_at", "TIMESTAMP", "when it was approved (UTC), if approved"),
    _c("input_hash", "VARCHAR", "hash of the input sheets it was published from"),
    _c("recon_hash", "VARCHAR", "hash of its Recon tab"),
    _c("entry_hash", "VARCHAR", "hash of its ledger entry (the chain's link)"),
)
DIM_SCENARIO = (
    _c("scenario", "VARCHAR", "key"),
    _c("kind", "VARCHAR", "'plan' or 'budget'"),
    _c("is_plan_scenario", "BOOLEAN", "the scenario reconciled to budget (Settings)"),
    _c("sort_order", "INTEGER", "order in Settings; budget last"),
)
DIM_FAMILY = (
    _c("family", "VARCHAR", "key: product family id"),
    _c("name", "VARCHAR", "family name (Families sheet)"),
    _c("product_line", "VARCHAR", "product line"),
    _c("uom", "VARCHAR", "unit of measure"),
    _c("active", "BOOLEAN", "active on the Families sheet; empty for a family only a "
                            "version or an override names"),
)
DIM_CHANNEL = (
    _c("channel", "VARCHAR", "key: sales channel, '(all)' or '(override)'"),
    _c("kind", "VARCHAR", "'channel', 'all' or 'override'"),
)
DIM_CALENDAR = (
    _c("month", "DATE", "key: first day of the month"),
    _c("month_label", "VARCHAR", "YYYY-MM, as on the sheets"),
    _c("year", "INTEGER", "calendar year"),
    _c("month_number", "INTEGER", "calendar month 1-12"),
    _c("fiscal_year", "INTEGER", "fiscal year (the calendar year in which it ends)"),
    _c("fiscal_year_label", "VARCHAR", "'FY2027'"),
    _c("fiscal_quarter", "INTEGER", "fiscal quarter 1-4"),
    _c("fiscal_quarter_label", "VARCHAR", "'FY2027 Q1'"),
    _c("in_horizon", "BOOLEAN", "in the live plan's horizon"),
)
DIM_MEASURE = (
    _c("measure", "VARCHAR", "key"),
    _c("label", "VARCHAR", "as the Summary sheet names it"),
    _c("unit", "VARCHAR", "'units' or 'currency'"),
    _c("aggregation", "VARCHAR", "'sum' over months, or 'last' for a balance"),
    _c("grain", "VARCHAR", "'channel' (per family and channel) or 'family' (channel '(all)')"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "fact_plan": FACT_PLAN,
    "fact_version_totals": FACT_VERSION_TOTALS,
    "fact_bridge": FACT_BRIDGE,
    "dim_version": DIM_VERSION,
    "dim_scenario": DIM_SCENARIO,
    "dim_family": DIM_FAMILY,
    "dim_channel": DIM_CHANNEL,
    "dim_calendar": DIM_CALENDAR,
    "dim_measure": DIM_MEASURE,
}

MEASURES = (
    Measure("units", "Units shipped", "units", "sum", "channel"),
    Measure("demand_units", "Units demanded", "units", "sum", "channel"),
    Measure("revenue", "Revenue", "currency", "sum", "channel"),
    Measure("revenue_at_risk", "Revenue at risk", "currency", "sum", "channel"),
    Measure("cogs", "COGS", "currency", "sum", "family"),
    Measure("gross_margin", "Gross margin", "currency", "sum", "family"),
    Measure("inventory_value", "Inventory value (end)", "currency", "last", "family"),
    Measure("inventory_cash", "Inventory cash effect", "currency", "sum", "family"),
    Measure("production_units", "Units produced", "units", "sum", "family"),
    Measure("end_units", "Units on hand (end)", "units", "last", "family"),
)
MEASURE_BY_NAME = {m.name: m for m in MEASURES}
