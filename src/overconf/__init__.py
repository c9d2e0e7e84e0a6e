"""overconf: how over-confident are image classifiers, and are robust models less so?

The public entry points live in :mod:`overconf.api` and are importable from here (loaded on first use,
so that ``import overconf`` stays cheap for the CLI).
"""

from __future__ import annotations

from typing import Any

from overconf.version import __version__ as __version__

__all__ = ["GridModel", "ModelInfo", "benchmark", "build_report", "compare", "create_perturbation", "evaluate", "evaluate_zoo",
           "load_model", "load_spec", "read_records", "run_demo", "run_grid", "run_spec", "summary_table"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from overconf import api  # lazy: start-up time

        return getattr(api, name)
    raise AttributeError(f"module 'overconf' has no attribute {name!r}")
