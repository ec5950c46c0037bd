"""The benchmark harness: its statistics, its record, its table and its schedule.

The figures the harness publishes must say what they are: a median over stated runs, a lower
bound when a run was stopped at its limit, and every key the committed ``results.json`` has
must still be written (other checks read them).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import run
from benchmarks.measure import close_steps, measure, require_published
from benchmarks.report import Sample, build_results, median_steps, size_entry, summarise
from benchmarks.table import format_table, write_readme
from benchmarks.targets import evaluate

REPO = Path(__file__).resolve().parents[1]
COMMITTED = json.loads((REPO / "benchmarks" / "results.json").read_text(encoding="utf-8"))
CONTENDERS = ("close", "reclose", "dollarize", "floor", "openpyxl", "libreoffice")
LIMIT = 60.0


def finished(seconds: float, peak: float = 100.0, stderr: str = "") -> Sample:
    return Sample(seconds, peak, True, "", stderr)


def stopped(limit: float = LIMIT) -> Sample:
    return Sample(limit, math.nan, False, f"timed out after {limit:.0f}s", timed_out=True)


def failed(seconds: float) -> Sample:
    return Sample(seconds, 50.0, False, "boom")


# --- statistics -------------------------------------------------------------------------

@given(st.lists(st.floats(0.01, LIMIT - 0.01), max_size=6), st.integers(0, 4))
def test_a_median_is_a_bound_exactly_when_stopped_runs_reach_the_middle(times, capped):
    """Stopped runs are the slowest; sorted, they fill the top ``capped`` places, so the
    median depends on them exactly when they are at least half of the runs."""
    samples = [finished(t) for t in times] + [stopped() for _ in range(capped)]
    if not samples:
        return
    summary = summarise(samples)
    pool = sorted(times) + [LIMIT] * capped
    assert summary["median_s"] == round(statistics.median(pool), 4)
    assert summary["timed_out"] == (capped > 0 and 2 * capped >= len(pool))
    assert summary["capped_runs"] == capped
    assert summary["runs"] == len(samples)
    assert summary["ok"] == (capped == 0)


def test_failed_runs_count_only_when_nothing_else_is_left():
    assert summarise([finished(2.0), failed(0.1), finished(4.0)])["median_s"] == 3.0
    only_failed = summarise([failed(0.1), failed(0.3)])
    assert only_failed["median_s"] == 0.2 and not only_failed["ok"]
    assert not only_failed["timed_out"]


def test_a_stopped_run_has_no_peak_memory():
    assert summarise([stopped()])["peak_mib"] is None
    assert summarise([stopped(), finished(3.0, peak=70.0)])["peak_mib"] == 70.0


def test_step_medians_keep_every_step_seen():
    assert median_steps([{"read": 1.0, "write": 3.0}, {"read": 3.0}]) == {
        "read": 2.0, "write": 1.5}


# --- the record ---------------------------------------------------------------------------

def fake_runs(capped: tuple[str, ...] = ()) -> dict[str, list[Sample]]:
    """Two runs of sopfin's contenders and the floor, one of each alternative."""
    timings = "timings: read 0.5s, reconcile 2.0s, write 1.0s (total 3.5s)"
    base = {"close": 4.0, "reclose": 9.0, "verify": 2.0, "diff": 1.5, "check": 1.0,
            "dollarize": 3.0, "floor": 0.5,
            "openpyxl": 20.0,
            "libreoffice": 25.0}
    return {name: [stopped() if name in capped else finished(secs + rep, stderr=timings)
                   for rep in range(1 if name in ("openpyxl", "libreoffice") else 2)]
            for name, secs in base.items()}


