"""Every code block in the README runs as written.

The bash blocks run in order, in one copy of the repository (the project's files, with the
repository's ``.venv`` linked in so nothing is installed): the demo, the test command and the
close of the demo month. The test command sets up and starts pytest on the copy, which
(through ``PYTEST_ADDOPTS``) only collects one small test file: running the whole suite from
inside the suite would never end.
The Python blocks run in a folder holding the demo plan as ``plan.xlsx``, as their text says.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
COPIED = ("pyproject.toml", "README.md", "sopfin", "scripts", "templates", "tests", "addin",
          "benchmarks", "docs", "examples")


def blocks(language: str) -> list[str]:
    return [body for lang, body in FENCE.findall(README.read_text(encoding="utf-8"))
            if lang == language]


def test_the_readme_has_the_blocks_this_test_runs():
    assert len(blocks("bash")) >= 3 and len(blocks("python")) >= 1
    assert set(lang for lang, _ in FENCE.findall(README.read_text(encoding="utf-8"))) <= {
        "bash", "python"}, "a block in a language this test does not run"


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    """The copy shares the repository's .venv, so the copy must never install into it: the
    test's own install stamp is required, and the copy's pyproject.toml is dated older than
    it (bootstrap.sh installs only when pyproject.toml is newer than the stamp)."""
    if not (REPO / ".venv" / ".sopfin-installed-test").exists():
        pytest.skip("the README's commands use .venv, which scripts/test.sh creates")
    copy = tmp_path / "sopfin"
    copy.mkdir()
    for name in COPIED:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns(
                "__pycache__", "cache", "*.egg-info", ".pytest_cache"))
        elif source.exists():
            shutil.copy2(source, copy / name)
    os.utime(copy / "pyproject.toml", (0, 0))
    (copy / ".venv").symlink_to(REPO / ".venv")
    shared = REPO.parent / "shared"
    if shared.exists():  # the tests' corpus lives beside the repository
        (tmp_path / "shared").symlink_to(shared)
    return copy


def test_every_bash_block_runs_in_a_copy_of_the_repository(repo_copy: Path):
    # pytest only collects one small test file: the command and its set-up are what is run
    env = {**os.environ,
           "PYTEST_ADDOPTS": "--collect-only -q -p no:cacheprovider tests/test_layering.py"}
    for block in blocks("bash"):
        result = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=repo_copy,
                                env=env, capture_output=True, text=True, timeout=600,
                                check=False)
        assert result.returncode == 0, (block, result.stdout[-2000:], result.stderr[-2000:])
        assert "Traceback" not in result.stdout + result.stderr, block
    assert (repo_copy / "sopfin-demo.xlsx").exists()
    assert str(repo_copy) not in (REPO / ".venv" / "bin" / "sopfin").read_text(errors="replace")


def test_every_python_block_runs_beside_a_plan_workbook(demo_copy: Path, tmp_path: Path):
    """The blocks, in order, as one script in a fresh interpreter."""
    assert demo_copy == tmp_path / "plan.xlsx"  # where the README's blocks look for it
    script = tmp_path / "readme.py"
    script.write_text("\n".join(blocks("python")), encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "discontinued" in result.stdout and "new" in result.stdout
