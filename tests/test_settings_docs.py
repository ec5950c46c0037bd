"""The settings table in docs/workbook.md is generated from ``sopfin.plan.settings.OPTIONS`` and
must not drift from it: every option documented once, with its default and its help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sopfin.plan.blank_plan import (
    DOCS_CLOSE,
    DOCS_OPEN,
    DOCS_PATH,
    documented_settings_section,
    replace_settings_section,
    settings_docs_section,
)
from sopfin.plan.settings import OPTIONS

REPO = Path(__file__).resolve().parents[1]
REGENERATE = "python -m sopfin.xlsx.template --docs"


def docs_text() -> str:
    return (REPO / "docs" / "workbook.md").read_text(encoding="utf-8")


def documented_rows(text: str) -> dict[str, tuple[str, str]]:
    """Setting label -> (default, meaning), read from the Markdown table between the markers."""
    section = documented_settings_section(text)
    rows: dict[str, tuple[str, str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        label, default, meaning = cells[0].strip("`"), cells[1].strip("`"), cells[2]
        assert label not in rows, f"setting {label!r} is documented twice"
        rows[label] = (default, meaning)
    return rows


def test_docs_path_is_the_repository_file():
    assert DOCS_PATH.resolve() == (REPO / "docs" / "workbook.md").resolve()


def test_docs_have_both_markers_once():
    text = docs_text()
    assert text.count(DOCS_OPEN) == 1
    assert text.count(DOCS_CLOSE) == 1
    assert text.index(DOCS_OPEN) < text.index(DOCS_CLOSE)


def test_generated_section_is_what_the_docs_hold():
    assert documented_settings_section(docs_text()) == settings_docs_section(), (
        f"docs/workbook.md is out of date with sopfin.plan.settings.OPTIONS; run `{REGENERATE}`")


def test_every_option_is_documented_with_its_default_and_help():
    rows = documented_rows(docs_text())
    assert list(rows) == [o.label for o in OPTIONS], f"run `{REGENERATE}`"
    for option in OPTIONS:
        default, meaning = rows[option.label]
        assert meaning == option.help.replace("|", "\\|")
        if isinstance(option.default, bool):
            assert default == ("TRUE" if option.default else "FALSE")
        elif isinstance(option.default, tuple):
            assert default == ", ".join(option.default)
        elif isinstance(option.default, int | float):
            assert float(default) == option.default
        elif option.default == "":
            assert default == "(blank)"
        else:
            assert default == option.default


def test_a_drifted_table_is_detected_and_regenerated():
    text = docs_text()
    first = OPTIONS[0]
    drifted = text.replace(f"| `{first.label}` |", "| `Renamed setting` |", 1)
    assert documented_settings_section(drifted) != settings_docs_section()
    assert replace_settings_section(drifted) == text


def test_regeneration_keeps_the_rest_of_the_document():
    text = docs_text()
    before, after = text.split(DOCS_OPEN)[0], text.split(DOCS_CLOSE)[1]
    stripped = before + DOCS_OPEN + "\nold table\n" + DOCS_CLOSE + after
    regenerated = replace_settings_section(stripped)
    assert regenerated.startswith(before + DOCS_OPEN)
    assert regenerated.endswith(DOCS_CLOSE + after)
    assert replace_settings_section(regenerated) == regenerated


def test_the_closing_marker_is_added_when_missing():
    text = "# Title\n\n<!-- SETTINGS-TABLE -->\n\n## Next section\n"
    out = replace_settings_section(text)
    assert out.count(DOCS_CLOSE) == 1
    assert out.endswith(f"{DOCS_CLOSE}\n\n## Next section\n")
    assert documented_settings_section(out) == settings_docs_section()


def test_the_docs_command_regenerates_a_copy(tmp_path: Path):
    copy = tmp_path / "workbook.md"
    text = docs_text()
    copy.write_text(text.replace(f"| `{OPTIONS[-1].label}` |", "| `Stale` |"), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "sopfin.xlsx.template", "--docs", str(copy)],
                         cwd=REPO, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert copy.read_text(encoding="utf-8") == text
