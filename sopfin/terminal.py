"""What the terminal shows: revenue, margin, inventory and cash by scenario against budget,
and the issues, repeated warnings grouped.

Figures pass through ``sopfin.money.to_cents`` here, the one place where they become reported
numbers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from sopfin.close.records import Override
from sopfin.engine.results import Dollarized
from sopfin.model import Issue, Severity
from sopfin.money import to_cents

COLUMNS = (
    ("revenue", "Revenue"),
    ("dollarized_revenue", "Dollarized"),
    ("revenue_overrides", "Overrides"),
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


def headline_records(d: Dollarized, overrides: Sequence[Override] = (),
                     ) -> list[dict[str, object]]:
    """One record per scenario over the whole horizon, money rounded to cents; revenue is
    the plan with its named overrides, beside the dollarized revenue and the overrides."""
    from sopfin.engine.summary import headline_figures

    figures = headline_figures(d, overrides)
    records: list[dict[str, object]] = []
    for s, scenario in enumerate(d.scenarios):
        record: dict[str, object] = {"scenario": str(scenario)}
        for key, values in figures.items():
            number = float(values[s])
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


def format_headline(d: Dollarized, currency: str, overrides: Sequence[Override] = ()) -> str:
    """A fixed-width table, one line per scenario, for the terminal."""
    records = headline_records(d, overrides)
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


GROUP_ABOVE = 3  # more warnings than this of one code print as one line
GROUP_LOCATIONS = 8  # locations named on a grouped line


def issue_lines(issues: Sequence[Issue], workbook: str) -> list[str]:
    """``error[code] ...`` for every error, then the warnings, then the count. Warnings of one
    code beyond ``GROUP_ABOVE`` become one line: the first in full, then
    ``(and 59 more like it: Demand!G1, ...)``. The Issues sheet and ``--json`` keep them all."""
    errors = [i for i in issues if i.severity is Severity.ERROR]
    warnings = [i for i in issues if i.severity is Severity.WARNING]
    lines = [f"error[{i.code.value}] {i.format(workbook)}" for i in errors]
    by_code: dict[str, list[Issue]] = {}
    for issue in warnings:
        by_code.setdefault(issue.code.value, []).append(issue)
    for code, group in by_code.items():
        if _total(group) <= GROUP_ABOVE:
            lines += [f"warning[{code}] {i.format(workbook)}" for i in group]
            continue
        cells = [str(i.where) for i in group[1:] if not i.more]
        places = ", ".join(cells[:GROUP_LOCATIONS])
        etc = ", ..." if _total(group) - 1 > GROUP_LOCATIONS else ""
        lines.append(f"warning[{code}] {group[0].format(workbook)} "
                     f"(and {_total(group) - 1} more like it: {places}{etc})")
    if issues:
        lines.append(f"{_total(errors)} error(s), {_total(warnings)} warning(s) in {workbook}")
    return lines


def _total(issues: Sequence[Issue]) -> int:
    """How many issues these stand for (a summary issue counts the ones it stands for)."""
    return sum(i.count for i in issues)
