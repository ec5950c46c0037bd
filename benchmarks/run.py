"""Time sopfin against the read floor and the alternatives on generated plan workbooks.

    python -m benchmarks.run [--sizes S,M,L] [--reps S=10,M=2,L=1] [--others-reps 1]
                             [--timeout 300] [--others-timeout 60] [--full] [--write]
                             [--consolidate 20,100,400] [--year-sizes M] [--year-closes 12]
                             [--write-speed-size M]

Sizes (families x channels x months x scenarios): S 50x2x24x3, M 1,000x2x36x3,
L 5,000x2x36x3 (10,000 family-channel rows, 1,080,000 cells per measure). Workbooks are
generated deterministically by ``sopfin.plan.demo`` and cached in ``benchmarks/cache/``. Every
contender runs as its own process, interleaved per repetition (every contender of every size
in each repetition); wall time and peak memory (the largest max RSS in the process tree)
are recorded:

* ``close``: ``sopfin close -v`` end to end on a fresh copy of the plan, publishing v001 (its
  step timings are read from the ``timings:`` line on stderr);
* ``reclose``: ``sopfin close -v --force`` again on a copy of the workbook that repetition's close
  wrote: it re-renders, reads its own output sheets back, verifies v001 and publishes v002,
  as every later close of a month does;
* ``dollarize``: ``sopfin dollarize --json`` end to end on a fresh copy;
* ``verify``: ``sopfin verify -v`` on the workbook that repetition's close wrote (one
  version), for ``verify_over_floor``;
* ``diff``: ``sopfin diff PATH v1 v2`` on the workbook the re-close wrote (two versions), for
  ``diff_over_floor``;
* ``check``: ``sopfin check`` on the workbook the close wrote, for ``check_over_floor``;
* ``floor``: python-calamine reading the input sheets and nothing else, a stand-alone script
  (``benchmarks/floor.py``) whose process imports neither sopfin nor pandas;
* ``openpyxl``: openpyxl loads the plan, writes the values of sopfin's output sheets, saves;
* ``libreoffice``: LibreOffice headless loading the closed workbook, recalculating every
  formula sopfin wrote, and saving it.

sopfin's contenders and the floor run ``--reps`` times per size; openpyxl and LibreOffice,
which take minutes at M and L, run in the first ``--others-reps`` repetitions (default once).
A contender stopped at its time limit is reported as a lower bound and not run again for that
size. ``--full`` runs everything uncapped: the alternatives as often as sopfin's contenders and
no time limits. One worksheet-function call on a 1,000 x 36 range is timed in-process
(``benchmarks.udf``). The harness prints its total wall time and where it went; ``--write``
stores ``benchmarks/results.json`` and the table in README.md. ``--consolidate 20,100,400``
also times ``sopfin consolidate`` over that many generated business-unit workbooks
(``benchmarks.consolidate``). After the repetitions, ``--year-sizes`` (default M) runs a year
of ``--year-closes`` (default 12) closes in a row, each followed by a verify
(``benchmarks.year``), and records ``year_close_growth`` and ``year_verify_growth`` (the last
over the first) with the peaks and every run's figures. ``--write-speed-size`` (default M)
then builds and deflates that size's output sheets once through the compiled row formatter
and the Python one (``benchmarks.write_speed``) and records ``write_formula_cells_per_s``.
Last, every performance target (``benchmarks.targets``) is checked against the record and
listed, with its figure and whether it is met, under ``targets`` and below the table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import pickle
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks import year
from benchmarks.measure import close_steps, dollarize_steps, measure, require_published
from benchmarks.report import Sample, build_results, median_steps, summarise
from benchmarks.table import OTHERS, OURS, format_table, write_readme
from benchmarks.targets import evaluate

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

# The default run is kept short on two cores: sopfin's own contenders and the floor are
# repeated (a median and a range) where that is cheap, and the reference alternatives, which
# take about a minute at M and minutes at L, run once per size. ``--full`` repeats
# everything without time limits.
DEFAULT_REPS = "S=10,M=2,L=1"
DEFAULT_OTHERS_REPS = "1"


def generator_fingerprint() -> str:
    digest = hashlib.sha256()
    for rel in ("sopfin/plan/demo.py", "sopfin/plan/demo_data.py", "sopfin/xlsx/sheetxml.py",
                "sopfin/xlsx/cellxml.py", "sopfin/xlsx/gridrows.py", "sopfin/xlsx/_rowxml.c",
                "sopfin/xlsx/package.py", "sopfin/xlsx/zipsink.py", "sopfin/xlsx/deflate.py"):
        path = ROOT / rel
        if path.exists():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def plan_workbook(size: Size) -> Path:
    """The input-only plan workbook for a size, generated once and cached under the
    fingerprint of the code that writes it. Plans made by other versions of that code are
    left in place (named, so they can be removed by hand): the harness deletes only files it
    wrote itself."""
    from sopfin.plan.demo import demo_sheets
    from sopfin.xlsx.writer import create_workbook

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"plan-{size.name}-{generator_fingerprint()}.xlsx"
    stale = sorted(p.name for p in CACHE.glob(f"plan-{size.name}-*.xlsx")
                   if p.name != path.name and not p.name.endswith(".tmp.xlsx"))
    if stale:
        print(f"  kept plans made by other generator versions: {', '.join(stale)}", flush=True)
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
    from sopfin.engine.dollarize import dollarize
    from sopfin.plan.checks import validate
    from sopfin.plan.read import parse_plan
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


@dataclass(frozen=True)
class Limits:
    """Seconds before a run is stopped (``math.inf``: never)."""

    ours: float  # sopfin close / re-close / dollarize and the floor
    others: float  # openpyxl and LibreOffice


def close_command(path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sopfin.cli", "close", str(path), "-v",
            "--author", "benchmark", *extra]


def verify_command(path: Path) -> list[str]:
    return year.verify_command(path)


def floor_command(plan: Path) -> list[str]:
    """The stand-alone floor: a script run as a file, so its process imports no sopfin (the
    input sheets' names are given to it here)."""
    from sopfin import layout

    return [sys.executable, str(HERE / "floor.py"), str(plan), *layout.INPUT_SHEET_NAMES]


def run_year_of_closes(sizes: list[Size], plans: dict[str, Path], closes: int,
                       limits: Limits) -> dict[str, dict]:
    """The year of closes (``benchmarks.year``) on each of ``sizes``: its figures by size."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="sopfin-year-") as tmp:
        for size in sizes:
            print(f"year of {closes} closes on {size.name}", flush=True)
            runs = year.run_year(plans[size.name], Path(tmp), closes, limits.ours)
            out[size.name] = year.year_figures(runs, closes)
    return out


def run_write_speed(plan: Path, limits: Limits) -> dict:
    """Formula cells per CPU second, the XML built and deflated through the compiled row
    formatter (the Python one when the extension is not built), one pass
    (``benchmarks.write_speed``)."""
    print(f"write speed on {plan.name}", flush=True)
    command = [sys.executable, "-m", "benchmarks.write_speed", str(plan), "--reps", "1",
               "--formatters", "compiled,python"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                          timeout=None if math.isinf(limits.ours) else limits.ours * 4)
    if done.returncode != 0:
        print(f"  write speed FAILED {done.stderr[-500:]}", flush=True)
        return {}
    figures = json.loads(done.stdout)
    formatter = "compiled" if "compiled_xml_and_deflate_cpu_s" in figures else "python"
    return {"write_formatter": formatter, "write_formula_cells": figures["formula_cells"],
            "write_formula_cells_per_s":
                figures[f"{formatter}_xml_and_deflate_formula_cells_per_s"],
            "write_python_formula_cells_per_s":
                figures["python_xml_and_deflate_formula_cells_per_s"]}


def run_closes(size: Size, plan: Path, work: Path, limits: Limits,
               skip: set[str]) -> tuple[dict[str, Sample], Path | None]:
    """``close`` on a fresh copy of the plan (it must publish v001), then ``reclose`` on a
    copy of what that close wrote (with ``--force``, since nothing changed: it must publish
    v002). Returns the samples and the
    closed workbook, or None when the close did not produce one."""
    samples: dict[str, Sample] = {}
    if "close" in skip:
        return samples, None
    closed = work / f"{size.name}-close.xlsx"
    shutil.copyfile(plan, closed)
    samples["close"] = require_published(measure(close_command(closed), limits.ours), 1)
    if not samples["close"].ok:
        return samples, None
    if "reclose" not in skip:
        again = work / f"{size.name}-reclose.xlsx"
        shutil.copyfile(closed, again)
        forced = close_command(again, "--force")
        samples["reclose"] = require_published(measure(forced, limits.ours), 2)
        if samples["reclose"].ok and "diff" not in skip:
            samples["diff"] = measure(sopfin_command("diff", again, "v1", "v2"), limits.ours)
        again.unlink(missing_ok=True)
    if "verify" not in skip:
        samples["verify"] = measure(verify_command(closed), limits.ours)
    if "check" not in skip:
        samples["check"] = measure(sopfin_command("check", closed), limits.ours)
    return samples, closed


def sopfin_command(command: str, path: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "sopfin.cli", command, str(path), *extra]


def run_others(size: Size, plan: Path, values: Path, closed: Path | None, work: Path,
               limits: Limits, skip: set[str]) -> dict[str, Sample]:
    """The reference alternatives: openpyxl writing sopfin's output values into the plan,
    and LibreOffice recalculating the workbook the close wrote."""
    py = sys.executable
    samples: dict[str, Sample] = {}
    if "openpyxl" not in skip:
        out = work / f"{size.name}-openpyxl.xlsx"
        samples["openpyxl"] = measure([py, "-m", "benchmarks.contenders", "openpyxl",
                                       str(plan), str(values), str(out)], limits.others)
        out.unlink(missing_ok=True)
    soffice = shutil.which("soffice")
    if soffice and "libreoffice" not in skip and closed is not None:
        outdir = work / "lo"
        outdir.mkdir(exist_ok=True)
        profile = libreoffice_profile()
        samples["libreoffice"] = measure(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "xlsx", "--outdir", str(outdir), str(closed)], limits.others)
        shutil.rmtree(outdir, ignore_errors=True)
    return samples


def run_once(size: Size, plan: Path, values: Path, work: Path, limits: Limits,
             skip: set[str]) -> dict[str, Sample]:
    """One repetition of one size: every contender not in ``skip``, each its own process."""
    py = sys.executable
    samples, closed = run_closes(size, plan, work, limits, skip)
    if "dollarize" not in skip:
        target = work / f"{size.name}-dollarize.xlsx"
        shutil.copyfile(plan, target)
        samples["dollarize"] = measure([py, "-m", "sopfin.cli", "dollarize", str(target),
                                        "-q", "--json"], limits.ours)
        target.unlink(missing_ok=True)
    if "floor" not in skip:
        samples["floor"] = measure(floor_command(plan), limits.ours)
    samples.update(run_others(size, plan, values, closed, work, limits, skip))
    if closed is not None:
        closed.unlink(missing_ok=True)
    return samples


def parse_reps(text: str, sizes: list[Size]) -> dict[str, int]:
    """'3' (every size) or 'S=5,M=3,L=2'."""
    if "=" not in text:
        return {s.name: int(text) for s in sizes}
    given = {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(","))}
    return {s.name: given.get(s.name, 1) for s in sizes}


def clamp_others(reps: dict[str, int], others: dict[str, int]) -> dict[str, int]:
    """openpyxl and LibreOffice run in the first repetitions of a size, at most as often as
    sopfin's contenders (LibreOffice recalculates that repetition's closed workbook)."""
    return {n: min(others.get(n, 1), k) for n, k in reps.items()}


def skipped(stopped: set[str], rep: int, others_reps: int) -> set[str]:
    """The contenders not to run in this repetition of a size: those already stopped at
    their limit, and the alternatives once they have had their repetitions."""
    return stopped | (set(OTHERS) if rep >= others_reps else set())


def run_all(sizes: list[Size], plans: dict[str, Path], values: dict[str, Path],
            reps: dict[str, int], others_reps: dict[str, int],
            limits: Limits) -> dict[str, dict[str, list[Sample]]]:
    """Every repetition, interleaved: each repetition runs every size's contenders."""
    runs: dict[str, dict[str, list[Sample]]] = {s.name: {} for s in sizes}
    stopped: dict[str, set[str]] = {s.name: set() for s in sizes}
    with tempfile.TemporaryDirectory(prefix="sopfin-bench-") as tmp:
        for rep in range(max(reps.values())):
            for size in sizes:
                if rep >= reps[size.name]:
                    continue
                samples = run_once(size, plans[size.name], values[size.name], Path(tmp),
                                   limits, skipped(stopped[size.name], rep,
                                                   others_reps[size.name]))
                for name, sample in samples.items():
                    runs[size.name].setdefault(name, []).append(sample)
                    if sample.timed_out:
                        stopped[size.name].add(name)
                    if not sample.ok:
                        what = "TIMED OUT" if sample.timed_out else "FAILED"
                        print(f"  {size.name} {name}: {what} {sample.detail[-500:]}",
                              flush=True)
                line = ", ".join(f"{k} {v.seconds:.2f}s" for k, v in samples.items())
                print(f"rep {rep + 1} {size.name}: {line}", flush=True)
    return runs


