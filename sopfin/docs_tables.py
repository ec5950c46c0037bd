"""Tables in the docs that are generated from the code, so that nothing is listed twice.

Each generated table sits in a Markdown file between an opening and a closing HTML comment
(``<!-- ISSUE-CODES -->`` ... ``<!-- /ISSUE-CODES -->``); ``python -m sopfin.xlsx.template
--docs`` rewrites what lies between them and tests check that the docs hold what the code
says. This module has the marker arithmetic and the issue-code catalogue: every
``sopfin.model.IssueCode`` with its group and meaning, both read from the comments of the
enum in ``sopfin/model.py``, and the severities the package reports it with, read from the
calls that build an ``Issue``. A new code is documented by the comment on its line.
"""

from __future__ import annotations

import ast
import enum
import functools
import inspect
import io
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

from sopfin.model import IssueCode, Severity

ISSUE_CODES_OPEN = "<!-- ISSUE-CODES -->"
ISSUE_CODES_CLOSE = "<!-- /ISSUE-CODES -->"
PACKAGE = Path(__file__).resolve().parent
NO_SEVERITY = "-"


# ------------------------------------------------------------------------- marked sections

def marked_section(text: str, opening: str, closing: str) -> str:
    """What lies between the two markers, without the blank lines around it ('' when the
    markers are missing or out of order)."""
    start, end = text.find(opening), text.find(closing)
    if start < 0 or end < start:
        return ""
    return text[start + len(opening):end].strip("\n")


def with_marked_section(text: str, opening: str, closing: str, body: str) -> str:
    """``text`` with ``body`` between the markers; both markers must be there, in order (a
    document without them is a fault in the docs, not in a plan)."""
    start, end = text.find(opening), text.find(closing)
    if start < 0 or end < start:
        raise ValueError(f"the docs have no {opening} ... {closing} markers")
    return f"{text[:start + len(opening)]}\n\n{body}\n\n{text[end:]}"


# ------------------------------------------------------------------- the issue-code catalogue

@dataclass(frozen=True)
class CodeEntry:
    """One issue code as the docs list it."""

    code: IssueCode
    group: str
    meaning: str
    severities: tuple[Severity, ...]


def _comments(source: str) -> dict[int, tuple[bool, str]]:
    """Line number -> (whether the comment is the whole line, its text)."""
    out: dict[int, tuple[bool, str]] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            whole = not tok.line[:tok.start[1]].strip()
            out[tok.start[0]] = (whole, tok.string.lstrip("#").strip())
    return out


def code_comments(codes: type[enum.Enum] = IssueCode) -> dict[str, tuple[str, str]]:
    """Member name -> (group, meaning): the comment line above a run of members names their
    group, the comment at the end of a member's line says what the code means."""
    source = textwrap.dedent(inspect.getsource(codes))
    comments = _comments(source)
    cls = ast.parse(source).body[0]
    assert isinstance(cls, ast.ClassDef)
    out: dict[str, tuple[str, str]] = {}
    for node in cls.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)):
            continue
        above = [text for line, (whole, text) in comments.items()
                 if whole and line < node.lineno]
        own = comments.get(node.lineno, (True, ""))
        out[node.targets[0].id] = (above[-1] if above else "", "" if own[0] else own[1])
    return out


def _enum_member(node: ast.expr, enum_name: str) -> str:
    """``X`` for the expression ``enum_name.X``, else ''."""
    if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
            and node.value.id == enum_name):
        return node.attr
    return ""


def _code_and_severity(call: ast.Call) -> tuple[str, str]:
    """The ``IssueCode`` and ``Severity`` members a call passes side by side, if it does."""
    args = list(call.args)
    for first, second in zip(args, args[1:], strict=False):
        code, severity = _enum_member(first, "IssueCode"), _enum_member(second, "Severity")
        if code and severity:
            return code, severity
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    if "code" in keywords and "severity" in keywords:
        return (_enum_member(keywords["code"], "IssueCode"),
                _enum_member(keywords["severity"], "Severity"))
    return "", ""


@functools.cache
def reported_severities(package: Path = PACKAGE) -> dict[str, frozenset[str]]:
    """Member name of each code -> the severities the package's source reports it with (read
    once per run: the source does not change under a running process)."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                code, severity = _code_and_severity(node)
                if code and severity:
                    found.setdefault(code, set()).add(severity)
    return {code: frozenset(names) for code, names in found.items()}


def issue_catalogue() -> list[CodeEntry]:
    """Every issue code, in the enum's order, with its group, meaning and severities."""
    comments = code_comments()
    severities = reported_severities()
    out = []
    for code in IssueCode:
        group, meaning = comments.get(code.name, ("", ""))
        named = severities.get(code.name, frozenset())
        out.append(CodeEntry(code, group, meaning,
                             tuple(s for s in Severity if s.name in named)))
    return out


def issue_codes_table(entries: list[CodeEntry] | None = None) -> str:
    """The catalogue as a Markdown table: code, group, severity, meaning."""
    lines = ["| code | group | severity | meaning |", "|---|---|---|---|"]
    for e in issue_catalogue() if entries is None else entries:
        severity = ", ".join(s.value for s in e.severities) or NO_SEVERITY
        group, meaning = (text.replace("|", "\\|") for text in (e.group, e.meaning))
        lines.append(f"| `{e.code.value}` | {group} | {severity} | {meaning} |")
    return "\n".join(lines)


def documented_issue_codes(text: str) -> str:
    """The catalogue as the docs hold it."""
    return marked_section(text, ISSUE_CODES_OPEN, ISSUE_CODES_CLOSE)


def replace_issue_codes_section(text: str) -> str:
    """``text`` with the catalogue between its markers regenerated."""
    return with_marked_section(text, ISSUE_CODES_OPEN, ISSUE_CODES_CLOSE, issue_codes_table())

