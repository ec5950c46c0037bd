"""How much a workbook package may hold once inflated, and how large one scanned row may be.

A zip entry of a few kilobytes can inflate to gigabytes. Before any part is read, each entry's
declared inflated size is held against these limits (``sopfin.xlsx.screen``); the parts the
input reader hands to python-calamine are also inflated once as a stream, because a zip's
declared sizes can lie. Every limit can be raised or lowered with an environment variable:

    SOPFIN_MAX_PART_BYTES     one part, inflated                  default 2 GiB
    SOPFIN_MAX_PACKAGE_BYTES  all parts together, inflated        default 4 GiB
    SOPFIN_MAX_RATIO          inflated / compressed size of a part  default 100
    SOPFIN_RATIO_FROM_BYTES   the ratio applies to parts larger than this  default 16 MiB
    SOPFIN_MAX_ROW_BYTES      one worksheet row (or the text around the rows) while scanned
                                                                  default 256 MiB
    SOPFIN_MAX_INPUT_CELLS    the grid (rows x columns from A1) of one input sheet
                                                                  default 20,000,000

Sizes accept a plain byte count or a number with K, M or G (powers of 1024). The defaults
leave room for a plan of 10,000 family-channel lines over 36 months and 3 scenarios (about
1.4 GB of sheet XML once closed; sopfin's own parts deflate about 4 to 15 times).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
LIMITS_OPEN = "<!-- LIMITS-TABLE -->"  # docs/workbook.md holds limits_table() between these
LIMITS_CLOSE = "<!-- /LIMITS-TABLE -->"

# (environment variable, field, default, what it bounds): the one table of limits.
LIMITS: tuple[tuple[str, str, int, str], ...] = (
    ("SOPFIN_MAX_PART_BYTES", "part_bytes", 2 * GIB, "one part, inflated"),
    ("SOPFIN_MAX_PACKAGE_BYTES", "package_bytes", 4 * GIB, "all parts together, inflated"),
    ("SOPFIN_MAX_RATIO", "ratio", 100, "inflated / compressed size of one part"),
    ("SOPFIN_RATIO_FROM_BYTES", "ratio_from_bytes", 16 * MIB,
     "the ratio applies to parts inflating to more than this"),
    ("SOPFIN_MAX_ROW_BYTES", "row_bytes", 256 * MIB,
     "one worksheet row, or the text around the rows, while scanned"),
    ("SOPFIN_MAX_INPUT_CELLS", "input_cells", 20_000_000,
     "rows x columns (from A1) of one input sheet"),
)
_SIZE = re.compile(r"^\s*([0-9]+)\s*([KMG]?)i?B?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "K": KIB, "M": MIB, "G": GIB}


class LimitSettingError(ValueError):
    """An environment variable of the limits table holds something that is not a size."""


@dataclass(frozen=True)
class Limits:
    part_bytes: int = 2 * GIB
    package_bytes: int = 4 * GIB
    ratio: int = 100
    ratio_from_bytes: int = 16 * MIB
    row_bytes: int = 256 * MIB
    input_cells: int = 20_000_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The limits, each default replaced by its environment variable when set."""
        environ = os.environ if environ is None else environ
        values = {}
        for variable, name, _default, _what in LIMITS:
            text = environ.get(variable, "").strip()
            if text:
                values[name] = parse_size(variable, text)
        return cls(**values)


def parse_size(variable: str, text: str) -> int:
    """'2G' -> 2 GiB, '500M', '64K', '1000'; LimitSettingError for anything else."""
    match = _SIZE.match(text)
    if match is None or int(match.group(1)) <= 0:
        raise LimitSettingError(f"{variable}={text!r} is not a positive size; use a byte "
                                "count such as 1000000 or a number with K, M or G (e.g. 2G)")
    return int(match.group(1)) * _UNITS[match.group(2).upper()]


def describe(size: int) -> str:
    """A byte count as people read it: '2 GiB', '16 MiB', '512 bytes'."""
    for unit, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
        if size >= unit:
            return f"{size / unit:.3g} {name}"
    return f"{size} bytes"


def shown_default(default: int) -> str:
    """A limit's default as the docs show it: sizes in MiB or GiB, counts with separators."""
    return describe(default) if default > 1000 and default % MIB == 0 else f"{default:,}"


def limits_table() -> str:
    """``LIMITS`` as the Markdown table of docs/workbook.md."""
    lines = ["| variable | what it bounds | default |", "|---|---|---|"]
    lines += [f"| `{variable}` | {what} | {shown_default(default)} |"
              for variable, _name, default, what in LIMITS]
    return "\n".join(lines)
