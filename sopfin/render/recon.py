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

import contextlib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

import numpy as np

from sopfin import layout
from sopfin.close.digests import DIGEST_MARKER, FormulaCell, seal
from sopfin.close.imported import ImportRecord
from sopfin.close.ledger_checks import TabClaim
from sopfin.close.records import END, START, BridgeLine, Reconciliation
from sopfin.close.rowtable import MonthTable, RowTable
from sopfin.guard.respelling import as_written
from sopfin.money import round_to_total, to_cents
from sopfin.render.page import recon_page
from sopfin.render.recon_capital import capital_tables
from sopfin.render.recon_ebitda import ebitda_section
from sopfin.render.recon_page import (
    axis_floor,
    chart_label,
    hash_link,
    last_row_before,
    short_hash,
    wrapped_heights,
)
from sopfin.render.recon_sources import import_section
from sopfin.render.recon_variances import cost_variance_section
from sopfin.sheetspec import (
    Block,
    ChartSeries,
    ChartSpec,
    Link,
    SheetProtection,
    SheetSpec,
    Style,
)
from sopfin.workbook import CellRow

HEADER_FIRST_ROW = 4
HEADER_LABELS = ("Version", "Cycle", "Status at publish", "Published (UTC)", "Author",
                 "Input hash", "Previous hash", "Own hash")
FULL_HASH_COL = 25  # Y, hidden: the hashes whole; column B shows their first characters
HELPER_COL = 20  # T..X, hidden: the waterfall's chart label, base, increase, decrease, total
HELPER_HEADERS = ("Chart label", "Waterfall base", "Increase", "Decrease", "Total")
HIDDEN_COLS = tuple(range(HELPER_COL, FULL_HASH_COL + 1))
_OWN_HASH_ROW = HEADER_FIRST_ROW + HEADER_LABELS.index("Own hash")
RECON_HASH_CELL = layout.cell_name(_OWN_HASH_ROW, FULL_HASH_COL)  # the own hash, whole
RECON_HASH_SHORT_CELL = layout.cell_name(_OWN_HASH_ROW, 2)  # and its first characters
OWN_HASH_CELLS = (RECON_HASH_CELL, RECON_HASH_SHORT_CELL)  # the cells the hash cannot cover
BRIDGE_HEADERS = ("Line", "Amount", "Owner", "Note")
CHART_ANCHOR_COL, CHART_WIDTH, CHART_HEIGHT = 4, 8, 22  # E..L, 0-based columns, rows
PRINT_LAST_COL = 12  # L: the printed width (the widest summary table, the chart)
WIDTHS = {1: 34.0, 2: 18.0, 3: 16.0, 4: 28.0, **{c: 13.0 for c in range(5, 15)}}
GREEN, RED, BLUE = "FF70AD47", "FFC00000", "FF1F4E79"
SNAPSHOT_TITLE = "Plan of record"
SNAPSHOT_BAND = 12  # months per band of the snapshot: the tab stays left of the digest column
TAB_COLOR = "FF375623"
PVM_COLUMNS = ("price", "joint", "quantity", "mix", "mix_between", "mix_within", "volume",
               "cost", "total")
SCENARIO_LABELS = {
    "revenue": "Revenue", "budget_revenue": "Budget revenue", "revenue_gap": "Revenue gap",
    "gross_margin": "Gross margin", "budget_gross_margin": "Budget GM",
    "gross_margin_gap": "GM gap", "inventory_value": "Inventory (end)",
    "inventory_cash": "Inventory cash", "budget_inventory_cash": "Budget inventory cash",
    "cash_vs_budget": "Cash vs budget", "revenue_at_risk": "Revenue at risk",
}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CNY": "¥", "INR": "₹"}
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_TEXT = 32767


def written_text(text: str) -> str:
    """A string as it reads back from the workbook: XML-illegal characters dropped, line ends
    normalised (XML parsers turn CR LF into LF), Excel's 32,767-character limit applied."""
    text = _ILLEGAL_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text[:MAX_TEXT]


