"""The doors to disk for the blank plan and the generated docs: build ``templates/plan.xlsx``
and refresh every table of docs/workbook.md that is declared in the code.

    python -m sopfin.xlsx.template [PATH]     rebuild templates/plan.xlsx (or write PATH)
    python -m sopfin.xlsx.template --docs     regenerate the settings, issue-code, threat-model
                                              and limits tables in docs/workbook.md

Each table sits between its two markers and comes from one declaration: the settings from
``sopfin.plan.settings.OPTIONS``, the issue codes from ``sopfin.model.IssueCode``
(``sopfin.docs_tables``), the threat model from ``sopfin.close.threats.THREATS`` and the
package limits from ``sopfin.xlsx.limits.LIMITS``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from sopfin.close.threats import replace_threats_section
from sopfin.docs_tables import replace_issue_codes_section, with_marked_section
from sopfin.plan.blank_plan import (
    DOCS_PATH,
    TEMPLATE_PATH,
    plan_template_sheets,
    replace_settings_section,
)
from sopfin.xlsx.limits import LIMITS_CLOSE, LIMITS_OPEN, limits_table
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


def regenerated_docs(text: str) -> str:
    """``text`` with every generated table rewritten from the code (ValueError when a table's
    markers are missing)."""
    text = replace_settings_section(text)
    text = replace_issue_codes_section(text)
    text = replace_threats_section(text)
    return with_marked_section(text, LIMITS_OPEN, LIMITS_CLOSE, limits_table())


def update_docs(path: str | Path = DOCS_PATH) -> bool:
    """Regenerate the tables in the Markdown file at ``path``; True when the file changed."""
    path = Path(path)
    old = path.read_text(encoding="utf-8")
    new = regenerated_docs(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sopfin.xlsx.template",
                                     description="Rebuild the blank plan workbook or the "
                                                 "generated tables in the docs.")
    parser.add_argument("path", nargs="?", default=None,
                        help=f"where to write the template (default {TEMPLATE_PATH}); with "
                             f"--docs, the Markdown file (default {DOCS_PATH})")
    parser.add_argument("--docs", action="store_true",
                        help="regenerate the tables generated from the code between "
                             "their markers instead")
    args = parser.parse_args(argv)
    if args.docs:
        target = Path(args.path) if args.path else DOCS_PATH
        try:
            changed = update_docs(target)
        except (OSError, ValueError) as exc:
            print(f"{target}: {exc}", file=sys.stderr)
            return 2
        print(f"{target}: {'updated' if changed else 'already up to date'}")
        return 0
    target = Path(args.path) if args.path else TEMPLATE_PATH
    build_template(target)
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
