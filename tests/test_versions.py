"""The version ledger: canonical bytes, the hash chain, and every tampering verify must catch.

A close is written here the way the workbook holds it: a recon tab as {cell: value} with its
hidden digest column, and ledger rows built one event at a time.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import unicodedata
from dataclasses import replace

import numpy as np
import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sopfin.close.ledger import (
    GENESIS_HASH,
    LEDGER_COLUMNS_V1,
    LEDGER_COLUMNS_V2,
    FormulaCell,
    LedgerEntry,
    LedgerKeyError,
    Relation,
    canonical_cells,
    cell_digests,
    compare_ledgers,
    compute_entry_hash,
    content_hash,
    current_status,
    digest_cells,
    entry_bytes,
    head_hash,
    inputs_hash,
    load_key,
    new_entry,
    next_version,
    recorded_digests,
)
from sopfin.close.ledger_checks import verify_ledger
from sopfin.close.protection import check_password, hash_password
from sopfin.model import CellRef, IssueCode, Severity
from sopfin.sheetspec import Block, SheetProtection, SheetSpec
from sopfin.xlsx.writer import create_workbook

KEY = bytes.fromhex("8f1c2a7d5e9b40c3a6d2f1e0b7c4a9d8")
DIGEST_COLUMN = "H"

# Recon tabs as a controller reads them: plan vs finance by measure, gap as a formula.
RECON_V1 = {
    "A1": "Reconciliation v001, 2025-03 close",
    "A3": "Measure", "B3": "Plan", "C3": "Finance", "D3": "Gap",
    "A4": "Revenue", "B4": 1_250_000.00, "C4": 1_250_000.00, "D4": FormulaCell("C4-B4", 0.0),
    "A5": "COGS", "B5": 812_345.67, "C5": 812_345.67, "D5": FormulaCell("C5-B5", 0.0),
    "A6": "Inventory", "B6": 402_118.25, "C6": 402_118.20, "D6": FormulaCell("C6-B6", -0.05),
}
RECON_V2 = {**RECON_V1, "A1": "Reconciliation v002, 2025-04 close",
            "B4": 1_310_500.00, "C4": 1_310_500.00, "B5": 851_020.10, "C5": 851_020.10}
INPUTS_MARCH = {"Demand": [["Scenario", "Family", "2025-03"], ["Base", "PUMPS-200", 1200]],
                "Prices": [["Family", "2025-03"], ["PUMPS-200", 1041.6667]]}


def published(tab):
    """What publish writes: the tab plus its digest column."""
    return {**tab, **digest_cells(tab, DIGEST_COLUMN)}


def build(key=KEY):
    """Two closes: v1 published and approved, v2 published. Returns (ledger, tabs)."""
    tabs = {1: published(RECON_V1), 2: published(RECON_V2)}
    ledger: list[LedgerEntry] = []
    events = [("publish", 1, "2025-03", "draft", "a.chen"),
              ("approve", 1, "2025-03", "approved", "m.ruiz"),
              ("publish", 2, "2025-04", "draft", "a.chen")]
    for seq, (event, version, cycle, status, author) in enumerate(events, start=1):
        ledger.append(new_entry(
            ledger, event=event, version=version, cycle=cycle,
            timestamp=f"2025-04-0{seq}T09:00:00Z", author=author, status=status,
            input_hash=inputs_hash(INPUTS_MARCH), recon_hash=content_hash(tabs[version]),
            note="month-end" if event == "publish" else "", key=key))
    return ledger, tabs


def rechain(ledger, hmac_of=lambda old: old.hmac):
    """What an attacker without the key does after editing rows: renumber and re-hash."""
    out = []
    for i, entry in enumerate(ledger):
        entry = replace(entry, seq=i + 1, prev_hash=out[-1].entry_hash if out else GENESIS_HASH)
        entry = replace(entry, entry_hash=compute_entry_hash(entry))
        out.append(replace(entry, hmac=hmac_of(entry)))
    return out


def kinds(findings):
    return sorted(f.code.value for f in findings)


def ns(text: str) -> bytes:
    data = text.encode("utf-8")
    return f"{len(data)}:".encode() + data + b","


# --- canonical form --------------------------------------------------------------------------

def test_canonical_cells_golden_bytes():
    # 12.345 rounds half away from zero to 1235 cents; cells go in (row, column) order.
    cells = {"B2": 12.345, "C1": True, "A1": "Rev", "A2": None, "D2": FormulaCell("=B2*2", 24.69)}
    expected = (ns("sopfin/cells/1")
                + b"15:2:A1,1:s,3:Rev,,"
                + b"16:2:C1,1:b,4:TRUE,,"
                + b"16:2:B2,1:n,4:1235,,"
                + b"27:2:D2,1:f,4:B2*2,1:n,4:2469,,")
    assert canonical_cells(cells) == expected
    assert content_hash(cells) == hashlib.sha256(expected).hexdigest()


def test_same_content_same_hash_despite_spelling_and_sub_cent_noise():
    noisy = {}
    for ref, value in RECON_V1.items():
        if isinstance(value, float):
            value = value + 3e-7
        elif isinstance(value, FormulaCell):
            value = FormulaCell(value.formula, value.value - 1e-9)
        noisy["$" + ref[0] + "$" + ref[1:]] = value
    noisy["B4"] = 1_250_000  # int, not float
    noisy["E9"] = None
    noisy["F9"] = ""
    noisy["G9"] = math.nan
    del noisy["$B$4"]
    assert content_hash(dict(reversed(noisy.items()))) == content_hash(RECON_V1)


@settings(max_examples=200, deadline=None)
@given(cents=st.integers(-10**11, 10**11), noise=st.floats(-1e-6, 1e-6))
def test_noise_far_below_a_cent_never_changes_the_hash(cents, noise):
    amount = cents / 100
    assert content_hash({"C9": amount + noise}) == content_hash({"C9": amount})
    assert content_hash({"C9": amount + 0.01}) != content_hash({"C9": amount})


def test_numpy_scalars_hash_like_python_numbers():
    assert content_hash({"B2": np.float64(12.5), "C2": np.int64(3), "D2": np.bool_(True)}) \
        == content_hash({"B2": 12.5, "C2": 3, "D2": True})


def test_text_is_compared_in_nfc():
    composed = unicodedata.normalize("NFC", "Réconciliation — Café")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    assert content_hash({"A1": composed}) == content_hash({"A1": decomposed})


def test_a_cell_given_twice_is_a_fault():
    with pytest.raises(ValueError, match="twice"):
        canonical_cells({"B7": 1.0, "$B$7": 1.0})


@pytest.mark.parametrize(("ref", "value"), [
    ("B5", 812_345.68),  # one cent
    ("A5", "COGS "),  # text is taken as is
    ("D5", FormulaCell("C5-B5+0", 0.0)),  # formula text
    ("D5", 0.0),  # formula replaced by its value
    ("B9", 0.01),  # a new cell
    ("B5", "812345.67"),  # a number turned into text
])
def test_a_change_at_or_beyond_a_cent_changes_the_hash(ref, value):
    assert content_hash({**RECON_V1, ref: value}) != content_hash(RECON_V1)


def test_inputs_hash_ignores_padding_and_sheet_order_but_not_sub_cent_prices():
    padded = {"Prices": [["Family", "2025-03", None], ["PUMPS-200", 1041.6667, ""], []],
              "Demand": [["Scenario", "Family", "2025-03"], ["Base", "PUMPS-200", 1200.0]]}
    assert inputs_hash(padded) == inputs_hash(INPUTS_MARCH)
    cheaper = {**INPUTS_MARCH, "Prices": [["Family", "2025-03"], ["PUMPS-200", 1041.6666]]}
    assert inputs_hash(cheaper) != inputs_hash(INPUTS_MARCH)
    renamed = {"Supply" if k == "Demand" else k: v for k, v in INPUTS_MARCH.items()}
    assert inputs_hash(renamed) != inputs_hash(INPUTS_MARCH)


# --- digests ---------------------------------------------------------------------------------

def test_digest_column_has_one_cell_per_content_row_and_reads_back():
    column = digest_cells(RECON_V1, DIGEST_COLUMN)
    assert sorted(column) == ["H1", "H3", "H4", "H5", "H6"]
    assert column["H4"].split()[0] == "sopfin-digest/1"
    assert [t[:3] for t in column["H4"].split()[1:]] == ["A=v", "B=v", "C=v", "D=f"]
    recorded, unreadable = recorded_digests({**RECON_V1, **column})
    assert unreadable == []
    assert recorded == cell_digests(RECON_V1)
    assert len(recorded) == sum(v is not None for v in RECON_V1.values())
    # Digests cover the reference: the same value in another cell digests differently.
    assert cell_digests({"B5": 1.0})["B5"] != cell_digests({"C5": 1.0})["C5"]


def test_digest_column_must_be_free_of_content():
    with pytest.raises(ValueError, match="digest column"):
        digest_cells({**RECON_V1, "H2": "note"}, DIGEST_COLUMN)


# --- building the ledger ---------------------------------------------------------------------

def test_entry_hash_and_hmac_cover_every_field_but_themselves():
    ledger, _ = build()
    first = ledger[0]
    expected = ns("sopfin/ledger-entry/1") + b"".join(
        ns(f"{name}={getattr(first, name)}") for name in LEDGER_COLUMNS_V1
        if name not in ("entry_hash", "hmac"))
    assert entry_bytes(first) == expected, "an entry without an identity keeps format 1"
    assert first.entry_hash == hashlib.sha256(expected).hexdigest()
    assert first.hmac == hmac.new(KEY, expected, hashlib.sha256).hexdigest()
    assert first.prev_hash == "0" * 64


def test_an_entry_with_a_workbook_identity_covers_it_in_format_2():
    entry = new_entry([], event="publish", version=1, cycle="2025-03", timestamp="t",
                      author="a", status="draft", input_hash="i", recon_hash="r", key=KEY,
                      workbook_id="wb-1", input_sheets="Demand=00ff")
    expected = ns("sopfin/ledger-entry/2") + b"".join(
        ns(f"{name}={getattr(entry, name)}") for name in LEDGER_COLUMNS_V2
        if name not in ("entry_hash", "hmac"))
    assert entry_bytes(entry) == expected
    moved = replace(entry, workbook_id="wb-2")
    assert compute_entry_hash(moved) != entry.entry_hash, "the identity is hashed"
    kinds = {f.code for f in verify_ledger([moved], {}, KEY)}
    assert {IssueCode.ENTRY_ALTERED, IssueCode.HMAC_MISMATCH} <= kinds


def test_the_chain_links_each_entry_to_the_previous_one():
    ledger, _ = build()
    assert [e.seq for e in ledger] == [1, 2, 3]
    assert [e.prev_hash for e in ledger[1:]] == [e.entry_hash for e in ledger[:-1]]
    assert head_hash(ledger) == ledger[-1].entry_hash
    assert head_hash([]) == GENESIS_HASH


def test_without_a_key_there_is_no_hmac():
    ledger, _ = build(key=None)
    assert [e.hmac for e in ledger] == ["", "", ""]


def test_an_event_must_carry_its_status():
    with pytest.raises(ValueError, match="status"):
        new_entry([], event="publish", version=1, cycle="2025-03", timestamp="t",
                  author="a", status="approved", input_hash="", recon_hash="")


def test_next_version_and_current_status():
    ledger, _ = build()
    assert next_version([]) == 1
    assert next_version(ledger) == 3
    assert current_status(ledger) == {1: "approved", 2: "draft"}
    assert current_status(ledger[:1]) == {1: "draft"}


# --- verification: clean ---------------------------------------------------------------------

def test_an_untouched_keyed_ledger_verifies():
    ledger, tabs = build()
    assert verify_ledger(ledger, tabs, KEY) == []


def test_an_unkeyed_ledger_verifies_without_a_key():
    ledger, tabs = build(key=None)
    assert verify_ledger(ledger, tabs, None) == []


def test_hmacs_without_a_key_are_reported_as_unchecked():
    ledger, tabs = build()
    [finding] = verify_ledger(ledger, tabs, None)
    assert finding.code is IssueCode.HMAC_UNCHECKED
    assert finding.severity is Severity.WARNING


def test_float_noise_below_a_cent_is_not_tampering():
    ledger, tabs = build()
    tabs[1] = {**tabs[1], "B5": 812_345.67 + 0.004, "C6": 402_118.20 - 1e-6,
               "D6": FormulaCell("C6-B6", -0.0500000001)}
    assert verify_ledger(ledger, tabs, KEY) == []


# --- verification: tampering -----------------------------------------------------------------

def test_an_edited_value_is_named_by_its_cell():
    ledger, tabs = build()
    tabs[1] = {**tabs[1], "B5": 812_355.67}
    [finding] = verify_ledger(ledger, tabs, KEY)
    assert finding.code is IssueCode.TAMPERED_CELL
    assert finding.where == CellRef("Recon v001", "B5")
    assert finding.version == 1
    assert "812355.67" in finding.message
    assert finding.format("Plan.xlsx").startswith("Plan.xlsx!Recon v001!B5: expected")


def test_cleared_added_and_overwritten_formula_cells_are_named():
    ledger, tabs = build()
    tampered = {**tabs[2], "D5": 0.0, "E7": "adj", "C6": None}
    tabs[2] = tampered
    found = {(f.code, f.where.cell) for f in verify_ledger(ledger, tabs, KEY)}
    assert found == {(IssueCode.OVERWRITTEN_FORMULA, "D5"),
                     (IssueCode.TAMPERED_CELL, "C6"),
                     (IssueCode.TAMPERED_CELL, "E7")}


def test_an_edit_with_rewritten_digests_is_caught_at_tab_level():
    ledger, tabs = build()
    edited = {**RECON_V1, "B5": 800_000.00}
    tabs[1] = published(edited)
    assert kinds(verify_ledger(ledger, tabs, KEY)) == ["tampered-tab"]


def test_an_edited_digest_cell_is_reported():
    ledger, tabs = build()
    tabs[1] = {**tabs[1], "H5": "sopfin-digest/1 B=garbage"}
    [finding] = verify_ledger(ledger, tabs, KEY)
    assert (finding.code, finding.where) == (IssueCode.TAMPERED_CELL, CellRef("Recon v001", "H5"))


def test_a_tab_without_digests_is_caught_without_naming_cells():
    ledger, tabs = build()
    tabs[2] = {**RECON_V2, "B4": 1.0}
    assert kinds(verify_ledger(ledger, tabs, KEY)) == ["tampered-tab"]


def test_an_edit_with_a_recomputed_recon_hash_breaks_the_entry():
    ledger, tabs = build(key=None)
    tabs[1] = published({**RECON_V1, "B5": 800_000.00})
    ledger[0] = replace(ledger[0], recon_hash=content_hash(tabs[1]))
    findings = verify_ledger(ledger, tabs, None)
    # The forged publish row no longer matches its hash, and the approval that follows still
    # names the content that was really published.
    assert kinds(findings) == ["entry-altered", "invalid-event"]
    assert findings[0].where == CellRef("_Ledger", "K2")


def test_an_edit_with_all_plain_hashes_recomputed_is_caught_only_with_the_key():
    ledger, tabs = build()
    tabs[1] = published({**RECON_V1, "B5": 800_000.00})
    forged_hash = content_hash(tabs[1])
    edited = [replace(e, recon_hash=forged_hash) if e.version == 1 else e for e in ledger]
    forged = rechain(edited)
    assert kinds(verify_ledger(forged, tabs, None)) == ["hmac-unchecked"]  # the only trace
    findings = verify_ledger(forged, tabs, KEY)
    assert kinds(findings) == ["hmac-mismatch"] * 3
    assert [f.where.cell for f in findings] == ["L2", "L3", "L4"]


def test_blanking_hmacs_on_some_rows_is_an_error_and_on_all_rows_a_warning():
    ledger, tabs = build()
    some = rechain([replace(e, note="re-run") if e.seq == 3 else e for e in ledger],
                   hmac_of=lambda e: "" if e.seq == 3 else e.hmac)
    assert kinds(verify_ledger(some, tabs, KEY)) == ["hmac-missing"]
    every = rechain(ledger, hmac_of=lambda e: "")
    findings = verify_ledger(every, tabs, KEY)
    assert kinds(findings) == ["hmac-unchecked"] * 3
    assert {f.severity for f in findings} == {Severity.WARNING}


def test_a_forged_approval_appended_without_the_key():
    ledger, tabs = build()
    forged = ledger + [new_entry(ledger, event="approve", version=2, cycle="2025-04",
                                 timestamp="2025-04-05T23:59:00Z", author="m.ruiz",
                                 status="approved", input_hash=ledger[2].input_hash,
                                 recon_hash=ledger[2].recon_hash)]
    assert current_status(forged)[2] == "approved"
    [finding] = verify_ledger(forged, tabs, KEY)
    assert (finding.code, finding.where.cell) == (IssueCode.HMAC_MISSING, "L5")


def test_a_wrong_key_fails_every_row():
    ledger, tabs = build()
    assert kinds(verify_ledger(ledger, tabs, b"another key")) == ["hmac-mismatch"] * 3


def test_a_deleted_tab_and_an_unlisted_tab():
    ledger, tabs = build()
    del tabs[2]
    tabs[7] = published(RECON_V2)
    findings = verify_ledger(ledger, tabs, KEY)
    assert [(f.code, f.version, f.where) for f in findings] == [
        (IssueCode.MISSING_TAB, 2, CellRef("Recon v002")),
        (IssueCode.EXTRA_TAB, 7, CellRef("Recon v007")),
    ]


def test_reordered_rows():
    ledger, tabs = build()
    swapped = [ledger[0], ledger[2], ledger[1]]
    findings = verify_ledger(swapped, tabs, KEY)
    assert IssueCode.REORDERED in {f.code for f in findings}
    assert IssueCode.BROKEN_CHAIN in {f.code for f in findings}
    reordered = [f for f in findings if f.code is IssueCode.REORDERED]
    assert [f.where.cell for f in reordered] == ["A4"]


def test_a_deleted_middle_entry():
    ledger, tabs = build()
    findings = verify_ledger([ledger[0], ledger[2]], tabs, KEY)
    assert kinds(findings) == ["broken-chain", "missing-entry"]
    broken = next(f for f in findings if f.code is IssueCode.BROKEN_CHAIN)
    assert broken.where == CellRef("_Ledger", "J3")
    assert "seq 2" in next(f for f in findings if f.code is IssueCode.MISSING_ENTRY).message


def test_a_changed_status():
    ledger, tabs = build()
    ledger[2] = replace(ledger[2], status="approved")
    findings = verify_ledger(ledger, tabs, KEY)
    assert kinds(findings) == ["entry-altered", "hmac-mismatch", "invalid-event"]
    assert {f.version for f in findings} == {2}


def test_duplicated_row():
    ledger, tabs = build()
    findings = verify_ledger(ledger + [ledger[2]], tabs, KEY)
    assert "reordered" in kinds(findings) and "broken-chain" in kinds(findings)


def test_event_rules():
    ledger, tabs = build(key=None)
    extra = [
        new_entry(ledger, event="approve", version=9, cycle="x", timestamp="t", author="a",
                  status="approved", input_hash="", recon_hash=ledger[2].recon_hash),
    ]
    extra.append(new_entry(ledger + extra, event="publish", version=5, cycle="x",
                           timestamp="t", author="a", status="draft", input_hash="",
                           recon_hash=ledger[2].recon_hash))
    findings = verify_ledger(ledger + extra, {**tabs, 5: tabs[2]}, None)
    messages = [f.message for f in findings]
    assert kinds(findings) == ["invalid-event", "invalid-event"]
    assert any("never published" in m for m in messages)
    assert any("expected version 3, found 5" in m for m in messages)


def test_truncating_the_tail_and_its_tab_needs_an_outside_anchor():
    ledger, tabs = build()
    kept_head = head_hash(ledger)  # what the user kept after publishing v2
    truncated, trimmed_tabs = ledger[:2], {1: tabs[1]}
    assert verify_ledger(truncated, trimmed_tabs, KEY) == []  # undetectable from inside
    assert head_hash(truncated) != kept_head
    assert compare_ledgers(ledger, truncated).relation is Relation.A_AHEAD


# --- comparing copies ------------------------------------------------------------------------

def test_compare_ledgers():
    ledger, _ = build()
    same = compare_ledgers(ledger, list(ledger))
    assert (same.relation, same.common_seq, same.common_version) == (Relation.SAME, 3, 2)
    behind = compare_ledgers(ledger[:2], ledger)
    assert (behind.relation, behind.common_seq, behind.common_version) == (Relation.B_AHEAD, 2, 1)
    assert behind.head_b == ledger[-1].entry_hash
    fork = ledger[:2] + [new_entry(ledger[:2], event="publish", version=2, cycle="2025-04",
                                   timestamp="2025-04-03T10:00:00Z", author="j.okafor",
                                   status="draft", input_hash="", recon_hash="", key=KEY)]
    forked = compare_ledgers(ledger, fork)
    assert (forked.relation, forked.common_seq, forked.common_version) == (Relation.FORKED, 2, 1)
    # The hmac is outside entry_hash: the same events under another key are the same chain.
    other, _ = build(key=b"another workbook")
    assert compare_ledgers(ledger, other).relation is Relation.SAME
    disjoint = compare_ledgers(ledger, ledger[1:])
    assert (disjoint.relation, disjoint.common_seq, disjoint.common_version) == (
        Relation.FORKED, 0, 0)


# --- the key ---------------------------------------------------------------------------------

def test_load_key_sources(tmp_path):
    assert load_key({}) is None
    assert load_key({"SOPFIN_KEY": "  "}) is None
    assert load_key({"SOPFIN_KEY": KEY.hex()}) == KEY
    assert load_key({"SOPFIN_KEY": "correct horse battery"}) == b"correct horse battery"
    assert load_key({"SOPFIN_KEY": "deadbeef"}) == b"deadbeef"  # too short to be a hex key
    hex_file = tmp_path / "ledger.key"
    hex_file.write_text(KEY.hex() + "\n")
    raw_file = tmp_path / "raw.key"
    raw_file.write_bytes(b"\x00\x01\xfe\xff" * 8)
    assert load_key({"SOPFIN_KEY_FILE": str(hex_file)}) == KEY
    assert load_key({"SOPFIN_KEY": "env wins over env file", "SOPFIN_KEY_FILE": str(hex_file)}) \
        == b"env wins over env file"
    assert load_key({"SOPFIN_KEY": "argument wins"}, key_file=str(raw_file)) \
        == b"\x00\x01\xfe\xff" * 8


def test_load_key_faults(tmp_path):
    with pytest.raises(LedgerKeyError, match="cannot read"):
        load_key({"SOPFIN_KEY_FILE": str(tmp_path / "absent.key")})
    empty = tmp_path / "empty.key"
    empty.write_text("\n")
    with pytest.raises(LedgerKeyError, match="empty"):
        load_key({}, key_file=str(empty))


# --- through a real workbook -----------------------------------------------------------------

def read_tab(path, sheet):
    """A tab as verify receives it: formula cells with formula text and cached value."""
    formulas = openpyxl.load_workbook(path, data_only=False)[sheet]
    cached = openpyxl.load_workbook(path, data_only=True)[sheet]
    cells = {}
    for row in formulas.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            value = cached[cell.coordinate].value
            is_formula = isinstance(cell.value, str) and cell.value.startswith("=")
            cells[cell.coordinate] = FormulaCell(cell.value[1:], value) if is_formula else value
    return cells


def test_a_published_tab_survives_the_xlsx_round_trip(tmp_path):
    tab = published(RECON_V1)
    grid = [[None] * 8 for _ in range(6)]
    formulas = [[None] * 8 for _ in range(6)]
    for ref, value in tab.items():
        row, col = int(ref[1:]) - 1, ord(ref[0]) - ord("A")
        if isinstance(value, FormulaCell):
            grid[row][col], formulas[row][col] = value.value, value.formula
        else:
            grid[row][col] = value
    lock = hash_password("close-2025-03", spin_count=1_000)
    path = tmp_path / "Plan.xlsx"
    create_workbook(path, [SheetSpec("Recon v001", [Block(1, 1, grid, formulas)],
                                     protection=lock)])
    back = read_tab(path, "Recon v001")
    assert content_hash(back) == content_hash(tab)
    stored = openpyxl.load_workbook(path)["Recon v001"].protection
    as_read = SheetProtection(stored.algorithmName, stored.hashValue, stored.saltValue,
                              int(stored.spinCount))
    assert stored.sheet and check_password("close-2025-03", as_read)
    assert not check_password("close-2025-04", as_read)
    ledger = [new_entry([], event="publish", version=1, cycle="2025-03", timestamp="t",
                        author="a.chen", status="draft", input_hash="",
                        recon_hash=content_hash(tab), key=KEY)]
    assert verify_ledger(ledger, {1: back}, KEY) == []
    back["C5"] = 812_999.99
    [finding] = verify_ledger(ledger, {1: back}, KEY)
    assert finding.where == CellRef("Recon v001", "C5")
