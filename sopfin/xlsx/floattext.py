"""Cached values as cell text, a whole window of rows in one call.

A cell's cached value is written as ``repr(float(v))`` with a trailing ``.0`` dropped (the
cell-by-cell path, ``cellxml._number``). Python's ``repr`` costs a few hundred nanoseconds a
value; orjson (a dependency with binary wheels; its floats are shortest round-trip, as
``repr``'s are) writes a whole float array in one call at a tenth of that. Its spelling differs
from ``repr`` only for magnitudes below 1e-4 (``1e-7`` for ``1e-07``, ``0.00001`` for
``1e-05``): rows holding such a value, or a blank (NaN) or infinite one, are left to the
caller's own path, so the text is the same byte for byte. Without orjson every row is left
to the caller, which then formats them as before.
"""

from __future__ import annotations

import numpy as np

try:
    import orjson
except ImportError:  # pragma: no cover - depends on the platform's wheels
    orjson = None  # type: ignore[assignment]

_SMALLEST_POSITIONAL = 1e-4  # repr and orjson agree on every finite value from here up
_SERIALIZE_NUMPY = orjson.OPT_SERIALIZE_NUMPY if orjson is not None else 0
_enabled = orjson is not None


def use_orjson(enabled: bool) -> bool:
    """Turn the orjson path on or off (tests and the write benchmark run both paths on the
    same rows); returns whether it was on. It cannot be turned on without orjson."""
    global _enabled
    was, _enabled = _enabled, enabled and orjson is not None
    return was


def value_texts(window: np.ndarray) -> tuple[list[str], list[bool]] | None:
    """The cell text of every value of a 2-D float64 window, row-major in one flat list, and
    per row whether that text may be used (False for a row with a NaN, an infinity or a
    non-zero magnitude below 1e-4). None when orjson is not installed or the window is
    empty."""
    if not _enabled or not window.size:
        return None
    window = np.ascontiguousarray(window, dtype=np.float64)
    magnitude = np.abs(window)
    with np.errstate(invalid="ignore"):
        awkward = ~np.isfinite(window) | ((magnitude < _SMALLEST_POSITIONAL) & (window != 0))
    usable = (~awkward.any(axis=1)).tolist()
    try:
        flat = orjson.dumps(window.ravel(), option=_SERIALIZE_NUMPY)
    except TypeError:  # orjson.JSONEncodeError: a numpy orjson cannot read; Python writes it
        return None
    # b"[1.0,2.5,-0.0]" -> "1,2.5,-0" -> ["1", "2.5", "-0"]; no value ends in ".0" but wholes
    text = (flat[1:-1] + b",").replace(b".0,", b",").decode("ascii")
    return text.split(",")[:-1], usable


def spelled(window: np.ndarray) -> bytes | None:
    """orjson's spelling of a C-contiguous float64 window, row-major (``[1.0,2.5,null]``), for
    the compiled row formatter to take the values of 1e-4 and up from; None when orjson is
    off or cannot write it."""
    if not _enabled or not window.size:
        return None
    try:
        return orjson.dumps(window.ravel(), option=_SERIALIZE_NUMPY)
    except TypeError:  # orjson.JSONEncodeError
        return None
