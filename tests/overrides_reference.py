"""The typed-over check as it was before rows were compared as they stream: every cell of
every sheet in one dict, every spec cell as a tuple.

Kept verbatim as the reference the row-by-row check is compared with
(tests/test_overrides_rows.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from sopfin.close.records import silent_override
from sopfin.layout import cell_name
from sopfin.model import CellRef, Issue, IssueCode
from sopfin.sheetspec import SheetSpec

TYPED_OVER = IssueCode.TYPED_OVER_FORMULA
FORMULA_CHANGED = IssueCode.FORMULA_CHANGED
RESTORE = ("put the change on sheet Overrides with an owner and a reason, and run sopfin "
           "dollarize to restore the formula")


def spec_rows(spec: SheetSpec) -> dict[int, dict[int, tuple[object, str | None]]]:
    """row -> {col: (value, formula or None)} for every non-empty cell of a sheet spec."""
    rows: dict[int, dict[int, tuple[object, str | None]]] = {}
    for block in spec.blocks:
        values = np.asarray(block.values, dtype=object)
        formulas = None if block.formulas is None else np.asarray(block.formulas, dtype=object)
        for i in range(values.shape[0]):
            row = rows.setdefault(block.row + i, {})
            for j in range(values.shape[1]):
                formula = formulas[i, j] if formulas is not None else None
                value = values[i, j]
                if formula or value is not None:
                    row[block.col + j] = (value, formula or None)
    return rows


def _formula_of(found: object) -> str | None:
    formula = getattr(found, "formula", None)
    return str(formula).lstrip("=") if formula is not None else None


def _value_of(found: object) -> object:
    return getattr(found, "value", found)


def _same_labels(expected: dict[int, tuple[object, str | None]], row: int,
                 current: Mapping[str, object]) -> bool:
    for col, (value, formula) in expected.items():
        if formula is None and isinstance(value, str) and value:
            found = current.get(cell_name(row, col))
            if _formula_of(found) is not None or _value_of(found) != value:
                return False
    return True


def _spelling(formula: str) -> str:
    """One spelling of a formula whatever app saved it: outside string literals, whitespace
    and Excel's _xlfn./_xlws. markers dropped and letters in upper case."""
    out, quoted = [], False
    for ch in formula:
        if ch == '"':
            quoted = not quoted  # a doubled quote inside a literal toggles twice
        out.append(ch if quoted or ch == '"' else ("" if ch.isspace() else ch.upper()))
    text = "".join(out)
    for marker in ("_XLFN.", "_XLWS."):
        text = text.replace(marker, "")  # sopfin writes no string literal holding these
    return text


def _row_findings(sheet: str, row: int, expected: dict[int, tuple[object, str | None]],
                  current: Mapping[str, object]) -> Iterator[Issue]:
    for col, (_value, formula) in expected.items():
        if formula is None:
            continue
        ref = cell_name(row, col)
        found = current.get(ref)
        found_formula = _formula_of(found)
        if found_formula is None:
            shown = _value_of(found)
            yield silent_override(
                CellRef(sheet, ref), TYPED_OVER, f"={formula}", shown,
                f"sopfin's formula ={formula} was replaced by "
                f"{'nothing' if shown is None else repr(shown)}", RESTORE)
        elif _spelling(found_formula) != _spelling(str(formula)):
            yield silent_override(
                CellRef(sheet, ref), FORMULA_CHANGED, f"={formula}", f"={found_formula}",
                f"sopfin's formula ={formula} was changed to ={found_formula}", RESTORE)


def typed_over_formulas(specs: Sequence[SheetSpec],
                        current: Mapping[str, Mapping[str, object]]) -> list[Issue]:
    """Cells of the output sheets in ``current`` ({sheet: {ref: value or FormulaCell}}) where
    the freshly rendered ``specs`` hold a formula but the workbook holds something else."""
    findings: list[Issue] = []
    for spec in specs:
        cells = current.get(spec.name)
        if not cells:
            continue  # the sheet is new (first dollarize) or gone: nothing typed over
        for row, expected in sorted(spec_rows(spec).items()):
            if _same_labels(expected, row, cells):
                findings.extend(_row_findings(spec.name, row, expected, cells))
    return findings
