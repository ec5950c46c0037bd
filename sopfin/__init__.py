"""sopfin: make the S&OP operating plan and the finance forecast the same plan.

Python API: ``read_plan(path)`` -> Plan, ``dollarize(plan)`` -> PlanFigures (tidy frames).
The command line (``sopfin --help``) and the Excel add-in call the same pipeline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["PlanError", "PlanFigures", "__version__", "dollarize", "pvm", "read_plan"]

if TYPE_CHECKING:
    from sopfin.api import PlanError, PlanFigures, dollarize, read_plan
    from sopfin.engine.bridge import pvm


def __getattr__(name: str) -> Any:
    """The notebook API, imported on first use: it brings pandas, which the command line's
    own paths need not load."""
    if name in ("PlanError", "PlanFigures", "dollarize", "read_plan"):
        from sopfin import api

        return getattr(api, name)
    if name == "pvm":
        from sopfin.engine.bridge import pvm

        return pvm
    raise AttributeError(f"module 'sopfin' has no attribute {name!r}")
