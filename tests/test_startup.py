"""The command line starts without pandas; the notebook API still brings it when used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sopfin.calendar import month_numbers
from sopfin.cli import main


def _modules_after(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    return done.stdout.strip()


def test_the_command_line_starts_without_pandas():
    code = ("import sys, contextlib, io, sopfin.cli\n"
            "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
            "    sopfin.cli.main(['--version'])\n"
            "print('pandas' in sys.modules, 'sopfin.close.ledger' in sys.modules)")
    assert _modules_after(code) == "False True"


def _pandas_after(*commands: list[str]) -> str:
    """Whether running the sopfin ``commands`` one after another in a fresh interpreter
    imported pandas, and their exit codes."""
    code = ("import sys, contextlib, io, sopfin.cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    codes = [sopfin.cli.main(c) for c in {list(commands)!r}]\n"
            "print('pandas' in sys.modules, *codes)")
    return _modules_after(code)


@pytest.mark.parametrize("command", ["check", "dollarize", "close"])
def test_a_command_on_a_plan_imports_no_pandas(demo_copy: Path, command: str):
    assert _pandas_after([command, str(demo_copy)]) == "False 0"


def test_verify_and_diff_import_no_pandas(demo_copy: Path):
    assert main(["close", str(demo_copy), "-q"]) == 0
    assert main(["close", str(demo_copy), "--window", "Q1 2027", "-q"]) == 0
    assert _pandas_after(["verify", str(demo_copy)],
                         ["diff", str(demo_copy), "v1", "v2"]) == "False 0 0"


def test_the_notebook_api_is_there_on_first_use():
    code = ("import sys, sopfin\n"
            "before = 'pandas' in sys.modules\n"
            "from sopfin import PlanError, PlanFigures, dollarize, pvm, read_plan\n"
            "print(before, 'pandas' in sys.modules, dollarize.__module__, pvm.__module__)")
    assert _modules_after(code) == "False True sopfin.api sopfin.engine.bridge"


def _by_pandas(texts: list[object]) -> np.ndarray:
    """month_numbers as it read months with pandas' string methods."""
    text = pd.Series(list(texts), dtype=object).astype(str).str.strip()
    valid = text.str.fullmatch(r"\d{4}-(?:0[1-9]|1[0-2])").fillna(False).to_numpy(dtype=bool)
    out = np.full(len(text), np.nan)
    if valid.any():
        out[valid] = (text[valid].str.slice(0, 4).astype(np.int64).to_numpy() * 12
                      + text[valid].str.slice(5, 7).astype(np.int64).to_numpy())
    return out


_months = st.one_of(
    st.builds(lambda y, m: f"{y:04d}-{m:02d}", st.integers(0, 9999), st.integers(0, 13)),
    st.sampled_from([" 2027-03 ", "2027-3", "2027-03-01", "", None, float("nan"), 2027.03,
                     "\t2028-12\n", "２０２７-01", "2027/03", "27-03"]),
    st.text(max_size=9))


@given(st.lists(_months, max_size=12))
def test_month_numbers_read_months_as_before(texts):
    np.testing.assert_array_equal(month_numbers(texts), _by_pandas(texts))
