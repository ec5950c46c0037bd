"""Sheet states (visible, hidden, very hidden) as found, and the ones sopfin puts back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sopfin.sheetspec import SheetSpec
from sopfin.xlsx.package import Package, open_package
from sopfin.xlsx.source import PackageSource

SHEET_STATES = ("visible", "hidden", "veryHidden")


def sheet_states(path: PackageSource) -> dict[str, str]:
    """{sheet name: 'visible' | 'hidden' | 'veryHidden'} in tab order."""
    with open_package(path) as pkg:
        return {s.name: s.state for s in pkg.sheets}


def restored_states(pkg: Package, sheets: Sequence[SheetSpec],
                     states: Mapping[str, str]) -> dict[int, str]:
    """{position: state} of the owned, not rewritten sheets whose state must change."""
    rewritten = {s.name.casefold() for s in sheets}
    out = {}
    for entry in pkg.sheets:
        wanted = states.get(entry.name)
        if wanted is None or not entry.owned or entry.name.casefold() in rewritten:
            continue
        if wanted not in SHEET_STATES:
            raise ValueError(f"sheet {entry.name!r}: state must be one of {SHEET_STATES}")
        if wanted != entry.state:
            out[entry.position] = wanted
    return out
