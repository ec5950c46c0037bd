"""Spec digests: what a worksheet part would hold, known before it is built.

A sheet's spec digest is SHA-256 over everything that reaches its worksheet XML: every block's
position, values, formulas and styles, the column widths, views, outline, protection, links,
page setup and charts of its ``SheetSpec``, the cell formats its styles resolve to, the
relationship id of its drawing, and the writer's format (``WRITER_FORMAT``, the names of the
styles and the source of the modules that spell the XML, so that a change to the writer
invalidates every digest, and a part recorded by an older writer is built once more).

Each block is taken as one flat run of cells, made once: numeric and text arrays by dtype,
shape and bytes; a run of text alone by its strings joined (UTF-8), a run of floats alone by
their float64 bytes; an array of styles by one code per style; a ``FormulaGrid`` by its
template and row arguments, never its millions of strings; anything else by the ``repr`` of
its list. The small pieces of a sheet (positions, shapes, the cells of its many small blocks)
are gathered and hashed as the ``repr`` of one list, the large runs as bytes after their
length: exact for the values a spec holds (text, floats by their exact bits or shortest round
trip, whole numbers, booleans, None, styles), the same in every process, and telling apart
values the writer could spell alike (``1`` and ``1.0``), which only costs a rebuild.

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
is one whose record is lost, foreign or from another writer format.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

try:
    import orjson
except ImportError:  # pragma: no cover - a dependency; without it runs are hashed by repr
    orjson = None  # type: ignore[assignment]

from sopfin.guard.fingerprints import MARK
from sopfin.sheetspec import Block, FormulaGrid, SheetSpec, Style

WRITER_FORMAT = b"sopfin-sheet-xml/3\n"  # bump when the worksheet XML changes on purpose
_XML_MODULES = ("sheetxml.py", "cellxml.py", "gridrows.py", "rowxml.py", "_rowxml.c",
                "floattext.py", "pagexml.py", "specdigest.py")
_GENERATED = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")


@functools.cache
def writer_format() -> bytes:
    """The writer's format: ``WRITER_FORMAT``, the names of the styles (in the order that
    gives them their codes) and the source of the modules that spell the worksheet XML
    (what is missing is left out; the constant still counts)."""
    digest = hashlib.sha256(WRITER_FORMAT)
    digest.update(repr([style.value for style in Style]).encode("utf-8"))
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
    """What a digest hashes, gathered: small values in one list, hashed once as its ``repr``
    (a sheet of many small blocks, such as a Recon tab with a block per row, is one ``repr``),
    then the runs of bytes, each one's length in the list."""

    def __init__(self) -> None:
        self.items: list[object] = []
        self.runs: list[memoryview] = []

    def add(self, value: object) -> None:
        self.items.append(value)

    def add_bytes(self, data: bytes | memoryview) -> None:
        run = memoryview(data)
        self.items.append(("bytes", run.nbytes))
        self.runs.append(run)

    def hexdigest(self) -> str:
        text = repr(self.items)
        if _ADDRESS.search(text):
            raise ValueError("a value whose repr names no content")
        data = text.encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(writer_format())
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
        for run in self.runs:
            digest.update(run)
        return digest.hexdigest()


def _feed_block(feed: _Feed, block: Block) -> None:
    values = block.values
    if isinstance(values, np.ndarray) and values.dtype.kind in "biuf":
        feed.add(("block", block.row, block.col))
        _feed_array(feed, values)
    else:
        shape, cells = _cells(values)
        if _fingerprints(cells):
            feed.add(("block", block.row, block.col, "fingerprints", shape))
        elif block.row == 1:
            feed.add(("block", block.row, block.col, "title"))
            _feed_cells(feed, shape, [_GENERATED.sub("generated", v) if type(v) is str else v
                                      for v in cells])
        else:
            feed.add(("block", block.row, block.col))
            _feed_cells(feed, shape, cells)
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
    _feed_styles(feed, block.style)


def _feed_array(feed: _Feed, values: np.ndarray) -> None:
    """A numeric or text array by dtype, shape and bytes."""
    feed.add(("array", values.dtype.str, values.shape))
    feed.add_bytes(np.ascontiguousarray(values).data)


