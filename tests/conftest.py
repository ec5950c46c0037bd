"""Shared test fixtures: where the shared corpus lives and how to reach LibreOffice."""

from __future__ import annotations

import os
import shutil
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


# Long stress and fuzz runs are marked ``slow``: skipped unless SOPFIN_SLOW=1.
def pytest_collection_modifyitems(config, items) -> None:
    if os.environ.get("SOPFIN_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow: set SOPFIN_SLOW=1 to run it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
