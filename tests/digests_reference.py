"""The straightforward content fingerprints, kept as the reference the fast ones must match.

These are the functions of ``sopfin.close.digests`` (and the cell reading of
``sopfin.render.recon``) as they were before the fast path: one record per cell built from its
``{ref: value}`` entry, built again for the digests, every string NFC-normalised. Workbooks
closed with them must still verify, so ``tests/test_digests_fast.py`` asserts that the fast
functions give byte-for-byte the same hashes, digests and digest texts. Do not optimise this module.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time

import numpy as np
import pandas as pd

from sopfin import layout
from sopfin.close.digests import DIGEST_MARKER, FormulaCell
from sopfin.layout import column_index, column_letter
from sopfin.model import XlError
from sopfin.money import to_cents
from sopfin.render.recon_page import hash_link, short_hash
from sopfin.render.recon_tab import OWN_HASH_CELLS, RECON_HASH_CELL, RECON_HASH_SHORT_CELL
from sopfin.sheetspec import Block, SheetSpec, Style

_REF = re.compile(r"^\$?([A-Za-z]{1,3})\$?([1-9][0-9]*)$")


def reference_netstring(text: str) -> bytes:
    data = unicodedata.normalize("NFC", text).encode("utf-8")
    return b"%d:%s," % (len(data), data)


def reference_position(ref: str) -> tuple[int, int]:
    match = _REF.match(ref)
    if match is None:
        raise ValueError(f"not a cell reference: {ref!r}")
    return int(match.group(2)), column_index(match.group(1))


def reference_number(value: float, exact: bool) -> str:
    if exact:
        return str(int(value)) if value.is_integer() and abs(value) < 2**63 else repr(value)
    cents = float(to_cents(value)) * 100
    if not math.isfinite(cents):  # once an OverflowError: no workbook holds such a hash
        return repr(value)
    return str(int(round(cents)))


def reference_typed(value: object, exact: bool) -> tuple[str, str] | None:
    if value is None:
        return None
    if isinstance(value, XlError):
        return "e", value.code
    if isinstance(value, (bool, np.bool_)):
        return "b", "TRUE" if value else "FALSE"
    if isinstance(value, numbers.Real):
        number = float(value)
        if number != number:
            return None
        if number in (float("inf"), float("-inf")):
            return "n", str(number)
        return "n", reference_number(number, exact)
    if isinstance(value, str):
        return ("s", value) if value else None
    if isinstance(value, (datetime, date, time)):
        return "d", value.isoformat()
    raise TypeError(f"cannot canonicalise a {type(value).__name__} cell value: {value!r}")


def reference_cell_record(row: int, col: int, value: object, exact: bool) -> bytes | None:
    ref = f"{column_letter(col)}{row}"
    if isinstance(value, FormulaCell):
        cached = reference_typed(value.value, exact) or ("", "")
        parts = (ref, "f", value.formula.lstrip("="), *cached)
    else:
        typed = reference_typed(value, exact)
        if typed is None:
            return None
        parts = (ref, *typed)
    body = b"".join(reference_netstring(p) for p in parts)
    return b"%d:%s," % (len(body), body)


def reference_records(cells: Mapping[str, object],
                      exact: bool) -> list[tuple[tuple[int, int], bytes]]:
    out, seen = [], set()
    for ref, value in cells.items():
        pos = reference_position(ref)
        if pos in seen:
            raise ValueError(f"cell {ref} is given twice (under two spellings)")
        seen.add(pos)
        record = reference_cell_record(*pos, value, exact)
        if record is not None:
            out.append((pos, record))
    out.sort(key=lambda item: item[0])
    return out


def reference_canonical_cells(cells: Mapping[str, object]) -> bytes:
    return reference_netstring("sopfin/cells/1") + b"".join(
        r for _, r in reference_records(cells, exact=False))


def reference_content_hash(cells: Mapping[str, object]) -> str:
    return hashlib.sha256(reference_canonical_cells(cells)).hexdigest()


def reference_input_cell(value: object) -> str | None:
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
    typed = reference_typed(value, exact=True)
    if typed is None:
        return None
    tag, text = typed
    return f"n{text};" if tag == "n" else f"{tag}{len(text)}:{text}"


def reference_inputs_hash(tables: Mapping[str, Sequence[Sequence[object]]]) -> str:
    digest = hashlib.sha256(reference_netstring("sopfin/inputs/2"))
    for name in sorted(tables):
        digest.update(reference_netstring(name))
        for i, row in enumerate(tables[name], start=1):
            cells = [f"{j}={text}" for j, value in enumerate(row, start=1)
                     if (text := reference_input_cell(value)) is not None]
            if cells:
                digest.update(f"R{i}|{'|'.join(cells)}\n".encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _is_digest_cell(value: object) -> bool:
    return isinstance(value, str) and value.startswith(DIGEST_MARKER)


def reference_cell_digests(cells: Mapping[str, object]) -> dict[str, str]:
    formulas = {reference_position(r) for r, v in cells.items() if isinstance(v, FormulaCell)}
    content = {r: v for r, v in cells.items() if not _is_digest_cell(v)}
    out = {}
    for (row, col), record in reference_records(content, exact=False):
        token = hashlib.sha256(b"sopfin/cell-digest/1" + record).hexdigest()[:8]
        out[f"{column_letter(col)}{row}"] = ("f" if (row, col) in formulas else "v") + token
    return out


def reference_digest_cells(cells: Mapping[str, object], column: str) -> dict[str, str]:
    by_row: dict[int, list[str]] = {}
    for ref, digest in reference_cell_digests(cells).items():
        row, col = reference_position(ref)
        if column_letter(col) == column.upper():
            raise ValueError(f"digest column {column} holds content at {ref}")
        by_row.setdefault(row, []).append(f"{column_letter(col)}={digest}")
    return {f"{column.upper()}{row}": " ".join([DIGEST_MARKER, *tokens])
            for row, tokens in sorted(by_row.items())}


# --- the published tab, as sopfin.render.recon read and sealed it --------------------------

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def reference_written_text(text: str) -> str:
    text = _ILLEGAL_XML.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return text[:32767]


def reference_cell_value(v: object) -> object:
    if v is pd.NA or v is pd.NaT:
        return None
    if v is None or isinstance(v, (bool, np.bool_)):
        return None if v is None else bool(v)
    if isinstance(v, (int, float, np.integer, np.floating)):
        number = float(v)
        return number if math.isfinite(number) else None
    if isinstance(v, str):
        return reference_written_text(v) or None
    return reference_written_text(str(v)) or None


def _reference_spec_cells(spec: SheetSpec) -> Iterable[tuple[str, object]]:
    for block in spec.blocks:
        values = np.asarray(block.values, dtype=object)
        formulas = (np.asarray(block.formulas, dtype=object) if block.formulas is not None
                    else None)
        for i, j in np.ndindex(values.shape):
            ref = layout.cell_name(block.row + i, block.col + j)
            f = formulas[i, j] if formulas is not None else None
            if isinstance(f, str) and f:
                yield ref, FormulaCell(f[1:] if f.startswith("=") else f,
                                       reference_cell_value(values[i, j]))
                continue
            value = reference_cell_value(values[i, j])
            if value is not None:
                yield ref, value


def reference_recon_cells(spec: SheetSpec) -> dict[str, object]:
    digest_col = layout.RECON_DIGEST_COLUMN
    return {ref: v for ref, v in _reference_spec_cells(spec)
            if ref not in OWN_HASH_CELLS and ref.rstrip("0123456789") != digest_col}


def reference_seal(spec: SheetSpec) -> tuple[dict[str, str], str]:
    """The digest cells and the hash ``finalize_recon`` gave a tab."""
    cells = reference_recon_cells(spec)
    digests = reference_digest_cells(cells, layout.RECON_DIGEST_COLUMN)
    return digests, reference_content_hash({**cells, **digests})


def reference_finalize_recon(spec: SheetSpec) -> tuple[SheetSpec, str]:
    digests, recon_hash = reference_seal(spec)
    col = layout.column_index(layout.RECON_DIGEST_COLUMN)
    own = [_recon_position(cell) for cell in (RECON_HASH_CELL, RECON_HASH_SHORT_CELL)]
    blocks = [b for b in spec.blocks
              if not any(_is_cell(b, r, c) for r, c in own) and not _is_digest(b, col)]
    for b in blocks:
        rows, cols = np.asarray(b.values, dtype=object).shape
        if b.col <= col < b.col + cols or any(
                b.row <= r < b.row + rows and b.col <= c < b.col + cols for r, c in own):
            raise ValueError(f"sheet {spec.name!r}: the block at "
                             f"{layout.cell_name(b.row, b.col)} covers the digest column "
                             f"{layout.RECON_DIGEST_COLUMN} or an own-hash cell "
                             f"({', '.join(OWN_HASH_CELLS)})")
    (full_row, full_col), (short_row, short_col) = own
    blocks.append(Block(full_row, full_col, np.array([[recon_hash]], dtype=object),
                        style=Style.TEXT))
    blocks.append(Block(short_row, short_col, np.array([[short_hash(recon_hash)]],
                                                       dtype=object), style=Style.LINK))
    links = [link for link in spec.links if link.cell != RECON_HASH_SHORT_CELL]
    links.append(hash_link(spec.name, short_row, short_col, full_col, recon_hash))
    for ref, text in digests.items():
        blocks.append(Block(_recon_position(ref)[0], col, np.array([[text]], dtype=object),
                            style=Style.NOTE))
    hidden = tuple(sorted({*spec.hidden_cols, col}))
    return replace(spec, blocks=blocks, hidden_cols=hidden, links=tuple(links)), recon_hash


def _recon_position(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters):]), layout.column_index(letters)


def _is_cell(block: Block, row: int, col: int) -> bool:
    return (block.row, block.col) == (row, col) and np.asarray(
        block.values, dtype=object).shape == (1, 1)


def _is_digest(block: Block, col: int) -> bool:
    values = np.asarray(block.values, dtype=object)
    return (block.col == col and values.shape[1] == 1 and all(
        isinstance(v, str) and v.startswith(DIGEST_MARKER) for v in values.ravel()))

