"""The long fact table ``fact_plan``: the live plan and each published version, one row per
version, scenario, family, channel, month and measure.

The table runs to millions of rows for a large plan, and its text columns repeat a few labels
(a handful of scenarios and measures, the families, the months): each is held as int32 codes
into its labels (``Coded``) and turned back into text by DuckDB while it writes the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sopfin.close import ledger as versions
from sopfin.close.records import Override
from sopfin.engine.results import BudgetMeasure, Dollarized, FamilyMeasure, LineMeasure
from sopfin.engine.summary import OVERRIDDEN
from sopfin.export.recon_tab import ReconTab
from sopfin.export.schema import (
    ALL_CHANNELS,
    BUDGET,
    LIVE,
    LIVE_STATUS,
    MEASURE_BY_NAME,
    OVERRIDE_CHANNEL,
    TABLES,
)
from sopfin.model import Plan

LINE_SOURCES: dict[str, LineMeasure] = {
    "units": "shipments_units", "demand_units": "demand_units", "revenue": "revenue",
    "revenue_at_risk": "revenue_at_risk"}
FAMILY_SOURCES: dict[str, FamilyMeasure] = {
    "cogs": "cogs", "gross_margin": "gross_margin", "inventory_value": "inventory_value",
    "inventory_cash": "inventory_cash", "production_units": "production_units",
    "end_units": "end_units"}
BUDGET_SOURCES: dict[str, BudgetMeasure] = {"units": "units", "revenue": "revenue",
                                            "cogs": "cogs"}
SNAPSHOT_MEASURES = ("units", "revenue", "cogs")
KEYS = tuple(c.name for c in TABLES["fact_plan"] if c.name != "value")


@dataclass(frozen=True)
class Coded:
    """A text column as codes into ``labels``: row i holds ``labels[codes[i]]``."""

    codes: np.ndarray  # int32
    labels: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.codes)

    def used(self) -> set[str]:
        return {self.labels[k] for k in np.unique(self.codes)}


@dataclass(frozen=True)
class Version:
    """A published version: its number, its tab read back, and its ledger entries."""

    number: int
    tab: ReconTab
    entries: tuple[versions.LedgerEntry, ...]

    @property
    def key(self) -> str:
        return f"v{self.number:03d}"


def month_date(month: str) -> str:
    """'2027-03' -> '2027-03-01', the first day the DATE columns hold."""
    return f"{month}-01"


class FactRows:
    """``fact_plan`` being built: blocks of rows appended, each one measure of one version."""

    def __init__(self) -> None:
        self._labels: dict[str, dict[str, int]] = {k: {} for k in KEYS}
        self._codes: dict[str, list[np.ndarray]] = {k: [] for k in KEYS}
        self._values: list[np.ndarray] = []

    def _coded(self, key: str, labels: Sequence[str]) -> np.ndarray:
        known = self._labels[key]
        return np.fromiter((known.setdefault(label, len(known)) for label in labels),
                           dtype=np.int32, count=len(labels))

    def _append(self, keys: dict[str, np.ndarray], values: np.ndarray) -> None:
        for key in KEYS:
            self._codes[key].append(keys[key])
        self._values.append(values)

    def _constants(self, n: int, version: str, status: str, measure: str,
                   currency: str) -> dict[str, np.ndarray]:
        money = MEASURE_BY_NAME[measure].unit == "currency"
        texts = {"version": version, "status": status, "measure": measure,
                 "currency": currency if money else ""}
        return {k: np.full(n, self._coded(k, [t])[0], dtype=np.int32) for k, t in texts.items()}

    def add_grid(self, version: str, status: str, scenarios: Sequence[str],
                 families: Sequence[str], channels: Sequence[str], months: Sequence[str],
                 measure: str, values: np.ndarray, currency: str) -> None:
        """``values`` shaped (scenario, row, month); row k is ``families[k]`` on
        ``channels[k]``."""
        s, r, m = len(scenarios), len(families), len(months)
        flat = np.asarray(values, dtype=np.float64).reshape(-1)
        assert len(flat) == s * r * m, (measure, flat.shape, (s, r, m))
        keys = self._constants(len(flat), version, status, measure, currency)
        keys["scenario"] = np.repeat(self._coded("scenario", scenarios), r * m)
        keys["family"] = np.tile(np.repeat(self._coded("family", families), m), s)
        keys["channel"] = np.tile(np.repeat(self._coded("channel", channels), m), s)
        keys["month"] = np.tile(self._coded("month", [month_date(t) for t in months]), s * r)
        self._append(keys, flat)

    def add_rows(self, version: str, status: str, rows: Sequence[tuple[str, str, str, str]],
                 measure: str, values: Sequence[float], currency: str) -> None:
        """One fact per (scenario, family, channel, month) row."""
        keys = self._constants(len(rows), version, status, measure, currency)
        for k, key in enumerate(("scenario", "family", "channel")):
            keys[key] = self._coded(key, [row[k] for row in rows])
        keys["month"] = self._coded("month", [month_date(row[3]) for row in rows])
        self._append(keys, np.asarray(values, dtype=np.float64))

    def table(self) -> dict[str, Coded | np.ndarray]:
        out: dict[str, Coded | np.ndarray] = {}
        for column in TABLES["fact_plan"]:
            if column.name == "value":
                out["value"] = np.concatenate([np.empty(0), *self._values])
                continue
            parts = self._codes[column.name]
            out[column.name] = Coded(np.concatenate([np.empty(0, np.int32), *parts]),
                                     tuple(self._labels[column.name]))
        return out


def live_facts(facts: FactRows, plan: Plan, d: Dollarized,
               overrides: Sequence[Override]) -> None:
    """The plan as dollarized now: line measures per channel, family measures on '(all)',
    the budget as scenario 'budget', and each named override on channel '(override)'."""
    cur = plan.settings.currency
    line_families = [str(f) for f in d.lines["family"]]
    line_channels = [str(c) or ALL_CHANNELS for c in d.lines["channel"]]
    for measure, source in LINE_SOURCES.items():
        facts.add_grid(LIVE, LIVE_STATUS, d.scenarios, line_families, line_channels, d.months,
                       measure, d.line[source], cur)
    all_channels = [ALL_CHANNELS] * len(d.families)
    for measure, family_source in FAMILY_SOURCES.items():
        facts.add_grid(LIVE, LIVE_STATUS, d.scenarios, d.families, all_channels, d.months,
                       measure, d.fam[family_source], cur)
    budget = {**{m: d.budget[s] for m, s in BUDGET_SOURCES.items()},
              "gross_margin": d.budget["revenue"] - d.budget["cogs"]}
    for measure, values in budget.items():
        facts.add_grid(LIVE, LIVE_STATUS, [BUDGET], d.families, all_channels, d.months,
                       measure, values, cur)
    override_facts(facts, d, overrides, cur)


def override_facts(facts: FactRows, d: Dollarized, overrides: Sequence[Override],
                   currency: str) -> None:
    """Named overrides of the dollarized scenarios and months, as the Summary adds them:
    revenue and cogs as written, gross margin moved by revenue less cogs."""
    kept = [o for o in overrides if o.scenario in d.scenarios and o.month in d.months
            and o.measure in OVERRIDDEN]
    for measure in (*OVERRIDDEN, "gross_margin"):
        rows = [o for o in kept if measure in (o.measure, "gross_margin")]
        signs = [-1.0 if measure == "gross_margin" and o.measure == "cogs" else 1.0
                 for o in rows]
        facts.add_rows(LIVE, LIVE_STATUS,
                       [(o.scenario, o.family, OVERRIDE_CHANNEL, o.month) for o in rows],
                       measure, [s * o.amount for s, o in zip(signs, rows, strict=True)],
                       currency)


def version_facts(facts: FactRows, version: Version, status: str) -> None:
    """A version's plan of record from its tab: units, revenue and cogs per family and month
    (overrides applied, as published), and gross margin as revenue less cogs."""
    snap = version.tab.snapshot
    families = sorted({str(k[0]) for k in snap.index})
    months = [str(m) for m in snap.columns]
    present = set(snap.index.get_level_values(1)) if len(snap.index) else set()
    grid = {m: snap.xs(m, level=1).reindex(families).to_numpy(dtype=np.float64)
            if m in present else np.full((len(families), len(months)), np.nan)
            for m in SNAPSHOT_MEASURES}
    grid["gross_margin"] = grid["revenue"] - grid["cogs"]
    for measure in (*SNAPSHOT_MEASURES, "gross_margin"):
        facts.add_grid(version.key, status, [version.tab.scenario], families,
                       [ALL_CHANNELS] * len(families), months, measure, grid[measure],
                       version.tab.currency)
