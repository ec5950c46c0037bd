"""The docs name the code as it is: every path in the repository (module, test, script) and
every dotted name they mention exists, and docs/architecture.md's map lists every subpackage
and every module at the package root, so a move or a new module cannot leave the map behind;
the README's command table lists every command, with no flag the command lacks, and its add-in
paragraph every ribbon button and worksheet function."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path
from xml.etree import ElementTree

import pytest

from sopfin.cli import build_parser
from sopfin.excel.udfs import UDFS

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "sopfin"
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
PATH = re.compile(r"(?<![\w/.-])(?:sopfin|tests|scripts|benchmarks|addin|templates)/"
                  r"[A-Za-z0-9_/]*[A-Za-z0-9_](?:\.(?:py|sh|json|xlsx|xml|bas|md|c\b))?")
DOTTED = re.compile(r"(?:`|-m )(sopfin(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")
NOT_CODE = {"sopfin.xlam"}  # the built add-in
GENERATED = "benchmarks/cache/"  # the benchmark's plans, made on the first run


def mentioned(pattern: re.Pattern[str]) -> list[tuple[str, str]]:
    return sorted({(doc.relative_to(REPO).as_posix(), m.group(1) if m.groups() else m.group(0))
                   for doc in DOCS for m in pattern.finditer(doc.read_text(encoding="utf-8"))})


def layout_block() -> str:
    text = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## The layout", 1)[1]
    return section.split("```", 2)[1]


def resolves(dotted: str) -> bool:
    """A module, or an attribute of the longest importable prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_the_docs_mention_code_to_check():
    assert len(mentioned(PATH)) > 40 and len(mentioned(DOTTED)) > 5


@pytest.mark.parametrize(("doc", "path"), mentioned(PATH))
def test_every_path_in_the_docs_exists(doc: str, path: str):
    if path.startswith(GENERATED):
        pytest.skip("made by the benchmark, not kept in the repository")
    assert (REPO / path).exists(), f"{doc} names {path}, which is not in the repository"


@pytest.mark.parametrize(("doc", "name"), [m for m in mentioned(DOTTED) if m[1] not in NOT_CODE])
def test_every_dotted_name_in_the_docs_resolves(doc: str, name: str):
    assert resolves(name), f"{doc} names {name}, which does not import"


def test_the_map_lists_every_subpackage_and_root_module():
    block = layout_block()
    subpackages = sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))
    modules = sorted(p.name for p in PACKAGE.glob("*.py"))
    missing = [f"{name}/" for name in subpackages if f"{name}/" not in block]
    missing += [name for name in modules if not re.search(rf"\b{re.escape(name)}\b", block)]
    assert not missing, f"docs/architecture.md's layout does not list {missing}"


def test_a_stale_path_is_caught():
    assert not (REPO / "sopfin/readplan.py").exists()
    assert not resolves("sopfin.audit.run_verify") and resolves("sopfin.close.verify.run_verify")


def readme_commands() -> dict[str, str]:
    """Command -> its usage as the README's command table writes it."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Commands", 1)[1].split("\n\n", 2)[1]
    return {m["command"]: m["usage"]
            for m in re.finditer(r"^\| `sopfin (?P<command>[a-z-]+)(?P<usage>[^`]*)` \|", table,
                                 re.MULTILINE)}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


def test_the_readme_lists_every_command_and_only_flags_it_has():
    commands, documented = subcommands(), readme_commands()
    assert sorted(documented) == sorted(commands), "README.md's command table and sopfin's"
    for name, usage in documented.items():
        flags = {opt for action in commands[name]._actions for opt in action.option_strings}
        unknown = sorted(set(re.findall(r"--[a-z-]+", usage)) - flags)
        assert not unknown, f"README.md: sopfin {name} has no {unknown}"


def addin_paragraph() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    return readme.split("## Excel add-in", 1)[1].split("\n\n", 2)[1]


def test_the_readme_names_every_ribbon_button_and_worksheet_function():
    text = " ".join(addin_paragraph().split())
    ribbon = ElementTree.parse(REPO / "addin" / "src" / "customUI14.xml").getroot()
    labels = [b.get("label") for b in ribbon.iter() if b.tag.endswith("}button")]
    buttons = re.search(r"open \(([^)]*)\)", text)
    assert buttons is not None and buttons[1].split(", ") == labels, "README.md's buttons"
    assert re.findall(r"`(SOP_[A-Z_]+)`", text) == [f.__name__ for f in UDFS], (
        "README.md's worksheet functions")
