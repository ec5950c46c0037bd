"""The published reconciliation tab ``Recon vNNN``: frozen values a CFO reads top to bottom.

Title, a header block (version, cycle, status, time, author, input hash, previous ledger head,
the tab's own hash), the headline ("Plan lands at $X against a $Y budget: gap $Z (p%)"), the
revenue and margin bridges with a waterfall chart of the revenue bridge, price/volume/mix by
family, the overrides register, gap-closure actions and the gap after them, the scenario
comparison, silent overrides found, forecast accuracy, working capital by scenario and the
stranded and excess stock (``sopfin.render.recon_capital``), the latest estimate when there
are actuals, and the plan of record by family x measure x month at the bottom.

Values only, no formulas: the tab is hashed at publish and never rewritten. Money is rounded
to cents here (``sopfin.money``), so what is written is what is hashed. ``finalize_recon``
adds the hidden per-row digest column and writes the content hash into ``RECON_HASH_CELL``,
the one cell the hash does not cover.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import chain
from operator import itemgetter
from typing import cast

import numpy as np

from sopfin import layout
from sopfin.close.digests import DIGEST_MARKER
from sopfin.close.imported import ImportRecord
from sopfin.close.records import END, START, BridgeLine, Reconciliation
from sopfin.close.rowtable import MonthTable
from sopfin.money import to_cents
from sopfin.render.page import recon_page
from sopfin.render.recon_capital import capital_tables
from sopfin.render.recon_ebitda import ebitda_section
from sopfin.render.recon_page import (
    hash_link,
    last_row_before,
    short_hash,
    wrapped_heights,
)
from sopfin.render.recon_seal import cell_position
from sopfin.render.recon_sections import (
    actions_section,
    bridge_section,
    by_month_section,
    chart_section,
    frame_section,
    numeric_styles,
    overrides_section,
    published_bridge,
    pvm_section,
    silent_section,
    waterfall,
)
from sopfin.render.recon_sources import import_section
from sopfin.render.recon_tab import (
    CHART_HEIGHT,
    FULL_HASH_COL,
    HEADER_LABELS,
    HIDDEN_COLS,
    PRINT_LAST_COL,
    SCENARIO_LABELS,
    SNAPSHOT_TITLE,
    TAB_COLOR,
    WIDTHS,
    Tab,
    money_text,
)
from sopfin.render.recon_variances import cost_variance_section
from sopfin.sheetspec import (
    SheetProtection,
    SheetSpec,
    Style,
)
from sopfin.workbook import CellRow

# --- headline ------------------------------------------------------------------------------


def _ends(bridge: Sequence[BridgeLine], gap: float) -> tuple[float, float]:
    start = next((line.amount for line in bridge if line.kind == START), 0.0)
    end = next((line.amount for line in bridge if line.kind == END), start + gap)
    return start, end


def headline(rec: Reconciliation) -> list[tuple[str, float]]:
    """The two headline sentences (revenue, gross margin), each with its gap."""
    cur = rec.currency
    lines = []
    for what, bridge, gap, after in (
            ("Plan", rec.revenue_bridge, rec.revenue_gap, rec.revenue_gap_after_actions),
            ("Gross margin", rec.margin_bridge, rec.margin_gap, rec.margin_gap_after_actions)):
        budget, plan = _ends(bridge, gap)
        pct = f"{gap / budget:+.1%}" if budget else "n/a"
        noun = "budget" if what == "Plan" else "budget margin"
        lines.append((f"{what} lands at {money_text(plan, cur)} against a "
                      f"{money_text(budget, cur)} {noun}: gap {money_text(gap, cur, True)} "
                      f"({pct}); after actions {money_text(after, cur, True)}", gap))
    return lines


# --- the tab ---------------------------------------------------------------------------------
SUBTITLE_CELL = "A2"


def recon_subtitle(rec: Reconciliation) -> str:
    """The tab's second line (cell A2): what the version reconciles."""
    return f"Cycle {rec.cycle} · scenario {rec.scenario} · window {rec.window.label} · " \
           f"{rec.currency}"


