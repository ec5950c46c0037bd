"""The months a reconciliation covers: one month, a fiscal quarter or year, year to date, or
the whole horizon.

    parse_window("2027-03", months, 7, "2027-06")     -> Window('2027-03', ('2027-03',))
    parse_window("Mar 2027", months, 7, "2027-06")    -> the same month
    parse_window("FY2028 Q1", months, 7, "2027-06")   -> the horizon's months of Jul-Sep 2027
    parse_window("Q1 2028", months, 7, "2027-06")     -> the same quarter ('2028-Q1' too)
    parse_window("FY2027", months, 7, "2027-06")      -> the horizon's months of Jul 2026-Jun 2027
    parse_window("FY27", months, 7, "2027-06")        -> the same year
    parse_window("YTD", months, 7, "2027-06")         -> fiscal year to date through the cycle
    parse_window("Horizon", months, 7, "2027-06")     -> every month of the plan

Fiscal years and quarters follow ``sopfin.calendar`` (a fiscal year is named by the calendar
year in which it ends); a quarter written without ``FY`` (``Q1 2027``, ``2027-Q1``) is the
same fiscal quarter, as the Summary sheet's quarter columns name it. A period the horizon cuts
keeps only the months the horizon has; a period with no month inside the horizon is an error.
Text matches ignoring case and spaces ('fy2027q1', 'FY 2027 - Q1'). ``YTD`` runs from the
first month of the fiscal year of the current cycle through the current cycle itself;
``YTD 2027-04`` names the month explicitly.

Every error is a ``WindowError`` whose message is one line naming the accepted forms.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin.calendar import fiscal_quarter, fiscal_year, quarter_label, year_label
from sopfin.close.records import Window

HORIZON = "Horizon"
FORMS = ("2027-03, Mar 2027, 2027-Q1, Q1 2027, FY2027 Q1, FY27, FY2027, YTD, YTD 2027-03 "
         "or Horizon")
_MONTH_NAMES = ("JANUARY", "FEBRUARY", "MARCH", "APRIL", "MAY", "JUNE", "JULY", "AUGUST",
                "SEPTEMBER", "OCTOBER", "NOVEMBER", "DECEMBER")
_MONTH_NUMBER = {**{n[:3]: i for i, n in enumerate(_MONTH_NAMES, 1)},
                 **{n: i for i, n in enumerate(_MONTH_NAMES, 1)}, "SEPT": 9}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_NAMED_MONTH = re.compile(r"^([A-Z]{3,9})-?(\d{4})$")
_FISCAL = re.compile(r"^FY(\d{4}|\d{2})(?:-?Q([1-4]))?$")
_QUARTER_FIRST = re.compile(r"^Q([1-4])-?(?:FY)?(\d{4})$")
_YEAR_FIRST = re.compile(r"^(\d{4})-?Q([1-4])$")
_YTD = re.compile(r"^YTD(.*)$")


class WindowError(ValueError):
    """A window that is not one of the accepted forms or lies outside the plan horizon."""


@dataclass(frozen=True)
class WindowForm:
    """A parsed window: a month, a fiscal quarter or year, year to date, or the horizon."""

    kind: str  # "horizon" | "month" | "fiscal" | "ytd"
    month: str = ""
    year: int = 0
    quarter: int = 0


def parse_window(text: str, months: Sequence[str], fiscal_year_start: int,
                 current_cycle: str) -> Window:
    """Window text -> the horizon months it covers. ``WindowError`` says what is accepted."""
    months = tuple(months)
    if not months:
        raise WindowError("the plan has no months, so no window can be chosen")
    raw = "" if text is None else str(text)
    period = read_period(raw, current_cycle)
    if period.kind == "horizon":
        return Window(HORIZON, months)
    if period.kind == "month":
        if period.month not in months:
            raise WindowError(f"the window {raw!r} is outside the plan horizon "
                              f"({months[0]} to {months[-1]})")
        return Window(period.month, (period.month,))
    if period.kind == "fiscal":
        inside = fiscal_year(months, fiscal_year_start) == period.year
        label = year_label(period.year)
        if period.quarter:
            inside &= fiscal_quarter(months, fiscal_year_start) == period.quarter
            label = quarter_label(period.year, period.quarter)
        return Window(label, _chosen(months, inside, label))
    year = int(fiscal_year([period.month], fiscal_year_start)[0])
    stamps = np.asarray(months, dtype="datetime64[M]")
    inside = (fiscal_year(months, fiscal_year_start) == year) & (
        stamps <= np.datetime64(period.month, "M"))
    label = f"YTD {period.month}"
    return Window(label, _chosen(months, inside, f"{label} ({year_label(year)})"))


def read_period(raw: str, current_cycle: str = "") -> WindowForm:
    """The form of a window text, before the plan's months are known; ``WindowError`` for
    anything that is not an accepted form."""
    squashed = re.sub(r"\s+", "", raw).upper()
    if squashed in ("", HORIZON.upper()):
        return WindowForm("horizon")
    if month := _month_of(squashed):
        return WindowForm("month", month=month)
    if fiscal := _FISCAL.match(squashed):
        year = int(fiscal.group(1))
        return WindowForm("fiscal", year=year + 2000 if year < 100 else year,
                       quarter=int(fiscal.group(2) or 0))
    if quarter := _QUARTER_FIRST.match(squashed):
        return WindowForm("fiscal", year=int(quarter.group(2)), quarter=int(quarter.group(1)))
    if quarter := _YEAR_FIRST.match(squashed):
        return WindowForm("fiscal", year=int(quarter.group(1)), quarter=int(quarter.group(2)))
    if ytd := _YTD.match(squashed):
        through = ytd.group(1) or str(current_cycle or "")
        if not through:  # plain YTD before the plan is read: the cycle is filled in later
            return WindowForm("ytd")
        if not _month_of(through):
            raise WindowError(f"the window {raw!r} needs a month YYYY-MM after YTD, found "
                              f"{through!r}; accepted: {FORMS}")
        return WindowForm("ytd", month=_month_of(through))
    raise WindowError(f"unknown window {raw!r}; accepted (any case): {FORMS}")


def _month_of(squashed: str) -> str:
    """'2027-03' or 'MAR2027' / 'MARCH2027' -> '2027-03'; '' for anything else."""
    if _MONTH.match(squashed):
        return squashed
    named = _NAMED_MONTH.match(squashed)
    if named and named.group(1) in _MONTH_NUMBER:
        return f"{named.group(2)}-{_MONTH_NUMBER[named.group(1)]:02d}"
    return ""


def _chosen(months: tuple[str, ...], inside: np.ndarray, label: str) -> tuple[str, ...]:
    picked = tuple(m for m, keep in zip(months, inside, strict=True) if keep)
    if not picked:
        raise WindowError(f"the window {label} has no month inside the plan horizon "
                          f"({months[0]} to {months[-1]})")
    return picked
