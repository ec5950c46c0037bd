"""diff reads its first tab on a thread of its own while the second is read: the moves it
finds are those of the tabs read in turn, and when both tabs are refused the first tab's
refusal is the one reported, as in turn."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from hostile_files import declare_smaller, part_of
from sopfin.cli import main
from sopfin.close import verify
from sopfin.close.verify import diff_snapshots, run_diff
from sopfin.xlsx.readback import read_cell_rows


@pytest.fixture(scope="module")
def two_versions(closed_demo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The closed demo closed again with a demand cell changed: v001 and v002 differ."""
    import openpyxl

    path = tmp_path_factory.mktemp("two-versions") / "plan.xlsx"
    book = openpyxl.load_workbook(closed_demo)
    demand = book["Demand"]
    row = next(r for r in demand.iter_rows(min_row=2) if r[0].value == "base")
    row[4].value = float(row[4].value or 0) + 250.0  # the family's units in the second month
    book.save(path)
    assert main(["close", str(path), "--author", "test", "-q"]) == 0
    return path


def test_the_first_tab_is_read_on_a_thread_of_its_own_and_the_moves_are_as_in_turn(
        two_versions, monkeypatch):
    threads: dict[str, str] = {}
    snapshot = verify._tab_snapshot

    def watched(rows):
        threads[rows.name] = threading.current_thread().name
        return snapshot(rows)

    monkeypatch.setattr(verify, "_tab_snapshot", watched)
    table = run_diff(two_versions, 1, 2).table
    assert threads["Recon v001"].startswith("tab")
    assert threads["Recon v002"] == threading.current_thread().name
    rows = read_cell_rows(two_versions, ["Recon v001", "Recon v002"])
    a, b = (snapshot(rows[n]) for n in ("Recon v001", "Recon v002"))
    assert a is not None and b is not None
    assert table == diff_snapshots(a, b) and table


def test_with_both_tabs_refused_the_first_tabs_refusal_is_reported(two_versions, tmp_path,
                                                                   capsys):
    lying = tmp_path / "lying.xlsx"
    lying.write_bytes(two_versions.read_bytes())
    first, second = (part_of(two_versions, n) for n in ("Recon v001", "Recon v002"))
    declare_smaller(lying, first, 1000)
    declare_smaller(lying, second, 1000)
    assert main(["diff", str(lying), "v1", "v2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and first in err[0] and second not in err[0], err
    assert main(["diff", str(lying), "v2", "v1"]) == 2
    assert second in capsys.readouterr().err
