"""The renderer's and writer's fast paths give exactly what the plain versions give."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest

from sopfin.render.grid import _fill_by_format, fill
from sopfin.xlsx.sheetxml import _check_overlaps

TEMPLATES = [
    ("{c}{a}*{c}{b}", None),
    ("IF({fam}{x}=0,0,{fam}{y}*{c}{a}/{fam}{x})", "Demand!{c}{a}"),
    ("SUM({c}{a}:{c}{b})", None),
    ("IF({c}{a}=0,\"\",{c}{b}/{c}{a}*100%)", "0"),
    ("'{sheet}'!{c}{a}+{c}{b}-{p}", "{p}"),
]


@pytest.mark.parametrize(("template", "first"), TEMPLATES)
def test_fill_matches_str_format(template, first):
    rng = random.Random(template)
    count, months = 17, 13
    rows = {"a": [rng.randint(2, 9999) for _ in range(count)],
            "b": [rng.randint(2, 9999) for _ in range(count)],
            "x": [rng.randint(2, 9999) for _ in range(count)],
            "y": [rng.randint(2, 9999) for _ in range(count)],
            "p": [f"Prices!$C${rng.randint(2, 99)}" for _ in range(count)],
            "sheet": ["Recon v001"] * count}
    cols = {"c": [f"{chr(65 + j % 26)}{'' if j < 26 else 'A'}" for j in range(months)],
            "fam": ["Inventory!" + chr(66 + j) for j in range(months)]}
    fast = fill(template, count, rows, cols, first)
    per_month = [{n: cols[n][j] for n in cols} for j in range(months)]
    plain = _fill_by_format(template, count, rows, cols, first,
                            np.empty((count, months), dtype=object), per_month)
    assert fast.tolist() == plain.tolist()


@dataclass
class _Box:
    row0: int
    row1: int
    col0: int
    col1: int


def _pairwise_overlap(boxes: list[_Box]) -> bool:
    return any(a.row0 <= b.row1 and b.row0 <= a.row1 and a.col0 <= b.col1 and b.col0 <= a.col1
               for i, a in enumerate(boxes) for b in boxes[i + 1:])


@pytest.mark.parametrize("seed", range(300))
def test_overlap_sweep_agrees_with_the_pairwise_check(seed):
    rng = random.Random(seed)
    boxes = []
    for _ in range(rng.randint(1, 12)):
        r0, c0 = rng.randint(1, 30), rng.randint(1, 8)
        boxes.append(_Box(r0, r0 + rng.randint(0, 6), c0, c0 + rng.randint(0, 3)))
    try:
        _check_overlaps(boxes)
        swept = False
    except ValueError:
        swept = True
    assert swept == _pairwise_overlap(boxes)
