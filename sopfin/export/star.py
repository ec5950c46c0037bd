"""Build the star schema (``sopfin.export.schema``) from plain data: the dollarized plan as it
stands now, and every published version's frozen tab with its ledger entries.

Each table is a dict of equal-length numpy arrays, one per column in schema order; the writer
casts them to the schema's SQL types. The live plan's figures are the engine's, unrounded (as
the output sheets cache them); a version's are the cents on its tab.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sopfin.calendar import fiscal_quarter, fiscal_year, quarter_label, year_label
from sopfin.close import ledger as versions
from sopfin.close.records import Override
from sopfin.engine.results import Dollarized
from sopfin.engine.summary import OVERRIDDEN
from sopfin.export.recon_tab import ReconTab
from sopfin.export.schema import (
    ALL_CHANNELS,
    BUDGET,
    LIVE,
    LIVE_STATUS,
    MEASURE_BY_NAME,
    MEASURES,
    OVERRIDE_CHANNEL,
    TABLES,
)
from sopfin.model import Plan

Columns = dict[str, np.ndarray]
LINE_SOURCES = {"units": "shipments_units", "demand_units": "demand_units",
                "revenue": "revenue", "revenue_at_risk": "revenue_at_risk"}
FAMILY_SOURCES = {"cogs": "cogs", "gross_margin": "gross_margin",
                  "inventory_value": "inventory_value", "inventory_cash": "inventory_cash",
                  "production_units": "production_units", "end_units": "end_units"}
BUDGET_SOURCES = {"units": "units", "revenue": "revenue", "cogs": "cogs"}
SNAPSHOT_MEASURES = ("units", "revenue", "cogs")


@dataclass(frozen=True)
class Version:
    """A published version: its number, its tab read back, and its ledger entries."""

    number: int
    tab: ReconTab
    entries: tuple[versions.LedgerEntry, ...]

    @property
    def key(self) -> str:
        return f"v{self.number:03d}"


def _objects(values: Sequence[object] | np.ndarray) -> np.ndarray:
    return np.asarray(values, dtype=object)


def _table(name: str, columns: Mapping[str, np.ndarray | Sequence[object]]) -> Columns:
    """A table in schema order; every column an array of the same length."""
    out = {c.name: np.asarray(columns[c.name]) for c in TABLES[name]}
    lengths = {len(v) for v in out.values()}
    assert len(lengths) <= 1, f"{name}: columns of different lengths {lengths}"
    return out


def _concat(parts: Sequence[Columns], name: str) -> Columns:
    names = [c.name for c in TABLES[name]]
    if not parts:
        return {n: np.empty(0, dtype=object) for n in names}
    return {n: np.concatenate([_objects(p[n]) if p[n].dtype == object else p[n]
                               for p in parts]) for n in names}


def month_date(month: str) -> str:
    """'2027-03' -> '2027-03-01', the first day the DATE columns hold."""
    return f"{month}-01"


def _facts(version: str, status: str, scenario: np.ndarray, family: np.ndarray,
           channel: np.ndarray, month: np.ndarray, measure: str, values: np.ndarray,
           currency: str) -> Columns:
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    n = len(values)
    money = MEASURE_BY_NAME[measure].unit == "currency"
    return _table("fact_plan", {
        "version": np.full(n, version, dtype=object), "status": np.full(n, status, dtype=object),
        "scenario": scenario, "family": family, "channel": channel,
        "month": np.asarray([month_date(m) for m in month], dtype=object) if n else month,
        "measure": np.full(n, measure, dtype=object),
        "value": values,
        "currency": np.full(n, currency if money else "", dtype=object)})


def _grid_keys(scenarios: Sequence[str], rows: Sequence[str], channels: Sequence[str],
               months: Sequence[str]) -> tuple[np.ndarray, ...]:
    """Keys of a (scenario, row, month) array flattened in C order."""
    s, r, m = len(scenarios), len(rows), len(months)
    return (np.repeat(_objects(scenarios), r * m), np.tile(np.repeat(_objects(rows), m), s),
            np.tile(np.repeat(_objects(channels), m), s), np.tile(_objects(months), s * r))


def live_facts(plan: Plan, d: Dollarized, overrides: Sequence[Override]) -> list[Columns]:
    """The plan as dollarized now: line measures per channel, family measures on '(all)',
    the budget as scenario 'budget', and each named override on channel '(override)'."""
    cur = plan.settings.currency
    fams = [str(f) for f in d.lines["family"]]
    chans = [str(c) or ALL_CHANNELS for c in d.lines["channel"]]
    out = []
    keys = _grid_keys(d.scenarios, fams, chans, d.months)
    for measure, source in LINE_SOURCES.items():
        out.append(_facts(LIVE, LIVE_STATUS, *keys, measure, d.line[source], cur))
    all_channels = [ALL_CHANNELS] * len(d.families)
    keys = _grid_keys(d.scenarios, d.families, all_channels, d.months)
    for measure, source in FAMILY_SOURCES.items():
        out.append(_facts(LIVE, LIVE_STATUS, *keys, measure, d.fam[source], cur))
    keys = _grid_keys([BUDGET], d.families, all_channels, d.months)
    for measure, source in BUDGET_SOURCES.items():
        out.append(_facts(LIVE, LIVE_STATUS, *keys, measure, d.budget[source], cur))
    out.append(_facts(LIVE, LIVE_STATUS, *keys, "gross_margin",
                      d.budget["revenue"] - d.budget["cogs"], cur))
    out += override_facts(d, overrides, cur)
    return out


def override_facts(d: Dollarized, overrides: Sequence[Override], currency: str,
                   ) -> list[Columns]:
    """Named overrides of the dollarized scenarios and months, as the Summary adds them:
    revenue and cogs as written, gross margin moved by revenue less cogs."""
    kept = [o for o in overrides if o.scenario in d.scenarios and o.month in d.months
            and o.measure in OVERRIDDEN]
    out = []
    for measure in (*OVERRIDDEN, "gross_margin"):
        rows = [o for o in kept if measure in (o.measure, "gross_margin")]
        sign = [(-1.0 if measure == "gross_margin" and o.measure == "cogs" else 1.0)
                for o in rows]
        out.append(_facts(LIVE, LIVE_STATUS, _objects([o.scenario for o in rows]),
                          _objects([o.family for o in rows]),
                          _objects([OVERRIDE_CHANNEL] * len(rows)),
                          _objects([o.month for o in rows]), measure,
                          np.asarray([s * o.amount for s, o in zip(sign, rows, strict=True)],
                                     dtype=np.float64), currency))
    return out


def version_facts(version: Version, status: str) -> list[Columns]:
    """A version's plan of record from its tab: units, revenue and cogs per family and month
    (overrides applied, as published), and gross margin as revenue less cogs."""
    snap = version.tab.snapshot
    families = sorted({str(k[0]) for k in snap.index})
    months = [str(m) for m in snap.columns]
    grid = {m: snap.xs(m, level=1).reindex(families).to_numpy(dtype=np.float64)
            if m in snap.index.get_level_values(1) else np.full((len(families), len(months)),
                                                                np.nan)
            for m in SNAPSHOT_MEASURES}
    grid["gross_margin"] = grid["revenue"] - grid["cogs"]
    keys = _grid_keys([version.tab.scenario], families, [ALL_CHANNELS] * len(families), months)
    return [_facts(version.key, status, *keys, measure, grid[measure], version.tab.currency)
            for measure in (*SNAPSHOT_MEASURES, "gross_margin")]


def fact_plan(plan: Plan, d: Dollarized, overrides: Sequence[Override],
              published: Sequence[Version], status: Mapping[int, str]) -> Columns:
    parts = live_facts(plan, d, overrides)
    for version in published:
        parts += version_facts(version, status.get(version.number, ""))
    return _concat(parts, "fact_plan")


def fact_version_totals(published: Sequence[Version]) -> Columns:
    rows = []
    for version in published:
        totals = version.tab.scenario_totals
        for scenario, line in totals.iterrows():
            rows += [(version.key, str(scenario), version.tab.window, str(measure),
                      float(value), version.tab.currency)
                     for measure, value in line.items()]
    names = [c.name for c in TABLES["fact_version_totals"]]
    return _table("fact_version_totals", _columns(names, rows, floats=("value",)))


def fact_bridge(published: Sequence[Version]) -> Columns:
    rows = []
    for version in published:
        for bridge in ("revenue", "gross_margin"):
            steps = [s for s in version.tab.bridges if s.bridge == bridge]
            for s in steps:
                kind = "start" if s.step == 1 else "end" if s.step == len(steps) else "step"
                rows.append((version.key, bridge, s.step, kind, s.line, s.amount, s.owner,
                             s.note, version.tab.currency))
    names = [c.name for c in TABLES["fact_bridge"]]
    return _table("fact_bridge", _columns(names, rows, floats=("amount",)))


def _columns(names: Sequence[str], rows: Sequence[Sequence[object]],
             floats: Sequence[str] = ()) -> Columns:
    out = {}
    for k, name in enumerate(names):
        values = [row[k] for row in rows]
        out[name] = np.asarray(values, dtype=np.float64) if name in floats \
            else _objects(values)
    return out


def timestamp_text(stamp: str) -> str | None:
    """'2027-01-31T17:02:11Z' -> '2027-01-31 17:02:11' for a TIMESTAMP column."""
    return stamp.replace("T", " ").removesuffix("Z") if stamp else None


def dim_version(plan: Plan, published: Sequence[Version],
                ledger: Sequence[versions.LedgerEntry]) -> Columns:
    status = versions.current_status(ledger)
    approved = [v for v, s in status.items() if s == versions.APPROVED]
    record = max(approved) if approved else None
    rows: list[tuple[object, ...]] = [(LIVE, None, plan.settings.current_cycle, LIVE_STATUS,
                                       False, None, None, None, None, None, None, None, None,
                                       None)]
    for version in published:
        publish = next(e for e in version.entries if e.event == versions.PUBLISH)
        approval = [e for e in version.entries if e.event == versions.APPROVE]
        last = approval[-1] if approval else None
        rows.append((version.key, version.number, publish.cycle, status.get(version.number),
                     version.number == record, version.tab.scenario, version.tab.window,
                     publish.author, timestamp_text(publish.timestamp),
                     last.author if last else None,
                     timestamp_text(last.timestamp) if last else None,
                     publish.input_hash, publish.recon_hash, publish.entry_hash))
    return _table("dim_version", _columns([c.name for c in TABLES["dim_version"]], rows))


def dim_scenario(plan: Plan, published: Sequence[Version]) -> Columns:
    names = list(dict.fromkeys([*plan.settings.scenarios,
                                *(v.tab.scenario for v in published),
                                *(s for v in published for s in v.tab.scenario_totals.index)]))
    names = [n for n in names if n != BUDGET]
    plan_scenario = plan.settings.reconciled_scenario
    rows = [(n, "plan", n == plan_scenario, k + 1) for k, n in enumerate(names)]
    rows.append((BUDGET, "budget", False, len(names) + 1))
    return _table("dim_scenario", _columns([c.name for c in TABLES["dim_scenario"]], rows))


def dim_family(plan: Plan, facts: Columns) -> Columns:
    keys = plan.families.keys
    rows = [(str(r.family), str(r.name), str(r.product_line), str(r.uom),
             {"TRUE": True, "FALSE": False}.get(str(r.active).upper()))
            for r in keys.itertuples(index=False)]
    known = {r[0] for r in rows}
    rows += [(f, None, None, None, None) for f in sorted(set(facts["family"]) - known)]
    return _table("dim_family", _columns([c.name for c in TABLES["dim_family"]], rows))


def dim_channel(facts: Columns) -> Columns:
    special = {ALL_CHANNELS: "all", OVERRIDE_CHANNEL: "override"}
    present = set(facts["channel"])
    names = sorted(present - set(special)) + [c for c in special if c in present]
    rows = [(c, special.get(c, "channel")) for c in names]
    return _table("dim_channel", _columns(["channel", "kind"], rows))


def dim_calendar(plan: Plan, facts: Columns) -> Columns:
    horizon = set(plan.months)
    months = sorted({str(m)[:7] for m in facts["month"]} | horizon)
    start = plan.settings.fiscal_year_start
    years = fiscal_year(months, start) if months else np.empty(0, dtype=np.int64)
    quarters = fiscal_quarter(months, start) if months else np.empty(0, dtype=np.int64)
    rows = [(month_date(m), m, int(m[:4]), int(m[5:7]), int(y), year_label(int(y)), int(q),
             quarter_label(int(y), int(q)), m in horizon)
            for m, y, q in zip(months, years, quarters, strict=True)]
    return _table("dim_calendar", _columns([c.name for c in TABLES["dim_calendar"]], rows))


def dim_measure() -> Columns:
    rows = [(m.name, m.label, m.unit, m.aggregation, m.grain) for m in MEASURES]
    return _table("dim_measure", _columns([c.name for c in TABLES["dim_measure"]], rows))


def build_star(plan: Plan, d: Dollarized, overrides: Sequence[Override],
               published: Sequence[Version],
               ledger: Sequence[versions.LedgerEntry]) -> dict[str, Columns]:
    """Every table of the schema, by name."""
    status = versions.current_status(ledger)
    facts = fact_plan(plan, d, overrides, published, status)
    return {
        "fact_plan": facts,
        "fact_version_totals": fact_version_totals(published),
        "fact_bridge": fact_bridge(published),
        "dim_version": dim_version(plan, published, ledger),
        "dim_scenario": dim_scenario(plan, published),
        "dim_family": dim_family(plan, facts),
        "dim_channel": dim_channel(facts),
        "dim_calendar": dim_calendar(plan, facts),
        "dim_measure": dim_measure(),
    }
