"""The benchmark record as the Markdown the harness prints and README.md shows.

Every figure says what it is: the *runs* column gives how many interleaved runs the medians
of a size come from (sopfin's commands and the floor / openpyxl and LibreOffice), a figure
from fewer runs carries ``(n=k)``, and a figure cut at a time limit is written ``> N``, a
lower bound, as is every ratio it enters.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.targets import targets_table

OURS = ("close", "reclose", "verify", "diff", "check", "dollarize", "floor")
OTHERS = ("openpyxl", "libreoffice")
LABELS = {"close": "close", "reclose": "re-close", "verify": "verify", "diff": "diff",
          "check": "check",
          "dollarize": "dollarize", "floor": "floor", "openpyxl": "openpyxl",
          "libreoffice": "LibreOffice"}

HEADER = ("size", "cells/measure", "runs (sopfin / others)", "close s (min-max)",
          "close peak MiB", "re-close s (min-max)", "re-close peak MiB", "dollarize s",
          "calamine floor s", "openpyxl s", "LibreOffice s", "close/floor", "re-close/floor",
          "re-close/close", "openpyxl/close", "LibreOffice/close")


def scheduled_runs(settings: dict, size: str) -> tuple[int | None, int | None]:
    """How many runs a size's sopfin contenders and its openpyxl / LibreOffice contenders
    were given (records written before ``--others-reps`` ran every contender equally)."""
    ours = settings.get("reps", {}).get(size)
    return ours, settings.get("others_reps", {}).get(size, ours)


def used_runs(c: dict) -> int:
    """The runs a median comes from: all but the failed ones."""
    return c.get("runs", 1) - c.get("failed_runs", 0)


def _count(c: dict, planned: int | None) -> str:
    """``(n=k)`` when a figure comes from fewer runs than planned (a run stopped at its limit
    is not repeated; a failed run is left out), with the failures counted."""
    used, failed = used_runs(c), c.get("failed_runs", 0)
    notes = [f"n={used}"] if planned is not None and used != planned else []
    notes += [f"{failed} failed"] if failed else []
    return f" ({'; '.join(notes)})" if notes else ""


def secs(c: dict | None, planned: int | None = None) -> str:
    """A median: ``> N`` when it is a lower bound, ``failed`` when no run succeeded."""
    if not c:
        return "-"
    if not used_runs(c):
        return f"failed ({c['runs']})"
    median = f"> {c['median_s']:.0f}" if c["timed_out"] else f"{c['median_s']:.2f}"
    return median + _count(c, planned)


def secs_range(c: dict | None, planned: int | None = None) -> str:
    """A median with its min-max range (none from a single run); a maximum cut at the limit
    reads ``> N``."""
    if not c or c["timed_out"] or used_runs(c) < 2:
        return secs(c, planned)
    span = (f"{c['min_s']:.2f} to > {c['max_s']:.0f}" if c.get("capped_runs")
            else f"{c['min_s']:.2f}-{c['max_s']:.2f}")
    return f"{c['median_s']:.2f} ({span}){_count(c, planned)}"


def mib(c: dict | None) -> str:
    """The largest process's peak, and all processes' together (PSS) where it was taken."""
    if not c or c.get("peak_mib") is None:
        return "-"
    together = c.get("peak_pss_mib")
    return f"{c['peak_mib']:.0f}" + (f" ({together:.0f})" if together is not None else "")


def ratio_text(entry: dict, key: str) -> str:
    if entry.get(key) is None:
        return "-"
    sign = next((b.split()[1] for b in entry["bounds"] if b.split()[0] == key), "")
    return {">=": "> ", "<=": "< "}.get(sign, "") + f"{entry[key]:.2f}"


def _row(cells) -> str:
    return "| " + " | ".join(cells) + " |"


def main_table(results: dict) -> list[str]:
    """One row per size: times, peaks and ratios."""
    settings = results.get("settings", {})
    lines = [_row(HEADER), "|" + "---|" * len(HEADER)]
    for name, e in results["sizes"].items():
        c = e["contenders"]
        ours, others = scheduled_runs(settings, name)
        runs = f"{ours} / {others}" if ours is not None else "?"
        lines.append(_row((
            name, f"{e['cells_per_measure']:,}", runs,
            secs_range(c.get("close"), ours), mib(c.get("close")),
            secs_range(c.get("reclose"), ours), mib(c.get("reclose")),
            secs(c.get("dollarize"), ours), secs(c.get("floor"), ours),
            secs(c.get("openpyxl"), others), secs(c.get("libreoffice"), others),
            *(ratio_text(e, k) for k in ("close_over_floor", "reclose_over_floor",
                                         "reclose_over_close", "openpyxl_over_close",
                                         "libreoffice_over_close")))))
    return lines


def steps_table(results: dict) -> list[str]:
    """Median step seconds of the first close and of the re-close, per size (``-`` where a
    command ran but no run finished, e.g. every run was stopped at its limit)."""
    commands = ("close", "reclose")
    names = list(dict.fromkeys(k for e in results["sizes"].values() for cmd in commands
                               for k in e["steps"].get(cmd, {})))
    lines = ["Steps of `sopfin close` on the fresh plan (close) and on the workbook it wrote "
             "(re-close), median seconds; the slowest in bold:", "",
             _row(("size", "command", *names)), "|---|---|" + "---|" * len(names)]
    for name, e in results["sizes"].items():
        for cmd in commands:
            st = e["steps"].get(cmd) or {}
            if not st and cmd not in e["contenders"]:
                continue
            slow = max(st, key=st.get) if st else ""
            lines.append(_row((name, LABELS[cmd], *(
                (f"**{st[k]:.2f}**" if k == slow else f"{st[k]:.2f}") if k in st else "-"
                for k in names))))
    return lines


def _limit(seconds: float | None) -> str:
    return "no limit" if seconds is None else f"{seconds:.0f} s"


def _reps_text(settings: dict, key: str) -> str:
    return "/".join(f"{n}={k}" for n, k in settings.get(key, {}).items()) or "?"


def legend(results: dict) -> list[str]:
    """What was measured, on what, how often, and what the marks mean."""
    m = results["machine"]
    st = results.get("settings", {})
    others = st.get("others_reps_text") or st.get("reps_text", "?")
    text = [
        f"Measured {results['date']} with `{results['command']}` on {m['cpu']} "
        f"({m['cores']} cores, {m.get('memory', '?')}), Python {m['python']}, numpy "
        f"{m['numpy']}, pandas {m['pandas']}, python-calamine {m['python-calamine']}, "
        + (f"python-isal {m['python-isal']}, " if "python-isal" in m else "")
        + (f"orjson {m['orjson']}, " if "orjson" in m else "")
        + f"openpyxl {m['openpyxl']}, {m['libreoffice'] or 'no LibreOffice'}.",
        "Each figure is the median of the interleaved runs in the *runs* column: "
        f"{st.get('reps_text', '?')} for sopfin's commands and the floor, {others} for openpyxl "
        "and LibreOffice (`--others-reps`); `(n=k)` marks a figure from fewer runs (a failed "
        "run is left out and counted).",
        "`> N` is a lower bound: a run stopped at its time limit "
        f"({_limit(st.get('timeout_s'))} for sopfin and the floor, "
        f"{_limit(st.get('others_timeout_s'))} for openpyxl and LibreOffice) and not repeated "
        "for that size; a ratio it enters is a bound (`>` or `<`).",
        "*re-close* runs `sopfin close -v --force` again on the workbook that repetition's close "
        "wrote: it re-renders, reads its own output sheets back, verifies v001 and publishes "
        "v002, as every later close of a month does.",
        "Each contender is a separate process (wall time includes interpreter start; peak "
        "memory is the largest max RSS among its processes, and in brackets all its processes "
        "together: their proportional set sizes added up, sampled every 0.1 s, so memory a "
        "forked child shares with its parent counts once; above 400,000 cells sopfin "
        "deflates sheets in a second, forked process); openpyxl writes only the dollarize "
        "sheets' values, LibreOffice recalculates the workbook the first `sopfin close` wrote.",
    ]
    spent = st.get("harness_breakdown_s")
    if st.get("harness_seconds") is not None:
        parts = "" if not spent else " (" + ", ".join(
            f"{LABELS.get(k, k)} {v:.0f} s" for k, v in spent.items()) + ")"
        text.append(f"The whole run took {st['harness_seconds']:.0f} s{parts}.")
    return [" ".join(text)]


def format_table(results: dict) -> str:
    """The tables, the legend, the linear fits and the worksheet-function timings."""
    lines = [*main_table(results), "", *steps_table(results), "", *legend(results)]
    if results.get("targets"):
        lines += ["", "The performance targets (`benchmarks/targets.py`) against this run:", "",
                  *targets_table(results["targets"]), ""]
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
    """Replace the text between the benchmark markers of README.md with the table."""
    text = readme.read_text(encoding="utf-8")
    if mark_open not in text or mark_close not in text:
        return False
    head, rest = text.split(mark_open, 1)
    _, tail = rest.split(mark_close, 1)
    readme.write_text(f"{head}{mark_open}\n{format_table(results)}\n{mark_close}{tail}",
                      encoding="utf-8")
    return True
