"""What every ``sopfin`` command shares: exit codes, the usage error, the one-line argparse
errors, progress and issue printing, and the options several commands take."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sopfin.model import Issue
from sopfin.terminal import issue_lines

EXIT_OK, EXIT_ISSUES, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line or the environment (exit code 2)."""


class Parser(argparse.ArgumentParser):
    """argparse with its errors on one line: what is wrong and where to read the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def progress(args: argparse.Namespace):
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        return lambda _msg: None
    if not (getattr(args, "verbose", False) or sys.stderr.isatty()):
        return lambda _msg: None
    return lambda msg: print(f"sopfin: {msg}", file=sys.stderr, flush=True)


def print_issues(issues: Sequence[Issue], workbook: str) -> None:
    for line in issue_lines(issues, workbook):
        print(line)


def print_timings(args: argparse.Namespace, timings) -> None:
    if getattr(args, "verbose", False):
        steps = ", ".join(f"{k} {v:.3f}s" for k, v in timings.steps.items())
        print(f"timings: {steps} (total {timings.total():.3f}s)", file=sys.stderr)


def print_lines(result, args: argparse.Namespace) -> int:
    for line in result.lines():
        print(line)
    timings = getattr(result, "timings", None)
    if timings is not None:
        print_timings(args, timings)
    return EXIT_OK if result.ok else EXIT_ISSUES


def remove_workbook(path: Path) -> None:
    """--force: remove the old workbook file, never a folder or a device."""
    from sopfin.xlsx.metadata import refuse_odd_target, refuse_unwritable

    refuse_odd_target(path)
    refuse_unwritable(path)
    path.unlink()


def verbosity_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("-v", "--verbose", action="store_true",
                   help="print each step as it runs, with timings")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")
