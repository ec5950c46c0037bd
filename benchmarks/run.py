"""Time sopfin against the read floor and the alternatives on generated plan workbooks.

    python -m benchmarks.run [--sizes S,M,L] [--reps 3] [--write]

Sizes (families x channels x months x scenarios): S 50x2x24x3, M 1,000x2x36x3,
L 5,000x2x36x3 (10,000 family-channel rows). Workbooks are generated deterministically by
``sopfin.demo`` and cached in ``benchmarks/cache/``. Every contender runs as its own process,
interleaved per repetition; wall time and peak memory (max RSS of that process) are recorded.
``--write`` stores ``benchmarks/results.json`` and the table in README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import pickle
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = HERE / "cache"
RESULTS = HERE / "results.json"
README = ROOT / "README.md"
MARK_OPEN, MARK_CLOSE = "<!-- BENCHMARKS -->", "<!-- /BENCHMARKS -->"


@dataclass(frozen=True)
class Size:
    name: str
    families: int
    months: int
    channels: tuple[str, ...] = ("Distributors", "Direct")
    scenarios: tuple[str, ...] = ("upside", "base", "downside")

    @property
    def cells(self) -> int:
        return self.families * len(self.channels) * self.months * len(self.scenarios)


SIZES = {s.name: s for s in (Size("S", 50, 24), Size("M", 1000, 36), Size("L", 5000, 36))}


@dataclass
class Sample:
    seconds: float
    peak_mib: float
    ok: bool
    detail: str = ""


def measure(cmd: list[str], timeout: float, env: dict[str, str] | None = None) -> Sample:
    """Run cmd as a child process; wall seconds and that child's own peak RSS."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT, env=env)
        deadline = start + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                return Sample(timeout, usage.ru_maxrss / 1024, False, f"timed out after {timeout}s")
            time.sleep(0.005)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        detail = out.read().decode(errors="replace")[-4000:]
        if proc.returncode != 0:
            detail += err.read().decode(errors="replace")[-2000:]
        return Sample(seconds, usage.ru_maxrss / 1024, proc.returncode == 0, detail)


def generator_fingerprint() -> str:
    digest = hashlib.sha256()
    for rel in ("sopfin/demo.py", "sopfin/xlsx/sheetxml.py", "sopfin/xlsx/package.py"):
        path = ROOT / rel
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def plan_workbook(size: Size) -> Path:
    """The input-only plan workbook for a size, generated once and cached."""
    from sopfin.demo import demo_sheets
    from sopfin.xlsx import create_workbook

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"plan-{size.name}-{generator_fingerprint()}.xlsx"
    if not path.exists():
        started = time.perf_counter()
        specs = demo_sheets(families=size.families, months=size.months,
                            scenarios=size.scenarios, channels=size.channels)
        tmp = path.with_suffix(".tmp.xlsx")
        tmp.unlink(missing_ok=True)
        create_workbook(tmp, specs)
        tmp.replace(path)
        print(f"  generated {path.name} in {time.perf_counter() - started:.1f}s", flush=True)
    return path


def output_values(plan: Path) -> Path:
    """The values sopfin writes for this plan, for the openpyxl contender to write too."""
    target = plan.with_suffix(".values.pickle")
    if target.exists():
        return target
    from sopfin import layout
    from sopfin.checks import validate
    from sopfin.dollarize import dollarize
    from sopfin.readplan import parse_plan
    from sopfin.render import render_outputs
    from sopfin.xlsx.read import read_raw_sheets

    parsed, _ = parse_plan(read_raw_sheets(plan, layout.INPUT_SHEET_NAMES))
    assert parsed is not None and not [i for i in validate(parsed) if i.severity == "error"]
    d, issues = dollarize(parsed)
    sheets = []
    for spec in render_outputs(parsed, d, issues):
        blocks = []
        for block in spec.blocks:
            grid = np.asarray(block.values, dtype=object)
            clean = [[None if (isinstance(v, float) and v != v) else
                      (float(v) if isinstance(v, np.floating) else v) for v in row]
                     for row in grid.tolist()]
            blocks.append((block.row, block.col, clean))
        sheets.append((spec.name, blocks))
    with open(target, "wb") as fh:
        pickle.dump(sheets, fh, protocol=pickle.HIGHEST_PROTOCOL)
    return target


