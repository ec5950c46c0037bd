"""The short printed summary: revenue, margin, inventory and cash by scenario against budget.

Figures pass through ``sopfin.money.to_cents`` here, the one place where they become reported
numbers.
"""

from __future__ import annotations

import math

from sopfin.money import to_cents
from sopfin.results import Dollarized
from sopfin.summary import headline

COLUMNS = (
    ("revenue", "Revenue"),
    ("budget_revenue", "Budget rev."),
    ("revenue_gap", "Gap"),
    ("gross_margin", "Gross margin"),
    ("gm_pct", "GM %"),
    ("budget_gm_pct", "Bud. GM %"),
    ("inventory_value", "End inventory"),
    ("inventory_cash", "Inv. cash"),
    ("revenue_at_risk", "Rev. at risk"),
)
PERCENT_COLUMNS = {"gm_pct", "budget_gm_pct"}


def headline_records(d: Dollarized) -> list[dict[str, object]]:
    """One record per scenario over the whole horizon, money rounded to cents."""
    frame = headline(d)
    records: list[dict[str, object]] = []
    for scenario, row in frame.iterrows():
        record: dict[str, object] = {"scenario": str(scenario)}
        for key, value in row.items():
            number = float(value)
            if math.isnan(number):
                record[str(key)] = None
            elif str(key) in PERCENT_COLUMNS:
                record[str(key)] = round(number, 6)
            else:
                record[str(key)] = to_cents(number)
        records.append(record)
    return records


def _cell(key: str, value: object) -> str:
    if value is None:
        return "-"
    number = float(value)  # type: ignore[arg-type]
    if key in PERCENT_COLUMNS:
        return f"{number * 100:.1f}%"
    return f"{number / 1e6:,.2f}M" if abs(number) >= 1e5 else f"{number:,.0f}"


def format_headline(d: Dollarized, currency: str) -> str:
    """A fixed-width table, one line per scenario, for the terminal."""
    records = headline_records(d)
    columns = [(k, label) for k, label in COLUMNS if records and k in records[0]]
    widths = [max(len(label), 10) for _, label in columns]
    name_width = max([8] + [len(str(r["scenario"])) for r in records])
    months = f"{d.months[0]}..{d.months[-1]}" if d.months else ""
    lines = [f"Plan vs budget, {months} ({currency})",
             "Scenario".ljust(name_width) + "  " +
             "  ".join(label.rjust(w) for (_, label), w in zip(columns, widths, strict=True))]
    for record in records:
        cells = [_cell(k, record.get(k)).rjust(w)
                 for (k, _), w in zip(columns, widths, strict=True)]
        lines.append(str(record["scenario"]).ljust(name_width) + "  " + "  ".join(cells))
    return "\n".join(lines)
