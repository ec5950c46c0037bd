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


def single_key(name: str, labels: list[Any] | tuple[Any, ...],
               columns: Mapping[str, np.ndarray]) -> RowTable:
    """A table whose rows are named by one key column."""
    return RowTable((name,), tuple((label,) for label in labels), dict(columns))
