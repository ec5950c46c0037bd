"""``sopfin export``: the star schema, loaded with DuckDB, gives back the Summary sheet's
figures (as the workbook caches them) and each published version's headline (as its frozen
Recon tab states it), to the cent, from Parquet and from CSV alike; and a bad target, a
missing or open workbook, plan errors or a tampered version write nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import openpyxl
import pytest

from hostile_files import part_of, rewrite
from lo_oracle import recalculate
from sopfin.cli import main
from sopfin.export.files import MARKER
from sopfin.export.schema import TABLES

CENT = 0.005
SUMMARY_MEASURES = {"Revenue": "revenue", "COGS": "cogs", "Gross margin": "gross_margin"}
PERIOD = re.compile(r"^(\d{4}-\d{2}|FY\d{4}( Q[1-4])?)$")


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def closed_demo(tmp_path_factory) -> Path:
    """The demo closed as v001 and approved, then a price and the fiscal year start (April)
    edited (as another program would save them) and dollarized again, then closed as v002:
    the live plan and v002 differ from v001, whose tab keeps the old figures."""
    folder = tmp_path_factory.mktemp("export")
    first = folder / "first.xlsx"
    assert main(["demo", str(first), "-q"]) == 0
    assert main(["close", str(first), "-q", "--author", "A. Planner"]) == 0
    assert main(["approve", str(first), "--version", "1", "--by", "R. Alvarez"]) == 0
    path = _edited(first, folder, {
        "Prices": (rb'(<c r="E2"[^>]*>)<v>[^<]*</v>', rb"\g<1><v>1608.06</v>"),  # +25 %
        "Settings": (rb'(<c r="B11"[^>]*>)<v>1</v>', rb"\g<1><v>4</v>"),  # FY from April
    })
    first.unlink()
    assert main(["dollarize", str(path), "-q"]) == 0
    assert main(["close", str(path), "-q", "--author", "B. Planner"]) == 0
    return path


@pytest.fixture(scope="module", params=["parquet", "csv"])
def exported(request, closed_demo: Path) -> tuple[Path, str]:
    fmt = request.param
    target = closed_demo.parent / f"bi-{fmt}"
    assert main(["export", str(closed_demo), "--to", str(target), "--format", fmt]) == 0
    return target, fmt


def _load(target: Path, fmt: str) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per exported file, as a BI tool would load them."""
    con = duckdb.connect()
    for table in TABLES:
        path = str(target / f"{table}.{fmt}")
        reader = f"read_parquet('{path}')" if fmt == "parquet" else f"read_csv('{path}')"
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM {reader}")
    return con


