"""The ``sopfin`` command: a thin door into the pipeline.

Exit codes: 0 ok (warnings allowed), 1 issues in the plan data, 2 usage or environment
problem (file missing, locked, protected, not a workbook, unknown option).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from sopfin import __version__, layout
from sopfin.close.ledger import LedgerKeyError
from sopfin.close.window import FORMS as WINDOW_FORMS
from sopfin.close.window import WindowError, read_period
from sopfin.export.schema import FORMATS as EXPORT_FORMATS
from sopfin.model import Issue, Severity
from sopfin.plan.settings import Settings, SettingValueError, month_range, parse_month
from sopfin.terminal import format_headline, headline_records, issue_lines
from sopfin.xlsx.errors import WorkbookError
from sopfin.xlsx.limits import LimitSettingError

EXIT_OK, EXIT_ISSUES, EXIT_USAGE = 0, 1, 2
CLOSE_EXITS = ("Exit codes: 0 published, or nothing changed since the last version (nothing "
               "written); 1 not published: errors in the plan or finance sheets, versions "
               "that do not verify, or unexplained differences; 2 usage or environment "
               "problem (file missing, locked or not a workbook, a window it cannot read).")
VERIFY_EXITS = ("Exit codes: 0 every hash recomputes and every published tab is as written "
                "(with OTHER: the copies are the same, or one is ahead of the other); 1 "
                "something does not verify (a tampered cell, a broken link, a missing or "
                "extra tab, an overwritten formula), or the two copies have forked; 2 usage "
                "or environment problem (file missing or not a workbook, unreadable key).")
DIFF_EXITS = ("Exit codes: 0 the table of what moved; 2 a version the workbook does not hold "
              "(the message lists those it holds), or a usage or environment problem.")
CONSOLIDATE_EXITS = ("Exit codes: 0 every unit consolidated; 1 written, but incomplete: a "
                     "unit failed its checks, could not be read or lacks an FX rate (it is "
                     "listed with its issues and left out of the figures), or the FX table "
                     "has errors; 2 usage or environment problem (no workbooks, OUT exists, "
                     "an FX file without an FX sheet, an unreachable scheduler).")
EXPORT_EXITS = ("Exit codes: 0 exported; 1 errors in the plan or finance sheets, or versions "
                "that do not verify (nothing written); 2 usage or environment problem "
                "(file missing, open in a spreadsheet app, being written by another sopfin "
                "run or not a workbook; DIR not a previous sopfin export).")
DEFAULT_DEMO_PATH = "sopfin-demo.xlsx"


class UsageError(Exception):
    """A problem with the command line or the environment (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """argparse with its errors on one line: what is wrong and where to read the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _progress(args: argparse.Namespace):
    if getattr(args, "quiet", False) or getattr(args, "json", False):
        return lambda _msg: None
    if not (getattr(args, "verbose", False) or sys.stderr.isatty()):
        return lambda _msg: None
    return lambda msg: print(f"sopfin: {msg}", file=sys.stderr, flush=True)


def _print_issues(issues: Sequence[Issue], workbook: str) -> None:
    for line in issue_lines(issues, workbook):
        print(line)


def _overrides(result) -> tuple:
    """The named overrides the run read (the plan shown is the dollarized plan plus these)."""
    finance = getattr(result, "finance", None)
    return finance.overrides if finance is not None else ()


def _print_timings(args: argparse.Namespace, timings) -> None:
    if getattr(args, "verbose", False):
        steps = ", ".join(f"{k} {v:.3f}s" for k, v in timings.steps.items())
        print(f"timings: {steps} (total {timings.total():.3f}s)", file=sys.stderr)


def _settings_from_args(args: argparse.Namespace) -> Settings:
    values: dict[str, object] = {}
    try:
        if args.first_period:
            values["first_period"] = parse_month(args.first_period)
            values["current_cycle"] = values["first_period"]
    except SettingValueError as exc:
        raise UsageError(f"--first-period: {exc}") from None
    if args.horizon is not None:
        if not 1 <= args.horizon <= 240:
            raise UsageError("--horizon must be between 1 and 240 months")
        values["horizon"] = args.horizon
    if args.scenarios is not None:
        values["scenarios"] = tuple(s.strip() for s in args.scenarios.split(",") if s.strip())
        if not values["scenarios"]:
            raise UsageError("--scenarios needs at least one scenario name, e.g. base,upside")
    if args.company:
        values["company"] = args.company
    return Settings(**values)  # type: ignore[arg-type]


def _remove_workbook(path: Path) -> None:
    """--force: remove the old workbook file, never a folder or a device."""
    from sopfin.xlsx.metadata import refuse_odd_target, refuse_unwritable

    refuse_odd_target(path)
    refuse_unwritable(path)
    path.unlink()


def cmd_new(args: argparse.Namespace) -> int:
    from sopfin.xlsx.writer import create_workbook

    path = Path(args.path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UsageError(f"{path}: a new plan workbook must end in .xlsx")
    if path.exists() or path.is_symlink():
        if not args.force:
            raise UsageError(f"{path} exists; choose another name or pass --force to replace it")
        _remove_workbook(path)
    if args.demo:
        from sopfin.plan.demo import demo_sheets

        specs = demo_sheets()
    else:
        from sopfin.plan.blank_plan import plan_sheets

        specs = plan_sheets(_settings_from_args(args), channels=not args.no_channels)
    create_workbook(path, specs)
    kind = "demo plan" if args.demo else "blank plan"
    print(f"created {kind} workbook {path} with sheets: {', '.join(s.name for s in specs)}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    from sopfin.xlsx.lock import exclusive

    path = Path(args.path)
    with exclusive(path):
        return _init(args, path)


def _init(args: argparse.Namespace, path: Path) -> int:
    from sopfin.plan.blank_plan import plan_sheets
    from sopfin.plan.settings import parse_settings
    from sopfin.xlsx.read import read_raw_sheets
    from sopfin.xlsx.source import read_package
    from sopfin.xlsx.writer import sheet_names, write_sheets

    package = read_package(path)  # the one read of the file; the write refuses if it changed
    existing = set(sheet_names(package))
    settings = _settings_from_args(args)
    if layout.SETTINGS in existing:
        raw = read_raw_sheets(package, [layout.SETTINGS])[layout.SETTINGS]
        settings, issues = parse_settings(raw.rows)
        if any(i.severity is Severity.ERROR for i in issues):
            _print_issues(issues, path.name)
            return EXIT_ISSUES
    specs = [s for s in plan_sheets(settings, channels=not args.no_channels)
             if s.name not in existing]
    kept = [n for n in layout.PLAN_SHEET_NAMES if n in existing]
    if not specs:
        print(f"{path}: every input and finance sheet is already there; nothing to add")
        return EXIT_OK
    report = write_sheets(package, specs)
    months = month_range(settings.first_period, settings.horizon)
    print(f"added to {path}: {', '.join(s.name for s in specs)} "
          f"({months[0]}..{months[-1]}, {len(months)} months)")
    if kept:
        print(f"kept as they were: {', '.join(kept)}")
    for warning in report.warnings:
        print(f"warning: {warning}")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from sopfin.pipeline import check_with_finance

    result = check_with_finance(args.path, _progress(args))
    return _report(args, result, wrote=False)


def cmd_dollarize(args: argparse.Namespace) -> int:
    from sopfin.pipeline import UnknownScenarioError, run_dollarize

    try:
        result = run_dollarize(args.path, args.scenario or None, _progress(args),
                               discard_edits=args.discard_edits)
    except UnknownScenarioError as exc:
        raise UsageError(str(exc)) from None
    return _report(args, result, wrote=True)


def _report(args: argparse.Namespace, result, *, wrote: bool) -> int:
    name = Path(args.path).name
    code = EXIT_OK if result.ok else EXIT_ISSUES
    if getattr(args, "json", False):
        payload: dict[str, object] = {
            "workbook": str(args.path),
            "ok": result.ok,
            "issues": [i.to_dict() for i in result.issues],
        }
        if result.dollarized is not None and result.ok:
            payload["summary"] = headline_records(result.dollarized, _overrides(result))
            payload["written"] = result.written is not None
        payload["timings"] = {k: round(v, 4) for k, v in result.timings.steps.items()}
        print(json.dumps(payload, indent=2))
        return code
    if not result.ok:  # the result first, then the issues behind it
        print(f"{name}: not written; fix the errors listed below and run again" if wrote
              else f"{name}: errors found")
        _print_issues(result.issues, name)
        return code
    if wrote and result.dollarized is not None:
        print(format_headline(result.dollarized, result.plan.settings.currency,
                              _overrides(result)))
        print(f"{name}: wrote {', '.join(layout.OUTPUT_SHEET_NAMES)}")
        for warning in getattr(result.written, "warnings", ()) or ():
            print(f"warning: {warning}")
    elif not wrote:
        print(f"{name}: ok, ready to dollarize")
    _print_issues(result.issues, name)
    _print_timings(args, result.timings)
    return code


def cmd_import(args: argparse.Namespace) -> int:
    from sopfin.imports.command import (
        ImportUsageError,
        import_lines,
        import_payload,
        run_import,
    )
    from sopfin.imports.origin import Origin

    try:
        out = run_import(args.path, args.source, args.into, args.map, dry_run=args.dry_run,
                         origin=Origin(author=args.author or ""))
    except ImportUsageError as exc:
        raise UsageError(str(exc)) from None
    name = Path(args.path).name
    if args.json:
        print(json.dumps(import_payload(out), indent=2))
        return EXIT_OK if out.ok else EXIT_ISSUES
    if not out.ok:
        print(f"{name}: nothing imported; fix the errors listed below and run again")
        _print_issues(out.issues, name)
        return EXIT_ISSUES
    for line in import_lines(out, dry_run=args.dry_run):
        print(line)
    _print_issues(out.issues, name)
    return EXIT_OK


def cmd_allocate(args: argparse.Namespace) -> int:
    from sopfin.imports.allocation import allocation_lines, run_allocate
    from sopfin.imports.command import ImportUsageError
    from sopfin.imports.origin import Origin

    try:
        out = run_allocate(args.path, amount=args.amount, measure=args.measure, to=args.to,
                           by=args.by, window=args.window, dry_run=args.dry_run,
                           origin=Origin(command="allocate", author=args.author or ""))
    except ImportUsageError as exc:
        raise UsageError(str(exc)) from None
    name = Path(args.path).name
    if not out.ok:
        print(f"{name}: nothing allocated; fix the errors listed below and run again")
        _print_issues(out.issues, name)
        return EXIT_ISSUES
    for line in allocation_lines(out, dry_run=args.dry_run):
        print(line)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import ipaddress

    from sopfin.server.security import TokenConfigError, load_tokens

    root = Path(args.root)
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    try:
        tokens = load_tokens(args.tokens)
    except TokenConfigError as exc:
        raise UsageError(str(exc)) from None
    try:
        loopback = ipaddress.ip_address(args.host).is_loopback
    except ValueError:
        loopback = args.host == "localhost"
    if not loopback and not tokens.configured:
        raise UsageError(f"--host {args.host} would serve the workbooks beyond this machine "
                         "without a token; give --tokens FILE (or SOPFIN_API_TOKENS)")
    import uvicorn

    from sopfin.server.app import create_app

    print(f"sopfin serving {root.resolve()} at http://{args.host}:{args.port}/api/v1/workbooks "
          f"(documentation at /docs); {'tokens required' if tokens.configured else 'read only'}",
          flush=True)
    uvicorn.run(create_app(root, tokens, max_body=args.max_body), host=args.host,
                port=args.port, log_level="warning")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from sopfin.pipeline import run_dollarize
    from sopfin.plan.demo import demo_sheets
    from sopfin.xlsx.writer import create_workbook

    path = Path(args.path)
    if path.exists() or path.is_symlink():
        if not args.force:
            raise UsageError(f"{path} exists; pass --force to rebuild the demo workbook there")
        _remove_workbook(path)
    progress = _progress(args)
    progress(f"building the demo workbook {path}")
    create_workbook(path, demo_sheets())
    result = run_dollarize(path, None, progress)
    print(f"demo workbook: {path}")
    return _report(args, result, wrote=True)


def cmd_consolidate(args: argparse.Namespace) -> int:
    from sopfin.consolidate.report import json_payload, text_lines
    from sopfin.consolidate.run import ConsolidationError, consolidate, workbook_paths

    out = Path(args.out)
    if out.suffix.lower() != ".xlsx":
        raise UsageError(f"{out}: the consolidated workbook must end in .xlsx")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    if not len(args.currency) == 3 or not args.currency.isalpha():
        raise UsageError(f"--currency {args.currency!r}: expected a 3-letter code such as USD")
    try:
        paths = workbook_paths(args.workbooks, args.pattern, out)
        if out.exists() or out.is_symlink():
            if not args.force:
                raise UsageError(f"{out} exists; choose another name or pass --force to "
                                 "replace it")
            _remove_workbook(out)
        result = consolidate(out, paths, reporting=args.currency.upper(), fx=args.fx,
                             scheduler=args.scheduler, workers=args.workers,
                             progress=_progress(args))
    except ConsolidationError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(json_payload(result), indent=2))
    else:
        print("\n".join(text_lines(result)))
    return EXIT_OK if result.complete else EXIT_ISSUES


def _key(args: argparse.Namespace) -> bytes | None:
    import os

    from sopfin.close.ledger import LedgerKeyError, load_key

    try:
        return load_key(os.environ, getattr(args, "key_file", None))
    except LedgerKeyError as exc:
        raise UsageError(str(exc)) from None


def _print_lines(result, args: argparse.Namespace) -> int:
    for line in result.lines():
        print(line)
    timings = getattr(result, "timings", None)
    if timings is not None:
        _print_timings(args, timings)
    return EXIT_OK if result.ok else EXIT_ISSUES


def _print_data(result, args: argparse.Namespace, **extra: object) -> int:
    """--json: the reconciliation as data (``sopfin.close.result_data``), its issues and
    what the command said; nothing else on stdout."""
    from sopfin.close.result_data import issue_data, reconciliation_data

    payload: dict[str, object] = {"workbook": str(args.path), "command": args.command,
                                  "ok": result.ok}
    if result.reconciliation is not None:
        payload.update(reconciliation_data(result.reconciliation))
    payload.update(extra)
    payload["messages"] = list(result.messages)
    payload["issues"] = [issue_data(i) for i in [*result.issues, *result.findings]]
    print(json.dumps(payload, indent=2))
    return EXIT_OK if result.ok else EXIT_ISSUES


def cmd_reconcile(args: argparse.Namespace) -> int:
    from sopfin.close.publish import run_reconcile

    result = run_reconcile(args.path, window=args.window, progress=_progress(args))
    return _print_data(result, args) if args.json else _print_lines(result, args)


def _head_file_ready(args: argparse.Namespace) -> Path | None:
    """--head-file PATH, checked before anything is published: its folder must exist."""
    if not getattr(args, "head_file", None):
        return None
    path = Path(args.head_file)
    if path.is_dir() or not path.parent.is_dir():
        raise UsageError(f"--head-file {path}: not a file in an existing folder")
    return path


def _write_head(result, path: Path | None, say: bool = True) -> Path | None:
    """Write the head file; the path written, or None. ``say``: print what happened."""
    if path is None or not result.head_record:
        return None
    try:
        path.write_text(result.head_record, encoding="utf-8")
    except OSError as exc:
        message = (f"warning: could not write the head file {path}: {exc.strerror or exc}; "
                   f"keep the head above by hand")
        print(message) if say else print(message, file=sys.stderr)
        return None
    if say:
        print(f"ledger head written to {path}")
    return path


def cmd_close(args: argparse.Namespace) -> int:
    from sopfin.close.publish import run_close

    head_file = _head_file_ready(args)
    result = run_close(args.path, author=args.author, window=args.window,
                       allow_unexplained=args.allow_unexplained, key=_key(args),
                       progress=_progress(args), force=args.force)
    if args.json:
        written = _write_head(result, head_file, say=False)
        return _print_data(result, args, version=result.version or None,
                           published=result.head != "", head=result.head or None,
                           head_file=str(written) if written else None)
    code = _print_lines(result, args)
    _write_head(result, head_file)
    return code


def cmd_approve(args: argparse.Namespace) -> int:
    from sopfin.close.ledger import AlreadyApprovedError, UnknownVersionError
    from sopfin.close.publish import run_approve

    if not args.by.strip():
        raise UsageError("--by needs the name of who approves")
    head_file = _head_file_ready(args)
    try:
        result = run_approve(args.path, version=args.version, by=args.by, key=_key(args))
    except (UnknownVersionError, AlreadyApprovedError) as exc:
        raise UsageError(str(exc)) from None
    code = _print_lines(result, args)
    _write_head(result, head_file)
    return code


def cmd_rekey(args: argparse.Namespace) -> int:
    from sopfin.close.publish import run_rekey

    return _print_lines(run_rekey(args.path, key=_key(args), confirm=args.confirm), args)


def _kept_head(args: argparse.Namespace) -> str | None:
    from sopfin.close.provenance import HeadFormatError, parse_head

    try:
        if args.head:
            return parse_head(args.head, "--head")
        if args.head_file:
            path = Path(args.head_file)
            return parse_head(path.read_text(encoding="utf-8", errors="replace")[:4096],
                              f"--head-file {path}")
    except OSError as exc:
        raise UsageError(f"--head-file {args.head_file}: {exc.strerror or exc}") from None
    except HeadFormatError as exc:
        raise UsageError(str(exc)) from None
    return None


def cmd_verify(args: argparse.Namespace) -> int:
    from sopfin.close.verify import run_verify

    return _print_lines(run_verify(args.path, args.other, key=_key(args),
                                   head=_kept_head(args), deep=args.deep), args)


def _version(text: str) -> int:
    digits = text.lower().removeprefix("recon ").removeprefix("v")
    if not digits.isdigit():
        raise argparse.ArgumentTypeError(f"expected a version like v001 or 1, got {text!r}")
    return int(digits)


def _window(text: str) -> str:
    """--window is checked for its form before any work; the plan's horizon is checked later."""
    try:
        read_period(text)
    except WindowError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def cmd_diff(args: argparse.Namespace) -> int:
    from sopfin.close.ledger import UnknownVersionError
    from sopfin.close.verify import run_diff

    try:
        result = run_diff(args.path, args.version_a, args.version_b)
    except UnknownVersionError as exc:
        raise UsageError(str(exc)) from None
    return _print_lines(result, args)


def cmd_export(args: argparse.Namespace) -> int:
    from sopfin.export.door import run_export
    from sopfin.export.files import ExportTargetError

    try:
        result = run_export(args.path, args.to, args.format, _progress(args))
    except ExportTargetError as exc:
        raise UsageError(str(exc)) from None
    return _print_lines(result, args)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="sopfin",
        description="Dollarize an S&OP plan workbook in place: revenue, COGS, inventory and "
                    "cash as live formulas that trace back to the unit plan.",
        epilog="Exit codes: 0 ok, 1 issues in the plan data, 2 usage or environment problem.")
    parser.add_argument("--version", action="version", version=f"sopfin {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("-v", "--verbose", action="store_true",
                       help="print each step as it runs, with timings")
        p.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    def settings_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--first-period", metavar="YYYY-MM", help="first month of the horizon")
        p.add_argument("--horizon", type=int, metavar="N", help="number of months")
        p.add_argument("--scenarios", metavar="A,B,C", help="scenario names, comma-separated")
        p.add_argument("--company", help="company name for the Settings sheet")
        p.add_argument("--no-channels", action="store_true",
                       help="Demand and Prices without a Channel column")

    p = sub.add_parser("new", help="create a new plan workbook (blank, or --demo data)",
                       description="Create a new plan workbook with empty input sheets, or "
                                   "with the demo company's data (--demo).")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--demo", action="store_true", help="fill it with the demo plan")
    p.add_argument("--force", action="store_true", help="replace PATH if it exists")
    settings_opts(p)
    common(p)
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("init", help="add the input sheets to an existing workbook",
                       description="Add the missing input sheets (headers and months, no "
                                   "data) to a workbook you already have. Nothing else in "
                                   "it changes.")
    p.add_argument("path", metavar="PATH")
    settings_opts(p)
    common(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("check", help="validate the plan data; write nothing",
                       description="Read and validate the input sheets and list every issue "
                                   "with its sheet and cell. Writes nothing.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--json", action="store_true", help="issues as JSON on stdout")
    common(p)
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("dollarize", help="write revenue, COGS, inventory and cash sheets",
                       description="Validate, dollarize and write the output sheets (Revenue, "
                                   "COGS, Inventory, Cash, Summary, Issues) into the workbook "
                                   "as live formulas. With any error nothing is written.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--scenario", action="append", metavar="S",
                   help="only this scenario (repeat for several); default: all")
    p.add_argument("--discard-edits", action="store_true",
                   help="overwrite cells changed since sopfin wrote them (refused otherwise), "
                        "recording each on the Issues sheet and the next close's ledger entry")
    p.add_argument("--json", action="store_true", help="issues and summary as JSON on stdout")
    common(p)
    p.set_defaults(func=cmd_dollarize)

    def key_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument("--key-file", metavar="FILE",
                       help="secret key for the ledger HMAC (default: $SOPFIN_KEY or "
                            "$SOPFIN_KEY_FILE); keep it outside the workbook")

    def head_out(p: argparse.ArgumentParser) -> None:
        p.add_argument("--head-file", metavar="PATH",
                       help="also write the new ledger head to PATH (keep it outside the "
                            "workbook; verify --head-file reads it)")

    window_help = f"months the bridge covers (default Horizon): {WINDOW_FORMS}"
    json_help = ("print the result as data on stdout: plan, budget, gap, the bridge lines, "
                 "working capital, stranded and excess stock, issues (docs/workbook.md)")
    p = sub.add_parser("reconcile", help="dollarize and show the bridge to budget",
                       description="Dollarize, then reconcile the plan scenario to budget and "
                                   "print the bridge. Publishes nothing.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--window", default="Horizon", type=_window, help=window_help)
    p.add_argument("--json", action="store_true", help=json_help)
    common(p)
    p.set_defaults(func=cmd_reconcile)

    p = sub.add_parser("close", help="publish a new locked, versioned reconciliation",
                       description="Check, dollarize and reconcile, then publish a new "
                                   "version: a protected 'Recon vNNN' tab with frozen values "
                                   "and an entry in the hash-chained version ledger. A close "
                                   "with the same inputs, settings, author and window as the "
                                   "last version publishes nothing (--force to publish).",
                       epilog=CLOSE_EXITS)
    p.add_argument("path", metavar="PATH")
    p.add_argument("--author", help="who publishes (default: the OS user)")
    p.add_argument("--window", default="Horizon", type=_window, help=window_help)
    p.add_argument("--allow-unexplained", action="store_true",
                   help="publish even with silent overrides, recording them on the version")
    p.add_argument("--force", action="store_true",
                   help="publish a new version even when nothing changed since the last one")
    p.add_argument("--json", action="store_true", help=json_help)
    key_opt(p)
    head_out(p)
    common(p)
    p.set_defaults(func=cmd_close)

    p = sub.add_parser("approve", help="mark a published version as the plan of record",
                       description="Append an approval for version N to the ledger.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--version", type=_version, required=True, metavar="N")
    p.add_argument("--by", required=True, metavar="NAME", help="who approves")
    key_opt(p)
    head_out(p)
    common(p)
    p.set_defaults(func=cmd_approve)

    p = sub.add_parser("verify", help="prove the versions are intact; compare two copies",
                       description="Recompute every hash of the ledger and the published "
                                   "tabs; report tampered cells, broken links, missing tabs "
                                   "and overwritten formulas. With OTHER, say whether the "
                                   "copies are the same, which is ahead, or where they forked.",
                       epilog=VERIFY_EXITS)
    p.add_argument("path", metavar="PATH")
    p.add_argument("other", metavar="OTHER", nargs="?")
    key_opt(p)
    kept = p.add_mutually_exclusive_group()
    kept.add_argument("--head", metavar="HASH",
                      help="a ledger head you kept (close prints it): fail if this copy "
                           "does not hold it, i.e. it was rolled back")
    kept.add_argument("--head-file", metavar="PATH",
                      help="read that head from a file (close --head-file writes it)")
    p.add_argument("--deep", action="store_true",
                   help="re-hash every published tab cell by cell, also those whose part is "
                        "byte for byte the one written (the ledger records its digest)")
    common(p)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("rekey", help="sign unsigned ledger entries with the key",
                       description="Sign with the ledger key every ledger entry that carries "
                                   "no HMAC: the recovery after a close or approve without "
                                   "the key (older sopfin), or the start of a key on a ledger "
                                   "written without one. Lists the entries; writes only with "
                                   "--confirm.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--confirm", action="store_true",
                   help="sign the listed entries (check first that they are yours)")
    key_opt(p)
    common(p)
    p.set_defaults(func=cmd_rekey)

    p = sub.add_parser("diff", help="what moved between two published versions",
                       description="Totals by family and measure that changed between two "
                                   "versions, in units and dollars, largest first.",
                       epilog=DIFF_EXITS)
    p.add_argument("path", metavar="PATH")
    p.add_argument("version_a", type=_version, metavar="vA")
    p.add_argument("version_b", type=_version, metavar="vB")
    common(p)
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("import", help="load a CSV, Parquet or .xlsx export into an input sheet",
                       description="Load a flat table exported from an ERP, a GL or a "
                                   "spreadsheet into an input sheet (Actuals, Budget, ...). "
                                   "The imported months are replaced, never added twice; "
                                   "with any error nothing is written.")
    p.add_argument("path", help="the plan workbook")
    p.add_argument("source", help="the export: .csv, .parquet or .xlsx")
    p.add_argument("--into", required=True, metavar="SHEET",
                   help="Actuals, Budget, Forecast, Demand, Supply, Prices or PlannedVariances")
    p.add_argument("--map", required=True, metavar="MAP",
                   help="a mapping file (TOML, see docs/import.md) or preset:NAME "
                        "(netsuite-sales, quickbooks-sales-by-product, sap-billing-items, "
                        "gl-trial-balance)")
    p.add_argument("--dry-run", action="store_true", help="say what would change; write nothing")
    p.add_argument("--author", help="who imports, as the next close records it (default: the "
                                    "OS user)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("allocate", help="spread a top-down amount over Budget rows by a driver",
                       description="Spread AMOUNT over the families' Budget rows of a measure "
                                   "(or opex over the departments and, beneath each, its "
                                   "accounts) for the months of a window, in proportion to a "
                                   "driver, so the cells sum to the amount to the cent.")
    p.add_argument("path", help="the plan workbook")
    p.add_argument("--amount", required=True, type=float, help="the amount to allocate")
    p.add_argument("--measure", required=True, metavar="MEASURE",
                   help="revenue, units or cogs to families; opex to departments")
    p.add_argument("--to", default="families",
                   help="families (default) or departments (the lines of sheet Opex)")
    p.add_argument("--by", required=True, metavar="DRIVER",
                   help="equal, budget_units, revenue (the plan's) or prior_actuals; to "
                        "departments also headcount (Opex's Headcount column)")
    p.add_argument("--window", default="Horizon", metavar="W",
                   help="the months to fill, as for close (default Horizon)")
    p.add_argument("--dry-run", action="store_true", help="show the rows; write nothing")
    p.add_argument("--author", help="who allocates, as the next close records it (default: "
                                    "the OS user)")
    p.set_defaults(func=cmd_allocate)

    p = sub.add_parser("serve", help="serve the plan workbooks of a folder over HTTP",
                       description="An HTTP API over the plan workbooks in --root: reports, "
                                   "costs, what-ifs, actuals, budget allocation, versions. "
                                   "OpenAPI documentation at /docs.")
    p.add_argument("--root", required=True, metavar="DIR", help="the folder of workbooks")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (loopback)")
    p.add_argument("--port", type=int, default=8750, help="port (default 8750)")
    p.add_argument("--tokens", metavar="FILE",
                   help="bearer tokens (TOML, see docs/api.md); or SOPFIN_API_TOKENS")
    p.add_argument("--max-body", type=int, default=1 << 20, metavar="BYTES",
                   help="largest request body accepted (default 1 MiB)")
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("consolidate", help="consolidate business units' workbooks into one",
                       description="Read and dollarize every business unit's plan workbook, "
                                   "translate each into the reporting currency and write a "
                                   "new consolidated workbook OUT (Summary, Bridge, Units, "
                                   "Issues), with the facts in OUT.duckdb beside it.",
                       epilog=CONSOLIDATE_EXITS)
    p.add_argument("out", metavar="OUT.xlsx")
    p.add_argument("workbooks", metavar="BU.xlsx", nargs="*")
    p.add_argument("--from", dest="pattern", metavar="GLOB",
                   help="also every workbook this pattern matches, e.g. 'plans/*.xlsx'")
    p.add_argument("--currency", default="USD", metavar="CUR",
                   help="reporting currency (default USD)")
    p.add_argument("--fx", metavar="FX.xlsx|FX.csv",
                   help="rates to the reporting currency: a workbook's FX sheet or a CSV with "
                        "Currency, Month, Average, Closing")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the per-workbook tasks on this Dask distributed scheduler")
    p.add_argument("--workers", type=int, metavar="N",
                   help="local worker processes (default: one per core)")
    p.add_argument("--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--json", action="store_true", help="units, figures and issues as JSON")
    common(p)
    p.set_defaults(func=cmd_consolidate)
    p = sub.add_parser("export", help="write a star schema for Power BI, Tableau or DuckDB",
                       description="Write the live plan and every published version (read "
                                   "from its frozen Recon tab) as a star schema: one long "
                                   "fact table and its dimension tables, one file each, into "
                                   "DIR (replacing a previous export there, never a folder "
                                   "of yours). Schema: docs/export.md.",
                       epilog=EXPORT_EXITS)
    p.add_argument("path", metavar="PATH")
    p.add_argument("--to", required=True, metavar="DIR", help="the folder to write")
    p.add_argument("--format", choices=EXPORT_FORMATS, default=EXPORT_FORMATS[0],
                   help=f"file format (default {EXPORT_FORMATS[0]})")
    common(p)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="build the demo workbook and dollarize it",
                       description="Build the demo manufacturer's plan workbook, dollarize "
                                   "it and print revenue, margin, inventory and cash by "
                                   "scenario against budget.")
    p.add_argument("path", metavar="PATH", nargs="?", default=DEFAULT_DEMO_PATH)
    p.add_argument("--force", action="store_true", help="replace PATH if it exists")
    p.add_argument("--json", action="store_true", help="issues and summary as JSON on stdout")
    common(p)
    p.set_defaults(func=cmd_demo)
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


if __name__ == "__main__":
    raise SystemExit(main())
