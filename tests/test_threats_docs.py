"""The threat model is one table: docs/workbook.md carries it as generated from
``sopfin.close.threats.THREATS``, and nowhere else restates it."""

from __future__ import annotations

from pathlib import Path

from sopfin.close import ledger as versions
from sopfin.close.threats import (
    THREATS,
    THREATS_CLOSE,
    THREATS_OPEN,
    documented_threats,
    replace_threats_section,
    threats_table,
)

REPO = Path(__file__).resolve().parents[1]


def docs_text() -> str:
    return (REPO / "docs" / "workbook.md").read_text(encoding="utf-8")


def test_the_docs_table_is_the_generated_one():
    text = docs_text()
    assert text.count(THREATS_OPEN) == 1 and text.count(THREATS_CLOSE) == 1
    assert documented_threats(text) == threats_table(), (
        "docs/workbook.md's threat model differs from sopfin.close.threats.THREATS; run "
        "python -m sopfin.xlsx.template --docs")
    assert replace_threats_section(text) == text


def test_every_threat_says_both_verdicts_and_what_to_keep():
    for threat in THREATS:
        assert threat.attack and threat.effect and threat.keep
        assert threat.without_key and threat.with_key
        assert "|" not in "".join((threat.attack, threat.effect, threat.without_key,
                                   threat.with_key, threat.keep))


def test_the_table_lives_in_one_place():
    assert "====" not in (versions.__doc__ or ""), "the versions docstring points to the docs"
    assert "docs/workbook.md" in (versions.__doc__ or "")
    assert docs_text().count("| change to the workbook |") == 1
