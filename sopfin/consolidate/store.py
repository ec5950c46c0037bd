"""The consolidation's engine: every unit's facts in one embedded DuckDB database, and the
consolidated figures as SQL queries on it.

Tables: ``consolidation`` (the reporting currency), ``units`` (one row per workbook: file,
functional currency, scenario, months, ledger head, whether its figures are included),
``facts`` (unit, family, month, measure, value in the functional currency), ``fx`` (the
rates) and ``bridge`` (the revenue bridge of each unit, in the reporting currency). The view
``month_rates`` holds each unit's two rates per month (1.0 for a unit that reports in the
reporting currency); ``translated`` gives every included fact in the reporting currency: flows
at the month's average rate, the inventory value (a balance) at the month's closing rate;
units stay units.
Units are added one at a time, as their workers finish, so no more than one unit's facts is
held in Python.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from sopfin.consolidate.facts import NEVER_CLOSED, UnitFacts

BALANCE = "inventory_value"

SCHEMA = """
CREATE TABLE consolidation (reporting_currency VARCHAR NOT NULL);
CREATE TABLE units (
    ord INTEGER, unit VARCHAR PRIMARY KEY, path VARCHAR, currency VARCHAR, scenario VARCHAR,
    first_month VARCHAR, last_month VARCHAR, version VARCHAR, version_status VARCHAR,
    ledger_head VARCHAR, issues INTEGER, errors INTEGER, included BOOLEAN);
CREATE TABLE facts (unit VARCHAR, family VARCHAR, month VARCHAR, measure VARCHAR,
                    value DOUBLE);
CREATE TABLE fx (currency VARCHAR, month VARCHAR, average DOUBLE, closing DOUBLE,
                 PRIMARY KEY (currency, month));
CREATE TABLE bridge (unit VARCHAR, budget_revenue DOUBLE, price DOUBLE, quantity DOUBLE,
                     mix DOUBLE, new DOUBLE, discontinued DOUBLE, other DOUBLE,
                     overrides DOUBLE, plan_revenue DOUBLE);
CREATE VIEW month_rates AS
SELECT k.unit, k.month,
       CASE WHEN u.currency = c.reporting_currency THEN 1.0 ELSE fx.average END AS average,
       CASE WHEN u.currency = c.reporting_currency THEN 1.0 ELSE fx.closing END AS closing
FROM (SELECT DISTINCT unit, month FROM facts) k
JOIN units u ON u.unit = k.unit CROSS JOIN consolidation c
LEFT JOIN fx ON fx.currency = u.currency AND fx.month = k.month;
CREATE VIEW unit_rates AS
SELECT f.unit, f.month, f.measure,
       CASE WHEN f.measure LIKE '%_units' THEN 1.0
            WHEN f.measure = 'inventory_value' THEN m.closing ELSE m.average END AS rate
FROM (SELECT DISTINCT unit, month, measure FROM facts) f
JOIN month_rates m ON m.unit = f.unit AND m.month = f.month;
CREATE VIEW translated AS
SELECT f.unit, f.family, f.month, f.measure, f.value AS local_value, f.value * r.rate AS value
FROM facts f JOIN units u ON u.unit = f.unit AND u.included
JOIN unit_rates r ON r.unit = f.unit AND r.month = f.month AND r.measure = f.measure;
"""

MISSING_RATES = """
SELECT r.unit, u.currency, r.month,
       array_to_string(list_sort(list(DISTINCT CASE WHEN r.measure = 'inventory_value'
                                                    THEN 'closing' ELSE 'average' END)),
                       ' or ') AS kind
FROM unit_rates r JOIN units u USING (unit)
WHERE r.rate IS NULL
GROUP BY r.unit, u.currency, r.month ORDER BY min(u.ord), r.month
"""

# Translation difference of a unit and month: the balance's change at closing rates less
# the same change at the month's average rate (the flows' rate).
TRANSLATION = """
WITH balance AS (
    SELECT unit, month, sum(local_value) AS local_value, sum(value) AS at_closing
    FROM translated WHERE measure = 'inventory_value' GROUP BY unit, month),
moves AS (
    SELECT b.unit, b.month,
           b.at_closing - lag(b.at_closing) OVER w
           - (b.local_value - lag(b.local_value) OVER w) * m.average AS difference
    FROM balance b JOIN month_rates m USING (unit, month)
    WINDOW w AS (PARTITION BY b.unit ORDER BY b.month))
SELECT unit, coalesce(sum(difference), 0) AS translation_difference FROM moves GROUP BY unit
"""

SUMMARY = f"""
WITH per_unit AS (
    SELECT t.unit,
        coalesce(sum(t.value) FILTER (t.measure IN ('revenue', 'revenue_override')), 0) AS revenue,
        coalesce(sum(t.value) FILTER (t.measure = 'budget_revenue'), 0) AS budget_revenue,
        coalesce(sum(t.value) FILTER (t.measure IN ('cogs', 'cogs_override')), 0) AS cogs,
        coalesce(sum(t.value) FILTER (t.measure = 'budget_cogs'), 0) AS budget_cogs,
        coalesce(sum(t.value) FILTER (t.measure = 'plan_units'), 0) AS units,
        coalesce(sum(t.value) FILTER (t.measure = 'budget_units'), 0) AS budget_units,
        coalesce(sum(t.value) FILTER (t.measure = 'inventory_value'
                                      AND t.month = u.last_month), 0) AS inventory_value
    FROM translated t JOIN units u USING (unit) GROUP BY t.unit),
figures AS (
    SELECT p.*, td.translation_difference
    FROM per_unit p JOIN ({TRANSLATION}) td USING (unit))