def render_recon(rec: Reconciliation, *, version: int, timestamp: str, author: str,
                 input_hash: str, prev_hash: str, company: str = "",
                 protection: SheetProtection | None = None,
                 imports: Sequence[ImportRecord] = ()) -> SheetSpec:
    """The ``Recon vNNN`` tab for ``rec``, before ``finalize_recon`` seals it; ``imports``:
    the imports this version records on the ledger."""
    tab = Tab(layout.recon_tab_name(version))
    title = " ".join(p for p in (company, f"Reconciliation v{version:03d}") if p)
    tab.row([title], Style.TITLE)
    tab.row([recon_subtitle(rec)], Style.NOTE)
    tab.skip()
    header = (version, rec.cycle, "draft", timestamp, author, input_hash, prev_hash)
    for label, value in zip(HEADER_LABELS, header, strict=False):
        if label.endswith(" hash"):
            _hash_row(tab, label, str(value))
        else:
            tab.row([label, value], [Style.HEADER, Style.TEXT])
    tab.row([HEADER_LABELS[-1]], Style.HEADER)  # the value is written by finalize_recon
    tab.skip()
    for line, gap in headline(rec):
        tab.row([line], Style.ERROR if to_cents(gap) < 0 else Style.TITLE)
    for note in rec.notes:
        tab.row([note], Style.NOTE)
    tab.skip()
    top = tab.cursor
    first, last = bridge_section(tab, f"Revenue bridge, budget to plan ({rec.window.label})",
                          rec.revenue_bridge, helpers=True)
    bridge_section(tab, f"Gross margin bridge, budget to plan ({rec.window.label})",
            rec.margin_bridge, helpers=False)
    ebitda_section(tab, rec.ebitda, rec.window.label, published_bridge)
    charts = []
    if rec.revenue_bridge:
        charts.append(chart_section(tab, f"Revenue: budget to plan, {rec.window.label}",
                             [line.label for line in rec.revenue_bridge], first, last,
                             waterfall(published_bridge(rec.revenue_bridge)), top,
                             rec.currency))
        tab.cursor = max(tab.cursor, top + CHART_HEIGHT + 1)
    if rec.actual_bridge:
        bridge_section(tab, "Revenue bridge, plan of record to actual (closed months)",
                rec.actual_bridge, helpers=False)
    overrides_section(tab, rec)
    actions_section(tab, rec)
    frame_section(tab, "Scenario comparison", rec.scenarios, numeric_styles(rec.scenarios),
           SCENARIO_LABELS)
    silent_section(tab, rec)
    frame_section(tab, "Forecast accuracy, last approved version vs actuals", rec.accuracy,
           numeric_styles(rec.accuracy))
    import_section(tab, imports)
    printed = last_row_before(tab.blocks, tab.cursor)
    cost_variance_section(tab, rec.cost_variances)
    pvm_section(tab, "Price / volume / mix by family: revenue", rec.family_revenue)
    pvm_section(tab, "Price / volume / mix by family: gross margin", rec.family_margin)
    for table in capital_tables(rec):
        frame_section(tab, table.title, table.frame, table.styles, table.labels, table.empty)
    by_month_section(tab, "Latest estimate: actuals for closed months, plan for open",
              rec.latest_estimate)
    by_month_section(tab, f"{SNAPSHOT_TITLE}: {rec.scenario}, with overrides", rec.snapshot)
    spec = SheetSpec(tab.name, tab.blocks, owned=True, col_widths=dict(WIDTHS), freeze=(2, 0),
                     tab_color=TAB_COLOR, protection=protection, charts=charts,
                     links=tuple(tab.links), hidden_cols=HIDDEN_COLS, selected=True,
                     row_heights=wrapped_heights(tab.blocks, WIDTHS))
    return recon_page(spec, company=company, version=f"v{version:03d} · cycle {rec.cycle}",
                      area=(1, 1, printed, PRINT_LAST_COL), published=timestamp)


def _hash_row(tab: Tab, label: str, value: str) -> None:
    """A header row for a hash: its first characters in column B, linked to the whole value
    in the hidden column ``FULL_HASH_COL``."""
    at = tab.row([label, short_hash(value)], [Style.HEADER, Style.LINK])
    if value:
        tab.row([value], Style.TEXT, row=at, col=FULL_HASH_COL)
        tab.links.append(hash_link(tab.name, at, 2, FULL_HASH_COL, value))