def _feed_values(feed: _Feed, values: object) -> None:
    """Formulas or row arguments: None, a range or a Style as such; numeric and text arrays
    by their bytes; any other array or sequence as a run of cells."""
    if values is None or isinstance(values, range | Style):
        feed.add(values)
    elif isinstance(values, np.ndarray) and values.dtype.kind in "biufUS":
        _feed_array(feed, values)
    elif isinstance(values, np.ndarray) or isinstance(values, list | tuple) and (
            not values or isinstance(values[0], list | tuple | np.ndarray)):
        _feed_cells(feed, *_cells(values))
    elif isinstance(values, list | tuple):
        feed.add(type(values).__name__)
        _feed_cells(feed, (len(values),), list(values))
    else:
        feed.add(values)


def _cells(values: object) -> tuple[tuple[int, ...], list[object]]:
    """(shape, the cells in row order) of an array, or of a sequence of rows (whose rows
    must all be as long as the first: ValueError otherwise, and the part is built)."""
    if isinstance(values, np.ndarray):
        return values.shape, values.ravel().tolist()
    rows = list(values)  # type: ignore[call-overload]
    cells = list(itertools.chain.from_iterable(rows))
    width = len(rows[0]) if rows else 0
    if len(cells) != len(rows) * width:
        raise ValueError("rows of different lengths")
    return (len(rows), width), cells


def _feed_cells(feed: _Feed, shape: tuple[int, ...], cells: list[object]) -> None:
    """A run of cells: text alone joined, floats alone as float64 bytes, plain values (text,
    numbers, booleans, None) as orjson writes them, anything else by ``repr``."""
    types = set(map(type, cells))
    if types == {str}:
        joined = "\x00".join(cells)  # type: ignore[arg-type]
        if joined.count("\x00") == len(cells) - 1:
            feed.add(("text", shape))
            feed.add_bytes(joined.encode("utf-8", "surrogatepass"))
            return
    elif types == {float}:
        feed.add(("floats", shape))
        feed.add_bytes(np.array(cells, dtype=np.float64).data)
        return
    elif types <= _JSON_TYPES and orjson is not None:
        data = _json(cells)
        if data is not None:
            feed.add(("json", shape))
            feed.add_bytes(data)
            return
    feed.add(("cells", shape, cells))


_JSON_TYPES = {str, float, int, bool, type(None)}


def _json(cells: list[object]) -> bytes | None:
    """Plain values as orjson writes them; None when that would not tell them apart (orjson
    writes NaN and infinities as null, as None) or cannot (a whole number past 64 bits)."""
    try:
        data: bytes = orjson.dumps(cells)
    except TypeError:
        return None
    if b"null" in data and not all(math.isfinite(v) for v in cells if type(v) is float):
        return None
    return data
_STYLE_CODES: dict[object, int] = {None: 48} | {style: 65 + k for k, style in enumerate(Style)}


def _feed_styles(feed: _Feed, styles: object) -> None:
    """A block's styles: one Style as such, an array or rows of styles (or None) as one
    code per cell, anything else by ``repr``."""
    if styles is None or isinstance(styles, Style):
        feed.add(_STYLE_CODES[styles])
        return
    shape, cells = _cells(styles)
    try:
        codes = bytes(map(_STYLE_CODES.__getitem__, cells))
    except (KeyError, TypeError):  # not styles: the writer refuses them, the digest notes them
        feed.add(("cells", shape, cells))
        return
    feed.add(("styles", shape))
    feed.add_bytes(codes)


def _fingerprints(cells: list[object]) -> bool:
    """A block of row fingerprints: text starting with ``MARK`` (or nothing) in every cell
    (decided by the first cell for almost every other block)."""
    first = cells[0] if cells else None
    if first is None:
        first = next((v for v in cells if v is not None), None)
    if type(first) is not str or not first.startswith(MARK):
        return False
    found = [v for v in cells if v is not None]
    return set(map(type, found)) == {str} and all(map(str.startswith, found,  # type: ignore[arg-type]
                                                      itertools.repeat(MARK)))


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+>")


def parts_digests(specs: Iterable[tuple[str, SheetSpec]], xf: Mapping[Style, int],
                  rids: Mapping[str, str]) -> dict[str, str | None]:
    """{part: spec digest} for (part, spec) pairs, each part's drawing from ``rids``."""
    return {part: spec_digest(spec, xf, rids.get(part)) for part, spec in specs}
