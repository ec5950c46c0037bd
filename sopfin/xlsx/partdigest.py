"""Part digests: what a worksheet part holds, taken without parsing it.

A part's digest is SHA-256 over its XML as inflated, with the ``tabSelected`` flag removed
from its sheet views: two parts with the same digest hold the same cells. The flag is left
out because it is view state that sopfin's own writes change in a part they otherwise keep
(``sopfin.xlsx.activetab``: the workbook opens on the newest tab, so the previous one is
deselected); the compressed bytes are not hashed, since another deflater or level gives
other bytes for the same XML. The writer takes the digest of the parts it deflates
(``PartDigests`` in ``sopfin.xlsx.writer``); a later command takes it from the package
bytes (``stored_digest``, through ``sopfin.xlsx.readback.sheet_part_digests``) and compares:
inflating (with ISA-L when installed) and hashing a part costs a small fraction of reading
its cells. A spreadsheet app's save rewrites every part,
and so changes every digest.

A part's stored digest (``entry_digest``) is SHA-256 over its zip entry as stored: method,
CRC-32, sizes and compressed bytes. It proves a part unchanged without inflating it, but only
against the bytes one write stored; the ledger records it for each published tab a close
stores (``sopfin.close.ledger``, ``tab_bytes``) and falls back to the XML digest for the rest.
"""

from __future__ import annotations

import hashlib
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Protocol

from sopfin.xlsx.activetab import deselected_head
from sopfin.xlsx.deflate import Deflated

try:
    from isal import isal_zlib as _isal_zlib
except ImportError:  # pragma: no cover - depends on the platform's wheels
    _isal_zlib = None  # type: ignore[assignment]
_ISAL_ERROR = getattr(_isal_zlib, "error", None)
_INFLATE_ERRORS: tuple[type[Exception], ...] = (zlib.error, *(
    (_ISAL_ERROR,) if isinstance(_ISAL_ERROR, type) and issubclass(_ISAL_ERROR, Exception)
    else ()))

DIGEST_TAG = b"sopfin-part/1\n"
STORED_TAG = b"sopfin-stored/1\n"
HEAD_BYTES = 1 << 16  # the sheet views come before the cells, well within this
_BLOCK = 1 << 20


class Spans(Protocol):
    """A package's bytes, read a span at a time (``bytes``, a ``memoryview``, or the open
    file of ``sopfin.xlsx.source.OpenPackage``)."""

    def __getitem__(self, span: slice, /) -> bytes | memoryview: ...


def content_digest(chunks: Iterable[bytes]) -> str:
    """The digest of a worksheet part given as its XML in chunks."""
    digest = hashlib.sha256(DIGEST_TAG)
    head = b""
    stream = iter(chunks)
    for chunk in stream:
        head += chunk
        if b"sheetData" in head or len(head) >= HEAD_BYTES:
            break
    end = head.find(b"sheetData")
    end = len(head) if end < 0 else end
    digest.update(deselected_head(head[:end]))
    digest.update(head[end:])
    for chunk in stream:
        digest.update(chunk)
    return digest.hexdigest()


def digest_of(fh: BinaryIO, part: Deflated) -> str:
    """The digest of a part the writer deflated: ``part.csize`` bytes at ``part.offset``."""
    return content_digest(_inflated(_stored(fh, part), part.usize))


def entry_digest(view: Spans, info: zipfile.ZipInfo) -> str | None:
    """The stored digest of the zip entry ``info`` of the package whose bytes are ``view``;
    None when its local header is not where the directory says."""
    data = _stored_bytes(view, info)
    if data is None:
        return None
    return _entry_digest(info.compress_type, info.CRC, info.file_size, (data,))


def deflated_entry_digest(fh: BinaryIO, part: Deflated) -> str:
    """The stored digest of a part the writer deflated, as its zip entry will hold it."""
    return _entry_digest(zipfile.ZIP_DEFLATED, part.crc, part.usize, _stored(fh, part))


def _entry_digest(method: int, crc: int, size: int,
                  blocks: Iterable[bytes | memoryview]) -> str:
    digest = hashlib.sha256(STORED_TAG + struct.pack("<HLQ", method, crc, size))
    for block in blocks:
        digest.update(block)
    return digest.hexdigest()


def stored_digest(view: Spans, info: zipfile.ZipInfo) -> str | None:
    """The digest of the zip entry ``info`` of the package whose bytes are ``view``,
    inflated straight from them (ISA-L when installed); None when the entry is neither
    deflated nor stored, or its local header is not where the directory says."""
    data = _stored_bytes(view, info)
    if data is None or info.compress_type not in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        return None
    blocks = (data[k:k + _BLOCK] for k in range(0, len(data), _BLOCK))
    if info.compress_type == zipfile.ZIP_STORED:
        return content_digest(bytes(b) for b in blocks)
    return content_digest(_inflated(blocks, info.file_size))


def _stored_bytes(view: Spans, info: zipfile.ZipInfo) -> memoryview | None:
    start = info.header_offset
    fixed = bytes(view[start:start + 30])
    if len(fixed) < 30 or fixed[:4] != b"PK\x03\x04":
        return None
    name_len, extra_len = struct.unpack("<HH", fixed[26:30])
    begin = start + 30 + name_len + extra_len
    data = memoryview(view[begin:begin + info.compress_size])
    return data if len(data) == info.compress_size else None


def _stored(fh: BinaryIO, part: Deflated) -> Iterator[bytes]:
    fh.seek(part.offset)
    left = part.csize
    while left:
        block = fh.read(min(left, _BLOCK))
        if not block:
            raise OSError("the deflated bytes of a part are cut short")
        yield block
        left -= len(block)


def _inflated(blocks: Iterable[bytes | memoryview], size: int) -> Iterator[bytes]:
    """The inflated bytes, a block at a time; ``InflateError`` past ``size`` bytes (the
    entry's declared size) or for data that does not inflate."""
    inflater = (_isal_zlib or zlib).decompressobj(-15)
    made = 0
    try:
        for block in blocks:
            data = inflater.decompress(block, _BLOCK)
            while True:
                made += len(data)
                if made > size:
                    raise InflateError("the part inflates past its declared size")
                yield data
                if not inflater.unconsumed_tail:
                    break
                data = inflater.decompress(inflater.unconsumed_tail, _BLOCK)
        yield inflater.flush()
    except _INFLATE_ERRORS as exc:
        raise InflateError(str(exc)) from None


class InflateError(ValueError):
    """A stored part that does not inflate to its declared size (a damaged or altered
    file: the cells decide)."""