def snapshot_from_cells(cells: Mapping[str, object],
                        title: str = SNAPSHOT_TITLE) -> MonthTable:
    """The plan of record read back from a tab's cells: index (family, measure), columns the
    months in tab order; what ``render_recon`` wrote from ``Reconciliation.snapshot``.

    Reads the bands under the first column-A cell starting with ``title`` until a row that
    holds text in column A only (the next section) or the end of the tab."""
    grid: dict[int, dict[int, object]] = {}
    for ref, value in cells.items():
        if isinstance(value, str) and value.startswith(DIGEST_MARKER):
            continue
        row, col = cell_position(ref)
        grid.setdefault(row, {})[col] = getattr(value, "value", value)
    return _snapshot_of(grid, title)


def snapshot_from_rows(rows: Iterable[CellRow],
                       title: str = SNAPSHOT_TITLE) -> MonthTable | None:
    """``snapshot_from_cells`` of a tab read as its rows (``Workbook.read_cell_rows``),
    decoding only column A of the rows stored above the section; None when the tab has no
    cell. Rows are merged as ``read_cells`` merges them: a later non-empty cell wins."""
    above: list[CellRow] = []  # rows met before the title, kept undecoded
    below: dict[int, dict[int, object]] = {}
    columns: dict[str, int] = {}
    for row in rows:
        if not below:
            first = row.values(["A"])[0]
            if not str(getattr(first, "value", first) or "").startswith(title):
                above.append(row)
                continue
        _add_row(below, row, columns)
    if not below:
        if not any(row.cells() for row in above):
            return None
        raise ValueError(f"no '{title}' section on the tab")
    start = min(r for r, line in below.items() if str(line.get(1, "")).startswith(title))
    grid: dict[int, dict[int, object]] = {}
    for row in above:  # rows stored out of order may still lie below the title
        if row.number > start:
            _add_row(grid, row, columns)
    for number, line in below.items():
        grid.setdefault(number, {}).update(line)
    return _snapshot_of(grid, title)


def _add_row(grid: dict[int, dict[int, object]], row: CellRow,
             columns: dict[str, int]) -> None:
    line = grid.setdefault(row.number, {})
    for letters, value in row.cells().items():
        if isinstance(value, str) and value.startswith(DIGEST_MARKER):
            continue
        col = columns.get(letters)
        if col is None:
            col = columns[letters] = layout.column_index(letters)
        line[col] = getattr(value, "value", value)


def _snapshot_of(grid: Mapping[int, Mapping[int, object]], title: str) -> MonthTable:
    start = next((r for r in sorted(grid) if str(grid[r].get(1, "")).startswith(title)), None)
    if start is None:
        raise ValueError(f"no '{title}' section on the tab")
    series: dict[tuple[str, ...], dict[str, float]] = {}
    names: list[str] = []
    months: list[str] = []
    for row in sorted(r for r in grid if r > start):
        line = grid[row]
        if not line:
            continue
        texts = [line.get(c) for c in range(1, max(line) + 1)]
        if line.keys() == {1}:
            break
        header = _month_header(texts)
        if header is not None:
            names, months = header
            continue
        key = tuple(str(line.get(c + 1, "")) for c in range(len(names)))
        values = series.setdefault(key, {})
        for k, month in enumerate(months):
            v = line.get(len(names) + 1 + k)
            values[month] = float(v) if isinstance(v, (int, float)) else float("nan")
    return _month_table(names, series)


def _month_header(texts: Sequence[object]) -> tuple[list[str], list[str]] | None:
    """(key names, months) of a header row: texts ending in a month; None for another row."""
    if not (all(isinstance(t, str) for t in texts)
            and re.fullmatch(layout.MONTH_PATTERN, str(texts[-1]))):
        return None
    keys = [t for t in texts if not re.fullmatch(layout.MONTH_PATTERN, str(t))]
    return [str(k).lower() for k in keys], [str(t) for t in texts[len(keys):]]


