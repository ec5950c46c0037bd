"""Build ``dist/sopfin.xlam`` from the text sources in ``addin/src``.

    python addin/build.py              # writes dist/sopfin.xlam
    python addin/build.py --out PATH   # writes PATH

Sources: ``src/*.bas`` (standard modules), ``src/*.cls`` (the workbook's and the sheet's
document modules) and ``src/customUI14.xml`` (the ribbon). Standard library only; the same
sources always give the same bytes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from addin import package, vbaproject  # noqa: E402
from addin.vbaproject import DOCUMENT, Module  # noqa: E402

SRC = ROOT / "addin" / "src"
DEFAULT_OUT = ROOT / "dist" / "sopfin.xlam"
PROJECT_NAME = "sopfin"
PROJECT_ID = "{FB933E84-BA3E-579E-8821-E9998B5A17D0}"
RIBBON = "customUI14.xml"


def load_modules(src: Path = SRC) -> list[Module]:
    """The modules in ``src``: the workbook's document module, the sheet's, then the
    standard modules by name. The document modules must match the package's code names."""
    modules = [vbaproject.read_module(path) for path in sorted(src.iterdir())
               if path.suffix.lower() in (".bas", ".cls")]
    documents = {m.name for m in modules if m.kind == DOCUMENT}
    expected = {package.WORKBOOK_CODENAME, package.SHEET_CODENAME}
    if documents != expected:
        raise vbaproject.ModuleSourceError(
            f"{src}: document modules {sorted(documents)} must be exactly {sorted(expected)}, "
            "the code names of the add-in's workbook and sheet")
    order = {package.WORKBOOK_CODENAME: 0, package.SHEET_CODENAME: 1}
    return sorted(modules, key=lambda m: (order.get(m.name, 2), m.name.lower()))


def build(src: Path = SRC) -> bytes:
    """The bytes of ``sopfin.xlam`` built from ``src``."""
    modules = load_modules(src)
    vba = vbaproject.vba_project_bin(PROJECT_NAME, PROJECT_ID, modules)
    ribbon = (src / RIBBON).read_bytes()
    return package.zip_parts(package.parts(vba, ribbon))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build sopfin.xlam from addin/src.")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"where to write the add-in (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        data = build()
    except vbaproject.ModuleSourceError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        return 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
