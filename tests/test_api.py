"""``sopfin serve``: the real server (uvicorn on a free loopback port) over a folder holding
the closed demo; every endpoint called over HTTP, figures compared with the CLI's."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from lo_oracle import read_values, recalculate
from plan_tables import base as small_plan
from plan_tables import write_xlsx
from sopfin import layout
from sopfin.cli import main
from sopfin.xlsx.read import read_raw_sheets

WRITE = "write-token-0123456789"
READ = "read-token-0123456789ab"
API = "/api/v1/workbooks"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    root = tmp_path_factory.mktemp("books")
    plan = root / "plan.xlsx"
    assert main(["new", "--demo", str(plan)]) == 0
    assert main(["close", str(plan), "--author", "fpa"]) == 0
    outside = tmp_path_factory.mktemp("outside") / "secret.xlsx"
    shutil.copyfile(plan, outside)
    (root / "link.xlsx").symlink_to(outside)
    port = free_port()
    env = dict(os.environ, SOPFIN_API_TOKENS=f"erp-bot:{WRITE}:read+write,bi:{READ}:read")
    proc = subprocess.Popen([sys.executable, "-m", "sopfin.cli", "serve", "--root", str(root),
                             "--port", str(port), "--max-body", "200000"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded machine starts Python slowly
    while True:
        try:
            httpx.get(base + "/docs", timeout=1)
            break
        except httpx.TransportError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the server did not start: {proc.stdout.read().decode()}")
            time.sleep(0.2)
    yield base, plan
    proc.terminate()
    proc.wait(10)


def get(base: str, path: str, token: str | None = READ, **params) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(base + path, headers=headers, params=params, timeout=60)


def post(base: str, path: str, body: object, token: str | None = WRITE, **params
         ) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(base + path, json=body, headers=headers, params=params, timeout=60)


def test_versions_verify_and_openapi(served):
    base, plan = served
    assert get(base, API).json() == {"workbooks": ["link.xlsx", "plan.xlsx"]}
    [v1] = get(base, f"{API}/plan.xlsx/versions").json()["versions"]
    assert (v1["version"], v1["status"], v1["author"]) == (1, "draft", "fpa")
    detail = get(base, f"{API}/plan.xlsx/versions/1").json()
    assert detail["totals"]["revenue"] > 0 and len(detail["months"]) == 24
    assert get(base, f"{API}/plan.xlsx/verify").json()["ok"] is True
    assert "/api/v1/workbooks/{name}/reports/{period}" in httpx.get(
        base + "/openapi.json").json()["paths"]


def test_live_report_equals_the_clis_figures(served, capsys):
    base, plan = served
    body = get(base, f"{API}/plan.xlsx/reports/Horizon", live="true").json()
    from sopfin.api import dollarize, read_plan
    summary = dollarize(read_plan(plan)).summary
    years = summary[summary["period_type"] == "year"]
    for scenario, figures in body["scenarios"].items():
        for measure in ("revenue", "cogs", "gross_margin", "units"):
            expected = years[(years["scenario"] == scenario) & (years["measure"] == measure)]
            assert figures[measure]["plan"] == pytest.approx(expected["plan"].sum(), abs=0.01)
            assert figures[measure]["budget"] == pytest.approx(expected["budget"].sum(),
                                                               abs=0.01)
    quarter = get(base, f"{API}/plan.xlsx/reports/FY2027 Q1", live="true").json()
    assert quarter["months"] == ["2027-01", "2027-02", "2027-03"]
    _actuals_are_the_pnl_sheets(plan, quarter)
    later = get(base, f"{API}/plan.xlsx/reports/FY2028", live="true").json()
    assert {f["revenue"]["actual"] for f in later["scenarios"].values()} == {None}
    assert get(base, f"{API}/plan.xlsx/reports/Q5", live="true").status_code == 400


def _actuals_are_the_pnl_sheets(plan, report) -> None:
    """The report's actuals are the P&L sheet's Actual rows over the period (cached)."""
    from openpyxl import load_workbook

    sheet = load_workbook(plan, data_only=True, read_only=True)[layout.PNL]
    grid = [list(r) for r in sheet.iter_rows(values_only=True)]
    column = grid[1].index(report["period"])
    cached = {(r[0], r[1]): r[column] for r in grid[2:] if r[3] == "Actual"}
    for scenario, figures in report["scenarios"].items():
        for key, line in (("revenue", "Revenue"), ("cogs", "COGS"),
                          ("gross_margin", "Gross margin")):
            expected = cached[(scenario, line)]  # blank: no month of the period closed
            assert figures[key]["actual"] == (None if expected is None else pytest.approx(
                expected, abs=0.005)), (scenario, key)


SUMMARY_MEASURES = {"units": "Units shipped", "revenue": "Revenue", "cogs": "COGS",
                    "gross_margin": "Gross margin"}


def test_live_report_equals_the_workbooks_summary_as_libreoffice_recalculates_it(
        served, tmp_path):
    """The workbook's own figures: the Summary sheet's formulas recalculated by LibreOffice
    (not sopfin's cached values, not the engine) give the report's plan and budget to the
    cent, for a quarter and for a fiscal year."""
    base, plan = served
    copy = tmp_path / "plan.xlsx"
    shutil.copyfile(plan, copy)
    summary = read_values(recalculate(copy, tmp_path / "lo"), [layout.SUMMARY])[layout.SUMMARY]
    header = {summary[f"{col}3"]: col for col in _columns(summary, 3)}
    rows = {(summary.get(f"A{r}"), summary.get(f"B{r}"), summary.get(f"C{r}")): r
            for r in range(4, 1 + max(int(ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
                                     for ref in summary))}
    for period in ("FY2027 Q1", "FY2028"):
        body = get(base, f"{API}/plan.xlsx/reports/{period}", live="true").json()
        assert body["period"] == period
        for scenario, figures in body["scenarios"].items():
            for key, label in SUMMARY_MEASURES.items():
                for basis in ("Plan", "Budget"):
                    cell = f"{header[period]}{rows[(scenario, label, basis)]}"
                    assert figures[key][basis.lower()] == pytest.approx(
                        float(summary[cell]), abs=0.005), (scenario, key, basis, cell)


def _columns(cells: dict[str, object], row: int) -> list[str]:
    return [ref[:-len(str(row))] for ref in cells
            if ref.endswith(str(row)) and ref[:-len(str(row))].isalpha()]


def test_repeated_reads_of_an_unchanged_workbook_do_not_reread_it(served):
    base, _ = served
    get(base, f"{API}/plan.xlsx/reports/2027-03", live="true")
    before = get(base, "/api/v1/status").json()["reads"]
    for _ in range(5):
        assert get(base, f"{API}/plan.xlsx/reports/2027-03", live="true").status_code == 200
    assert get(base, "/api/v1/status").json()["reads"] == before


def test_tokens_scopes_and_names_that_escape_the_root(served):
    base, plan = served
    assert get(base, API, token=None).status_code == 401
    assert get(base, API, token="x" * 20).status_code == 401
    before = plan.read_bytes()
    assert post(base, f"{API}/plan.xlsx/versions/1/approve", {}, token=READ).status_code == 403
    assert post(base, f"{API}/plan.xlsx/versions/1/approve", {}, token=None).status_code == 401
    assert plan.read_bytes() == before
    for name in ("..", "link.xlsx", "%2e%2e%2fplan.xlsx", "plan.xls", ".hidden.xlsx"):
        assert get(base, f"{API}/{name}/versions").status_code == 404, name


def test_an_oversized_body_is_refused(served):
    base, _ = served
    lines = [{"date": "2027-01-01", "item": "PMP-100", "revenue": 1.0}] * 5000
    r = post(base, f"{API}/plan.xlsx/revenue/track", {"lines": lines})
    assert r.status_code == 413


def test_forecast_is_a_what_if_that_writes_nothing(served):
    base, plan = served
    before = plan.read_bytes()
    change = {"sheet": "Demand", "scenario": "base", "family": "PMP-100",
              "channel": "Distributors", "month": "2027-03", "value": 500}
    r = post(base, f"{API}/plan.xlsx/forecast", {"changes": [change], "period": "2027-03"},
             token=READ)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["forecast"]["base"]["units"]["plan"] >= body["baseline"]["base"]["units"]["plan"]
    assert body["forecast"]["upside"] == body["baseline"]["upside"]
    assert plan.read_bytes() == before
    bad = post(base, f"{API}/plan.xlsx/forecast",
               {"changes": [{**change, "family": "NOPE"}]}, token=READ)
    assert bad.status_code == 422 and bad.json()["issues"][0]["code"] == "value-invalid"


def test_revenue_track_writes_actuals_through_the_import(served):
    base, plan = served
    lines = [{"date": "2027-01-15", "item": "P100", "units": 3, "revenue": 5550.0},
             {"date": "2027-01-20", "item": "P100", "units": 1, "revenue": 1850.0}]
    r = post(base, f"{API}/plan.xlsx/revenue/track",
             {"lines": lines, "families": {"P100": "PMP-100"}, "source": "erp"})
    assert r.status_code == 200, r.text
    assert r.json()["totals"] == {"revenue": 7400.0, "units": 4.0}
    assert r.json()["author"] == "erp-bot"
    rows = read_raw_sheets(plan, ["Actuals"])["Actuals"].rows
    january = rows[0].index("2027-01")  # after the keys (and the opex rows' Department, Account)
    assert ["PMP-100", "revenue", 7400.0] in [[*row[:2], row[january]] for row in rows]
    report = get(base, f"{API}/plan.xlsx/reports/2027-01", live="true").json()
    for figures in report["scenarios"].values():  # January is closed now, with no COGS
        assert [figures[m]["actual"] for m in ("revenue", "cogs", "gross_margin")] == [
            7400.0, 0.0, 7400.0]
    bad = post(base, f"{API}/plan.xlsx/revenue/track",
               {"lines": [{"date": "someday", "item": "X", "revenue": 1}]})
    assert bad.status_code == 422
    assert {i["code"] for i in bad.json()["issues"]} == {"source-date-invalid", "unknown-family"}
    locations = {i["location"] for i in bad.json()["issues"]}
    assert locations == {"api.csv:2 column date", "api.csv:2"}


def test_two_concurrent_writes_lose_nothing(served):
    base, plan = served
    results: list[int] = []

    def track(month: str) -> None:
        body = {"lines": [{"date": f"{month}-10", "item": "PMP-110", "revenue": 100.0}]}
        results.append(post(base, f"{API}/plan.xlsx/revenue/track", body).status_code)

    threads = [threading.Thread(target=track, args=(m,)) for m in ("2027-02", "2027-03")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 200]  # the server takes one write at a time
    grid = read_raw_sheets(plan, ["Actuals"])["Actuals"].rows
    rows = {tuple(r[:2]): r for r in grid}
    february = grid[0].index("2027-02")
    assert rows[("PMP-110", "revenue")][february:february + 2] == [100.0, 100.0]
    assert get(base, f"{API}/plan.xlsx/verify").json()["ok"] is True


def test_a_workbook_open_in_a_spreadsheet_app_gives_409(served):
    base, plan = served
    lock = plan.parent / f".~lock.{plan.name}#"
    lock.write_text("someone,host,01.01.2027 10:00;")
    try:
        body = {"lines": [{"date": "2027-04-01", "item": "PMP-100", "revenue": 1.0}]}
        r = post(base, f"{API}/plan.xlsx/revenue/track", body)
        assert r.status_code == 409 and "open in Excel or LibreOffice" in r.json()["error"][
            "message"]
    finally:
        lock.unlink()


def test_budget_allocation_dry_run_then_applied(served):
    base, plan = served
    body = {"amount": 1_000_000, "measure": "revenue", "by": "equal", "window": "FY2028 Q1"}
    dry = post(base, f"{API}/plan.xlsx/budget/allocate", body, token=READ)
    assert dry.status_code == 200 and dry.json()["applied"] is False
    cents = sum(round(v * 100) for row in dry.json()["rows"].values() for v in row.values())
    assert cents == 100_000_000
    assert post(base, f"{API}/plan.xlsx/budget/allocate", body, token=READ,
                apply="true").status_code == 403
    done = post(base, f"{API}/plan.xlsx/budget/allocate", body, apply="true")
    assert done.status_code == 200 and done.json()["applied"] is True


def test_opex_allocation_to_departments_equals_the_clis_and_lands_on_imports(served, capsys):
    """By headcount over FY2028 Q1: the API's departments equal what ``sopfin allocate
    --dry-run`` prints for the same workbook; applied, the Budget's opex cells are the API's
    lines, and _Imports names the token."""
    base, plan = served
    body = {"amount": 2_400_000.01, "measure": "opex", "to": "departments", "by": "headcount",
            "window": "FY2028 Q1"}
    dry = post(base, f"{API}/plan.xlsx/budget/allocate", body, token=READ).json()
    assert (dry["to"], dry["applied"], dry["months"]) == (
        "departments", False, ["2028-01", "2028-02", "2028-03"])
    assert main(["allocate", str(plan), "--amount", "2400000.01", "--measure", "opex", "--to",
                 "departments", "--by", "headcount", "--window", "FY2028 Q1",
                 "--dry-run"]) == 0
    printed = {line.split()[0]: float(line.split()[-1].replace(",", ""))
               for line in capsys.readouterr().out.splitlines()[1:] if line.startswith("  ")
               and not line.startswith("    ")}
    assert printed == {d: round(sum(row.values()), 2) for d, row in dry["rows"].items()}
    assert sum(round(v * 100) for ln in dry["lines"] for v in ln["months"].values()) == \
        240_000_001
    done = post(base, f"{API}/plan.xlsx/budget/allocate", body, apply="true").json()
    assert done["applied"] is True and done["lines"] == dry["lines"]
    rows = read_raw_sheets(plan, ["Budget", "_Imports"])
    grid = rows["Budget"].rows
    cols = [grid[0].index(m) for m in dry["months"]]
    written = {(r[2], r[3]): [r[j] for j in cols] for r in grid[1:] if r[1] == "opex"}
    assert written == {(ln["department"], ln["account"]): list(ln["months"].values())
                       for ln in dry["lines"]}
    assert rows["_Imports"].rows[-1][1:3] == ["erp-bot", "api-allocate"]



def test_allocation_into_a_budget_by_channel_equals_the_clis_and_is_written(served, capsys):
    """Revenue into a Budget kept by channel, by the plan's revenue: each of the API's lines
    names its channel, its figures are what ``sopfin allocate --dry-run`` prints for each
    family's channels, and applied, they are the Budget's cells."""
    base, plan = served
    grids = small_plan()
    grids["Budget"] = [["Family", "Measure", "Channel", "2027-01", "2027-02", "2027-03"],
                       ["P-100", "units", "Retail", 100, 100, 100],
                       ["P-100", "units", "OEM", 50, 50, 50]]
    book = write_xlsx(plan.parent / "channels.xlsx", grids)
    body = {"amount": 9_999.99, "measure": "revenue", "by": "revenue", "window": "2027-01"}
    dry = post(base, f"{API}/channels.xlsx/budget/allocate", body, token=READ).json()
    assert [(ln["family"], ln["channel"], ln["department"]) for ln in dry["lines"]] == [
        ("P-100", "Retail", None), ("P-100", "OEM", None), ("V-200", "Retail", None)]
    assert main(["allocate", str(book), "--amount", "9999.99", "--measure", "revenue", "--by",
                 "revenue", "--window", "2027-01", "--dry-run"]) == 0
    printed, family = {}, ""
    for line in capsys.readouterr().out.splitlines()[1:]:
        name, amount = line.split()[0], float(line.split()[-1].replace(",", ""))
        family = family if line.startswith("    ") else name
        if line.startswith("    "):
            printed[(family, name)] = amount
    assert printed == {(ln["family"], ln["channel"]): ln["months"]["2027-01"]
                       for ln in dry["lines"]}
    assert sum(round(v * 100) for v in printed.values()) == 999_999
    done = post(base, f"{API}/channels.xlsx/budget/allocate", body, apply="true").json()
    assert done["applied"] is True and done["lines"] == dry["lines"]
    grid = read_raw_sheets(book, ["Budget"])["Budget"].rows
    written = {(r[0], r[2]): r[3] for r in grid[1:] if r[1] == "revenue"}
    assert written == printed

def test_costs_and_approval(served):
    base, plan = served
    costs = get(base, f"{API}/plan.xlsx/costs", by="family", period="2027-01").json()
    assert {r["month"] for r in costs["rows"]} == {"2027-01"}
    assert all(r["variance"] == pytest.approx(r["plan"] - r["budget"], abs=0.01)
               for r in costs["rows"])
    assert get(base, f"{API}/plan.xlsx/costs/Nope").status_code == 404
    assert get(base, f"{API}/plan.xlsx/reports/FY2027").status_code == 404  # none approved
    r = post(base, f"{API}/plan.xlsx/versions/1/approve", {})
    assert r.status_code == 200 and r.json()["by"] == "erp-bot"
    report = get(base, f"{API}/plan.xlsx/reports/FY2027").json()
    assert (report["version"], report["status"]) == (1, "approved")
    assert report["plan"]["gross_margin"] == pytest.approx(
        report["plan"]["revenue"] - report["plan"]["cogs"], abs=0.01)
    live = get(base, f"{API}/plan.xlsx/reports/FY2027", live="true").json()["scenarios"]
    booked = {m: {f[m]["actual"] for f in live.values()} for m in ("revenue", "cogs")}
    assert {m: {v} for m, v in report["actual"].items() if m != "gross_margin"} == booked
    assert report["actual"]["revenue"] > 0  # January, booked through the revenue track above
    assert report["actual"]["gross_margin"] == pytest.approx(
        report["actual"]["revenue"] - report["actual"]["cogs"], abs=0.001)
    assert report["actual"] == _booked_on_actuals(plan, report["months"])
    later = get(base, f"{API}/plan.xlsx/reports/FY2028").json()
    assert later["version"] == 1 and set(later["actual"].values()) == {None}


def _booked_on_actuals(plan, months) -> dict[str, float]:
    """Revenue, COGS and gross margin summed straight off sheet Actuals: its family rows
    over the months that hold any family figure (the closed months)."""
    rows = read_raw_sheets(plan, ["Actuals"])["Actuals"].rows
    header, family_rows = rows[0], [r for r in rows[1:] if r[0]]
    cols = [header.index(m) for m in months if m in header]
    closed = [c for c in cols if any(isinstance(r[c], float) for r in family_rows)]
    total = {m: round(sum(r[c] for r in family_rows if r[1] == m for c in closed
                          if isinstance(r[c], float)), 2) for m in ("revenue", "cogs")}
    return {**total, "gross_margin": round(total["revenue"] - total["cogs"], 2)}


def _engine_opex(plan):
    """The engine's opex of the workbook as it is on disk, and its frame by department."""
    from sopfin.engine.dollarize import dollarize
    from sopfin.engine.opex import opex_frame, plan_opex
    from sopfin.pipeline import check_with_finance

    result = check_with_finance(plan)
    d, _ = dollarize(result.plan)
    o = plan_opex(result.plan, d, result.finance.opex_actuals)
    frame = opex_frame(o, result.plan.settings.fiscal_year_start)
    return o, frame.set_index(["scenario", "department", "period"])


def _cents(amount) -> int:
    return round(amount * 100)


def _half_cents(line_months: int) -> float:
    """How far a sum of line-months each rounded to the cent may be from the unrounded sum."""
    return 0.005 * line_months + 1e-6


def test_costs_by_department_equal_the_engine_and_the_pnl_sheet(served):
    """Per department over a quarter: plan, budget, actual and variance as the engine's
    opex_frame gives them and as the P&L sheet's cached cells show them; the total row is the
    departments' sum to the cent."""
    from openpyxl import load_workbook

    base, plan = served
    o, frame = _engine_opex(plan)
    body = get(base, f"{API}/plan.xlsx/costs", by="department", period="FY2027 Q1",
               scenario="base").json()
    assert (body["by"], body["period"], body["scenario"]) == ("department", "FY2027 Q1", "base")
    assert [r["department"] for r in body["rows"]] == ["Sales", "Marketing", "Operations", "G&A"]
    assert body["closed_months"] == ["2027-01", "2027-02"]
    for row in body["rows"]:
        expected = frame.loc[("base", row["department"], "FY2027 Q1")]
        slack = _half_cents(3 * int((o.department_of_line ==
                                     o.departments.index(row["department"])).sum()))
        for basis in ("plan", "budget", "actual", "variance"):
            assert row[basis] == pytest.approx(expected[basis], abs=slack), (row, basis)
        assert row["variance"] == pytest.approx(row["plan"] - row["budget"], abs=1e-9)
        assert row["variance_pct"] == pytest.approx(row["variance"] / abs(row["budget"]),
                                                    abs=1e-6)
    total = body["total"]
    for basis in ("plan", "budget", "actual", "variance"):
        assert _cents(total[basis]) == sum(_cents(r[basis]) for r in body["rows"]), basis
    assert total["actual"] > 0 and total["plan"] != total["budget"]

    sheet = load_workbook(plan, data_only=True, read_only=True)[layout.PNL]
    grid = [list(r) for r in sheet.iter_rows(values_only=True)]
    column = grid[1].index("FY2027 Q1")
    cached = {r[3]: r[column] for r in grid[2:] if r[:3] == ["base", "Sales", "Total"]}
    sales = body["rows"][0]
    for basis in ("Plan", "Budget", "Variance"):
        assert sales[basis.lower()] == pytest.approx(cached[basis], abs=_half_cents(6)), basis
    assert sales["variance_pct"] == pytest.approx(cached["Variance %"], abs=1e-5)


def test_one_departments_costs_month_by_month_with_its_accounts(served):
    base, plan = served
    o, frame = _engine_opex(plan)
    body = get(base, f"{API}/plan.xlsx/costs/Sales", period="FY2027 Q1").json()
    assert (body["department"], body["scenario"], body["period"]) == (
        "Sales", "base", "FY2027 Q1")
    assert [(m["month"], m["closed"]) for m in body["months"]] == [
        ("2027-01", True), ("2027-02", True), ("2027-03", False)]
    s = o.scenarios.index("base")
    lines = {account: i for i, (dept, account) in enumerate(o.lines) if dept == "Sales"}
    for month in body["months"]:
        j = o.months.index(month["month"])
        assert [a["account"] for a in month["accounts"]] == list(lines)
        for a in month["accounts"]:
            i = lines[a["account"]]
            assert a["plan"] == pytest.approx(o.plan[s, i, j], abs=0.005)
            assert a["budget"] == pytest.approx(o.budget[i, j], abs=0.005)
            assert a["actual"] == (pytest.approx(o.actual[i, j], abs=0.005) if month["closed"]
                                   else None)
        expected = frame.loc[("base", "Sales", month["month"])]
        for basis in ("plan", "budget", "variance"):
            assert month[basis] == pytest.approx(expected[basis], abs=_half_cents(len(lines)))
            assert _cents(month[basis]) == sum(_cents(a[basis]) for a in month["accounts"])
    for basis in ("plan", "budget", "actual", "variance"):
        assert _cents(body["total"][basis]) == sum(
            _cents(m[basis]) for m in body["months"] if m[basis] is not None), basis
    by_department = get(base, f"{API}/plan.xlsx/costs", by="department",
                        period="FY2027 Q1").json()["rows"][0]
    assert by_department == {"department": "Sales", **body["total"]}


def test_costs_errors_name_what_there_is(served):
    base, plan = served
    wrong_by = get(base, f"{API}/plan.xlsx/costs", by="account")
    assert wrong_by.status_code == 400
    assert "department, family" in wrong_by.json()["error"]["message"]
    unknown = get(base, f"{API}/plan.xlsx/costs/Legal")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["message"] == (
        "no department 'Legal'; departments: Sales, Marketing, Operations, G&A")
    write_xlsx(plan.parent / "no-opex.xlsx", small_plan())
    for path in ("/costs/Sales", "/costs?by=department"):
        r = httpx.get(f"{base}{API}/no-opex.xlsx{path}",
                      headers={"Authorization": f"Bearer {READ}"}, timeout=60)
        assert r.status_code == 404 and "Opex sheet" in r.json()["error"]["message"], path
    assert get(base, f"{API}/no-opex.xlsx/costs", by="family").status_code == 200
    described = httpx.get(base + "/openapi.json").json()["paths"][API + "/{name}/costs"]
    assert "Variance is plan - budget (positive: the plan spends more" in " ".join(
        described["get"]["description"].split())


def test_a_track_then_a_close_records_the_tokens_name_and_the_bodys_hash(served):
    """The API's writes land on the ledger: track (and an applied allocation) add their record
    to _Imports with the token's name and the SHA-256 of the request body as sent; the next
    close names them on its ledger entry. A dry-run allocation records nothing."""
    import hashlib

    from sopfin.close.published import load_ledger
    from sopfin.xlsx.adapter import FileWorkbook

    base, plan = served
    book = plan.parent / "provenance.xlsx"
    assert main(["new", "--demo", str(book), "-q"]) == 0
    assert main(["close", str(book), "--author", "fpa", "-q"]) == 0
    body = {"lines": [{"date": "2027-02-11", "item": "VLV-100", "units": 4, "revenue": 1240.0}],
            "source": "erp-feed"}
    r = post(base, f"{API}/provenance.xlsx/revenue/track", body)
    assert r.status_code == 200 and r.json()["recorded"] is True
    sent = hashlib.sha256(r.request.content).hexdigest()
    target = {"amount": 1000, "measure": "revenue", "by": "equal", "window": "FY2028 Q1"}
    assert post(base, f"{API}/provenance.xlsx/budget/allocate", target).status_code == 200
    log = read_raw_sheets(book, ["_Imports"])["_Imports"].rows
    assert [row[1:5] for row in log[1:]] == [["erp-bot", "api-track", "erp-feed.csv", sent]]
    applied = post(base, f"{API}/provenance.xlsx/budget/allocate", target, apply="true")
    assert applied.json()["applied"] is True and applied.json()["recorded"] is True
    allocated = hashlib.sha256(applied.request.content).hexdigest()
    assert main(["close", str(book), "--author", "fpa", "-q"]) == 0
    entry = load_ledger(FileWorkbook(book))[-1]
    assert entry.version == 2 and entry.author == "fpa"
    assert entry.note == (f"imported (API) Actuals from erp-feed.csv sha256:{sent[:12]} 1 row "
                          "2027-02 by erp-bot; allocated (API) Budget from allocate 1,000.00 "
                          f"by equal sha256:{allocated[:12]} {len(applied.json()['rows'])} rows "
                          "2028-01..2028-03 by erp-bot")
    assert get(base, f"{API}/provenance.xlsx/verify").json()["ok"] is True
