"""Time sopfin against the read floor and the alternatives on generated plan workbooks.

    python -m benchmarks.run [--sizes S,M,L] [--reps S=5,M=2,L=2] [--write]

Sizes (families x channels x months x scenarios): S 50x2x24x3, M 1,000x2x36x3,
L 5,000x2x36x3 (10,000 family-channel rows, 1,080,000 cells per measure). Workbooks are
generated deterministically by ``sopfin.demo`` and cached in ``benchmarks/cache/``. Every
contender runs as its own process, interleaved per repetition (every contender of every size
in each repetition); wall time and peak memory (max RSS of that process tree) are recorded:

* ``close``: ``sopfin close -v`` end to end on a fresh copy of the plan (its step timings are
  read from the ``timings:`` line on stderr);
* ``dollarize``: ``sopfin dollarize --json`` end to end on a fresh copy;
* ``floor``: python-calamine reading the input sheets and nothing else;
* ``openpyxl``: openpyxl loads the plan, writes the values of sopfin's output sheets, saves;
* ``libreoffice``: LibreOffice headless loading the closed workbook, recalculating every
  formula sopfin wrote, and saving it.

A contender stopped at its time limit is reported as such and not run again for that size.
One worksheet-function call on a 1,000 x 36 range is timed in-process (``benchmarks.udf``).
``--write`` stores ``benchmarks/results.json`` and the table in README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.report import Sample, build_results, format_table, median_steps, summarise
from benchmarks.report import write_readme as _write_readme

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
    for stale in CACHE.glob(f"plan-{size.name}-*"):  # made by another version of the code
        if not stale.name.startswith(path.stem + "."):
            stale.unlink()
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




# A small launcher between the harness and each contender. Linux keeps the largest RSS a
# process has had across exec, and a child starts out sharing (vfork) or copying (fork) its
# parent's memory, so a contender started directly by this (large) harness would report the
# harness's size. The launcher is small: what it starts reports only its own peak. It writes
# "<max RSS KiB> <exit code> <wall seconds>" to the file named in its first argument.
_LAUNCHER = """
import os, sys, time
report, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(cmd[0], cmd, os.environ)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
with open(report, "w") as fh:
    fh.write(f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)} {seconds!r}")
"""


def measure(cmd: list[str], timeout: float) -> Sample:
    """Run cmd (through the launcher, in its own session): its wall seconds and the peak RSS
    of its process tree (``wait4`` counts the children the contender waited for)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report"
        pid = os.posix_spawn(sys.executable, [sys.executable, "-I", "-S", "-c", _LAUNCHER,
                                              str(report), *cmd], os.environ, setsid=True,
                             file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                           (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
                                           (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)])
        deadline = time.perf_counter() + timeout
        while not os.waitpid(pid, os.WNOHANG)[0]:
            if time.perf_counter() > deadline:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Sample(timeout, float("nan"), False, f"timed out after {timeout:.0f}s",
                              timed_out=True)
            time.sleep(0.005)
        with contextlib.suppress(ProcessLookupError):  # no helper outlives its run
            os.killpg(pid, signal.SIGKILL)
        out.seek(0)
        err.seek(0)
        detail = out.read().decode(errors="replace")[-4000:]
        stderr = err.read().decode(errors="replace")[-4000:]
        try:
            kib, code, seconds = report.read_text().split()
        except (OSError, ValueError):
            return Sample(float("nan"), float("nan"), False, f"launcher failed: {stderr}")
        if int(code) != 0:
            detail += stderr[-2000:]
        return Sample(float(seconds), int(kib) / 1024, int(code) == 0, detail, stderr)


_TIMING = re.compile(r"(\w+) ([0-9.]+)s")


def close_steps(sample: Sample) -> dict[str, float]:
    """Step timings from ``sopfin close -v``: 'timings: read 0.4s, ... (total 31.8s)'."""
    line = next((x for x in sample.stderr.splitlines() if x.startswith("timings:")), "")
    steps = line.split("(total")[0]
    return {k: float(v) for k, v in _TIMING.findall(steps)}


def dollarize_steps(sample: Sample) -> dict[str, float]:
    try:
        return json.loads(sample.detail).get("timings", {})
    except (json.JSONDecodeError, AttributeError):
        return {}


@dataclass(frozen=True)
class Limits:
    ours: float  # sopfin close / dollarize and the floor
    others: float  # openpyxl and LibreOffice


