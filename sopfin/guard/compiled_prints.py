"""Row fingerprints made by the compiled helper (``sopfin/guard/_rowprints.c``): a band of rows'
texts (``sopfin.guard.row_prints``) built and hashed in one pass, no Python string per row.

A band is described to it once: each formula grid's row joined (``FormulaGrid.joined_row``)
as literal pieces between argument slots, each block of formulas given cell by cell and each
block of labels as its rows. A row it cannot take whole (an empty formula, a label that is
not text or needs a canonical form) comes back as None and the Python path makes it, so the
texts are those of the Python path, row for row (``tests/test_fingerprints_compiled.py``).
The extension is built by ``pip install -e .`` when a C compiler and Python's headers are
there (``setup.py``); without it, or after ``use_compiled(False)``, every row goes the Python
way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, cast

from sopfin.guard.fingerprints import MARK, _runs
from sopfin.guard.typed_over import SpecRows, _Band
from sopfin.sheetspec import FormulaGrid
from sopfin.workbook import FORMULA_SEP

try:
    from sopfin.guard import _rowprints  # type: ignore[attr-defined]
except ImportError:  # no C compiler when sopfin was installed: the Python path makes them
    _rowprints = None

_enabled = _rowprints is not None
_PLACEHOLDER = re.compile(r"%(\.0s|.)", re.DOTALL)

# A grid's joined row as the extension spells it: literal UTF-8 pieces and argument slots.
Items = tuple[bytes | int, ...]
# A grid's items and the argument lists its slots index.
Template = tuple[Items, tuple[Sequence[object], ...]]
# (items, argument lists, grid row of the band's first row, explicit rows or None)
GridPart = tuple[Items, tuple[Sequence[object], ...], int, dict[Any, Any] | None]
# (rows, index of the band's first row in them, width)
CellsPart = tuple[list[Any], int, int]


def available() -> bool:
    """Whether the extension is built and importable."""
    return _rowprints is not None


def enabled() -> bool:
    return _enabled


def use_compiled(enabled: bool) -> bool:
    """Turn the compiled path on or off (tests run both paths on the same sheets); returns
    whether it was on. It cannot be turned on without the extension."""
    global _enabled
    was, _enabled = _enabled, enabled and _rowprints is not None
    return was


def _template(fmt: str, slots: Sequence[int]) -> list[str | int] | None:
    """A ``%`` format whose k-th placeholder takes argument ``slots[k]``, as literal text and
    argument slots (``%.0s`` takes its argument and writes nothing); None for any other
    conversion, a lone ``%`` or a number of placeholders other than ``len(slots)``."""
    items: list[str | int] = []
    at = k = 0
    for m in _PLACEHOLDER.finditer(fmt):
        items.append(fmt[at:m.start()])
        at = m.end()
        kind = m.group(1)
        if kind == "%":
            items.append("%")
        elif kind in ("s", ".0s") and k < len(slots):
            if kind == "s":
                items.append(slots[k])
            k += 1
        else:
            return None
    rest = fmt[at:]
    if "%" in rest or k != len(slots):
        return None
    items.append(rest)
    return items


def grid_items(grid: FormulaGrid) -> Template | None:
    """The pieces of ``grid.joined_row(i, FORMULA_SEP)`` and the argument lists its slots
    index; None when the extension cannot spell it (the Python path then joins its rows)."""
    texts = grid.texts[1:] if grid.first is not None else grid.texts
    nargs, repeat = len(grid.args), len(texts)
    found = _template(FORMULA_SEP.join(texts), [k % nargs for k in range(nargs * repeat)])
    args: tuple[Sequence[object], ...] = tuple(grid.args)
    if found is not None and grid.first is not None and grid.texts:
        text, first_args = grid.first
        head = _template(text, range(nargs, nargs + len(first_args)))
        args += tuple(first_args)
        found = None if head is None else [*head, FORMULA_SEP, *found] if repeat else head
    if found is None:
        return None
    items: list[bytes | int] = []
    for item in found:
        if isinstance(item, int):
            items.append(item)
        elif item:
            piece = item.encode("utf-8", "surrogatepass")
            last = items[-1] if items else None
            if isinstance(last, bytes):
                items[-1] = last + piece
            else:
                items.append(piece)
    return tuple(items), args


def band_texts(spec: SpecRows, start: int, stop: int, blocks: tuple[int, ...],
               grids: dict[int, Template | None]) -> list[str | None] | None:
    """The fingerprint texts of rows start..stop-1, covered by ``blocks`` (None: a row left
    to the Python path); None for a band the extension does not take (the extension off,
    blocks that overlap, numbers beside the formulas, a grid it cannot spell). ``grids``
    keeps each grid's template between bands."""
    if not _enabled or _Band(spec, blocks).overlap:
        return None
    grid_parts: list[GridPart] = []
    others: list[CellsPart] = []
    labels: list[CellsPart] = []
    f_cols: list[str] = []
    o_cols: list[str] = []
    c_cols: list[str] = []
    for b in blocks:
        block, width = spec.blocks[b], spec.widths[b]
        formulas = block.formulas
        if isinstance(formulas, FormulaGrid):
            if b not in grids:
                grids[b] = grid_items(formulas)
            found, explicit = grids[b], formulas.explicit
            if found is None or not width or (explicit and type(explicit) is not dict):
                return None
            grid_parts.append((*found, start - block.row,
                               cast(dict[int, Sequence[str]], explicit) if explicit else None))
            f_cols += spec.letters[b]
        elif formulas is None:
            if spec.numeric[b]:
                return None
            if width:
                labels.append(_cells(spec, b, start, stop, formulas=False))
                c_cols += spec.letters[b]
        elif width:
            others.append(_cells(spec, b, start, stop, formulas=True))
            o_cols += spec.letters[b]
        else:
            return None
    if not grid_parts and not others:
        return None
    head = f"{MARK}{_runs((*f_cols, *o_cols))};{_runs(tuple(c_cols))};"
    return band(head, stop - start, grid_parts, others, labels)


