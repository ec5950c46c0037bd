"""Content fingerprints: canonical bytes of a tab's cells and of the input grids, their
SHA-256 hashes, and the short per-row cell digests that let verify name a changed cell.

Numbers in a published tab are compared to the cent (``sopfin.money.to_cents``) so float
noise from another spreadsheet's recalculation does not count as a change; input grids are
hashed with exact numbers. ``sopfin.close.ledger`` builds the ledger on these hashes.

A published tab holds hundreds of thousands of cells, so the per-cell work is kept to one
canonical record per cell: ``seal`` builds the records once, from positions the caller
already knows, and derives both the digest cells and the content hash from them. The
functions on ``{ref: value}`` mappings (what verify reads back) share the same records.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache

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


# --- positions -------------------------------------------------------------------------------

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9][0-9]*)$")
Position = tuple[int, int]  # (row, column), both 1-based


def _position(ref: str) -> Position:
    match = _REF.match(ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match.group(2)), _column_index(match.group(1))


_column_index = cache(column_index)
_letters = cache(column_letter)


def _ref(position: Position) -> str:
    return f"{_letters(position[1])}{position[0]}"


def _grid(cells: Mapping[str, object]) -> dict[Position, object]:
    """``{ref: value}`` keyed by position instead; two spellings of one cell are an error."""
    grid: dict[Position, object] = {}
    for ref, value in cells.items():
        position = _position(ref)
        if position in grid:
            raise ValueError(f"cell {ref} is given twice (under two spellings)")
        grid[position] = value
    return grid


# --- canonical bytes -------------------------------------------------------------------------

def _netstring(text: str) -> bytes:
    data = unicodedata.normalize("NFC", text).encode("utf-8")
    return b"%d:%s," % (len(data), data)


def _number(value: float, exact: bool) -> str:
    if exact:
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    cents = float(to_cents(value)) * 100
    if not math.isfinite(cents):  # past 1.8e306 (or not a number): the number as it is
        return repr(value)
    return str(int(round(cents)))


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


def _typed_bytes(value: object) -> bytes | None:
    """The netstrings of ``_typed(value)`` (numbers to the cent); None for an empty cell."""
    typed = _typed(value, exact=False)
    return None if typed is None else _netstring(typed[0]) + _netstring(typed[1])


def _value_bytes(value: object) -> bytes | None:
    """What follows the reference in a cell's record: the type tag and text as netstrings (a
    formula: the tag ``f``, its text, then its cached value's tag and text); None for an empty
    plain cell."""
    if isinstance(value, FormulaCell):
        cached = _typed_bytes(value.value) or b"0:,0:,"
        return b"1:f,%s%s" % (_netstring(value.formula.lstrip("=")), cached)
    return _typed_bytes(value)


_VECTOR_LIMIT = 1e15  # floats below this magnitude get their cents in one array pass


def _cent_texts(values: Sequence[object]) -> list[bytes | None]:
    """``_number(v, exact=False)`` as bytes for each float ``v`` of ``values`` of magnitude
    below ``_VECTOR_LIMIT``, None for every other value.

    One array pass instead of a scalar ``to_cents`` per cell: ``to_cents`` rounds arrays as
    it rounds scalars, ``np.rint`` rounds halves to even as ``round`` does, and below the
    limit the count of cents is an exact int64."""
    at = [i for i, v in enumerate(values) if type(v) is float]
    numbers = np.array([values[i] for i in at], dtype=np.float64)
    fits = np.abs(numbers) < _VECTOR_LIMIT  # NaN and infinities do not
    cents = np.rint(to_cents(numbers[fits]) * 100.0).astype(np.int64)
    out = np.full(len(values), None, dtype=object)
    out[np.array(at, dtype=np.intp)[fits]] = cents.astype(bytes)
    return out.tolist()


def _records(grid: Mapping[Position, object]) -> tuple[list[Position], list[bytes]]:
    """Positions and records of the non-empty cells, in (row, column) order.

    A record is a netstring of netstrings: the cell's reference, then ``_value_bytes``.
    Floats and ASCII text, nearly every cell of a tab, are written here directly, as
    ``_value_bytes`` would write them (ASCII is its own NFC form), so that the one loop over
    a large tab's cells stays short."""
    positions = sorted(grid)
    values = [grid[p] for p in positions]
    kept, records = [], []
    last_row, row_text = 0, b""
    for position, value, cents in zip(positions, values, _cent_texts(values), strict=True):
        row, col = position
        if row != last_row:
            last_row, row_text = row, b"%d" % row
        letters = _letter_bytes(col)
        ref = b"%d:%s%s," % (len(letters) + len(row_text), letters, row_text)
        if cents is not None:
            typed = b"1:n,%d:%s," % (len(cents), cents)
        elif type(value) is str and value and value.isascii():
            typed = b"1:s,%d:%s," % (len(value), value.encode())
        elif (general := _value_bytes(value)) is not None:
            typed = general
        else:
            continue
        kept.append(position)
        records.append(b"%d:%s%s," % (len(ref) + len(typed), ref, typed))
    return kept, records


