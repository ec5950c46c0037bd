"""Every real-world workbook of the shared corpus survives sopfin's writes.

For each file: write two owned sheets and one input sheet, then replace the owned ones.
After each write every part sopfin does not own is byte-identical to the original, the
registry parts keep every original element in order (sopfin only inserts), and openpyxl and
LibreOffice still open the file wherever they opened the original. Structure-protected and
Strict Open XML files are refused and left byte-identical.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import openpyxl
import pytest

from sopfin.sheetspec import Block, Link, SheetSpec, Style
from sopfin.xlsx.writer import WriteReport, owned_sheet_names, sheet_names, write_sheets
from xlsx_helpers.corpus import (
    counts_match_children,
    expected_refusal,
    is_registry,
    is_subsequence,
    parts,
    signatures,
)
from xlsx_helpers.libreoffice import opened_before_not_after

pytestmark = [pytest.mark.corpus,
              pytest.mark.filterwarnings("ignore::UserWarning:openpyxl")]

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
if not (CORPUS / "MANIFEST.json").exists():
    pytest.skip(f"the shared workbook corpus is not at {CORPUS}", allow_module_level=True)
FILES = [e["file"] for e in json.loads((CORPUS / "MANIFEST.json").read_text())]
OUR_NAMES = ("SopfinRevenue", "SopfinSummary", "SopfinInputs")


def owned_specs(scale: float) -> list[SheetSpec]:
    grid = np.array([[1.0, 2.0], [3.0, 4.5]]) * scale
    return [
        SheetSpec(OUR_NAMES[0], blocks=[
            Block(1, 1, [["Family", "2027-01", "2027-02", "Total"]], style=Style.HEADER),
            Block(2, 1, [["PUMP-100"], ["PUMP-200"]]),
            Block(2, 2, grid, style=Style.MONEY),
            Block(2, 4, grid.sum(axis=1, keepdims=True), formulas=[["SUM(B2:C2)"],
                                                                   ["SUM(B3:C3)"]],
                  style=Style.MONEY_BOLD)],
            links=[Link("A2", f"{OUR_NAMES[1]}!A1")], freeze=(1, 1), col_widths={1: 16}),
        SheetSpec(OUR_NAMES[1], blocks=[
            Block(1, 1, [["Margin"]], style=Style.TITLE),
            Block(2, 1, np.array([[0.25]]), formulas=[[f"{OUR_NAMES[0]}!B2/4"]],
                  style=Style.PERCENT)], state="hidden"),
    ]


INPUT_SPEC = SheetSpec(OUR_NAMES[2], owned=False,
                       blocks=[Block(1, 1, [["Scenario", "Family"]], style=Style.INPUT_HEADER)])


@dataclass
class Outcome:
    file: str
    original: Path
    result: Path
    refusal: type[Exception] | None
    first: WriteReport | None = None
    second: WriteReport | None = None
    after_first: dict[str, bytes] = field(default_factory=dict)
    error: str = ""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, Outcome]:
    work = tmp_path_factory.mktemp("corpus")
    out = {}
    for name in FILES:
        original = CORPUS / name
        result = work / f"out_{name}"
        shutil.copyfile(original, result)
        o = Outcome(name, original, result, expected_refusal(original))
        try:
            o.first = write_sheets(result, [*owned_specs(1.0), INPUT_SPEC])
            o.after_first = parts(result)
            o.second = write_sheets(result, owned_specs(2.0))
        except Exception as exc:  # recorded per file and reported in the table
            o.error = f"{type(exc).__name__}: {exc}"
        out[name] = o
    return out


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(f) for f, _ in rows)
    return "\n".join(f"  {f:<{width}}  {what}" for f, what in rows)


@pytest.mark.parametrize("name", FILES)
def test_write_keeps_every_other_part_byte_identical(outcomes, name):
    o = outcomes[name]
    original = parts(o.original)
    if o.refusal is not None:
        assert o.error.startswith(o.refusal.__name__), o.error or "written, not refused"
        assert o.result.read_bytes() == o.original.read_bytes()
        return
    assert not o.error, o.error
    for label, after in (("first write", o.after_first), ("second write", parts(o.result))):
        names = list(after)
        kept = [n for n in original if n in after]
        assert kept == list(original), f"{label}: an original part was dropped"
        assert names[:len(original)] == list(original), f"{label}: original order changed"
        changed = [n for n in original if original[n] != after[n] and not is_registry(n)]
        assert not changed, f"{label}: parts changed: {changed}"
        for n in original:
            if is_registry(n) and original[n] != after[n]:
                assert is_subsequence(signatures(original[n]), signatures(after[n])), \
                    f"{label}: {n} lost or reordered original elements"
                if n.endswith("styles.xml") and counts_match_children(original[n]):
                    assert counts_match_children(after[n]), f"{label}: {n} counts are off"
        wb_old = original["xl/workbook.xml"].decode("utf-8-sig")
        wb_new = after["xl/workbook.xml"].decode("utf-8-sig")
        root_tag = wb_old[:wb_old.index(">", wb_old.index("<workbook")) + 1]
        assert root_tag in wb_new, f"{label}: the <workbook> root tag was re-serialised"


@pytest.mark.parametrize("name", FILES)
def test_sheets_are_listed_marked_and_replaced_in_place(outcomes, name):
    o = outcomes[name]
    if o.refusal is not None or o.error:
        pytest.skip("refused or failed: see the byte-identity test")
    before = sheet_names(o.original)
    assert sheet_names(o.result) == [*before, *OUR_NAMES]
    assert owned_sheet_names(o.result) == set(OUR_NAMES[:2])
    assert o.first.added == OUR_NAMES and o.second.replaced == OUR_NAMES[:2]
    assert o.second.added == ()
    styles = [n for n in o.after_first if n.endswith("styles.xml")]
    final = parts(o.result)
    assert all(final[n] == o.after_first[n] for n in styles), "styles.xml grew on replace"
    touched = set(o.second.parts)
    assert touched and all(n.startswith("xl/worksheets/sheet") for n in touched), touched
    signed = any(n.startswith("_xmlsignatures/") for n in final)
    assert any("re-sign" in w for w in o.second.warnings) == signed


def test_openpyxl_opens_every_result_it_opened_before(outcomes):
    rows = []
    for name, o in outcomes.items():
        if o.refusal is not None or o.error:
            continue
        try:
            openpyxl.load_workbook(o.original)
        except Exception:  # openpyxl cannot read the original either: nothing to compare
            continue
        try:
            wb = openpyxl.load_workbook(o.result)
            ws = wb[OUR_NAMES[0]]
            if ws["B3"].value != 6 or ws["D2"].value != "=SUM(B2:C2)":
                rows.append((name, f"wrong content: B3={ws['B3'].value!r}"))
        except Exception as exc:
            rows.append((name, f"{type(exc).__name__}: {exc}"))
    assert not rows, "openpyxl cannot open results it opened as originals:\n" + table(rows)


@pytest.mark.libreoffice
def test_libreoffice_converts_every_result_it_converted_before(outcomes, soffice,
                                                               tmp_path):
    written = [o for o in outcomes.values() if o.refusal is None and not o.error]
    converted, failures = opened_before_not_after(
        soffice, [(o.original, o.result) for o in written], tmp_path)
    rows = [(o.file, "LibreOffice failed on the result only") for o in written
            if o.original in failures]
    assert converted >= len(written) // 2, \
        "LibreOffice converted too few workbooks for the check to mean anything"
    assert not rows, "LibreOffice converts the original but not the result:\n" + table(rows)
