"""Build the star schema (``sopfin.export.schema``) from plain data: the dollarized plan as it
stands now, and every published version's frozen tab with its ledger entries.

Each table is a dict of equal-length numpy arrays, one per column in schema order; the writer
casts them to the schema's SQL types. The live plan's figures are the engine's, unrounded (as
the output sheets cache them); a version's are the cents on its tab.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from sopfin.calendar import fiscal_quarter, fiscal_year, quarter_label, year_label
from sopfin.close import ledger as versions
from sopfin.close.records import Override
from sopfin.engine.results import Dollarized
from sopfin.export.facts import Coded, FactRows, Version, live_facts, month_date, version_facts
from sopfin.export.schema import (
    ALL_CHANNELS,
    BUDGET,
    LIVE,
    LIVE_STATUS,
    MEASURES,
    OVERRIDE_CHANNEL,
    TABLES,
)
from sopfin.model import Plan

Columns = dict[str, np.ndarray]


def _objects(values: Sequence[object]) -> np.ndarray:
    return np.asarray(values, dtype=object)


def _table(name: str, columns: Mapping[str, np.ndarray | Sequence[object]]) -> Columns:
    """A table in schema order; every column an array of the same length."""
    out = {c.name: np.asarray(columns[c.name]) for c in TABLES[name]}
    lengths = {len(v) for v in out.values()}
    assert len(lengths) <= 1, f"{name}: columns of different lengths {lengths}"
    return out


def fact_plan(plan: Plan, d: Dollarized, overrides: Sequence[Override],
              published: Sequence[Version], status: Mapping[int, str],
              ) -> dict[str, Coded | np.ndarray]:
    facts = FactRows()
    live_facts(facts, plan, d, overrides)
    for version in published:
        version_facts(facts, version, status.get(version.number, ""))
    return facts.table()


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


def dim_family(plan: Plan, facts: Mapping[str, Coded | np.ndarray]) -> Columns:
    keys = plan.families.keys
    rows: list[tuple[str, str | None, str | None, str | None, bool | None]] = [
            (str(family), str(name), str(line), str(uom),
             {"TRUE": True, "FALSE": False}.get(str(active).upper()))
            for family, name, line, uom, active in zip(
                *(keys[n].tolist() for n in ("family", "name", "product_line", "uom", "active")),
                strict=True)]
    known = {r[0] for r in rows}
    rows += [(f, None, None, None, None) for f in sorted(_used(facts["family"]) - known)]
    return _table("dim_family", _columns([c.name for c in TABLES["dim_family"]], rows))


def _used(column: Coded | np.ndarray) -> set[str]:
    return column.used() if isinstance(column, Coded) else {str(v) for v in set(column)}


def dim_channel(facts: Mapping[str, Coded | np.ndarray]) -> Columns:
    special = {ALL_CHANNELS: "all", OVERRIDE_CHANNEL: "override"}
    present = _used(facts["channel"])
    names = sorted(present - set(special)) + [c for c in special if c in present]
    rows = [(c, special.get(c, "channel")) for c in names]
    return _table("dim_channel", _columns(["channel", "kind"], rows))


def dim_calendar(plan: Plan, facts: Mapping[str, Coded | np.ndarray]) -> Columns:
    horizon = set(plan.months)
    months = sorted({m[:7] for m in _used(facts["month"])} | horizon)
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
               ledger: Sequence[versions.LedgerEntry],
               ) -> dict[str, Mapping[str, Coded | np.ndarray]]:
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
