"""Excel conformance, measured: every package sopfin writes passes the Open XML SDK's checks.

Excel cannot run here. The closest independent check is ``openxml-audit``, a port of the
Open XML SDK validator: package structure, relationships, every XML part against the schema
constraints, SpreadsheetML's semantic rules. The closed demo must have no finding other than
the documented Excel rewrite behaviour (inline strings, docs/workbook.md); the corpus side of
the measurement (adopting real workbooks adds no finding) is in test_corpus_pipeline.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sopfin import layout
from sopfin.cli import main
from sopfin.model import CellRef, Issue, IssueCode, Severity
from sopfin.plan.blank_plan import TEMPLATE_PATH
from sopfin.plan.demo import demo_sheets
from sopfin.render.issues_sheet import render_issues
from sopfin.xlsx.read import sheet_parts
from sopfin.xlsx.writer import create_workbook, sheet_names, write_sheets
from xlsx_helpers.conformance import (
    KNOWN_REWRITES,
    added_by_writing,
    errors,
    package_findings,
    part_findings,
)
from xlsx_helpers.ecma_schemas import ENV, schema_folder, xsd_findings
from xlsx_helpers.libreoffice import convert
from xlsx_helpers.packages import parts, rebuild

REPO = Path(__file__).resolve().parents[1]
STYLES = "xl/styles.xml"


@pytest.fixture(scope="module")
def closed_demo(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.xlsx"
    assert main(["demo", str(path), "-q"]) == 0
    assert main(["close", str(path), "--author", "Conformance", "-q"]) == 0
    return path


@pytest.fixture(scope="module")
def demo_findings(closed_demo):
    return package_findings(closed_demo)


def test_the_closed_demo_has_no_finding(demo_findings):
    found = errors(demo_findings)
    assert not found, "\n".join(map(str, found))


def test_the_only_warning_is_the_documented_rewrite_on_sopfin_sheets(closed_demo,
                                                                     demo_findings):
    """Inline strings are the one known Excel rewrite; they appear on worksheets only."""
    assert {f.code for f in demo_findings} <= KNOWN_REWRITES
    assert all(f.part.startswith("xl/worksheets/sheet") for f in demo_findings)


def test_the_closed_demo_passes_the_ecma_schemas(closed_demo):
    """The second opinion, run when the ECMA-376 XSDs are at hand (docs/workbook.md)."""
    folder = schema_folder()
    if folder is None:
        pytest.skip(f"set {ENV} to a folder with the ECMA-376 transitional schemas")
    found = xsd_findings(folder, closed_demo)
    assert not found, "\n".join(found[:20])


def _move(pattern: str, before: str):
    """An edit that cuts the first match of ``pattern`` and pastes it right before ``before``."""
    def edit(text: str) -> str:
        m = re.search(pattern, text, flags=re.S)
        assert m, pattern
        text = text[:m.start()] + text[m.end():]
        return text.replace(before, m.group(0) + before, 1)
    return edit


def _replace(old: str, new: str):
    def edit(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, 1)
    return edit


@pytest.mark.parametrize(("part", "edit"), [
    ("xl/workbook.xml", _move(r"<definedNames>.*?</definedNames>", "</workbook>")),
    ("xl/workbook.xml", _replace('state="veryHidden"', 'state="secret"')),
    (STYLES, _move(r"<fonts[ >].*?</fonts>", "<cellXfs")),
    ("xl/charts/chart1.xml", _move(r"<c:legend>.*?</c:legend>", "<c:plotArea>")),
], ids=["definedNames-after-calcPr", "unknown-sheet-state", "fonts-after-cellStyleXfs",
        "legend-before-plotArea"])
def test_the_check_catches_a_broken_part(closed_demo, tmp_path, part, edit):
    """The measurement can fail: the same package with one part broken is flagged there."""
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(closed_demo.read_bytes())

    def edit_part(p: dict[str, bytes]) -> dict[str, bytes]:
        p[part] = edit(p[part].decode("utf-8")).encode("utf-8")
        return p

    rebuild(broken, edit_part)
    flagged = {f.part for f in errors(part_findings(broken, [part]))}
    assert flagged == {part}


def _with_font0(path: Path, font: str) -> None:
    def edit(p: dict[str, bytes]) -> dict[str, bytes]:
        text = p[STYLES].decode("utf-8")
        p[STYLES] = re.sub(r"<font>.*?</font>", font, text, count=1, flags=re.S).encode()
        return p

    rebuild(path, edit)


def test_fonts_sopfin_adds_keep_the_base_font_children_in_schema_order(tmp_path):
    """A workbook whose default font names a charset (ClosedXML, and Excel in some locales,
    write one): the bold and coloured fonts dollarize adds copy name, family, charset and
    scheme in CT_Font's order."""
    path = tmp_path / "plan.xlsx"
    create_workbook(path, demo_sheets(families=4, scenarios=("base",)))
    _with_font0(path, '<font><sz val="11"/><color theme="1"/><name val="Calibri"/>'
                      '<family val="2"/><charset val="204"/><scheme val="minor"/></font>')
    assert not errors(part_findings(path, [STYLES]))
    assert main(["dollarize", str(path), "-q"]) == 0
    assert parts(path)[STYLES].count(b'<charset val="204"/>') > 1, "no font was added"
    found = errors(part_findings(path, [STYLES]))
    assert not found, "\n".join(map(str, found))


