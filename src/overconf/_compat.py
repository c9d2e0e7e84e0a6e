"""Imports of third-party packages that need help to import.

RobustBench 1.1.1 imports AutoAttack as the top-level module ``autoattack``, which PyPI publishes as the
``pyautoattack`` distribution (module ``pyautoattack``); we alias it, only when the real name is missing.
Two warnings their imports raise, about their own code (RobustBench's ``import pkg_resources``, torch's
deprecation of ``torch.jit.interface`` used by its model zoo), are silenced during the import: the user can
do nothing about them and they would bury overconf's own one-line messages.
"""

from __future__ import annotations

import contextlib
import importlib
import pkgutil
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType


def import_autoattack() -> ModuleType:
    """The AutoAttack package, whichever of its two names is installed."""
    with _their_warnings_silenced():
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
    with _their_warnings_silenced():
        return importlib.import_module("robustbench")


@contextlib.contextmanager
def _their_warnings_silenced() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        warnings.filterwarnings("ignore", message=r"`torch\.jit\.interface` is deprecated", category=FutureWarning)
        yield