def _cells(spec: SpecRows, b: int, start: int, stop: int, formulas: bool) -> CellsPart:
    """Block b's rows (its formulas or its values) for the band start..stop-1: a list of
    rows as it is, anything else converted once as the Python path converts it."""
    block = spec.blocks[b]
    source = block.formulas if formulas else block.values
    if type(source) is list:
        return source, start - block.row, spec.widths[b]
    if formulas:
        spec._formula_row(b, 0)  # converts the block once
        converted = spec._formulas[b]
    else:
        spec._value_row(b, 0)
        converted = spec._values[b]
    return converted[start - block.row:stop - block.row].tolist(), 0, spec.widths[b]


def band(head: str, n: int, grids: Sequence[GridPart], others: Sequence[CellsPart],
         labels: Sequence[CellsPart]) -> list[str | None] | None:
    """Each row's fingerprint text (``head`` and its digest), None for a row left to the
    Python path; None for a band whose blocks the extension cannot read."""
    assert _rowprints is not None
    out: list[str | None] | None = _rowprints.band(head, n, tuple(grids), tuple(others),
                                                   tuple(labels))
    return out


def digest(data: bytes) -> str:
    """One text's digest as the extension makes it (tests compare it with hashlib's)."""
    assert _rowprints is not None
    text: str = _rowprints.digest(data)
    return text


def digests(texts: list[bytes]) -> list[str]:
    """Each text's digest, hashed four at a time as the extension hashes a band's rows."""
    assert _rowprints is not None
    out: list[str] = _rowprints.digests(texts)
    return out


def kernels() -> list[str]:
    """The extension's ways of hashing four texts at once that this CPU runs (plain vector
    code, AVX2, AVX-512), the one in use first."""
    assert _rowprints is not None
    names: list[str] = _rowprints.kernels()
    return names


def use_kernel(name: str) -> str:
    """Hash with the named kernel from now on (tests run each); returns the one it replaces."""
    assert _rowprints is not None
    was: str = _rowprints.use_kernel(name)
    return was
