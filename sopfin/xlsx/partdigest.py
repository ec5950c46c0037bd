"""Part digests: what a worksheet part holds, taken without parsing it.

A part's digest is SHA-256 over its XML as inflated, with the ``tabSelected`` flag removed
from its sheet views: two parts with the same digest hold the same cells. The flag is left
out because it is view state that sopfin's own writes change in a part they otherwise keep
(``sopfin.xlsx.activetab``: the workbook opens on the newest tab, so the previous one is
deselected); the compressed bytes are not hashed, since another deflater or level gives
other bytes for the same XML. The writer takes the digest of the parts it deflates
(``PartDigests`` in ``sopfin.xlsx.writer``); a later command takes it from the package
(``sopfin.xlsx.readback.sheet_part_digests``) and compares: inflating and hashing a part
costs a small fraction of reading its cells. A spreadsheet app's save rewrites every part,
and so changes every digest.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, BinaryIO

from sopfin.xlsx.activetab import deselected_head
from sopfin.xlsx.deflate import Deflated

DIGEST_TAG = b"sopfin-part/1\n"
HEAD_BYTES = 1 << 16  # the sheet views come before the cells, well within this
_BLOCK = 1 << 20


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
    return content_digest(_inflated(_stored(fh, part)))


def stream_digest(fh: IO[bytes]) -> str:
    """The digest of a part read from an open (inflating) stream."""
    return content_digest(iter(lambda: fh.read(_BLOCK), b""))


def _stored(fh: BinaryIO, part: Deflated) -> Iterator[bytes]:
    fh.seek(part.offset)
    left = part.csize
    while left:
        block = fh.read(min(left, _BLOCK))
        if not block:
            raise OSError("the deflated bytes of a part are cut short")
        yield block
        left -= len(block)


def _inflated(blocks: Iterable[bytes]) -> Iterator[bytes]:
    inflater = zlib.decompressobj(-15)
    for block in blocks:
        yield inflater.decompress(block)
    yield inflater.flush()
