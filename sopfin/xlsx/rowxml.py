"""The compiled row formatter (``sopfin/xlsx/_rowxml.c``): rows of float cells, with or
without the formulas of a ``FormulaGrid``, as one str per row, byte for byte the text the
Python path of ``sopfin.xlsx.cellxml`` builds.

A block is described to it once: per column the cell's opening (``<c r="`` and the column's
letters) and its formula as literal pieces (XML-escaped) between argument slots; the values
go in as a float64 array and come out spelled as ``repr`` spells them, a trailing ``.0``
dropped: whole numbers and cents by the extension itself, other values from 1e-4 up as orjson
spelled the window (``sopfin.xlsx.floattext.spelled``; its shortest round-trip digits are
``repr``'s), the rest by Python's float repr. The extension is built by ``pip install -e .``
when a C compiler and Python's headers are there (``setup.py``, ``scripts/bootstrap.sh``);
without it, or after ``use_compiled(False)``, every row goes the Python way, to the same
bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sopfin.xlsx import floattext

try:
    from sopfin.xlsx import _rowxml  # type: ignore[attr-defined]
except ImportError:  # no C compiler when sopfin was installed: the Python path writes
    _rowxml = None

# Per column: (opening, formula pieces or None, argument slots between the pieces)
Column = tuple[str, tuple[str, ...] | None, tuple[int, ...]]

_enabled = _rowxml is not None
_PLACEHOLDER = re.compile(r"%(\.0s|.)", re.DOTALL)


def available() -> bool:
    """Whether the extension is built and importable."""
    return _rowxml is not None


def enabled() -> bool:
    return _enabled


def use_compiled(enabled: bool) -> bool:
    """Turn the compiled path on or off (tests and the write benchmark run both paths on the
    same rows); returns whether it was on. It cannot be turned on without the extension."""
    global _enabled
    was, _enabled = _enabled, enabled and _rowxml is not None
    return was


def plain_columns(letters: Sequence[str]) -> tuple[Column, ...]:
    """Columns of values without formulas."""
    return tuple((f'<c r="{col}', None, ()) for col in letters)


def template_column(letters: str, template: str, slots: Sequence[int],
                    escape: Any) -> Column | None:
    """A column whose formula is the ``%`` format ``template`` (``%s`` per argument, ``%.0s``
    for an argument left out, ``%%`` for a percent sign), its arguments ``slots`` of the
    block's argument lists, its literal text escaped by ``escape``; None when the template
    holds any other conversion or a different number of placeholders (the Python path then
    formats it, or reports it, as it always has)."""
    pieces, placed, current, at, k = [], [], [], 0, 0
    for m in _PLACEHOLDER.finditer(template):
        current.append(template[at:m.start()])
        at = m.end()
        if m.group(1) == "%":
            current.append("%")
            continue
        if k == len(slots) or m.group(1) not in ("s", ".0s"):
            return None
        if m.group(1) == "s":
            pieces.append(escape("".join(current)))
            placed.append(slots[k])
            current = []
        k += 1
    current.append(template[at:])
    pieces.append(escape("".join(current)))
    if k != len(slots):
        return None
    return (f'<c r="{letters}', tuple(pieces), tuple(placed))


def rows(columns: tuple[Column, ...], style_attr: str, args: tuple[list[str], ...],
         values: np.ndarray, first_row: int, i0: int,
         explicit: Mapping[int, Sequence[str]] | None = None) -> list[str]:
    """The cell XML of ``values``' rows (sheet rows from ``first_row``, block rows from
    ``i0``), one str per row; ``explicit`` gives the formulas of rows not from the
    template, as written (a leading ``=`` allowed, not escaped)."""
    assert _rowxml is not None
    window = np.ascontiguousarray(values, dtype=np.float64)
    table = (explicit if isinstance(explicit, dict) else dict(explicit)) if explicit else None
    out: list[str] = _rowxml.rows(columns, f'"{style_attr}', args, window, first_row, i0, table,
                                  floattext.spelled(window))
    return out


def escape_labels(labels: list[str], fallback: Any) -> list[str]:
    """Each label as a cell writes it: plain ASCII ones escaped here, any other by
    ``fallback``."""
    assert _rowxml is not None
    out: list[str] = _rowxml.escape_labels(labels, fallback)
    return out


def label_rows(letters: Sequence[str], style_attr: str, rows: list[list[str]], first_row: int,
               texts: dict[str, str]) -> list[str]:
    """The cell XML of rows of labels in one style (sheet rows from ``first_row``), each label
    written as ``texts`` has it escaped; one str per row."""
    assert _rowxml is not None
    opens = tuple(f'<c r="{col}' for col in letters)
    tail = f'"{style_attr} t="inlineStr"><is><t xml:space="preserve">'
    out: list[str] = _rowxml.label_rows(opens, tail, rows, first_row, texts)
    return out


def mixed_rows(letters: Sequence[str], rows: list[list[Any]], styles: list[list[str]],
               first_row: int, fallback: Any) -> list[str]:
    """The cell XML of rows of plain values without formulas (sheet rows from
    ``first_row``), each cell in its own style attribute: None, bool, float, int and str
    written here, any other value by ``fallback(ref, style, value)``; one str per row."""
    assert _rowxml is not None
    out: list[str] = _rowxml.mixed_rows(tuple(letters), rows, styles, first_row, fallback)
    return out


def window_xml(spans: list[tuple[int, list[str]]], first_row: int, n: int) -> bytes:
    """The ``<row>`` elements of ``n`` sheet rows from ``first_row`` as UTF-8: each block's
    cells as (offset of its first row, one str per row), rows without cells left out."""
    assert _rowxml is not None
    out: bytes = _rowxml.window_xml(spans, first_row, n)
    return out


def value_text(x: float) -> str:
    """One cached value as the extension spells it (tests compare it with ``repr``)."""
    assert _rowxml is not None
    text: str = _rowxml.value_text(x)
    return text
