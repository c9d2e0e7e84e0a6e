"""Seconds per metric on 1,000,000 samples × 10 classes, against netcal, torchmetrics and scikit-learn.

Run:  .venv/bin/python benchmarks/bench_metrics.py [--n 1000000] [--classes 10] [--repeat 3]

Every timing includes our input validation; each is the best of ``--repeat`` runs (references: best of
``--ref-repeat``). "speed-up" is reference seconds / our seconds on the same input. Not a test: nothing
is asserted, the table is for the README.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable

import numpy as np
import torch

from overconf import metrics as M


def best_of(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def make_data(n: int, classes: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    logits = (rng.normal(size=(n, classes)) * 3.0).astype(np.float32)
    logits[np.arange(n), labels] += 2.0
    probs = M.softmax(logits)
    conf = probs.max(1)
    correct = probs.argmax(1) == labels
    perturbed = (rng.normal(size=(n, classes)) * 3.0).astype(np.float32)
    pert_conf = M.msp_score(perturbed)
    pert_correct = perturbed.argmax(1) == labels
    return {"labels": labels, "logits": logits, "probs": probs, "conf": conf, "correct": correct,
            "pert_logits": perturbed, "pert_conf": pert_conf, "pert_correct": pert_correct}


def references(d: dict[str, np.ndarray], classes: int) -> dict[str, list[tuple[str, Callable[[], object]]]]:
    """Reference implementations of the same quantity, keyed by our metric name."""
    from sklearn import metrics as skm
    from torchmetrics.functional.classification import (
        binary_auroc,
        binary_average_precision,
        multiclass_calibration_error,
    )

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from netcal.metrics import ECE, MCE
    except ImportError:  # a test dependency: where it is missing its rows are left out
        ECE = MCE = None
    probs_t, labels_t = torch.from_numpy(d["probs"]), torch.from_numpy(d["labels"])
    conf_t, ok_t = torch.from_numpy(d["conf"]), torch.from_numpy(d["correct"].astype(np.int64))
    ok_int = d["correct"].astype(np.int64)
    refs = {
        "ece (l1, width)": [
            ("netcal", lambda: ECE(bins=15).measure(d["probs"], d["labels"])),
            ("torchmetrics", lambda: multiclass_calibration_error(probs_t, labels_t, classes, n_bins=15)),
        ],
        "ece (l2, width)": [
            ("torchmetrics", lambda: multiclass_calibration_error(probs_t, labels_t, classes, 15, norm="l2")),
        ],
        "ece (max = MCE)": [
            ("netcal", lambda: MCE(bins=15).measure(d["probs"], d["labels"])),
            (
                "torchmetrics",
                lambda: multiclass_calibration_error(probs_t, labels_t, classes, 15, norm="max"),
            ),
        ],
        "ece (l1, mass)": [
            (
                "netcal",
                lambda: ECE(bins=15, detection=True, equal_intervals=False).measure(d["conf"], ok_int),
            ),
        ],
        "misclassification_auroc": [
            ("sklearn", lambda: skm.roc_auc_score(d["correct"], d["conf"])),
            ("torchmetrics", lambda: binary_auroc(conf_t, ok_t)),
        ],
        "misclassification_aupr": [
            ("sklearn", lambda: skm.average_precision_score(d["correct"], d["conf"])),
            ("torchmetrics", lambda: binary_average_precision(conf_t, ok_t)),
        ],
        "roc_curve": [("sklearn", lambda: skm.roc_curve(d["correct"], d["conf"], drop_intermediate=False))],
        "nll": [("sklearn", lambda: skm.log_loss(d["labels"], d["probs"]))],
        "brier_score": [
            (
                "sklearn",
                lambda: skm.brier_score_loss(
                    d["labels"], d["probs"], labels=range(classes), scale_by_half=False
                ),
            )
        ],
    }
    if ECE is None:
        return {name: [(ref, fn) for ref, fn in pairs if ref != "netcal"] for name, pairs in refs.items()
                if any(ref != "netcal" for ref, _ in pairs)}
    return refs


def ours(d: dict[str, np.ndarray]) -> dict[str, Callable[[], object]]:
    conf, ok = d["conf"], d["correct"]
    in_scores, out_scores = d["conf"], d["pert_conf"]
    return {
        "accuracy": lambda: M.accuracy(ok),
        "ece (l1, width)": lambda: M.expected_calibration_error(conf, ok),
        "ece (l2, width)": lambda: M.expected_calibration_error(conf, ok, norm="l2"),
        "ece (max = MCE)": lambda: M.expected_calibration_error(conf, ok, norm="max"),
        "ece (l1, mass)": lambda: M.expected_calibration_error(conf, ok, binning="mass"),
        "overconfidence": lambda: M.overconfidence(conf, ok),
        "underconfidence": lambda: M.underconfidence(conf, ok),
        "mean_confidence_correct": lambda: M.mean_confidence_correct(conf, ok),
        "reliability_diagram": lambda: M.reliability_diagram(conf, ok),
        "nll": lambda: M.nll(d["probs"], d["labels"]),
        "brier_score": lambda: M.brier_score(d["probs"], d["labels"]),
        "misclassification_auroc": lambda: M.misclassification_auroc(conf, ok),
        "misclassification_aupr": lambda: M.misclassification_aupr(conf, ok),
        "roc_curve": lambda: M.roc_curve(conf, ok),
        "aurc": lambda: M.aurc(conf, ok),
        "attack_detection_auroc": lambda: M.attack_detection_auroc(
            conf, ok, d["pert_conf"], d["pert_correct"]
        ),
        "msp_score": lambda: M.msp_score(d["logits"]),
        "max_logit_score": lambda: M.max_logit_score(d["logits"]),
        "energy_score": lambda: M.energy_score(d["logits"]),
        "ood_auroc (2N scores)": lambda: M.ood_auroc(in_scores, out_scores),
        "fpr_at_95_tpr (2N scores)": lambda: M.fpr_at_95_tpr(in_scores, out_scores),
        "softmax (float64)": lambda: M.softmax(d["logits"]),
        "fit_temperature (not a metric)": lambda: M.fit_temperature(d["logits"], d["labels"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ref-repeat", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    data = make_data(args.n, args.classes)
    refs = references(data, args.classes)
    print(
        f"{args.n:,} samples × {args.classes} classes; {os.cpu_count()} CPU(s); best of {args.repeat} (ours)"
    )
    print(f"{'metric':32s} {'ours s':>8s}   reference s (speed-up ×)")
    for name, fn in ours(data).items():
        mine = best_of(fn, args.repeat)
        cells = []
        for ref_name, ref_fn in refs.get(name, []):
            theirs = best_of(ref_fn, args.ref_repeat)
            cells.append(f"{ref_name} {theirs:.3f} ({theirs / mine:.1f}×)")
        print(f"{name:32s} {mine:8.3f}   {'; '.join(cells)}", flush=True)


if __name__ == "__main__":
    main()