def fake_results(monkeypatch, capped_at: dict[str, tuple[str, ...]] | None = None) -> dict:
    monkeypatch.setattr("benchmarks.report.machine", lambda: dict(COMMITTED["machine"]))
    capped_at = capped_at or {}
    sizes = list(run.SIZES.values())
    runs = {s.name: fake_runs(capped_at.get(s.name, ())) for s in sizes}
    tables = {n: {c: summarise(s) for c, s in r.items()} for n, r in runs.items()}
    steps = {n: run.step_medians(r) for n, r in runs.items()}
    settings = run.run_settings({"S": 2, "M": 2, "L": 2}, {"S": 1, "M": 1, "L": 1},
                                run.Limits(300.0, LIMIT), full=False)
    settings.update(harness_seconds=400.4,
                    harness_breakdown_s=run.time_spent(runs, setup=1.0, total=400.4))
    return build_results(sizes, tables, steps, COMMITTED["udf"], settings)


def key_paths(node, prefix: str = "") -> set[str]:
    if not isinstance(node, dict):
        return set()
    paths = set()
    for key, value in node.items():
        path = f"{prefix}/{key}"
        paths |= {path, *key_paths(value, path)}
    return paths


def test_every_committed_key_is_still_written(monkeypatch):
    """Step names (below ``steps/<command>/``) are the engine's to choose; the rest stays.
    The year of closes and the write speed add their own figures after the repetitions
    (``benchmarks.year``, ``benchmarks.write_speed``), and the targets are checked last."""
    results = fake_results(monkeypatch)
    results["targets"] = evaluate(results)
    missing = key_paths(COMMITTED) - key_paths(results)
    assert not {p for p in missing if not ("/steps/" in p and p.count("/") > 4)
                and "/year" not in p and "/write_" not in p}


def test_reclose_is_a_contender_with_its_steps_ratios_and_fit(monkeypatch):
    results = fake_results(monkeypatch)
    for entry in results["sizes"].values():
        assert entry["contenders"]["reclose"]["median_s"] == 9.5
        assert entry["steps"]["reclose"] == {"read": 0.5, "reconcile": 2.0, "write": 1.0}
        assert entry["reclose_over_floor"] == round(9.5 / 1.0, 2)
        assert entry["reclose_over_close"] == round(9.5 / 4.5, 2)
    assert set(results["linear_fit"]) == {"close", "dollarize", "reclose"}


def test_a_stopped_contender_makes_its_ratios_bounds(monkeypatch):
    results = fake_results(monkeypatch, {"L": ("reclose", "openpyxl")})
    entry = results["sizes"]["L"]
    assert entry["contenders"]["reclose"]["timed_out"]
    assert {"reclose_over_floor >=", "reclose_over_close >=", "openpyxl_over_close >=",
            "openpyxl_over_dollarize >="} == set(entry["bounds"])
    assert set(results["linear_fit"]["reclose"]["residuals_s"]) == {"S", "M"}


def test_ratio_keys_keep_the_committed_order():
    ours_too = (*CONTENDERS, "verify", "diff", "check")
    table = {c: summarise([finished(1.0 + i)]) for i, c in enumerate(ours_too)}
    entry = size_entry(run.SIZES["S"], table, {})
    committed = [k for k in COMMITTED["sizes"]["S"] if "_over_" in k]
    ours = [k for k in entry if "_over_" in k]
    assert ours[:len(committed)] == committed  # what results.json holds keeps its order
    for first in ("close_over_floor", "openpyxl_over_close", "libreoffice_over_close"):
        assert first in ours
    assert ours[-5:] == ["reclose_over_floor", "reclose_over_close",  # extensions come last
                         "verify_over_floor", "diff_over_floor", "check_over_floor"]


# --- the table ----------------------------------------------------------------------------

def test_the_table_states_runs_bounds_and_the_harness_time(monkeypatch):
    results = fake_results(monkeypatch, {"L": ("reclose", "libreoffice")})
    results["sizes"]["L"]["contenders"]["reclose"]["runs"] = 1  # stopped, not repeated
    text = format_table(results)
    row = next(line for line in text.splitlines() if line.startswith("| L | 1,080,000"))
    assert "| 2 / 1 |" in row
    assert "| > 60 (n=1) |" in row  # the re-close: a bound from one run
    assert "| > 60 |" in row  # LibreOffice: a bound from its one planned run
    assert row.endswith("| > 60.00 | > 13.33 | 4.44 | > 13.33 |")  # bounds where capped
    assert "| L | re-close |" in text and "| M | close |" in text
    assert "S=2/M=2/L=2 for sopfin's commands" in text
    assert "S=1/M=1/L=1 for openpyxl and LibreOffice" in text
    assert "60 s for openpyxl and LibreOffice" in text
    assert ("The whole run took 400 s (setup 1 s, close 27 s, re-close 158 s, verify 15 s, "
            "diff 12 s, check 9 s, dollarize 21 s, floor 6 s, openpyxl 60 s, LibreOffice 110 s, "
            "other 0 s).") in text


