"""A small table of labelled rows, as the Recon tab shows it and the JSON result reads it.

The close computes its tables (working capital by scenario, stranded stock by family, the
scenario comparison, forecast accuracy, the bridge by item) with numpy; a ``RowTable`` holds
one of them: the key columns that name each row (``index_names``, one value each per row in
``index``), then named value columns aligned with the rows. ``frame()`` gives the pandas
view for the Python API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class RowTable:
    index_names: tuple[str, ...]
    index: tuple[tuple[Any, ...], ...]  # one key tuple per row
    columns: Mapping[str, np.ndarray]  # name -> (rows,) values, in column order

    def __len__(self) -> int:
        return len(self.index)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def label(self, i: int) -> Any:
        """Row ``i``'s key: its one value, or the tuple of them with several key columns."""
        key = self.index[i]
        return key[0] if len(key) == 1 else key

    def labels(self) -> list[Any]:
        return [self.label(i) for i in range(len(self.index))]

    def at(self, label: Any, name: str) -> Any:
        """The value of column ``name`` in the (first) row labelled ``label``."""
        return self.columns[name][self.labels().index(label)]

    def rows(self) -> Iterator[tuple[Any, dict[str, Any]]]:
        """(label, name -> value) per row, in order."""
        names = list(self.columns)
        values = [self.columns[n].tolist() for n in names]
        for i in range(len(self.index)):
            yield self.label(i), {n: v[i] for n, v in zip(names, values, strict=True)}

    def frame(self) -> pd.DataFrame:
        """The table as a pandas frame indexed by its key columns (for the Python API)."""
        import pandas as pd

        if len(self.index_names) > 1:
            index = pd.MultiIndex.from_tuples(list(self.index), names=list(self.index_names)) \
                if self.index else pd.MultiIndex.from_arrays(
                    [[]] * len(self.index_names), names=list(self.index_names))
        else:
            index = pd.Index([k[0] for k in self.index], name=self.index_names[0])
        return pd.DataFrame(dict(self.columns), index=index)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> RowTable:
        """A frame's index levels (named as ``reset_index`` names them) and columns."""
        levels = frame.index.nlevels
        names = tuple(str(n) if n is not None else ("index" if levels == 1 else f"level_{i}")
                      for i, n in enumerate(frame.index.names))
        index = tuple(k if levels > 1 else (k,) for k in frame.index)
        return cls(names, index, {str(c): frame[c].to_numpy() for c in frame.columns})


def single_key(name: str, labels: list[Any] | tuple[Any, ...],
               columns: Mapping[str, np.ndarray]) -> RowTable:
    """A table whose rows are named by one key column."""
    return RowTable((name,), tuple((label,) for label in labels), dict(columns))


@dataclass(frozen=True)
class MonthTable:
    """Rows named by key tuples (``names``, e.g. family and measure), one column per month:
    the plan of record a close publishes, the latest estimate, the actuals."""

    names: tuple[str, ...]  # '' for an unnamed key column
    keys: tuple[tuple[Any, ...], ...]
    months: tuple[str, ...]
    values: np.ndarray  # (rows, months) float64; NaN for no figure

    def __len__(self) -> int:
        return len(self.keys)

    def positions(self) -> dict[tuple[Any, ...], int]:
        """Each key -> its (first) row."""
        out: dict[tuple[Any, ...], int] = {}
        for i, key in enumerate(self.keys):
            out.setdefault(key, i)
        return out

    def month(self, month: str) -> np.ndarray:
        """(rows,) the figures of one month."""
        return np.asarray(self.values[:, self.months.index(month)])

    def frame(self) -> pd.DataFrame:
        """The table as a pandas frame: index the keys, columns the months."""
        import pandas as pd

        names = [n or None for n in self.names]
        index = pd.MultiIndex.from_tuples(list(self.keys), names=names) if self.keys else \
            pd.MultiIndex.from_arrays([[]] * max(len(names), 1), names=names or None)
        return pd.DataFrame(self.values.reshape(len(self.keys), len(self.months)), index=index,
                            columns=list(self.months), dtype=float)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> MonthTable:
        """A frame indexed by key tuples with one column per month (as ``frame`` gives)."""
        return cls(tuple(str(n or "") for n in frame.index.names),
                   tuple(tuple(k) if isinstance(k, tuple) else (k,) for k in frame.index),
                   tuple(str(c) for c in frame.columns),
                   np.asarray(frame.to_numpy(dtype=np.float64)))
