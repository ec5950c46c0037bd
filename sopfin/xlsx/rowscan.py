"""Worksheet rows at C speed: compiled regular expressions over the inflated XML text.

sopfin, Excel, LibreOffice and the usual libraries write each cell as ``<c r="B7" ...>``
followed by an optional ``<f>``, ``<v>`` and ``<is><t>``, in that order. One expression finds
every cell of a row with those parts (``findall``, in C), so a row costs a few calls, not a few
per cell. A row of plain cells is kept as the parts found (``ScannedRow``): its formulas are
compared as found, and a cell is decoded only when asked for.

A row holding shared or array formulas, entity references or a repeated column is decoded at
once with the rules of the lxml reader (``sopfin.xlsx.readcell``), in document order, so that
shared formulas and array ranges carry over to later rows. Anything outside this grammar
(namespace prefixes, comments, CDATA, a cell in another shape or without ``r``, a bad
attribute, a part not in UTF-8, a row outside ``<sheetData>``) raises ``Unusual``, and the
caller reads the sheet with lxml instead.
"""

from __future__ import annotations

import bisect
import codecs
import re
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import IO, Any

from lxml import etree

from sopfin.layout import column_index
from sopfin.workbook import FORMULA_SEP, CellRow, CellsRow
from sopfin.xlsx.readcell import FormulaState, cell_value, read_cell

CHUNK_BYTES = 1 << 22  # inflated bytes read at a time: memory stays bounded on any sheet
ROW_BYTES = 256 << 20  # the default of SOPFIN_MAX_ROW_BYTES (sopfin.xlsx.limits)

# One cell: column letters, other attributes, '<f' with its attributes, formula text, the
# whole <v> element, '<t ...>' with the inline text. ``\S`` catches anything else: its match
# has no column letters. (Possessive repeats: nothing to give back, nothing to remember.)
_CELL = re.compile(
    r'<c r="([A-Z]{1,3})[0-9]++"([^>/]*+)(?:>\s*+'
    r"(?:(<f(?:\s[^>/]*+)?)(?:>([^<]*+)</f>|/>)\s*+)?"
    r'(<v(?: xml:space="preserve")?(?:>[^<]*+</v>|/>))?\s*+'
    r'(?:<is>\s*+(<t(?: xml:space="preserve")?>[^<]*+)</t>\s*+</is>\s*+)?'
    r"</c>|/>)|\S")
_COLUMN, _ATTRS, _F_OPEN, _FTEXT = itemgetter(0), itemgetter(1), itemgetter(2), itemgetter(3)
_PLAIN_F = frozenset(("", "<f"))  # no <f>, or one without attributes
_ROW_R = re.compile(r'\s+r="([0-9]+)"')
_ATTR = re.compile(r'\s+([^\s=<>"\'/]+)\s*=\s*(?:"([^"<]*)"|\'([^\'<]*)\')')
_SHEET_DATA = re.compile(r"<sheetData[\s/>]")
_SHEET_DATA_END = "</sheetData>"
_ENCODING = re.compile(r'\s*<\?xml\s[^>]*?encoding\s*=\s*["\']([^"\']*)["\']')
_ENTITY = re.compile(r"&(?:(lt|gt|amp|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));")
_BAD_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);)")
_BAD_BYTES = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])  # not allowed in XML
_BAD_UTF8 = (b"\xef\xbf\xbe", b"\xef\xbf\xbf")  # U+FFFE, U+FFFF
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"', "apos": "'"}
_PARSER = etree.XMLParser(resolve_entities=False, huge_tree=True)
_MEMO_SIZE = 4096  # distinct attribute texts remembered per sheet


class Unusual(Exception):
    """The part has something the scanner does not read; read it with lxml instead."""


class RowTooLargeError(ValueError):
    """More text than ``row_bytes`` without the end of a row: the part is refused."""


