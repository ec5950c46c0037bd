"""The read floor: python-calamine reading a plan's input sheets, and nothing else.

    python benchmarks/floor.py PLAN.xlsx SHEET [SHEET ...]

Run as a file, not as part of a package, so that its process imports neither sopfin nor
pandas: the figures sopfin is measured against are what reading the same sheets costs a
program that does only that. Prints the number of cells read.
"""

import sys

from python_calamine import CalamineWorkbook


def read_floor(path: str, names: list[str]) -> int:
    book = CalamineWorkbook.from_path(path)
    present = set(book.sheet_names)
    return sum(len(row) for name in names if name in present
               for row in book.get_sheet_by_name(name).to_python(skip_empty_area=False))


if __name__ == "__main__":
    print(read_floor(sys.argv[1], sys.argv[2:]))
