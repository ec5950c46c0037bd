"""The blank plan: the input sheets a new plan starts from, and the settings reference table.

Everything here is pure data: functions return ``SheetSpec``s (or Markdown text). The doors
to the disk live in ``sopfin/xlsx/template.py``:

    python -m sopfin.xlsx.template [PATH]     rebuild templates/plan.xlsx (or write PATH)
    python -m sopfin.xlsx.template --docs     regenerate the generated tables in docs/workbook.md
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sopfin import layout
from sopfin.docs_tables import marked_section
from sopfin.plan.settings import OPTIONS, Option, Settings
from sopfin.sheetspec import Block, SheetSpec, Style

CHANNEL = "Channel"
DEFAULT_SETTINGS = Settings()
INPUT_TAB_COLOR = "FF2F75B5"

_KEY_WIDTHS = {"Family": 14.0, "Name": 34.0, "ProductLine": 16.0, "UoM": 8.0, "Active": 9.0,
               "Scenario": 12.0, "Channel": 14.0, "Type": 12.0, "Measure": 10.0,
               "EffectiveFrom": 14.0}
_MONTH_WIDTH = 11.0
_VALUE_WIDTH = 12.0
_SETTINGS_WIDTHS = {1: 26.0, 2: 28.0, 3: 90.0}

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "templates" / "plan.xlsx"
DOCS_PATH = REPO_ROOT / "docs" / "workbook.md"
DOCS_OPEN = "<!-- SETTINGS-TABLE -->"
DOCS_CLOSE = "<!-- /SETTINGS-TABLE -->"


# ---------------------------------------------------------------------------- Settings sheet

def setting_cell_value(option: Option, settings: Settings) -> Any:
    """How one setting is written in the Value column so that ``parse_settings`` reads it back
    unchanged: months and names as text, flags as booleans, numbers as numbers, scenarios
    comma-separated, and an empty text as an empty cell."""
    value = getattr(settings, option.attr)
    if isinstance(value, tuple):
        return ", ".join(value)
    if isinstance(value, str) and not value:
        return None
    return value


def settings_sheet(settings: Settings = DEFAULT_SETTINGS) -> SheetSpec:
    """The ``Setting | Value | Help`` list, one row per option in ``OPTIONS``."""
    header = Block(layout.HEADER_ROW, 1, [list(layout.SETTINGS_HEADERS)], style=Style.INPUT_HEADER)
    rows = [[option.label, setting_cell_value(option, settings), option.help] for option in OPTIONS]
    body = Block(layout.FIRST_DATA_ROW, 1, rows, style=Style.TEXT)
    return SheetSpec(layout.SETTINGS, blocks=(header, body), owned=False,
                     col_widths=dict(_SETTINGS_WIDTHS), freeze=(1, 0), tab_color=INPUT_TAB_COLOR)


# ------------------------------------------------------------------------------ input tables

# Sheets whose Channel column the template writes when the plan sells through channels;
# Budget and Actuals stay by family unless the user adds a Channel column.
CHANNEL_SHEETS = (layout.DEMAND, layout.PRICES)


def key_headers(sheet: layout.InputSheet, *, channels: bool = True) -> tuple[str, ...]:
    """Key columns as the template writes them: required keys, then the optional keys in use
    (``Channel`` only when the plan sells through channels, on ``CHANNEL_SHEETS``)."""
    optional = tuple(k for k in sheet.optional_keys
                     if k != CHANNEL or (channels and sheet.name in CHANNEL_SHEETS))
    return sheet.keys + optional


def value_headers(sheet: layout.InputSheet, months: Sequence[str]) -> tuple[str, ...]:
    """Value columns: one per month for monthly tables, else the sheet's fixed values and
    then its optional ones."""
    return tuple(months) if sheet.monthly else sheet.values + sheet.optional_values


def input_sheet(sheet: layout.InputSheet, months: Sequence[str], *,
                channels: bool = True) -> SheetSpec:
    """One empty input table: its header row, frozen (with the key columns on monthly
    tables), and column widths."""
    keys = key_headers(sheet, channels=channels)
    values = value_headers(sheet, months)
    trailing: tuple[str, ...] = ()
    if sheet.optional_after_values:  # e.g. Actions: Start and End after the impacts
        trailing, keys = keys[len(sheet.keys):], sheet.keys
    header = Block(layout.HEADER_ROW, 1, [list(keys + values + trailing)],
                   style=Style.INPUT_HEADER)
    widths = {i: _KEY_WIDTHS.get(name, 14.0) for i, name in enumerate(keys, start=1)}
    value_width = _MONTH_WIDTH if sheet.monthly else _VALUE_WIDTH
    widths.update({i: value_width for i in range(len(keys) + 1, len(keys) + len(values) + 1)})
    first = len(keys) + len(values) + 1
    widths.update({i: _VALUE_WIDTH for i in range(first, first + len(trailing))})
    freeze = (1, len(keys)) if sheet.monthly else (1, 0)  # keys stay in view across months
    return SheetSpec(sheet.name, blocks=(header,), owned=False, col_widths=widths,
                     freeze=freeze, tab_color=INPUT_TAB_COLOR)


def input_sheets(settings: Settings = DEFAULT_SETTINGS, *,
                 channels: bool = True) -> list[SheetSpec]:
    """Settings plus every input table of ``layout.INPUT_SHEETS``, headers only."""
    months = settings.months
    return [settings_sheet(settings)] + [
        input_sheet(sheet, months, channels=channels) for sheet in layout.INPUT_SHEETS]


def finance_sheets(settings: Settings = DEFAULT_SETTINGS, *,
                   channels: bool = True) -> list[SheetSpec]:
    """Overrides, Actions, Actuals, Forecast and ActualCosts (``layout.FINANCE_SHEETS``),
    headers only."""
    return [input_sheet(sheet, settings.months, channels=channels)
            for sheet in layout.FINANCE_SHEETS]


def plan_sheets(settings: Settings = DEFAULT_SETTINGS, *,
                channels: bool = True) -> list[SheetSpec]:
    """Every sheet a plan starts with (``layout.PLAN_SHEET_NAMES``): the input sheets, then
    the finance sheets, so the monthly close needs no sheet made by hand."""
    return input_sheets(settings, channels=channels) + finance_sheets(settings,
                                                                      channels=channels)


def with_rows(spec: SheetSpec, *blocks: Block) -> SheetSpec:
    """An input sheet spec with data blocks added below its header."""
    return dataclasses.replace(spec, blocks=tuple(spec.blocks) + blocks)


def plan_template_sheets() -> list[SheetSpec]:
    """What ``templates/plan.xlsx`` holds: the default settings, empty input and finance
    tables."""
    return plan_sheets(DEFAULT_SETTINGS, channels=True)


# ------------------------------------------------------------------------ settings reference

def _cell_text(text: str) -> str:
    return text.replace("|", "\\|")


def _default_text(option: Option) -> str:
    if isinstance(option.default, float) and option.default.is_integer():
        return str(int(option.default))
    return option.default_text()


def settings_table_markdown() -> str:
    """The ``Setting | Default | Meaning`` table of every option, as Markdown."""
    lines = ["| Setting | Default | Meaning |", "|---|---|---|"]
    for option in OPTIONS:
        default = _default_text(option)
        default_cell = f"`{_cell_text(default)}`" if default else "(blank)"
        label, meaning = _cell_text(option.label), _cell_text(option.help)
        lines.append(f"| `{label}` | {default_cell} | {meaning} |")
    return "\n".join(lines)


def settings_docs_section() -> str:
    """The text that lives between the settings markers in docs/workbook.md."""
    return "\n".join([
        "## Settings",
        "",
        "The `Settings` sheet is a list of `Setting | Value | Help` rows starting in `A1`.",
        "Labels are matched ignoring case; a missing row or a blank value takes the default; a",
        "value that cannot be read is an error at its cell and falls back to the default.",
        "This table is generated from `sopfin.plan.settings.OPTIONS` by",
        "`python -m sopfin.xlsx.template --docs`.",
        "",
        settings_table_markdown(),
    ])


def replace_settings_section(text: str) -> str:
    """``text`` with the generated section placed between the settings markers.

    A document that has only the opening marker gets the closing marker added after the
    section. A document without the opening marker is a fault in the docs, not in a plan.
    """
    start = text.find(DOCS_OPEN)
    if start < 0:
        raise ValueError(f"the docs have no {DOCS_OPEN} marker")
    body_start = start + len(DOCS_OPEN)
    end = text.find(DOCS_CLOSE, body_start)
    tail = text[end + len(DOCS_CLOSE):] if end >= 0 else text[body_start:]
    return f"{text[:body_start]}\n\n{settings_docs_section()}\n\n{DOCS_CLOSE}{tail}"


def documented_settings_section(text: str) -> str:
    """The section currently between the markers (empty when the closing marker is missing)."""
    return marked_section(text, DOCS_OPEN, DOCS_CLOSE)
