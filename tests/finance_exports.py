"""The public finance exports and plans to import them into, in the pipe tables of
plan_tables: an AdventureWorks plan whose Opex lines are the departments and accounts of its
finance facts, and a Superstore plan whose Demand is by customer segment (the channel); and
``sopfin import`` run on them, its JSON issues, the sheets it wrote.

The truth each import is checked against is summed here, independently, with the csv module
and Decimal."""

from __future__ import annotations

import csv
import functools
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from plan_tables import Grids, sheets, table
from sopfin.cli import main
from sopfin.xlsx.read import read_raw_sheets

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FACTFINANCE = DATA / "adventureworks" / "factfinance_tidy.csv"
SUPERSTORE = DATA / "superstore" / "superstore.csv"

AW_MONTHS = [f"2011-{m:02d}" for m in range(1, 13)]
SUPERSTORE_MONTHS = [f"2017-{m:02d}" for m in range(1, 13)]
SEGMENTS = ("Consumer", "Corporate", "Home Office")
SUB_TO_FAMILY = {  # Superstore's sub-categories grouped into plan families
    "Bookcases": "FURN", "Chairs": "FURN", "Furnishings": "FURN", "Tables": "FURN",
    "Appliances": "OFFICE", "Art": "OFFICE", "Binders": "OFFICE", "Envelopes": "OFFICE",
    "Fasteners": "OFFICE", "Labels": "OFFICE", "Paper": "OFFICE", "Storage": "OFFICE",
    "Supplies": "OFFICE", "Accessories": "TECH", "Copiers": "TECH", "Machines": "TECH",
    "Phones": "TECH"}

Key = tuple[str, ...]
CENT = Decimal("0.01")


@functools.cache
def fact_rows() -> list[dict[str, str]]:
    """AdventureWorks' finance facts (read once; do not change them)."""
    with FACTFINANCE.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def is_opex(row: dict[str, str], scenario: str) -> bool:
    return row["AccountType"] == "Expenditures" and row["ScenarioName"] == scenario


def opex_truth(scenario: str, keep: Callable[[dict[str, str]], bool] = lambda r: True,
               rename: dict[str, str] | None = None) -> dict[Key, Decimal]:
    """Expenditures of ``scenario`` by (department, account, month) in the plan's months."""
    out: dict[Key, Decimal] = defaultdict(Decimal)
    for row in fact_rows():
        month = row["Date"][:7]
        if is_opex(row, scenario) and month in AW_MONTHS and keep(row):
            dept = (rename or {}).get(row["DepartmentGroupName"], row["DepartmentGroupName"])
            out[(dept, row["AccountDescription"], month)] += Decimal(row["Amount"])
    return dict(out)


def opex_lines(scenario: str = "Actual") -> list[tuple[str, str]]:
    """The departments and accounts of ``scenario``'s expenditures, in first-seen order."""
    return list(dict.fromkeys((r["DepartmentGroupName"], r["AccountDescription"])
                              for r in fact_rows() if is_opex(r, scenario)))


def _monthly(header: list[str], rows: Iterable[list[object]], months: list[str]) -> str:
    return table([*header, *months], [list(r) for r in rows])


def _settings(first: str, scenarios: str = "base") -> str:
    return table(["Setting", "Value", "Help"], [
        ["Company", "Adventure Works", ""], ["Currency", "USD", ""],
        ["First period", first, ""], ["Horizon (months)", 12, ""],
        ["Scenarios", scenarios, ""]])


def _product_sheets(families: list[str], months: list[str], channels: tuple[str, ...] = ()
                    ) -> str:
    by = ["Channel"] if channels else []
    pairs = [(f, c) for f in families for c in (channels or ("",))]
    demand = [["base", f, *([c] if channels else []), *[100] * len(months)] for f, c in pairs]
    prices = [[f, *([c] if channels else []), *[50] * len(months)] for f, c in pairs]
    supply = [["base", f, *[1000] * len(months)] for f in families]
    return "\n".join([
        "Families", table(["Family", "Name", "ProductLine", "UoM", "Active"],
                          [[f, f.title(), "Goods", "ea", True] for f in families]),
        "Demand", _monthly(["Scenario", "Family", *by], demand, months),
        "Prices", _monthly(["Family", *by], prices, months),
        "Supply", _monthly(["Scenario", "Family"], supply, months),
        "OpeningInventory", table(["Family", "Units"], [[f, 10] for f in families]),
        "StdCost", table(["Family", "Material", "Labour", "Overhead", "EffectiveFrom"],
                         [[f, 20, 5, 2, ""] for f in families])])


