"""Validation of a parsed Plan: a list of small, named checks, each returning its issues.

``validate`` runs every check in ``CHECKS`` and reports everything found, capped per code and
sheet (see ``sopfin.plan.read.IssueLog``). The reader has already reported cell-level problems
(text in a number cell, Excel errors, blank keys) and dropped rows with bad keys; the checks
look at relationships between tables.

Choices where the contract leaves room:

* Planned variances and budget figures may be negative (credits, favourable variances);
  units, prices, standard costs and opening units may not.
* Price and standard-cost coverage is checked for active families on the Families sheet
  only: an inactive family with demand gets its own warning, and an unknown family is
  reported once as unknown rather than again as unpriced.
* A standard cost is needed from the first month in which the family has demand or supply
  (from the first month when it has opening units).
* Family, scenario and channel names match exactly (case included), as dollarize matches
  them; a near miss is suggested in the fix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from sopfin import layout
from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, Table, sheet_row
from sopfin.plan.channels import check_budget_channels
from sopfin.plan.issue_log import ISSUES_PER_CODE, IssueLog
from sopfin.plan.issue_log import suggest_name as _suggest
from sopfin.plan.opex_checks import OPEX_CHECKS
from sopfin.plan.overflow import check_number_sizes
from sopfin.plan.textlimits import check_key_lengths

Check = Callable[[Plan], list[Issue]]


def _cell(table: Table, i: int, key: str) -> CellRef:
    return CellRef(table.sheet, f"{table.key_col(key)}{sheet_row(table.keys, i)}")


def _value_cell(table: Table, i: int, j: int) -> CellRef:
    return CellRef(table.sheet, f"{table.value_cols[j]}{sheet_row(table.keys, i)}")


def _below(table: Table) -> CellRef:
    """The first cell under a table: where a missing row would go."""
    return CellRef(table.sheet, f"A{table.last_row + 1}")


def _first_rows(values: Sequence[Any] | np.ndarray, mask: np.ndarray,
                ) -> list[tuple[Any, int, int]]:
    """(value, first row index, row count) for each distinct value where ``mask`` holds
    (a value is a key, or a tuple of keys)."""
    first: dict[Any, int] = {}
    counts: Counter[Any] = Counter()
    for i in np.flatnonzero(mask).tolist():
        first.setdefault(values[i], i)
        counts[values[i]] += 1
    return [(v, i, counts[v]) for v, i in first.items()]


def _active_families(plan: Plan) -> set[str]:
    keys = plan.families.keys
    return set(keys["family"][keys["active"] == "TRUE"].tolist())


def _in_rows(count: int) -> str:
    return f" ({count} rows; this is the first)" if count > 1 else ""


# ----------------------------------------------------------------------------- names
def check_duplicate_families(plan: Plan) -> list[Issue]:
    table, issues = plan.families, []
    first: dict[str, int] = {}
    for i, family in enumerate(table.keys["family"]):
        if family in first:
            issues.append(Issue(IssueCode.DUPLICATE_FAMILY, Severity.ERROR,
                                _cell(table, i, "family"),
                                f"the family {family!r} is listed twice (first in "
                                f"{_cell(table, first[family], 'family')})",
                                "keep one row per family"))
        else:
            first[family] = i
    return issues


_UNIQUE_KEYS = (("demand", ("scenario", "family", "channel")), ("prices", ("family", "channel")),
                ("supply", ("scenario", "family")), ("opening", ("family",)),
                ("std_cost", ("family", "effective_from")),
                ("variances", ("scenario", "family", "type")),
                ("budget", ("family", "measure", "channel")))


def check_duplicate_rows(plan: Plan) -> list[Issue]:
    issues = []
    for field, names in _UNIQUE_KEYS:
        table: Table = getattr(plan, field)
        if len(table) < 2:
            continue
        keys = table.keys
        rows = list(zip(*(keys[n].tolist() for n in names), strict=True))
        first_of: dict[tuple[object, ...], int] = {}
        first = [first_of.setdefault(key, i) for i, key in enumerate(rows)]
        repeats = [i for i, f in enumerate(first) if f != i]
        if not repeats:
            continue
        shown = [n for n in names if n in table.key_names] or list(names[:1])
        for i in repeats[: ISSUES_PER_CODE + 1]:
            described = ", ".join(f"{n.replace('_', ' ')} {keys[n][i]!r}" for n in shown)
            issues.append(Issue(IssueCode.DUPLICATE_ROW, Severity.ERROR, table.ref(int(i)),
                                f"the keys {described} are already on row "
                                f"{sheet_row(table.keys, first[i])}",
                                "merge the two rows into one, or correct the keys"))
    return issues


def check_unknown_families(plan: Plan) -> list[Issue]:
    known = list(plan.families.keys["family"])
    issues = []
    for field in ("demand", "prices", "supply", "opening", "std_cost", "variances", "budget"):
        table: Table = getattr(plan, field)
        families = table.keys["family"]
        for family, i, count in _first_rows(families, ~table.keys.isin("family", known)):
            issues.append(Issue(IssueCode.UNKNOWN_FAMILY, Severity.ERROR, _cell(table, i, "family"),
                                f"the family {family!r} is not on sheet Families{_in_rows(count)}",
                                "add it on sheet Families or correct the spelling"
                                + _suggest(family, known)))
    return issues


def check_unknown_scenarios(plan: Plan) -> list[Issue]:
    known = plan.scenarios
    issues = []
    for field in ("demand", "supply", "variances"):
        table: Table = getattr(plan, field)
        scenarios = table.keys["scenario"]
        for name, i, count in _first_rows(scenarios, ~table.keys.isin("scenario", known)):
            issues.append(Issue(IssueCode.UNKNOWN_SCENARIO, Severity.ERROR,
                                _cell(table, i, "scenario"),
                                f"the scenario {name!r} is not in Settings 'Scenarios' "
                                f"({', '.join(known)}){_in_rows(count)}",
                                "add it to 'Scenarios' on Settings or correct the spelling"
                                + _suggest(name, known)))
    return issues


def check_scenarios_present(plan: Plan) -> list[Issue]:
    with_demand = set(plan.demand.keys["scenario"])
    with_supply = set(plan.supply.keys["scenario"])
    issues = []
    for name in plan.scenarios:
        if name not in with_demand:
            issues.append(Issue(IssueCode.SCENARIO_MISSING, Severity.ERROR, _below(plan.demand),
                                f"the scenario {name!r} (Settings 'Scenarios') has no rows on "
                                "Demand",
                                "add its demand rows, or remove it from 'Scenarios' on Settings"))
        elif plan.settings.constrained and name not in with_supply:
            issues.append(Issue(IssueCode.SCENARIO_MISSING, Severity.ERROR, _below(plan.supply),
                                f"the scenario {name!r} has demand but no rows on Supply, and "
                                "shipments are constrained by supply",
                                "add its supply rows, or set 'Constrained by supply' to FALSE"))
    return issues


# 'inventory' (optional): budget ending inventory value per month, for the cash line of the
# reconciliation; dollarize itself reads only layout.BUDGET_MEASURES.
BUDGET_MEASURES_ACCEPTED = (*layout.BUDGET_MEASURES, "inventory", layout.OPEX_MEASURE)


def check_budget_measures(plan: Plan) -> list[Issue]:
    table = plan.budget
    measures = table.keys["measure"]
    allowed = ", ".join(BUDGET_MEASURES_ACCEPTED)
    return [Issue(IssueCode.UNKNOWN_MEASURE, Severity.ERROR, _cell(table, i, "measure"),
                  f"unknown budget measure {measure!r}; expected one of {allowed}",
                  "correct the measure, or delete the row")
            for i, measure in enumerate(measures) if measure not in BUDGET_MEASURES_ACCEPTED]


# ----------------------------------------------------------------------------- coverage
def _prices_per_channel(plan: Plan) -> bool:
    return "channel" in plan.prices.key_names


def check_channels(plan: Plan) -> list[Issue]:
    if not _prices_per_channel(plan):
        return []
    if not plan.has_channel:
        return [Issue(IssueCode.CHANNEL_MISMATCH, Severity.ERROR,
                      CellRef(layout.PRICES, f"{plan.prices.key_col('channel')}1"),
                      "Prices has a Channel column but Demand does not, so no price row can "
                      "match a demand row",
                      "add a Channel column to Demand after Family, or delete it from Prices")]
    priced: dict[str, list[str]] = {}
    for family, channel in zip(plan.prices.keys["family"], plan.prices.keys["channel"],
                               strict=True):
        priced.setdefault(family, []).append(channel)
    demand = plan.demand.keys
    active = _active_families(plan)
    lines = list(zip(demand["family"].tolist(), demand["channel"].tolist(), strict=True))
    unpriced = np.array([f in active and f in priced and c not in priced[f] for f, c in lines],
                        dtype=bool)
    issues = []
    for (family, channel), i, count in _first_rows(lines, unpriced):
        channels = ", ".join(map(repr, dict.fromkeys(priced[family])))
        issues.append(Issue(IssueCode.CHANNEL_MISMATCH, Severity.ERROR,
                            _cell(plan.demand, i, "channel"),
                            f"family {family!r} has demand in channel {channel!r}{_in_rows(count)}"
                            f" but Prices has it only for {channels}",
                            f"add a row for family {family!r} channel {channel!r} on sheet Prices"
                            " or correct the channel"))
    return issues


def _line_label(family: str, channel: str) -> str:
    return f"family {family!r}" + (f" channel {channel!r}" if channel else "")


def _months_text(months: Sequence[str]) -> str:
    more = len(months) - 1
    return months[0] + (f" and {more} more month{'s' if more > 1 else ''}" if more else "")


def check_missing_prices(plan: Plan) -> list[Issue]:
    """Demand > 0 with no price row, or with a price that is 0 or blank in that month."""
    per_channel = _prices_per_channel(plan)
    if per_channel and not plan.has_channel:
        return []  # reported as a channel mismatch
    demand, prices = plan.demand, plan.prices
    active = demand.keys.isin("family", _active_families(plan))
    rows = np.flatnonzero(active)
    if not len(rows):
        return []
    families = demand.keys["family"][rows].tolist()
    channels = demand.keys["channel"][rows].tolist() if per_channel else [""] * len(rows)
    line_of: dict[tuple[str, str], int] = {}
    code = np.array([line_of.setdefault(line, len(line_of))
                     for line in zip(families, channels, strict=True)], dtype=np.int64)
    uniques = list(line_of)
    positive = demand.values[rows] > 0
    needed = np.zeros((len(uniques), positive.shape[1]), dtype=bool)
    np.logical_or.at(needed, code, positive)
    price_of: dict[tuple[str, str], int] = {}
    for r, key in enumerate(zip(prices.keys["family"].tolist(), prices.keys["channel"].tolist(),
                                strict=True)):
        price_of.setdefault(key, r)  # first row wins, as in dollarize
    price_row = np.array([price_of.get(line, -1) for line in uniques], dtype=np.int64)
    if len(prices):
        price = np.where((price_row >= 0)[:, None], prices.values[np.maximum(price_row, 0)], 0.0)
    else:  # a Prices sheet with its header and no rows: every needed price is missing
        price = np.zeros((len(uniques), len(plan.months)))
    priced_families = set(prices.keys["family"].tolist())
    issues = []
    for line in np.flatnonzero((needed & (price == 0)).any(axis=1))[: ISSUES_PER_CODE + 1]:
        family, chan = uniques[line]
        if price_row[line] < 0 and per_channel and family in priced_families:
            continue  # a channel mismatch
        gaps = np.flatnonzero(needed[line] & (price[line] == 0))
        j = int(gaps[0])
        i = int(rows[np.flatnonzero((code == line) & positive[:, j])[0]])
        months = _months_text([plan.months[k] for k in gaps])
        label = _line_label(family, chan if per_channel else "")
        if price_row[line] < 0:
            issues.append(Issue(IssueCode.MISSING_PRICE, Severity.ERROR, _value_cell(demand, i, j),
                                f"price is missing for {label} in {months}: there is no row "
                                "for it on Prices",
                                "add it on sheet Prices or mark the family inactive"))
        else:
            issues.append(Issue(IssueCode.MISSING_PRICE, Severity.ERROR,
                                _value_cell(prices, int(price_row[line]), j),
                                f"price is missing for {label} in {months}: it is blank or 0 "
                                f"where {_value_cell(demand, i, j)} has demand",
                                "enter the price, or mark the family inactive"))
    return issues


def _first_activity(plan: Plan) -> dict[str, tuple[int, Table, int]]:
    """Per family: the first month index that needs a standard cost, and the (table, row)
    whose cell needs it (opening units first, then demand, then supply)."""
    tables = (plan.opening, plan.demand, plan.supply)
    found: list[tuple[str, int, Table, int]] = []
    for table, monthly in zip(tables, (False, True, True), strict=True):
        active = table.values > 0
        rows = np.flatnonzero(active.any(axis=1))
        month = np.argmax(active[rows], axis=1) if monthly else np.zeros(len(rows), np.int64)
        found += zip(table.keys["family"][rows].tolist(), month.tolist(),
                     [table] * len(rows), rows.tolist(), strict=True)
    firsts: dict[str, tuple[int, Table, int]] = {}
    for family, m, table, r in sorted(found, key=lambda item: item[1]):
        firsts.setdefault(family, (m, table, r))
    return firsts


def check_missing_std_cost(plan: Plan) -> list[Issue]:
    table = plan.std_cost
    active = _active_families(plan)
    start = {m: j for j, m in enumerate(plan.months)}
    by_family = table.keys.positions_by("family")
    effective = table.keys["effective_from"]
    issues = []
    for family, (j, source, r) in _first_activity(plan).items():
        if family not in active:
            continue
        need = _value_cell(source, r, 0 if source is plan.opening else j)
        rows = by_family.get(family, ())
        if not len(rows):
            issues.append(Issue(IssueCode.MISSING_STD_COST, Severity.ERROR, need,
                                f"no standard cost for family {family!r}, which is needed from "
                                f"{plan.months[j]}",
                                "add a row for it on sheet StdCost"))
            continue
        since = [_since(effective[i], plan.months, start) for i in rows]
        earliest = int(np.argmin(since))
        if since[earliest] > j:
            i = int(rows[earliest])
            issues.append(Issue(IssueCode.MISSING_STD_COST, Severity.ERROR,
                                _cell(table, i, "effective_from"),
                                f"the standard cost of family {family!r} starts in "
                                f"{effective[i]}, but it is needed from {plan.months[j]} ({need})",
                                f"leave EffectiveFrom blank on its first row, or add a row "
                                f"effective from {plan.months[j]}"))
    return issues


def _since(text: str, months: Sequence[str], start: dict[str, int]) -> int:
    """Index of the first horizon month a cost effective from ``text`` covers."""
    if text == "" or text <= months[0]:
        return 0
    return start.get(text, len(months))  # after the horizon (or not a month): never


# ----------------------------------------------------------------------------- values
_NON_NEGATIVE = (("demand", "demand in units"), ("supply", "planned production in units"),
                 ("prices", "a price"), ("opening", "opening units"),
                 ("std_cost", "a standard cost"))


def check_negative_values(plan: Plan) -> list[Issue]:
    issues = []
    for field, what in _NON_NEGATIVE + (("budget", "budgeted units"),):
        table: Table = getattr(plan, field)
        negative = table.values < 0
        if field == "budget":  # budget revenue and COGS may be negative (returns); units not
            negative &= (table.keys["measure"] == "units")[:, None]
        rows, cols = np.nonzero(negative)
        for i, j in list(zip(rows.tolist(), cols.tolist(), strict=True))[: ISSUES_PER_CODE + 1]:
            name = table.value_names[j]
            issues.append(Issue(IssueCode.NEGATIVE_VALUE, Severity.ERROR, _value_cell(table, i, j),
                                f"{what} cannot be negative, found {table.values[i, j]:g} for "
                                f"{name}",
                                "enter 0 or a positive number"))
    return issues


def check_inactive_families(plan: Plan) -> list[Issue]:
    families = plan.families.keys
    off = families["active"] == "FALSE"
    inactive = dict(zip(families["family"][off].tolist(), np.flatnonzero(off).tolist(),
                        strict=True))
    demand = plan.demand
    positive = (demand.values > 0).any(axis=1) & demand.keys.isin("family", inactive)
    issues = []
    for family, i, _ in _first_rows(demand.keys["family"], positive):
        j = int(np.argmax(demand.values[i] > 0))
        total = demand.values[demand.keys["family"] == family].sum()
        issues.append(Issue(IssueCode.INACTIVE_FAMILY_HAS_DEMAND, Severity.WARNING,
                            _value_cell(demand, i, j),
                            f"family {family!r} is inactive "
                            f"({_cell(plan.families, int(inactive[family]), 'active')}) but has "
                            f"{total:,.0f} units of demand",
                            "set Active to TRUE on Families, or clear its demand"))
    return issues


CHECKS: tuple[Check, ...] = (
    check_duplicate_families,
    check_duplicate_rows,
    check_unknown_families,
    check_unknown_scenarios,
    check_scenarios_present,
    check_channels,
    check_budget_channels,
    check_missing_prices,
    check_missing_std_cost,
    check_negative_values,
    check_number_sizes,
    check_key_lengths,
    check_inactive_families,
    check_budget_measures,
    *OPEX_CHECKS,
)


def validate(plan: Plan) -> list[Issue]:
    """Run every check; every issue found, capped per code and sheet."""
    log = IssueLog()
    for check in CHECKS:
        log.extend(check(plan))
    return log.issues()
