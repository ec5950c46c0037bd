"""The ``sopfin`` command: a thin door into the pipeline.

Exit codes: 0 ok (warnings allowed), 1 issues in the plan data, 2 usage or environment
problem (file missing, locked, protected, not a workbook, unknown option). The commands live
by family: ``workbook_commands`` (new, init, check, dollarize, demo), ``close_commands``
(reconcile, close, approve, verify, rekey, diff) and ``data_commands`` (import, allocate,
export, consolidate, serve); ``common`` holds what they share.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Sequence

from sopfin import __version__
from sopfin.cli import close_commands, data_commands, workbook_commands
from sopfin.cli.common import EXIT_OK, EXIT_USAGE, Parser, UsageError
from sopfin.close.ledger import LedgerKeyError
from sopfin.close.window import WindowError
from sopfin.xlsx.errors import WorkbookError
from sopfin.xlsx.limits import LimitSettingError

__all__ = ["build_parser", "command", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="sopfin",
        description="Dollarize an S&OP plan workbook in place: revenue, COGS, inventory and "
                    "cash as live formulas that trace back to the unit plan.",
        epilog="Exit codes: 0 ok, 1 issues in the plan data, 2 usage or environment problem.")
    parser.add_argument("--version", action="version", version=f"sopfin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for family in (workbook_commands, close_commands, data_commands):
        family.add_commands(sub)
    return parser


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _refuse(args: argparse.Namespace, message: str) -> int:
    """Exit 2 with one line on stderr; with ``--json`` the same line as JSON on stdout."""
    message = " ".join(message.split())
    print(f"sopfin: {message}", file=sys.stderr)
    if getattr(args, "json", False):
        print(json.dumps({"workbook": str(getattr(args, "path", "")), "ok": False,
                          "error": message, "issues": []}, indent=2))
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (UsageError, WorkbookError, WindowError, LedgerKeyError, LimitSettingError) as exc:
        return _refuse(args, str(exc))
    except FileNotFoundError as exc:
        return _refuse(args, f"{exc.filename or exc}: no such file")
    except BrokenPipeError:  # the reader of our output went away (e.g. `| head`)
        _silence_stdout()
        return EXIT_OK
    except OSError as exc:  # the environment, not the plan: a device, a full disk, a loop
        return _refuse(args, f"{exc.filename or getattr(args, 'path', '')}: "
                             f"{exc.strerror or exc}")
    except KeyboardInterrupt:
        print("sopfin: interrupted; the workbook was not changed", file=sys.stderr)
        return EXIT_USAGE


def command(argv: Sequence[str] | None = None) -> int:
    """The ``sopfin`` process: ``main`` with the cyclic garbage collector off for a command
    that runs once and exits (``serve`` keeps it). A close allocates millions of small
    containers (grids, rows, cell records) that live until it ends; the collector would walk
    them again and again and find nothing to free (a fifth of an L close's CPU). Memory is
    still freed by reference counting, as always; only cycles wait for the process to end."""
    if _runs_once(sys.argv[1:] if argv is None else argv):
        gc.disable()
    return main(argv)


def _runs_once(argv: Sequence[str]) -> bool:
    """Whether the command the line names (its first word that is not an option) is one
    that runs once: any but ``serve``, whose server keeps the collector."""
    return next((word for word in argv if not word.startswith("-")), None) != "serve"
