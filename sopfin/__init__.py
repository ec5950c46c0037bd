"""sopfin: make the S&OP operating plan and the finance forecast the same plan.

Python API: ``read_plan(path)`` -> Plan, ``dollarize(plan)`` -> PlanFigures (tidy frames);
``pvm`` (price / volume / mix) and ``variances.material`` / ``labour`` /
``variable_overhead`` / ``fixed_overhead`` (standard-cost variances) for notebooks;
``sweep(plan, changes)`` -> the summary figures of many demand or price variants;
``allocate(amount, weights)`` spreads an amount to the cent, ``allocate_budget(path, ...)``
writes it on a workbook's Budget (families, or departments and their accounts).
The command line (``sopfin --help``) and the Excel add-in call the same pipeline.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> (module, attribute; "" for the module itself), imported on first use
_LAZY = {
    "PlanError": ("sopfin.api", "PlanError"),
    "PlanFigures": ("sopfin.api", "PlanFigures"),
    "dollarize": ("sopfin.api", "dollarize"),
    "read_plan": ("sopfin.api", "read_plan"),
    "pvm": ("sopfin.engine.bridge", "pvm"),
    "variances": ("sopfin.engine.variances", ""),
    "allocate": ("sopfin.engine.allocate", "allocate"),
    "allocate_budget": ("sopfin.api", "allocate_budget"),
    "sweep": ("sopfin.engine.sweep", "sweep"),
    "cash_from_operations": ("sopfin.engine.working_capital", "cash_from_operations"),
    "working_capital_days": ("sopfin.engine.working_capital", "working_capital_days"),
}

__all__ = ["PlanError", "PlanFigures", "__version__", "allocate", "allocate_budget",
           "cash_from_operations",
           "dollarize", "pvm", "read_plan", "sweep", "variances", "working_capital_days"]

if TYPE_CHECKING:
    from sopfin.api import PlanError, PlanFigures, allocate_budget, dollarize, read_plan
    from sopfin.engine import variances
    from sopfin.engine.allocate import allocate
    from sopfin.engine.bridge import pvm
    from sopfin.engine.sweep import sweep
    from sopfin.engine.working_capital import cash_from_operations, working_capital_days


def __getattr__(name: str) -> Any:
    """The notebook API, imported on first use: it brings pandas, which the command line's
    own paths need not load."""
    if name not in _LAZY:
        raise AttributeError(f"module 'sopfin' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    loaded = importlib.import_module(module)
    return getattr(loaded, attribute) if attribute else loaded