def _cell_value(v: object) -> object:
    """A Python value for a cell: numbers as float, NaN as empty, text cleaned."""
    if type(v) is float or type(v) is np.float64:  # most cells; NaN and inf are empty
        number = float(v)
        return number if number - number == 0.0 else None
    if type(v) is str and v.isascii() and v.isprintable() and len(v) <= MAX_TEXT:
        return v or None  # nothing for written_text to clean
    if type(v).__name__ in ("NAType", "NaTType"):  # pandas' missing values
        return None
    if v is None or isinstance(v, (bool, np.bool_)):
        return None if v is None else bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        number = float(v)
        return number if math.isfinite(number) else None
    if isinstance(v, str):
        return written_text(v) or None
    return written_text(str(v)) or None


def _money(v: object) -> float | None:
    number = _cell_value(v)
    return float(to_cents(number)) if isinstance(number, float) else None


@dataclass
class _Tab:
    """The tab being laid out: blocks appended row by row from a cursor."""

    name: str
    blocks: list[Block] = field(default_factory=list)
    cursor: int = 1
    links: list[Link] = field(default_factory=list)

    def row(self, values: Sequence[object], styles: Style | Sequence[Style | None] | None = None,
            row: int | None = None, col: int = 1) -> int:
        at = self.cursor if row is None else row
        cells = [_cell_value(v) for v in values]
        if styles is None or isinstance(styles, Style):
            styles = [styles] * len(cells)
        self.blocks.append(Block(at, col, np.array([cells], dtype=object),
                                 style=np.array([list(styles)], dtype=object)))
        if row is None:
            self.cursor += 1
        return at

    def skip(self, n: int = 1) -> None:
        self.cursor += n

    def section(self, title: str, headers: Sequence[str]) -> None:
        self.row([title], Style.TITLE)
        self.row(headers, Style.HEADER_WRAP)

    def none(self, text: str = "none") -> None:
        self.row([text], Style.NOTE)

    def ref(self, col: int, first: int, last: int) -> str:
        letter = layout.column_letter(col)
        quoted = "'" + self.name.replace("'", "''") + "'"
        return f"{quoted}!${letter}${first}:${letter}${last}"


# --- headline ------------------------------------------------------------------------------
def money_text(amount: float, currency: str, signed: bool = False) -> str:
    """'$248.0M', '-$12.5K', 'EUR 950'; the sign leads, the symbol or code follows."""
    symbol = SYMBOLS.get(currency.upper(), f"{currency} " if currency else "")
    value = abs(float(to_cents(amount)))
    body = f"{math.floor(value + 0.5):,}"
    if math.floor(value + 0.5) >= 1000:
        for size, suffix in ((1e3, "K"), (1e6, "M"), (1e9, "B")):
            tenths = math.floor(value / size * 10 + 0.5 + 1e-9)  # half away from zero
            body = f"{tenths / 10:,.1f}{suffix}"
            if tenths < 10_000:  # below 1,000.0 of this unit
                break
    sign = "-" if amount < 0 and body.strip("0.,KMB") else ("+" if signed and amount > 0 else "")
    return f"{sign}{symbol}{body}"


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


# --- sections --------------------------------------------------------------------------------
def published_bridge(bridge: Sequence[BridgeLine]) -> tuple[BridgeLine, ...]:
    """The bridge as published, in cents: start and end each rounded, and the steps rounded
    together (``round_to_total``) so that they add up to end - start to the cent."""
    start = [line.amount for line in bridge if line.kind == START]
    end = [line.amount for line in bridge if line.kind == END]
    steps = [line.amount for line in bridge if line.kind not in (START, END)]
    cents = iter(np.asarray(to_cents(np.asarray(steps, dtype=np.float64))).tolist())
    if len(start) == 1 and len(end) == 1:
        gap = to_cents(end[0]) - to_cents(start[0])
        with contextlib.suppress(ValueError):  # steps that do not make the gap: each alone
            cents = iter(round_to_total(steps, gap).tolist())
    return tuple(replace(line, amount=float(to_cents(line.amount)))
                 if line.kind in (START, END) else replace(line, amount=next(cents))
                 for line in bridge)


