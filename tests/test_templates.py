"""The blank plan: input sheets with the layout's headers and the horizon's months, a Settings
sheet that reads back as the settings it was written from, and a committed template that
matches the code."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from sopfin import layout
from sopfin.plan.blank_plan import (
    TEMPLATE_PATH,
    input_sheets,
    plan_template_sheets,
    settings_sheet,
)
from sopfin.plan.read import parse_plan
from sopfin.plan.settings import OPTIONS, Settings, parse_settings
from sopfin.sheetspec import SheetSpec, Style

REPO = Path(__file__).resolve().parents[1]
COMMITTED = REPO / "templates" / "plan.xlsx"

NON_DEFAULT = Settings(company="Acme Fluid Systems, Inc.", currency="EUR",
                       first_period="2026-10", horizon=15, current_cycle="2026-09",
                       scenarios=("best case", "plan", "worst case"),
                       shortage_policy="backorder", constrained=False, materiality=250.5,
                       fiscal_year_start=10)


@dataclass(frozen=True)
class Grid:
    """A sheet as the reader hands it over: rows of cell values from A1."""

    name: str
    rows: list[list[object]]


def grid(spec: SheetSpec) -> Grid:
    """Lay a spec's blocks out as a row grid (None = empty cell), as a reader would see it."""
    cells: dict[tuple[int, int], object] = {}
    for block in spec.blocks:
        values = block.values.tolist() if isinstance(block.values, np.ndarray) else block.values
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                assert (block.row + i, block.col + j) not in cells, "blocks overlap"
                cells[(block.row + i, block.col + j)] = value
    height = max(r for r, _ in cells)
    width = max(c for _, c in cells)
    return Grid(spec.name, [[cells.get((r, c)) for c in range(1, width + 1)]
                            for r in range(1, height + 1)])


def expected_headers(sheet: layout.InputSheet, months: tuple[str, ...],
                     channels: bool) -> list[str]:
    # Budget and Actuals may have a Channel column, but the template keeps them by family
    keys = list(sheet.keys) + [
        k for k in sheet.optional_keys
        if k != "Channel" or (channels and sheet.name in ("Demand", "Prices"))]
    return keys + (list(months) if sheet.monthly else [*sheet.values, *sheet.optional_values])


# ------------------------------------------------------------------------------- headers

@pytest.mark.parametrize("settings", [Settings(), NON_DEFAULT], ids=["default", "custom"])
@pytest.mark.parametrize("channels", [True, False], ids=["channels", "no-channels"])
def test_every_input_sheet_has_the_layout_headers(settings: Settings, channels: bool):
    specs = input_sheets(settings, channels=channels)
    assert [s.name for s in specs] == list(layout.INPUT_SHEET_NAMES)
    by_name = {s.name: s for s in specs}
    for sheet in layout.INPUT_SHEETS:
        spec = by_name[sheet.name]
        assert not spec.owned, f"{sheet.name} must be handed over to the user"
        assert len(spec.blocks) == 1, f"{sheet.name} must hold only its header row"
        header = spec.blocks[0]
        assert (header.row, header.col) == (1, 1)
        assert header.style is Style.INPUT_HEADER
        assert list(header.values[0]) == expected_headers(sheet, settings.months, channels)
        n_keys = len(header.values[0]) - (len(settings.months) if sheet.monthly
                                          else len(sheet.values))
        assert spec.freeze == ((1, n_keys) if sheet.monthly else (1, 0))
        assert set(spec.col_widths) == set(range(1, len(header.values[0]) + 1))


def test_monthly_headers_are_the_horizon_as_text():
    spec = {s.name: s for s in input_sheets(NON_DEFAULT)}[layout.DEMAND]
    months = spec.blocks[0].values[0][3:]
    assert months[0] == "2026-10" and months[3] == "2027-01" and months[-1] == "2027-12"
    assert len(months) == 15
    assert all(isinstance(m, str) for m in months)


def test_the_settings_sheet_lists_every_option_with_its_help():
    spec = settings_sheet()
    rows = grid(spec).rows
    assert rows[0] == list(layout.SETTINGS_HEADERS)
    assert [r[0] for r in rows[1:]] == [o.label for o in OPTIONS]
    assert [r[2] for r in rows[1:]] == [o.help for o in OPTIONS]
    assert not spec.owned


def test_settings_values_are_typed_as_a_planner_would_type_them():
    values = {r[0]: r[1] for r in grid(settings_sheet(NON_DEFAULT)).rows[1:]}
    assert values["First period"] == "2026-10"  # text, not a date
    assert values["Constrained by supply"] is False  # a boolean cell, not the text FALSE
    assert values["Scenarios"] == "best case, plan, worst case"
    assert values["Horizon (months)"] == 15
    assert values["Materiality threshold"] == 250.5
    assert grid(settings_sheet(Settings())).rows[1][1] is None  # blank company: empty cell


# --------------------------------------------------------------------- settings round trip

