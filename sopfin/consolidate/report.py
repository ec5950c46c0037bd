"""What ``sopfin consolidate`` prints: the units and the total against budget in the
reporting currency, the units left out, and every issue with its unit; or the same as JSON.
Figures become cents here (``sopfin.money``)."""

from __future__ import annotations

import math

from sopfin.consolidate.run import Consolidation
from sopfin.money import to_cents

FIGURES = (("revenue", "Revenue"), ("budget_revenue", "Budget rev."),
           ("revenue_gap", "Gap"), ("gross_margin", "Gross margin"),
           ("inventory_value", "End inventory"), ("translation_difference", "Transl. diff."))


def summary_records(result: Consolidation) -> list[dict[str, object]]:
    """One record per included unit and the total (unit 'Total'), money in cents."""
    records = []
    for row in result.summary.to_dict("records"):
        row["revenue_gap"] = row["revenue"] - row["budget_revenue"]
        row["gross_margin_gap"] = row["gross_margin"] - row["budget_gross_margin"]
        record: dict[str, object] = {"unit": row["unit"] if isinstance(row["unit"], str)
                                     else "Total"}
        for key, value in row.items():
            if isinstance(key, str) and key != "unit":
                number = float(value)
                record[key] = None if math.isnan(number) else to_cents(number)
        records.append(record)
    return records


def unit_records(result: Consolidation) -> list[dict[str, object]]:
    keys = ("unit", "path", "currency", "scenario", "version", "version_status",
            "ledger_head", "included")
    return [{k: (bool(u[k]) if k == "included" else u[k]) for k in keys}
            for u in result.units.to_dict("records")]


def json_payload(result: Consolidation) -> dict[str, object]:
    return {
        "out": str(result.out), "database": str(result.database),
        "currency": result.reporting, "complete": result.complete,
        "units": unit_records(result), "summary": summary_records(result),
        "issues": [{"unit": unit, **issue.to_dict()} for unit, issue in result.issues],
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def text_lines(result: Consolidation) -> list[str]:
    units = result.units
    left_out = units.loc[~units["included"], "unit"].tolist()
    head = (f"Consolidated plan vs budget, {len(units) - len(left_out)} of {len(units)} "
            f"unit(s) ({result.reporting})")
    lines = [head, f"{'Unit':<20}" + "".join(f"{title:>16}" for _, title in FIGURES)]
    for record in summary_records(result):
        cells = "".join(f"{_money(record.get(key)):>16}" for key, _ in FIGURES)
        lines.append(f"{str(record['unit'])[:20]:<20}{cells}")
    for u in units.to_dict("records"):
        lines.append(f"{u['unit']}: {u['currency'] or '?'}, latest version {u['version']}"
                     f"{' (' + u['version_status'] + ')' if u['version_status'] else ''}, "
                     f"ledger head {u['ledger_head']}"
                     f"{'' if u['included'] else ', LEFT OUT of the figures'}")
    for unit, issue in result.issues:
        file = _file_of(result, unit)
        text = issue.format(file)
        lines.append(f"{issue.severity.value}[{issue.code.value}] {unit}: {text}")
    state = "complete" if result.complete else "INCOMPLETE"
    lines.append(f"{result.out}: wrote Summary, Bridge, Units, Issues ({state}); facts in "
                 f"{result.database}")
    return lines


def _file_of(result: Consolidation, unit: str) -> str:
    match = result.units.loc[result.units["unit"] == unit, "path"]
    return str(match.iloc[0]).rsplit("/", 1)[-1] if len(match) else unit


def _money(value: object) -> str:
    return "-" if value is None else f"{float(value):,.0f}"  # type: ignore[arg-type]