def test_approving_and_closing_again_add_no_finding(closed_demo, tmp_path):
    """approve appends an approval to the ledger; closing again rewrites the ledger
    and the output sheets and, when it publishes, adds the next Recon tab beside v001."""
    path = tmp_path / "later.xlsx"
    path.write_bytes(closed_demo.read_bytes())
    assert main(["approve", str(path), "--version", "1", "--by", "CFO", "-q"]) == 0
    assert main(["close", str(path), "--author", "Conformance", "-q"]) == 0
    found = added_by_writing(closed_demo, path)
    assert not found, "\n".join(map(str, found))


def test_an_issues_sheet_with_links_has_no_finding(closed_demo, tmp_path):
    """The demo is clean, so its Issues sheet has no rows; one with an error and a warning
    carries hyperlinks and the error, warning and link styles."""
    path = tmp_path / "issues.xlsx"
    path.write_bytes(closed_demo.read_bytes())
    issues = [Issue(IssueCode.MISSING_COLUMN, Severity.ERROR, CellRef("Demand", "A1"),
                    "column 'Family' is missing", "add it"),
              Issue(IssueCode.UNKNOWN_COLUMN, Severity.WARNING, CellRef("Prices", "Z1"),
                    "column 'Notes' is not used", "")]
    write_sheets(path, [render_issues(issues, "Issues")])
    found = added_by_writing(closed_demo, path)
    assert not found, "\n".join(map(str, found))
    assert b"<hyperlinks>" in parts(path)[_issues_part(path)]


def _issues_part(path: Path) -> str:
    with zipfile.ZipFile(path) as zf:
        return sheet_parts(zf)[layout.ISSUES]


def test_the_output_sheets_are_what_was_validated(closed_demo):
    """Guard for the measurement: the demo holds every output sheet and a Recon tab."""
    names = sheet_names(closed_demo)
    assert {*layout.OUTPUT_SHEET_NAMES, layout.recon_tab_name(1), layout.LEDGER} <= set(names)


def test_the_shipped_template_and_the_built_addin_have_no_finding(tmp_path):
    """The other packages sopfin writes: templates/plan.xlsx and the sopfin.xlam add-in."""
    xlam = tmp_path / "sopfin.xlam"
    done = subprocess.run([sys.executable, "addin/build.py", "--out", str(xlam)], cwd=REPO,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    found = errors([*package_findings(TEMPLATE_PATH), *package_findings(xlam)])
    assert not found, "\n".join(map(str, found))


@pytest.mark.libreoffice
def test_writing_into_a_libreoffice_saved_workbook_adds_no_finding(soffice, tmp_path):
    """A plan workbook last saved by LibreOffice (its own workbook.xml, styles and shared
    strings): the parts dollarize and close write or edit add no finding to it."""
    plan = tmp_path / "plan.xlsx"
    create_workbook(plan, demo_sheets(families=4, scenarios=("base",)))
    saved = convert(soffice, [plan], tmp_path / "saved", "xlsx:Calc MS Excel 2007 XML")[plan]
    assert saved is not None, "LibreOffice did not save the workbook"
    result = tmp_path / "result.xlsx"
    result.write_bytes(saved.read_bytes())
    assert main(["dollarize", str(result), "-q"]) == 0
    assert main(["close", str(result), "--author", "Conformance", "-q"]) == 0
    new = added_by_writing(saved, result)
    assert not new, "\n".join(map(str, new))
