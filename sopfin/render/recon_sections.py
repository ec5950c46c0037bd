"""The Recon tab's sections, each laid out from the tab's cursor: the bridges with their
waterfall chart, price/volume/mix by family, the overrides register, the gap-closure actions,
the silent overrides found, and the tables by month (the latest estimate, the plan of
record) a band of months at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from sopfin.close.records import END, START, BridgeLine, Reconciliation
from sopfin.close.rowtable import MonthTable, RowTable
from sopfin.money import round_to_total, to_cents
from sopfin.render.recon_page import (
    axis_floor,
    chart_label,
)
from sopfin.render.recon_tab import (
    BLUE,
    BRIDGE_HEADERS,
    CHART_ANCHOR_COL,
    CHART_HEIGHT,
    CHART_WIDTH,
    GREEN,
    HELPER_COL,
    HELPER_HEADERS,
    PVM_COLUMNS,
    RED,
    SNAPSHOT_BAND,
    Tab,
    cell_value,
    money_cell,
    money_text,
)
from sopfin.sheetspec import (
    ChartSeries,
    ChartSpec,
    Style,
)


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


def bridge_section(tab: Tab, title: str, bridge: Sequence[BridgeLine],
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
        at = tab.row([line.label, money_cell(line.amount), line.owner, line.note],
                     [Style.WRAP, money_style, Style.WRAP, Style.WRAP])
        if helpers:
            tab.row([chart_label(line.label), *(money_cell(h) for h in helper)],
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


def chart_section(tab: Tab, title: str, labels: Sequence[str], first: int, last: int,
           helpers: Sequence[tuple[float | None, ...]], top: int, currency: str) -> ChartSpec:
    names = ("Base", "Increase", "Decrease", "Total")
    colors = (None, GREEN, RED, BLUE)
    series = [ChartSeries(name, tab.ref(HELPER_COL + 1 + k, first, last),
                          [float("nan") if v is None else float(to_cents(v))
                           for v in (h[k] for h in helpers)], color)
              for k, (name, color) in enumerate(zip(names, colors, strict=True))]
    anchor = (CHART_ANCHOR_COL, top - 1, CHART_ANCHOR_COL + CHART_WIDTH,
              top - 1 + CHART_HEIGHT)
    floor = axis_floor(waterfall_levels(helpers))
    marked = f"axis starts at {money_text(floor, currency)}, not zero" if floor else ""
    return ChartSpec(title, tab.ref(HELPER_COL, first, last), [chart_label(x) for x in labels],
                     series, anchor, value_axis_min=floor, value_axis_title=marked)


def waterfall_levels(helpers: Sequence[tuple[float | None, ...]]) -> list[float]:
    """The running totals the waterfall's bars start and end at."""
    out = []
    for base, up, down, total in helpers:
        if total is not None:
            out.append(total)
        elif base is not None or up is not None or down is not None:
            start = base or 0.0
            out += [start, start + (up or 0.0) + (down or 0.0)]
    return out


