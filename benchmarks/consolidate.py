"""Time ``sopfin consolidate`` over 20, 100 and 400 generated business-unit workbooks.

    python -m benchmarks.consolidate [--counts 20,100,400] [--workers N] [--write]

Each unit is a small plan made by ``sopfin.plan.demo`` (8 families x 2 channels x 12 months,
one scenario, its own seed); every third unit plans in EUR, so the run translates through
an FX table (``fx.csv``, made beside them). Workbooks are generated once and cached in
``benchmarks/cache/consolidate-<generator>/``. Each count runs ``sopfin consolidate --from``
over the first N units as its own process (``benchmarks.measure``: wall seconds and the peak
RSS of the largest process of its tree, the main process or a pool worker), and reports
seconds per workbook, peak memory and the share of the workers' time spent reading the
workbooks (read, parse and the finance sheets, as the workers time them). ``--write`` keeps
the table in ``benchmarks/consolidate.json`` and in README.md between its markers.
``python -m benchmarks.run --consolidate 20,100`` runs it after the main harness.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from benchmarks.measure import measure

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "consolidate.json"
README = ROOT / "README.md"
MARK_OPEN, MARK_CLOSE = "<!-- CONSOLIDATE -->", "<!-- /CONSOLIDATE -->"
FAMILIES, MONTHS, CHANNELS = 8, 12, ("Distributors", "Direct")
FIRST_PERIOD = "2027-01"
EUR_RATES = [("2026-12", "", "1.10")] + [
    (f"2027-{m:02d}", f"{1.05 + m / 100:.4f}", f"{1.06 + m / 100:.4f}") for m in range(1, 13)]


def unit_folder() -> Path:
    from benchmarks.run import CACHE, generator_fingerprint

    return CACHE / f"consolidate-{generator_fingerprint()}"


def unit_sheets(seed: int, currency: str) -> list:
    """One unit's plan: the demo's sheets with its own seed and Settings currency."""
    from sopfin.plan.blank_plan import settings_sheet
    from sopfin.plan.demo import demo_settings, demo_sheets

    specs = demo_sheets(families=FAMILIES, months=MONTHS, first_period=FIRST_PERIOD,
                        scenarios=("base",), channels=CHANNELS, seed=seed)
    settings = replace(demo_settings(months=MONTHS, first_period=FIRST_PERIOD,
                                     scenarios=("base",)), currency=currency)
    return [settings_sheet(settings), *specs[1:]]


def units(count: int) -> Path:
    """At least ``count`` unit workbooks and fx.csv in the cache folder (made once)."""
    from sopfin.xlsx.writer import create_workbook

    folder = unit_folder()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        path = folder / f"bu-{i:04d}.xlsx"
        if not path.exists():
            tmp = path.with_suffix(".tmp.xlsx")
            tmp.unlink(missing_ok=True)
            create_workbook(tmp, unit_sheets(20270101 + i, "EUR" if i % 3 == 2 else "USD"))
            tmp.replace(path)
    fx = folder / "fx.csv"
    fx.write_text("Currency,Month,Average,Closing\n" + "".join(
        f"EUR,{month},{avg},{close}\n" for month, avg, close in EUR_RATES), encoding="utf-8")
    return folder


def run_count(count: int, workers: int, work: Path, timeout: float) -> dict[str, object]:
    folder = units(count)
    inputs = work / f"units-{count}"
    inputs.mkdir(parents=True, exist_ok=True)
    for i in range(count):  # links, so --from sees exactly the first ``count`` units
        link = inputs / f"bu-{i:04d}.xlsx"
        if not link.exists():
            link.symlink_to(folder / f"bu-{i:04d}.xlsx")
    out, report = work / f"group-{count}.xlsx", work / f"group-{count}.json"
    out.unlink(missing_ok=True)
    sopfin = str(Path(sys.executable).with_name("sopfin"))
    command = shlex.join([sopfin, "consolidate", str(out), "--from", str(inputs / "*.xlsx"),
                          "--fx", str(folder / "fx.csv"), "--workers", str(workers),
                          "--json"])
    sample = measure(["sh", "-c", f"{command} > {shlex.quote(str(report))}"], timeout)
    if not sample.ok:
        raise RuntimeError(f"consolidate of {count} units failed: {sample.detail}")
    payload = json.loads(report.read_text(encoding="utf-8"))
    if not payload["complete"]:
        raise RuntimeError(f"consolidate of {count} units left units out: {payload['issues'][:3]}")
    seconds = payload["seconds"]
    return {"units": count, "workers": workers, "seconds": round(sample.seconds, 2),
            "seconds_per_workbook": round(sample.seconds / count, 4),
            "peak_mib": round(sample.peak_mib, 1),
            "reading_share": round(seconds["reading"] / seconds["unit_tasks"], 3)}


def format_table(rows: list[dict[str, object]]) -> str:
    lines = ["| units | workers | wall s | s per workbook | peak MiB | reading share |",
             "|---:|---:|---:|---:|---:|---:|"]
    lines += [f"| {r['units']} | {r['workers']} | {r['seconds']:.1f} | "
              f"{r['seconds_per_workbook']:.3f} | {r['peak_mib']:.0f} | "
              f"{float(r['reading_share']):.0%} |" for r in rows]  # type: ignore[arg-type]
    return "\n".join(lines)


def write(rows: list[dict[str, object]], command: str) -> None:
    RESULTS.write_text(json.dumps({"command": command, "cpus": os.cpu_count(),
                                   "runs": rows}, indent=2) + "\n", encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    if MARK_OPEN in text and MARK_CLOSE in text:
        head, rest = text.split(MARK_OPEN, 1)
        _, tail = rest.split(MARK_CLOSE, 1)
        README.write_text(f"{head}{MARK_OPEN}\n{format_table(rows)}\n{MARK_CLOSE}{tail}",
                          encoding="utf-8")


def run_counts(counts: list[int], workers: int, timeout: float = 1800.0,
               ) -> list[dict[str, object]]:
    import tempfile

    rows = []
    with tempfile.TemporaryDirectory(prefix="sopfin-consolidate-") as tmp:
        for count in counts:
            started = time.perf_counter()
            units(count)
            print(f"  {count} units ready in {time.perf_counter() - started:.1f}s", flush=True)
            rows.append(run_count(count, workers, Path(tmp), timeout))
            print(format_table(rows[-1:]).splitlines()[-1], flush=True)
    return rows


def parse_counts(text: str) -> list[int]:
    return [int(c) for c in text.split(",") if c.strip()]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--counts", default="20,100,400")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args(argv)
    rows = run_counts(parse_counts(args.counts), args.workers)
    print(format_table(rows))
    if args.write:
        write(rows, shlex.join(["python", "-m", "benchmarks.consolidate", *argv]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