def test_the_table_still_renders_the_committed_record():
    text = format_table(COMMITTED)
    close = COMMITTED["sizes"]["M"]["contenders"]["close"]
    assert f"| {close['median_s']:.2f} (" in next(
        line for line in text.splitlines() if line.startswith("| M | 216,000 |"))
    assert "| L | close |" in text and "| re-close s (min-max) |" in text.splitlines()[0]


def test_write_readme_replaces_only_the_text_between_the_markers(tmp_path, monkeypatch):
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- B -->\nold table\n<!-- /B -->\noutro\n", encoding="utf-8")
    assert write_readme(readme, fake_results(monkeypatch), "<!-- B -->", "<!-- /B -->")
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("intro\n<!-- B -->\n| size |")
    assert text.endswith("\n<!-- /B -->\noutro\n") and "old table" not in text


# --- measuring ----------------------------------------------------------------------------

def test_measure_reports_wall_time_peak_and_output():
    sample = measure([sys.executable, "-c", "print('hello')"], math.inf)
    assert sample.ok and sample.detail.strip() == "hello"
    assert 0 < sample.seconds < 30 and sample.peak_mib > 1


_TWO_HOLDERS = """
import os, time
block = bytearray(os.urandom(1)) * (120 << 20)  # 120 MiB of the parent's own
if os.fork() == 0:
    mine = bytearray(os.urandom(1)) * (120 << 20)  # the child's own 120 MiB besides
    time.sleep(1.0)
    os._exit(0)
more = bytearray(os.urandom(1)) * (120 << 20)  # and the parent 120 MiB more of its own
os.wait()
"""


@pytest.mark.skipif(not Path("/proc/self/smaps_rollup").exists(), reason="needs Linux /proc")
def test_measure_adds_up_the_memory_of_every_process_of_a_run():
    """A parent and its forked child, each with 120 MiB of its own besides the 120 MiB they
    share: each process peaks near 240 MiB, the two together near 360 (the shared pages
    once)."""
    sample = measure([sys.executable, "-c", _TWO_HOLDERS], math.inf)
    assert sample.ok, sample.detail
    assert 200 < sample.peak_mib < 320
    assert sample.pss_mib > sample.peak_mib + 80


def test_measure_stops_a_run_at_its_limit():
    sample = measure([sys.executable, "-c", "import time; time.sleep(30)"], 0.5)
    assert sample.timed_out and not sample.ok and sample.seconds == 0.5


def test_require_published_checks_the_version_the_run_claims():
    out = "published Recon v002 (draft) for cycle 2027-01; ledger head ab12"
    assert require_published(Sample(1.0, 1.0, True, out), 2).ok
    wrong = require_published(Sample(1.0, 1.0, True, out), 1)
    assert not wrong.ok and "did not publish v001" in wrong.detail
    assert not require_published(Sample(1.0, 1.0, True, "nothing published"), 2).ok


def test_close_steps_read_the_timings_line():
    sample = finished(1.0, stderr="sopfin: read...\ntimings: read 0.4s, write 1.25s "
                                  "(total 1.65s)\n")
    assert close_steps(sample) == {"read": 0.4, "write": 1.25}


# --- the schedule -------------------------------------------------------------------------

def test_parse_reps_and_clamp_others():
    sizes = list(run.SIZES.values())
    assert run.parse_reps("3", sizes) == {"S": 3, "M": 3, "L": 3}
    assert run.parse_reps("S=5,M=2", sizes) == {"S": 5, "M": 2, "L": 1}
    assert run.clamp_others({"S": 5, "M": 1}, {"S": 2, "M": 3}) == {"S": 2, "M": 1}