def _month_table(names: Sequence[str],
                 series: Mapping[tuple[str, ...], Mapping[str, float]]) -> MonthTable:
    columns = list(dict.fromkeys(m for v in series.values() for m in v))
    if all(list(v) == columns for v in series.values()):  # every series in the same months
        table = [list(v.values()) for v in series.values()]
    else:
        table = [[v.get(m, float("nan")) for m in columns] for v in series.values()]
    figures = np.array(table, dtype=np.float64).reshape(len(series), len(columns))
    return MonthTable(tuple(names) or ("",), tuple(series), tuple(columns), figures)


class _NotPlain(Exception):
    """A cell the rows would read differently from the grid (a date or time)."""


class _Band:
    """The rows under one month header: their keys in order, and their figures as arrays
    (one per run of rows), one column per month of the header."""

    def __init__(self, names: list[str], months: list[str]) -> None:
        self.names, self.months = names, months
        self.keys: list[tuple[str, ...]] = []
        self.blocks: list[np.ndarray] = []
        self.loose: list[list[float]] = []  # rows read one at a time, not yet in a block

    def add_row(self, key: tuple[str, ...], figures: list[float]) -> None:
        self.keys.append(key)
        self.loose.append(figures)

    def add_run(self, keys: list[tuple[str, ...]], figures: np.ndarray) -> None:
        self._flush()
        self.keys += keys
        self.blocks.append(figures)

    def figures(self) -> np.ndarray:
        """(rows, months) of every row in order."""
        self._flush()
        if not self.blocks:
            return np.empty((0, len(self.months)), dtype=np.float64)
        return np.concatenate(self.blocks) if len(self.blocks) > 1 else self.blocks[0]

    def _flush(self) -> None:
        if self.loose:
            self.blocks.append(np.array(self.loose, dtype=np.float64).reshape(
                len(self.loose), len(self.months)))
            self.loose = []


def snapshot_from_grid(grid: Sequence[Sequence[object]],
                       title: str = SNAPSHOT_TITLE) -> MonthTable | None:
    """``snapshot_from_rows`` of a tab read as one grid of cached values from A1 ('' for an
    empty cell, ``GridRows.grid``), or None when the grid cannot tell: no section title, or
    a date or time where the rows would give a number or a text. Empty cells and digest
    marks are absent, as in the rows. Runs of plain data rows (``_plain_run``) are read
    column by column; any other row, one at a time."""
    start = next((i for i, row in enumerate(grid) if row and isinstance(row[0], str)
                  and row[0].startswith(title)), None)
    if start is None:
        return None
    bands = [_Band([], [])]
    at, stop, checked = start + 1, len(grid), start + 1
    try:
        while at < stop:
            band = bands[-1]
            if at >= checked:  # rows before ``checked`` are known to start no plain run
                end, columns = _plain_run(grid, at, len(band.names), len(band.months))
                if columns is not None:
                    _read_run(band, columns)
                    at = end
                    continue
                checked = max(end, at + 1)
            line = _present(grid[at])
            at += 1
            if not line:
                continue
            if len(line) == 1:
                break
            header = _month_header(line)
            if header is not None:
                bands.append(_Band(*header))
                continue
            band.add_row(*_loose_row(line, len(band.names), len(band.months)))
    except _NotPlain:
        return None
    return _merged(bands)


def _loose_row(line: Sequence[object], width: int,
               count: int) -> tuple[tuple[str, ...], list[float]]:
    """(key, figures) of a row that is not plain, read cell by cell."""
    key = tuple(_key_text(v) for v in line[:width]) + ("",) * (width - len(line))
    figures = [_figure(v) for v in line[width:width + count]]
    return key, figures + [float("nan")] * (count - len(figures))


