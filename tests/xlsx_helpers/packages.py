"""Build test workbooks by editing packages directly (reading with zipfile is fine here)."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path


def parts(path: Path) -> dict[str, bytes]:
    """Every part of a package, decompressed, in zip order."""
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def written_parts(original: Path, result: Path) -> tuple[list[str], list[str]]:
    """The parts of ``result`` that are new or differ from ``original``, and those of them
    that ``original`` has too."""
    before, after = parts(original), parts(result)
    written = [name for name, data in after.items() if before.get(name) != data]
    return written, [name for name in written if name in before]


def rebuild(path: Path, edit: Callable[[dict[str, bytes]], dict[str, bytes]]) -> None:
    """Rewrite ``path`` with ``edit`` applied to its {part name: bytes} map."""
    new = edit(parts(path))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in new.items():
            zf.writestr(name, data)


def replace_in(part: str, old: str, new: str) -> Callable[[dict[str, bytes]], dict[str, bytes]]:
    def edit(p: dict[str, bytes]) -> dict[str, bytes]:
        text = p[part].decode("utf-8")
        assert old in text, f"{old!r} not in {part}"
        p[part] = text.replace(old, new).encode("utf-8")
        return p
    return edit
