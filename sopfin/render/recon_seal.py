"""What a Recon tab's hash covers: every cell as written, without its own hash cells
(``hashed_cells``), the hidden per-row digest column and the tab's content hash written in by
``finalize_recon``, and the claim a tab makes of its version (``recon_claim``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from sopfin import layout
from sopfin.close.digests import DIGEST_MARKER, CellArrays, FormulaCell, seal_cells
from sopfin.close.ledger_checks import TabClaim
from sopfin.guard.respelling import as_written
from sopfin.render.recon_page import (
    hash_link,
    short_hash,
)
from sopfin.render.recon_tab import (
    HEADER_FIRST_ROW,
    HEADER_LABELS,
    OWN_HASH_CELLS,
    RECON_HASH_CELL,
    RECON_HASH_SHORT_CELL,
    cell_value,
)
from sopfin.sheetspec import (
    Block,
    SheetSpec,
    Style,
)


def digest_column() -> int:
    return layout.column_index(layout.RECON_DIGEST_COLUMN)


def block_cells(block: Block) -> list[object]:
    """The block's cells row by row, each valued as it reads back (None for an empty one); a
    formula cell is a ``FormulaCell`` even when its cached value is empty."""
    values = np.asarray(block.values, dtype=object)
    if block.formulas is None:
        return [v if type(v) is float and v - v == 0.0 else cell_value(v)  # as cell_value
                for v in values.ravel().tolist()]
    formulas = np.asarray(block.formulas, dtype=object)
    cells: list[object] = []
    for v, f in zip(values.ravel().tolist(), formulas.ravel().tolist(), strict=True):
        if isinstance(f, str) and f:
            cells.append(FormulaCell(f[1:] if f.startswith("=") else f, cell_value(v)))
        else:
            cells.append(cell_value(v))
    return cells


def hashed_arrays(spec: SheetSpec) -> CellArrays:
    """The cells the tab's hash covers, in (row, column) order: every non-empty cell of the
    spec's blocks (a later block's cell replaces an earlier one's) except the own-hash cells
    and the digest column. Built block by block into one list and placed by array arithmetic,
    without a dict of every cell."""
    values: list[object] = []
    firsts: list[tuple[int, int, int]] = []  # per block: first row, first column, width
    sizes: list[int] = []
    for block in spec.blocks:
        cells = block_cells(block)
        firsts.append((block.row, block.col, max(1, block.shape[1])))
        sizes.append(len(cells))
        values += cells
    counts = np.array(sizes, dtype=np.int64)
    owner = np.repeat(np.arange(len(sizes)), counts)
    shape = np.array(firsts, dtype=np.int64).reshape(len(firsts), 3)[owner]
    offset = np.arange(len(values), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
    rows = shape[:, 0] + offset // shape[:, 2]
    cols = shape[:, 1] + offset % shape[:, 2]
    every = np.fromiter(values, dtype=object, count=len(values))
    types = np.fromiter(map(type, values), dtype=object, count=len(values))
    at = np.flatnonzero(np.not_equal(types, np.array(type(None), dtype=object)))
    key = rows[at] * (int(cols.max(initial=0)) + 1) + cols[at]  # (row, column) order
    order = at[np.argsort(key, kind="stable")]  # stable: a later block's cell comes last
    r, c = rows[order], cols[order]
    last = np.r_[(r[1:] != r[:-1]) | (c[1:] != c[:-1]), True]
    hashed = last & (c != digest_column())
    for row, col in (cell_position(cell) for cell in OWN_HASH_CELLS):
        hashed &= (r != row) | (c != col)
    kept = order[hashed]
    return CellArrays(rows[kept], cols[kept], every[kept].tolist())


def hashed_grid(spec: SheetSpec) -> dict[tuple[int, int], object]:
    """{(row, column): value} of the cells the tab's hash covers (``hashed_arrays``)."""
    cells = hashed_arrays(spec)
    return dict(zip(cells.positions(), cells.values, strict=True))


