"""A published ``Recon vNNN`` tab read back as data: what it reconciles, its two bridges, its
scenario comparison and its plan of record.

Everything comes from the frozen cells (values only, cents as written and hashed at publish);
nothing is recomputed from the plan, so an export of a version shows the version of record.
The sections are found by the titles ``sopfin.render.recon`` writes in column A.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from sopfin.close.digests import DIGEST_MARKER, _position
from sopfin.render.recon import SUBTITLE_CELL, snapshot_from_cells
from sopfin.render.recon_tab import SCENARIO_LABELS

REVENUE_BRIDGE_TITLE = "Revenue bridge, budget to plan"
MARGIN_BRIDGE_TITLE = "Gross margin bridge, budget to plan"
SCENARIOS_TITLE = "Scenario comparison"
BRIDGES = {"revenue": REVENUE_BRIDGE_TITLE, "gross_margin": MARGIN_BRIDGE_TITLE}
BRIDGE_WIDTH = 4  # Line, Amount, Owner, Note
_SUBTITLE = re.compile(r"^Cycle (?P<cycle>.*?) · scenario (?P<scenario>.*) · "
                       r"window (?P<window>.*) · (?P<currency>[^·]*)$")
_MEASURE_OF_LABEL = {label: measure for measure, label in SCENARIO_LABELS.items()}

Grid = dict[int, dict[int, object]]


class ReconTabError(ValueError):
    """A published tab that lacks a section the export reads (a tab from another tool)."""


@dataclass(frozen=True)
class BridgeStep:
    bridge: str  # 'revenue' or 'gross_margin'
    step: int  # 1 = the budget, last = the plan
    line: str
    amount: float
    owner: str
    note: str


@dataclass(frozen=True)
class ReconTab:
    """One version's frozen figures."""

    cycle: str
    scenario: str  # the scenario reconciled to budget
    window: str  # the window label ('Horizon', 'FY2027', ...)
    currency: str
    bridges: tuple[BridgeStep, ...]
    scenario_totals: pd.DataFrame  # index scenario; columns measure names over the window
    snapshot: pd.DataFrame  # index (family, measure); columns months


def grid_of(cells: Mapping[str, object]) -> Grid:
    """{row: {column: value}} of a tab's cells, digest cells left out."""
    grid: Grid = {}
    for ref, value in cells.items():
        value = getattr(value, "value", value)
        if value is None or (isinstance(value, str) and value.startswith(DIGEST_MARKER)):
            continue
        try:
            row, col = _position(ref)
        except ValueError:  # not a plain cell reference: no cell of a section
            continue
        grid.setdefault(row, {})[col] = value
    return grid


def _title_row(grid: Grid, title: str) -> int:
    row = next((r for r in sorted(grid) if str(grid[r].get(1, "")).startswith(title)), None)
    if row is None:
        raise ReconTabError(f"no '{title}' section on the tab")
    return row


def _rows_after_header(grid: Grid, title: str) -> list[dict[int, object]]:
    """The rows of a section: after its title and header row, up to the first empty row."""
    out = []
    row = _title_row(grid, title) + 2
    while grid.get(row, {}).get(1) is not None:
        out.append(grid[row])
        row += 1
    return out


def _text(value: object) -> str:
    return "" if value is None else str(value)


def read_bridge(grid: Grid, bridge: str) -> list[BridgeStep]:
    steps = []
    for k, line in enumerate(_rows_after_header(grid, BRIDGES[bridge]), start=1):
        amount = line.get(2)
        if not isinstance(amount, int | float):
            raise ReconTabError(f"the {bridge} bridge line {line.get(1)!r} has no amount")
        steps.append(BridgeStep(bridge, k, _text(line.get(1)), float(amount),
                                _text(line.get(3)), _text(line.get(4))))
    return steps


def read_scenario_totals(grid: Grid) -> pd.DataFrame:
    """The scenario comparison: one row per scenario, one column per measure (names as in
    ``Reconciliation.scenarios``), NaN for an empty cell."""
    header_row = _title_row(grid, SCENARIOS_TITLE) + 1
    header = grid.get(header_row, {})
    columns = {c: _MEASURE_OF_LABEL.get(_text(v), _text(v).lower().replace(" ", "_"))
               for c, v in sorted(header.items()) if c > 1}
    rows = _rows_after_header(grid, SCENARIOS_TITLE)
    data = [[float(v) if isinstance(v := line.get(c), int | float) else float("nan")
             for c in columns] for line in rows]
    return pd.DataFrame(data, columns=list(columns.values()),
                        index=pd.Index([_text(line[1]) for line in rows], name="scenario"))


def read_recon_tab(cells: Mapping[str, object]) -> ReconTab:
    """A version's tab -> ``ReconTab``; ``ReconTabError`` when a section is missing."""
    grid = grid_of(cells)
    row, col = _position(SUBTITLE_CELL)
    match = _SUBTITLE.match(_text(grid.get(row, {}).get(col)))
    if match is None:
        raise ReconTabError(f"cell {SUBTITLE_CELL} does not say the cycle, scenario, window "
                            "and currency")
    try:
        snapshot = snapshot_from_cells(cells).frame()
    except ValueError as exc:
        raise ReconTabError(str(exc)) from None
    return ReconTab(cycle=match["cycle"], scenario=match["scenario"], window=match["window"],
                    currency=match["currency"].strip(),
                    bridges=tuple(read_bridge(grid, "revenue") + read_bridge(grid, "gross_margin")),
                    scenario_totals=read_scenario_totals(grid), snapshot=snapshot)
