"""Write throughput: the output sheets of a plan as worksheet XML, deflated, in one process.

    python -m benchmarks.write_speed PLAN.xlsx [--reps 3] [--formatters compiled,orjson,python]
                                               [--profile N]

Renders the plan's output sheets once, then, ``--reps`` times, builds every worksheet part's
XML (``sopfin.xlsx.sheetxml.worksheet_chunks``) and deflates it as a close does (ISA-L at
level 1 when installed), on one core. Prints, as JSON, the cells and formula cells written,
the XML bytes, and the best seconds and cells per second for building the XML alone and for
building plus deflating it, in interleaved passes through each row formatter: ``compiled``
(the C extension, ``sopfin.xlsx.rowxml``), ``orjson`` (Python rows, the values written by
orjson, ``sopfin.xlsx.floattext``) and ``python`` (Python alone). CPU seconds of this
process, so that other load on the machine counts less; all must give the same bytes (the
compiled formatter is left out when the extension is not built; ``--formatters`` picks
some). ``--profile N`` prints the N costliest functions of one pass.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import sys
import time
import zlib
from collections.abc import Sequence

from sopfin import layout
from sopfin.engine.dollarize import dollarize
from sopfin.plan.checks import validate
from sopfin.plan.read import parse_plan
from sopfin.render import render_outputs
from sopfin.sheetspec import SheetSpec
from sopfin.xlsx import cellxml, floattext, rowxml
from sopfin.xlsx.deflate import deflater
from sopfin.xlsx.read import read_raw_sheets
from sopfin.xlsx.sheetxml import block_styles, worksheet_chunks


def output_specs(path: str) -> list[SheetSpec]:
    parsed, _ = parse_plan(read_raw_sheets(path, layout.INPUT_SHEET_NAMES))
    if parsed is None:
        raise SystemExit(f"{path}: not a plan sopfin can read")
    issues = validate(parsed)
    d, more = dollarize(parsed)
    return list(render_outputs(parsed, d, [*issues, *more]))


def cell_counts(specs: Sequence[SheetSpec]) -> tuple[int, int]:
    """(cells, formula cells) the specs hold, NaN values and empty formulas counted too."""
    cells = formulas = 0
    for spec in specs:
        for block in spec.blocks:
            shape = getattr(block.values, "shape", None)
            n = int(shape[0] * shape[1]) if shape is not None and len(shape) == 2 else \
                sum(len(r) for r in block.values)
            cells += n
            if block.formulas is not None:
                formulas += n
    return cells, formulas


def style_ids(specs: Sequence[SheetSpec]) -> dict:
    used = set().union(*(block_styles(s.blocks) for s in specs))
    return {style: k + 1 for k, style in enumerate(sorted(used))}


def one_pass(specs: Sequence[SheetSpec], xf: dict, deflate: bool) -> tuple[float, str, int]:
    """CPU seconds to build (and deflate) every sheet, a digest of the XML and its bytes. The
    digest is each part's CRC-32, which the package writer takes of every part anyway."""
    cellxml._escaped_label.cache_clear()  # as in a close: labels learnt in this pass only
    started = time.process_time()
    crcs = []
    size = 0
    for spec in specs:
        compressor = deflater(1, fast=True) if deflate else None
        crc = 0
        for chunk in worksheet_chunks(spec, xf):
            crc = zlib.crc32(chunk, crc)
            size += len(chunk)
            if compressor is not None:
                compressor.compress(chunk)
        if compressor is not None:
            compressor.flush()
        crcs.append(f"{crc:08x}")
    return time.process_time() - started, " ".join(crcs), size


FORMATTERS = ("compiled", "orjson", "python")


def timed(specs: Sequence[SheetSpec], xf: dict, reps: int,
          wanted: Sequence[str] = FORMATTERS) -> tuple[dict[str, dict[str, float]], int]:
    """Best CPU seconds per (formatter, step) over ``reps`` interleaved passes, and the XML
    bytes."""
    formatters = [f for f in wanted if f != "compiled" or rowxml.available()]
    best: dict[str, dict[str, float]] = {name: {} for name in formatters}
    digests, size = set(), 0
    try:
        for _ in range(reps):
            for formatter in best:
                rowxml.use_compiled(formatter == "compiled")
                floattext.use_orjson(formatter != "python")
                for step, deflate in (("xml", False), ("xml_and_deflate", True)):
                    seconds, digest, size = one_pass(specs, xf, deflate)
                    digests.add(digest)
                    best[formatter][step] = min(seconds, best[formatter].get(step, seconds))
    finally:
        rowxml.use_compiled(True)
        floattext.use_orjson(True)
    if len(digests) != 1:
        raise SystemExit("the row formatters wrote different bytes")
    return best, size


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("plan")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--formatters", default=",".join(FORMATTERS),
                        help="the row formatters to time, comma-separated")
    parser.add_argument("--profile", type=int, default=0)
    args = parser.parse_args(argv)
    specs = output_specs(args.plan)
    xf = style_ids(specs)
    cells, formulas = cell_counts(specs)
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(one_pass, specs, xf, False)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(args.profile)
    wanted = [f.strip() for f in args.formatters.split(",") if f.strip()]
    if unknown := set(wanted) - set(FORMATTERS):
        parser.error(f"unknown formatter(s): {', '.join(sorted(unknown))}")
    best, size = timed(specs, xf, args.reps, wanted)
    out: dict[str, object] = {"cells": cells, "formula_cells": formulas, "xml_bytes": size}
    for formatter, steps in best.items():
        for step, seconds in steps.items():
            out[f"{formatter}_{step}_cpu_s"] = round(seconds, 3)
            out[f"{formatter}_{step}_formula_cells_per_s"] = round(formulas / seconds)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
