"""The data commands: ``import``, ``allocate``, ``export``, ``consolidate`` and ``serve``:
figures in from the ERP, out to BI, across business units and to other systems."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sopfin.cli.common import (
    EXIT_ISSUES,
    EXIT_OK,
    UsageError,
    print_issues,
    print_lines,
    progress,
    remove_workbook,
    verbosity_options,
)
from sopfin.export.schema import FORMATS as EXPORT_FORMATS

CONSOLIDATE_EXITS = ("Exit codes: 0 every unit consolidated; 1 written, but incomplete: a "
                     "unit failed its checks, could not be read or lacks an FX rate (it is "
                     "listed with its issues and left out of the figures), or the FX table "
                     "has errors; 2 usage or environment problem (no workbooks, OUT exists, "
                     "an FX file without an FX sheet, an unreachable scheduler).")
EXPORT_EXITS = ("Exit codes: 0 exported; 1 errors in the plan or finance sheets, or versions "
                "that do not verify (nothing written); 2 usage or environment problem "
                "(file missing, open in a spreadsheet app, being written by another sopfin "
                "run or not a workbook; DIR not a previous sopfin export).")


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
        print_issues(out.issues, name)
        return EXIT_ISSUES
    for line in import_lines(out, dry_run=args.dry_run):
        print(line)
    print_issues(out.issues, name)
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
        print_issues(out.issues, name)
        return EXIT_ISSUES
    for line in allocation_lines(out, dry_run=args.dry_run):
        print(line)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from sopfin.export.door import run_export
    from sopfin.export.files import ExportTargetError

    try:
        result = run_export(args.path, args.to, args.format, progress(args))
    except ExportTargetError as exc:
        raise UsageError(str(exc)) from None
    return print_lines(result, args)


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
            remove_workbook(out)
        result = consolidate(out, paths, reporting=args.currency.upper(), fx=args.fx,
                             scheduler=args.scheduler, workers=args.workers,
                             progress=progress(args))
    except ConsolidationError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(json_payload(result), indent=2))
    else:
        print("\n".join(text_lines(result)))
    return EXIT_OK if result.complete else EXIT_ISSUES


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


def add_commands(sub: argparse._SubParsersAction) -> None:
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
                                   "(and, on a Budget kept by channel, beneath each family its "
                                   "channels; or opex over the departments and, beneath each, "
                                   "its accounts) for the months of a window, in proportion to "
                                   "a driver, so the cells sum to the amount to the cent.")
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
    verbosity_options(p)
    p.set_defaults(func=cmd_export)

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
    verbosity_options(p)
    p.set_defaults(func=cmd_consolidate)

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
