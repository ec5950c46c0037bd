"""Benchmark results: the JSON record, the linear fit and the README table.

``results.json`` holds, for each size (``S``, ``M``, ``L``), every contender's median / min /
max seconds and peak MiB, the pipeline's step timings for ``dollarize`` and ``close``, and
the ratios ``close_over_floor``, ``openpyxl_over_close``, ``libreoffice_over_close`` (and the
same three for ``dollarize``). A contender stopped at the time limit keeps the limit as its
time, is marked ``timed_out`` and makes every ratio it enters a bound, listed under
``bounds``.
"""

from __future__ import annotations

import datetime as dt
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


def summarise(samples: list[Sample]) -> dict[str, float | int | bool]:
    ok = [s for s in samples if s.ok]
    pool = ok or samples
    secs = [s.seconds for s in pool]
    peaks = [s.peak_mib for s in pool if s.peak_mib == s.peak_mib]  # none for a stopped run
    return {"median_s": round(statistics.median(secs), 4), "min_s": round(min(secs), 4),
            "max_s": round(max(secs), 4), "peak_mib": round(max(peaks), 1) if peaks else None,
            "runs": len(samples), "ok": len(ok) == len(samples),
            "timed_out": not ok and any(s.timed_out for s in samples)}


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 2) if b and a == a and b == b else None


def median_steps(timings: list[dict[str, float]]) -> dict[str, float]:
    names = list(dict.fromkeys(k for t in timings for k in t))
    return {k: round(statistics.median(t.get(k, 0.0) for t in timings), 4) for k in names}


def size_entry(size, table: dict[str, dict], steps: dict[str, dict[str, float]]) -> dict:
    entry = {"families": size.families, "channels": len(size.channels), "months": size.months,
             "scenarios": len(size.scenarios), "cells_per_measure": size.cells,
             "contenders": table, "steps": steps, "bounds": []}
    for ours in ("close", "dollarize"):
        if ours not in table:
            continue
        t = table[ours]["median_s"]
        pairs = ((f"{ours}_over_floor", ours, "floor", t, table["floor"]["median_s"]),
                 (f"openpyxl_over_{ours}", "openpyxl", ours, None, t),
                 (f"libreoffice_over_{ours}", "libreoffice", ours, None, t))
        for key, top, bottom, num, den in pairs:
            if top not in table or bottom not in table:
                continue
            entry[key] = ratio(table[top]["median_s"] if num is None else num, den)
            if table[top]["timed_out"]:
                entry["bounds"].append(f"{key} >=")  # the numerator was cut at the limit
            if table[bottom]["timed_out"]:
                entry["bounds"].append(f"{key} <=")
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
            "libreoffice": lo}


def build_results(sizes, tables: dict[str, dict], steps: dict[str, dict], udf: dict | None,
                  settings: dict) -> dict:
    out: dict = {"date": dt.date.today().isoformat(), "machine": machine(),
                 "command": "python -m benchmarks.run --write", "settings": settings,
                 "sizes": {}}
    for size in sizes:
        out["sizes"][size.name] = size_entry(size, tables[size.name], steps[size.name])
    out["linear_fit"] = {c: fit for c in ("close", "dollarize")
                         if (fit := linear_fit(out["sizes"], c))}
    if udf:
        out["udf"] = udf
    return out


def _secs(c: dict | None) -> str:
    if not c:
        return "-"
    return f"> {c['median_s']:.0f}" if c["timed_out"] else f"{c['median_s']:.2f}"


def _mib(c: dict | None) -> str:
    return "-" if not c or c.get("peak_mib") is None else f"{c['peak_mib']:.0f}"


def _ratio_text(entry: dict, key: str) -> str:
    if entry.get(key) is None:
        return "-"
    sign = next((b.split()[1] for b in entry["bounds"] if b.split()[0] == key), "")
    return {">=": "> ", "<=": "< "}.get(sign, "") + f"{entry[key]:.2f}"


def format_table(results: dict) -> str:
    lines = ["| size | cells/measure | close s (min-max) | close peak MiB | dollarize s | "
             "calamine floor s | openpyxl s | LibreOffice s | close/floor | openpyxl/close | "
             "LibreOffice/close |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, e in results["sizes"].items():
        c = e["contenders"]
        close = c.get("close")
        close_text = "-" if not close else (
            f"{_secs(close)} ({close['min_s']:.2f}-{close['max_s']:.2f})")
        lines.append(
            f"| {name} | {e['cells_per_measure']:,} | {close_text} | "
            f"{_mib(close)} | {_secs(c.get('dollarize'))} | "
            f"{_secs(c.get('floor'))} | {_secs(c.get('openpyxl'))} | "
            f"{_secs(c.get('libreoffice'))} | {_ratio_text(e, 'close_over_floor')} | "
            f"{_ratio_text(e, 'openpyxl_over_close')} | "
            f"{_ratio_text(e, 'libreoffice_over_close')} |")
    lines += ["", "Steps of `sopfin close` (median seconds; the slowest in bold):", ""]
    names = list(dict.fromkeys(k for e in results["sizes"].values()
                               for k in e["steps"].get("close", {})))
    lines.append("| size | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for name, e in results["sizes"].items():
        st = e["steps"].get("close", {})
        slow = max(st, key=st.get) if st else ""
        cells = [(f"**{st[k]:.2f}**" if k == slow else f"{st[k]:.2f}") if k in st else "-"
                 for k in names]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    m = results["machine"]
    settings = results.get("settings", {})
    lines.append("")
    lines.append(
        f"Measured {results['date']} with `{results['command']}` on {m['cpu']} "
        f"({m['cores']} cores, {m.get('memory', '?')}), Python {m['python']}, numpy "
        f"{m['numpy']}, pandas {m['pandas']}, python-calamine {m['python-calamine']}, openpyxl "
        f"{m['openpyxl']}, {m['libreoffice'] or 'no LibreOffice'}. Medians of "
        f"{settings.get('reps_text', '?')} interleaved runs; each contender is a separate "
        "process (wall time includes interpreter start; peak memory is that process's max "
        "RSS). `> N` is a contender stopped at its time limit (its ratios are bounds); "
        "openpyxl writes only the dollarize sheets' values, LibreOffice recalculates the "
        "workbook `sopfin close` wrote.")
    for c, fit in results.get("linear_fit", {}).items():
        lines.append(f"Linear fit of `{c}` time over cells per measure: "
                     f"{fit['seconds_per_million_cells']} s per million cells + "
                     f"{fit['intercept_s']} s, R² = {fit['r_squared']}.")
    udf = results.get("udf")
    if udf:
        parts = [f"`{k.upper()}` on {v['shape']}: {v['median_ms']:.1f} ms"
                 for k, v in udf.items()]
        lines.append("One worksheet-function call as plain Python (median): "
                     + "; ".join(parts) + ".")
    return "\n".join(lines)


def write_readme(readme: Path, results: dict, mark_open: str, mark_close: str) -> bool:
    text = readme.read_text(encoding="utf-8")
    if mark_open not in text or mark_close not in text:
        return False
    head, rest = text.split(mark_open, 1)
    _, tail = rest.split(mark_close, 1)
    readme.write_text(f"{head}{mark_open}\n{format_table(results)}\n{mark_close}{tail}",
                      encoding="utf-8")
    return True