def _summary_rows(path: Path) -> dict[tuple[str, str, str, str], float]:
    """{(scenario, measure, basis, period): cached value} from the Summary sheet, for every
    month, fiscal quarter and fiscal year column."""
    sheet = openpyxl.load_workbook(path, data_only=True, read_only=True)["Summary"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(r for r in rows if r and r[0] == "Scenario")
    months = {k: m for k, m in enumerate(header) if isinstance(m, str) and PERIOD.match(m)}
    out = {}
    for row in rows:
        if row and row[1] in SUMMARY_MEASURES and row[2] in ("Plan", "Budget"):
            for k, month in months.items():
                out[(row[0], SUMMARY_MEASURES[row[1]], row[2], month)] = float(row[k])
    return out


def test_the_export_gives_back_the_summary_sheet_by_scenario_and_period(exported, closed_demo):
    """Months from the fact table; fiscal quarters and years through dim_calendar (the
    fiscal year starts in April here)."""
    con = _load(*exported)
    got = {}
    for period in ("month_label", "fiscal_quarter_label", "fiscal_year_label"):
        got.update({(s, m, p): v for s, m, p, v in con.execute(
            f"SELECT scenario, measure, c.{period}, sum(value) FROM fact_plan "
            f"JOIN dim_calendar c USING (month) WHERE version = 'live' GROUP BY ALL").fetchall()})
    summary = _summary_rows(closed_demo)
    periods = {key[3] for key in summary}
    assert len(periods) == 24 + 8 + 3  # months, FY2027 Q4 .. FY2029 Q3, FY2027 .. FY2029
    assert len(summary) == 3 * 3 * 2 * len(periods)  # scenarios x measures x plan/budget
    for (scenario, measure, basis, period), cached in summary.items():
        key = (scenario if basis == "Plan" else "budget", measure, period)
        assert got[key] == pytest.approx(cached, abs=CENT), (scenario, measure, basis, period)


def _tab_lines(path: Path, version: int) -> dict[str, float]:
    """{line label: amount} of the bridges on a published tab, read as any reader would."""
    sheet = openpyxl.load_workbook(path, data_only=True, read_only=True)[f"Recon v{version:03d}"]
    return {row[0]: float(row[1]) for row in sheet.iter_rows(max_col=2, values_only=True)
            if isinstance(row[0], str) and isinstance(row[1], int | float)}


@pytest.mark.parametrize("version", [1, 2])
def test_each_version_gives_back_its_tabs_headline_to_the_cent(exported, closed_demo, version):
    con = _load(*exported)
    key = f"v{version:03d}"
    lines = _tab_lines(closed_demo, version)
    budget, plan = lines["Budget revenue"], lines["Plan revenue"]
    scenario, window = con.execute("SELECT scenario, \"window\" FROM dim_version "
                                   "WHERE version = ?", [key]).fetchone()
    assert (scenario, window) == ("base", "Horizon")
    totals = dict(con.execute("SELECT measure, value FROM fact_version_totals WHERE version = ? "
                              "AND scenario = ?", [key, scenario]).fetchall())
    assert totals["revenue"] == pytest.approx(plan, abs=CENT)
    assert totals["gross_margin"] == pytest.approx(lines["Plan gross margin"], abs=CENT)
    # the plan of record's cells are cents each: their sum is the total within half a cent
    # of rounding per cell
    revenue, margin, cells = con.execute(
        "SELECT sum(value) FILTER (measure = 'revenue'), sum(value) FILTER (measure = "
        "'gross_margin'), count(*) FILTER (measure = 'revenue') FROM fact_plan "
        "WHERE version = ? AND scenario = ?", [key, scenario]).fetchone()
    assert revenue == pytest.approx(plan, abs=CENT * cells)
    assert margin == pytest.approx(lines["Plan gross margin"], abs=2 * CENT * cells)
    assert totals["budget_revenue"] == pytest.approx(budget, abs=CENT)
    assert totals["revenue_gap"] == pytest.approx(plan - budget, abs=CENT)
    start, end, steps, count = con.execute(
        "SELECT sum(amount) FILTER (line_type = 'start'), sum(amount) FILTER (line_type = "
        "'end'), sum(amount) FILTER (line_type = 'step'), count(*) FROM fact_bridge "
        "WHERE version = ? AND bridge = 'revenue'", [key]).fetchone()
    assert (start, end) == (pytest.approx(budget, abs=CENT), pytest.approx(plan, abs=CENT))
    assert steps == pytest.approx(end - start, abs=CENT * count)  # each line in cents


def test_a_version_keeps_its_figures_after_the_plan_moved(exported):
    con = _load(*exported)
    by_version = dict(con.execute(
        "SELECT version, sum(value) FROM fact_plan WHERE scenario = 'base' AND measure = "
        "'revenue' GROUP BY version").fetchall())
    assert by_version["v002"] == pytest.approx(by_version["live"], abs=1.0)  # cents per cell
    assert abs(by_version["v001"] - by_version["v002"]) > 1000.0  # the price edit moved it
    status = dict(con.execute("SELECT version, status FROM dim_version").fetchall())
    assert status == {"live": "live", "v001": "approved", "v002": "draft"}
    record = con.execute("SELECT version FROM dim_version WHERE is_plan_of_record").fetchall()
    assert record == [("v001",)]
    authors = dict(con.execute("SELECT version, author FROM dim_version").fetchall())
    assert (authors["v001"], authors["v002"]) == ("A. Planner", "B. Planner")


def test_every_fact_key_is_in_its_dimension(exported):
    con = _load(*exported)
    for column, dim in (("version", "dim_version"), ("scenario", "dim_scenario"),
                        ("family", "dim_family"), ("channel", "dim_channel"),
                        ("month", "dim_calendar"), ("measure", "dim_measure")):
        orphans = con.execute(f"SELECT count(*) FROM fact_plan f ANTI JOIN {dim} d "
                              f"USING ({column})").fetchone()[0]
        assert orphans == 0, f"fact_plan.{column} values missing from {dim}"
        keys = con.execute(f"SELECT count(*), count(DISTINCT {column}) FROM {dim}").fetchone()
        assert keys[0] == keys[1], f"{dim}.{column} is not a key"


def test_the_files_carry_the_schemas_types(exported):
    con = _load(*exported)
    for table, columns in TABLES.items():
        described = con.execute(f"DESCRIBE {table}").fetchall()
        names = [row[0] for row in described]
        assert names == [c.name for c in columns], table
        if exported[1] == "parquet":
            assert [row[1] for row in described] == [c.sql_type for c in columns], table


def test_the_calendar_follows_the_fiscal_year_start(exported):
    con = _load(*exported)
    rows = con.execute("SELECT month_label, fiscal_year, fiscal_quarter_label FROM dim_calendar "
                       "WHERE month_label IN ('2027-03', '2027-04', '2028-01')").fetchall()
    assert sorted(rows) == [("2027-03", 2027, "FY2027 Q4"), ("2027-04", 2028, "FY2028 Q1"),
                            ("2028-01", 2028, "FY2028 Q4")]


def test_docs_name_every_table_and_column():
    text = (Path(__file__).resolve().parents[1] / "docs" / "export.md").read_text("utf-8")
    for table, columns in TABLES.items():
        assert f"`{table}`" in text, table
        section = text.split(f"`{table}`", 1)[1]
        for column in columns:
            assert f"`{column.name}`" in section, f"{table}.{column.name}"


# --- refusals: one clear line, the right exit code, nothing written ----------------------
def _copy(closed_demo: Path, tmp_path: Path) -> Path:
    path = tmp_path / "plan.xlsx"
    shutil.copy2(closed_demo, path)
    return path


def _refused(capsys, tmp_path: Path, argv: list[str], code: int) -> str:
    before = sorted(p.name for p in tmp_path.iterdir())
    got, out, err = _run(capsys, *argv)
    assert got == code, (out, err)
    assert sorted(p.name for p in tmp_path.iterdir()) == before, "something was written"
    assert "Traceback" not in out + err
    return out + err


def test_a_missing_workbook_is_refused(capsys, tmp_path):
    message = _refused(capsys, tmp_path, ["export", str(tmp_path / "nope.xlsx"), "--to",
                                          str(tmp_path / "bi")], 2)
    assert message.count("\n") == 1 and "nope.xlsx" in message and "no such file" in message


@pytest.mark.parametrize("content", [b"", b"name,amount\n", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
                                     + bytes(504)], ids=["empty", "csv", "legacy xls"])
def test_a_file_that_is_not_a_workbook_is_refused(capsys, tmp_path, content):
    path = tmp_path / "plan.xlsx"
    path.write_bytes(content)
    message = _refused(capsys, tmp_path, ["export", str(path), "--to", str(tmp_path / "bi")], 2)
    assert message.count("\n") == 1 and "plan.xlsx" in message


def test_a_workbook_open_in_a_spreadsheet_app_is_refused(capsys, tmp_path, closed_demo):
    path = _copy(closed_demo, tmp_path)
    (tmp_path / ".~lock.plan.xlsx#").write_text("someone,host,2026\n")
    message = _refused(capsys, tmp_path, ["export", str(path), "--to", str(tmp_path / "bi")], 2)
    assert message.count("\n") == 1 and "open in Excel or LibreOffice" in message


HOLDER = """
import sys, time
from sopfin.xlsx.lock import exclusive
with exclusive(sys.argv[1]):
    print("held", flush=True)
    time.sleep(30)
"""


def test_a_workbook_another_sopfin_run_is_writing_is_refused(capsys, tmp_path, closed_demo,
                                                            monkeypatch):
    path = _copy(closed_demo, tmp_path)
    monkeypatch.setenv("SOPFIN_LOCK_WAIT", "0")
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        message = _refused(capsys, tmp_path, ["export", str(path), "--to",
                                              str(tmp_path / "bi")], 2)
    finally:
        holder.terminate()
        holder.wait(timeout=30)
    assert message.count("\n") == 1 and "another sopfin run is writing it" in message


@pytest.mark.parametrize("what", ["folder of files", "file", "export with a file added"])
def test_a_target_that_is_not_a_previous_export_is_left_alone(capsys, tmp_path, closed_demo,
                                                              what):
    path = _copy(closed_demo, tmp_path)
    target = tmp_path / "bi"
    if what == "file":
        target.write_text("my notes\n")
    else:
        if what == "export with a file added":
            assert main(["export", str(path), "--to", str(target), "--format", "csv"]) == 0
            capsys.readouterr()
        target.mkdir(exist_ok=True)
        (target / "notes.txt").write_text("my notes\n")
    held = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    message = _refused(capsys, tmp_path, ["export", str(path), "--to", str(target)], 2)
    assert message.count("\n") == 1 and str(target) in message
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == held


def test_a_previous_export_is_replaced_whole(capsys, tmp_path, closed_demo):
    path = _copy(closed_demo, tmp_path)
    target = tmp_path / "bi"
    assert main(["export", str(path), "--to", str(target), "--format", "csv"]) == 0
    assert main(["export", str(path), "--to", str(target), "--format", "parquet"]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in target.iterdir()) == sorted(
        [MARKER, *(f"{t}.parquet" for t in TABLES)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bi", "plan.xlsx"]


def _edited(closed_demo: Path, tmp_path: Path, edits: dict[str, tuple[bytes, bytes]]) -> Path:
    """A copy of the workbook with edits in sheets' XML ({sheet: (pattern, replacement)}),
    as another program could make them."""
    path = tmp_path / "plan.xlsx"
    parts = {part_of(closed_demo, sheet): edit for sheet, edit in edits.items()}

    def change(name: str, data: bytes) -> bytes:
        if name not in parts:
            return data
        edited = re.sub(*parts[name], data, count=1)
        assert edited != data, f"nothing to edit in {name}"
        return edited

    rewrite(closed_demo, path, change)
    return path


def test_plan_errors_stop_the_export_with_their_cells(capsys, tmp_path, closed_demo):
    path = _edited(closed_demo, tmp_path, {"Demand": (rb'(<c r="D2"[^>]*?)><v>[^<]*</v>',
                                                      rb'\1 t="inlineStr"><is><t>lots</t></is>')})
    message = _refused(capsys, tmp_path, ["export", str(path), "--to", str(tmp_path / "bi")], 1)
    assert "not exported" in message and "Demand!D2" in message


def test_a_tampered_version_is_not_exported_as_a_version_of_record(capsys, tmp_path,
                                                                   closed_demo):
    path = _edited(closed_demo, tmp_path, {"Recon v001": (rb">A\. Planner<", b">Someone Else<")})
    message = _refused(capsys, tmp_path, ["export", str(path), "--to", str(tmp_path / "bi")], 1)
    assert "not exported" in message and "Recon v001" in message


@pytest.mark.libreoffice
def test_a_workbook_saved_by_a_spreadsheet_app_exports_the_same_tables(capsys, tmp_path,
                                                                         closed_demo, soffice):
    """LibreOffice rewrites every sheet (shared strings, its own number text); the versions
    are still read back from their tabs and every table comes out the same."""
    saved = recalculate(closed_demo, tmp_path / "lo", soffice)
    for source, target in ((closed_demo, tmp_path / "before"), (saved, tmp_path / "after")):
        assert main(["export", str(source), "--to", str(target)]) == 0, capsys.readouterr()
    for table, columns in TABLES.items():
        keys = ", ".join(f'"{c.name}"' for c in columns)
        before, after = (duckdb.sql(f"SELECT {keys} FROM '{folder}/{table}.parquet' "
                                    f"ORDER BY ALL").fetchall()
                         for folder in (tmp_path / "before", tmp_path / "after"))
        assert len(before) == len(after) and before, table
        for a, b in zip(before, after, strict=True):
            assert a == pytest.approx(b, abs=CENT) if table.startswith("fact") else a == b, table