def recon_cells(spec: SheetSpec) -> dict[str, object]:
    """{cell ref: value} of the tab as hashed: every non-empty cell except the own-hash cell
    and the digest column."""
    return {layout.cell_name(row, col): v for (row, col), v in hashed_grid(spec).items()}


RECON_VERSION_CELL = layout.cell_name(HEADER_FIRST_ROW + HEADER_LABELS.index("Version"), 2)


def recon_claim(cells: Mapping[str, object]) -> TabClaim:
    """What a tab read back says of itself: the version and own hash in its header."""
    version = cells.get(RECON_VERSION_CELL)
    own = cells.get(RECON_HASH_CELL)
    number = int(version) if isinstance(version, (int, float)) and float(version).is_integer() \
        else None
    return TabClaim(number, own if isinstance(own, str) else "")


def hashed_cells(cells: Mapping[str, object]) -> dict[str, object]:
    """Cells read back from a tab, as ``content_hash`` covers them: all but the own-hash cells
    (digest cells included), each as sopfin wrote it where a spreadsheet app's save changed
    only its spelling (``sopfin.guard.respelling.as_written``)."""
    return {ref: as_written(v) for ref, v in cells.items() if ref.upper() not in OWN_HASH_CELLS}


def finalize_recon(spec: SheetSpec) -> tuple[SheetSpec, str]:
    """Seal the tab: add the hidden digest column, hash the content (digests included, the
    own-hash cells excluded) and show the hash whole in ``RECON_HASH_CELL`` and by its first
    characters, linked to it, in ``RECON_HASH_SHORT_CELL``."""
    digests, recon_hash = seal_cells(hashed_arrays(spec), layout.RECON_DIGEST_COLUMN)
    col = digest_column()
    own = [cell_position(cell) for cell in OWN_HASH_CELLS]
    corners = set(own)
    blocks = [b for b in spec.blocks
              if not ((b.row, b.col) in corners and any(is_cell(b, r, c) for r, c in own))
              and not is_digest(b, col)]
    for b in blocks:
        rows, cols = b.shape
        if b.col <= col < b.col + cols or any(
                b.row <= r < b.row + rows and b.col <= c < b.col + cols for r, c in own):
            raise ValueError(f"sheet {spec.name!r}: the block at "
                             f"{layout.cell_name(b.row, b.col)} covers the digest column "
                             f"{layout.RECON_DIGEST_COLUMN} or an own-hash cell "
                             f"({', '.join(OWN_HASH_CELLS)})")
    (full_row, full_col), (short_row, short_col) = own
    blocks.append(Block(full_row, full_col, np.array([[recon_hash]], dtype=object),
                        style=Style.TEXT))
    blocks.append(Block(short_row, short_col, np.array([[short_hash(recon_hash)]],
                                                       dtype=object), style=Style.LINK))
    links = [link for link in spec.links if link.cell != RECON_HASH_SHORT_CELL]
    links.append(hash_link(spec.name, short_row, short_col, full_col, recon_hash))
    cells = np.empty((len(digests), 1, 1), dtype=object)  # each row's 1x1 block, one array
    cells[:, 0, 0] = list(digests.values())
    blocks += [Block(row, col, cell, style=Style.NOTE)
               for row, cell in zip(digests, cells, strict=True)]
    hidden = tuple(sorted({*spec.hidden_cols, col}))
    return replace(spec, blocks=blocks, hidden_cols=hidden, links=tuple(links)), recon_hash


def cell_position(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    return int(ref[len(letters):]), layout.column_index(letters)


def is_cell(block: Block, row: int, col: int) -> bool:
    return (block.row, block.col) == (row, col) and np.asarray(
        block.values, dtype=object).shape == (1, 1)


def is_digest(block: Block, col: int) -> bool:
    if block.col != col:
        return False
    values = np.asarray(block.values, dtype=object)
    return values.shape[1] == 1 and all(
        isinstance(v, str) and v.startswith(DIGEST_MARKER) for v in values.ravel())