@cache
def _letter_bytes(col: int) -> bytes:
    return column_letter(col).encode()


_CELLS_HEADER = _netstring("sopfin/cells/1")


def _hash_records(records: Iterable[bytes]) -> str:
    return hashlib.sha256(_CELLS_HEADER + b"".join(records)).hexdigest()


def canonical_cells(cells: Mapping[str, object]) -> bytes:
    """A tab's content ``{'B7': value}`` as canonical bytes (numbers to the cent)."""
    return _CELLS_HEADER + b"".join(_records(_grid(cells))[1])


def content_hash(cells: Mapping[str, object]) -> str:
    return _hash_records(_records(_grid(cells))[1])


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


class _InputTexts(dict[object, str | None]):
    """``_input_cell`` of floats and strings, remembered: a plan's input grids repeat the same
    few thousand numbers and names across millions of cells. Other types are not remembered
    (``True == 1.0`` but their texts differ)."""

    def __missing__(self, value: object) -> str | None:
        text = self[value] = _input_cell(value)
        return text


def _row_text(row: Sequence[object], labels: Sequence[str], texts: _InputTexts) -> str:
    """``1=s3:abc|2=n12;`` for a grid row: each non-empty cell, after its column label."""
    return "|".join([label + text for label, value in zip(labels, row, strict=False)
                     if (text := texts[value] if type(value) is float or type(value) is str
                         else _input_cell(value)) is not None])


def inputs_hash(tables: Mapping[str, Sequence[Sequence[object]]]) -> str:
    """Hash of the input sheets' raw grids, sheets in name order, numbers exact.

    Each non-empty cell is recorded with its row and column, so padding does not matter:
    trailing empty cells and rows leave the hash unchanged. A plan's inputs run to millions
    of cells (this is the one pass over them at close): each sheet's text is built in one
    pass and hashed at once, and repeated numbers and names are written once.
    """
    return inputs_fingerprint(tables).inputs_hash


@dataclass(frozen=True)
class InputFingerprint:
    """The inputs hash, each sheet's own hash (16 hex digits of SHA-256 over its name and
    text) and, per sheet, a CRC-32 of each non-empty row: what names the sheets and rows a
    change is on."""

    inputs_hash: str
    sheets: dict[str, str]
    rows: dict[str, dict[int, str]]


def inputs_fingerprint(tables: Mapping[str, Sequence[Sequence[object]]]) -> InputFingerprint:
    """``inputs_hash`` with the per-sheet and per-row digests, from the same one pass."""
    digest = hashlib.sha256(_netstring("sopfin/inputs/2"))
    sheets: dict[str, str] = {}
    rows: dict[str, dict[int, str]] = {}
    for name in sorted(tables):
        text, rows[name] = _sheet_text(tables[name])
        digest.update(_netstring(name))
        digest.update(text)
        digest.update(b"\x00")
        sheet = hashlib.sha256(_netstring(name))
        sheet.update(text)
        sheets[name] = sheet.hexdigest()[:16]
    return InputFingerprint(digest.hexdigest(), sheets, rows)


def _sheet_text(rows: Sequence[Sequence[object]]) -> tuple[bytes, dict[int, str]]:
    """The sheet's canonical text, and a CRC-32 of each non-empty row's cells.

    The row digests only say which rows of a sheet whose hash changed differ (the sheet hash
    is the authority), so a fast checksum serves: SHA-256 per row cost a fifth more on the
    one pass over a large plan's inputs."""
    texts, lines = _InputTexts(), []
    row_digests: dict[int, str] = {}
    labels: list[str] = []
    for i, row in enumerate(rows, start=1):
        if len(labels) < len(row):
            labels = [f"{j}=" for j in range(1, len(row) + 1)]
        if text := _row_text(row, labels, texts):
            lines.append(f"R{i}|{text}\n")
            row_digests[i] = f"{zlib.crc32(text.encode(), _ROW_SEED):08x}"
    return "".join(lines).encode(), row_digests


_ROW_SEED = zlib.crc32(b"sopfin/input-row/1")


# --- per-cell digests ----------------------------------------------------------------------

