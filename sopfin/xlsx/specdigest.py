"""Spec digests: what a worksheet part would hold, known before it is built.

A sheet's spec digest is SHA-256 over everything that reaches its worksheet XML: every block's
position, values, formulas and styles, the column widths, views, outline, protection, links,
page setup and charts of its ``SheetSpec``, the cell formats its styles resolve to, the
relationship id of its drawing, and the writer's format (``WRITER_FORMAT`` and the source of
the modules that spell the XML, so that a change to the writer invalidates every digest).
Numeric and text arrays are hashed by dtype, shape and bytes; a ``FormulaGrid`` by its
template and row arguments, never its millions of strings; an array of styles by the styles'
names; anything else by its ``repr`` (of the nested lists, for an array of objects), each
after its length, the text of a run of values hashed at once: exact for the values a spec
holds (text, floats by their shortest round trip, whole numbers, booleans, None, styles), the
same in every process, and telling apart values the writer could spell alike (``1`` and
``1.0``), which only costs a rebuild.

Two things in a sheet say only when it was made, not what it holds, and are left out: the
time in its title (``generated 2027-01-05 09:30 UTC``, to the minute) and the hidden column
of row fingerprints, which hashes the title with the rest of its row
(``sopfin.guard.fingerprints``) and is otherwise made from the cells. A sheet whose content
has not changed is therefore copied with the time it was first generated and the
fingerprints that match it: the time its content was generated.

The writer records the digest in the zip entry comment of the part it writes, beside the
part's CRC-32 and size (``sopfin.xlsx.zipsink.written_comment``). When the next write's spec
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
from typing import cast

import numpy as np

from sopfin.guard.fingerprints import MARK
from sopfin.sheetspec import Block, FormulaGrid, SheetSpec, Style

WRITER_FORMAT = b"sopfin-sheet-xml/2\n"  # bump when the worksheet XML changes on purpose
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
    feed = _Feed()
    try:
        feed.add((spec.name, spec.owned, sorted(spec.col_widths.items()), spec.freeze,
                  spec.tab_color, tuple(spec.links), spec.state, spec.protection,
                  tuple(spec.charts), tuple(spec.hidden_cols), spec.page,
                  sorted(spec.row_heights.items()), sorted(spec.row_outline.items()),
                  spec.selected, drawing_rid))
        feed.add(sorted((str(style), index) for style, index in xf.items()))
        for block in spec.blocks:
            _feed_block(feed, block)
        return feed.hexdigest()
    except (TypeError, AttributeError, ValueError):
        return None


class _Feed:
    """What a digest hashes, gathered: each value's ``repr`` after its length (in characters),
    an array's bytes after its dtype and shape; the text is encoded and hashed once per run of
    values, not once per value (a Recon tab has a block per row)."""

    def __init__(self) -> None:
        self.digest = hashlib.sha256(writer_format())
        self.texts: list[str] = []

    def add(self, value: object) -> None:
        text = repr(value)
        self.texts += (str(len(text)), ":", text)

    def add_bytes(self, data: bytes) -> None:
        self.flush()
        self.digest.update(len(data).to_bytes(8, "little"))
        self.digest.update(data)

    def flush(self) -> None:
        text = "".join(self.texts)
        self.texts = []
        if _ADDRESS.search(text):
            raise ValueError("a value whose repr names no content")
        self.digest.update(text.encode("utf-8", "surrogatepass"))

    def hexdigest(self) -> str:
        self.flush()
        return self.digest.hexdigest()


def _feed_block(feed: _Feed, block: Block) -> None:
    feed.add(("block", block.row, block.col))
    if _fingerprints(block.values):
        feed.add(("fingerprints", np.shape(block.values)))
    elif block.row == 1:
        feed.add(("title", [[_GENERATED.sub("generated", v) if isinstance(v, str) else v
                             for v in row] for row in _rows(block.values)]))
    else:
        _feed_values(feed, block.values)
    formulas = block.formulas
    if isinstance(formulas, FormulaGrid):
        feed.add(("grid", formulas.texts, formulas.rows, formulas.first is not None,
                  sorted((k, tuple(v)) for k, v in formulas.explicit.items())))
        for args in formulas.args:
            _feed_values(feed, args)
        if formulas.first is not None:
            feed.add(formulas.first[0])
            for args in formulas.first[1]:
                _feed_values(feed, args)
    else:
        _feed_values(feed, formulas)
    _feed_values(feed, block.style)


_STYLE_NAMES = {style: f"Style.{style.name}" for style in Style}


def _feed_values(feed: _Feed, values: object) -> None:
    """Numeric and text arrays by dtype, shape and bytes; arrays of styles by the styles'
    names; anything else by its ``repr``."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "biufUS":
        feed.add(("array", values.dtype.str, values.shape))
        feed.add_bytes(np.ascontiguousarray(values).tobytes())
    elif isinstance(values, np.ndarray):
        cells = values.ravel().tolist()
        if all(type(v) is Style or v is None for v in cells):
            feed.add(("styles", values.shape, [_STYLE_NAMES.get(v) for v in cells]))
        else:
            feed.add(("objects", values.shape, values.tolist()))
    else:
        feed.add(values)


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


def parts_digests(specs: Iterable[tuple[str, SheetSpec]], xf: Mapping[Style, int],
                  rids: Mapping[str, str]) -> dict[str, str | None]:
    """{part: spec digest} for (part, spec) pairs, each part's drawing from ``rids``."""
    return {part: spec_digest(spec, xf, rids.get(part)) for part, spec in specs}
