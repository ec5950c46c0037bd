"""Write the star schema's tables into a folder through DuckDB, all or nothing.

The tables go into a new folder beside the target (``.<name>.sopfin-tmp-...``), one file per
table (``COPY ... TO``), with the marker file ``sopfin-export.json`` listing them; then the
folder is renamed into place. A target that exists must be a previous sopfin export: a
folder whose marker lists every file in it. It is moved aside, the new folder takes its name,
and only then are the old export's own files removed. Anything else at the target (a file, a
folder of the user's, an export someone added a file to) is refused and left as it is.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from sopfin.export.facts import Coded
from sopfin.export.schema import FORMATS, TABLES, Column

MARKER = "sopfin-export.json"
MARKER_KIND = "sopfin export"


class ExportTargetError(Exception):
    """The target folder cannot take an export (a usage or environment problem: exit 2)."""


def table_file(name: str, fmt: str) -> str:
    return f"{name}.{fmt}"


def _marker(path: Path) -> dict[str, object] | None:
    try:
        data = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("kind") == MARKER_KIND else None


def _listed_files(marker: Mapping[str, object]) -> list[str]:
    """The files a previous export's marker lists (none when its list is not a list)."""
    files = marker.get("files")
    return [str(f) for f in files] if isinstance(files, list) else []


def check_target(target: Path) -> None:
    """Refuse (``ExportTargetError``) a target that is not free and not a previous export."""
    if not target.parent.is_dir():
        raise ExportTargetError(f"{target}: the folder {target.parent} does not exist")
    if not (target.exists() or target.is_symlink()):
        return
    if target.is_symlink() or not target.is_dir():
        raise ExportTargetError(f"{target} exists and is not a folder; choose another --to")
    marker = _marker(target)
    if marker is None:
        raise ExportTargetError(f"{target} exists and is not a sopfin export (no {MARKER} "
                                "in it); choose a new folder, sopfin replaces only its own "
                                "exports")
    listed = {*_listed_files(marker), MARKER}
    foreign = sorted(p.name for p in target.iterdir() if p.name not in listed)
    if foreign:
        raise ExportTargetError(f"{target} holds files that are not part of its sopfin export "
                                f"({', '.join(foreign[:3])}{'...' if len(foreign) > 3 else ''});"
                                " move them out or choose another --to")


def _text_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _select(column: Column, values: Coded | np.ndarray) -> str:
    """The column cast to its type; a coded column looked up in its labels first."""
    source = f'"{column.name}"'
    if isinstance(values, Coded):
        labels = ", ".join(map(_text_literal, values.labels)) or "''"
        source = f"([{labels}]::VARCHAR[])[{source} + 1]"
    return f'CAST({source} AS {column.sql_type}) AS "{column.name}"'


def _copy_table(con, name: str, columns: Mapping[str, Coded | np.ndarray], path: Path,
                fmt: str) -> None:
    con.register("t", {k: v.codes if isinstance(v, Coded) else v for k, v in columns.items()})
    select = ", ".join(_select(c, columns[c.name]) for c in TABLES[name])
    options = "FORMAT parquet, COMPRESSION zstd" if fmt == "parquet" else "FORMAT csv, HEADER"
    quoted = str(path).replace("'", "''")
    con.execute(f"COPY (SELECT {select} FROM t) TO '{quoted}' ({options})")
    con.unregister("t")


def _remove_export(folder: Path, files: list[str]) -> None:
    """Remove what an export wrote (and nothing else), then the folder if it is empty."""
    for name in [*files, MARKER]:
        (folder / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # not empty: something not ours is there; leave it
        folder.rmdir()


def write_export(tables: Mapping[str, Mapping[str, Coded | np.ndarray]], target: Path, fmt: str,
                 about: Mapping[str, object]) -> list[str]:
    """Write ``tables`` as ``fmt`` files into ``target`` (replacing a previous export there);
    returns the file names. ``about`` goes into the marker file."""
    import duckdb

    if fmt not in FORMATS:
        raise ExportTargetError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    check_target(target)
    tag = f"{os.getpid()}-{secrets.token_hex(4)}"
    work = target.parent / f".{target.name}.sopfin-tmp-{tag}"
    files = [table_file(name, fmt) for name in tables]
    work.mkdir()
    try:
        with duckdb.connect() as con:
            con.execute("SET enable_progress_bar = false")  # stderr is for sopfin's lines
            for name, columns in tables.items():
                try:
                    _copy_table(con, name, columns, work / table_file(name, fmt), fmt)
                except duckdb.IOException as exc:  # a full disk, a folder gone meanwhile
                    raise ExportTargetError(f"{target}: could not write {name}: "
                                            f"{' '.join(str(exc).split())}") from None
        marker = {"kind": MARKER_KIND, **about, "format": fmt, "files": files}
        (work / MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        _swap_in(work, target, tag)
    except BaseException:
        _remove_export(work, files)
        raise
    return files


def _swap_in(work: Path, target: Path, tag: str) -> None:
    """Rename ``work`` to ``target``; a previous export there is moved aside first and its
    files removed after."""
    check_target(target)  # again, just before: nothing changed it meanwhile
    old = target.parent / f".{target.name}.sopfin-old-{tag}"
    previous = _marker(target) if target.is_dir() else None
    if previous is not None:
        os.rename(target, old)
    try:
        os.rename(work, target)
    except OSError:
        if previous is not None:
            os.rename(old, target)
        raise
    if previous is not None:
        _remove_export(old, _listed_files(previous))