class _Pending:
    """Text read but not yet scanned, kept as chunks: adding is linear, and each search
    looks only at the text added since the last search for the same pattern (plus the few
    characters before it that could start a match)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[str] = []
        self.starts: list[int] = []  # offset of each chunk in the pending text
        self.size = 0
        self.searched: dict[str, int] = {}  # how far each pattern has been looked for

    def add(self, text: str) -> None:
        if not self.chunks:
            text = text.lstrip(" \t\r\n")  # whitespace between rows means nothing
        if not text:
            return
        self.starts.append(self.size)
        self.chunks.append(text)
        self.size += len(text)
        if self.size > self.limit:
            raise RowTooLargeError(f"more than {self.limit:,} characters without the end of "
                                   "a row (SOPFIN_MAX_ROW_BYTES)")

    def find(self, pattern: str) -> int:
        """Where ``pattern`` first occurs among the text not yet searched for it, or -1."""
        start = max(0, self.searched.get(pattern, 0) - len(pattern) + 1)
        self.searched[pattern] = self.size
        first = bisect.bisect_right(self.starts, start) - 1
        if first < 0:
            return -1
        window = self.chunks[first][start - self.starts[first]:]
        if first + 1 < len(self.chunks):
            window += "".join(self.chunks[first + 1:])
        at = window.find(pattern)
        return start + at if at >= 0 else -1

    def take(self) -> str:
        text = "".join(self.chunks)
        self.chunks, self.starts, self.size, self.searched = [], [], 0, {}
        return text


# --- text ---------------------------------------------------------------------------------
def _entity(m: re.Match[str]) -> str:
    if m.group(1):
        return _NAMED[m.group(1)]
    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
    if not (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF):
        raise Unusual(f"character reference &#{code}; is not allowed in XML")
    return chr(code)


def unescape(text: str) -> str:
    """XML character and predefined entity references replaced by what they stand for."""
    return _ENTITY.sub(_entity, text) if "&" in text else text


def parse_attributes(text: str) -> dict[str, str]:
    """The attributes of a start tag's inside (after its name), as an XML parser reads them:
    whitespace in values normalised to spaces, references replaced. Raises Unusual when the
    text is not a well-formed attribute list."""
    out: dict[str, str] = {}
    pos = 0
    for m in _ATTR.finditer(text):
        if m.start() != pos or m.group(1) in out:
            raise Unusual(f"malformed attributes {text!r}")
        value = m.group(2) if m.group(2) is not None else m.group(3)
        out[m.group(1)] = unescape(re.sub(r"[\t\n\r]", " ", value))
        pos = m.end()
    if text[pos:].strip():
        raise Unusual(f"malformed attributes {text!r}")
    return out


def _v_text(element: str) -> str:
    """The text of a whole ``<v>`` element as the cell expression found it."""
    if element.endswith("/>"):
        return ""
    return element[element.index(">") + 1:-4]


def _texts(stream: IO[bytes]) -> Iterator[str]:
    """The part as text, in chunks of about CHUNK_BYTES; Unusual when it is not UTF-8 or
    holds a character XML does not allow."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    tail = b""  # the previous chunk's last bytes: a character may straddle two chunks
    first = True
    while True:
        data = stream.read(CHUNK_BYTES)
        if first:
            data = _without_bom(data)
            first = False
        if len(data.translate(None, _BAD_BYTES)) != len(data) or (
                not data.isascii() and any(bad in tail + data for bad in _BAD_UTF8)):
            raise Unusual("a character XML does not allow")
        tail = data[-2:]
        try:
            text = decoder.decode(data, final=not data)
        except UnicodeDecodeError:
            raise Unusual("the part is not UTF-8") from None
        if text:
            yield text
        if not data:
            return


def _without_bom(data: bytes) -> bytes:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):]
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise Unusual("the part is not UTF-8")
    return data


