"""OOXML conformance of a package, measured by an independent validator.

``openxml-audit`` is a pure-Python port of the validator of Microsoft's Open XML SDK: the
package structure, relationships and content types, every XML part against the SDK's schema
tables (element order and content, required attributes, attribute types where the tables
declare them) and the SpreadsheetML semantic rules. Excel cannot run here; this is the
closest independent check. It is stricter than ECMA-376's XSDs in places (CT_Font's children
are a sequence for the SDK, a choice for the XSD) and laxer in others (an undeclared attribute
on a cell, a malformed colour): docs/workbook.md, "Excel conformance".

A finding is (part, severity, code, message). ``package_findings`` runs the package-level
checks (structure, relationships, content types, workbook, Excel canonical form) over the whole
package and the per-part checks (schema, semantic rules) over the parts asked for, all XML
parts when none are named: a part sopfin did not touch has the same per-part findings before
and after, so a comparison needs only the parts it wrote or edited. The compiled schema and
rule tables are loaded once per process.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from openxml_audit import FileFormat, OpenXmlValidator
from openxml_audit.context import ValidationContext
from openxml_audit.errors import PackageValidationError
from openxml_audit.package import OpenXmlPackage
from openxml_audit.parts import OpenXmlPart
from openxml_audit.schema.validator import SchemaValidator
from openxml_audit.semantic.validator import (
    SemanticValidator,
    create_spreadsheet_semantic_validator,
)

from xlsx_helpers.packages import written_parts

FILE_FORMAT = FileFormat.OFFICE_2019

# Known Excel rewrite behaviour, not an error: sopfin writes its text cells as inline strings
# (valid ECMA-376, read by every consumer); Excel moves them to a shared-strings table the next
# time it saves the workbook. docs/workbook.md ("Excel conformance") says why that is harmless.
KNOWN_REWRITES = frozenset({"Excel_InlineStrCells"})

# Per-part findings by (part name, sha256 of the part, sha256 of its relationships): the
# corpus workbooks share most of what sopfin writes, so each distinct part is checked once.
_PART_CACHE: dict[tuple[str, str, str], tuple[Finding, ...]] = {}


@dataclass(frozen=True, order=True)
class Finding:
    part: str
    severity: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.part or '(package)'}: {self.severity}[{self.code}] {self.message}"


@cache
def _package_validator() -> OpenXmlValidator:
    return OpenXmlValidator(file_format=FILE_FORMAT, max_errors=0, schema_validation=False,
                            semantic_validation=False)


@cache
def _part_validators() -> tuple[SchemaValidator, SemanticValidator]:
    return SchemaValidator(), create_spreadsheet_semantic_validator()


def _finding(error) -> Finding:
    return Finding(part=error.part_uri.lstrip("/"), severity=error.severity.value,
                   code=error.id or error.error_type.value, message=error.description)


def _is_xml(package: OpenXmlPackage, uri: str) -> bool:
    return "xml" in (package.content_types.get_content_type(uri) or "")


def part_findings(path: Path, parts: Iterable[str] | None = None) -> list[Finding]:
    """Schema and semantic findings of the named parts (zip names, e.g. ``xl/workbook.xml``)."""
    wanted = None if parts is None else {"/" + p.lstrip("/") for p in parts}
    found: list[Finding] = []
    with OpenXmlPackage(path) as package, zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        for uri in package.list_parts():
            if (wanted is None or uri in wanted) and _is_xml(package, uri):
                found += _one_part(package, uri, _content_key(zf, names, uri.lstrip("/")))
    return found


def _content_key(zf: zipfile.ZipFile, names: set[str], name: str) -> tuple[str, str, str]:
    """A part's findings depend on its bytes and on its relationships, nothing else."""
    folder, _, leaf = name.rpartition("/")
    rels = f"{folder}/_rels/{leaf}.rels" if folder else f"_rels/{leaf}.rels"
    digest = [hashlib.sha256(zf.read(n)).hexdigest() if n in names else "" for n in (name, rels)]
    return name, *digest


def _one_part(package: OpenXmlPackage, uri: str, key: tuple[str, str, str]) -> list[Finding]:
    if key in _PART_CACHE:
        return list(_PART_CACHE[key])
    context = ValidationContext(package=package, file_format=FILE_FORMAT, max_errors=0)
    for validator in _part_validators():
        validator.validate_part(OpenXmlPart(package, uri), context)
    _PART_CACHE[key] = tuple(_finding(e) for e in context.errors)
    return list(_PART_CACHE[key])


def package_findings(path: Path, parts: Iterable[str] | None = None) -> list[Finding]:
    """Package-level findings of the whole package plus per-part findings of ``parts``."""
    try:
        found = [_finding(e) for e in _package_validator().validate(path).errors]
    except PackageValidationError as exc:  # the package cannot be opened at all
        return [_finding(e) for e in exc.errors]
    return sorted(found + part_findings(path, parts))


def errors(findings: Iterable[Finding]) -> list[Finding]:
    """Findings other than the known, harmless Excel rewrite behaviours."""
    return [f for f in findings if f.code not in KNOWN_REWRITES]


def added(before: Iterable[Finding], after: Iterable[Finding]) -> list[Finding]:
    """Findings of ``after`` that ``before`` does not have (counted per part and message)."""
    return sorted((Counter(after) - Counter(before)).elements())


def added_by_writing(original: Path, result: Path) -> list[Finding]:
    """Findings of ``result`` that ``original`` does not have, apart from the known rewrites:
    the parts that differ (written or edited) are checked in both, the package as a whole too."""
    written, edited = written_parts(original, result)
    was = package_findings(original, edited)
    return errors(added(was, package_findings(result, written)))
