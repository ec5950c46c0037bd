#!/usr/bin/env bash
# Run the linter (ruff), the type checker (mypy) and the whole test suite. Installs what it
# needs: a virtualenv with sopfin and its test dependencies, and LibreOffice (the formula
# oracle) and poppler-utils (pdftotext) from Debian's packages when missing.
source "$(dirname "$0")/bootstrap.sh" test
if ! command -v soffice >/dev/null 2>&1; then
  apt_install libreoffice-calc-nogui
fi
if ! command -v pdftotext >/dev/null 2>&1; then  # reads the printed close's pages quickly
  apt_install poppler-utils || true
fi
# The linter and the type checker first: either one failing fails the run (set -e).
.venv/bin/ruff check sopfin tests
.venv/bin/mypy  # settings and the files it checks: [tool.mypy] in pyproject.toml
# The tests run on every core (pytest-xdist), each test file on one worker: a file's module
# fixtures (a closed demo, the corpus adopted once) are built once, not once per worker.
# SOPFIN_TEST_WORKERS sets the number (0: one process); "-n N" among the arguments also wins.
exec .venv/bin/python -m pytest -n "${SOPFIN_TEST_WORKERS:-auto}" --dist loadfile "$@"
