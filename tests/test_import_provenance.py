"""Where the data came from: every write of data into an input sheet (``sopfin import``,
``sopfin allocate``) is recorded on ``_Imports`` in the same save; the next close names it on
its ledger entry and on its Recon tab, and marks it with the version.

The README's example (examples/erp-sales-2027-q1.csv through examples/erp-sales.toml) is
imported into the demo; the file's SHA-256 is computed here with hashlib."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from sopfin.cli import main
from sopfin.close.imported import (
    ImportRecord,
    import_line,
    imports_note,
    months_text,
    parse_months_text,
)
from sopfin.close.published import load_ledger
from sopfin.model import IssueCode
from sopfin.render.import_log import HEADERS, parse_import_log
from sopfin.render.recon_sources import TITLE
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.read import read_raw_sheets
from sopfin.xlsx.readback import read_cells

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "examples" / "erp-sales-2027-q1.csv"
MAPPING = REPO / "examples" / "erp-sales.toml"
SHA256 = hashlib.sha256(SOURCE.read_bytes()).hexdigest()


def imported(plan: Path, *extra: str) -> int:
    return main(["import", str(plan), str(SOURCE), "--into", "Actuals", "--map", str(MAPPING),
                 "--author", "ana", *extra])


def log_rows(plan: Path) -> list[dict[str, object]]:
    rows = read_raw_sheets(plan, ["_Imports"])["_Imports"].rows
    assert tuple(rows[0][:len(HEADERS)]) == HEADERS
    return [dict(zip(HEADERS, r, strict=False)) for r in rows[1:] if any(r)]


def notes(plan: Path) -> dict[int, str]:
    return {e.version: e.note for e in load_ledger(FileWorkbook(plan)) if e.event == "publish"}


def recon_section(plan: Path, version: int) -> list[list[object]]:
    """The rows of the Recon tab's import section, below its header row, up to a blank A."""
    tab = f"Recon v{version:03d}"
    cells = read_cells(plan, [tab])[tab]
    title = next(int(ref[1:]) for ref, v in cells.items() if ref[0] == "A" and v == TITLE)
    out, row = [], title + 2
    while cells.get(f"A{row}") is not None:
        out.append([cells.get(f"{c}{row}") for c in "ABCDEFGHI"])
        row += 1
    return out


@pytest.fixture(scope="module")
def pending_import(built_demo, tmp_path_factory) -> Path:
    """The demo after the README's import, before any close."""
    plan = tmp_path_factory.mktemp("pending") / "plan.xlsx"
    shutil.copyfile(built_demo, plan)
    assert imported(plan) == 0
    return plan


@pytest.fixture(scope="module")
def closed_import(pending_import, tmp_path_factory) -> Path:
    """... and after the close that records it (v001). Copy it before writing."""
    plan = tmp_path_factory.mktemp("closed") / "plan.xlsx"
    shutil.copyfile(pending_import, plan)
    assert main(["close", str(plan), "--author", "cfo", "-q"]) == 0
    return plan


@pytest.fixture
def closed_copy(closed_import, tmp_path) -> Path:
    plan = tmp_path / "plan.xlsx"
    shutil.copyfile(closed_import, plan)
    return plan


def test_the_import_is_pending_with_the_files_name_hash_rows_and_totals(pending_import):
    [pending] = log_rows(pending_import)
    assert pending["SHA-256"] == SHA256 and pending["Source"] == SOURCE.name
    assert pending["Version"] is None and pending["Author"] == "ana"
    assert pending["Months"] == "2027-01..2027-03" and pending["Rows"] == 60
    with SOURCE.open(newline="", encoding="utf-8") as f:
        revenue = sum(Decimal(r["Net Amount"].replace(",", "")) for r in csv.DictReader(f))
    assert pending["Totals"] == f"revenue {revenue:,.2f}; units 375.00"


