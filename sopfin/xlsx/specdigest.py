"""Spec digests: what a worksheet part would hold, known before it is built.

A sheet's spec digest is SHA-256 over everything that reaches its worksheet XML: every block's
position, values, formulas and styles, the column widths, views, outline, protection, links,
page setup and charts of its ``SheetSpec``, the cell formats its styles resolve to, the
relationship id of its drawing, and the writer's format (``WRITER_FORMAT`` and the source of
the modules that spell the XML, so that a change to the writer invalidates every digest).
Numeric and text arrays are hashed by dtype, shape and bytes; a ``FormulaGrid`` by its
template and row arguments, never its millions of strings; anything else by its ``repr`` (of
the nested lists, for an array of objects): exact for the values a spec holds (text, floats
by their shortest round trip, whole numbers, booleans, None, styles), the same in every
process, and telling apart values the writer could spell alike (``1`` and ``1.0``), which
only costs a rebuild.

Two things in a sheet say only when it was made, not what it holds, and are left out: the
time in its title (``generated 2027-01-05 09:30 UTC``, to the minute) and the hidden column
of row fingerprints, which hashes the title with the rest of its row
(``sopfin.guard.fingerprints``) and is otherwise made from the cells. A sheet whose content
has not changed is therefore copied with the time it was first generated and the
fingerprints that match it: the time its content was generated.

The writer records the digest in the zip entry comment of the part it writes, beside the
part's CRC-32 and size (``sopfin.xlsx.package.written_comment``). When the next write's spec
has the same digest and the entry is still exactly what sopfin wrote, the part's compressed
bytes are copied instead of built and deflated again. A digest that cannot be taken (a value
whose ``repr`` names no content, such as an object's address) is None: the part is built, as
is one whose record is lost or foreign.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np

from sopfin.guard.fingerprints import MARK
from sopfin.sheetspec import Block, FormulaGrid, SheetSpec, Style

WRITER_FORMAT = b"sopfin-sheet-xml/1\n"  # bump when the worksheet XML changes on purpose
_XML_MODULES = ("sheetxml.py", "cellxml.py", "gridrows.py", "rowxml.py", "_rowxml.c",
                "floattext.py", "pagexml.py", "specdigest.py")
_GENERATED = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


@functools.cache
def writer_format() -> bytes:
    """The writer's format: ``WRITER_FORMAT`` and the source of the modules that spell the
    worksheet XML (what is missing is left out; the constant still counts)."""
    digest = hashlib.sha256(WRITER_FORMAT)
    folder = Path(__file__).parent
    for name in _XML_MODULES:
        try:
            digest.update(name.encode("ascii") + (folder / name).read_bytes())
        except OSError:
            digest.update(name.encode("ascii") + b" missing")
    return digest.digest()


def spec_digest(spec: SheetSpec, xf: Mapping[Style, int],
                drawing_rid: str | None = None) -> str | None:
    """The digest of the worksheet part ``spec`` makes with the cell formats ``xf`` and the
    drawing ``drawing_rid``; None when some value cannot be hashed (build the part)."""
    digest = hashlib.sha256(writer_format())
    try:
        _feed(digest, (spec.name, spec.owned, sorted(spec.col_widths.items()), spec.freeze,
                       spec.tab_color, tuple(spec.links), spec.state, spec.protection,
                       tuple(spec.charts), tuple(spec.hidden_cols), spec.page,
                       sorted(spec.row_heights.items()), sorted(spec.row_outline.items()),
                       spec.selected, drawing_rid))
        _feed(digest, sorted((str(style), index) for style, index in xf.items()))
        for block in spec.blocks:
            _feed_block(digest, block)
    except (TypeError, AttributeError, ValueError):
        return None
    return digest.hexdigest()


def _feed_block(digest: Any, block: Block) -> None:
    _feed(digest, ("block", block.row, block.col))
    if _fingerprints(block.values):
        _feed(digest, ("fingerprints", np.shape(block.values)))
    elif block.row == 1:
        _feed(digest, ("title", [[_GENERATED.sub("generated", v) if isinstance(v, str) else v
                                  for v in row] for row in _rows(block.values)]))
    else:
        _feed_values(digest, block.values)
    formulas = block.formulas
    if isinstance(formulas, FormulaGrid):
        _feed(digest, ("grid", formulas.texts, formulas.rows, formulas.first is not None,
                       sorted((k, tuple(v)) for k, v in formulas.explicit.items())))
        for args in formulas.args:
            _feed_values(digest, args)
        if formulas.first is not None:
            _feed(digest, formulas.first[0])
            for args in formulas.first[1]:
                _feed_values(digest, args)
    else:
        _feed_values(digest, formulas)
    _feed_values(digest, block.style)


def _feed_values(digest: Any, values: object) -> None:
    """Numeric and text arrays by dtype, shape and bytes; anything else by its ``repr``."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufUS":
        _feed(digest, ("array", values.dtype.str, values.shape))
        digest.update(np.ascontiguousarray(values).tobytes())
    elif isinstance(values, np.ndarray):
        _feed(digest, ("objects", values.shape, values.tolist()))
    else:
        _feed(digest, values)


def _rows(values: object) -> list[list[object]]:
    """A block's values as nested lists (an array's through ``tolist``)."""
    if isinstance(values, np.ndarray):
        return cast(list[list[object]], values.tolist())
    return [list(row) for row in cast(Iterable[Iterable[object]], values)]


def _fingerprints(values: object) -> bool:
    """A block of row fingerprints: text starting with ``MARK`` (or nothing) in every cell."""
    if isinstance(values, np.ndarray) and values.dtype.kind not in "OU":
        return False
    found = [v for row in _rows(values) for v in row if v is not None]
    return bool(found) and all(isinstance(v, str) and v.startswith(MARK) for v in found)


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def _feed(digest: Any, value: object) -> None:
    text = repr(value)
    if _ADDRESS.search(text):
        raise ValueError("a value whose repr names no content")
    data = text.encode("utf-8", "surrogatepass")
    digest.update(len(data).to_bytes(8, "little"))
    digest.update(data)


def parts_digests(specs: Iterable[tuple[str, SheetSpec]], xf: Mapping[Style, int],
                  rids: Mapping[str, str]) -> dict[str, str | None]:
    """{part: spec digest} for (part, spec) pairs, each part's drawing from ``rids``."""
    return {part: spec_digest(spec, xf, rids.get(part)) for part, spec in specs}