def step_medians(runs: dict[str, list[Sample]]) -> dict[str, dict[str, float]]:
    """Median step timings of the successful runs of each pipeline contender."""
    parsers = {"close": close_steps, "dollarize": dollarize_steps, "reclose": close_steps}
    return {name: median_steps([parse(s) for s in runs.get(name, []) if s.ok])
            for name, parse in parsers.items() if name in runs or name != "reclose"}


def time_spent(runs: dict[str, dict[str, list[Sample]]], setup: float,
               total: float) -> dict[str, float]:
    """Where the harness's wall time went: preparing, each contender over every size and
    repetition, and the rest (process starts, copies, UDF timings, machine details)."""
    spent = {"setup": setup}
    for name in (*OURS, *OTHERS):
        times = [s.seconds for r in runs.values() for s in r.get(name, [])
                 if s.seconds == s.seconds]
        if times:
            spent[name] = sum(times)
    spent["other"] = max(total - sum(spent.values()), 0.0)
    return {k: round(v, 1) for k, v in spent.items()}


def run_settings(reps: dict[str, int], others_reps: dict[str, int], limits: Limits, *,
                 full: bool) -> dict:
    """How the run was made, as recorded in results.json (a limit of None: no limit); the
    harness adds its wall time and where it went once it is done."""
    return {"reps": reps, "reps_text": "/".join(f"{n}={k}" for n, k in reps.items()),
            "timeout_s": None if math.isinf(limits.ours) else limits.ours,
            "others_timeout_s": None if math.isinf(limits.others) else limits.others,
            "harness_seconds": None, "others_reps": others_reps,
            "others_reps_text": "/".join(f"{n}={k}" for n, k in others_reps.items()),
            "full": full}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--reps", default=DEFAULT_REPS,
                        help="repetitions of sopfin's contenders and the floor: one number for "
                             "every size, or per size")
    parser.add_argument("--others-reps", default=DEFAULT_OTHERS_REPS,
                        help="repetitions of openpyxl and LibreOffice (the first ones of each "
                             "size; at most --reps): one number or per size")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds before a sopfin or floor run is stopped (0: no limit)")
    parser.add_argument("--others-timeout", type=float, default=60.0,
                        help="seconds before an openpyxl or LibreOffice run is stopped "
                             "(reported as '> N s'; that contender is not rerun for the size; "
                             "0: no limit)")
    parser.add_argument("--full", action="store_true",
                        help="run everything uncapped: openpyxl and LibreOffice as often as "
                             "--reps, and no time limits (overrides --others-reps and both "
                             "timeouts)")
    parser.add_argument("--consolidate", metavar="COUNTS", default="",
                        help="also time sopfin consolidate over this many generated business-"
                             "unit workbooks, e.g. 20,100,400 (benchmarks.consolidate)")
    parser.add_argument("--year-sizes", default="M",
                        help="sizes to run a year of closes on (benchmarks.year; '' for none)")
    parser.add_argument("--year-closes", type=int, default=year.CLOSES,
                        help="closes in the year (a smaller number is a quick check)")
    parser.add_argument("--write-speed-size", default="M",
                        help="size whose output sheets benchmarks.write_speed builds and "
                             "deflates once through the compiled formatter ('' for none)")
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results.json and the table in README.md")
    return parser.parse_args(argv)


