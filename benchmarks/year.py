"""A year of closes: twelve monthly versions in a row on one workbook, each close and each
verify its own process.

    python -m benchmarks.year [--size M] [--closes 12] [--timeout 600]

Each close is ``sopfin close -v --force`` (the plan is the same every month, so ``--force``
publishes a version anyway) on the workbook the previous close wrote; after each, ``sopfin
verify -v`` checks it. The figures are the last over the first: ``year_close_growth`` and
``year_verify_growth`` (seconds), ``year_close_peak_growth`` and ``year_verify_peak_growth``
(peak memory of the largest process), with every run's seconds, peak, peak of all its
processes together (``pss_mib``, None where it could not be taken: a close forks a deflating
child) and ``ledger`` step (the ledger checks, which must not grow with the number of
versions) under ``year``. ``python -m benchmarks.run`` runs
it for the sizes in ``--year-sizes`` and stores the figures in ``results.json`` beside the
size's other ratios.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from benchmarks.measure import close_steps, measure, require_published
from benchmarks.report import Sample, ratio

CLOSES = 12


def close_command(path: Path, version: int) -> list[str]:
    force = ["--force"] if version > 1 else []
    return [sys.executable, "-m", "sopfin.cli", "close", str(path), "-v", "--author",
            "benchmark", *force]


def verify_command(path: Path) -> list[str]:
    return [sys.executable, "-m", "sopfin.cli", "verify", str(path), "-v"]


def run_year(plan: Path, work: Path, closes: int, timeout: float,
             progress: bool = True) -> dict[str, list[Sample]]:
    """``closes`` closes in a row on a copy of ``plan``, each followed by a verify; stops at
    the first run that fails."""
    book = work / "year.xlsx"
    shutil.copyfile(plan, book)
    runs: dict[str, list[Sample]] = {"close": [], "verify": []}
    for version in range(1, closes + 1):
        closed = require_published(measure(close_command(book, version), timeout), version)
        runs["close"].append(closed)
        if not closed.ok:
            break
        verified = measure(verify_command(book), timeout)
        runs["verify"].append(verified)
        if progress:
            print(f"  year v{version:03d}: close {closed.seconds:.2f}s "
                  f"{closed.peak_mib:.0f} MiB ({closed.pss_mib:.0f} MiB together), verify "
                  f"{verified.seconds:.2f}s {verified.peak_mib:.0f} MiB", flush=True)
        if not verified.ok:
            break
    book.unlink(missing_ok=True)
    return runs


def year_figures(runs: dict[str, list[Sample]], closes: int) -> dict:
    """The growth ratios (last over first) and every run's figures; a ratio is None when
    the year did not complete."""
    done = all(len(runs[k]) == closes and all(s.ok for s in runs[k]) for k in runs)
    out: dict = {"year_closes": closes, "year_complete": done}
    for kind in ("close", "verify"):
        samples = runs[kind]
        first, last = (samples[0], samples[-1]) if samples and done else (None, None)
        out[f"year_{kind}_growth"] = ratio(last.seconds, first.seconds) if first and last \
            else None
        out[f"year_{kind}_peak_growth"] = ratio(last.peak_mib, first.peak_mib) \
            if first and last else None
    out["year"] = {f"{kind}_{what}": [_figure(getattr(s, attr)) for s in runs[kind]]
                   for kind in ("close", "verify")
                   for what, attr in (("s", "seconds"), ("peak_mib", "peak_mib"),
                                      ("pss_mib", "pss_mib"))}
    out["year"].update({f"{kind}_ledger_s": [close_steps(s).get("ledger") for s in runs[kind]]
                        for kind in ("close", "verify")})
    return out


def _figure(value: float) -> float | None:
    """A run's figure for the JSON: rounded, None for one not taken (NaN)."""
    return round(value, 3) if value == value else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="M")
    parser.add_argument("--closes", type=int, default=CLOSES)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    from benchmarks.run import SIZES, plan_workbook

    plan = plan_workbook(SIZES[args.size])
    with tempfile.TemporaryDirectory(prefix="sopfin-year-") as tmp:
        figures = year_figures(run_year(plan, Path(tmp), args.closes, args.timeout),
                               args.closes)
    print(json.dumps(figures, indent=2))
    return 0 if figures["year_complete"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