def run_once(size: Size, plan: Path, values: Path, work: Path, limits: Limits,
             skip: set[str]) -> dict[str, Sample]:
    py = sys.executable
    samples: dict[str, Sample] = {}
    closed = work / f"{size.name}-close.xlsx"
    shutil.copyfile(plan, closed)
    samples["close"] = measure([py, "-m", "sopfin.cli", "close", str(closed), "-v",
                                "--author", "benchmark"], limits.ours)
    target = work / f"{size.name}-dollarize.xlsx"
    shutil.copyfile(plan, target)
    samples["dollarize"] = measure([py, "-m", "sopfin.cli", "dollarize", str(target), "-q",
                                    "--json"], limits.ours)
    samples["floor"] = measure([py, "-m", "benchmarks.contenders", "floor", str(plan)],
                               limits.ours)
    if "openpyxl" not in skip:
        out = work / f"{size.name}-openpyxl.xlsx"
        samples["openpyxl"] = measure([py, "-m", "benchmarks.contenders", "openpyxl",
                                       str(plan), str(values), str(out)], limits.others)
        out.unlink(missing_ok=True)
    soffice = shutil.which("soffice")
    if soffice and "libreoffice" not in skip and samples["close"].ok:
        outdir = work / "lo"
        outdir.mkdir(exist_ok=True)
        profile = libreoffice_profile()
        samples["libreoffice"] = measure(
            [soffice, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
             "--convert-to", "xlsx", "--outdir", str(outdir), str(closed)], limits.others)
        shutil.rmtree(outdir, ignore_errors=True)
    return samples


def parse_reps(text: str, sizes: list[Size]) -> dict[str, int]:
    """'3' (every size) or 'S=5,M=3,L=2'."""
    if "=" not in text:
        return {s.name: int(text) for s in sizes}
    given = {k.strip(): int(v) for k, v in (part.split("=") for part in text.split(","))}
    return {s.name: given.get(s.name, 1) for s in sizes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="S,M,L")
    parser.add_argument("--reps", default="S=5,M=2,L=2",
                        help="repetitions: one number for every size, or per size")
    parser.add_argument("--timeout", type=float, default=300.0,
                        help="seconds before a sopfin or floor run is stopped")
    parser.add_argument("--others-timeout", type=float, default=60.0,
                        help="seconds before an openpyxl or LibreOffice run is stopped "
                             "(reported as '> N s'; that contender is not rerun for the size)")
    parser.add_argument("--write", action="store_true",
                        help="write benchmarks/results.json and the table in README.md")
    args = parser.parse_args(argv)
    sizes = [SIZES[s.strip()] for s in args.sizes.split(",")]
    reps = parse_reps(args.reps, sizes)
    limits = Limits(args.timeout, args.others_timeout)
    started = time.perf_counter()

    print("preparing workbooks", flush=True)
    # byte-compile once, as an installed package is: no run pays for compiling sopfin
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "sopfin"),
                    str(HERE)], check=False, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
    plans = {s.name: plan_workbook(s) for s in sizes}
    values = {s.name: output_values(plans[s.name]) for s in sizes}
    runs: dict[str, dict[str, list[Sample]]] = {s.name: {} for s in sizes}
    skip: dict[str, set[str]] = {s.name: set() for s in sizes}
    with tempfile.TemporaryDirectory(prefix="sopfin-bench-") as tmp:
        for rep in range(max(reps.values())):
            for size in sizes:  # interleaved: every contender of every size in each repetition
                if rep >= reps[size.name]:
                    continue
                samples = run_once(size, plans[size.name], values[size.name], Path(tmp),
                                   limits, skip[size.name])
                for name, sample in samples.items():
                    runs[size.name].setdefault(name, []).append(sample)
                    if sample.timed_out:
                        skip[size.name].add(name)
                    if not sample.ok:
                        what = "TIMED OUT" if sample.timed_out else "FAILED"
                        print(f"  {size.name} {name}: {what} {sample.detail[-500:]}",
                              flush=True)
                line = ", ".join(f"{k} {v.seconds:.2f}s" for k, v in samples.items())
                print(f"rep {rep + 1} {size.name}: {line}", flush=True)

    from benchmarks.udf import udf_timings

    udf = udf_timings()
    tables = {n: {c: summarise(s) for c, s in r.items()} for n, r in runs.items()}
    steps = {n: {"close": median_steps([close_steps(s) for s in r.get("close", []) if s.ok]),
                 "dollarize": median_steps([dollarize_steps(s) for s in r.get("dollarize", [])
                                            if s.ok])}
             for n, r in runs.items()}
    reps_text = "/".join(f"{n}={k}" for n, k in reps.items())
    results = build_results(sizes, tables, steps, udf, {
        "reps": reps, "reps_text": reps_text, "timeout_s": limits.ours,
        "others_timeout_s": limits.others,
        "harness_seconds": round(time.perf_counter() - started, 1)})
    print(format_table(results))
    print(f"harness finished in {time.perf_counter() - started:.0f}s")
    if args.write:
        RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        if _write_readme(README, results, MARK_OPEN, MARK_CLOSE):
            print(f"wrote {RESULTS.relative_to(ROOT)} and the table in README.md")
        else:
            print(f"wrote {RESULTS.relative_to(ROOT)}; README.md has no benchmark markers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
