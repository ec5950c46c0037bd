"""The add-in's binary building blocks, checked against the specifications and against
independent readers: MS-OVBA compression (byte-exact with the spec's examples, decoded by
oletools), the MS-OVBA 2.4.3 field encryption (byte-exact with fields Excel wrote), and the
compound-file writer (read back by olefile in strict mode)."""

from __future__ import annotations

import io
import random
import struct

import olefile
import pytest
from oletools.olevba import decompress_stream

from addin import cfb, ovba, vbaproject

# MS-OVBA 3.2.1 "No Compression Example" and 3.2.2 "Normal Compression Example", as
# published on learn.microsoft.com (the PDF edition of 3.2.2 shows three different copy
# tokens, 0x3000/0x1004/0x3C00, which do not follow the spec's own matching rule; the
# web edition below does, and oletools decodes both to the same text).
SPEC_EXAMPLES = [
    (b"abcdefghijklmnopqrstuv.",
     "01 19 B0 00 61 62 63 64 65 66 67 68 00 69 6A 6B 6C 6D 6E 6F 70 00 71 72 73 74 75 76 2E"),
    (b"#aaabcdefaaaaghijaaaaaklaaamnopqaaaaaaaaaaaarstuvwxyzaaa",
     "01 2F B0 00 23 61 61 61 62 63 64 65 82 66 00 70 61 67 68 69 6A 01 38 08 61 6B 6C 00 "
     "20 6D 6E 6F 70 06 71 02 70 04 00 72 73 74 75 76 10 77 78 79 7A 00 2C"),
]


def random_text(size: int, seed: int) -> bytes:
    """VBA-like text: words, spaces and CRLF line ends, from a fixed seed."""
    rng = random.Random(seed)
    words = ["Dim", "As", "Long", "Sub", "End", "If", "Then", "x", "revenue", "=", "+", "(",
             ")", "units", "price", "'", "For", "Next", "i", "1", "To", "Range", "Cells"]
    out = bytearray()
    while len(out) < size:
        out += (rng.choice(words) + (" " if rng.random() < 0.85 else "\r\n")).encode()
    return bytes(out[:size])


@pytest.mark.parametrize(("text", "expected"), SPEC_EXAMPLES)
def test_compression_is_byte_exact_with_the_spec_examples(text, expected):
    assert ovba.compress(text) == bytes.fromhex(expected)


@pytest.mark.parametrize(("text", "expected"), SPEC_EXAMPLES)
def test_spec_examples_decode_with_oletools_and_ours(text, expected):
    assert decompress_stream(bytearray.fromhex(expected)) == text
    assert ovba.decompress(bytes.fromhex(expected)) == text


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 20000])
def test_round_trip_through_oletools(size):
    text = random_text(size, seed=size)
    packed = ovba.compress(text)
    assert decompress_stream(bytearray(packed)) == text
    assert ovba.decompress(packed) == text
    assert len(packed) < len(text) + 3 or size < 8


@pytest.mark.parametrize("size", [3000, 8192])
def test_round_trip_of_random_printable_characters(size):
    """Few repeats: 3000 bytes fit as literals; full 4096-byte chunks are stored raw."""
    rng = random.Random(size)
    text = bytes(rng.randrange(32, 127) for _ in range(size))
    packed = ovba.compress(text)
    assert decompress_stream(bytearray(packed)) == text


def test_empty_input_is_the_signature_byte_alone():
    assert ovba.compress(b"") == b"\x01"


def test_chunk_headers_follow_the_spec():
    """Each chunk header: a 12-bit size (the chunk's total bytes minus 3), the signature
    0b011 and the compressed flag; a chunk holds 4096 source bytes."""
    text = random_text(10000, seed=3)
    packed = ovba.compress(text)
    pos, chunks = 1, 0
    while pos < len(packed):
        header = struct.unpack_from("<H", packed, pos)[0]
        assert header >> 12 & 0b111 == 0b011
        assert header >> 15 == 1
        pos += (header & 0x0FFF) + 3
        chunks += 1
    assert pos == len(packed)
    assert chunks == 3          # 4096 + 4096 + 1808 bytes of text


