"""What a Recon tab's hash covers: every cell as written, without its own hash cells
(``hashed_cells``), the hidden per-row digest column and the tab's content hash written in by
``finalize_recon``, and the claim a tab makes of its version (``recon_claim``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np

from sopfin import layout
from sopfin.close.digests import DIGEST_MARKER, FormulaCell, seal
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


def fill_grid(grid: dict[tuple[int, int], object], block: Block) -> None:
    """Put every non-empty cell of a block into ``grid`` by (row, column), valued as it reads
    back; a formula cell is a ``FormulaCell`` even when its cached value is empty."""
    values = np.asarray(block.values, dtype=object)
    if block.formulas is None:
        for i, line in enumerate(values.tolist(), start=block.row):
            for j, v in enumerate(line, start=block.col):
                if type(v) is float and v - v == 0.0:  # the common case, as cell_value
                    grid[i, j] = v
                elif (value := cell_value(v)) is not None:
                    grid[i, j] = value
        return
    formulas = np.asarray(block.formulas, dtype=object)
    for (i, j), v in np.ndenumerate(values):
        f = formulas[i, j]
        if isinstance(f, str) and f:
            value = FormulaCell(f[1:] if f.startswith("=") else f, cell_value(v))
        else:
            value = cell_value(v)
        if value is not None:
            grid[block.row + i, block.col + j] = value


def hashed_grid(spec: SheetSpec) -> dict[tuple[int, int], object]:
    """{(row, column): value} of the cells the tab's hash covers: every non-empty cell of the
    spec's blocks (a later block's cell replaces an earlier one's) except the own-hash cell
    and the digest column."""
    grid: dict[tuple[int, int], object] = {}
    for block in spec.blocks:
        fill_grid(grid, block)
    digest_col = digest_column()
    for cell in OWN_HASH_CELLS:
        grid.pop(cell_position(cell), None)
    for position in [p for p in grid if p[1] == digest_col]:
        del grid[position]
    return grid


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
    digests, recon_hash = seal(hashed_grid(spec), layout.RECON_DIGEST_COLUMN)
    col = digest_column()
    own = [cell_position(cell) for cell in OWN_HASH_CELLS]
    blocks = [b for b in spec.blocks
              if not any(is_cell(b, r, c) for r, c in own) and not is_digest(b, col)]
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
    for row, text in digests.items():
        blocks.append(Block(row, col, np.array([[text]], dtype=object), style=Style.NOTE))
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