def libreoffice_profile() -> Path:
    """A LibreOffice user profile that recalculates every formula on load."""
    profile = CACHE / "lo-profile"
    user = profile / "user"
    user.mkdir(parents=True, exist_ok=True)
    (user / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
        '<prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
        '<item oor:path="/org.openoffice.Office.Calc/Formula/Load">'
        '<prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>\n'
        '</oor:items>\n', encoding="utf-8")
    return profile


def run_once(size: Size, plan: Path, values: Path, work: Path, timeout: float,
             ) -> dict[str, Sample]:
    py = sys.executable
    samples: dict[str, Sample] = {}
    target = work / f"{size.name}.xlsx"

    shutil.copyfile(plan, target)
    samples["dollarize"] = measure([py, "-m", "sopfin.cli", "dollarize", str(target), "-q",
                                    "--json"], timeout)
    samples["floor"] = measure([py, "-m", "benchmarks.contenders", "floor", str(plan)], timeout)
    out = work / f"{size.name}-openpyxl.xlsx"
    samples["openpyxl"] = measure([py, "-m", "benchmarks.contenders", "openpyxl", str(plan),
                                   str(values), str(out)], timeout)
    soffice = shutil.which("soffice")
    if soffice and samples["dollarize"].ok:
        outdir = work / "lo"
        outdir.mkdir(exist_ok=True)
        profile = libreoffice_profile()
        samples["libreoffice"] = measure(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "xlsx", "--outdir", str(outdir), str(target)], timeout)
    return samples


def step_timings(sample: Sample) -> dict[str, float]:
    try:
        return json.loads(sample.detail).get("timings", {})
    except (json.JSONDecodeError, AttributeError):
        return {}


def summarise(samples: list[Sample]) -> dict[str, float | int | bool]:
    ok = [s for s in samples if s.ok]
    pool = ok or samples
    secs = [s.seconds for s in pool]
    return {"median_s": round(statistics.median(secs), 4), "min_s": round(min(secs), 4),
            "max_s": round(max(secs), 4), "peak_mib": round(max(s.peak_mib for s in pool), 1),
            "runs": len(samples), "ok": len(ok) == len(samples)}


def ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


def machine() -> dict[str, str]:
    import pandas
    import python_calamine

    soffice = shutil.which("soffice")
    lo = ""
    if soffice:
        lo = subprocess.run([soffice, "--version"], capture_output=True, text=True,
                            timeout=60).stdout.strip()
    cpu = ""
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        cpu = platform.processor()
    try:
        import openpyxl
        opx = openpyxl.__version__
    except ImportError:
        opx = "not installed"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "python": platform.python_version(),
            "os": platform.platform(), "numpy": np.__version__, "pandas": pandas.__version__,
            "python-calamine": getattr(python_calamine, "__version__", "?"), "openpyxl": opx,
            "libreoffice": lo}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds before a contender run is stopped and reported as such")
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results.json and the README table")
    args = parser.parse_args(argv)
    sizes = [SIZES[s.strip()] for s in args.sizes.split(",")]

    print("preparing workbooks", flush=True)
    plans = {s.name: plan_workbook(s) for s in sizes}
    values = {s.name: output_values(plans[s.name]) for s in sizes}
    runs: dict[str, dict[str, list[Sample]]] = {s.name: {} for s in sizes}
    with tempfile.TemporaryDirectory(prefix="sopfin-bench-") as tmp:
        for rep in range(args.reps):
            for size in sizes:  # interleaved: every contender of every size in each repetition
                samples = run_once(size, plans[size.name], values[size.name], Path(tmp),
                                   args.timeout)
                for name, sample in samples.items():
                    runs[size.name].setdefault(name, []).append(sample)
                    if not sample.ok:
                        print(f"  {size.name} {name}: FAILED {sample.detail[-500:]}", flush=True)
                line = ", ".join(f"{k} {v.seconds:.2f}s" for k, v in samples.items())
                print(f"rep {rep + 1} {size.name}: {line}", flush=True)

    results = build_results(sizes, runs)
    print(format_table(results))
    if args.write:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        write_readme(results)
        print(f"wrote {RESULTS.relative_to(ROOT)} and the table in README.md")
    return 0


