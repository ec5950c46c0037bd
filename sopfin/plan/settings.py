"""The Settings sheet: every option declared once, with its default and help.

The sheet is a list of ``Setting | Value | Help`` rows. ``parse_settings`` turns the raw rows
into one typed, frozen ``Settings`` object and reports every bad value as an Issue at its
cell; a bad value falls back to the default so that the other checks still run.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from sopfin import layout
from sopfin.model import CellRef, Issue, IssueCode, Severity, XlError

_MONTH_RE = re.compile(layout.MONTH_PATTERN)


class SettingValueError(ValueError):
    """A Settings value that cannot be parsed; the message says what is expected."""


def parse_month(value: Any) -> str:
    """'2027-01', a date, or a datetime -> 'YYYY-MM'."""
    if isinstance(value, dt.date):
        return f"{value.year:04d}-{value.month:02d}"
    text = str(value).strip()
    if _MONTH_RE.match(text):
        return text
    raise SettingValueError(f"expected a month as YYYY-MM, found {value!r}")


def _parse_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _parse_currency(value: Any) -> str:
    text = _parse_text(value).upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise SettingValueError(
            f"expected a 3-letter ISO currency code such as USD, found {value!r}")
    return text


def _parse_positive_int(value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingValueError(f"expected a whole number of months, found {value!r}") from None
    if not 1 <= number <= 240 or number != int(number):  # range first: inf has no int
        raise SettingValueError(f"expected a whole number between 1 and 240, found {value!r}")
    return int(number)


def _parse_scenarios(value: Any) -> tuple[str, ...]:
    names = tuple(part.strip() for part in str(value).split(",") if part.strip())
    if not names:
        raise SettingValueError(f"expected scenario names separated by commas, found {value!r}")
    if len(set(n.lower() for n in names)) != len(names):
        raise SettingValueError(f"scenario names must be unique, found {value!r}")
    return names


def _parse_policy(value: Any) -> str:
    text = _parse_text(value).lower()
    if text not in ("lost", "backorder"):
        raise SettingValueError(f"expected 'lost' or 'backorder', found {value!r}")
    return text


def _parse_price_at(value: Any) -> str:
    text = _parse_text(value).lower() or "plan"
    if text not in ("plan", "budget"):
        raise SettingValueError(f"expected 'plan' or 'budget', found {value!r}")
    return text


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    text = _parse_text(value).lower()
    if text in ("true", "yes", "y", "1"):
        return True
    if text in ("false", "no", "n", "0"):
        return False
    raise SettingValueError(f"expected TRUE or FALSE, found {value!r}")


def _parse_amount(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingValueError(f"expected an amount in currency, found {value!r}") from None
    if number < 0:
        raise SettingValueError(f"expected an amount of zero or more, found {value!r}")
    return number


def _parse_days(value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingValueError(f"expected a number of days, found {value!r}") from None
    if not 0 <= number <= 3650:  # NaN and inf fail too
        raise SettingValueError(f"expected a number of days between 0 and 3650, found {value!r}")
    return number


def _parse_month_number(value: Any) -> int:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SettingValueError(f"expected a month number 1-12, found {value!r}") from None
    if not 1 <= number <= 12 or number != int(number):  # range first: inf has no int
        raise SettingValueError(f"expected a month number 1-12, found {value!r}")
    return int(number)


@dataclass(frozen=True)
class Option:
    """One declared setting: its label on the sheet, attribute name, default and help."""

    label: str
    attr: str
    default: Any
    parse: Callable[[Any], Any]
    help: str

    def default_text(self) -> str:
        if isinstance(self.default, bool):
            return "TRUE" if self.default else "FALSE"
        if isinstance(self.default, tuple):
            return ", ".join(self.default)
        return str(self.default)


OPTIONS: tuple[Option, ...] = (
    Option("Company", "company", "", _parse_text, "Company name shown on the output sheets."),
    Option("Currency", "currency", "USD", _parse_currency,
           "ISO 4217 code of the currency all prices and costs are in."),
    Option("First period", "first_period", "2027-01", parse_month,
           "First month of the plan horizon, YYYY-MM."),
    Option("Horizon (months)", "horizon", 24, _parse_positive_int,
           "Number of months in the plan; every monthly table has one column per month."),
    Option("Current cycle", "current_cycle", "2027-01", parse_month,
           "The S&OP cycle this plan belongs to, YYYY-MM."),
    Option("Scenarios", "scenarios", ("base",), _parse_scenarios,
           "Scenario names separated by commas, e.g. 'upside, base, downside'."),
    Option("Shortage policy", "shortage_policy", "lost", _parse_policy,
           "When supply is short: 'lost' drops unmet demand, 'backorder' carries it forward."),
    Option("Constrained by supply", "constrained", True, _parse_bool,
           "TRUE: shipments are limited by inventory plus production. FALSE: ship demand."),
    Option("Materiality threshold", "materiality", 1000.0, _parse_amount,
           "Differences below this amount (currency) are not flagged."),
    Option("Fiscal year start month", "fiscal_year_start", 1, _parse_month_number,
           "Calendar month (1-12) in which the fiscal year starts; quarters follow it."),
    Option("Plan scenario", "plan_scenario", "base", _parse_text,
           "The scenario reconciled to budget and published at close (the consensus plan); "
           "blank or unknown = the first scenario."),
    Option("DSO (days)", "dso_days", 45.0, _parse_days,
           "Days sales outstanding: receivables are this many days of each month's revenue "
           "(sheet Cash)."),
    Option("DPO (days)", "dpo_days", 30.0, _parse_days,
           "Days payables outstanding: payables are this many days of each month's production "
           "cost (sheet Cash)."),
    Option("Stranded horizon (months)", "stranded_months", 6, _parse_positive_int,
           "Stock with no demand in this many following months is stranded (Summary, Issues, "
           "Recon)."),
    Option("Target cover (days)", "target_cover_days", 90.0, _parse_days,
           "Stock above this many days of the following shipments is excess (Summary, Recon)."),
    Option("Price measured at", "price_at", "plan", _parse_price_at,
           "The bridge's price step at the plan volume ('plan'), or at the budget volume "
           "('budget') with the price x volume remainder as its own Joint line."),
)
OPTIONS_BY_LABEL = {o.label.lower(): o for o in OPTIONS}


@dataclass(frozen=True)
class Settings:
    company: str = ""
    currency: str = "USD"
    first_period: str = "2027-01"
    horizon: int = 24
    current_cycle: str = "2027-01"
    scenarios: tuple[str, ...] = ("base",)
    shortage_policy: str = "lost"
    constrained: bool = True
    materiality: float = 1000.0
    fiscal_year_start: int = 1
    plan_scenario: str = "base"
    dso_days: float = 45.0
    dpo_days: float = 30.0
    stranded_months: int = 6
    target_cover_days: float = 90.0
    price_at: str = "plan"

    @property
    def months(self) -> tuple[str, ...]:
        return month_range(self.first_period, self.horizon)

    @property
    def reconciled_scenario(self) -> str:
        """The plan scenario if it is one of the scenarios, else the first scenario."""
        return self.plan_scenario if self.plan_scenario in self.scenarios else self.scenarios[0]


assert [f.name for f in fields(Settings)] == [o.attr for o in OPTIONS], "Settings and OPTIONS drift"


def month_range(first: str, count: int) -> tuple[str, ...]:
    year, month = int(first[:4]), int(first[5:7])
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return tuple(out)


def parse_settings(rows: Sequence[Sequence[Any]], sheet: str = layout.SETTINGS,
                   ) -> tuple[Settings, list[Issue]]:
    """Raw Settings rows (header first, as read from A1) -> (Settings, issues).

    Unknown labels are warnings; bad values are errors and fall back to the default.
    Missing labels take their default.
    """
    issues: list[Issue] = []
    values: dict[str, Any] = {}
    for offset, row in enumerate(rows[1:], start=layout.FIRST_DATA_ROW):
        label = _parse_text(row[0] if row else "")
        if not label:
            break
        raw = row[1] if len(row) > 1 else ""
        option = OPTIONS_BY_LABEL.get(label.lower())
        if option is None:
            issues.append(Issue(IssueCode.SETTING_UNKNOWN, Severity.WARNING,
                                CellRef(sheet, f"A{offset}"),
                                f"unknown setting {label!r}",
                                "check its spelling against the Help column or delete the row"))
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            continue
        if isinstance(raw, XlError):
            issues.append(Issue(IssueCode.EXCEL_ERROR, Severity.ERROR, CellRef(sheet, f"B{offset}"),
                                f"setting {option.label!r}: found {raw.described()}",
                                f"enter a valid value: {option.help.rstrip('.')}"))
            continue
        try:
            values[option.attr] = option.parse(raw)
        except SettingValueError as exc:
            issues.append(Issue(IssueCode.SETTING_INVALID, Severity.ERROR,
                                CellRef(sheet, f"B{offset}"),
                                f"setting {option.label!r}: {exc}",
                                f"enter a valid value: {option.help.rstrip('.')}"))
    return Settings(**values), issues
