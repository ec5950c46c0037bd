"""The performance targets, checked against a benchmark record.

Each target names a figure of one size's record in ``results.json`` (a ratio, a time, a
peak or a throughput), its limit and the side of the limit it must be on. ``evaluate`` gives
every target its figure and a status: ``met``, ``missed``, ``bound`` (the figure is a bound
on the wrong side to decide, e.g. a lower bound under an upper limit: a run was stopped at
its time limit) or ``not measured`` (the record has no such figure: a size or a contender
that did not run). The harness stores the list under ``targets`` and prints it with the
table.
"""

from __future__ import annotations

from dataclasses import dataclass

MET, MISSED, BOUND, NOT_MEASURED = "met", "missed", "bound", "not measured"


@dataclass(frozen=True)
class Target:
    what: str  # the target as a reader says it
    size: str
    key: str  # a key of the size's record, or contender.statistic
    limit: float
    at_least: bool = False  # the figure must reach the limit (a throughput), not stay under it
    unit: str = "x"


TARGETS = (
    Target("S close, median, interpreter start included", "S", "s_close_s", 1.0, unit="s"),
    Target("S close, slowest run", "S", "s_close_max_s", 1.2, unit="s"),
    Target("L close / floor", "L", "close_over_floor", 6.0),
    Target("L close peak memory, all processes together", "L", "close.peak_pss_mib", 1024.0,
           unit="MiB"),
    Target("L close peak memory, largest process", "L", "close.peak_mib", 1024.0, unit="MiB"),
    Target("L re-close / close", "L", "reclose_over_close", 1.1),
    Target("L verify / floor", "L", "verify_over_floor", 1.5),
    Target("L diff / floor", "L", "diff_over_floor", 1.5),
    Target("L check / floor", "L", "check_over_floor", 1.3),
    Target("twelfth close / first, M", "M", "year_close_growth", 1.1),
    Target("twelfth verify / first, M", "M", "year_verify_growth", 1.1),
    Target("close peak memory, twelfth / first, M", "M", "year_close_peak_growth", 1.1),
    Target("verify peak memory, twelfth / first, M", "M", "year_verify_peak_growth", 1.1),
    Target("write, formula cells per CPU second with deflate, M", "M",
           "write_formula_cells_per_s", 2_000_000.0, at_least=True, unit="/s"),
)


def figure_of(entry: dict, key: str) -> tuple[float | None, str]:
    """A size record's figure and its bound mark: '>=' (a lower bound), '<=' or ''."""
    if "." in key:
        contender, statistic = key.split(".", 1)
        c = entry.get("contenders", {}).get(contender)
        if not c:
            return None, ""
        return c.get(statistic), ">=" if c.get("timed_out") else ""
    mark = next((b.split()[1] for b in entry.get("bounds", []) if b.split()[0] == key), "")
    return entry.get(key), mark


def status(target: Target, figure: float | None, mark: str) -> str:
    if figure is None:
        return NOT_MEASURED
    if target.at_least:
        good, beyond = figure >= target.limit, mark == "<="
    else:
        good, beyond = figure <= target.limit, mark == ">="
    if good and beyond:  # the figure could be on the wrong side of the limit
        return BOUND
    if not good and mark and not beyond:  # e.g. an upper bound above an upper limit
        return BOUND
    return MET if good else MISSED


def evaluate(results: dict, targets: tuple[Target, ...] = TARGETS) -> list[dict]:
    """Every target with its figure, limit and status, in the order of ``targets``."""
    out = []
    for t in targets:
        figure, mark = figure_of(results.get("sizes", {}).get(t.size, {}), t.key)
        out.append({"target": t.what, "size": t.size, "key": t.key, "figure": figure,
                    "bound": mark or None, "limit": t.limit,
                    "rule": ">=" if t.at_least else "<=", "unit": t.unit,
                    "status": status(t, figure, mark)})
    return out


def _number(value: float, unit: str) -> str:
    if unit == "/s":
        return f"{value / 1e6:.2f}M/s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:.2f} s" if unit == "s" else f"{value:.2f}"


def targets_table(rows: list[dict]) -> list[str]:
    """The targets as Markdown: what, the figure (``>``/``<`` on a bound), the limit, status."""
    lines = ["| target | figure | limit | status |", "|---|---|---|---|"]
    for r in rows:
        figure = "-" if r["figure"] is None else (
            {">=": "> ", "<=": "< "}.get(r["bound"] or "", "") + _number(r["figure"], r["unit"]))
        limit = ("at least " if r["rule"] == ">=" else "at most ") + _number(r["limit"], r["unit"])
        lines.append(f"| {r['target']} | {figure} | {limit} | {r['status']} |")
    return lines