def _limit(seconds: float) -> float:
    return math.inf if seconds <= 0 else seconds


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    sizes = [SIZES[s.strip()] for s in args.sizes.split(",")]
    reps = parse_reps(args.reps, sizes)
    if args.full:
        others_reps = dict(reps)
        limits = Limits(math.inf, math.inf)
    else:
        others_reps = clamp_others(reps, parse_reps(args.others_reps, sizes))
        limits = Limits(_limit(args.timeout), _limit(args.others_timeout))
    started = time.perf_counter()

    print("preparing workbooks", flush=True)
    # byte-compile once, as an installed package is: no run pays for compiling sopfin
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "sopfin"),
                    str(HERE)], check=False, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
    plans = {s.name: plan_workbook(s) for s in sizes}
    values = {s.name: output_values(plans[s.name]) for s in sizes}
    setup = time.perf_counter() - started
    runs = run_all(sizes, plans, values, reps, others_reps, limits)

    from benchmarks.udf import udf_timings

    udf = udf_timings()
    year_sizes = [SIZES[s.strip()] for s in args.year_sizes.split(",") if s.strip()]
    years = run_year_of_closes(year_sizes, {**plans, **{s.name: plan_workbook(s)
                                                       for s in year_sizes}},
                               args.year_closes, limits) if args.year_closes > 0 else {}
    tables = {n: {c: summarise(s) for c, s in r.items()} for n, r in runs.items()}
    steps = {n: step_medians(r) for n, r in runs.items()}
    settings = run_settings(reps, others_reps, limits, full=args.full)
    results = build_results(sizes, tables, steps, udf, settings,
                            command=shlex.join(["python", "-m", "benchmarks.run", *argv]))
    for name, figures in years.items():
        results["sizes"].setdefault(name, {}).update(figures)
    if args.write_speed_size:
        name = args.write_speed_size
        results["sizes"].setdefault(name, {}).update(
            run_write_speed(plans.get(name) or plan_workbook(SIZES[name]), limits))
    results["targets"] = evaluate(results)
    total = time.perf_counter() - started
    settings["harness_seconds"] = round(total, 1)
    settings["harness_breakdown_s"] = time_spent(runs, setup, total)
    print(format_table(results))
    if args.consolidate:
        from benchmarks import consolidate

        rows = consolidate.run_counts(consolidate.parse_counts(args.consolidate),
                                      os.cpu_count() or 1)
        print(consolidate.format_table(rows))
        if args.write:
            consolidate.write(rows, shlex.join(["python", "-m", "benchmarks.run", *argv]))
    print(f"harness finished in {total:.0f}s")
    if args.write:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        if write_readme(README, results, MARK_OPEN, MARK_CLOSE):
            print(f"wrote {RESULTS.relative_to(ROOT)} and the table in README.md")
        else:
            print(f"wrote {RESULTS.relative_to(ROOT)}; README.md has no benchmark markers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
