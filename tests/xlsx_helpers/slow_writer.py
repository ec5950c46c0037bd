"""Write a large sopfin sheet into a workbook; the kill test SIGKILLs this mid-save.

Usage: python -m xlsx_helpers.slow_writer <workbook> <rows> <cols>, with the repository and
tests/ on PYTHONPATH (as pyproject's pythonpath gives the tests).
Prints 'start' just before the save begins and 'done' when it has finished.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from sopfin.sheetspec import Block, SheetSpec, Style
from sopfin.xlsx.writer import write_sheets


def main() -> None:
    path, rows, cols = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    values = np.arange(rows * cols, dtype=float).reshape(rows, cols) / 7.0
    formulas = np.array([[f"ROW()*{c}" for c in range(cols)]] * rows, dtype=object)
    spec = SheetSpec("Big", blocks=[Block(2, 1, values, formulas=formulas, style=Style.MONEY)])
    print("start", flush=True)
    write_sheets(path, [spec])
    print("done", flush=True)


if __name__ == "__main__":
    main()
