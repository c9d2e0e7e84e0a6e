"""Test helper (not part of the library): a synthetic run (records + run.json, no model) for the report's tests
and its speed benchmark (``benchmarks/report_speed.py`` puts this folder on ``sys.path``).

Each pair has a normal and a robust model. Logits are drawn so that a prediction is correct with the
model's accuracy for that perturbation, and the winning logit's margin is exponential with a scale that
is large for normal models (confident, even when wrong) and small for robust ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from overconf.evaluation.records import ModelInfo, make_records
from overconf.store.parquet import write_records
from overconf.store.run_json import environment_versions, write_manifest

#: perturbation label → (family, accuracy of normal, accuracy of robust)
DEFAULT_PERTURBATIONS: dict[str, tuple[str, float, float]] = {
    "clean": ("clean", 0.92, 0.80),
    "pgd": ("attack", 0.05, 0.45),
    "square": ("attack", 0.30, 0.60),
    "fog:severity=3": ("corruption", 0.60, 0.65),
}
#: margin scales (correct, wrong): normal models are confident even when wrong, robust ones much less so
NORMAL_SCALE, ROBUST_SCALE = (6.0, 4.0), (1.5, 0.5)


def synthetic_logits(rng: np.random.Generator, labels: np.ndarray, accuracy: float, scale: float,
                     n_classes: int, wrong_scale: float | None = None) -> np.ndarray:
    """Logits whose arg-max is the label with probability ``accuracy``; the winning margin is
    ``scale · Exp(1)`` for correct and ``wrong_scale · Exp(1)`` (default ``scale``) for wrong predictions."""
    n = labels.size
    logits = rng.normal(0.0, 0.5, size=(n, n_classes))
    correct = rng.random(n) < accuracy
    wrong = (labels + rng.integers(1, n_classes, size=n)) % n_classes
    winner = np.where(correct, labels, wrong)
    scales = np.where(correct, scale, scale if wrong_scale is None else wrong_scale)
    logits[np.arange(n), winner] = logits.max(axis=1) + 0.05 + scales * rng.exponential(1.0, size=n)
    return logits.astype(np.float32)


def make_synthetic_run(out: Path, *, pairs: Sequence[str] = ("relu-maxpool", "relu-flc"), n: int = 400,
                       perturbations: dict[str, tuple[str, float, float]] | None = None, n_classes: int = 10,
                       dataset: str = "synthetic", seed: int = 0,
                       scales: dict[bool, tuple[float, float]] | None = None, accuracy_step: float = 0.03) -> Path:
    """Write records for every pair × {normal, robust} × perturbation and a run.json; return ``out``.

    A pair is named ``<activation>-<downsampling>``, which becomes its models' ``config`` in run.json.
    ``scales``: margin scales (correct, wrong) per ``robust`` flag, default :data:`NORMAL_SCALE` /
    :data:`ROBUST_SCALE`; equal scales and accuracies make twins that differ by noise only. Pair ``k`` (from 0)
    has its accuracies lowered by ``k · accuracy_step``.
    """
    scales = {False: NORMAL_SCALE, True: ROBUST_SCALE} if scales is None else scales
    out = Path(out)
    perturbations = DEFAULT_PERTURBATIONS if perturbations is None else perturbations
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_classes, size=n)
    index = np.arange(n)
    models = []
    for k, pair in enumerate(pairs):
        for robust in (False, True):
            name = f"{pair}-{'robust' if robust else 'normal'}"
            activation, _, downsampling = pair.partition("-")
            config = {"activation": activation, "downsampling": downsampling or "maxpool",
                      "training": "adversarial" if robust else "standard"}
            info = ModelInfo(name, pair, robust, dataset, config)
            for label, (family, acc_normal, acc_robust) in perturbations.items():
                accuracy = (acc_robust if robust else acc_normal) - accuracy_step * k
                scale, wrong_scale = scales[robust]
                if family == "attack" and not robust and scales[False] != scales[True]:  # attacks push normal models to confident errors
                    wrong_scale *= 2.0
                logits = synthetic_logits(rng, labels, accuracy, scale, n_classes, wrong_scale)
                target = np.full(n, -1) if family == "ood" else labels
                write_records(out, make_records(info, label, family, index, target, logits))
            models.append({"model": name, "pair": pair, "robust": robust, "dataset": dataset,
                           "checkpoint": f"checkpoints/{name}.safetensors", "sha256": f"{k:02d}" * 32,
                           "config": config})
    write_manifest(out, {
        "command": "synthetic (tests/report/synthetic_run.py)", "created": "2026-01-01T00:00:00+00:00",
        "config": {"n": n, "n_classes": n_classes, "pairs": list(pairs)}, "seed": seed,
        "versions": environment_versions(),
        "data": {"name": dataset, "sha256": "ab" * 32, "path": "<synthetic>"},
        "models": models, "perturbations": list(perturbations),
    })
    return out
