"""``sopfin reconcile --json`` and ``sopfin close --json``: the result as data, nothing else on
stdout, and every figure the one the published Recon tab holds when read back."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import openpyxl
import pytest

from sopfin import layout
from sopfin.cli import main
from sopfin.render.recon_capital import EXPOSURE_LABELS, WORKING_CAPITAL_LABELS

CONTRACT = {"workbook", "command", "ok", "scenario", "window", "months", "currency", "plan",
            "budget", "gap", "lines", "gap_after_actions", "margin", "variances",
            "working_capital", "stranded", "excess", "ebitda", "messages", "issues"}
ISSUE_KEYS = {"code", "severity", "location", "message", "fix"}
PRINTED_COLUMNS = 12  # A..L; the hidden helper and digest columns lie beyond


def run_json(capsys, *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)  # the whole of stdout is the one JSON document


def recon_rows(path: Path, tab: str) -> list[tuple]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        return [tuple(row)[:PRINTED_COLUMNS]
                for row in book[tab].iter_rows(values_only=True)]
    finally:
        book.close()


def section(rows: list[tuple], title_start: str) -> tuple[tuple, list[tuple]]:
    """The header row and the body rows (to the first blank row) of a titled section."""
    at = next(i for i, row in enumerate(rows) if str(row[0] or "").startswith(title_start))
    body = []
    for row in rows[at + 2:]:
        if row[0] is None:
            break
        body.append(row)
    return rows[at + 1], body


@pytest.fixture(scope="module")
def closed(tmp_path_factory, built_demo) -> tuple[Path, dict, dict]:
    """The demo reconciled, then closed, each with --json."""
    path = tmp_path_factory.mktemp("json") / "plan.xlsx"
    path.write_bytes(built_demo.read_bytes())
    outputs = {}
    for command in ("reconcile", "close"):
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            assert main([command, str(path), "--json", "-q"]) == 0
        outputs[command] = json.loads(buffer.getvalue())
    return path, outputs["reconcile"], outputs["close"]


def test_the_contract_keys_and_the_gap_to_the_cent(closed):
    _, reconciled, published = closed
    for data in (reconciled, published):
        assert set(data) >= CONTRACT
        steps = [ln["amount"] for ln in data["lines"] if ln["step"] not in ("start", "end")]
        assert round(sum(steps), 2) == data["gap"]
        assert round(data["plan"] - data["budget"], 2) == data["gap"]
        variances = data["variances"]
        assert variances["months"] == ["2027-01", "2027-02"]  # the demo's closed months
        assert round(sum(f["total"] for f in variances["families"]), 2) == \
            variances["total"]["total"]
        assert set(data["working_capital"]) == {"upside", "base", "downside"}
        for figures in data["working_capital"].values():
            assert {"dio", "dso", "dpo", "ccc"} <= set(figures)
            assert figures["ccc"] == pytest.approx(
                figures["dio"] + figures["dso"] - figures["dpo"], abs=1e-9)
    assert published["command"] == "close" and published["version"] == 1
    assert published["published"] is True
    same = ("plan", "budget", "gap", "lines", "working_capital", "stranded", "excess",
            "ebitda")
    assert {k: reconciled[k] for k in same} == {k: published[k] for k in same}


def test_bridge_lines_are_the_published_ones(closed):
    path, _, data = closed
    rows = recon_rows(path, layout.recon_tab_name(1))
    _, body = section(rows, "Revenue bridge, budget to plan")
    assert [(ln["label"], ln["amount"]) for ln in data["lines"]] == [
        (row[0], row[1]) for row in body]
    discontinued = [ln for ln in data["lines"] if ln["step"] == "discontinued"]
    assert discontinued and all(ln["family"] == ln["label"].split(": ")[1]
                                for ln in discontinued)


def test_working_capital_is_the_published_view(closed):
    path, _, data = closed
    header, body = section(recon_rows(path, layout.recon_tab_name(1)), "Working capital by")
    keys = {label: key for key, label in WORKING_CAPITAL_LABELS.items()}
    names = [keys[h] for h in header if h is not None]
    for row in body:
        published = dict(zip(names, row, strict=False))
        figures = data["working_capital"][published.pop("scenario")]
        for name, value in published.items():
            assert figures[name] == value, name


def test_stranded_stock_is_the_published_section(closed):
    path, _, data = closed
    header, body = section(recon_rows(path, layout.recon_tab_name(1)), "Stranded and excess")
    keys = {label: key for key, label in EXPOSURE_LABELS.items()}
    names = [keys[h] for h in header if h is not None]
    table = {row[0]: dict(zip(names, row, strict=False)) for row in body}
    stranded = data["stranded"]
    assert stranded["as_at"] == "2028-06" and stranded["scenario"] == "base"
    assert {f["family"] for f in stranded["families"]} == {"VLV-120", "VLV-180"}
    for family in stranded["families"]:
        assert (family["units"], family["value"]) == (
            table[family["family"]]["stranded_units"], table[family["family"]]["stranded_value"])
    assert (stranded["units"], stranded["value"]) == (
        table["Total"]["stranded_units"], table["Total"]["stranded_value"])
    assert 60_000 < stranded["value"] < 66_000
    assert data["excess"]["value"] == table["Total"]["excess_value"]


def test_issues_in_the_json_carry_their_location_and_fix(closed):
    _, data, _ = closed
    stranded = [i for i in data["issues"] if i["code"] == "stranded-stock"]
    assert len(stranded) == 2
    for issue in stranded:
        assert set(issue) >= ISSUE_KEYS and issue["location"].startswith("Families!A")


def test_errors_exit_1_with_the_issues_and_no_figures(demo_copy, capsys):
    book = openpyxl.load_workbook(demo_copy)
    settings = book[layout.SETTINGS]
    row = next(r for r in range(1, settings.max_row + 1)
               if settings.cell(r, 1).value == "DSO (days)")
    settings.cell(row, 2).value = "soon"
    book.save(demo_copy)
    code, data = run_json(capsys, "reconcile", str(demo_copy))
    assert code == 1 and data["ok"] is False and "plan" not in data
    bad = [i for i in data["issues"] if i["code"] == "setting-invalid"]
    assert [i["location"] for i in bad] == [f"Settings!B{row}"]
    assert set(bad[0]) >= ISSUE_KEYS and bad[0]["severity"] == "error"


def test_a_missing_workbook_is_a_usage_error_as_json(tmp_path, capsys):
    code, data = run_json(capsys, "close", str(tmp_path / "none.xlsx"))
    assert code == 2 and data["ok"] is False and "none.xlsx" in data["error"]
    assert data["issues"] == []


def test_the_cost_variances_are_the_ones_the_recon_publishes(closed):
    path, _, published = closed
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = [tuple(r) for r in book[layout.recon_tab_name(1)].iter_rows(values_only=True)]
    finally:
        book.close()
    at = next(i for i, row in enumerate(rows) if str(row[0] or "").startswith("Cost variances"))
    header = rows[at + 1]
    total_row = next(row for row in rows[at + 2:] if row[0] == "Total")
    variances = published["variances"]
    assert total_row[header.index("Total")] == pytest.approx(variances["total"]["total"],
                                                            abs=0.005)
    assert total_row[header.index("Material price")] == pytest.approx(
        variances["total"]["material"]["price"], abs=0.005)
    by_family = {f["family"]: f["total"] for f in variances["families"]}
    for row in rows[at + 2:]:
        if row[0] in (None, "Total"):
            break
        assert row[header.index("Total")] == pytest.approx(by_family[row[0]], abs=0.005)


def test_the_ebitda_headline_and_bridge_are_the_published_ones(closed):
    path, _, data = closed
    rows = recon_rows(path, layout.recon_tab_name(1))
    ebitda = data["ebitda"]
    _, body = section(rows, "EBITDA bridge, budget to plan")
    assert [(ln["label"], ln["amount"]) for ln in ebitda["lines"]] == [
        (row[0], row[1]) for row in body]
    steps = [ln["amount"] for ln in ebitda["lines"] if ln["step"] not in ("start", "end")]
    assert round(sum(steps), 2) == ebitda["gap"] == round(ebitda["plan"] - ebitda["budget"], 2)
    _, body = section(rows, "P&L headline, plan against budget")
    figures = ebitda["headline"]
    assert [tuple(row[1:4]) for row in body] == [
        (f["plan"], f["budget"], f["variance"]) for f in figures.values()]
    assert list(figures) == ["revenue", "gross_margin", "opex", "ebitda"]
    assert (figures["ebitda"]["plan"], figures["ebitda"]["budget"]) == (
        ebitda["plan"], ebitda["budget"])
    said = next(m for m in data["messages"] if m.strip().startswith("EBITDA: plan"))
    assert said.endswith(f"gap {ebitda['gap'] / 1e6:,.2f}M")
