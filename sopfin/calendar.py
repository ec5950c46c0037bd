"""The plan calendar: days in each month and the fiscal quarter and year a month belongs to.

Months are ``'YYYY-MM'`` text throughout. A fiscal year starts in the calendar month given by
the ``Fiscal year start month`` setting and is named by the calendar year in which it ends: with
a July start, 2026-07 .. 2027-06 is FY2027. With a January start the fiscal year is the calendar
year. Quarters Q1..Q4 count three months each from the start of the fiscal year.

The Summary sheet and ``sopfin.engine.summary`` both take their periods from here, so the workbook's
quarter and year columns and the engine's figures always agree.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

_MONTH_TEXT = r"\d{4}-(?:0[1-9]|1[0-2])"
_MONTH = re.compile(_MONTH_TEXT)


def _year_month(months: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """'YYYY-MM' texts -> (years, month numbers 1-12) as int arrays."""
    stamps = np.asarray(months, dtype="datetime64[M]")
    ordinal = stamps.astype(np.int64)  # months since 1970-01
    return ordinal // 12 + 1970, ordinal % 12 + 1


def month_numbers(texts: Sequence[object] | np.ndarray) -> np.ndarray:
    """'YYYY-MM' -> year x 12 + month, as float64 so that ordering is by time; anything else
    (blank, a typo) -> NaN. Surrounding spaces are ignored."""
    out = np.full(len(texts), np.nan)
    for i, value in enumerate(texts):
        text = str(value).strip()
        if _MONTH.fullmatch(text):
            out[i] = int(text[:4]) * 12 + int(text[5:7])
    return out


def days_in_month(months: Sequence[str]) -> np.ndarray:
    """Calendar days of each month, as float64 (2027-02 -> 28.0, 2028-02 -> 29.0)."""
    stamps = np.asarray(months, dtype="datetime64[M]")
    days = (stamps + 1).astype("datetime64[D]") - stamps.astype("datetime64[D]")
    return np.asarray(days.astype(np.int64).astype(np.float64))


def fiscal_year(months: Sequence[str], start: int = 1) -> np.ndarray:
    """Fiscal year number of each month: the calendar year in which that fiscal year ends."""
    _check_start(start)
    years, month_numbers = _year_month(months)
    if start == 1:
        return years
    return years + (month_numbers >= start).astype(np.int64)


def fiscal_quarter(months: Sequence[str], start: int = 1) -> np.ndarray:
    """Fiscal quarter 1-4 of each month, counted from the fiscal year's first month."""
    _check_start(start)
    _, month_numbers = _year_month(months)
    return (month_numbers - start) % 12 // 3 + 1


def year_label(year: int) -> str:
    return f"FY{year}"


def quarter_label(year: int, quarter: int) -> str:
    return f"FY{year} Q{quarter}"


@dataclass(frozen=True)
class Periods:
    """A grouping of the horizon's months into consecutive periods (quarters or years).

    ``labels[k]`` names period k; ``first[k]``/``last[k]`` are the indices of its first and
    last month inside the horizon; ``group[t]`` is the period of month t. A period cut by the
    horizon's edge (e.g. a fiscal year of which only five months are planned) is still a period:
    it holds just the months the horizon has.
    """

    labels: tuple[str, ...]
    first: np.ndarray
    last: np.ndarray
    group: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    def months_in(self) -> np.ndarray:
        """Number of planned months in each period."""
        return np.asarray(self.last - self.first + 1)


def _periods(keys: np.ndarray, labels: list[str]) -> Periods:
    """Group consecutive equal keys (the months are in order, so periods are contiguous)."""
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Periods((), empty, empty, empty)
    change = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    first = np.concatenate(([0], change)).astype(np.int64)
    last = np.concatenate((change - 1, [len(keys) - 1])).astype(np.int64)
    group = np.cumsum(np.isin(np.arange(len(keys)), change)).astype(np.int64)
    return Periods(tuple(labels[i] for i in first), first, last, group)


def fiscal_quarters(months: Sequence[str], start: int = 1) -> Periods:
    years = fiscal_year(months, start)
    quarters = fiscal_quarter(months, start)
    labels = [quarter_label(int(y), int(q)) for y, q in zip(years, quarters, strict=True)]
    return _periods(years * 10 + quarters, labels)


def fiscal_years(months: Sequence[str], start: int = 1) -> Periods:
    years = fiscal_year(months, start)
    return _periods(years, [year_label(int(y)) for y in years])


def _check_start(start: int) -> None:
    if not 1 <= int(start) <= 12:
        raise ValueError(f"fiscal year start must be a month number 1-12, got {start!r}")