def _bridge(tab: _Tab, title: str, bridge: Sequence[BridgeLine],
            helpers: bool) -> tuple[int, int]:
    headers = BRIDGE_HEADERS
    tab.section(title, headers)
    if helpers:
        tab.row(HELPER_HEADERS, Style.HEADER, row=tab.cursor - 1, col=HELPER_COL)
    first = tab.cursor
    bridge = published_bridge(bridge)
    for line, helper in zip(bridge, waterfall(bridge), strict=True):
        total = line.kind in (START, END)
        money_style = Style.MONEY_WHOLE_BOLD if total else Style.MONEY_WHOLE
        at = tab.row([line.label, _money(line.amount), line.owner, line.note],
                     [Style.WRAP, money_style, Style.WRAP, Style.WRAP])
        if helpers:
            tab.row([chart_label(line.label), *(_money(h) for h in helper)],
                    [Style.TEXT] + [Style.MONEY_WHOLE] * len(helper), row=at, col=HELPER_COL)
    if not bridge:
        tab.none()
    last = tab.cursor - 1
    tab.skip()
    return first, last


def waterfall(bridge: Sequence[BridgeLine]) -> list[tuple[float | None, ...]]:
    """(base, increase, decrease, total) per line for a stacked-column waterfall.

    Totals (start, end) stand on zero. A step spans the running total before and after it; its
    invisible base fills from zero to the nearer end and the coloured bar covers the rest
    (below zero both stack downwards). A step that crosses zero is drawn from zero to its
    larger side only. Zero heights are None (empty cells).
    """
    out: list[tuple[float | None, ...]] = []
    running = 0.0
    for line in bridge:
        if line.kind in (START, END):
            running = line.amount
            out.append((None, None, None, line.amount or None))
            continue
        before, after = running, running + line.amount
        running = after
        lo, hi = min(before, after), max(before, after)
        if lo >= 0:
            base, bar = lo, hi - lo
        elif hi <= 0:
            base, bar = hi, lo - hi
        else:
            base, bar = 0.0, hi if hi >= -lo else lo
        up = bar if line.amount > 0 else None
        down = bar if line.amount < 0 else None
        out.append((base or None, up or None, down or None, None))
    return out


def _chart(tab: _Tab, title: str, labels: Sequence[str], first: int, last: int,
           helpers: Sequence[tuple[float | None, ...]], top: int, currency: str) -> ChartSpec:
    names = ("Base", "Increase", "Decrease", "Total")
    colors = (None, GREEN, RED, BLUE)
    series = [ChartSeries(name, tab.ref(HELPER_COL + 1 + k, first, last),
                          [float("nan") if v is None else float(to_cents(v))
                           for v in (h[k] for h in helpers)], color)
              for k, (name, color) in enumerate(zip(names, colors, strict=True))]
    anchor = (CHART_ANCHOR_COL, top - 1, CHART_ANCHOR_COL + CHART_WIDTH,
              top - 1 + CHART_HEIGHT)
    floor = axis_floor(_levels(helpers))
    marked = f"axis starts at {money_text(floor, currency)}, not zero" if floor else ""
    return ChartSpec(title, tab.ref(HELPER_COL, first, last), [chart_label(x) for x in labels],
                     series, anchor, value_axis_min=floor, value_axis_title=marked)


def _levels(helpers: Sequence[tuple[float | None, ...]]) -> list[float]:
    """The running totals the waterfall's bars start and end at."""
    out = []
    for base, up, down, total in helpers:
        if total is not None:
            out.append(total)
        elif base is not None or up is not None or down is not None:
            start = base or 0.0
            out += [start, start + (up or 0.0) + (down or 0.0)]
    return out