_DIGEST_TOKEN = re.compile(r"^([A-Z]{1,3})=([vf][0-9a-f]{8})$")
_DIGEST_SALT = hashlib.sha256(b"sopfin/cell-digest/1")


def _is_digest_cell(value: object) -> bool:
    return isinstance(value, str) and value.startswith(DIGEST_MARKER)


def _content(grid: Mapping[Position, object], positions: list[Position],
             records: list[bytes]) -> tuple[list[Position], list[bytes]]:
    """The positions and records of the cells that are not digest cells."""
    marked = {p for p, v in grid.items()
              if isinstance(v, str) and v.startswith(DIGEST_MARKER)}  # _is_digest_cell
    if not marked:
        return positions, records
    kept = [i for i, p in enumerate(positions) if p not in marked]
    return [positions[i] for i in kept], [records[i] for i in kept]


def _tokens(grid: Mapping[Position, object], positions: Sequence[Position],
            records: Sequence[bytes]) -> list[str]:
    """The digest of each record: the cell's kind (``f`` formula, ``v`` value) and 32 bits of
    SHA-256 over a salt and the record."""
    salted = _DIGEST_SALT.copy
    hexes = []
    for record in records:
        digest = salted()
        digest.update(record)
        hexes.append(digest.hexdigest()[:8])
    formulas = {p for p, v in grid.items() if isinstance(v, FormulaCell)}
    if not formulas:
        return ["v" + h for h in hexes]
    return [("f" if p in formulas else "v") + h for p, h in zip(positions, hexes, strict=True)]


def _digest_texts(positions: Sequence[Position], tokens: Sequence[str],
                  column: str) -> dict[int, str]:
    """``{row: 'sopfin-digest/1 B=v... C=v...'}`` for the digest column, one per content row;
    ``positions`` in (row, column) order."""
    letters = column.upper()
    texts: dict[int, str] = {}
    current, line = 0, [DIGEST_MARKER]
    for (row, col), token in zip(positions, tokens, strict=True):
        cell_letters = _letters(col)
        if cell_letters == letters:
            raise ValueError(f"digest column {column} holds content at {cell_letters}{row}")
        if row != current:
            if current:
                texts[current] = " ".join(line)
            current, line = row, [DIGEST_MARKER]
        line.append(f"{cell_letters}={token}")
    if current:
        texts[current] = " ".join(line)
    return texts


def _content_digests(cells: Mapping[str, object]) -> tuple[list[Position], list[str]]:
    """Positions and digests of the non-empty content cells (digest cells excluded)."""
    grid = _grid({r: v for r, v in cells.items() if not _is_digest_cell(v)})
    positions, records = _records(grid)
    return positions, _tokens(grid, positions, records)


def cell_digests(cells: Mapping[str, object]) -> dict[str, str]:
    """``{'B7': 'v1a2b3c4d'}`` for every non-empty content cell (digest cells excluded)."""
    positions, tokens = _content_digests(cells)
    return {_ref(p): t for p, t in zip(positions, tokens, strict=True)}


def digest_cells(cells: Mapping[str, object], column: str) -> dict[str, str]:
    """The hidden digest column for a tab: ``{'Z7': 'sopfin-digest/1 B=v... C=v...'}``."""
    texts = _digest_texts(*_content_digests(cells), column)
    return {f"{column.upper()}{row}": text for row, text in texts.items()}


def _merged(positions: list[Position], records: list[bytes],
            added: Mapping[Position, bytes]) -> list[bytes]:
    """``records`` (in position order) with the ``added`` records put in place, each replacing
    a record at its position: one walk along the positions, no sort."""
    out: list[bytes] = []
    i, n = 0, len(positions)
    for position in sorted(added):
        start = i
        while i < n and positions[i] < position:
            i += 1
        out += records[start:i]
        if i < n and positions[i] == position:
            i += 1
        out.append(added[position])
    out += records[i:]
    return out


def seal(cells: Mapping[Position, object], column: str) -> tuple[dict[int, str], str]:
    """The digest text of each content row and the hash of the tab with its digest column,
    from the cells by (row, column); ``column`` holds the digest cells.

    The same texts as ``digest_cells`` and the same hash as ``content_hash({**cells,
    **digest_cells(cells, column)})`` on the ``{ref: value}`` mapping, with each cell's
    record built once instead of twice."""
    positions, records = _records(cells)
    content = _content(cells, positions, records)
    texts = _digest_texts(content[0], _tokens(cells, *content), column)
    _, col = _position(f"{column.upper()}1")
    added = dict(zip(*_records({(row, col): text for row, text in texts.items()}), strict=True))
    return texts, _hash_records(_merged(positions, records, added))


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
