"""Text Excel cannot take where sopfin would write it: keys too long for a formula.

sopfin writes every key (scenario, family, channel, variance type, measure) into the key-check
formulas of the output sheets as a string constant, and Excel allows 255 characters in one
string constant (and 8,192 in a whole formula). A key cell longer than MAX_KEY_CHARS is an
error at that cell, so no formula Excel would have to repair is ever written. Longer text
elsewhere is written as values, cut at Excel's 32,767 characters per cell.
"""

from __future__ import annotations

from sopfin.model import CellRef, Issue, IssueCode, Plan, Severity, Table, sheet_row

MAX_KEY_CHARS = 255  # Excel's limit on one string constant in a formula
FORMULA_KEYS = ("scenario", "family", "channel", "type", "measure")  # written in key checks
ISSUES_PER_TABLE = 20


def check_key_lengths(plan: Plan) -> list[Issue]:
    """A key cell whose text is longer than MAX_KEY_CHARS: an error at that cell."""
    issues: list[Issue] = []
    for table in (plan.families, plan.demand, plan.prices, plan.supply, plan.opening,
                  plan.std_cost, plan.variances, plan.budget):
        issues += _long_keys(table)[:ISSUES_PER_TABLE]
    return issues


def _long_keys(table: Table) -> list[Issue]:
    out = []
    for name, col in zip(table.key_names, table.key_cols, strict=False):
        if not col or name not in FORMULA_KEYS or name not in table.keys:
            continue
        texts = [str(t) for t in table.keys[name].tolist()]
        for i in [i for i, t in enumerate(texts) if len(t) > MAX_KEY_CHARS]:
            text = texts[i]
            row = sheet_row(table.keys, i)
            out.append(Issue(
                IssueCode.TEXT_TOO_LONG, Severity.ERROR, CellRef(table.sheet, f"{col}{row}"),
                f"the {name.replace('_', ' ')} {text[:40]!r}... is {len(text):,} characters "
                f"long; sopfin writes it into formulas, where Excel allows {MAX_KEY_CHARS}",
                f"keep it to {MAX_KEY_CHARS} characters or fewer"))
    return out
