"""What sopfin last wrote on an output sheet, kept in the sheet itself: one fingerprint per row.

Every row sopfin writes on a formula sheet (``layout.FINGERPRINTED_SHEETS``) carries, in one
hidden column right of the sheet's content, a short text::

    sopfin-row/1 5-28;1-3;Hq0b6Xw2Jd1m

the columns that hold sopfin's formulas (``5-28``: E to AB), the columns that hold its constants
(labels, the days of a month) and a digest of those formulas and constants as written. Only
formulas and values enter the digest, never XML details, so a re-save in Excel, LibreOffice or
openpyxl keeps every fingerprint valid; formulas are compared without spaces.

A row is checked in one go (``RowPrint.matches``): the row's formulas in the listed columns
joined (``CellRow.joined_formulas``, no cell decoded for a row the scanner read) and its few
constants, hashed once. Because the fingerprint records what was written, not what the next
render would write, a plan that changed shape since (a new family shifts every row below it)
does not make an unchanged row look typed over. The texts are made from a render, a band of
rows at a time, by ``sopfin.guard.row_prints``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache, lru_cache

import numpy as np

from sopfin.layout import column_index, column_letter
from sopfin.sheetspec import Block, SheetSpec

MARK = "sopfin-row/1 "  # every fingerprint text starts with it
_CONST_SEP = "\x1f"


def canonical(value: object) -> str:
    """A constant as the digest sees it: numbers to 12 significant digits (another
    application's re-save may print a double differently), booleans as TRUE/FALSE, text with
    line ends normalised, an empty cell as ''."""
    if type(value) is str:
        return value if "\r" not in value else value.replace("\r\n", "\n").replace("\r", "\n")
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Real):
        number = float(value)
        return "" if math.isnan(number) else format(number, ".12g")
    text = getattr(value, "formula", None)
    if text is not None:  # a formula where a constant was written
        return f"={text}"
    return str(value).replace("\r\n", "\n").replace("\r", "\n")


def digest(joined_formulas: str, constants: Sequence[object]) -> str:
    """12 characters: the row's formulas (FORMULA_SEP-joined, spaces removed) and constants."""
    text = _digest_text(joined_formulas, constants)
    raw = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=9).digest()
    return base64.urlsafe_b64encode(raw).decode("ascii")


@lru_cache(maxsize=4096)
def _runs(columns: tuple[str, ...]) -> str:
    """Column letters -> '5-28,30' (1-based indices, ascending runs joined by '-')."""
    out: list[str] = []
    indices = [_index(c) for c in columns]
    start = 0
    for k in range(1, len(indices) + 1):
        if k == len(indices) or indices[k] != indices[k - 1] + 1:
            first, last = indices[start], indices[k - 1]
            out.append(str(first) if first == last else f"{first}-{last}")
            start = k
    return ",".join(out)


_index = cache(column_index)
_letter = cache(column_letter)


@lru_cache(maxsize=4096)
def _columns(runs: str) -> tuple[str, ...]:
    """'5-28,30' -> the column letters, in order. Raises ValueError on anything else."""
    if not runs:
        return ()
    out: list[str] = []
    for run in runs.split(","):
        first, _, last = run.partition("-")
        a, b = int(first), int(last or first)
        if not 1 <= a <= b <= 16384:
            raise ValueError(runs)
        out += [_letter(c) for c in range(a, b + 1)]
    return tuple(out)


def _text(formula_columns: tuple[str, ...], constant_columns: tuple[str, ...],
          row_digest: str) -> str:
    return f"{MARK}{_runs(formula_columns)};{_runs(constant_columns)};{row_digest}"


@dataclass(frozen=True)
class RowPrint:
    """What sopfin wrote on one row: its formula columns, its constant columns, their digest."""

    formulas: tuple[str, ...]
    constants: tuple[str, ...]
    digest: str

    def text(self) -> str:
        return _text(self.formulas, self.constants, self.digest)

    @classmethod
    def parse(cls, text: object) -> RowPrint | None:
        """The fingerprint a cell holds; None when it holds none (or a damaged one)."""
        if not isinstance(text, str) or not text.startswith(MARK):
            return None
        parts = text[len(MARK):].split(";")
        if len(parts) != 3 or len(parts[2]) != 12:
            return None
        try:
            return cls(_columns(parts[0]), _columns(parts[1]), parts[2])
        except ValueError:
            return None

    def matches(self, joined: str | None, constants: Sequence[object]) -> bool:
        """Do these formulas (joined as ``CellRow.joined_formulas`` gives them) and constants
        give this fingerprint's digest?"""
        return joined is not None and digest(joined, constants) == self.digest


def _digest_text(joined_formulas: str, constants: Sequence[object]) -> str:
    return joined_formulas.replace(" ", "") + _CONST_SEP + _CONST_SEP.join(
        map(canonical, constants))


def _digests(texts: Sequence[str]) -> list[str]:
    """``digest``'s 12 characters for each text: 9-byte digests encode to 12 base64
    characters with no padding, so the whole band is encoded at once."""
    blake2b = hashlib.blake2b
    raw = b"".join([blake2b(t.encode("utf-8", "surrogatepass"), digest_size=9).digest()
                    for t in texts])
    encoded = base64.urlsafe_b64encode(raw).decode("ascii")
    return [encoded[k:k + 12] for k in range(0, len(encoded), 12)]


def _is_print_block(block: Block) -> bool:
    values = block.values
    if not isinstance(values, np.ndarray) or values.dtype != object or values.ndim != 2 \
            or values.shape[1] != 1 or not values.shape[0]:
        return False
    first = values[0, 0]
    return isinstance(first, str) and first.startswith(MARK)


def without_fingerprints(spec: SheetSpec) -> SheetSpec:
    """The sheet as rendered before ``with_fingerprints``."""
    blocks = [b for b in spec.blocks if not _is_print_block(b)]
    if len(blocks) == len(spec.blocks):
        return spec
    hidden = {b.col for b in spec.blocks if _is_print_block(b)}
    return replace(spec, blocks=tuple(blocks),
                   hidden_cols=tuple(c for c in spec.hidden_cols if c not in hidden))


def rendered_prints(spec: SheetSpec) -> dict[int, RowPrint]:
    """row -> fingerprint, read from the fingerprint blocks of a rendered sheet."""
    out: dict[int, RowPrint] = {}
    for block in spec.blocks:
        if _is_print_block(block):
            for i, (text,) in enumerate(block.values):
                found = RowPrint.parse(text)
                if found is not None:
                    out[block.row + i] = found
    return out
