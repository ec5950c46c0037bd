"""The alternative the benchmark times, run as its own process (the read floor is
``benchmarks/floor.py``, a stand-alone script).

    python -m benchmarks.contenders openpyxl PLAN.xlsx VALUES.pickle OUT.xlsx
        the naive alternative: openpyxl loads the workbook, writes the same output values
        sopfin writes, and saves
"""

from __future__ import annotations

import pickle
import sys


def openpyxl_round_trip(path: str, values_path: str, out_path: str) -> int:
    import openpyxl

    with open(values_path, "rb") as fh:
        sheets = pickle.load(fh)  # [(sheet name, [(row, col, 2-D list of values)])]
    book = openpyxl.load_workbook(path)
    cells = 0
    for name, blocks in sheets:
        sheet = book.create_sheet(name)
        for top, left, grid in blocks:
            for r, row in enumerate(grid):
                for c, value in enumerate(row):
                    if value is None:
                        continue
                    sheet.cell(row=top + r, column=left + c, value=value)
                    cells += 1
    book.save(out_path)
    return cells


def main(argv: list[str]) -> int:
    kind, *rest = argv
    if kind == "openpyxl":
        print(openpyxl_round_trip(*rest))
    else:
        raise SystemExit(f"unknown contender {kind!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
