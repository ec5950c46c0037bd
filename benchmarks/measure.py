"""Run one contender as its own process: its wall seconds, peak memory and output.

Each command runs through a small launcher in its own session, so the harness's own memory
never shows up in the contender's peak, and a run past its time limit is stopped together
with every helper it started.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import signal
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.report import Sample

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


PSS_EVERY_S = 0.1  # how often the memory of all a contender's processes is taken


def session_pss(session: int, leave_out: int) -> float:
    """MiB of proportional set size of every process in ``session`` but ``leave_out`` (the
    launcher), added up: a page a forked child still shares with its parent counts once,
    split between them, so the sum is what the processes hold together. NaN where /proc has
    no ``smaps_rollup`` (not Linux)."""
    total, seen = 0, False
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == leave_out:
            continue
        try:
            if os.getsid(int(entry.name)) != session:
                continue
            with open(f"/proc/{entry.name}/smaps_rollup", encoding="ascii") as fh:
                total += next(int(line.split()[1]) for line in fh if line.startswith("Pss:"))
            seen = True
        except (OSError, ValueError, StopIteration):
            continue  # gone, or not ours to read
    return total / 1024 if seen else math.nan


def measure(cmd: list[str], timeout: float) -> Sample:
    """Run cmd (through the launcher, in its own session): its wall seconds, the peak RSS
    of its largest process (``wait4`` counts the children the contender waited for) and the
    peak of all its processes together (``session_pss``, sampled every ``PSS_EVERY_S``). A run
    still going after ``timeout`` seconds (``math.inf``: no limit) is stopped and reported
    as timed out with the limit as its time, a lower bound."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report"
        pid = os.posix_spawn(sys.executable, [sys.executable, "-I", "-S", "-c", _LAUNCHER,
                                              str(report), *cmd], os.environ, setsid=True,
                             file_actions=[(os.POSIX_SPAWN_DUP2, out.fileno(), 1),
                                           (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
                                           (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)])
        deadline = time.perf_counter() + timeout
        together, sampled = math.nan, 0.0
        while not os.waitpid(pid, os.WNOHANG)[0]:
            if time.perf_counter() - sampled >= PSS_EVERY_S:
                now = session_pss(pid, leave_out=pid)
                if now == now and not together >= now:  # NaN: nothing taken (yet)
                    together = now
                sampled = time.perf_counter()
            if time.perf_counter() > deadline:
                os.killpg(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return Sample(timeout, math.nan, False, f"timed out after {timeout:.0f}s",
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
            return Sample(math.nan, math.nan, False, f"launcher failed: {stderr}")
        if int(code) != 0:
            detail += stderr[-2000:]
        return Sample(float(seconds), int(kib) / 1024, int(code) == 0, detail, stderr,
                      pss_mib=together)


def require_published(sample: Sample, version: int) -> Sample:
    """The sample, marked failed unless its output says it published Recon ``version``: a
    close that refused, or a re-close that found no earlier version, is not the run the
    figure claims to time."""
    if not sample.ok or re.search(rf"published\b.*\bv0*{version}\b", sample.detail):
        return sample
    return Sample(sample.seconds, sample.peak_mib, False,
                  f"did not publish v{version:03d}: {sample.detail[-1000:]}", sample.stderr,
                  pss_mib=sample.pss_mib)


_TIMING = re.compile(r"(\w+) ([0-9.]+)s")


def close_steps(sample: Sample) -> dict[str, float]:
    """Step timings from ``sopfin close -v``: 'timings: read 0.4s, ... (total 31.8s)'."""
    line = next((x for x in sample.stderr.splitlines() if x.startswith("timings:")), "")
    steps = line.split("(total")[0]
    return {k: float(v) for k, v in _TIMING.findall(steps)}


def dollarize_steps(sample: Sample) -> dict[str, float]:
    """Step timings from the ``timings`` object of ``sopfin dollarize --json``."""
    try:
        return json.loads(sample.detail).get("timings", {})
    except (json.JSONDecodeError, AttributeError):
        return {}