def build_results(sizes: list[Size], runs: dict[str, dict[str, list[Sample]]]) -> dict:
    out: dict = {"date": dt.date.today().isoformat(), "machine": machine(),
                 "command": "python -m benchmarks.run --write", "sizes": {}}
    for size in sizes:
        table = {name: summarise(samples) for name, samples in runs[size.name].items()}
        steps = [step_timings(s) for s in runs[size.name].get("dollarize", []) if s.ok]
        median_steps = {k: round(statistics.median(t.get(k, 0.0) for t in steps), 4)
                        for k in (steps[0] if steps else {})}
        dz = table["dollarize"]["median_s"]
        entry = {"families": size.families, "channels": len(size.channels),
                 "months": size.months, "scenarios": len(size.scenarios),
                 "cells_per_measure": size.cells, "contenders": table, "steps": median_steps,
                 "dollarize_over_floor": ratio(dz, table["floor"]["median_s"]),
                 "openpyxl_over_dollarize": ratio(table["openpyxl"]["median_s"], dz)}
        if "libreoffice" in table:
            entry["libreoffice_over_dollarize"] = ratio(table["libreoffice"]["median_s"], dz)
        out["sizes"][size.name] = entry
    names = [s.name for s in sizes]
    if len(names) >= 2:
        x = np.array([out["sizes"][n]["cells_per_measure"] for n in names], dtype=float)
        y = np.array([out["sizes"][n]["contenders"]["dollarize"]["median_s"] for n in names])
        slope, intercept = np.polyfit(x, y, 1)
        fitted = slope * x + intercept
        ss_res = float(((y - fitted) ** 2).sum())
        ss_tot = float(((y - y.mean()) ** 2).sum()) or 1.0
        out["linear_fit"] = {"seconds_per_million_cells": round(slope * 1e6, 3),
                             "intercept_s": round(float(intercept), 3),
                             "r_squared": round(1 - ss_res / ss_tot, 4)}
    return out


def format_table(results: dict) -> str:
    lines = ["| size | cells/measure | dollarize s (min-max) | peak MiB | calamine floor s | "
             "openpyxl s | LibreOffice s | dollarize/floor | openpyxl/dollarize | "
             "LibreOffice/dollarize | slowest step |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, e in results["sizes"].items():
        c = e["contenders"]
        lo = c.get("libreoffice")
        steps = e.get("steps") or {}
        slow = max(steps, key=steps.get) if steps else "-"
        lo_text = "-" if not lo else f"{lo['median_s']:.2f}" + ("" if lo["ok"] else " (timed out)")
        lines.append(
            f"| {name} | {e['cells_per_measure']:,} | {c['dollarize']['median_s']:.2f} "
            f"({c['dollarize']['min_s']:.2f}-{c['dollarize']['max_s']:.2f}) | "
            f"{c['dollarize']['peak_mib']:.0f} | {c['floor']['median_s']:.2f} | "
            f"{c['openpyxl']['median_s']:.2f} | "
            f"{lo_text} | "
            f"{e['dollarize_over_floor']:.2f} | {e['openpyxl_over_dollarize']:.2f} | "
            f"{e.get('libreoffice_over_dollarize', float('nan')):.2f} | "
            f"{slow} {steps.get(slow, 0):.2f}s |")
    m = results["machine"]
    first = next(iter(results["sizes"].values()))
    runs = first["contenders"]["dollarize"]["runs"]
    fit = results.get("linear_fit")
    lines.append("")
    lines.append(f"Measured {results['date']} with `{results['command']}` on {m['cpu']} "
                 f"({m['cores']} cores), Python {m['python']}, numpy {m['numpy']}, pandas "
                 f"{m['pandas']}, python-calamine {m['python-calamine']}, openpyxl "
                 f"{m['openpyxl']}, {m['libreoffice'] or 'no LibreOffice'}. Medians of "
                 f"{runs} interleaved runs; each contender is a separate process "
                 "(wall time includes interpreter start).")
    if fit:
        lines.append(f"Linear fit of dollarize time over cells per measure: "
                     f"{fit['seconds_per_million_cells']} s per million cells + "
                     f"{fit['intercept_s']} s, R² = {fit['r_squared']}.")
    return "\n".join(lines)


def write_readme(results: dict) -> None:
    text = README.read_text(encoding="utf-8")
    if MARK_OPEN not in text:
        return
    head, rest = text.split(MARK_OPEN, 1)
    _, tail = rest.split(MARK_CLOSE, 1)
    README.write_text(f"{head}{MARK_OPEN}\n{format_table(results)}\n{MARK_CLOSE}{tail}",
                      encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
