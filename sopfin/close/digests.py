"""Content fingerprints: canonical bytes of a tab's cells and of the input grids, their
SHA-256 hashes, and the short per-row cell digests that let verify name a changed cell.

Numbers in a published tab are compared to the cent (``sopfin.money.to_cents``) so float
noise from another spreadsheet's recalculation does not count as a change; input grids are
hashed with exact numbers. ``sopfin.close.ledger`` builds the ledger on these hashes.

A published tab holds hundreds of thousands of cells, so the per-cell work is kept to one
canonical record per cell: ``seal_cells`` builds the records once, from the cells as aligned
arrays in (row, column) order (``CellArrays``), and derives both the digest cells and the
content hash from them. The functions on ``{ref: value}`` mappings (what verify reads back)
share the same records. The per-cell loops (records, digest tokens, digest lines, an input
sheet's text) run in ``sopfin/close/_digests.c`` when it is built; each has its Python twin
here, which gives the same bytes (``use_compiled(False)``).
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
from functools import cache, cached_property

import numpy as np

from sopfin.layout import column_index, column_letter
from sopfin.model import XlError
from sopfin.money import to_cents

try:  # the compiled twins of the per-cell loops (sopfin/close/_digests.c), when built
    from sopfin.close import _digests as _compiled  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - the pure-Python install
    _compiled = None

DIGEST_MARKER = "sopfin-digest/1"

_enabled = _compiled is not None


def available() -> bool:
    """Whether the compiled module is built and importable."""
    return _compiled is not None


def enabled() -> bool:
    return _enabled


def use_compiled(enabled: bool) -> bool:
    """Turn the compiled loops on or off (tests run both, which give the same bytes); returns
    the previous setting. Without the built module this stays off."""
    global _enabled
    was, _enabled = _enabled, enabled and _compiled is not None
    return was


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


def _by_ref(cells: Mapping[str, object]) -> CellArrays:
    """``{ref: value}`` as cells in (row, column) order; two spellings of one cell are an
    error (named by the later spelling, as the mapping is read)."""
    rows, cols = [], []
    for ref in cells:
        row, col = _position(ref)
        rows.append(row)
        cols.append(col)
    row_array, col_array = np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64)
    key = row_array * (int(col_array.max(initial=0)) + 1) + col_array
    order = np.argsort(key, kind="stable")
    again = order[1:][key[order[1:]] == key[order[:-1]]]
    if len(again):
        ref = list(cells)[int(again.min())]
        raise ValueError(f"cell {ref} is given twice (under two spellings)")
    values = _objects(list(cells.values()))[order].tolist()
    return CellArrays(row_array[order], col_array[order], values)


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


@dataclass(frozen=True)
class CellArrays:
    """A tab's cells in (row, column) order as aligned columns: ``rows`` and ``cols`` (int64
    arrays, 1-based) and ``values``; what the seal works on instead of a dict of every cell."""

    rows: np.ndarray
    cols: np.ndarray
    values: list[object]

    @classmethod
    def of(cls, grid: Mapping[Position, object]) -> CellArrays:
        positions = sorted(grid)
        pairs = np.array(positions, dtype=np.int64).reshape(len(positions), 2)
        return cls(pairs[:, 0].copy(), pairs[:, 1].copy(), [grid[p] for p in positions])

    @cached_property
    def floats(self) -> np.ndarray:
        """Where the value is a float (its type exactly ``float``)."""
        types = np.fromiter(map(type, self.values), dtype=object, count=len(self.values))
        floats: np.ndarray = np.equal(types, np.array(float, dtype=object))
        return floats

    def positions(self) -> list[Position]:
        return list(zip(self.rows.tolist(), self.cols.tolist(), strict=True))

    def take(self, index: np.ndarray) -> CellArrays:
        return CellArrays(self.rows[index], self.cols[index],
                          _objects(self.values)[index].tolist())


def _objects(values: Sequence[object]) -> np.ndarray:
    """``values`` as a 1-d object array (a value that is itself a sequence stays one cell)."""
    return np.fromiter(values, dtype=object, count=len(values))


def _cents(cells: CellArrays) -> tuple[np.ndarray, np.ndarray]:
    """For each float of the cells' values of magnitude below ``_VECTOR_LIMIT``: its count of cents
    (``_number(v, exact=False)``), and where there is one.

    One array pass instead of a scalar ``to_cents`` per cell: ``to_cents`` rounds arrays as
    it rounds scalars, ``np.rint`` rounds halves to even as ``round`` does, and below the
    limit the count of cents is an exact int64."""
    amounts = np.full(len(cells.values), math.nan)
    amounts[cells.floats] = _objects(cells.values)[cells.floats].astype(np.float64)
    fits = np.abs(amounts) < _VECTOR_LIMIT  # NaN and infinities do not
    cents = np.zeros(len(cells.values), dtype=np.int64)
    cents[fits] = np.rint(to_cents(amounts[fits]) * 100.0).astype(np.int64)
    return cents, fits


def _cell_records(cells: CellArrays) -> list[bytes | None]:
    """The record of each cell (None for an empty one): a netstring of netstrings, the cell's
    reference, then ``_value_bytes``."""
    cents, fits = _cents(cells)
    if _enabled:
        assert _compiled is not None
        rows, cols = (np.ascontiguousarray(a, dtype=np.int64) for a in (cells.rows, cells.cols))
        out: list[bytes | None] = _compiled.records(rows, cols, cells.values, cents, fits,
                                                    _value_bytes)
        return out
    return _python_records(cells, cents, fits)


def _python_records(cells: CellArrays, cents: np.ndarray, fits: np.ndarray,
                    ) -> list[bytes | None]:
    """``_compiled.records`` in Python. Floats and ASCII text, nearly every cell of a tab, are
    written here directly, as ``_value_bytes`` would write them (ASCII is its own NFC form)."""
    out: list[bytes | None] = []
    last_row, row_text = 0, b""
    for row, col, value, count, fit in zip(cells.rows.tolist(), cells.cols.tolist(),
                                           cells.values, cents.tolist(), fits.tolist(),
                                           strict=True):
        if row != last_row:
            last_row, row_text = row, b"%d" % row
        letters = _letter_bytes(col)
        ref = b"%d:%s%s," % (len(letters) + len(row_text), letters, row_text)
        if fit:
            text = b"%d" % count
            typed = b"1:n,%d:%s," % (len(text), text)
        elif type(value) is str and value and value.isascii():
            typed = b"1:s,%d:%s," % (len(value), value.encode())
        elif (general := _value_bytes(value)) is not None:
            typed = general
        else:
            out.append(None)
            continue
        out.append(b"%d:%s%s," % (len(ref) + len(typed), ref, typed))
    return out


def _records(cells: Mapping[str, object]) -> list[bytes]:
    """The records of the non-empty cells of ``{ref: value}``, in (row, column) order."""
    return [r for r in _cell_records(_by_ref(cells)) if r is not None]


@cache
def _letter_bytes(col: int) -> bytes:
    return column_letter(col).encode()


_CELLS_HEADER = _netstring("sopfin/cells/1")


def _hash_records(records: Iterable[bytes]) -> str:
    return hashlib.sha256(_CELLS_HEADER + b"".join(records)).hexdigest()


def canonical_cells(cells: Mapping[str, object]) -> bytes:
    """A tab's content ``{'B7': value}`` as canonical bytes (numbers to the cent)."""
    return _CELLS_HEADER + b"".join(_records(cells))