@pytest.mark.parametrize("settings", [Settings(), NON_DEFAULT], ids=["default", "custom"])
def test_settings_sheet_round_trips_through_parse_settings(settings: Settings):
    parsed, issues = parse_settings(grid(settings_sheet(settings)).rows)
    assert issues == []
    assert parsed == settings


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz -&.", min_size=1, max_size=12).map(
    str.strip).filter(bool)


@st.composite
def any_settings(draw: st.DrawFn) -> Settings:
    def month() -> str:
        return f"{draw(st.integers(2000, 2099)):04d}-{draw(st.integers(1, 12)):02d}"

    scenarios = draw(st.lists(words.filter(lambda w: "," not in w), min_size=1, max_size=4,
                              unique_by=str.lower))
    return Settings(
        company=draw(st.one_of(st.just(""), words)),
        currency=draw(st.sampled_from(["USD", "EUR", "GBP", "JPY", "CHF"])),
        first_period=month(), horizon=draw(st.integers(1, 240)), current_cycle=month(),
        scenarios=tuple(scenarios), shortage_policy=draw(st.sampled_from(["lost", "backorder"])),
        constrained=draw(st.booleans()),
        materiality=draw(st.floats(0, 1e9, allow_nan=False, allow_infinity=False)),
        fiscal_year_start=draw(st.integers(1, 12)))


@hyp_settings(max_examples=60, deadline=None)
@given(any_settings())
def test_any_settings_round_trip(settings: Settings):
    parsed, issues = parse_settings(grid(settings_sheet(settings)).rows)
    assert issues == []
    assert parsed == settings


# ------------------------------------------------------------------- the blank plan parses

@pytest.mark.parametrize("channels", [True, False], ids=["channels", "no-channels"])
def test_the_blank_input_sheets_parse_as_an_empty_plan(channels: bool):
    raw = {s.name: grid(s) for s in input_sheets(NON_DEFAULT, channels=channels)}
    plan, issues = parse_plan(raw)
    errors = [i.format() for i in issues if i.severity == "error"]
    assert errors == []
    assert plan is not None
    assert plan.settings == NON_DEFAULT
    assert plan.months == NON_DEFAULT.months
    assert plan.has_channel is channels
    assert len(plan.families) == len(plan.demand) == len(plan.budget) == 0


def test_the_template_holds_the_default_blank_plan():
    specs = plan_template_sheets()
    assert [s.name for s in specs] == list(layout.PLAN_SHEET_NAMES)
    assert specs[:len(layout.INPUT_SHEET_NAMES)] == input_sheets(Settings(), channels=True)
    assert TEMPLATE_PATH.resolve() == COMMITTED.resolve()


# --------------------------------------------------------------------- the committed file

def _writer():
    return pytest.importorskip("sopfin.xlsx.writer", reason="the package writer is not there yet")


def test_committed_template_is_a_fresh_build(tmp_path: Path):
    xlsx = _writer()
    assert COMMITTED.exists(), (
        "templates/plan.xlsx is missing; run `python -m sopfin.xlsx.template`")
    fresh = tmp_path / "plan.xlsx"
    xlsx.create_workbook(fresh, plan_template_sheets())
    assert fresh.read_bytes() == COMMITTED.read_bytes(), (
        "templates/plan.xlsx is out of date; run `python -m sopfin.xlsx.template`")


def test_committed_template_reads_back_as_the_default_blank_plan():
    _writer()
    from sopfin.xlsx.read import read_raw_sheets, workbook_sheet_names

    assert workbook_sheet_names(COMMITTED) == list(layout.PLAN_SHEET_NAMES)
    raw = read_raw_sheets(COMMITTED, layout.PLAN_SHEET_NAMES)
    for spec in plan_template_sheets():
        assert raw[spec.name].rows == grid(spec).rows, spec.name
    plan, issues = parse_plan(raw, source=COMMITTED.name)
    assert [i.format() for i in issues if i.severity == "error"] == []
    assert plan is not None and plan.settings == Settings()


def test_settings_written_to_a_file_read_back_identically(tmp_path: Path):
    xlsx = _writer()
    from sopfin.xlsx.read import read_raw_sheets

    path = tmp_path / "custom.xlsx"
    xlsx.create_workbook(path, input_sheets(NON_DEFAULT, channels=False))
    raw = read_raw_sheets(path, [layout.SETTINGS])[layout.SETTINGS]
    parsed, issues = parse_settings(raw.rows)
    assert issues == []
    assert parsed == NON_DEFAULT


def test_the_command_line_builds_the_same_bytes(tmp_path: Path):
    xlsx = _writer()
    target = tmp_path / "plan.xlsx"
    run = subprocess.run([sys.executable, "-m", "sopfin.xlsx.template", str(target)], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    again = tmp_path / "again.xlsx"
    xlsx.create_workbook(again, plan_template_sheets())
    assert target.read_bytes() == again.read_bytes()


def test_build_template_replaces_an_existing_file(tmp_path: Path):
    _writer()
    from sopfin.xlsx.template import build_template

    target = tmp_path / "plan.xlsx"
    target.write_bytes(b"an old, broken template")
    build_template(target)
    assert target.read_bytes() == COMMITTED.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == ["plan.xlsx"]
