"""Benchmark results: the JSON record and the linear fit (``benchmarks.table`` prints them).

``results.json`` holds, for each size (``S``, ``M``, ``L``), every contender's median / min /
max seconds, peak MiB and number of runs, the pipeline's step timings for ``dollarize``,
``close`` and ``reclose`` (a second close on the workbook the first one wrote), and the
ratios ``close_over_floor``, ``openpyxl_over_close``, ``libreoffice_over_close`` (the same
three for ``dollarize``), ``reclose_over_floor`` and ``reclose_over_close``
(``verify_over_floor`` once a verify contender runs); size S also carries ``s_close_s`` and
``s_close_max_s``, the median and slowest close of a small plan, interpreter start included.
The floor is a stand-alone process that imports neither sopfin nor pandas. A run stopped at
its time limit counts as the limit, a lower bound: a median it reaches is marked
``timed_out`` and makes every ratio it enters a bound, listed under ``bounds``.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import shutil
import statistics
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class Sample:
    seconds: float
    peak_mib: float
    ok: bool
    detail: str = ""  # stdout (or the error) of the run
    stderr: str = ""
    timed_out: bool = False
    pss_mib: float = math.nan  # all its processes together, sampled (``measure.session_pss``)


def summarise(samples: list[Sample]) -> dict[str, float | int | bool | None]:
    """Median, min and max seconds over the runs that finished or were stopped at their limit
    (failed runs count only when nothing else is left). A stopped run counts as its limit;
    ``timed_out`` says the median would be larger had it run on, i.e. it is a lower bound;
    ``capped_runs`` and ``failed_runs`` count the stopped and the failed runs."""
    ok = [s for s in samples if s.ok]
    capped = [s for s in samples if s.timed_out]
    pool = ok + capped or samples
    secs = [s.seconds for s in pool]
    unbounded = [math.inf if s.timed_out else s.seconds for s in pool]
    peaks = [s.peak_mib for s in pool if s.peak_mib == s.peak_mib]  # none for a stopped run
    together = [s.pss_mib for s in pool if s.pss_mib == s.pss_mib]
    return {"median_s": round(statistics.median(secs), 4), "min_s": round(min(secs), 4),
            "max_s": round(max(secs), 4), "peak_mib": round(max(peaks), 1) if peaks else None,
            "peak_pss_mib": round(max(together), 1) if together else None,
            "runs": len(samples), "ok": len(ok) == len(samples),
            "timed_out": bool(capped) and statistics.median(unbounded) != statistics.median(secs),
            "capped_runs": len(capped), "failed_runs": len(samples) - len(ok) - len(capped)}


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b and a == a and b == b else None


def median_steps(timings: list[dict[str, float]]) -> dict[str, float]:
    names = list(dict.fromkeys(k for t in timings for k in t))
    return {k: round(statistics.median(t.get(k, 0.0) for t in timings), 4) for k in names}


# (key, numerator, denominator): every ratio a size entry carries, in this order
RATIOS = (("close_over_floor", "close", "floor"),
          ("openpyxl_over_close", "openpyxl", "close"),
          ("libreoffice_over_close", "libreoffice", "close"),
          ("dollarize_over_floor", "dollarize", "floor"),
          ("openpyxl_over_dollarize", "openpyxl", "dollarize"),
          ("libreoffice_over_dollarize", "libreoffice", "dollarize"),
          ("reclose_over_floor", "reclose", "floor"),
          ("reclose_over_close", "reclose", "close"),
          ("verify_over_floor", "verify", "floor"),  # once a verify contender runs
          ("diff_over_floor", "diff", "floor"),
          ("check_over_floor", "check", "floor"))

# (key, size, contender, statistic): single figures a size entry carries where they apply;
# small plans must close in under a second, interpreter start included
FIGURES = (("s_close_s", "S", "close", "median_s"),
           ("s_close_max_s", "S", "close", "max_s"))

# contenders whose time is fitted against the cells per measure
FITTED = ("close", "dollarize", "reclose")


def size_entry(size, table: dict[str, dict], steps: dict[str, dict[str, float]]) -> dict:
    """One size's record: its shape, contender summaries, step timings and ratios. A ratio
    whose numerator is a lower bound is itself a lower bound (``key >=`` under ``bounds``);
    one whose denominator is, an upper bound (``key <=``)."""
    entry = {"families": size.families, "channels": len(size.channels), "months": size.months,
             "scenarios": len(size.scenarios), "cells_per_measure": size.cells,
             "contenders": table, "steps": steps, "bounds": []}
    for key, top, bottom in RATIOS:
        if top not in table or bottom not in table:
            continue
        entry[key] = ratio(table[top]["median_s"], table[bottom]["median_s"])
        if table[top]["timed_out"]:
            entry["bounds"].append(f"{key} >=")  # the numerator was cut at the limit
        if table[bottom]["timed_out"]:
            entry["bounds"].append(f"{key} <=")
    for key, name, contender, statistic in FIGURES:
        if size.name == name and contender in table:
            entry[key] = table[contender][statistic]
    return entry


def linear_fit(sizes: dict[str, dict], contender: str) -> dict[str, float] | None:
    names = [n for n, e in sizes.items() if contender in e["contenders"]
             and e["contenders"][contender]["ok"]]
    if len(names) < 2:
        return None
    x = np.array([sizes[n]["cells_per_measure"] for n in names], dtype=float)
    y = np.array([sizes[n]["contenders"][contender]["median_s"] for n in names])
    slope, intercept = np.polyfit(x, y, 1)
    fitted = slope * x + intercept
    ss_res = float(((y - fitted) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum()) or 1.0
    return {"seconds_per_million_cells": round(float(slope) * 1e6, 3),
            "intercept_s": round(float(intercept), 3),
            "r_squared": round(1 - ss_res / ss_tot, 4),
            "residuals_s": {n: round(float(r), 3) for n, r in zip(names, y - fitted,
                                                                    strict=True)}}


def _version(dist: str, module: object) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return str(getattr(module, "__version__", "?"))


def machine() -> dict[str, str]:
    import pandas
    import python_calamine

    soffice = shutil.which("soffice")
    lo = ""
    if soffice:
        lo = subprocess.run([soffice, "--version"], capture_output=True, text=True,
                            timeout=60).stdout.strip()
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
    mem = ""
    try:
        kib = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text()
                   .splitlines() if line.startswith("MemTotal"))
        mem = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": mem,
            "python": platform.python_version(), "os": platform.platform(),
            "numpy": np.__version__, "pandas": pandas.__version__,
            "python-calamine": _version("python-calamine", python_calamine), "openpyxl": opx,
            "libreoffice": lo, "python-isal": _isal_version(), "orjson": _orjson_version()}


def _orjson_version() -> str:
    """The float writer of the sheet XML when present (``sopfin.xlsx.floattext``)."""
    try:
        import orjson
    except ImportError:
        return "not installed (repr)"
    return str(getattr(orjson, "__version__", "?"))


def _isal_version() -> str:
    """The ISA-L deflate binding the writer uses when present (it sets the write speed)."""
    try:
        import isal
    except ImportError:
        return "not installed (zlib)"
    return str(getattr(isal, "__version__", "?"))


def build_results(sizes, tables: dict[str, dict], steps: dict[str, dict], udf: dict | None,
                  settings: dict, command: str = "python -m benchmarks.run --write") -> dict:
    """The whole record: date, machine, the command that ran, its settings, one entry per
    size, the linear fits and the worksheet-function timings."""
    out: dict = {"date": dt.date.today().isoformat(), "machine": machine(),
                 "command": command, "settings": settings,
                 "sizes": {}}
    for size in sizes:
        out["sizes"][size.name] = size_entry(size, tables[size.name], steps[size.name])
    out["linear_fit"] = {c: fit for c in FITTED
                         if (fit := linear_fit(out["sizes"], c))}
    if udf:
        out["udf"] = udf
    return out
