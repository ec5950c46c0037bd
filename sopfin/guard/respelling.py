"""How other spreadsheet apps spell the same cell, reduced to the spelling sopfin wrote.

A save in LibreOffice or Excel may re-spell a formula (case, spaces, Excel's ``_xlfn.``
markers for newer functions) or store a TRUE/FALSE constant as the formula ``TRUE()``. The
typed-over check and verify compare through these functions, so such a save is not a change;
any other difference still is.
"""

from __future__ import annotations

import re

from sopfin.close.digests import FormulaCell

_STRING_LITERAL = re.compile(r'("(?:[^"]|"")*")')
_FORMULA_NOISE = re.compile(r"\s+|_xlfn\.|_xlws\.", re.IGNORECASE)
_BOOLEAN_FORMULAS = {"TRUE()": True, "FALSE()": False, "TRUE": True, "FALSE": False}


def canonical_formula(formula: str) -> str:
    """A formula (without its leading '=') as any spreadsheet app's save may spell it, reduced
    to one spelling: no whitespace, no ``_xlfn.``/``_xlws.`` markers and upper case, each
    outside string literals (which are kept exactly)."""
    parts = _STRING_LITERAL.split(formula)
    return "".join(part if k % 2 else _FORMULA_NOISE.sub("", part).upper()
                   for k, part in enumerate(parts))


def as_written(value: object) -> object:
    """A cell read back, as sopfin wrote it when a spreadsheet app's save changed only its
    spelling: LibreOffice stores a TRUE or FALSE constant as the formula TRUE() or FALSE()."""
    if isinstance(value, FormulaCell):
        constant = _BOOLEAN_FORMULAS.get(canonical_formula(value.formula))
        if constant is not None and value.value in (constant, None):
            return constant
    return value