def test_the_close_after_an_import_names_the_file_and_its_hash(closed_import):
    plan = closed_import
    note = notes(plan)[1]
    assert (f"imported Actuals from {SOURCE.name} sha256:{SHA256[:12]} 60 rows "
            "2027-01..2027-03 by ana") in note
    [recorded] = log_rows(plan)
    assert recorded["Version"] == 1 and recorded["SHA-256"] == SHA256
    [shown] = recon_section(plan, 1)
    assert shown[:6] == [SOURCE.name, SHA256[:12], "Actuals", 60, "2027-01..2027-03",
                         recorded["Totals"]]
    assert shown[6:] == [recorded["Recorded (UTC)"], "ana", "import"]
    assert main(["verify", str(plan)]) == 0


def test_a_reimport_is_one_more_row_and_the_next_close_publishes_it(closed_copy, capsys):
    plan = closed_copy
    assert main(["close", str(plan), "--author", "cfo"]) == 0
    assert "nothing changed since v001" in capsys.readouterr().out
    actuals = read_raw_sheets(plan, ["Actuals"])["Actuals"].rows
    assert imported(plan) == 0  # the same file: no cell changes, one more record
    assert read_raw_sheets(plan, ["Actuals"])["Actuals"].rows == actuals
    assert [r["Version"] for r in log_rows(plan)] == [1, None]
    assert main(["close", str(plan), "--author", "cfo"]) == 0  # an import is a change
    assert [r["Version"] for r in log_rows(plan)] == [1, 2]
    assert SHA256[:12] in notes(plan)[2] and len(recon_section(plan, 2)) == 1
    assert recon_section(plan, 1)[0][:6] == recon_section(plan, 2)[0][:6]  # the same file
    capsys.readouterr()
    assert main(["close", str(plan), "--author", "cfo"]) == 0
    assert "nothing changed since v002" in capsys.readouterr().out
    assert main(["verify", str(plan)]) == 0


def _rewrite_part(plan: Path, is_part, change) -> None:
    """Edit one part's XML inside the package, as a hand (or another tool) would."""
    with zipfile.ZipFile(plan) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    name = next(n for n, data in parts.items() if is_part(n, data))
    parts[name] = change(parts[name])
    with zipfile.ZipFile(plan, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)


def _rewrite_imports_part(plan: Path, change) -> None:
    _rewrite_part(plan, lambda name, data: name.startswith("xl/worksheets/")
                  and SHA256.encode() in data, change)


def test_editing_a_recorded_import_leaves_every_version_verified(closed_copy):
    plan = closed_copy
    note = notes(plan)[1]
    _rewrite_imports_part(plan, lambda xml: xml.replace(SHA256.encode(), b"0" * 64))
    assert log_rows(plan)[0]["SHA-256"] == "0" * 64
    assert main(["verify", str(plan)]) == 0
    assert notes(plan)[1] == note and SHA256[:12] in note  # the ledger keeps the evidence


def test_an_import_log_row_that_is_no_record_stops_the_import_not_the_close(closed_copy,
                                                                            capsys):
    plan = closed_copy
    _rewrite_imports_part(plan, lambda xml: xml.replace(b">import<", b">typed by hand<"))
    before = plan.read_bytes()
    assert imported(plan, "--json") == 1
    [issue] = json.loads(capsys.readouterr().out)["issues"]
    assert (issue["code"], issue["sheet"], issue["cell"]) == ("import-log-unreadable",
                                                              "_Imports", "A2")
    assert plan.read_bytes() == before
    assert main(["close", str(plan), "--author", "cfo"]) == 0
    out = capsys.readouterr().out
    assert f"warning[{IssueCode.IMPORT_LOG_UNREADABLE.value}]" in out
    assert "nothing changed since v001" in out and plan.read_bytes() == before


def test_a_log_whose_owner_mark_a_tool_dropped_is_proven_by_its_rows(closed_copy):
    """A tool that drops defined names leaves _Imports unmarked; its rows prove it sopfin's,
    so the next import adds to it and marks it again."""
    from sopfin.xlsx.writer import owned_sheet_names

    _rewrite_part(closed_copy, lambda name, _: name == "xl/workbook.xml",
                  lambda xml: re.sub(rb'<definedName name="_sopfin_owned"[^>]*>[^<]*'
                                     rb"</definedName>", b"", xml))
    assert "_Imports" not in owned_sheet_names(closed_copy)
    assert imported(closed_copy) == 0
    assert "_Imports" in owned_sheet_names(closed_copy)
    assert [r["Version"] for r in log_rows(closed_copy)] == [1, None]