def adventureworks_plan(lines: Iterable[tuple[str, str]], *,
                        line_keys: bool = True) -> Grids:
    """A 2011 plan of one family whose Opex lines are ``lines`` (100 a month each); Budget
    and Actuals carry a revenue row of the family, and Department and Account columns unless
    ``line_keys`` is False."""
    keys = ["Family", "Measure", *(["Department", "Account"] if line_keys else [])]
    blank = [""] * (len(keys) - 2)
    revenue = ["BIKES", "revenue", *blank, 5000, *[""] * 11]
    text = "\n".join([
        "Settings", _settings("2011-01"),
        _product_sheets(["BIKES"], AW_MONTHS),
        "Opex", _monthly(["Scenario", "Department", "Account"],
                         (["base", d, a, *[100] * 12] for d, a in lines), AW_MONTHS),
        "Budget", _monthly(keys, [revenue[:len(keys)] + [5000] * 12], AW_MONTHS),
        "Actuals", _monthly(keys, [revenue], AW_MONTHS)])
    return sheets(text)


def superstore_plan(opex: tuple[tuple[str, str], ...] = ()) -> Grids:
    """A 2017 plan of Superstore's families, Demand by segment; Budget and Actuals by
    Channel, with a units row of TECH in Consumer that an import of revenue leaves alone.
    With ``opex`` lines, an Opex sheet (10 a month each) and Department and Account columns
    on Budget and Actuals."""
    families = sorted(set(SUB_TO_FAMILY.values()))
    lines = ["Department", "Account"] if opex else []
    keys = ["Family", "Measure", "Channel", *lines]
    units = ["TECH", "units", "Consumer", *[""] * len(lines), *[7] * 12]
    text = "\n".join([
        "Settings", _settings("2017-01"),
        _product_sheets(families, SUPERSTORE_MONTHS, SEGMENTS),
        "Budget", _monthly(keys, [units], SUPERSTORE_MONTHS),
        "Actuals", _monthly(keys, [units], SUPERSTORE_MONTHS),
        *(["Opex", _monthly(["Scenario", "Department", "Account"],
                            (["base", d, a, *[10] * 12] for d, a in opex),
                            SUPERSTORE_MONTHS)] if opex else [])])
    return sheets(text)


def sales_truth(channel: str = "Segment") -> dict[Key, Decimal]:
    """Superstore's sales by (family, channel, order month) in the plan's months."""
    out: dict[Key, Decimal] = defaultdict(Decimal)
    with SUPERSTORE.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            month = row["Order Date"][:7]
            if month in SUPERSTORE_MONTHS:
                out[(SUB_TO_FAMILY[row["Sub-Category"]], row[channel], month)] += \
                    Decimal(row["Sales"])
    return dict(out)


def run_import(plan: Path, mapping: str, into: str, source: Path = FACTFINANCE,
               *extra: str) -> int:
    """``sopfin import`` of ``source`` into sheet ``into`` through the TOML ``mapping``."""
    path = plan.parent / f"map-{into}.toml"
    path.write_text(mapping, encoding="utf-8")
    return main(["import", str(plan), str(source), "--into", into, "--map", str(path),
                 "--author", "ap", *extra])


def sheet_rows(plan: Path, sheet: str) -> list[list[object]]:
    return read_raw_sheets(plan, [sheet])[sheet].rows


def assert_cents(mine: dict, truth: dict) -> None:
    assert set(mine) == set(truth)
    off = {k: (mine[k], truth[k]) for k in truth
           if mine[k].quantize(CENT) != truth[k].quantize(CENT)}
    assert not off, list(off.items())[:5]


def json_issues(capsys) -> list[dict]:
    return json.loads(capsys.readouterr().out)["issues"]


def json_errors(capsys) -> list[dict]:
    return [i for i in json_issues(capsys) if i["severity"] == "error"]


def write_csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)
    return path
