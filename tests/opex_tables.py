"""A small plan with operating expenses, in the pipe tables of plan_tables: the base plan's
sheets, a Budget with opex rows, an Opex sheet with typed and driver lines, and two closed
months of Actuals."""

from __future__ import annotations

from plan_tables import BASE, Grids, sheets

OPEX = """
Budget
| Family | Measure | Department | Account    | 2027-01 | 2027-02 | 2027-03 |
| P-100  | units   |            |            | 150     | 150     | 150     |
| P-100  | revenue |            |            | 3600    | 3600    | 3700    |
|        | opex    | Sales      | Salaries   | 1000    | 1000    | 1000    |
|        | opex    | Sales      | Commission | 150     | 150     | 150     |
|        | opex    | Operations | Freight    | 300     | 300     | 300     |

Opex
| Scenario | Department | Account | Driver | DriverOf | Rate | 2027-01 | 2027-02 | 2027-03 |
| base   | Sales      | Salaries   |               |        |      | 1100 | 1100 | 1200 |
| base   | Sales      | Commission | revenue       | Retail | 0.05 |      |      |      |
| base   | Operations | Freight    | units_shipped | P-100  | 2    |      |      |      |
| upside | Sales      | Salaries   |               |        |      | 1100 | 1100 | 1300 |

Actuals
| Family | Measure | Department | Account  | 2027-01 | 2027-02 | 2027-03 |
| P-100  | revenue |            |          | 3500    | 3650    |         |
|        | opex    | Sales      | Salaries | 1050    | 1120    |         |
"""


def opex_plan() -> Grids:
    """The base plan with opex (safe to mutate)."""
    grids = sheets(BASE)
    grids.update(sheets(OPEX))
    return grids