def test_alternatives_run_only_in_their_repetitions_and_stopped_ones_not_again(
        monkeypatch, tmp_path):
    calls: list[tuple[str, int, frozenset[str]]] = []

    def fake_run_once(size, plan, values, work, limits, skip):
        rep = sum(1 for c in calls if c[0] == size.name)
        calls.append((size.name, rep, frozenset(skip)))
        names = [c for c in CONTENDERS if c not in skip]
        return {c: stopped() if (size.name, c) == ("M", "reclose") else finished(1.0)
                for c in names}

    monkeypatch.setattr(run, "run_once", fake_run_once)
    sizes = [run.SIZES["S"], run.SIZES["M"]]
    runs = run.run_all(sizes, {"S": tmp_path, "M": tmp_path}, {"S": tmp_path, "M": tmp_path},
                       {"S": 3, "M": 2}, {"S": 2, "M": 1}, run.Limits(5.0, 5.0))
    assert [(n, r) for n, r, _ in calls] == [("S", 0), ("M", 0), ("S", 1), ("M", 1), ("S", 2)]
    assert [len(runs["S"][c]) for c in CONTENDERS] == [3, 3, 3, 3, 2, 2]
    assert [len(runs["M"][c]) for c in CONTENDERS] == [2, 1, 2, 2, 1, 1]
    assert calls[3][2] == {"reclose", "openpyxl", "libreoffice"}


def test_time_spent_adds_up_to_the_total():
    runs = {"S": {"close": [finished(2.0), stopped(5.0)], "openpyxl": [finished(3.0)]}}
    spent = run.time_spent(runs, setup=1.0, total=12.0)
    assert spent == {"setup": 1.0, "close": 7.0, "openpyxl": 3.0, "other": 1.0}


def test_full_runs_everything_uncapped(monkeypatch):
    seen = {}

    def fake_run_all(sizes, plans, values, reps, others_reps, limits):
        seen.update(reps=reps, others=others_reps, limits=limits)
        raise SystemExit(0)

    monkeypatch.setattr(run, "run_all", fake_run_all)
    monkeypatch.setattr(run, "plan_workbook", lambda size: Path(f"{size.name}.xlsx"))
    monkeypatch.setattr(run, "output_values", lambda plan: plan)
    monkeypatch.setattr(run.subprocess, "run", lambda *a, **k: None)
    with pytest.raises(SystemExit):
        run.main(["--sizes", "S,M", "--reps", "S=3,M=2", "--full"])
    assert seen["others"] == {"S": 3, "M": 2}
    assert seen["limits"] == run.Limits(math.inf, math.inf)
    with pytest.raises(SystemExit):
        run.main(["--sizes", "S,M", "--reps", "S=3,M=2", "--others-timeout", "0"])
    assert seen["others"] == {"S": 1, "M": 1}
    assert seen["limits"] == run.Limits(300.0, math.inf)


# --- end to end on a tiny plan ------------------------------------------------------------

@pytest.fixture
def tiny_plan(tmp_path) -> Path:
    from sopfin.plan.demo import demo_sheets
    from sopfin.xlsx.writer import create_workbook

    path = tmp_path / "plan.xlsx"
    create_workbook(path, demo_sheets(families=6, months=12))
    return path


