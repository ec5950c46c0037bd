"""Shared test fixtures: where the shared corpus lives, how to reach LibreOffice, and the demo
workbook built once per run.

Test helpers (``plan_tables``, ``xlsx_helpers``, ...) sit beside the tests and are imported by
name: pyproject's ``pythonpath`` puts the repository and ``tests/`` on the import path."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# CI explores the same examples on every run, so a red build always reproduces; locally
# Hypothesis keeps drawing new ones.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not (CORPUS / "MANIFEST.json").exists():
        pytest.skip(f"the shared workbook corpus is not at {CORPUS}")
    return CORPUS


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of LibreOffice's soffice. Tests that need it fail (not skip) when it is missing:
    scripts/test.sh installs it."""
    path = shutil.which("soffice") or shutil.which("libreoffice")
    if path is None:
        pytest.fail("LibreOffice (soffice) is not installed; run scripts/test.sh, which "
                    "installs libreoffice-calc-nogui")
    return path


@pytest.fixture(scope="session")
def built_demo(tmp_path_factory) -> Iterator[Path]:
    """The demo workbook as ``sopfin new --demo`` writes it, built once per run. Read it, or
    copy it (``demo_copy``) before any command that writes: the run fails if it changed."""
    from sopfin.cli import main

    path = tmp_path_factory.mktemp("built-demo") / "plan.xlsx"
    assert main(["new", str(path), "--demo", "-q"]) == 0
    built = hashlib.sha256(path.read_bytes()).hexdigest()
    yield path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == built, \
        "a test wrote to the shared built demo; copy it first (demo_copy)"


@pytest.fixture
def demo_copy(built_demo: Path, tmp_path: Path) -> Path:
    """A fresh, writable copy of the built demo workbook for one test."""
    target = tmp_path / "plan.xlsx"
    shutil.copyfile(built_demo, target)
    return target


@pytest.fixture(scope="session")
def closed_demo(built_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The demo workbook closed once (Recon v001 published), shared by the run. Read it, or
    copy it (``closed_copy``) before any command that writes: the run fails if it changed."""
    from sopfin.cli import main

    path = tmp_path_factory.mktemp("closed-demo") / "plan.xlsx"
    shutil.copyfile(built_demo, path)
    assert main(["close", str(path), "-q"]) == 0
    closed = hashlib.sha256(path.read_bytes()).hexdigest()
    yield path
    assert hashlib.sha256(path.read_bytes()).hexdigest() == closed, \
        "a test wrote to the shared closed demo; copy it first (closed_copy)"


@pytest.fixture
def closed_copy(closed_demo: Path, tmp_path: Path) -> Path:
    """A fresh, writable copy of the closed demo workbook for one test."""
    target = tmp_path / "copy.xlsx"
    shutil.copyfile(closed_demo, target)
    return target


# Long stress and fuzz runs are marked ``slow``: skipped unless SOPFIN_SLOW=1.
def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get("SOPFIN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set SOPFIN_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