def content_hash(cells: Mapping[str, object]) -> str:
    return _hash_records(_records(cells))


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
    if _enabled:
        assert _compiled is not None
        out: tuple[bytes, dict[int, str]] = _compiled.sheet_text(rows, _ROW_SEED, _input_cell)
        return out
    return _python_sheet_text(rows)


def _python_sheet_text(rows: Sequence[Sequence[object]]) -> tuple[bytes, dict[int, str]]:
    """``_compiled.sheet_text`` in Python: numbers and names, repeated across a plan's
    millions of input cells, are written once each (``_InputTexts``)."""
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
_DIGEST_SALT = b"sopfin/cell-digest/1"


def _is_digest_cell(value: object) -> bool:
    return isinstance(value, str) and value.startswith(DIGEST_MARKER)


def _tokens(records: list[bytes], formulas: np.ndarray) -> list[str]:
    """The digest of each record: the cell's kind (``f`` formula, ``v`` value, from
    ``formulas``) and 32 bits of SHA-256 over a salt and the record."""
    if _enabled:
        assert _compiled is not None
        out: list[str] = _compiled.tokens(records, formulas, _DIGEST_SALT)
        return out
    salted = hashlib.sha256(_DIGEST_SALT).copy
    hexes = []
    for record in records:
        digest = salted()
        digest.update(record)
        hexes.append(digest.hexdigest()[:8])
    return [("f" if f else "v") + h for f, h in zip(formulas.tolist(), hexes, strict=True)]


def _digest_texts(rows: np.ndarray, cols: np.ndarray, tokens: Sequence[str],
                  column: str) -> dict[int, str]:
    """``{row: 'sopfin-digest/1 B=v... C=v...'}`` for the digest column, one per content row;
    the cells in (row, column) order."""
    letters = column.upper()
    at = np.flatnonzero(cols == column_index(letters)) if len(cols) else np.array([], int)
    if len(at):
        raise ValueError(f"digest column {column} holds content at "
                         f"{letters}{int(rows[at[0]])}")
    if _enabled:
        assert _compiled is not None
        out: dict[int, str] = _compiled.digest_texts(
            *(np.ascontiguousarray(a, dtype=np.int64) for a in (rows, cols)), list(tokens),
            DIGEST_MARKER + " ")
        return out
    return _python_digest_texts(rows, cols, tokens)