def _plain_run(grid: Sequence[Sequence[object]], at: int, width: int,
               count: int) -> tuple[int, list[list[object]] | None]:
    """The rows from ``at`` that hold a float in their first month's column, up to the
    first that does not, and their first ``width + count`` columns when they are plain
    data rows (else None): rows of one length holding ``width`` texts, none empty or
    holding a digest mark, then ``count`` floats, checked column by column. Whatever such a
    row holds after them, the rows read it as exactly these cells (a cell past the months
    is never read, an empty one or a digest mark is absent)."""
    end = at + _float_run(grid, at, width)
    if end == at or width + count <= 1 or count == 0:
        return end, None
    rows = grid[at:end]
    if len(set(map(len, rows))) != 1 or len(rows[0]) < width + count:
        return end, None
    columns = [list(map(itemgetter(c), rows)) for c in range(width + count)]
    for column in columns[:width]:
        if set(map(type, column)) != {str} or "" in column \
                or DIGEST_MARKER in "\n".join(cast(list[str], column)):
            return end, None
    if any(set(map(type, column)) != {float} for column in columns[width:]):
        return end, None
    return end, columns


def _float_run(grid: Sequence[Sequence[object]], at: int, col: int) -> int:
    """How many rows from ``at`` hold a float in column ``col`` (from 0), looked at in
    growing steps so that a short run costs little."""
    found, step = 0, 64
    while at + found < len(grid):
        chunk = grid[at + found:at + found + step]
        for i, row in enumerate(chunk):
            if len(row) <= col or type(row[col]) is not float:
                return found + i
        found, step = found + len(chunk), step * 2
    return found


def _read_run(band: _Band, columns: list[list[object]]) -> None:
    """A run of plain rows, as the columns ``_plain_run`` gives, added to ``band``."""
    width = len(band.names)
    keys = list(zip(*columns[:width], strict=True)) if width else [()] * len(columns[0])
    band.add_run(cast(list[tuple[str, ...]], keys),
                 np.array(columns[width:], dtype=np.float64).T)


def _merged(bands: Sequence[_Band]) -> MonthTable:
    """The bands as one table, as the rows merge them: a key's row is where it first comes;
    its months, in the order its bands give them; a later figure for the same key and month
    wins."""
    order = list(dict.fromkeys(chain.from_iterable(band.keys for band in bands)))
    positions = {key: i for i, key in enumerate(order)}
    keyed = [band for band in bands if band.keys]
    if all(band.keys == order for band in keyed):  # each band holds every key once, in order
        months = list(dict.fromkeys(m for band in keyed for m in band.months))
    else:
        months = _months_by_key(bands, order)
    column = {m: j for j, m in enumerate(months)}
    values = np.full((len(order), len(months)), np.nan)
    for band in keyed:
        if not band.months:
            continue
        last_col = {m: j for j, m in enumerate(band.months)}  # a later column wins
        cols = np.array([column[m] for m in last_col], dtype=np.intp)
        figures = band.figures()[:, list(last_col.values())]
        if band.keys == order:
            values[:, cols] = figures
            continue
        last_row = {key: i for i, key in enumerate(band.keys)}  # so does a later row
        rows = np.array([positions[k] for k in last_row], dtype=np.intp)
        values[np.ix_(rows, cols)] = figures[list(last_row.values())]
    return MonthTable(tuple(bands[-1].names) or ("",), tuple(order), tuple(months), values)


def _months_by_key(bands: Sequence[_Band], order: Sequence[tuple[str, ...]]) -> list[str]:
    """The months in the order the rows give them: each key's months in the order of its
    bands, key after key."""
    among: dict[tuple[str, ...], list[int]] = {}
    for b, band in enumerate(bands):
        for key in dict.fromkeys(band.keys):
            among.setdefault(key, []).append(b)
    signatures = dict.fromkeys(tuple(among[key]) for key in order)
    return list(dict.fromkeys(m for signature in signatures for b in signature
                              for m in bands[b].months))


def _present(row: Sequence[object]) -> list[object]:
    """The row's cells up to its last present one, None for an absent cell."""
    line = [None if v == "" or (isinstance(v, str) and v.startswith(DIGEST_MARKER)) else v
            for v in row]
    while line and line[-1] is None:
        line.pop()
    return line


def _key_text(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str | float | int):
        raise _NotPlain
    return str(value)


def _figure(value: object) -> float:
    if isinstance(value, int | float):
        return float(value)
    if value is None or isinstance(value, str):
        return float("nan")
    raise _NotPlain