def test_a_long_run_uses_maximal_copy_tokens():
    text = b"a" * 5000
    packed = ovba.compress(text)
    assert decompress_stream(bytearray(packed)) == text
    # chunk 1 is 6 bytes (size field 3): flag 0b10, literal 'a', then one copy token,
    # offset 1 and length 4095: bit count 4, so (1 - 1) << 12 | (4095 - 3) = 0x0FFC
    assert packed[1:7] == bytes.fromhex("03B0 02 61 FC0F".replace(" ", ""))


@pytest.mark.parametrize(("difference", "bits"),
                         [(1, 4), (16, 4), (17, 5), (32, 5), (33, 6), (64, 6), (65, 7),
                          (128, 7), (129, 8), (256, 8), (257, 9), (512, 9), (513, 10),
                          (1024, 10), (1025, 11), (2048, 11), (2049, 12), (4096, 12)])
def test_copy_token_bit_counts_match_the_spec_table(difference, bits):
    bit_count, maximum = ovba.copy_token_help(difference)
    assert bit_count == bits
    assert maximum == (0xFFFF >> bits) + 3


def test_incompressible_full_chunk_is_stored_raw():
    data = random.Random(11).randbytes(4096)
    packed = ovba.compress(data)
    assert struct.unpack_from("<H", packed, 1)[0] == 0x3FFF     # raw, size 4098 - 3
    assert decompress_stream(bytearray(packed)) == data


def test_incompressible_short_final_chunk_is_refused_not_padded():
    with pytest.raises(ovba.CompressionError, match="cannot be stored raw"):
        ovba.compress(random.Random(12).randbytes(4096 + 4000))


# --- MS-OVBA 2.4.3 encryption of CMG / DPB / GC ------------------------------------------

# The PROJECT stream of xlwings' quickstart_addin_ribbon.xlam, saved by Excel.
EXCEL_PROJECT_ID = "{318BEE36-5BE1-492A-826D-473DB19B0F30}"
EXCEL_FIELDS = {"CMG": "5D5F8AADDAA8DEA8DEA8DEA8DE", "DPB": "5D5F8AADDAADDBADDBAD",
                "GC": "5D5F8AADDAADDBADDB52"}


def decrypt(field: str) -> tuple[int, int, bytes, bytes]:
    """MS-OVBA 2.4.3.3 decryption: (seed, project key, ignored bytes, data)."""
    raw = bytes.fromhex(field)
    seed, version_enc, key_enc = raw[0], raw[1], raw[2]
    assert seed ^ version_enc == 2, "Version must be 2"
    key = seed ^ key_enc
    unencrypted, enc1, enc2 = key, key_enc, version_enc
    plain = bytearray()
    for byte_enc in raw[3:]:
        byte = byte_enc ^ ((enc2 + unencrypted) & 0xFF)
        plain.append(byte)
        enc2, enc1, unencrypted = enc1, byte_enc, byte
    ignored = (seed & 6) // 2
    length = int.from_bytes(plain[ignored:ignored + 4], "little")
    data = bytes(plain[ignored + 4:])
    assert len(data) == length
    return seed, key, bytes(plain[:ignored]), data


def test_project_key_matches_the_one_excel_wrote():
    _, key, _, _ = decrypt(EXCEL_FIELDS["CMG"])
    assert vbaproject.project_key(EXCEL_PROJECT_ID) == key


@pytest.mark.parametrize(("field", "data"), [("CMG", bytes(4)), ("DPB", b"\x00"),
                                             ("GC", b"\xff")])
def test_encryption_reproduces_excel_fields_byte_for_byte(field, data):
    seed, _, ignored, decoded = decrypt(EXCEL_FIELDS[field])
    assert decoded == data          # unprotected, no password, visible
    assert vbaproject.encrypt(data, EXCEL_PROJECT_ID, seed, ignored) == EXCEL_FIELDS[field]


