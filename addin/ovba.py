"""MS-OVBA 2.4.1 compression: the run-length/copy-token format of VBA module and dir streams.

A compressed container is a signature byte (0x01) followed by chunks. Each chunk encodes at
most 4096 source bytes, behind a two-byte header holding the chunk's size, the signature
0b011 and a flag (1: token sequences, 0: the 4096 bytes stored raw). Token sequences are a
flag byte and up to eight tokens: a literal byte, or a two-byte copy token (offset, length)
pointing back into the same chunk.

``compress`` follows the algorithm of MS-OVBA 2.4.1.3 step by step, including its choice of
match (the longest, and among equally long ones the nearest), so its output is byte-exact
with the specification's examples. Candidate matches are looked up through an index of
three-byte prefixes instead of a scan of the whole chunk; the match chosen is the same.
"""

from __future__ import annotations

CHUNK = 4096                 # decompressed bytes per chunk
SIGNATURE = 0x01             # CompressedContainer.SignatureByte
HEADER_SIGNATURE = 0x3000    # CompressedChunkHeader bits 12-14 = 0b011
COMPRESSED_FLAG = 0x8000     # CompressedChunkHeader bit 15


class CompressionError(ValueError):
    """The data cannot be represented (or the container is not valid MS-OVBA)."""


def copy_token_help(difference: int) -> tuple[int, int]:
    """(bit count of the offset, maximum length) for a token ``difference`` bytes into the
    chunk (MS-OVBA 2.4.1.3.19.1)."""
    bit_count = max((difference - 1).bit_length(), 4)
    length_mask = 0xFFFF >> bit_count
    return bit_count, length_mask + 3


def compress(data: bytes) -> bytes:
    """The compressed container of ``data`` (MS-OVBA 2.4.1.3.6)."""
    out = bytearray([SIGNATURE])
    for start in range(0, len(data), CHUNK):
        out += _compress_chunk(data, start, min(start + CHUNK, len(data)))
    return bytes(out)


def _compress_chunk(data: bytes, start: int, end: int) -> bytes:
    """One CompressedChunk for ``data[start:end]`` (MS-OVBA 2.4.1.3.7)."""
    body = bytearray()                       # CompressedChunkData; at most 4096 bytes
    index: dict[bytes, list[int]] = {}       # 3-byte prefix -> earlier positions in the chunk
    indexed = start                          # positions below this are in ``index``
    current = start
    full = False
    while current < end and not full:
        flag_at = len(body)
        body.append(0)
        flags = 0
        for bit in range(8):
            if current >= end or full:
                break
            while indexed < current:         # index every position before ``current``
                index.setdefault(data[indexed:indexed + 3], []).append(indexed)
                indexed += 1
            offset, length = _match(data, start, current, end, index)
            if offset:
                if len(body) + 2 > CHUNK:
                    full = True
                    break
                bit_count, _ = copy_token_help(current - start)
                token = ((offset - 1) << (16 - bit_count)) | (length - 3)
                body += token.to_bytes(2, "little")
                flags |= 1 << bit
                current += length
            else:
                if len(body) + 1 > CHUNK:
                    full = True
                    break
                body.append(data[current])
                current += 1
        body[flag_at] = flags
    if current < end:
        return _raw_chunk(data[start:end])
    header = COMPRESSED_FLAG | HEADER_SIGNATURE | (len(body) + 2 - 3)
    return header.to_bytes(2, "little") + bytes(body)


def _match(data: bytes, start: int, current: int, end: int,
           index: dict[bytes, list[int]]) -> tuple[int, int]:
    """(offset, length) of the copy token at ``current``, or (0, 0) for a literal
    (MS-OVBA 2.4.1.3.19.4: the longest match; among ties the nearest candidate)."""
    if end - current < 3:
        return 0, 0
    best_length, best_candidate = 0, -1
    limit = end - current
    for candidate in reversed(index.get(data[current:current + 3], ())):
        length = 3
        while length < limit and data[candidate + length] == data[current + length]:
            length += 1
        if length > best_length:
            best_length, best_candidate = length, candidate
            if length == limit:
                break
    if best_length < 3:
        return 0, 0
    _, maximum = copy_token_help(current - start)
    return current - best_candidate, min(best_length, maximum)


def _raw_chunk(source: bytes) -> bytes:
    """An uncompressed chunk (MS-OVBA 2.4.1.3.10). Its decompression is always 4096 bytes,
    so a shorter final chunk cannot be stored raw without changing the data."""
    if len(source) != CHUNK:
        raise CompressionError(f"a final chunk of {len(source)} bytes does not compress and "
                               "cannot be stored raw (MS-OVBA pads raw chunks to 4096 bytes)")
    header = HEADER_SIGNATURE | (CHUNK + 2 - 3)
    return header.to_bytes(2, "little") + source


def decompress(container: bytes) -> bytes:
    """The bytes a compressed container holds (MS-OVBA 2.4.1.3.1)."""
    if not container or container[0] != SIGNATURE:
        raise CompressionError("a compressed container starts with the byte 0x01")
    out = bytearray()
    pos = 1
    while pos < len(container):
        if pos + 2 > len(container):
            raise CompressionError(f"truncated chunk header at byte {pos}")
        header = int.from_bytes(container[pos:pos + 2], "little")
        if header & 0x7000 != HEADER_SIGNATURE:
            raise CompressionError(f"bad chunk signature at byte {pos}")
        chunk_end = min(pos + (header & 0x0FFF) + 3, len(container))
        pos += 2
        chunk_start = len(out)
        if not header & COMPRESSED_FLAG:
            out += container[pos:pos + CHUNK]
            pos += CHUNK
            continue
        while pos < chunk_end:
            flags = container[pos]
            pos += 1
            for bit in range(8):
                if pos >= chunk_end:
                    break
                if not flags >> bit & 1:
                    out.append(container[pos])
                    pos += 1
                    continue
                token = int.from_bytes(container[pos:pos + 2], "little")
                pos += 2
                bit_count, _ = copy_token_help(len(out) - chunk_start)
                length = (token & (0xFFFF >> bit_count)) + 3
                offset = (token >> (16 - bit_count)) + 1
                if offset > len(out) - chunk_start:
                    raise CompressionError(f"copy token reaches before its chunk at {pos - 2}")
                for _ in range(length):
                    out.append(out[-offset])
    return bytes(out)