def test_a_users_own_sheet_named_like_the_log_is_never_written(demo_copy, capsys):
    book = openpyxl.load_workbook(demo_copy)
    book.create_sheet("_Imports").append(["my notes", "on imports"])
    book.save(demo_copy)
    before = demo_copy.read_bytes()
    assert imported(demo_copy) == 2
    assert "_Imports" in capsys.readouterr().err
    assert demo_copy.read_bytes() == before


def test_allocate_records_its_write_and_a_dry_run_records_nothing(demo_copy, capsys):
    plan = demo_copy
    args = ["allocate", str(plan), "--amount", "1200000", "--measure", "revenue", "--by",
            "equal", "--window", "FY2028", "--author", "budget-office"]
    assert main([*args, "--dry-run"]) == 0
    assert "_Imports" not in read_raw_sheets(plan, ["_Imports"])
    assert main(args) == 0
    assert "recorded on _Imports" in capsys.readouterr().out
    [row] = log_rows(plan)
    assert (row["Command"], row["Sheet"], row["Author"]) == ("allocate", "Budget",
                                                             "budget-office")
    assert row["Totals"] == "revenue 1,200,000.00" and row["SHA-256"] is None
    assert row["Months"] == "2028-01..2028-12"
    assert main(["close", str(plan), "--author", "cfo"]) == 0
    assert "allocated Budget from allocate 1,200,000.00 by equal" in notes(plan)[1]


def test_the_note_is_bounded_and_months_read_back():
    months = ("2027-01", "2027-02", "2027-03", "2027-05", "2028-12", "2029-01")
    assert months_text(months) == "2027-01..2027-03, 2027-05, 2028-12..2029-01"
    assert parse_months_text(months_text(months)) == months
    record = ImportRecord("2027-04-01T00:00:00Z", "ana", "import", "x" * 300 + ".csv",
                          SHA256, "Actuals", months, 10, (("revenue", 1.5),))
    note = imports_note([record] * 40)
    assert len(note) <= 4100 and note.endswith("more import(s)")
    assert note.startswith(import_line(record))


def test_a_sheet_that_is_not_the_log_is_read_as_unreadable():
    assert parse_import_log([["Something", "else"]]) == ([], [1])
    header = list(HEADERS)
    good = ["2027-04-01T00:00:00Z", "ana", "import", "a.csv", SHA256, "Actuals",
            "2027-01", 3.0, "units 3.00", None]
    records, bad = parse_import_log([header, good, [None] * 10, [*good[:7], "three",
                                                                 *good[8:]]])
    assert [r.rows for r in records] == [3] and bad == [4]


@pytest.mark.parametrize("version", [2.5, -1.0, "v1"])
def test_a_version_that_is_not_a_whole_number_is_no_record(version):
    good = ["2027-04-01T00:00:00Z", "ana", "import", "a.csv", SHA256, "Actuals",
            "2027-01", 3.0, "units 3.00", version]
    assert parse_import_log([list(HEADERS), good])[1] == [2]


@pytest.mark.slow  # a LibreOffice start: about 12 s
@pytest.mark.libreoffice
def test_a_pending_import_survives_a_save_in_libreoffice(pending_import, soffice, tmp_path):
    """A user opens the workbook after the import and saves it in LibreOffice: the pending
    record reads back as written, and the close records it and hides the log again."""
    from lo_oracle import recalculate
    from sopfin.xlsx.writer import sheet_states

    saved = recalculate(pending_import, tmp_path / "lo", soffice)
    assert log_rows(saved) == log_rows(pending_import)
    assert main(["close", str(saved), "--author", "cfo"]) == 0
    assert SHA256[:12] in notes(saved)[1]
    assert [r["Version"] for r in log_rows(saved)] == [1]
    assert sheet_states(saved)["_Imports"] == "hidden"
    assert main(["verify", str(saved)]) == 0
