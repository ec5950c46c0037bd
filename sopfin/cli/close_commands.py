"""The close commands: ``reconcile``, ``close``, ``approve``, ``verify``, ``rekey`` and
``diff``: the bridge, the published versions and their proof."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sopfin.cli.common import (
    EXIT_ISSUES,
    EXIT_OK,
    UsageError,
    print_lines,
    progress,
    verbosity_options,
)
from sopfin.close.window import FORMS as WINDOW_FORMS
from sopfin.close.window import WindowError, read_period

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
WINDOW_HELP = f"months the bridge covers (default Horizon): {WINDOW_FORMS}"
JSON_HELP = ("print the result as data on stdout: plan, budget, gap, the bridge lines, "
             "working capital, stranded and excess stock, issues (docs/workbook.md)")


def cmd_reconcile(args: argparse.Namespace) -> int:
    from sopfin.close.publish import run_reconcile

    result = run_reconcile(args.path, window=args.window, progress=progress(args))
    return _print_data(result, args) if args.json else print_lines(result, args)


def cmd_close(args: argparse.Namespace) -> int:
    from sopfin.close.publish import run_close

    head_file = _head_file_ready(args)
    result = run_close(args.path, author=args.author, window=args.window,
                       allow_unexplained=args.allow_unexplained, key=_key(args),
                       progress=progress(args), force=args.force)
    if args.json:
        written = _write_head(result, head_file, say=False)
        return _print_data(result, args, version=result.version or None,
                           published=result.head != "", head=result.head or None,
                           head_file=str(written) if written else None)
    code = print_lines(result, args)
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
    code = print_lines(result, args)
    _write_head(result, head_file)
    return code


def cmd_rekey(args: argparse.Namespace) -> int:
    from sopfin.close.publish import run_rekey

    return print_lines(run_rekey(args.path, key=_key(args), confirm=args.confirm), args)


def cmd_verify(args: argparse.Namespace) -> int:
    from sopfin.close.verify import run_verify

    return print_lines(run_verify(args.path, args.other, key=_key(args),
                                   head=_kept_head(args), deep=args.deep), args)


def cmd_diff(args: argparse.Namespace) -> int:
    from sopfin.close.ledger import UnknownVersionError
    from sopfin.close.verify import run_diff

    try:
        result = run_diff(args.path, args.version_a, args.version_b)
    except UnknownVersionError as exc:
        raise UsageError(str(exc)) from None
    return print_lines(result, args)


def _key(args: argparse.Namespace) -> bytes | None:
    import os

    from sopfin.close.ledger import LedgerKeyError, load_key

    try:
        return load_key(os.environ, getattr(args, "key_file", None))
    except LedgerKeyError as exc:
        raise UsageError(str(exc)) from None


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


def key_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--key-file", metavar="FILE",
                   help="secret key for the ledger HMAC (default: $SOPFIN_KEY or "
                        "$SOPFIN_KEY_FILE); keep it outside the workbook")


def head_file_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--head-file", metavar="PATH",
                   help="also write the new ledger head to PATH (keep it outside the "
                        "workbook; verify --head-file reads it)")


def add_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("reconcile", help="dollarize and show the bridge to budget",
                       description="Dollarize, then reconcile the plan scenario to budget and "
                                   "print the bridge. Publishes nothing.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--window", default="Horizon", type=_window, help=WINDOW_HELP)
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    verbosity_options(p)
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
    p.add_argument("--window", default="Horizon", type=_window, help=WINDOW_HELP)
    p.add_argument("--allow-unexplained", action="store_true",
                   help="publish even with silent overrides, recording them on the version")
    p.add_argument("--force", action="store_true",
                   help="publish a new version even when nothing changed since the last one")
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    key_option(p)
    head_file_option(p)
    verbosity_options(p)
    p.set_defaults(func=cmd_close)

    p = sub.add_parser("approve", help="mark a published version as the plan of record",
                       description="Append an approval for version N to the ledger.")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--version", type=_version, required=True, metavar="N")
    p.add_argument("--by", required=True, metavar="NAME", help="who approves")
    key_option(p)
    head_file_option(p)
    verbosity_options(p)
    p.set_defaults(func=cmd_approve)

    p = sub.add_parser("verify", help="prove the versions are intact; compare two copies",
                       description="Recompute every hash of the ledger and the published "
                                   "tabs; report tampered cells, broken links, missing tabs "
                                   "and overwritten formulas. With OTHER, say whether the "
                                   "copies are the same, which is ahead, or where they forked.",
                       epilog=VERIFY_EXITS)
    p.add_argument("path", metavar="PATH")
    p.add_argument("other", metavar="OTHER", nargs="?")
    key_option(p)
    kept = p.add_mutually_exclusive_group()
    kept.add_argument("--head", metavar="HASH",
                      help="a ledger head you kept (close prints it): fail if this copy "
                           "does not hold it, i.e. it was rolled back")
    kept.add_argument("--head-file", metavar="PATH",
                      help="read that head from a file (close --head-file writes it)")
    p.add_argument("--deep", action="store_true",
                   help="re-hash every published tab cell by cell, also those whose part is "
                        "byte for byte the one written (the ledger records its digest)")
    verbosity_options(p)
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
    key_option(p)
    verbosity_options(p)
    p.set_defaults(func=cmd_rekey)

    p = sub.add_parser("diff", help="what moved between two published versions",
                       description="Totals by family and measure that changed between two "
                                   "versions, in units and dollars, largest first.",
                       epilog=DIFF_EXITS)
    p.add_argument("path", metavar="PATH")
    p.add_argument("version_a", type=_version, metavar="vA")
    p.add_argument("version_b", type=_version, metavar="vB")
    verbosity_options(p)
    p.set_defaults(func=cmd_diff)