SELECT CASE WHEN grouping(f.unit) = 1 THEN NULL ELSE f.unit END AS unit,
       sum(units) AS units, sum(budget_units) AS budget_units,
       sum(revenue) AS revenue, sum(budget_revenue) AS budget_revenue,
       sum(cogs) AS cogs, sum(budget_cogs) AS budget_cogs,
       sum(revenue) - sum(cogs) AS gross_margin,
       sum(budget_revenue) - sum(budget_cogs) AS budget_gross_margin,
       sum(inventory_value) AS inventory_value,
       sum(translation_difference) AS translation_difference
FROM figures f JOIN units u USING (unit)
GROUP BY GROUPING SETS ((f.unit), ())
ORDER BY grouping(f.unit), min(u.ord)
"""

MONTHLY = """
SELECT month,
    coalesce(sum(value) FILTER (measure IN ('revenue', 'revenue_override')), 0) AS revenue,
    coalesce(sum(value) FILTER (measure = 'budget_revenue'), 0) AS budget_revenue,
    coalesce(sum(value) FILTER (measure IN ('cogs', 'cogs_override')), 0) AS cogs,
    coalesce(sum(value) FILTER (measure = 'budget_cogs'), 0) AS budget_cogs,
    sum(value) FILTER (measure = 'inventory_value') AS inventory_value
FROM translated t
WHERE month >= (SELECT min(first_month) FROM units WHERE included)
GROUP BY month ORDER BY month
"""

BRIDGE_INPUTS = """
SELECT unit, family,
    coalesce(sum(value) FILTER (measure = 'budget_units'), 0) AS budget_units,
    coalesce(sum(value) FILTER (measure = 'budget_revenue'), 0) AS budget_revenue,
    coalesce(sum(value) FILTER (measure = 'plan_units'), 0) AS plan_units,
    coalesce(sum(value) FILTER (measure = 'revenue'), 0) AS plan_revenue,
    coalesce(sum(value) FILTER (measure = 'revenue_override'), 0) AS overrides
FROM translated t JOIN units u USING (unit)
GROUP BY unit, family ORDER BY min(u.ord), family
"""

BRIDGE = """
SELECT CASE WHEN grouping(b.unit) = 1 THEN NULL ELSE b.unit END AS unit,
       sum(budget_revenue) AS budget_revenue, sum(price) AS price, sum(quantity) AS quantity,
       sum(mix) AS mix, sum(new) AS new, sum(discontinued) AS discontinued,
       sum(other) AS other, sum(overrides) AS overrides, sum(plan_revenue) AS plan_revenue
FROM bridge b JOIN units u USING (unit)
GROUP BY GROUPING SETS ((b.unit), ()) ORDER BY grouping(b.unit), min(u.ord)
"""


class FactStore:
    """A DuckDB file holding one consolidation; made fresh at ``path``."""

    def __init__(self, path: Path, reporting_currency: str) -> None:
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
        self.path = path
        self.con = duckdb.connect(str(path))
        self.con.execute(SCHEMA)
        self.con.execute("INSERT INTO consolidation VALUES (?)", [reporting_currency])

    def close(self) -> None:
        self.con.close()

    def add_rates(self, rates: pd.DataFrame) -> None:
        if len(rates):
            self.con.register("incoming_rates", rates)
            self.con.execute("INSERT INTO fx SELECT currency, month, average, closing "
                             "FROM incoming_rates")
            self.con.unregister("incoming_rates")

    def add_unit(self, ord_: int, unit: UnitFacts) -> None:
        """The unit's row, and its facts when it has figures (streamed in, not kept)."""
        errors = sum(1 for i in unit.issues if i.severity.value == "error")
        months = unit.months or ("",)
        self.con.execute(
            "INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [ord_, unit.unit, unit.path, unit.currency, unit.scenario, months[0], months[-1],
             unit.ledger.version, unit.ledger.status, unit.ledger.head or NEVER_CLOSED,
             len(unit.issues), errors, unit.ok])
        if unit.facts is not None and unit.ok:
            self.con.register("incoming_facts", unit.facts)
            self.con.execute("INSERT INTO facts SELECT ?, family, month, measure, value "
                             "FROM incoming_facts", [unit.unit])
            self.con.unregister("incoming_facts")

    def missing_rates(self) -> pd.DataFrame:
        """unit, currency, month and kind ('average', 'closing' or 'average and closing') of
        the rates an included unit needs and the FX table lacks."""
        return self.con.execute(MISSING_RATES).df()

    def exclude(self, units: list[str]) -> None:
        if units:
            self.con.execute("UPDATE units SET included = false WHERE list_contains(?, unit)",
                             [units])

    def units(self) -> pd.DataFrame:
        return self.con.execute("SELECT * FROM units ORDER BY ord").df()

    def summary(self) -> pd.DataFrame:
        """One row per included unit and a total row (unit NULL), reporting currency."""
        return self.con.execute(SUMMARY).df()

    def monthly(self) -> pd.DataFrame:
        return self.con.execute(MONTHLY).df()

    def bridge_inputs(self) -> pd.DataFrame:
        return self.con.execute(BRIDGE_INPUTS).df()

    def add_bridge(self, rows: pd.DataFrame) -> None:
        if len(rows):
            self.con.register("incoming_bridge", rows)
            self.con.execute("INSERT INTO bridge SELECT unit, budget_revenue, price, quantity, "
                             "mix, new, discontinued, other, overrides, plan_revenue "
                             "FROM incoming_bridge")
            self.con.unregister("incoming_bridge")

    def bridge(self) -> pd.DataFrame:
        return self.con.execute(BRIDGE).df()