def _check_text(text: str) -> str:
    """The text of some rows, line ends normalised as an XML parser does; Unusual when it
    holds what XML forbids in text. (A comment, CDATA section or processing instruction
    among the rows fails the row and cell expressions, which raise Unusual too.)"""
    if "]]" in text and "]]>" in text:  # ']' is rare, '>' everywhere: look for ']]' first
        raise Unusual("']]>' in text")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text and _BAD_AMP.search(text):
        raise Unusual("an entity reference other than the predefined ones")
    return text


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _check_skeleton(head: str, tail: str) -> None:
    """What surrounds the rows must parse, with one unprefixed ``sheetData`` and no row
    elsewhere (the lxml reader would find it)."""
    if "<!DOCTYPE" in head:
        raise Unusual("a document type declaration")
    match = _ENCODING.match(head)
    if match and match.group(1).lower().replace("_", "-") not in ("utf-8", "utf8"):
        raise Unusual(f"encoding {match.group(1)}")
    try:
        root = etree.fromstring(head.encode("utf-8") + tail.encode("utf-8"), _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        raise Unusual("the worksheet does not parse around its rows") from None
    found = [el for el in root.iter() if _local(el.tag) in ("sheetData", "row")]
    if len(found) != 1 or _local(found[0].tag) != "sheetData" or found[0].prefix is not None \
            or found[0].getparent() is not root or len(found[0]):
        raise Unusual("rows outside one plain <sheetData>")


# --- rows -------------------------------------------------------------------------------------
class ScannedRow:
    """A row of plain cells (no shared or array formula, no entity, each column once), kept
    as the parts the cell expression found; ``kinds`` maps a cell's other attributes to its
    type ``t``."""

    __slots__ = ("_cells", "_kinds", "_strings", "number")

    def __init__(self, number: int, cells: dict[str, tuple[str, ...]], kinds: dict[str, str],
                 strings: list[str]) -> None:
        self.number = number
        self._cells = cells
        self._kinds = kinds
        self._strings = strings

    def joined_formulas(self, columns: Sequence[str]) -> str | None:
        try:
            return FORMULA_SEP.join(map(_FTEXT, map(self._cells.__getitem__, columns)))
        except KeyError:
            return None

    def _cell(self, parts: tuple[str, ...] | None) -> Any:
        if parts is None:
            return None
        _, attrs, f_open, f_text, v, inline = parts
        value = cell_value(self._kinds[attrs], _v_text(v) if v else None,
                           inline[inline.index(">") + 1:] if inline else None, self._strings)
        return read_cell(value, f_text if f_open else None)

    def values(self, columns: Sequence[str]) -> list[Any]:
        return [self._cell(self._cells.get(c)) for c in columns]

    def cells(self) -> dict[str, Any]:
        out = {}
        for column, parts in self._cells.items():
            cell = self._cell(parts)
            if cell is not None:
                out[column] = cell
        return out


class Scanner:
    """Reads the rows of one worksheet part; ``strings`` are the shared strings."""

    def __init__(self, strings: list[str], row_bytes: int = ROW_BYTES) -> None:
        self.strings = strings
        self.row_bytes = row_bytes  # the most text held at once (a row, the head, the tail)
        self.state = FormulaState()
        self.last = 0  # the previous row's number
        self._attrs: dict[str, dict[str, str]] = {}  # start-tag text -> its attributes
        self._kinds: dict[str, str] = {}  # a cell's attribute text -> its type

    def rows(self, stream: IO[bytes]) -> Iterator[CellRow]:
        """Every ``<row>`` of the part, in document order. Text is held from the end of the
        last whole row to the end of the chunk read, so memory stays within one row (and
        the ``row_bytes`` limit) however the rows are spaced."""
        texts = _texts(stream)
        head, first, empty = self._head(texts)
        if empty:  # <sheetData/>: no rows
            _check_skeleton(head, self._rest(first, texts))
            return
        pending = _Pending(self.row_bytes)
        pending.add(first)
        while True:
            close = pending.find(_SHEET_DATA_END)
            if close >= 0:
                text = pending.take()
                yield from self._region(text[:close])
                _check_skeleton(head, self._rest(text[close:], texts))
                return
            if pending.find("</row>") >= 0:
                text = pending.take()
                end = text.rfind("</row>") + 6
                yield from self._region(text[:end])
                pending.add(text[end:])
            more = next(texts, None)
            if more is None:
                raise Unusual("no </sheetData>")
            pending.add(more)

    def _rest(self, text: str, texts: Iterator[str]) -> str:
        """``text`` and the rest of the part: what follows the rows, within ``row_bytes``."""
        rest = _Pending(self.row_bytes)
        rest.add(text)
        for more in texts:
            rest.add(more)
        return rest.take()

    def _head(self, texts: Iterator[str]) -> tuple[str, str, bool]:
        """The text through the ``<sheetData>`` start tag, the text read after it, and
        whether the tag is an empty ``<sheetData/>``."""
        head = _Pending(self.row_bytes)
        for text in texts:
            head.add(text)
            start = head.find("<sheetData")
            if start < 0:
                continue
            buf = head.take()
            match = _SHEET_DATA.search(buf, start)
            gt = buf.find(">", match.start()) if match else -1
            if gt >= 0:
                return buf[:gt + 1], buf[gt + 1:], buf[gt - 1] == "/"
            head.add(buf)
        raise Unusual("no <sheetData>")

    def _region(self, text: str) -> Iterator[CellRow]:
        """The rows in ``text``: whole ``<row>..</row>`` elements, then empty ``<row/>``
        ones."""
        text = _check_text(text)
        pieces = text.split("</row>")
        last = len(pieces) - 1
        for k, piece in enumerate(pieces):
            gt = piece.find(">")
            if k < last and gt > 0 and piece.startswith("<row") and piece[gt - 1] != "/":
                # The usual piece: one row (a second <row in its body fails the cells).
                yield self._row(piece[4:gt], piece[gt + 1:])
            else:
                yield from self._piece(piece, closed=k < last)

    def _piece(self, piece: str, closed: bool) -> Iterator[CellRow]:
        """Rows in the text before one ``</row>`` (``closed``) or after the last one."""
        pos = 0
        while True:
            start = piece.find("<row", pos)
            if start < 0 or piece[pos:start].strip():
                if start >= 0 or closed or piece[pos:].strip():
                    raise Unusual("text or markup between rows")
                return
            gt = piece.find(">", start)
            if gt < 0:
                raise Unusual("an unfinished row tag")
            attrs = piece[start + 4:gt]
            if attrs.endswith("/"):
                yield self._row(attrs[:-1], "")
                pos = gt + 1
                continue
            if not closed:
                raise Unusual("a row without its end tag")
            yield self._row(attrs, piece[gt + 1:])
            return

    def _number(self, attrs: str) -> int:
        match = _ROW_R.match(attrs)
        if match:
            rest = self._attributes(attrs[match.end():])
            if "r" not in rest:
                return int(match.group(1))
        r = parse_attributes(attrs).get("r")
        try:
            return int(r or self.last + 1)
        except ValueError:
            raise Unusual(f"row number {r!r}") from None

    def _attributes(self, text: str) -> dict[str, str]:
        found = self._attrs.get(text)
        if found is None:
            if len(self._attrs) > _MEMO_SIZE:
                self._attrs = {}
            found = self._attrs[text] = parse_attributes(text)
        return found

    def _kinds_of(self, texts: set[str]) -> dict[str, str]:
        """The table of cell types (attribute text -> ``t``), holding every one of
        ``texts``; each text is checked once."""
        if texts <= self._kinds.keys():
            return self._kinds
        if len(self._kinds) > _MEMO_SIZE:
            self._kinds = {}  # rows already made keep the table they were given
        for text in texts - self._kinds.keys():
            attrs = self._attributes(text)
            if "r" in attrs:
                raise Unusual("a cell with two references")
            self._kinds[text] = attrs.get("t", "n")
        return self._kinds

    def _row(self, attrs: str, body: str) -> CellRow:
        number = self.last = self._number(attrs)
        cells = _CELL.findall(body)
        if not cells:
            return CellsRow(number, {})
        by_column = dict(zip(map(_COLUMN, cells), cells, strict=True))
        if "" in by_column:
            raise Unusual(f"row {number}: a cell in a shape the scanner does not read")
        kinds = self._kinds_of(set(map(_ATTRS, cells)))
        if (len(by_column) != len(cells) or self.state.arrays or "&" in body
                or not _PLAIN_F.issuperset(map(_F_OPEN, cells))):
            return CellsRow(number, self._decode(number, cells, kinds))
        return ScannedRow(number, by_column, kinds, self.strings)

    def _decode(self, number: int, cells: list[tuple[str, ...]],
                kinds: dict[str, str]) -> dict[str, Any]:
        """Every cell of a row, in document order, by the lxml reader's rules."""
        out: dict[str, Any] = {}
        state = self.state
        for column, attrs, f_open, f_text, v, inline in cells:
            col = column_index(column)
            value = cell_value(kinds[attrs], unescape(_v_text(v)) if v else None,
                               unescape(inline[inline.index(">") + 1:]) if inline else None,
                               self.strings)
            formula = None
            if f_open:
                f = self._attributes(f_open[2:])
                formula = state.formula(unescape(f_text), f.get("t", "normal"),
                                        f.get("si", ""), f.get("ref"), number, col)
            elif state.arrays:
                formula = state.in_array(number, col)
            cell = read_cell(value, formula)
            if cell is not None:
                out[column] = cell
        return out
