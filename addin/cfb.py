"""A minimal compound file (MS-CFB) writer: version 3, 512-byte sectors, write-once.

``write_compound_file({"PROJECT": b"...", "VBA/dir": b"..."})`` lays out storages and
streams named by path. Streams under 4096 bytes live in the mini stream (64-byte mini
sectors); larger ones in regular sectors. The directory has the shape of the VBA projects
Excel loads today (xlwings' own ``xlwings.xlam``): entries numbered in pre-order, each
storage's children sorted the MS-CFB way (shorter names first, then by upper-case name)
and chained through their right-sibling links, every node black. MS-CFB 2.6.4 allows an
all-black tree that is not balanced. Times and CLSIDs are zero, so the output depends on
the content only.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field

SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
NOSTREAM = 0xFFFFFFFF
SIGNATURE = bytes.fromhex("D0CF11E0A1B11AE1")
STORAGE, STREAM, ROOT = 1, 2, 5
BLACK = 1
HEADER_DIFAT = 109


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: dict[str, _Entry] = field(default_factory=dict)
    sid: int = 0
    start: int = ENDOFCHAIN
    size: int = 0


def sort_key(name: str) -> tuple[int, str]:
    """MS-CFB 2.6.4 order of sibling names: by length, then by upper-cased name."""
    return len(name), name.upper()


def _tree(streams: Mapping[str, bytes]) -> _Entry:
    root = _Entry("Root Entry", ROOT)
    for path, data in streams.items():
        *storages, leaf = path.split("/")
        node = root
        for part in storages:
            node = node.children.setdefault(part, _Entry(part, STORAGE))
            if node.kind != STORAGE:
                raise ValueError(f"{path}: {part} is a stream, not a storage")
        if leaf in node.children:
            raise ValueError(f"{path}: named twice")
        node.children[leaf] = _Entry(leaf, STREAM, bytes(data))
    for entry in _preorder(root):
        if len(entry.name) > 31 or not entry.name or "/" in entry.name:
            raise ValueError(f"{entry.name!r}: a compound-file name has 1 to 31 characters")
        keys = [sort_key(n) for n in entry.children]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{entry.name}: two children differ only in case")
    return root


def _preorder(entry: _Entry) -> list[_Entry]:
    out = [entry]
    for name in sorted(entry.children, key=sort_key):
        out += _preorder(entry.children[name])
    return out


def _chain(fat: list[int], first: int, count: int) -> None:
    for i in range(first, first + count - 1):
        fat[i] = i + 1
    if count:
        fat[first + count - 1] = ENDOFCHAIN


def _sectors(size: int, unit: int = SECTOR) -> int:
    return -(-size // unit)


def _direntry(entry: _Entry | None, sid_of: dict[int, int]) -> bytes:
    if entry is None:
        return struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM,
                           b"", 0, 0, 0, 0, 0)
    name = entry.name.encode("utf-16-le") + b"\0\0"
    kids = sorted(entry.children.values(), key=lambda e: sort_key(e.name))
    child = kids[0].sid if kids else NOSTREAM
    right = sid_of.get(entry.sid, NOSTREAM)
    start = entry.start if entry.kind != STORAGE else 0
    return struct.pack("<64sHBBIII16sIQQIQ", name, len(name), entry.kind, BLACK, NOSTREAM,
                       right, child, b"", 0, 0, 0, start, entry.size)


def write_compound_file(streams: Mapping[str, bytes]) -> bytes:
    """The bytes of a compound file holding ``streams`` (path -> content)."""
    root = _tree(streams)
    entries = _preorder(root)
    next_sibling: dict[int, int] = {}
    for sid, entry in enumerate(entries):
        entry.sid = sid
    for entry in entries:
        kids = sorted(entry.children.values(), key=lambda e: sort_key(e.name))
        for left, right in zip(kids, kids[1:], strict=False):
            next_sibling[left.sid] = right.sid

    small = [e for e in entries if e.kind == STREAM and 0 < len(e.data) < MINI_CUTOFF]
    large = [e for e in entries if e.kind == STREAM and len(e.data) >= MINI_CUTOFF]
    minifat: list[int] = []
    mini = bytearray()
    for entry in small:
        count = _sectors(len(entry.data), MINI_SECTOR)
        entry.start, entry.size = len(minifat), len(entry.data)
        minifat += [0] * count
        _chain(minifat, entry.start, count)
        mini += entry.data.ljust(count * MINI_SECTOR, b"\0")

    n_dir = _sectors(len(entries) * 128)
    n_minifat = _sectors(len(minifat) * 4)
    n_mini = _sectors(len(mini))
    n_large = sum(_sectors(len(e.data)) for e in large)
    n_fat = 1
    while n_fat * (SECTOR // 4) < n_fat + n_dir + n_minifat + n_mini + n_large:
        n_fat += 1
    if n_fat > HEADER_DIFAT:
        raise ValueError("compound file too large for a header-only DIFAT (about 6.8 MB)")
    total = n_fat + n_dir + n_minifat + n_mini + n_large
    fat = [FREESECT] * (n_fat * SECTOR // 4)
    for i in range(n_fat):
        fat[i] = FATSECT
    dir_start = n_fat
    _chain(fat, dir_start, n_dir)
    minifat_start = dir_start + n_dir
    _chain(fat, minifat_start, n_minifat)
    mini_start = minifat_start + n_minifat
    _chain(fat, mini_start, n_mini)
    root.start = mini_start if n_mini else ENDOFCHAIN
    root.size = len(mini)
    body = bytearray()
    position = mini_start + n_mini
    for entry in large:
        count = _sectors(len(entry.data))
        entry.start, entry.size = position, len(entry.data)
        _chain(fat, position, count)
        body += entry.data.ljust(count * SECTOR, b"\0")
        position += count

    unused = n_dir * SECTOR // 128 - len(entries)
    directory = b"".join([_direntry(e, next_sibling) for e in entries]
                         + [_direntry(None, {})] * unused)
    difat = list(range(n_fat)) + [FREESECT] * (HEADER_DIFAT - n_fat)
    header = (SIGNATURE + bytes(16)
              + struct.pack("<HHHHH6sIIIIIIIII", 0x003E, 0x0003, 0xFFFE, 9, 6, b"", 0, n_fat,
                            dir_start, 0, MINI_CUTOFF,
                            minifat_start if n_minifat else ENDOFCHAIN, n_minifat,
                            ENDOFCHAIN, 0)
              + struct.pack(f"<{HEADER_DIFAT}I", *difat))
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat)
    minifat_bytes = minifat_bytes.ljust(n_minifat * SECTOR, b"\xff")
    out = (header + struct.pack(f"<{len(fat)}I", *fat) + directory + minifat_bytes
           + bytes(mini).ljust(n_mini * SECTOR, b"\0") + body)
    assert len(out) == SECTOR * (1 + total)
    return out
