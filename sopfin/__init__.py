"""sopfin: make the S&OP operating plan and the finance forecast the same plan.

Python API: ``read_plan(path)`` -> Plan, ``dollarize(plan)`` -> PlanFigures (tidy frames);
``pvm`` (price / volume / mix) and ``variances.material`` / ``labour`` /
``variable_overhead`` / ``fixed_overhead`` (standard-cost variances) for notebooks;
``sweep(plan, changes)`` -> the summary figures of many demand or price variants.
The command line (``sopfin --help``) and the Excel add-in call the same pipeline.
"""

from __future__ import annotations

__version__ = "0.1.0"

from sopfin.api import PlanError, PlanFigures, dollarize, read_plan  # noqa: E402
from sopfin.engine import variances  # noqa: E402
from sopfin.engine.allocate import allocate  # noqa: E402
from sopfin.engine.bridge import pvm  # noqa: E402
from sopfin.engine.sweep import sweep  # noqa: E402
from sopfin.engine.working_capital import (  # noqa: E402
    cash_from_operations,
    working_capital_days,
)

__all__ = ["PlanError", "PlanFigures", "__version__", "allocate", "cash_from_operations",
           "dollarize", "pvm", "read_plan", "sweep", "variances", "working_capital_days"]
