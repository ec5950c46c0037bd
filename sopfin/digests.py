"""Content fingerprints: canonical bytes of a tab's cells and of the input grids, their
SHA-256 hashes, and the short per-row cell digests that let verify name a changed cell.

Numbers in a published tab are compared to the cent (``sopfin.money.to_cents``) so float
noise from another spreadsheet's recalculation does not count as a change; input grids are
hashed with exact numbers. ``sopfin.versions`` builds the ledger on these hashes.
"""

from __future__ import annotations

import hashlib
import numbers
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time

import numpy as np

from sopfin.layout import column_index, column_letter
from sopfin.model import XlError
from sopfin.money import to_cents

DIGEST_MARKER = "sopfin-digest/1"


@dataclass(frozen=True)
class FormulaCell:
    """A cell holding a formula (without the leading '=') and its cached value."""

    formula: str
    value: object = None


# --- canonical bytes -------------------------------------------------------------------------

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9][0-9]*)$")


def _netstring(text: str) -> bytes:
    data = unicodedata.normalize("NFC", text).encode("utf-8")
    return b"%d:%s," % (len(data), data)


def _position(ref: str) -> tuple[int, int]:
    match = _REF.match(ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match.group(2)), column_index(match.group(1))


def _number(value: float, exact: bool) -> str:
    if exact:
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    return str(int(round(float(to_cents(value)) * 100)))


def _typed(value: object, exact: bool) -> tuple[str, str] | None:
    """(type tag, text) of a cell value, or None for an empty cell."""
    if value is None:
        return None
    if isinstance(value, XlError):
        return "e", value.code
    if isinstance(value, (bool, np.bool_)):
        return "b", "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Real):
        number = float(value)
        if number != number:  # NaN is written as an empty cell
            return None
        if number in (float("inf"), float("-inf")):
            return "n", str(number)
        return "n", _number(number, exact)
    if isinstance(value, str):
        return ("s", value) if value else None
    if isinstance(value, (datetime, date, time)):
        return "d", value.isoformat()
    raise TypeError(f"cannot canonicalise a {type(value).__name__} cell value: {value!r}")


def _cell_record(row: int, col: int, value: object, exact: bool) -> bytes | None:
    ref = f"{column_letter(col)}{row}"
    if isinstance(value, FormulaCell):
        cached = _typed(value.value, exact) or ("", "")
        parts = (ref, "f", value.formula.lstrip("="), *cached)
    else:
        typed = _typed(value, exact)
        if typed is None:
            return None
        parts = (ref, *typed)
    body = b"".join(_netstring(p) for p in parts)
    return b"%d:%s," % (len(body), body)


def _records(cells: Mapping[str, object], exact: bool) -> list[tuple[tuple[int, int], bytes]]:
    """(position, record) of every non-empty cell, in (row, column) order."""
    out, seen = [], set()
    for ref, value in cells.items():
        pos = _position(ref)
        if pos in seen:
            raise ValueError(f"cell {ref} is given twice (under two spellings)")
        seen.add(pos)
        record = _cell_record(*pos, value, exact)
        if record is not None:
            out.append((pos, record))
    out.sort(key=lambda item: item[0])
    return out


def canonical_cells(cells: Mapping[str, object]) -> bytes:
    """A tab's content ``{'B7': value}`` as canonical bytes (numbers to the cent)."""
    return _netstring("sopfin/cells/1") + b"".join(r for _, r in _records(cells, exact=False))


def content_hash(cells: Mapping[str, object]) -> str:
    return hashlib.sha256(canonical_cells(cells)).hexdigest()


def _input_cell(value: object) -> str | None:
    """One input cell as canonical text: type tag, then a length prefix for text (so no
    separator inside a value can be mistaken for structure), numbers exact; None if empty."""
    kind = type(value)
    if kind is float:
        number: float = value  # type: ignore[assignment]
        if number != number:
            return None
        if number.is_integer() and abs(number) < 2**63:
            return f"n{int(number)};"
        return f"n{number!r};"
    if value is None:
        return None
    if kind is str:
        text: str = value  # type: ignore[assignment]
        if not text:
            return None
        if not text.isascii():
            text = unicodedata.normalize("NFC", text)
        return f"s{len(text)}:{text}"
    typed = _typed(value, exact=True)  # bools, ints, dates, errors, numpy scalars
    if typed is None:
        return None
    tag, text = typed
    return f"n{text};" if tag == "n" else f"{tag}{len(text)}:{text}"


def inputs_hash(tables: Mapping[str, Sequence[Sequence[object]]]) -> str:
    """Hash of the input sheets' raw grids, sheets in name order, numbers exact.

    Each non-empty cell is recorded with its row and column, so padding does not matter:
    trailing empty cells and rows leave the hash unchanged. Written row by row (a plan's
    inputs run to millions of cells; this is the one pass over them at close).
    """
    digest = hashlib.sha256(_netstring("sopfin/inputs/2"))
    for name in sorted(tables):
        digest.update(_netstring(name))
        for i, row in enumerate(tables[name], start=1):
            cells = [f"{j}={text}" for j, value in enumerate(row, start=1)
                     if (text := _input_cell(value)) is not None]
            if cells:
                digest.update(f"R{i}|{'|'.join(cells)}\n".encode())
        digest.update(b"\x00")
    return digest.hexdigest()


# --- per-cell digests ----------------------------------------------------------------------

_DIGEST_TOKEN = re.compile(r"^([A-Z]{1,3})=([vf][0-9a-f]{8})$")


def _is_digest_cell(value: object) -> bool:
    return isinstance(value, str) and value.startswith(DIGEST_MARKER)


def cell_digests(cells: Mapping[str, object]) -> dict[str, str]:
    """``{'B7': 'v1a2b3c4d'}`` for every non-empty content cell (digest cells excluded)."""
    formulas = {_position(r) for r, v in cells.items() if isinstance(v, FormulaCell)}
    content = {r: v for r, v in cells.items() if not _is_digest_cell(v)}
    out = {}
    for (row, col), record in _records(content, exact=False):
        token = hashlib.sha256(b"sopfin/cell-digest/1" + record).hexdigest()[:8]
        out[f"{column_letter(col)}{row}"] = ("f" if (row, col) in formulas else "v") + token
    return out


def digest_cells(cells: Mapping[str, object], column: str) -> dict[str, str]:
    """The hidden digest column for a tab: ``{'Z7': 'sopfin-digest/1 B=v... C=v...'}``."""
    by_row: dict[int, list[str]] = {}
    for ref, digest in cell_digests(cells).items():
        row, col = _position(ref)
        if column_letter(col) == column.upper():
            raise ValueError(f"digest column {column} holds content at {ref}")
        by_row.setdefault(row, []).append(f"{column_letter(col)}={digest}")
    return {f"{column.upper()}{row}": " ".join([DIGEST_MARKER, *tokens])
            for row, tokens in sorted(by_row.items())}


def recorded_digests(cells: Mapping[str, object]) -> tuple[dict[str, str], list[str]]:
    """Per-cell digests read back from a tab's digest cells, and the unreadable digest cells."""
    recorded: dict[str, str] = {}
    unreadable: list[str] = []
    for ref, value in cells.items():
        if not _is_digest_cell(value):
            continue
        row, _ = _position(ref)
        tokens = [_DIGEST_TOKEN.match(t) for t in str(value).split()[1:]]
        if not all(tokens):
            unreadable.append(ref)
            continue
        recorded.update({f"{m.group(1)}{row}": m.group(2) for m in tokens if m})
    return recorded, unreadable
