"""The few public entry points, re-exported by ``overconf``: run the demo, evaluate a zoo, load a model,
evaluate any model on any data under any perturbation, read records, summarise and report.

>>> import overconf
>>> overconf.summary_table is summary_table and sorted(overconf.__all__) == sorted(__all__)
True
"""

from __future__ import annotations

from overconf.demo import run_demo
from overconf.evaluation.engine import evaluate
from overconf.evaluation.records import ModelInfo
from overconf.metrics import summary_table
from overconf.perturb import create_perturbation
from overconf.report import build_report
from overconf.run.local import GridModel, run_grid
from overconf.store.parquet import read_records
from overconf.zoo.evaluate import evaluate_zoo
from overconf.zoo.loaders import load_model

__all__ = [
    "GridModel",
    "ModelInfo",
    "build_report",
    "create_perturbation",
    "evaluate",
    "evaluate_zoo",
    "load_model",
    "read_records",
    "run_demo",
    "run_grid",
    "summary_table",
]