# --- the compound file writer -------------------------------------------------------------

SIZES = [0, 1, 63, 64, 65, 4095, 4096, 4097, 20000]


def sample_streams() -> dict[str, bytes]:
    rng = random.Random(5)
    streams = {f"VBA/Module{size}": rng.randbytes(size) for size in SIZES}
    streams.update({"PROJECT": b"ID=\"{0}\"\r\n", "PROJECTwm": b"\0\0",
                    "VBA/dir": rng.randbytes(900), "VBA/_VBA_PROJECT": bytes(7),
                    "Deep/Inner/Leaf": b"leaf"})
    return streams


def open_strict(data: bytes) -> olefile.OleFileIO:
    return olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_INCORRECT)


def test_olefile_reads_every_stream_back_strictly():
    streams = sample_streams()
    ole = open_strict(cfb.write_compound_file(streams))
    listed = {"/".join(path) for path in ole.listdir(streams=True, storages=False)}
    assert listed == set(streams)
    for path, data in streams.items():
        assert ole.get_size(path) == len(data)
        assert ole.openstream(path).read() == data, path
    assert {"/".join(p) for p in ole.listdir(streams=False, storages=True)} == {
        "VBA", "Deep", "Deep/Inner"}
    assert ole.parsing_issues == []


def test_header_is_version_3_with_512_byte_sectors():
    data = cfb.write_compound_file(sample_streams())
    assert data[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    minor, major, order, shift, mini_shift = struct.unpack_from("<HHHHH", data, 24)
    assert (minor, major, order, shift, mini_shift) == (0x3E, 3, 0xFFFE, 9, 6)
    assert struct.unpack_from("<I", data, 56)[0] == 4096          # mini stream cutoff
    assert len(data) % 512 == 0


def test_directory_is_sorted_black_and_chained_like_office_vba_projects():
    streams = {"PROJECT": b"p", "PROJECTwm": b"w", "VBA/dir": b"d", "VBA/_VBA_PROJECT": b"v",
               "VBA/ThisWorkbook": b"t", "VBA/Sheet1": b"s", "VBA/SopfinRibbon": b"r"}
    ole = open_strict(cfb.write_compound_file(streams))
    entries = [e for e in ole.direntries if e is not None]
    names = [e.name for e in entries]
    assert names == ["Root Entry", "VBA", "dir", "Sheet1", "SopfinRibbon", "ThisWorkbook",
                     "_VBA_PROJECT", "PROJECT", "PROJECTwm"]
    assert all(e.color == 1 and e.sid_left == olefile.NOSTREAM for e in entries)
    vba_kids = [e.name for e in entries[2:7]]
    keys = [(len(n), n.upper()) for n in vba_kids]
    assert keys == sorted(keys)
    assert [e.sid_right for e in entries[2:7]] == [3, 4, 5, 6, olefile.NOSTREAM]
    assert entries[1].sid_right == 7 and entries[7].sid_right == 8


def test_many_entries_and_a_second_fat_sector():
    streams = {f"S/stream{i:02d}": bytes([i]) * (100 + i) for i in range(40)}
    streams["Big"] = random.Random(9).randbytes(70000)       # 137 sectors: FAT > 128 entries
    data = cfb.write_compound_file(streams)
    assert struct.unpack_from("<I", data, 44)[0] == 2             # number of FAT sectors
    ole = open_strict(data)
    for path, content in streams.items():
        assert ole.openstream(path).read() == content


def test_the_same_streams_give_the_same_bytes():
    assert cfb.write_compound_file(sample_streams()) == cfb.write_compound_file(
        dict(reversed(list(sample_streams().items()))))


@pytest.mark.parametrize("streams", [{"x" * 32: b""}, {"VBA/Module": b"", "VBA/MODULE": b""},
                                     {"A": b"", "A/B": b""}])
def test_invalid_names_are_refused(streams):
    with pytest.raises(ValueError):
        cfb.write_compound_file(streams)