def test_reclose_republishes_the_workbook_the_close_wrote(tiny_plan, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    samples, closed = run.run_closes(run.Size("T", 6, 12), tiny_plan, work,
                                     run.Limits(120.0, 60.0), set())
    assert samples["close"].ok, samples["close"].detail
    assert samples["reclose"].ok, samples["reclose"].detail
    assert "v002" in samples["reclose"].detail
    assert close_steps(samples["reclose"]).keys() >= {"read", "reconcile", "write"}
    assert closed is not None and closed.exists()
    assert not (work / "T-reclose.xlsx").exists()  # the copy it re-closed is removed


def test_a_failed_close_leaves_nothing_to_reclose(tmp_path):
    broken = tmp_path / "plan.xlsx"
    broken.write_bytes(b"not a workbook")
    samples, closed = run.run_closes(run.Size("T", 6, 12), broken, tmp_path,
                                     run.Limits(120.0, 60.0), set())
    assert not samples["close"].ok and "reclose" not in samples and closed is None


def test_a_single_run_has_no_range_and_a_capped_maximum_reads_as_a_bound():
    from benchmarks.table import secs_range

    assert secs_range(summarise([finished(15.3)]), 1) == "15.30"
    assert secs_range(summarise([finished(15.3)]), 2) == "15.30 (n=1)"
    mixed = summarise([finished(40.0), finished(50.0), stopped()])
    assert secs_range(mixed, 3) == "50.00 (40.00 to > 60)"


def test_plans_of_other_generator_versions_are_left_in_place(monkeypatch, tmp_path, capsys):
    stale = tmp_path / "plan-T-000000000000.xlsx"
    stale.write_bytes(b"an earlier plan")
    monkeypatch.setattr(run, "CACHE", tmp_path)
    monkeypatch.setattr(run, "generator_fingerprint", lambda: "abcdefabcdef")
    path = run.plan_workbook(run.Size("T", 4, 12))
    assert path.name == "plan-T-abcdefabcdef.xlsx" and path.exists()
    assert stale.read_bytes() == b"an earlier plan"
    assert "plan-T-000000000000.xlsx" in capsys.readouterr().out


def test_failed_runs_are_counted_out_of_a_figure():
    from benchmarks.table import secs, secs_range

    one_of_two = summarise([failed(0.2), finished(18.6)])
    assert one_of_two["failed_runs"] == 1
    assert secs_range(one_of_two, 2) == "18.60 (n=1; 1 failed)"
    assert secs(summarise([failed(0.2), failed(0.3)]), 2) == "failed (2)"
    assert secs(summarise([finished(1.0), finished(2.0)]), 2) == "1.50"


def test_the_floor_reads_the_input_sheets_in_a_process_without_sopfin_or_pandas(tiny_plan):
    import subprocess

    from sopfin import layout
    from sopfin.xlsx.read import read_raw_sheets

    cmd = run.floor_command(tiny_plan)
    done = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True,
                          text=True, timeout=120, check=True)
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "python_calamine" in imported
    assert not imported & {"sopfin", "pandas", "benchmarks"}
    raw = read_raw_sheets(tiny_plan, layout.INPUT_SHEET_NAMES)
    assert int(done.stdout) == sum(len(row) for sheet in raw.values() for row in sheet.rows) > 0


def test_a_small_plan_s_close_is_recorded_with_its_slowest_run(monkeypatch):
    results = fake_results(monkeypatch)
    small = results["sizes"]["S"]
    assert (small["s_close_s"], small["s_close_max_s"]) == (4.5, 5.0)
    assert "s_close_s" not in results["sizes"]["M"]


def test_write_speed_counts_formula_cells_and_times_both_float_writers(tiny_plan, capsys):
    from benchmarks import write_speed

    assert write_speed.main([str(tiny_plan), "--reps", "1"]) == 0
    out = json.loads(capsys.readouterr().out)
    specs = write_speed.output_specs(str(tiny_plan))
    assert (out["cells"], out["formula_cells"]) == write_speed.cell_counts(specs)
    assert 0 < out["formula_cells"] < out["cells"] < out["xml_bytes"]
    for formatter in ("orjson", "python"):
        seconds = out[f"{formatter}_xml_and_deflate_cpu_s"]
        rate = out[f"{formatter}_xml_and_deflate_formula_cells_per_s"]
        assert seconds > 0 and rate == pytest.approx(out["formula_cells"] / seconds, rel=0.05)


