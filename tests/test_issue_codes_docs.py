"""The issue-code catalogue and the package limits in docs/workbook.md are generated from the
code (``sopfin.model.IssueCode``, ``sopfin.xlsx.limits.LIMITS``) and must not drift from it;
``python -m sopfin.xlsx.template --docs`` rewrites every generated table at once."""

from __future__ import annotations

import enum
import json
from pathlib import Path

import pytest

from sopfin.close.threats import THREATS_CLOSE, THREATS_OPEN
from sopfin.docs_tables import (
    ISSUE_CODES_CLOSE,
    ISSUE_CODES_OPEN,
    code_comments,
    documented_issue_codes,
    issue_catalogue,
    issue_codes_table,
    replace_issue_codes_section,
    reported_severities,
    with_marked_section,
)
from sopfin.model import IssueCode
from sopfin.plan.blank_plan import DOCS_CLOSE, DOCS_OPEN
from sopfin.xlsx.limits import LIMITS, LIMITS_CLOSE, LIMITS_OPEN, limits_table
from sopfin.xlsx.template import main as template_main

REPO = Path(__file__).resolve().parents[1]
REGENERATE = "python -m sopfin.xlsx.template --docs"
CATALOGUE = json.loads((REPO / "tests" / "errors" / "catalogue.json").read_text("utf-8"))
MARKERS = ((DOCS_OPEN, DOCS_CLOSE), (ISSUE_CODES_OPEN, ISSUE_CODES_CLOSE),
           (THREATS_OPEN, THREATS_CLOSE), (LIMITS_OPEN, LIMITS_CLOSE))


def docs_text() -> str:
    return (REPO / "docs" / "workbook.md").read_text(encoding="utf-8")


def documented_rows(text: str) -> dict[str, list[str]]:
    """Code -> [group, severity, meaning], read from the table between the markers."""
    rows: dict[str, list[str]] = {}
    for line in documented_issue_codes(text).splitlines():
        if not line.startswith("| `"):
            continue
        code, *rest = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert code.strip("`") not in rows, f"{code} is documented twice"
        rows[code.strip("`")] = rest
    return rows


def test_the_docs_hold_each_generated_table_once():
    text = docs_text()
    for opening, closing in MARKERS:
        assert text.count(opening) == 1 and text.count(closing) == 1, opening
        assert text.index(opening) < text.index(closing)


def test_the_issue_code_table_is_the_generated_one():
    text = docs_text()
    assert documented_issue_codes(text) == issue_codes_table(), (
        f"docs/workbook.md's issue codes differ from sopfin.model.IssueCode; run `{REGENERATE}`")
    assert replace_issue_codes_section(text) == text


def test_every_code_is_documented_once_with_a_group_and_a_meaning():
    rows = documented_rows(docs_text())
    assert list(rows) == [code.value for code in IssueCode], f"run `{REGENERATE}`"
    for code, (group, _severity, meaning) in rows.items():
        assert group, f"{code}: no group comment above it in sopfin.model.IssueCode"
        assert meaning, f"{code}: say what it means in a comment on its line in sopfin/model.py"


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e["code"])
def test_the_documented_severity_is_the_one_a_failing_workbook_gets(entry):
    """The error catalogue reads each tiny workbook with the real reader; the severity it
    records must be among those the docs list for the code."""
    severities = documented_rows(docs_text())[entry["code"]][1]
    assert entry["severity"] in severities.split(", "), (entry["code"], severities)


def test_meanings_and_groups_come_from_the_comments_of_the_enum():
    class Codes(enum.StrEnum):
        # money
        PRICE = "price"  # a price below zero
        COST = "cost"
        # time
        MONTH = "month"  # a month | out of range

    assert code_comments(Codes) == {"PRICE": ("money", "a price below zero"),
                                    "COST": ("money", ""),
                                    "MONTH": ("time", "a month | out of range")}


def test_severities_are_read_from_the_calls_that_report_a_code(tmp_path: Path):
    (tmp_path / "step.py").write_text(
        "def check(where):\n"
        "    yield Issue(IssueCode.MISSING_PRICE, Severity.ERROR, where, 'no price')\n"
        "    yield Issue(code=IssueCode.MISSING_PRICE, severity=Severity.WARNING,\n"
        "                where=where, message='no price yet')\n"
        "    yield make(IssueCode.DUPLICATE_ROW, where)\n", encoding="utf-8")
    assert reported_severities(tmp_path) == {"MISSING_PRICE": {"ERROR", "WARNING"}}


def test_a_drifted_catalogue_is_detected_and_regenerated():
    text = docs_text()
    first = issue_catalogue()[0].code.value
    drifted = text.replace(f"| `{first}` |", "| `renamed-code` |", 1)
    assert documented_issue_codes(drifted) != issue_codes_table()
    assert replace_issue_codes_section(drifted) == text


def test_a_group_or_meaning_with_a_bar_stays_one_cell():
    entry = issue_catalogue()[0]
    table = issue_codes_table([type(entry)(entry.code, "g | h", "a | b", ())])
    assert table.splitlines()[-1] == f"| `{entry.code.value}` | g \\| h | - | a \\| b |"


def test_the_limits_table_is_the_generated_one():
    text = docs_text()
    assert with_marked_section(text, LIMITS_OPEN, LIMITS_CLOSE, limits_table()) == text, (
        f"docs/workbook.md's limits differ from sopfin.xlsx.limits.LIMITS; run `{REGENERATE}`")
    assert [row.split(" | ")[0].strip("| `") for row in limits_table().splitlines()[2:]] == [
        variable for variable, *_ in LIMITS]


def test_the_readme_links_to_the_tables_instead_of_restating_them():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for variable, *_ in LIMITS:
        assert f"| `{variable}` |" not in readme, f"{variable} is tabled in the README too"
    assert "| change to the workbook |" not in readme


def test_the_docs_command_regenerates_every_table_of_a_stale_copy(tmp_path: Path, capsys):
    text = docs_text()
    stale = text
    for opening, closing in MARKERS:
        stale = with_marked_section(stale, opening, closing, "old table")
    copy = tmp_path / "workbook.md"
    copy.write_text(stale, encoding="utf-8")
    assert template_main(["--docs", str(copy)]) == 0
    assert copy.read_text(encoding="utf-8") == text
    assert template_main(["--docs", str(copy)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"{copy}: already up to date"


def test_the_docs_command_refuses_a_file_without_the_markers(tmp_path: Path, capsys):
    copy = tmp_path / "workbook.md"
    without = docs_text().replace(ISSUE_CODES_OPEN, "")
    copy.write_text(without, encoding="utf-8")
    assert template_main(["--docs", str(copy)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and ISSUE_CODES_CLOSE in err
    assert copy.read_text(encoding="utf-8") == without
