"""The one-pass screen of an input sheet gives the verdict of the exact measure.

``screen_inflated`` passes a worksheet in one fast search when no cell reference in it comes
near a limit, and measures the others exactly (``_Extent``). For references on both sides of
each threshold, and under a lowered input cell limit, the verdict and the message are the
ones the exact measure alone gives, and the exact measure runs only when a reference is near.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from sopfin.xlsx import screen
from sopfin.xlsx.errors import WorkbookError
from sopfin.xlsx.limits import Limits

PART = "xl/worksheets/sheet1.xml"


def _package(tmp_path: Path, refs: list[str]) -> Path:
    cells = "".join(f'<row r="{ref.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")}">'
                    f'<c r="{ref}"><v>1</v></c></row>' for ref in refs)
    path = tmp_path / "sheet.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(PART, '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
                          f'2006/main"><sheetData>{cells}</sheetData></worksheet>')
    return path


def _verdict(path: Path, limits: Limits) -> str:
    with zipfile.ZipFile(path) as zf:
        try:
            screen.screen_inflated(zf, path, [PART], limits, [PART])
        except WorkbookError as exc:
            return str(exc)
    return "ok"


class _Counted(screen._Extent):
    made = 0

    def __init__(self) -> None:
        super().__init__()
        _Counted.made += 1


@pytest.mark.parametrize(("refs", "cells", "near"), [
    (["A1", "AN30000"], 20_000_000, False),
    (["GR99999"], 20_000_000, False),
    (["GS5"], 20_000_000, True),
    (["GS99999"], 20_000_000, True),
    (["A99999", "ZZ2"], 100_000_000, False),
    (["AAA1"], 20_000_000, True),
    (["B100000"], 20_000_000, True),
    (["XFD1048577"], 20_000_000, True),
    (["XFE1"], 20_000_000, True),
    (["AA99999"], 2_700_000, False),
    (["AB99999"], 2_700_000, True),
    (["AB5"], 2_700_000, True),
    (["Z99999"], 2_599_974, False),
    (["AA5"], 2_599_974, True),
    (["A5", "Z9"], 1_000, True),
])
def test_the_shortcut_agrees_with_the_exact_measure(tmp_path, monkeypatch, refs, cells, near):
    path = _package(tmp_path, refs)
    limits = Limits(input_cells=cells)
    monkeypatch.setattr(screen, "_Extent", _Counted)
    _Counted.made = 0
    fast = _verdict(path, limits)
    assert (_Counted.made > 0) is near  # the exact measure runs only for a near reference
    monkeypatch.setattr(screen, "_nearby_pattern", lambda _limits: None)
    assert fast == _verdict(path, limits)


def test_a_reference_split_between_two_inflated_blocks_is_seen(tmp_path, monkeypatch):
    """The far reference straddles the end of the first inflated block."""
    monkeypatch.setattr(screen, "_INFLATE_BLOCK", 4096)
    filler = [f"A{r}" for r in range(1, 400)]
    path = _package(tmp_path, [*filler, "A2000000"])
    data = zipfile.ZipFile(path).read(PART)
    at = data.find(b'r="A2000000"')
    for shift in range(-8, 9):  # put the reference across the 4,096-byte boundary
        pad = 4096 - at + shift
        if pad < 0:
            continue
        padded = data.replace(b"<sheetData>", b"<sheetData>" + b" " * pad, 1)
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(PART, padded)
        assert "beyond Excel's grid" in _verdict(path, Limits())