def _frame(tab: _Tab, title: str, table: RowTable | None, styles: Mapping[str, Style],
           labels: Mapping[str, str] | None = None, empty: str = "none") -> None:
    """A table: its key column(s) first, then the value columns."""
    if table is None:
        return
    names = [*table.index_names, *table.columns]
    labels = labels or {}
    tab.section(title, [labels.get(c, c.replace("_", " ").capitalize()) for c in names])
    kinds = [styles.get(c) for c in names]
    columns = [values.tolist() for values in table.columns.values()]
    for i, key in enumerate(table.index):
        record = [*key, *(values[i] for values in columns)]
        tab.row([_money(v) if s in (Style.MONEY, Style.MONEY_WHOLE, Style.MONEY_WHOLE_BOLD)
                 else v for v, s in zip(record, kinds, strict=True)],
                [s or Style.TEXT for s in kinds])
    if not len(table):
        tab.none(empty)
    tab.skip()


def _numeric_styles(table: RowTable | None) -> dict[str, Style]:
    if table is None:
        return {}
    out = {}
    for c, values in table.columns.items():
        if np.asarray(values).dtype.kind not in "biufc":
            continue
        name = str(c).lower()
        if "units" in name:
            out[str(c)] = Style.UNITS
        elif any(k in name for k in ("pct", "%", "accuracy", "ratio", "share", "probability")):
            out[str(c)] = Style.PERCENT
        else:
            out[str(c)] = Style.MONEY_WHOLE
    return out


def _pvm(tab: _Tab, title: str, table: RowTable) -> None:
    """Per family, or per family and channel (with the two mix columns) when the Budget has
    channels."""
    columns = {c: table[c] for c in ("status", *PVM_COLUMNS) if c in table.columns}
    if len(table.index_names) > 1:
        title = title.replace("by family", "by family and channel")
    shown = RowTable(table.index_names, table.index, columns)
    _frame(tab, title, shown, {c: Style.MONEY_WHOLE for c in PVM_COLUMNS})


def _overrides(tab: _Tab, rec: Reconciliation) -> None:
    tab.section("Overrides register", ("Id", "Scenario", "Family", "Month", "Measure",
                                       "Amount", "Owner", "Reason", "Approved by"))
    for o in rec.overrides:
        tab.row([o.id, o.scenario, o.family, o.month, o.measure, _money(o.amount), o.owner,
                 o.reason, o.approved_by],
                [Style.TEXT] * 5 + [Style.MONEY] + [Style.WRAP] * 3)
    if not rec.overrides:
        tab.none()
    tab.skip()


def _actions(tab: _Tab, rec: Reconciliation) -> None:
    tab.section("Gap-closure actions", ("Id", "Scenario", "Description", "Owner",
                                        "Revenue impact", "Margin impact", "Probability",
                                        "Months", "In window", "Expected revenue",
                                        "Expected margin"))
    money = Style.MONEY_WHOLE
    horizon = rec.snapshot.months or rec.window.months
    for a in rec.actions:
        active = a.active_months(horizon)
        share = a.share(rec.window.months, horizon)
        months = f"{active[0]}..{active[-1]}" if len(active) > 1 else (active or ("none",))[0]
        tab.row([a.id, a.scenario, a.description, a.owner, _money(a.revenue_impact),
                 _money(a.margin_impact), a.probability, months, share,
                 _money(a.revenue_impact * a.probability * share),
                 _money(a.margin_impact * a.probability * share)],
                [Style.TEXT, Style.TEXT, Style.WRAP, Style.WRAP, money, money, Style.PERCENT,
                 Style.TEXT, Style.PERCENT, money, money])
    if not rec.actions:
        tab.none()
    tab.skip()
    tab.section("Gap after actions", ("Measure", "Gap", "Actions (expected)",
                                      "Gap after actions"))
    for label, gap, after in (("Revenue", rec.revenue_gap, rec.revenue_gap_after_actions),
                              ("Gross margin", rec.margin_gap, rec.margin_gap_after_actions)):
        tab.row([label, _money(gap), _money(after - gap), _money(after)],
                [Style.TEXT, money, money, Style.MONEY_WHOLE_BOLD])
    tab.skip()


