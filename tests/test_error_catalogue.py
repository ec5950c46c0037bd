"""Every issue code has a tiny failing workbook in tests/errors and its exact message.

Each workbook is read with the real reader (python-calamine plus the error-cell scan), parsed
and validated; the catalogued issue must be among the issues, word for word.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from sopfin import layout
from sopfin.engine.dollarize import dollarize
from sopfin.model import Issue, IssueCode, has_errors
from sopfin.plan.checks import validate
from sopfin.plan.finance_sheets import parse_finance
from sopfin.plan.read import parse_plan
from sopfin.xlsx.read import read_raw_sheets

TESTS = Path(__file__).resolve().parent
ERRORS = TESTS / "errors"
SOPFIN = TESTS.parent / "sopfin"
CATALOGUE = json.loads((ERRORS / "catalogue.json").read_text(encoding="utf-8"))


@functools.cache
def _generator():
    spec = importlib.util.spec_from_file_location("make_catalogue", ERRORS / "make_catalogue.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


def issues_of(path: Path) -> list[Issue]:
    """What check finds, and what dollarize finds in a plan check lets through."""
    raw = read_raw_sheets(path, layout.INPUT_SHEET_NAMES + layout.FINANCE_SHEET_NAMES)
    plan, issues = parse_plan(raw, source=path.name)
    if plan is None:
        return issues
    issues = issues + validate(plan) + parse_finance(raw, plan)[1]
    if has_errors(issues):
        return issues
    return issues + dollarize(plan)[1]


def test_the_base_workbook_has_no_issues():
    assert issues_of(ERRORS / "valid.xlsx") == []


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e["code"])
def test_catalogued_issue_is_reported_verbatim(entry):
    issues = issues_of(ERRORS / entry["file"])
    matching = [i for i in issues if i.code.value == entry["code"]]
    assert matching, [i.format() for i in issues]
    found = {(i.severity.value, str(i.where), i.format()) for i in matching}
    assert (entry["severity"], entry["cell"], entry["message"]) in found


def test_every_issue_code_is_catalogued_or_emitted_elsewhere():
    catalogued = {e["code"] for e in CATALOGUE}
    elsewhere = set(_generator().EMITTED_ELSEWHERE)
    reserved = set(_generator().NOT_REPORTED)
    assert not catalogued & elsewhere and not (catalogued | elsewhere) & reserved
    assert catalogued | elsewhere | reserved == {c.value for c in IssueCode}


@pytest.mark.parametrize("code", sorted(_generator().EMITTED_ELSEWHERE))
def test_a_code_emitted_elsewhere_is_checked_by_the_test_named_for_it(code):
    """The named test file asserts the code: quoted, in an output tag or as the member."""
    test_file, reason = _generator().EMITTED_ELSEWHERE[code]
    text = (TESTS / test_file).read_text(encoding="utf-8")
    member = IssueCode(code).name
    assert reason and re.search(rf"""["'\[]{code}["'\]]|IssueCode\.{member}\b""", text), \
        f"{test_file} does not check {code}"


@pytest.mark.parametrize("code", sorted(_generator().NOT_REPORTED))
def test_a_code_not_reported_is_used_nowhere_in_sopfin(code):
    member = IssueCode(code).name
    users = [p.name for p in SOPFIN.rglob("*.py") if p.name != "model.py"
             and re.search(rf"\.{member}\b|[\"']{code}[\"']", p.read_text(encoding="utf-8"))]
    assert users == [], f"{code} is reported by {users}: catalogue it"


def test_catalogue_json_matches_its_generator():
    cases = _generator().CASES
    assert [(c.file, c.code, c.severity, c.cell, c.message) for c in cases] == [
        (e["file"], e["code"], e["severity"], e["cell"], e["message"]) for e in CATALOGUE]
    assert all((ERRORS / e["file"]).is_file() for e in CATALOGUE)


@pytest.mark.parametrize("entry", CATALOGUE, ids=lambda e: e["code"])
def test_message_starts_with_the_location_and_ends_with_a_fix(entry):
    message = entry["message"]
    assert message.startswith(entry["cell"] + ": ")
    assert message.endswith(".")
    what, _, fix = message.rpartition("; ")
    assert what and fix, "a message needs what is wrong, then '; ' and the fix"
    verbs = ("add|fix|fill|type|rename|put|insert|enter|keep|merge|set|correct|check|delete|"
             "leave|use")
    assert re.match(rf"({verbs})\b", fix), f"the fix should say what to do: {fix!r}"


def test_every_issue_the_catalogue_produces_has_location_message_and_fix():
    for entry in CATALOGUE:
        for issue in issues_of(ERRORS / entry["file"]):
            assert issue.where.sheet, issue
            assert issue.message and issue.fix, issue
            assert issue.format("Plan.xlsx").startswith(f"Plan.xlsx!{issue.where}: ")
