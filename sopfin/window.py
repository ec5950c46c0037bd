"""The months a reconciliation covers: one month, a fiscal quarter or year, year to date, or
the whole horizon.

    parse_window("2027-03", months, 7, "2027-06")     -> Window('2027-03', ('2027-03',))
    parse_window("FY2028 Q1", months, 7, "2027-06")   -> the horizon's months of Jul-Sep 2027
    parse_window("FY2027", months, 7, "2027-06")      -> the horizon's months of Jul 2026-Jun 2027
    parse_window("YTD", months, 7, "2027-06")         -> fiscal year to date through the cycle
    parse_window("Horizon", months, 7, "2027-06")     -> every month of the plan

Fiscal years and quarters follow ``sopfin.calendar`` (a fiscal year is named by the calendar
year in which it ends). A period the horizon cuts keeps only the months the horizon has; a
period with no month inside the horizon is an error. Text matches ignoring case and spaces
('fy2027q1', 'FY 2027 - Q1'). ``YTD`` runs from the first month of the fiscal year of the
current cycle through the current cycle itself; ``YTD 2027-04`` names the month explicitly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from sopfin.calendar import fiscal_quarter, fiscal_year, quarter_label, year_label
from sopfin.reconciliation import Window

HORIZON = "Horizon"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_FISCAL = re.compile(r"^FY(\d{4})(?:-?Q([1-4]))?$")
_YTD = re.compile(r"^YTD(.*)$")
FORMS = "a month 'YYYY-MM', 'FY2027 Q1', 'FY2027', 'YTD' or 'Horizon'"


def parse_window(text: str, months: Sequence[str], fiscal_year_start: int,
                 current_cycle: str) -> Window:
    """Window text -> the horizon months it covers. ``ValueError`` says what is accepted."""
    months = tuple(months)
    if not months:
        raise ValueError("the plan has no months, so no window can be chosen")
    raw = "" if text is None else str(text)
    squashed = re.sub(r"\s+", "", raw).upper()
    if squashed in ("", HORIZON.upper()):
        return Window(HORIZON, months)
    if _MONTH.match(squashed):
        if squashed not in months:
            raise ValueError(f"the window {raw!r} is outside the plan horizon "
                             f"({months[0]} to {months[-1]})")
        return Window(squashed, (squashed,))
    fiscal = _FISCAL.match(squashed)
    if fiscal:
        year = int(fiscal.group(1))
        inside = fiscal_year(months, fiscal_year_start) == year
        label = year_label(year)
        if fiscal.group(2):
            quarter = int(fiscal.group(2))
            inside &= fiscal_quarter(months, fiscal_year_start) == quarter
            label = quarter_label(year, quarter)
        return Window(label, _chosen(months, inside, label))
    ytd = _YTD.match(squashed)
    if ytd:
        through = ytd.group(1) or str(current_cycle)
        if not _MONTH.match(through):
            raise ValueError(f"the window {raw!r} needs a month YYYY-MM after YTD, "
                             f"found {through!r}")
        year = int(fiscal_year([through], fiscal_year_start)[0])
        stamps = np.asarray(months, dtype="datetime64[M]")
        inside = (fiscal_year(months, fiscal_year_start) == year) & (
            stamps <= np.datetime64(through, "M"))
        label = f"YTD {through}"
        return Window(label, _chosen(months, inside, f"{label} ({year_label(year)})"))
    raise ValueError(f"unknown window {raw!r}; expected {FORMS}")


def _chosen(months: tuple[str, ...], inside: np.ndarray, label: str) -> tuple[str, ...]:
    picked = tuple(m for m, keep in zip(months, inside, strict=True) if keep)
    if not picked:
        raise ValueError(f"the window {label} has no month inside the plan horizon "
                         f"({months[0]} to {months[-1]})")
    return picked