def _silent(tab: _Tab, rec: Reconciliation) -> None:
    tab.section("Silent overrides found", ("Cell", "Kind", "Expected", "Found", "Message"))
    for s in rec.silent_overrides:
        shown = [_money(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                 else v for v in (s.expected, s.found)]
        tab.row([str(s.where), s.kind.value if s.kind else "", *shown, s.text],
                [Style.TEXT, Style.TEXT, Style.MONEY, Style.MONEY, Style.WRAP])
    if not rec.silent_overrides:
        tab.none()
    tab.skip()


def _by_month(tab: _Tab, title: str, table: MonthTable | None) -> None:
    """Family x measure x month, in bands of SNAPSHOT_BAND months."""
    if table is None:
        return
    months = list(table.months)
    keys = list(table.keys)
    names = [str(n or f"key {i + 1}").capitalize() for i, n in enumerate(table.names)]
    tab.row([title], Style.TITLE)
    for b in range(0, max(len(months), 1), SNAPSHOT_BAND):
        band = months[b:b + SNAPSHOT_BAND]
        tab.row([*names, *band], [Style.HEADER] * len(names) + [Style.MONTH_HEADER] * len(band))
        values = table.values[:, b:b + SNAPSHOT_BAND]
        for key, row in zip(keys, values, strict=True):
            units = "units" in (str(k).lower() for k in key)
            style = Style.UNITS if units else Style.MONEY_WHOLE
            cells = [_cell_value(v) if units else _money(v) for v in row]
            tab.row([*key, *cells], [Style.TEXT] * len(key) + [style] * len(cells))
        if not keys:
            tab.none()
        tab.skip()


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
    tab = _Tab(layout.recon_tab_name(version))
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
    first, last = _bridge(tab, f"Revenue bridge, budget to plan ({rec.window.label})",
                          rec.revenue_bridge, helpers=True)
    _bridge(tab, f"Gross margin bridge, budget to plan ({rec.window.label})",
            rec.margin_bridge, helpers=False)
    ebitda_section(tab, rec.ebitda, rec.window.label, published_bridge)
    charts = []
    if rec.revenue_bridge:
        charts.append(_chart(tab, f"Revenue: budget to plan, {rec.window.label}",
                             [line.label for line in rec.revenue_bridge], first, last,
                             waterfall(published_bridge(rec.revenue_bridge)), top,
                             rec.currency))
        tab.cursor = max(tab.cursor, top + CHART_HEIGHT + 1)
    if rec.actual_bridge:
        _bridge(tab, "Revenue bridge, plan of record to actual (closed months)",
                rec.actual_bridge, helpers=False)
    _overrides(tab, rec)
    _actions(tab, rec)
    _frame(tab, "Scenario comparison", rec.scenarios, _numeric_styles(rec.scenarios),
           SCENARIO_LABELS)
    _silent(tab, rec)
    _frame(tab, "Forecast accuracy, last approved version vs actuals", rec.accuracy,
           _numeric_styles(rec.accuracy))
    import_section(tab, imports)
    printed = last_row_before(tab.blocks, tab.cursor)
    cost_variance_section(tab, rec.cost_variances)
    _pvm(tab, "Price / volume / mix by family: revenue", rec.family_revenue)
    _pvm(tab, "Price / volume / mix by family: gross margin", rec.family_margin)
    for table in capital_tables(rec):
        _frame(tab, table.title, table.frame, table.styles, table.labels, table.empty)
    _by_month(tab, "Latest estimate: actuals for closed months, plan for open",
              rec.latest_estimate)
    _by_month(tab, f"{SNAPSHOT_TITLE}: {rec.scenario}, with overrides", rec.snapshot)
    spec = SheetSpec(tab.name, tab.blocks, owned=True, col_widths=dict(WIDTHS), freeze=(2, 0),
                     tab_color=TAB_COLOR, protection=protection, charts=charts,
                     links=tuple(tab.links), hidden_cols=HIDDEN_COLS, selected=True,
                     row_heights=wrapped_heights(tab.blocks, WIDTHS))
    return recon_page(spec, company=company, version=f"v{version:03d} · cycle {rec.cycle}",
                      area=(1, 1, printed, PRINT_LAST_COL), published=timestamp)


def _hash_row(tab: _Tab, label: str, value: str) -> None:
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
        row, col = _position(ref)
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


def snapshot_from_grid(grid: Sequence[Sequence[object]],
                       title: str = SNAPSHOT_TITLE) -> MonthTable | None:
    """``snapshot_from_rows`` of a tab read as one grid of cached values from A1 ('' for an
    empty cell, ``GridRows.grid``), or None when the grid cannot tell: no section title, or
    a date or time where the rows would give a number or a text. Empty cells and digest
    marks are absent, as in the rows."""
    start = next((i for i, row in enumerate(grid) if row and isinstance(row[0], str)
                  and row[0].startswith(title)), None)
    if start is None:
        return None
    series: dict[tuple[str, ...], dict[str, float]] = {}
    names: list[str] = []
    months: list[str] = []
    try:
        shape: tuple[type, ...] = ()
        for row in grid[start + 1:]:
            width, end = len(names), len(shape)
            if end > 1 and _plain_data_row(row, shape, width):  # the common row, read whole
                series.setdefault(tuple(cast(list[str], row[:width])), {}).update(
                    zip(months, cast(list[float], row[width:end]), strict=True))
                continue
            line = _present(row)
            if not line:
                continue
            if len(line) == 1:
                break
            header = _month_header(line)
            if header is not None:
                names, months = header
                shape = (str,) * len(names) + (float,) * len(months) if months else ()
                continue
            width = len(names)
            key = tuple(_key_text(v) for v in line[:width]) + ("",) * (width - len(line))
            figures = [_figure(v) for v in line[width:width + len(months)]]
            figures += [float("nan")] * (len(months) - len(figures))
            series.setdefault(key, {}).update(zip(months, figures, strict=True))
    except _NotPlain:
        return None
    return _month_table(names, series)


def _plain_data_row(row: Sequence[object], shape: tuple[type, ...], width: int) -> bool:
    """A row of ``width`` texts (no digest mark) then figures, as ``shape`` has them, and
    nothing after: what ``_present`` and the loop would read as exactly these cells."""
    end = len(shape)
    if tuple(map(type, row[:end])) != shape:
        return False
    keys = cast(list[str], row[:width])
    return "" not in keys and DIGEST_MARKER not in "".join(keys) and _nothing_after(row[end:])


def _nothing_after(rest: Sequence[object]) -> bool:
    """Only empty cells, or empty cells then the row's digest mark (where sopfin puts it)."""
    empty = rest.count("")
    return empty == len(rest) or (empty == len(rest) - 1 and isinstance(rest[-1], str)
                                  and rest[-1].startswith(DIGEST_MARKER))


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


# --- what is hashed --------------------------------------------------------------------------
def _digest_col() -> int:
    return layout.column_index(layout.RECON_DIGEST_COLUMN)


def _fill(grid: dict[tuple[int, int], object], block: Block) -> None:
    """Put every non-empty cell of a block into ``grid`` by (row, column), valued as it reads
    back; a formula cell is a ``FormulaCell`` even when its cached value is empty."""
    values = np.asarray(block.values, dtype=object)
    if block.formulas is None:
        for i, line in enumerate(values.tolist(), start=block.row):
            for j, v in enumerate(line, start=block.col):
                if type(v) is float and v - v == 0.0:  # the common case, as _cell_value
                    grid[i, j] = v
                elif (value := _cell_value(v)) is not None:
                    grid[i, j] = value
        return
    formulas = np.asarray(block.formulas, dtype=object)
    for (i, j), v in np.ndenumerate(values):
        f = formulas[i, j]
        if isinstance(f, str) and f:
            value = FormulaCell(f[1:] if f.startswith("=") else f, _cell_value(v))
        else:
            value = _cell_value(v)
        if value is not None:
            grid[block.row + i, block.col + j] = value


def _hashed_grid(spec: SheetSpec) -> dict[tuple[int, int], object]:
    """{(row, column): value} of the cells the tab's hash covers: every non-empty cell of the
    spec's blocks (a later block's cell replaces an earlier one's) except the own-hash cell
    and the digest column."""
    grid: dict[tuple[int, int], object] = {}
    for block in spec.blocks:
        _fill(grid, block)
    digest_col = _digest_col()
    for cell in OWN_HASH_CELLS:
        grid.pop(_position(cell), None)
    for position in [p for p in grid if p[1] == digest_col]:
        del grid[position]
    return grid


def recon_cells(spec: SheetSpec) -> dict[str, object]:
    """{cell ref: value} of the tab as hashed: every non-empty cell except the own-hash cell
    and the digest column."""
    return {layout.cell_name(row, col): v for (row, col), v in _hashed_grid(spec).items()}


RECON_VERSION_CELL = layout.cell_name(HEADER_FIRST_ROW + HEADER_LABELS.index("Version"), 2)


def recon_claim(cells: Mapping[str, object]) -> TabClaim:
    """What a tab read back says of itself: the version and own hash in its header."""
    version = cells.get(RECON_VERSION_CELL)
    own = cells.get(RECON_HASH_CELL)
    number = int(version) if isinstance(version, (int, float)) and float(version).is_integer() \
        else None
    return TabClaim(number, own if isinstance(own, str) else "")


def hashed_cells(cells: Mapping[str, object]) -> dict[str, object]:
    """Cells read back from a tab, as ``content_hash`` covers them: all but the own-hash cells
    (digest cells included), each as sopfin wrote it where a spreadsheet app's save changed
    only its spelling (``sopfin.guard.respelling.as_written``)."""
    return {ref: as_written(v) for ref, v in cells.items() if ref.upper() not in OWN_HASH_CELLS}


def finalize_recon(spec: SheetSpec) -> tuple[SheetSpec, str]:
    """Seal the tab: add the hidden digest column, hash the content (digests included, the
    own-hash cells excluded) and show the hash whole in ``RECON_HASH_CELL`` and by its first
    characters, linked to it, in ``RECON_HASH_SHORT_CELL``."""
    digests, recon_hash = seal(_hashed_grid(spec), layout.RECON_DIGEST_COLUMN)
    col = _digest_col()
    own = [_position(cell) for cell in OWN_HASH_CELLS]
    blocks = [b for b in spec.blocks
              if not any(_is_cell(b, r, c) for r, c in own) and not _is_digest(b, col)]
    for b in blocks:
        rows, cols = b.shape
        if b.col <= col < b.col + cols or any(
                b.row <= r < b.row + rows and b.col <= c < b.col + cols for r, c in own):
            raise ValueError(f"sheet {spec.name!r}: the block at "
                             f"{layout.cell_name(b.row, b.col)} covers the digest column "
                             f"{layout.RECON_DIGEST_COLUMN} or an own-hash cell "
                             f"({', '.join(OWN_HASH_CELLS)})")
    (full_row, full_col), (short_row, short_col) = own
    blocks.append(Block(full_row, full_col, np.array([[recon_hash]], dtype=object),
                        style=Style.TEXT))
    blocks.append(Block(short_row, short_col, np.array([[short_hash(recon_hash)]],
                                                       dtype=object), style=Style.LINK))
    links = [link for link in spec.links if link.cell != RECON_HASH_SHORT_CELL]
    links.append(hash_link(spec.name, short_row, short_col, full_col, recon_hash))
    for row, text in digests.items():
        blocks.append(Block(row, col, np.array([[text]], dtype=object), style=Style.NOTE))
    hidden = tuple(sorted({*spec.hidden_cols, col}))
    return replace(spec, blocks=blocks, hidden_cols=hidden, links=tuple(links)), recon_hash


def _position(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters):]), layout.column_index(letters)


def _is_cell(block: Block, row: int, col: int) -> bool:
    return (block.row, block.col) == (row, col) and np.asarray(
        block.values, dtype=object).shape == (1, 1)


def _is_digest(block: Block, col: int) -> bool:
    if block.col != col:
        return False
    values = np.asarray(block.values, dtype=object)
    return values.shape[1] == 1 and all(
        isinstance(v, str) and v.startswith(DIGEST_MARKER) for v in values.ravel())
