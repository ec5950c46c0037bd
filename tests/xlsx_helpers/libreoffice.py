"""Run headless LibreOffice on a batch of workbooks, each run with its own profile."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

# Recalculate every formula on load (OOXMLRecalcMode 0 = always), so converted files hold
# LibreOffice's own results rather than the cached values.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def convert(soffice: str, files: list[Path], outdir: Path, fmt: str = "xlsx",
            recalc: bool = False, timeout: float = 600) -> dict[Path, Path | None]:
    """Convert ``files`` in one soffice call; map each input to its output (None: failed)."""
    outdir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sopfin-lo-profile-") as profile:
        if recalc:
            user = Path(profile) / "user"
            user.mkdir(parents=True)
            (user / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
        cmd = [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--nolockcheck", "--convert-to", fmt, "--outdir", str(outdir),
               *(str(f) for f in files)]
        subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    ext = fmt.split(":")[0]
    out: dict[Path, Path | None] = {}
    for f in files:
        target = outdir / f"{f.stem}.{ext}"
        out[f] = target if target.exists() and target.stat().st_size > 0 else None
    return out


def opened_before_not_after(soffice: str, pairs: list[tuple[Path, Path]], outdir: Path,
                            fmt: str = "csv") -> tuple[int, list[Path]]:
    """For (original, result) pairs: how many results LibreOffice converts, and the originals
    it converts whose result it does not.

    Every result is converted in one run; only the originals of the results that failed are
    converted after (one more run, none when all converted): an original matters only where
    its result failed, and a corpus run is two soffice runs' worth of work cut to one."""
    results = convert(soffice, [r for _, r in pairs], outdir / "result", fmt)
    failed = [o for o, r in pairs if results[r] is None]
    originals = convert(soffice, failed, outdir / "orig", fmt) if failed else {}
    return (sum(v is not None for v in results.values()),
            [o for o in failed if originals[o] is not None])
