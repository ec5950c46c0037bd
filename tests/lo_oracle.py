"""LibreOffice as the oracle: recalculate a copy of a workbook headless and read the values.

LibreOffice normally trusts the cached values of an .xlsx it opens. A private user profile
whose registry sets ``OOXMLRecalcMode`` to 0 ("always recalculate") makes it recompute every
formula on load; converting the file to .xlsx then stores the recalculated values, which
openpyxl reads back with ``data_only=True``. Each call uses its own profile directory so that
parallel runs never share (or lock) one.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import openpyxl

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
           xmlns:xs="http://www.w3.org/2001/XMLSchema"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop>
</item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
  <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop>
</item>
</oor:items>
"""

TIMEOUT_SECONDS = 180


class RecalcError(RuntimeError):
    """LibreOffice did not produce a recalculated copy."""


def _profile(root: Path) -> Path:
    profile = root / f"lo-profile-{uuid.uuid4().hex}"
    (profile / "user").mkdir(parents=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    return profile


def recalculate_many(sources: list[Path], out_dir: Path, soffice: str = "soffice",
                     ) -> dict[Path, Path]:
    """Recalculate copies of several workbooks in one LibreOffice run (one start-up).

    Returns {source: recalculated copy}. File stems must be unique.
    """
    stems = [s.stem for s in sources]
    if len(set(stems)) != len(stems):
        raise ValueError(f"workbook names must be unique: {stems}")
    out_dir.mkdir(parents=True, exist_ok=True)
    work = out_dir / f"in-{uuid.uuid4().hex}"
    work.mkdir()
    copies = []
    for source in sources:
        copies.append(work / source.name)
        shutil.copyfile(source, copies[-1])
    profile = _profile(out_dir)
    target = out_dir / f"recalc-{uuid.uuid4().hex}"
    target.mkdir()
    cmd = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
           "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(target),
           *map(str, copies)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_SECONDS,
                              check=False)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    results = {source: target / (source.stem + ".xlsx") for source in sources}
    missing = [str(s) for s, r in results.items() if not r.exists()]
    if done.returncode != 0 or missing:
        raise RecalcError(f"soffice failed ({done.returncode}) for {missing}: "
                          f"{done.stdout} {done.stderr}")
    return results


def recalculate(source: Path, out_dir: Path, soffice: str = "soffice") -> Path:
    """Recalculate a copy of one workbook in LibreOffice; returns the recalculated .xlsx."""
    return recalculate_many([source], out_dir, soffice)[source]


def read_values(path: Path, sheets: list[str]) -> dict[str, dict[str, object]]:
    """Every non-empty cell value of the given sheets: {sheet: {'B7': value}}."""
    book = openpyxl.load_workbook(path, data_only=True, read_only=True)
    try:
        out: dict[str, dict[str, object]] = {}
        for name in sheets:
            cells: dict[str, object] = {}
            for row in book[name].iter_rows():
                for cell in row:
                    if cell.value is not None and hasattr(cell, "coordinate"):
                        cells[cell.coordinate] = cell.value
            out[name] = cells
        return out
    finally:
        book.close()


def spec_cells(spec) -> dict[str, tuple[str | None, object]]:  # noqa: ANN001 (a SheetSpec)
    """Every cell of a SheetSpec: {'B7': (formula or None, value)}; NaN values become None."""
    import math

    import numpy as np

    from sopfin.layout import cell_name

    out: dict[str, tuple[str | None, object]] = {}
    for block in spec.blocks:
        values = np.asarray(block.values, dtype=object)
        formulas = None if block.formulas is None else np.asarray(block.formulas, dtype=object)
        for (i, j), value in np.ndenumerate(values):
            formula = None if formulas is None else formulas[i, j]
            if isinstance(value, float) and math.isnan(value):
                value = None
            out[cell_name(block.row + i, block.col + j)] = (formula or None, value)
    return out