def test_a_year_of_closes_reports_the_last_over_the_first():
    from benchmarks.year import year_figures

    timings = "timings: read 0.5s, ledger 0.2s, write 1.0s (total 1.7s)"
    runs = {"close": [finished(10.0 + k, stderr=timings) for k in range(3)],
            "verify": [finished(4.0, stderr=timings) for _ in range(3)]}
    figures = year_figures(runs, 3)
    assert figures["year_complete"]
    assert figures["year_close_growth"] == 1.2 and figures["year_verify_growth"] == 1.0
    assert figures["year"]["close_s"] == [10.0, 11.0, 12.0]
    assert figures["year"]["verify_ledger_s"] == [0.2, 0.2, 0.2]
    assert figures["year"]["close_pss_mib"] == [None, None, None]  # not sampled here
    together = [Sample(10.0, 100.0, True, "", timings, pss_mib=150.0 + k) for k in range(3)]
    sampled = year_figures({"close": together, "verify": runs["verify"]}, 3)
    assert sampled["year"]["close_pss_mib"] == [150.0, 151.0, 152.0]
    short = year_figures({"close": runs["close"][:2], "verify": runs["verify"][:2]}, 3)
    assert not short["year_complete"] and short["year_close_growth"] is None


# --- the targets ----------------------------------------------------------------------------

def test_every_target_gets_its_figure_and_a_status(monkeypatch):
    from benchmarks.targets import TARGETS, evaluate

    results = fake_results(monkeypatch)
    results["sizes"]["M"].update({"year_close_growth": 1.05, "year_verify_growth": 1.3,
                                  "write_formula_cells_per_s": 2_400_000})
    rows = {r["key"]: r for r in evaluate(results)}
    assert [r["target"] for r in evaluate(results)] == [t.what for t in TARGETS]
    assert rows["s_close_s"]["figure"] == 4.5 and rows["s_close_s"]["status"] == "missed"
    assert rows["year_close_growth"]["status"] == "met"
    assert rows["year_verify_growth"]["status"] == "missed"
    assert rows["write_formula_cells_per_s"]["status"] == "met"  # at least 2M
    assert rows["year_close_peak_growth"]["status"] == "not measured"
    peak = results["sizes"]["L"]["contenders"]["close"]["peak_mib"]
    assert rows["close.peak_mib"]["figure"] == peak


def test_a_bound_decides_a_target_only_on_the_side_it_bounds(monkeypatch):
    from benchmarks.targets import Target, evaluate

    results = fake_results(monkeypatch, {"L": ("reclose",)})  # re-close stopped: lower bounds
    entry = results["sizes"]["L"]
    assert "reclose_over_close >=" in entry["bounds"]
    under = Target("under", "L", "reclose_over_close", entry["reclose_over_close"] + 1)
    over = Target("over", "L", "reclose_over_close", entry["reclose_over_close"] - 1)
    rows = evaluate(results, (under, over))
    assert [r["status"] for r in rows] == ["bound", "missed"]  # at least the figure: too much
    assert rows[0]["bound"] == ">="


def test_the_table_lists_the_targets(monkeypatch):
    from benchmarks.targets import evaluate

    results = fake_results(monkeypatch)
    results["targets"] = evaluate(results)
    text = format_table(results)
    assert "| target | figure | limit | status |" in text
    assert "| S close, median, interpreter start included | 4.50 s | at most 1.00 s | missed |" \
        in text
    assert "| L check / floor | 1.50 | at most 1.30 | missed |" in text  # 1.5 s over 1.0 s
    assert "| write, formula cells per CPU second with deflate, M | - | at least 2.00M/s | " \
        "not measured |" in text


def test_the_harness_records_write_speed_through_the_chosen_formatters(tiny_plan, capsys):
    from benchmarks import write_speed

    assert write_speed.main([str(tiny_plan), "--reps", "1", "--formatters", "python"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {k.split("_xml")[0] for k in out if "_xml" in k} == {"python"}
    figures = run.run_write_speed(tiny_plan, run.Limits(300.0, LIMIT))
    assert figures["write_formatter"] in ("compiled", "python")
    assert figures["write_formula_cells"] == out["formula_cells"]
    assert figures["write_formula_cells_per_s"] > 0
    assert figures["write_python_formula_cells_per_s"] > 0
