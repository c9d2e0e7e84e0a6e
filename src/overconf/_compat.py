"""Imports of third-party packages that need help to import.

RobustBench 1.1.1 imports AutoAttack as the top-level module ``autoattack``, which PyPI publishes as the
``pyautoattack`` distribution (module ``pyautoattack``); we alias it, only when the real name is missing.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from types import ModuleType


def import_autoattack() -> ModuleType:
    """The AutoAttack package, whichever of its two names is installed."""
    try:
        return importlib.import_module("autoattack")
    except ModuleNotFoundError:
        pass
    package = importlib.import_module("pyautoattack")
    sys.modules["autoattack"] = package
    for sub in pkgutil.iter_modules(package.__path__):
        if sub.name.endswith(("_tf", "_tf2")):  # TensorFlow variants, not used
            continue
        sys.modules[f"autoattack.{sub.name}"] = importlib.import_module(f"pyautoattack.{sub.name}")
    return package


def import_robustbench() -> ModuleType:
    """``robustbench`` with its ``autoattack`` dependency resolvable."""
    import_autoattack()
    return importlib.import_module("robustbench")