def frame_section(tab: Tab, title: str, table: RowTable | None, styles: Mapping[str, Style],
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
        tab.row([money_cell(v) if s in (Style.MONEY, Style.MONEY_WHOLE, Style.MONEY_WHOLE_BOLD)
                 else v for v, s in zip(record, kinds, strict=True)],
                [s or Style.TEXT for s in kinds])
    if not len(table):
        tab.none(empty)
    tab.skip()


def numeric_styles(table: RowTable | None) -> dict[str, Style]:
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


def pvm_section(tab: Tab, title: str, table: RowTable) -> None:
    """Per family, or per family and channel (with the two mix columns) when the Budget has
    channels."""
    columns = {c: table[c] for c in ("status", *PVM_COLUMNS) if c in table.columns}
    if len(table.index_names) > 1:
        title = title.replace("by family", "by family and channel")
    shown = RowTable(table.index_names, table.index, columns)
    frame_section(tab, title, shown, {c: Style.MONEY_WHOLE for c in PVM_COLUMNS})


def overrides_section(tab: Tab, rec: Reconciliation) -> None:
    tab.section("Overrides register", ("Id", "Scenario", "Family", "Month", "Measure",
                                       "Amount", "Owner", "Reason", "Approved by"))
    for o in rec.overrides:
        tab.row([o.id, o.scenario, o.family, o.month, o.measure, money_cell(o.amount), o.owner,
                 o.reason, o.approved_by],
                [Style.TEXT] * 5 + [Style.MONEY] + [Style.WRAP] * 3)
    if not rec.overrides:
        tab.none()
    tab.skip()


def actions_section(tab: Tab, rec: Reconciliation) -> None:
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
        tab.row([a.id, a.scenario, a.description, a.owner, money_cell(a.revenue_impact),
                 money_cell(a.margin_impact), a.probability, months, share,
                 money_cell(a.revenue_impact * a.probability * share),
                 money_cell(a.margin_impact * a.probability * share)],
                [Style.TEXT, Style.TEXT, Style.WRAP, Style.WRAP, money, money, Style.PERCENT,
                 Style.TEXT, Style.PERCENT, money, money])
    if not rec.actions:
        tab.none()
    tab.skip()
    tab.section("Gap after actions", ("Measure", "Gap", "Actions (expected)",
                                      "Gap after actions"))
    for label, gap, after in (("Revenue", rec.revenue_gap, rec.revenue_gap_after_actions),
                              ("Gross margin", rec.margin_gap, rec.margin_gap_after_actions)):
        tab.row([label, money_cell(gap), money_cell(after - gap), money_cell(after)],
                [Style.TEXT, money, money, Style.MONEY_WHOLE_BOLD])
    tab.skip()


def silent_section(tab: Tab, rec: Reconciliation) -> None:
    tab.section("Silent overrides found", ("Cell", "Kind", "Expected", "Found", "Message"))
    for s in rec.silent_overrides:
        shown = [money_cell(v) if isinstance(v, (int, float)) and not isinstance(v, bool)
                 else v for v in (s.expected, s.found)]
        tab.row([str(s.where), s.kind.value if s.kind else "", *shown, s.text],
                [Style.TEXT, Style.TEXT, Style.MONEY, Style.MONEY, Style.WRAP])
    if not rec.silent_overrides:
        tab.none()
    tab.skip()


def by_month_section(tab: Tab, title: str, table: MonthTable | None) -> None:
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
        if keys and not month_block(tab, keys, values):
            for key, row in zip(keys, values, strict=True):
                units = is_units(key)
                style = Style.UNITS if units else Style.MONEY_WHOLE
                cells = [cell_value(v) if units else money_cell(v) for v in row]
                tab.row([*key, *cells], [Style.TEXT] * len(key) + [style] * len(cells))
        if not keys:
            tab.none()
        tab.skip()


def is_units(key: Sequence[object]) -> bool:
    return "units" in (str(k).lower() for k in key)


def month_block(tab: Tab, keys: Sequence[Sequence[object]], values: np.ndarray) -> bool:
    """The rows of one band as one block, the cells as ``Tab.row`` would take them one row
    at a time (units as they are, money to the cent, what is not finite empty); False, and
    nothing added, when the keys differ in length or the figures are not float64."""
    width = len(keys[0])
    figures = np.asarray(values)
    if figures.dtype != np.float64 or figures.ndim != 2 or any(len(k) != width for k in keys):
        return False
    units = np.array([is_units(key) for key in keys], dtype=bool)
    shown = np.where(units[:, None], figures, np.asarray(to_cents(figures)))
    cells = shown.astype(object)
    cells[~np.isfinite(figures)] = None
    labels = np.empty((len(keys), width), dtype=object)
    labels[:, :] = [[cell_value(k) for k in key] for key in keys]
    styles = np.empty(cells.shape, dtype=object)
    styles[units] = Style.UNITS
    styles[~units] = Style.MONEY_WHOLE
    texts = np.empty(labels.shape, dtype=object)
    texts[...] = Style.TEXT
    tab.block(np.hstack([labels, cells]), np.hstack([texts, styles]))
    return True
