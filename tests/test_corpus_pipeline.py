"""Adopt sopfin in every real-world workbook of the shared corpus, end to end.

For each file, as an analyst would: ``sopfin init`` adds the input sheets; the inputs are
filled in (the init-created sheet parts are replaced by filled ones, as typing into them
would); ``sopfin dollarize`` writes the output sheets; ``dollarize`` again; then ``sopfin close``
publishes Recon v001 and the ledger. After that,
every original part is byte-identical (but for the one view attribute a close may clear: the
workbook opens on the new Recon tab, so no other sheet may stay selected, or Excel would
group them), the registry parts keep every original element, the Open XML SDK's checks find
nothing the original did not have, and openpyxl and LibreOffice open the result wherever they
opened the original. Structure-
protected and Strict workbooks are refused by both commands and left byte-identical.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from sopfin import layout
from sopfin.cli import main
from sopfin.plan.demo import demo_sheets
from sopfin.xlsx.activetab import deselect, is_selected
from sopfin.xlsx.read import read_raw_sheets, sheet_parts
from sopfin.xlsx.writer import create_workbook, owned_sheet_names, sheet_names
from xlsx_helpers.conformance import added_by_writing
from xlsx_helpers.corpus import (
    expected_refusal,
    is_registry,
    is_subsequence,
    parts,
    signatures,
)
from xlsx_helpers.ecma_schemas import ENV, schema_folder, xsd_added_by_writing
from xlsx_helpers.libreoffice import opened_before_not_after
from xlsx_helpers.packages import rebuild

pytestmark = [pytest.mark.corpus, pytest.mark.filterwarnings("ignore::UserWarning:openpyxl")]

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
if not (CORPUS / "MANIFEST.json").exists():
    pytest.skip(f"the shared workbook corpus is not at {CORPUS}", allow_module_level=True)
FILES = [e["file"] for e in json.loads((CORPUS / "MANIFEST.json").read_text())]
STYLE_ATTR = re.compile(rb'\ss="\d+"')


@pytest.fixture(scope="module")
def filled_parts(tmp_path_factory) -> dict[str, bytes]:
    """Sheet XML of small filled input sheets (4 families, one scenario), style-free so the
    parts fit any workbook's stylesheet."""
    donor = tmp_path_factory.mktemp("donor") / "inputs.xlsx"
    create_workbook(donor, demo_sheets(families=4, scenarios=("base",)))
    with zipfile.ZipFile(donor) as zf:
        where = sheet_parts(zf)
        return {name: STYLE_ATTR.sub(b"", zf.read(where[name]))
                for name in layout.INPUT_SHEET_NAMES}


def fill_inputs(path: Path, filled: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        where = sheet_parts(zf)

    def edit(p: dict[str, bytes]) -> dict[str, bytes]:
        for name, data in filled.items():
            p[where[name]] = data
        return p

    rebuild(path, edit)


@dataclass
class Outcome:
    file: str
    original: Path
    result: Path
    refusal: type[Exception] | None
    codes: tuple[int, ...] = ()


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory, filled_parts) -> dict[str, Outcome]:
    work = tmp_path_factory.mktemp("adopt")
    out = {}
    for name in FILES:
        original = CORPUS / name
        result = work / name
        shutil.copyfile(original, result)
        o = Outcome(name, original, result, expected_refusal(original))
        codes = [main(["init", str(result), "-q"])]
        if codes[0] == 0:
            fill_inputs(result, filled_parts)
            codes.append(main(["dollarize", str(result), "-q"]))
            codes.append(main(["dollarize", str(result), "-q"]))
            codes.append(main(["close", str(result), "--author", "corpus", "-q"]))
        o.codes = tuple(codes)
        out[name] = o
    return out


def only_deselected(before: bytes, after: bytes) -> bool:
    """True when a worksheet part changed only by losing ``tabSelected`` from its view."""
    try:
        text = before.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return is_selected(text) and deselect(text).encode("utf-8") == after


