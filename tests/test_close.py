"""The monthly close on real workbook files: publish, approve, verify, diff, and tampering.

Tampering is done the way a person would: openpyxl (after removing the protection) or a raw
edit of the package XML. Each attack from the table in ``sopfin.close.ledger`` is tried; verify
catches every one it can in principle, and the two it cannot without a key are shown to pass
without the key and fail with it.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pytest

from sopfin import layout
from sopfin.cli import main
from sopfin.close import ledger as versions
from sopfin.close.publish import load_ledger, run_close
from sopfin.close.verify import run_diff, run_verify
from sopfin.render.ledger import render_ledger
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.read import sheet_parts
from sopfin.xlsx.writer import owned_sheet_names, sheet_names, write_sheets
from xlsx_helpers.packages import rebuild

KEY = b"k" * 32


@pytest.fixture(scope="module")
def closed_twice(built_demo, tmp_path_factory) -> Path:
    """The demo workbook after two closes and an approval of v001."""
    path = tmp_path_factory.mktemp("close") / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    assert main(["close", str(path), "--author", "A. Analyst", "-q"]) == 0
    assert main(["close", str(path), "--author", "A. Analyst", "-q", "--force"]) == 0
    assert main(["approve", str(path), "--version", "1", "--by", "C. Fo"]) == 0
    return path


@pytest.fixture
def book(closed_twice, tmp_path) -> Path:
    target = tmp_path / "copy.xlsx"
    shutil.copyfile(closed_twice, target)
    return target


def findings_of(path: Path, key: bytes | None = None) -> set[str]:
    return {f.code.value for f in run_verify(path, key=key).failing()}


def test_two_closes_publish_two_locked_versions(closed_twice):
    names = sheet_names(closed_twice)
    assert "Recon v001" in names and "Recon v002" in names
    owned = owned_sheet_names(closed_twice)
    assert {"Recon v001", "Recon v002", layout.LEDGER} <= owned
    ledger = load_ledger(FileWorkbook(closed_twice))
    assert [(e.event, e.version, e.status) for e in ledger] == [
        ("publish", 1, "draft"), ("publish", 2, "draft"), ("approve", 1, "approved")]
    assert ledger[1].prev_hash == ledger[0].entry_hash
    with zipfile.ZipFile(closed_twice) as zf:
        part = sheet_parts(zf)["Recon v001"]
        xml = zf.read(part).decode("utf-8")
    assert re.search(r'<sheetProtection[^>]*algorithmName="SHA-512"', xml)
    assert 'spinCount="100000"' in xml
    assert "<f>" not in xml, "a published tab holds frozen values, not formulas"


def test_the_bridge_sums_to_the_gap_to_the_cent(closed_twice):
    from sopfin.close.publish import _prepare
    from sopfin.pipeline import Timings  # noqa: F401

    _, out, _ = _prepare(FileWorkbook(closed_twice), "Horizon", lambda _m: None)
    rec = out.reconciliation
    for bridge in (rec.revenue_bridge, rec.margin_bridge):
        start = next(line.amount for line in bridge if line.kind == "start")
        end = next(line.amount for line in bridge if line.kind == "end")
        steps = sum(line.amount for line in bridge if line.kind not in ("start", "end"))
        assert abs(round(steps, 2) - round(end - start, 2)) < 0.005


def test_verify_passes_on_an_untouched_copy_and_says_which_version_is_current(book, capsys):
    assert main(["verify", str(book)]) == 0
    out = capsys.readouterr().out
    assert "latest v002 (draft)" in out and "plan of record v001" in out
    assert "verified" in out


def test_edit_of_a_recon_value_is_caught_and_named(book):
    wb = openpyxl.load_workbook(book)
    ws = wb["Recon v001"]
    ws.protection.sheet = False
    target = next(c for row in ws.iter_rows(min_row=10) for c in row
                  if isinstance(c.value, float) and abs(c.value) > 1000)
    target.value = target.value + 1000.0
    wb.save(book)
    result = run_verify(book)
    assert not result.ok
    cells = {str(f.where) for f in result.failing()}
    assert any(target.coordinate in c for c in cells), cells


def test_raw_xml_edit_of_a_recon_value_is_caught(book):
    with zipfile.ZipFile(book) as zf:
        part = sheet_parts(zf)["Recon v002"]

    def edit(parts: dict[str, bytes]) -> dict[str, bytes]:
        xml = parts[part].decode("utf-8")
        match = re.search(r"<v>(\d{4,}(?:\.\d+)?)</v>", xml)
        assert match
        parts[part] = (xml[:match.start(1)] + str(float(match.group(1)) + 7)
                       + xml[match.end(1):]).encode("utf-8")
        return parts

    rebuild(book, edit)
    assert "tampered-cell" in findings_of(book) or "tampered-tab" in findings_of(book)


def test_deleting_a_version_tab_is_caught(book):
    wb = openpyxl.load_workbook(book)
    del wb["Recon v001"]
    wb.save(book)
    assert "missing-tab" in findings_of(book)


def test_reordering_the_ledger_is_caught(book):
    wb = openpyxl.load_workbook(book)
    ws = wb[layout.LEDGER]
    rows = [[c.value for c in ws[r]] for r in (2, 3)]
    for col, value in enumerate(rows[1], start=1):
        ws.cell(row=2, column=col, value=value)
    for col, value in enumerate(rows[0], start=1):
        ws.cell(row=3, column=col, value=value)
    wb.save(book)
    assert findings_of(book) & {"reordered", "broken-chain"}


def _rechained(ledger: list[versions.LedgerEntry], key: bytes | None,
               recon_hash: dict[int, str]) -> list[versions.LedgerEntry]:
    out: list[versions.LedgerEntry] = []
    for e in ledger:
        out.append(versions.new_entry(
            out, event=e.event, version=e.version, cycle=e.cycle, timestamp=e.timestamp,
            author=e.author, status=e.status, input_hash=e.input_hash,
            recon_hash=recon_hash.get(e.version, e.recon_hash), note=e.note, key=key))
    return out


def test_recomputed_plain_hashes_pass_without_a_key_and_fail_with_it(demo_copy):
    """Publish with a key; then forge: drop the approval and re-chain the plain hashes.
    Without the key verify cannot tell (as documented); with the key it catches the forgery."""
    path = demo_copy
    assert run_close(path, author="A", key=KEY).ok
    assert run_close(path, author="A", key=KEY).ok
    assert run_verify(path, key=KEY).ok
    ledger = load_ledger(FileWorkbook(path))
    forged = _rechained(ledger[:1] + ledger[1:], None, {})  # every hmac blanked, re-chained
    write_sheets(path, [render_ledger(forged)])
    assert run_verify(path).ok, "without the key a consistently re-chained ledger verifies"
    keyed = run_verify(path, key=KEY)
    assert not keyed.ok
    wrong = _rechained(ledger, b"x" * 32, {})
    write_sheets(path, [render_ledger(wrong)])
    assert "hmac-mismatch" in findings_of(path, KEY)


def test_typed_over_formula_blocks_the_close_unless_allowed(book, capsys):
    wb = openpyxl.load_workbook(book)
    ws = wb["Revenue"]
    cell = next(c for row in ws.iter_rows(min_row=3) for c in row
                if isinstance(c.value, str) and c.value.startswith("=Demand!"))
    cell.value = 123456
    wb.save(book)
    before = sheet_names(book)
    assert main(["close", str(book), "-q"]) == 1
    out = capsys.readouterr().out
    assert f"Revenue!{cell.coordinate}" in out and "not published" in out
    assert sheet_names(book) == before
    assert main(["close", str(book), "--allow-unexplained", "-q"]) == 0
    ledger = load_ledger(FileWorkbook(book))
    assert ledger[-1].version == 3 and "unexplained" in ledger[-1].note


def test_verify_compares_two_copies(closed_twice, tmp_path, capsys):
    behind = tmp_path / "behind.xlsx"
    ahead = tmp_path / "ahead.xlsx"
    shutil.copyfile(closed_twice, behind)
    shutil.copyfile(closed_twice, ahead)
    assert main(["close", str(ahead), "-q"]) == 0
    assert main(["verify", str(ahead), str(behind)]) == 0
    assert "ahead.xlsx is ahead" in capsys.readouterr().out
    fork = tmp_path / "fork.xlsx"
    shutil.copyfile(closed_twice, fork)
    # Another v003 by someone else: closes of the same inputs by the same author within one
    # timestamp are the same version (same entry hash), so name a different author.
    assert main(["close", str(fork), "-q", "--author", "a-colleague"]) == 0
    assert main(["verify", str(ahead), str(fork)]) == 1  # both intact, but no longer one plan
    out = capsys.readouterr().out
    assert "forked after v002" in out and "FAIL: both copies verify on their own" in out
    assert main(["verify", str(closed_twice), str(closed_twice)]) == 0
    assert "same" in capsys.readouterr().out


def test_diff_lists_what_moved_largest_first(book):
    wb = openpyxl.load_workbook(book)
    ws = wb["Prices"]
    ws["E2"] = ws["E2"].value + 10.0  # one family and channel, one month: revenue moves
    family = ws["A2"].value
    wb.save(book)
    assert main(["close", str(book), "-q"]) == 0
    result = run_diff(book, 2, 3)
    table = result.table
    assert table
    changes = [abs(moved.change) for moved in table]
    assert changes == sorted(changes, reverse=True)
    assert {moved.key for moved in table} == {(family, "revenue")}
    shipped = table[0].change / 10.0
    assert shipped > 0 and abs(shipped - round(shipped)) < 1e-6  # 10 x whole units shipped


@pytest.mark.libreoffice
def test_libreoffice_keeps_the_protection_and_recalculates_nothing_differently(
        closed_twice, soffice, tmp_path):
    """Recalculate the closed workbook in LibreOffice: every formula cell of every sheet gives
    the value sopfin cached, the published tabs come back unchanged (their content hash
    recomputes) and still protected with SHA-512."""
    from lo_oracle import read_values, recalculate
    from sopfin.render.recon_seal import hashed_cells
    from sopfin.xlsx.readback import read_cells

    result = recalculate(closed_twice, tmp_path, soffice)
    names = sheet_names(closed_twice)
    before = read_cells(closed_twice, names)
    after = read_values(result, names)
    diffs = []
    for sheet, cells in before.items():
        for ref, cell in cells.items():
            if not isinstance(cell, versions.FormulaCell):
                continue
            cached, recalculated = cell.value, after[sheet].get(ref)
            if isinstance(cached, float) and isinstance(recalculated, int | float):
                if abs(cached - recalculated) >= 0.005:
                    diffs.append(f"{sheet}!{ref}: {cached} vs {recalculated}")
            elif (cached or "") != (recalculated or ""):
                diffs.append(f"{sheet}!{ref}: {cached!r} vs {recalculated!r}")
    assert not diffs, f"{len(diffs)} cells differ, e.g. {diffs[:5]}"
    ledger = load_ledger(FileWorkbook(closed_twice))
    saved = read_cells(result, ["Recon v001", "Recon v002"])
    for entry in (e for e in ledger if e.event == "publish"):
        tab = layout.recon_tab_name(entry.version)
        assert versions.content_hash(hashed_cells(saved[tab])) == entry.recon_hash
        with zipfile.ZipFile(result) as zf:
            xml = zf.read(sheet_parts(zf)[tab]).decode("utf-8")
        assert re.search(r'<sheetProtection[^>]*algorithmName="SHA-512"', xml), tab


def test_actuals_are_measured_against_the_last_approved_version(book):
    """v001 is approved. Prices then change, actuals for 2027-01 arrive, and the next close
    bridges plan to actual from v001's plan of record, not from the changed plan."""
    from sopfin.render.recon import snapshot_from_cells
    from sopfin.xlsx.readback import read_cells

    approved = snapshot_from_cells(read_cells(book, ["Recon v001"])["Recon v001"]).frame()
    family = approved.index.get_level_values(0)[0]
    planned = approved.xs("revenue", level=1)["2027-01"].sum()  # every family's January
    wb = openpyxl.load_workbook(book)
    prices = wb["Prices"]
    for row in prices.iter_rows(min_row=2):
        if row[0].value == family:
            row[2].value = row[2].value * 1.5  # the current plan's January price moves
    months = [c.value for c in wb["Demand"][1]][3:]
    actuals = wb["Actuals"]  # the demo has the sheet: its header row and opex rows
    assert [c.value for c in actuals[1]] == ["Family", "Measure", "Department", "Account",
                                             *months]
    actuals.append([family, "units", None, None, 100.0] + [None] * (len(months) - 1))
    actuals.append([family, "revenue", None, None, 123456.0] + [None] * (len(months) - 1))
    wb.save(book)
    assert main(["close", str(book), "-q"]) == 0
    tab = read_cells(book, ["Recon v003"])["Recon v003"]
    labels = {v: ref for ref, v in tab.items() if isinstance(v, str)}
    start_ref = labels["Plan revenue (2027-01)"]
    amount = tab["B" + start_ref[1:]]
    assert abs(amount - planned) < 0.005, (amount, planned)
    current = snapshot_from_cells(read_cells(book, ["Recon v003"])["Recon v003"]).frame()
    assert abs(current.xs("revenue", level=1)["2027-01"].sum() - planned) > 1.0
    end_ref = labels["Actual revenue (2027-01)"]
    assert tab["B" + end_ref[1:]] == 123456.0


def test_sop_version_reads_the_ledger_a_close_wrote(closed_twice):
    from sopfin.excel.functions import sop_version
    from sopfin.xlsx.read import read_raw_sheets

    rows = read_raw_sheets(closed_twice, [layout.LEDGER])[layout.LEDGER].rows
    ledger = load_ledger(FileWorkbook(closed_twice))
    assert sop_version(rows) == [["v002", "draft", ledger[1].recon_hash[:8]]]
