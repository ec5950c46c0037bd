"""The workbook commands: ``new``, ``init``, ``check``, ``dollarize`` and ``demo``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sopfin import layout
from sopfin.cli.common import (
    EXIT_ISSUES,
    EXIT_OK,
    UsageError,
    print_issues,
    print_timings,
    progress,
    remove_workbook,
    verbosity_options,
)
from sopfin.model import Severity
from sopfin.plan.settings import Settings, SettingValueError, month_range, parse_month
from sopfin.terminal import format_headline, headline_records

DEFAULT_DEMO_PATH = "sopfin-demo.xlsx"


def cmd_new(args: argparse.Namespace) -> int:
    from sopfin.xlsx.writer import create_workbook

    path = Path(args.path)
    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        raise UsageError(f"{path}: a new plan workbook must end in .xlsx")
    if path.exists() or path.is_symlink():
        if not args.force:
            raise UsageError(f"{path} exists; choose another name or pass --force to replace it")
        remove_workbook(path)
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
            print_issues(issues, path.name)
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

    result = check_with_finance(args.path, progress(args))
    return _report(args, result, wrote=False)


def cmd_dollarize(args: argparse.Namespace) -> int:
    from sopfin.pipeline import UnknownScenarioError, run_dollarize

    try:
        result = run_dollarize(args.path, args.scenario or None, progress(args),
                               discard_edits=args.discard_edits)
    except UnknownScenarioError as exc:
        raise UsageError(str(exc)) from None
    return _report(args, result, wrote=True)


def cmd_demo(args: argparse.Namespace) -> int:
    from sopfin.pipeline import run_dollarize
    from sopfin.plan.demo import demo_sheets
    from sopfin.xlsx.writer import create_workbook

    path = Path(args.path)
    if path.exists() or path.is_symlink():
        if not args.force:
            raise UsageError(f"{path} exists; pass --force to rebuild the demo workbook there")
        remove_workbook(path)
    say = progress(args)
    say(f"building the demo workbook {path}")
    create_workbook(path, demo_sheets())
    result = run_dollarize(path, None, say)
    print(f"demo workbook: {path}")
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
        print_issues(result.issues, name)
        return code
    if wrote and result.dollarized is not None:
        print(format_headline(result.dollarized, result.plan.settings.currency,
                              _overrides(result)))
        print(f"{name}: wrote {', '.join(layout.OUTPUT_SHEET_NAMES)}")
        for warning in getattr(result.written, "warnings", ()) or ():
            print(f"warning: {warning}")
    elif not wrote:
        print(f"{name}: ok, ready to dollarize")
    print_issues(result.issues, name)
    print_timings(args, result.timings)
    return code


def _overrides(result) -> tuple:
    """The named overrides the run read (the plan shown is the dollarized plan plus these)."""
    finance = getattr(result, "finance", None)
    return finance.overrides if finance is not None else ()


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


def settings_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--first-period", metavar="YYYY-MM", help="first month of the horizon")
    p.add_argument("--horizon", type=int, metavar="N", help="number of months")
    p.add_argument("--scenarios", metavar="A,B,C", help="scenario names, comma-separated")
    p.add_argument("--company", help="company name for the Settings sheet")
    p.add_argument("--no-channels", action="store_true",
                   help="Demand and Prices without a Channel column")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("new", help="create a new plan workbook (blank, or --demo data)",
                       description="Create a new plan workbook with empty input sheets, or "
                                   "with the demo company's data (--demo).")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--demo", action="store_true", help="fill it with the demo plan")
    p.add_argument("--force", action="store_true", help="replace PATH if it exists")
    settings_options(p)
    verbosity_options(p)
    p.set_defaults(func=cmd_new)

    p = sub.add_parser("init", help="add the input sheets to an existing workbook",
                       description="Add the missing input sheets (headers and months, no "
                                   "data) to a workbook you already have. Nothing else in "
                                   "it changes.")
    p.add_argument("path", metavar="PATH")
    settings_options(p)
    verbosity_options(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("check", help="validate the plan data; write nothing",
                       description="Read and validate the input sheets and list every issue "
                                   "with its sheet and cell. Writes nothing.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--json", action="store_true", help="issues as JSON on stdout")
    verbosity_options(p)
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
    verbosity_options(p)
    p.set_defaults(func=cmd_dollarize)

    p = sub.add_parser("demo", help="build the demo workbook and dollarize it",
                       description="Build the demo manufacturer's plan workbook, dollarize "
                                   "it and print revenue, margin, inventory and cash by "
                                   "scenario against budget.")
    p.add_argument("path", metavar="PATH", nargs="?", default=DEFAULT_DEMO_PATH)
    p.add_argument("--force", action="store_true", help="replace PATH if it exists")
    p.add_argument("--json", action="store_true", help="issues and summary as JSON on stdout")
    verbosity_options(p)
    p.set_defaults(func=cmd_demo)
