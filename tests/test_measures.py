"""Measures are typed names: each tuple of names, its TypedDict and what dollarize returns
agree, and the type checker rejects a misspelt measure."""

from __future__ import annotations

from pathlib import Path

import pytest

from plan_tables import make_plan
from sopfin.engine import results
from sopfin.engine.dollarize import dollarize

REPO = Path(__file__).resolve().parents[1]

GROUPS = [
    (results.FAMILY_MEASURES, results.FamilyMeasures, "fam"),
    (results.LINE_MEASURES, results.LineMeasures, "line"),
    (results.BUDGET_MEASURES, results.BudgetMeasures, "budget"),
]

PLAN = dict(
    demand="""
    | scenario | family | channel | 2027-01 | 2027-02 |
    | base     | PUMP   | Retail  |     100 |     120 |
    | base     | PUMP   | Online  |      10 |      20 |
    """,
    supply="""
    | scenario | family | 2027-01 | 2027-02 |
    | base     | PUMP   |      90 |     140 |
    """,
    prices="""
    | family | channel | 2027-01 | 2027-02 |
    | PUMP   | Retail  |      50 |      55 |
    | PUMP   | Online  |      60 |      60 |
    """,
    std_cost="""
    | family | effective_from | material | labour | overhead |
    | PUMP   |                |       20 |      5 |        3 |
    """,
    budget="""
    | family | measure | 2027-01 | 2027-02 |
    | PUMP   | revenue |    5000 |    6000 |
    """,
)


@pytest.mark.parametrize(("names", "typed", "field"), GROUPS, ids=[g[2] for g in GROUPS])
def test_each_tuple_of_measures_names_its_typed_dict_keys(names, typed, field) -> None:
    assert len(set(names)) == len(names)
    assert set(names) == typed.__required_keys__
    assert typed.__optional_keys__ == frozenset()


@pytest.mark.parametrize(("names", "typed", "field"), GROUPS, ids=[g[2] for g in GROUPS])
def test_dollarize_returns_exactly_the_typed_measures(names, typed, field) -> None:
    d, issues = dollarize(make_plan(**PLAN))
    assert [i for i in issues if i.severity.value == "error"] == []
    arrays = getattr(d, field)
    assert set(arrays) == set(names)
    for name in names:
        assert arrays[name].dtype.kind == "f", name


CHECKED = '''
from sopfin.engine.results import Dollarized


def spelt_right(d: Dollarized) -> object:
    return d.fam["revenue"] + d.line["price"] + d.budget["cogs"]


def misspelt(d: Dollarized) -> object:
    return d.fam["revenu"]
'''


def test_the_type_checker_rejects_a_misspelt_measure(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    source = tmp_path / "uses_measures.py"
    source.write_text(CHECKED)
    out, err, status = api.run([
        "--config-file", str(REPO / "pyproject.toml"), "--follow-imports=silent",
        "--cache-dir", str(REPO / ".mypy_cache"), "--no-error-summary", str(source)])
    errors = [line for line in out.splitlines() if ": error:" in line]
    typo_line = CHECKED.splitlines().index('    return d.fam["revenu"]') + 1
    assert status == 1, out + err
    assert len(errors) == 1, out
    assert f"{source.name}:{typo_line}: error:" in errors[0], out
    assert '"revenu"' in errors[0], out
