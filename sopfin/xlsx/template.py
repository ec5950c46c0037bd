"""The doors to disk for the blank plan: build ``templates/plan.xlsx`` and refresh the
settings table in the docs.

    python -m sopfin.xlsx.template [PATH]     rebuild templates/plan.xlsx (or write PATH)
    python -m sopfin.xlsx.template --docs     regenerate the settings and threat-model tables
                                              in docs/workbook.md
"""

from __future__ import annotations

import argparse
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sopfin.plan.blank_plan import DOCS_PATH, TEMPLATE_PATH, plan_template_sheets, update_docs
from sopfin.xlsx.writer import create_workbook


def build_template(path: str | Path) -> None:
    """Write the blank plan workbook to ``path``, replacing the file if it exists.

    The workbook is built beside the target and moved over it, so a failed build leaves the
    old file in place.
    """
    target = Path(path)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".sopfin-template-") as work:
        built = Path(work) / target.name
        create_workbook(built, plan_template_sheets())
        os.replace(built, target)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sopfin.xlsx.template",
                                     description="Rebuild the blank plan workbook or the "
                                                 "generated tables in the docs.")
    parser.add_argument("path", nargs="?", default=None,
                        help=f"where to write the template (default {TEMPLATE_PATH}); with "
                             f"--docs, the Markdown file (default {DOCS_PATH})")
    parser.add_argument("--docs", action="store_true",
                        help="regenerate the settings and threat-model tables between "
                             "their markers instead")
    args = parser.parse_args(argv)
    if args.docs:
        target = Path(args.path) if args.path else DOCS_PATH
        changed = update_docs(target)
        print(f"{target}: {'updated' if changed else 'already up to date'}")
        return 0
    target = Path(args.path) if args.path else TEMPLATE_PATH
    build_template(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