@pytest.mark.parametrize("name", FILES)
def test_init_and_dollarize_keep_every_original_part(outcomes, name):
    o = outcomes[name]
    if o.refusal is not None:
        assert o.codes == (2,), f"expected a refusal (exit 2), got exit codes {o.codes}"
        assert o.result.read_bytes() == o.original.read_bytes()
        return
    assert o.codes == (0, 0, 0, 0), f"exit codes of init, dollarize x2, close: {o.codes}"
    original, after = parts(o.original), parts(o.result)
    assert list(after)[: len(original)] == list(original), "an original part moved or vanished"
    changed = [n for n in original if original[n] != after[n] and not is_registry(n)
               and not only_deselected(original[n], after[n])]
    assert not changed, f"parts changed: {changed}"
    for n in original:
        if is_registry(n) and original[n] != after[n]:
            assert is_subsequence(signatures(original[n]), signatures(after[n])), \
                f"{n} lost or reordered original elements"
    before = sheet_names(o.original)
    published = [layout.recon_tab_name(1), layout.LEDGER, layout.INPUT_ROWS]
    assert sheet_names(o.result) == [*before, *layout.PLAN_SHEET_NAMES,
                                     *layout.OUTPUT_SHEET_NAMES, *published]
    assert owned_sheet_names(o.result) == {*layout.OUTPUT_SHEET_NAMES, *published}


def test_every_adopted_workbook_verifies(outcomes):
    from sopfin.close.verify import run_verify

    failures = [f"{o.file}: {run_verify(o.result).lines()}" for o in outcomes.values()
                if o.refusal is None and not run_verify(o.result).ok]
    assert not failures, "\n".join(failures)


def test_the_written_figures_are_there(outcomes):
    """The Summary of one adopted workbook carries the plan's revenue as cached values."""
    o = next(o for o in outcomes.values() if o.refusal is None)
    rows = read_raw_sheets(o.result, ["Summary"])["Summary"].rows
    revenue = [r for r in rows if len(r) > 4 and r[1] == "Revenue" and r[2] == "Plan"]
    assert revenue and all(isinstance(v, float) and v > 0 for v in revenue[0][4:10])


def test_openpyxl_opens_every_result_it_opened_before(outcomes):
    failures = []
    for o in outcomes.values():
        if o.refusal is not None:
            continue
        try:
            openpyxl.load_workbook(o.original)
        except Exception:  # openpyxl cannot read the original either: nothing to compare
            continue
        try:
            book = openpyxl.load_workbook(o.result)
            assert book["Revenue"]["G3"].value.startswith("=")
        except Exception as exc:
            failures.append(f"{o.file}: {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.libreoffice
def test_libreoffice_opens_every_result_it_opened_before(outcomes, soffice, tmp_path):
    written = [o for o in outcomes.values() if o.refusal is None]
    opened, failures = opened_before_not_after(
        soffice, [(o.original, o.result) for o in written], tmp_path)
    assert opened >= len(written) // 2  # LibreOffice works: the check means something
    assert not failures, f"LibreOffice opens the original but not the result: {failures}"


def test_adopting_a_workbook_adds_no_conformance_finding(outcomes):
    """Open XML SDK checks (tests/xlsx_helpers/conformance.py) of every part sopfin wrote or
    edited, against the same parts of the original: sopfin's own parts have no finding, and a
    registry part keeps at most the findings the original already had."""
    failures = [f"{o.file}: {f}" for o in outcomes.values() if o.refusal is None
                for f in added_by_writing(o.original, o.result)]
    assert not failures, "\n".join(failures)


def test_adopting_a_workbook_adds_no_ecma_schema_error(outcomes):
    """The same comparison against the ECMA-376 XSDs, when they are at hand."""
    folder = schema_folder()
    if folder is None:
        pytest.skip(f"set {ENV} to a folder with the ECMA-376 transitional schemas")
    failures = [f"{o.file}: {f}" for o in outcomes.values() if o.refusal is None
                for f in xsd_added_by_writing(folder, o.original, o.result)]
    assert not failures, "\n".join(failures[:40])
