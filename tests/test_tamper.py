"""Tamper evidence at the edges: a keyed ledger, a transplanted history, a rolled-back copy,
and tabs renamed, copied in, hidden or unprotected.

Each attack is made on real files the way a person (or a script) would make it: sopfin's own
writer for sheets copied from another workbook, a raw edit of the package for renames,
states and protection, LibreOffice for "a user saved it in a spreadsheet app".
"""

from __future__ import annotations

import re
import shutil
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from sopfin import layout
from sopfin.cli import main
from sopfin.close import ledger as versions
from sopfin.close.publish import load_ledger
from sopfin.close.published import intact_tabs
from sopfin.close.verify import run_verify
from sopfin.render.input_rows import render_input_rows
from sopfin.render.ledger import render_ledger
from sopfin.sheetspec import Block, SheetSpec
from sopfin.xlsx.adapter import FileWorkbook
from sopfin.xlsx.read import sheet_parts
from sopfin.xlsx.readback import read_cells
from sopfin.xlsx.writer import workbook_id, write_sheets
from xlsx_helpers.packages import parts, rebuild, replace_in

KEY = b"k" * 32


@pytest.fixture(scope="module")
def keyfile(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("key") / "ledger.key"
    path.write_bytes(KEY)
    return path


@pytest.fixture(scope="module")
def closed_once(built_demo, tmp_path_factory, keyfile) -> Path:
    """The demo workbook after one keyed close."""
    path = tmp_path_factory.mktemp("a") / "plan-a.xlsx"
    shutil.copyfile(built_demo, path)
    assert main(["close", str(path), "--author", "A", "--key-file", str(keyfile), "-q"]) == 0
    return path


@pytest.fixture
def book(closed_once, tmp_path) -> Path:
    target = tmp_path / "copy.xlsx"
    shutil.copyfile(closed_once, target)
    return target


def kinds(result) -> set[str]:  # noqa: ANN001 (an AuditResult)
    return {f.code.value for f in result.findings}


def failing(result) -> set[str]:  # noqa: ANN001
    return {f.code.value for f in result.failing()}


# --- a keyed ledger ------------------------------------------------------------------------

def test_close_and_approve_without_the_key_refuse_to_extend_a_keyed_ledger(book, capsys):
    before = book.read_bytes()
    assert main(["close", str(book), "-q"]) == 2
    assert main(["approve", str(book), "--version", "1", "--by", "C. Fo"]) == 2
    err = capsys.readouterr().err
    assert "not published: the ledger is keyed" in err and "not approved" in err
    assert "Traceback" not in err
    assert book.read_bytes() == before, "nothing is written on a refusal"


def test_rekey_signs_what_a_close_without_the_key_left_unsigned(book, keyfile, capsys):
    ledger = load_ledger(FileWorkbook(book))
    unsigned = versions.new_entry(  # what a close without the key used to append
        ledger, event=versions.APPROVE, version=1, cycle=ledger[0].cycle,
        timestamp="2027-02-01T09:00:00Z", author="B. Keyless", status=versions.APPROVED,
        input_hash=ledger[0].input_hash, recon_hash=ledger[0].recon_hash,
        workbook_id=ledger[0].workbook_id)
    write_sheets(book, [render_ledger([*ledger, unsigned])])
    assert "hmac-missing" in failing(run_verify(book, key=KEY))
    assert main(["close", str(book), "--key-file", str(keyfile), "-q"]) == 2
    assert "sopfin rekey" in capsys.readouterr().err

    before = book.read_bytes()
    assert main(["rekey", str(book), "--key-file", str(keyfile)]) == 0
    out = capsys.readouterr().out
    assert "unsigned: seq 2 approve v001 by B. Keyless" in out and "--confirm" in out
    assert book.read_bytes() == before, "without --confirm nothing is written"
    assert main(["rekey", str(book), "--key-file", str(keyfile), "--confirm"]) == 0
    assert run_verify(book, key=KEY).ok
    assert versions.head_hash(load_ledger(FileWorkbook(book))) == unsigned.entry_hash
    assert main(["close", str(book), "--key-file", str(keyfile), "-q"]) == 0


def test_rekey_with_another_key_signs_nothing(book, tmp_path):
    other = tmp_path / "other.key"
    other.write_bytes(b"z" * 32)
    before = book.read_bytes()
    assert main(["rekey", str(book), "--key-file", str(other), "--confirm"]) == 1
    assert main(["rekey", str(book)]) == 2, "rekey needs a key"
    assert book.read_bytes() == before


# --- transplanted history ------------------------------------------------------------------

def _copied_sheet(source: Path, name: str) -> SheetSpec:
    """A sheet of ``source`` as a copy into another workbook carries it: every cell value."""
    cells = read_cells(source, [name])[name]
    blocks = []
    for ref, value in cells.items():
        letters = ref.rstrip("0123456789")
        blocks.append(Block(int(ref[len(letters):]), layout.column_index(letters),
                            np.array([[value]], dtype=object)))
    return SheetSpec(name, blocks, owned=True)


def _retype_number(path: Path, sheet: str, column: str, value: str) -> int:
    """Type ``value`` over the first number in ``column`` of ``sheet``, in the package;
    the row it is on."""
    part = sheet_parts(zipfile.ZipFile(path))[sheet]
    xml = parts(path)[part].decode("utf-8")
    cell = re.search(rf'<c r="({column}\d+)"[^>]*><v>([0-9.]+)</v>', xml)
    assert cell is not None
    rebuild(path, replace_in(part, cell.group(0),
                             cell.group(0).replace(f"<v>{cell.group(2)}</v>", f"<v>{value}</v>")))
    return int(cell.group(1)[len(column):])


def _other_plan(built_demo: Path, path: Path) -> Path:
    """The demo plan with one demand figure changed: a different workbook."""
    shutil.copyfile(built_demo, path)
    _retype_number(path, layout.DEMAND, "E", "999999")
    return path


def test_a_history_copied_into_another_workbook_is_reported_with_and_without_the_key(
        closed_once, tmp_path, keyfile, capsys, built_demo):
    target = _other_plan(built_demo, tmp_path / "plan-b.xlsx")
    ledger = load_ledger(FileWorkbook(closed_once))
    write_sheets(target, [_copied_sheet(closed_once, "Recon v001"), render_ledger(ledger)])
    assert workbook_id(target) is None and ledger[0].workbook_id
    for key in (None, KEY):
        result = run_verify(target, key=key)
        assert not result.ok
        assert "foreign-ledger" in failing(result)
        changed = [f for f in result.findings if f.code.value == "inputs-changed"]
        assert [str(f.where) for f in changed] == [layout.DEMAND]
        assert "inputs changed since v001" in changed[0].message
    assert main(["close", str(target), "--key-file", str(keyfile), "-q"]) == 1
    assert "copied in from another workbook" in capsys.readouterr().out


def test_a_plan_edited_after_its_close_is_a_warning_in_verify_and_close(book, keyfile, capsys):
    row = _retype_number(book, layout.PRICES, "D", "12345")
    result = run_verify(book, key=KEY)
    assert result.ok, result.lines()
    changed = [f for f in result.findings if f.code.value == "inputs-changed"]
    assert [str(f.where) for f in changed] == [f"{layout.PRICES}!{row}:{row}"]
    assert f"its cells differ in row {row}" in changed[0].message
    assert main(["verify", str(book), "--key-file", str(keyfile)]) == 0
    assert "warning[inputs-changed]" in capsys.readouterr().out
    scrambled = render_input_rows("0" * 64, {layout.PRICES: {row: "00000000"}})
    write_sheets(book, [scrambled])  # row checksums of another close: sheets still named
    assert [str(f.where) for f in run_verify(book).findings
            if f.code.value == "inputs-changed"] == [layout.PRICES]
    assert main(["close", str(book), "--key-file", str(keyfile), "-q"]) == 0
    out = capsys.readouterr().out
    assert out.index("inputs changed since v001") < out.index("published Recon v002")


def test_the_identity_is_kept_by_later_closes_and_recorded_in_every_entry(book, keyfile):
    first = workbook_id(book)
    assert first and re.fullmatch(r"[0-9a-f-]{36}", first)
    assert main(["approve", str(book), "--version", "1", "--by", "C. Fo",
                 "--key-file", str(keyfile)]) == 0
    assert workbook_id(book) == first
    assert {e.workbook_id for e in load_ledger(FileWorkbook(book))} == {first}


def test_a_ledger_written_before_the_identity_still_verifies_with_a_note(book, keyfile):
    legacy = []
    for e in load_ledger(FileWorkbook(book)):  # the same entries as an earlier sopfin wrote
        legacy.append(versions.new_entry(
            legacy, event=e.event, version=e.version, cycle=e.cycle, timestamp=e.timestamp,
            author=e.author, status=e.status, input_hash=e.input_hash,
            recon_hash=e.recon_hash, key=KEY))
    spec = render_ledger(legacy)
    width = len(versions.LEDGER_COLUMNS_V1)
    spec = replace(spec, blocks=[replace(b, values=np.asarray(b.values, dtype=object)[:, :width])
                                 for b in spec.blocks])
    write_sheets(book, [spec])
    assert read_cells(book, [layout.LEDGER])[layout.LEDGER].get("N1") is None
    result = run_verify(book, key=KEY)
    assert result.ok, result.lines()
    assert any(line.startswith("note: the latest ledger entry carries no workbook identity")
               for line in result.lines())
    assert main(["close", str(book), "--key-file", str(keyfile), "-q"]) == 0
    after = run_verify(book, key=KEY)
    assert after.ok and not any(line.startswith("note:") for line in after.lines())
    assert load_ledger(FileWorkbook(book))[-1].workbook_id == workbook_id(book)


@pytest.mark.libreoffice
def test_a_libreoffice_save_keeps_the_workbook_identity(closed_once, soffice, tmp_path):
    from lo_oracle import recalculate

    saved = recalculate(closed_once, tmp_path, soffice)
    assert workbook_id(saved) == workbook_id(closed_once)
    result = run_verify(saved, key=KEY)
    assert "foreign-ledger" not in kinds(result)
    ledger = load_ledger(FileWorkbook(saved))
    assert intact_tabs(FileWorkbook(saved), ledger, {1: "Recon v001"}) == set(), \
        "a spreadsheet app's save rewrites every part: the tab is read in full"
    deep = run_verify(saved, key=KEY, deep=True)
    assert result.lines() == deep.lines(), "the same report as the full check"


# --- rollback ------------------------------------------------------------------------------

def test_verify_against_a_kept_head_catches_a_rolled_back_copy(book, tmp_path, keyfile,
                                                                capsys):
    older = tmp_path / "older.xlsx"
    shutil.copyfile(book, older)
    first_head = versions.head_hash(load_ledger(FileWorkbook(book)))
    head_file = tmp_path / "plan.head"
    assert main(["close", str(book), "--key-file", str(keyfile), "-q",
                 "--head-file", str(head_file)]) == 0
    head = head_file.read_text().split()[0]
    assert head in capsys.readouterr().out, "close prints the head it writes"
    assert run_verify(older, key=KEY).ok, "a copy one version behind verifies on its own"
    assert main(["verify", str(older), "--key-file", str(keyfile),
                 "--head-file", str(head_file)]) == 1
    assert "FAIL[behind-head]" in capsys.readouterr().out
    assert main(["verify", str(book), "--head-file", str(head_file)]) == 0
    assert main(["verify", str(book), "--head", first_head]) == 0
    assert "1 later entr(y/ies)" in capsys.readouterr().out
    assert main(["verify", str(book), "--head", "not-a-hash"]) == 2


# --- messages ------------------------------------------------------------------------------

def test_swapped_tab_names_are_reported_as_a_swap(book, keyfile):
    assert main(["close", str(book), "--key-file", str(keyfile), "-q"]) == 0
    wb = "xl/workbook.xml"
    rebuild(book, replace_in(wb, 'name="Recon v001"', 'name="swap"'))
    rebuild(book, replace_in(wb, 'name="Recon v002"', 'name="Recon v001"'))
    rebuild(book, replace_in(wb, 'name="swap"', 'name="Recon v002"'))
    result = run_verify(book, key=KEY)
    assert failing(result) == {"swapped-tab"}, result.lines()
    text = "\n".join(result.lines())
    assert "holds v002's content as published" in text
    assert "digest cells were rewritten" not in text


def test_a_tab_copied_in_from_another_workbook_is_reported_as_such(closed_once, tmp_path,
                                                                   built_demo):
    other = tmp_path / "plan-c.xlsx"
    shutil.copyfile(built_demo, other)
    assert main(["close", str(other), "--author", "C", "-q"]) == 0
    source = sheet_parts(zipfile.ZipFile(closed_once))["Recon v001"]
    target = sheet_parts(zipfile.ZipFile(other))["Recon v001"]
    copied = parts(closed_once)[source]

    def edit(p: dict[str, bytes]) -> dict[str, bytes]:
        p[target] = copied
        return p

    rebuild(other, edit)
    result = run_verify(other)
    assert failing(result) == {"foreign-tab"}, result.lines()
    assert "copied in from another workbook" in "\n".join(result.lines())


def test_a_hidden_or_unprotected_published_tab_is_a_warning(book, capsys):
    part = sheet_parts(zipfile.ZipFile(book))["Recon v001"]
    rebuild(book, replace_in("xl/workbook.xml", 'name="Recon v001"',
                             'name="Recon v001" state="hidden"'))
    xml = parts(book)[part].decode("utf-8")
    protection = re.search(r"<sheetProtection[^>]*/>", xml)
    assert protection is not None
    rebuild(book, replace_in(part, protection.group(0), ""))
    assert main(["verify", str(book)]) == 0
    out = capsys.readouterr().out
    assert "warning[tab-hidden]" in out and "warning[tab-unprotected]" in out
