"""The programs the benchmark times, each run as its own process.

    python -m benchmarks.contenders floor PLAN.xlsx
        the floor: read the input sheets with python-calamine and do nothing else
    python -m benchmarks.contenders openpyxl PLAN.xlsx VALUES.pickle OUT.xlsx
        the naive alternative: openpyxl loads the workbook, writes the same output values
        sopfin writes, and saves
"""

from __future__ import annotations

import pickle
import sys

from sopfin import layout


def read_floor(path: str) -> int:
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(path)
    cells = 0
    names = set(book.sheet_names)
    for name in layout.INPUT_SHEET_NAMES:
        if name in names:
            rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            cells += sum(len(r) for r in rows)
    return cells


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
    if kind == "floor":
        print(read_floor(rest[0]))
    elif kind == "openpyxl":
        print(openpyxl_round_trip(*rest))
    else:
        raise SystemExit(f"unknown contender {kind!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