def _python_digest_texts(rows: np.ndarray, cols: np.ndarray,
                         tokens: Sequence[str]) -> dict[int, str]:
    """``_compiled.digest_texts`` in Python: the tokens after their column letters, a line
    per row."""
    if not len(rows):
        return {}
    used, where = np.unique(cols, return_inverse=True)
    labels = [f"{_letters(c)}=" for c in used.tolist()]
    pieces = [labels[i] + t for i, t in zip(where.tolist(), tokens, strict=True)]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]]).tolist()
    head = DIGEST_MARKER + " "
    return {row: head + " ".join(pieces[a:b])
            for row, a, b in zip(rows[starts].tolist(), starts, [*starts[1:], len(rows)],
                                 strict=True)}


def _kinds(cells: CellArrays) -> tuple[np.ndarray, np.ndarray]:
    """Which cells are digest cells, and which hold formulas (neither is a float)."""
    values = cells.values
    others = np.flatnonzero(~cells.floats).tolist()
    marked = np.zeros(len(values), dtype=bool)
    marked[[i for i in others if _is_digest_cell(values[i])]] = True
    formulas = np.zeros(len(values), dtype=bool)
    formulas[[i for i in others if isinstance(values[i], FormulaCell)]] = True
    return marked, formulas


def _non_empty(cells: CellArrays, records: list[bytes | None],
               ) -> tuple[CellArrays, list[bytes]]:
    """The cells that have a record, and their records."""
    if None not in records:
        return cells, records  # type: ignore[return-value]
    kept = np.fromiter((r is not None for r in records), dtype=bool, count=len(records))
    return cells.take(np.flatnonzero(kept)), [r for r in records if r is not None]


def _content_tokens(cells: CellArrays, records: list[bytes],
                    ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows, columns and digests of the content cells (digest cells excluded)."""
    marked, formulas = _kinds(cells)
    if marked.any():
        content = np.flatnonzero(~marked)
        return (cells.rows[content], cells.cols[content],
                _tokens([records[i] for i in content.tolist()], formulas[content]))
    return cells.rows, cells.cols, _tokens(records, formulas)


def _content_digests(cells: Mapping[str, object]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Rows, columns and digests of the non-empty content cells (digest cells excluded)."""
    grid = _by_ref({r: v for r, v in cells.items() if not _is_digest_cell(v)})
    return _content_tokens(*_non_empty(grid, _cell_records(grid)))


def cell_digests(cells: Mapping[str, object]) -> dict[str, str]:
    """``{'B7': 'v1a2b3c4d'}`` for every non-empty content cell (digest cells excluded)."""
    rows, cols, tokens = _content_digests(cells)
    return {f"{_letters(c)}{r}": t
            for r, c, t in zip(rows.tolist(), cols.tolist(), tokens, strict=True)}


def digest_cells(cells: Mapping[str, object], column: str) -> dict[str, str]:
    """The hidden digest column for a tab: ``{'Z7': 'sopfin-digest/1 B=v... C=v...'}``."""
    texts = _digest_texts(*_content_digests(cells), column)
    return {f"{column.upper()}{row}": text for row, text in texts.items()}


def seal(cells: Mapping[Position, object], column: str) -> tuple[dict[int, str], str]:
    """``seal_cells`` on the cells by (row, column)."""
    return seal_cells(CellArrays.of(cells), column)


def seal_cells(cells: CellArrays, column: str) -> tuple[dict[int, str], str]:
    """The digest text of each content row and the hash of the tab with its digest column,
    from the cells in (row, column) order; ``column`` holds the digest cells.

    The same texts as ``digest_cells`` and the same hash as ``content_hash({**cells,
    **digest_cells(cells, column)})`` on the ``{ref: value}`` mapping, with each cell's
    record built once instead of twice."""
    found, records = _non_empty(cells, _cell_records(cells))
    texts = _digest_texts(*_content_tokens(found, records), column)
    col = column_index(column.upper())
    added = CellArrays(np.array(list(texts), dtype=np.int64),
                       np.full(len(texts), col, dtype=np.int64), list(texts.values()))
    every = _objects(records)
    replaced = (found.cols == col) & np.isin(found.rows, added.rows)
    if replaced.any():  # digest cells already there: the new ones take their places
        keep = np.flatnonzero(~replaced)
        found, every = found.take(keep), every[keep]
    width = max(int(found.cols.max(initial=0)), col) + 1
    at = np.searchsorted(found.rows * width + found.cols, added.rows * width + col)
    every = np.insert(every, at, _objects(_cell_records(added)))
    return texts, _hash_records(every.tolist())


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
