"""One table of every metric per model × perturbation, computed from the records of a run."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from overconf.errors import MetricInputError
from overconf.metrics.calibration import (
    accuracy,
    brier_score,
    expected_calibration_error,
    nll,
    overconfidence,
    underconfidence,
)
from overconf.metrics.detection import (
    attack_detection_auroc,
    energy_score,
    fpr_at_95_tpr,
    max_logit_score,
    ood_auroc,
)
from overconf.metrics.selective import aurc, misclassification_aupr, misclassification_auroc
from overconf.metrics.temperature import apply_temperature, fit_temperature, softmax

GROUP_KEYS = ["model", "pair", "robust", "dataset", "perturbation", "family"]
REQUIRED = [*GROUP_KEYS, "index", "label", "confidence", "correct"]
#: Columns always present, in this order; ``LOGIT_COLUMNS`` follow when the records carry logits.
COLUMNS = [
    *GROUP_KEYS,
    "n",
    "accuracy",
    "mean_confidence",
    "ece",
    "mce",
    "overconfidence",
    "underconfidence",
    "auroc",
    "aupr",
    "aurc",
    "detection_auroc",
    "ood_auroc",
    "ood_fpr95",
]
LOGIT_COLUMNS = ["nll", "brier", "ood_auroc_max_logit", "ood_auroc_energy",
                 "temperature", "n_ts", "ece_ts", "overconfidence_ts", "underconfidence_ts"]


def _logits(frame: pd.DataFrame) -> np.ndarray:
    return np.stack(frame["logits"].to_numpy()).astype(np.float64)


def _labelled_metrics(conf: np.ndarray, ok: np.ndarray, n_bins: int) -> dict[str, float]:
    return {
        "accuracy": accuracy(ok),
        "ece": expected_calibration_error(conf, ok, n_bins),
        "mce": expected_calibration_error(conf, ok, n_bins, norm="max"),
        "overconfidence": overconfidence(conf, ok),
        "underconfidence": underconfidence(conf, ok),
        "auroc": misclassification_auroc(conf, ok),
        "aupr": misclassification_aupr(conf, ok),
        "aurc": aurc(conf, ok),
    }


def _attack_metrics(group: pd.DataFrame, clean: pd.DataFrame | None) -> dict[str, float]:
    if clean is None:
        return {"detection_auroc": float("nan")}
    clean = clean.drop_duplicates("index").set_index("index")
    attacked = group[group["index"].isin(clean.index)]
    if attacked.empty:
        return {"detection_auroc": float("nan")}
    matched = clean.loc[attacked["index"].to_numpy()]
    value = attack_detection_auroc(
        matched["confidence"].to_numpy(np.float64),
        matched["correct"].to_numpy(bool),
        attacked["confidence"].to_numpy(np.float64),
        attacked["correct"].to_numpy(bool),
    )
    return {"detection_auroc": value}


def _ood_metrics(group: pd.DataFrame, clean: pd.DataFrame | None, has_logits: bool) -> dict[str, float]:
    if clean is None:
        return {}
    inside, outside = clean["confidence"].to_numpy(np.float64), group["confidence"].to_numpy(np.float64)
    row = {"ood_auroc": ood_auroc(inside, outside), "ood_fpr95": fpr_at_95_tpr(inside, outside)}
    if has_logits:
        z_in, z_out = _logits(clean), _logits(group)
        row["ood_auroc_max_logit"] = ood_auroc(max_logit_score(z_in), max_logit_score(z_out))
        row["ood_auroc_energy"] = ood_auroc(energy_score(z_in), energy_score(z_out))
    return row


def held_out_temperature(clean: pd.DataFrame | None) -> float:
    """T fitted by NLL (:func:`fit_temperature`) on a model's clean records of *odd* ``index``; NaN without them."""
    if clean is None:
        return float("nan")
    fit = clean[clean["index"] % 2 == 1]
    return fit_temperature(_logits(fit), fit["label"].to_numpy(np.int64)) if len(fit) else float("nan")


def _temperature_scaled(group: pd.DataFrame, temperature: float, n_bins: int) -> dict[str, float]:
    """ECE, o(f) and u(f) after dividing the logits by ``temperature``, on the records of *even* ``index``
    only, so that no sample T was fitted on is scored (arg-max, hence correctness, is unchanged by T)."""
    scored = group[group["index"] % 2 == 0]
    if not np.isfinite(temperature) or scored.empty:
        return {"temperature": temperature, "n_ts": len(scored)}
    conf = apply_temperature(_logits(scored), temperature).max(axis=1)
    ok = scored["correct"].to_numpy(bool)
    return {"temperature": temperature, "n_ts": len(scored), "ece_ts": expected_calibration_error(conf, ok, n_bins),
            "overconfidence_ts": overconfidence(conf, ok), "underconfidence_ts": underconfidence(conf, ok)}


def summary_table(records: pd.DataFrame | Any, n_bins: int = 15) -> pd.DataFrame:
    """One row per (model, pair, robust, dataset, perturbation, family) with every metric.

    ``records``: a DataFrame (as :func:`overconf.evaluate` and ``read_records`` return) or a pyarrow Table
    (as the engine returns); tables of several cells may be concatenated.

    Columns: the group keys; ``n``; ``accuracy``, ``mean_confidence``; ``ece`` (L1, ``n_bins`` equal-width
    bins) and ``mce`` (max norm); ``overconfidence`` o(f) (= mean confidence of the wrong predictions) and
    ``underconfidence`` u(f) (= 1 − mean confidence of the right ones, so the mean confidence of the right ones,
    :func:`overconf.metrics.mean_confidence_correct`, is ``1 − underconfidence`` and has no column of its own);
    misclassification ``auroc``, ``aupr`` (correct = positive) and ``aurc``;
    ``detection_auroc`` (attack rows: the model's clean records matched on ``index`` are the clean set, so
    only attacked images count); ``ood_auroc`` and ``ood_fpr95`` (ood rows: the model's clean records are
    in-distribution, this set is out, score MSP); and, only if the records have ``logits``, ``nll`` and
    ``brier`` (from the float64 softmax of the logits), ``ood_auroc_max_logit`` / ``ood_auroc_energy`` and
    post-hoc temperature scaling: ``temperature`` (T fitted on the model's clean records of odd ``index``,
    :func:`held_out_temperature`), and ``ece_ts``, ``overconfidence_ts``, ``underconfidence_ts`` on the
    ``n_ts`` records of even ``index`` with logits divided by T (does the robust/normal gap survive calibration?).
    Accuracy-type metrics are NaN on ood rows (no true class); a metric that does not apply is NaN.
    """
    if hasattr(records, "to_pandas") and not isinstance(records, pd.DataFrame):
        records = records.to_pandas()
    missing = [column for column in REQUIRED if column not in records.columns]
    if missing:
        raise MetricInputError(
            f"records lack the column(s) {missing}", hint="read them with overconf.store.parquet.read_records"
        )
    if records.empty:
        raise MetricInputError("records are empty", hint="evaluate at least one model on one perturbation")
    has_logits = "logits" in records.columns
    clean_by_model = {model: frame for model, frame in
                      records[records["family"] == "clean"].groupby("model", observed=True)}
    temperatures = {model: held_out_temperature(clean) for model, clean in clean_by_model.items()} if has_logits else {}
    rows = []
    for key, group in records.groupby(GROUP_KEYS, sort=True, observed=True):
        model = dict(zip(GROUP_KEYS, key, strict=True))["model"]
        rows.append(summary_row(group, clean_by_model.get(model), temperatures.get(model, float("nan")), n_bins))
    return summary_frame(rows, has_logits)


def summary_row(group: pd.DataFrame, clean: pd.DataFrame | None, temperature: float = float("nan"),
                n_bins: int = 15) -> dict[str, object]:
    """The :func:`summary_table` row of one cell (model × perturbation): ``group`` holds the records of one model × perturbation
    (with ``logits`` if the metrics that need them are wanted), ``clean`` that model's clean records (or
    ``None``), ``temperature`` its held-out temperature (:func:`held_out_temperature`; NaN without logits)."""
    has_logits = "logits" in group.columns
    first = group.iloc[0]
    row: dict[str, object] = {key: first[key] for key in GROUP_KEYS}
    family = row["family"]
    conf, ok = group["confidence"].to_numpy(np.float64), group["correct"].to_numpy(bool)
    row["n"] = len(group)
    row["mean_confidence"] = float(conf.mean())
    if family == "ood":
        row.update(_ood_metrics(group, clean, has_logits and clean is not None and "logits" in clean.columns))
    else:
        row.update(_labelled_metrics(conf, ok, n_bins))
        if has_logits:
            probs, labels = softmax(_logits(group)), group["label"].to_numpy(np.int64)
            row["nll"], row["brier"] = nll(probs, labels), brier_score(probs, labels)
            row.update(_temperature_scaled(group, temperature, n_bins))
    if family == "attack":
        row.update(_attack_metrics(group, clean))
    return row


def summary_frame(rows: list[dict[str, object]], has_logits: bool) -> pd.DataFrame:
    """The rows of :func:`summary_row` as the :func:`summary_table` table (its columns, ``n`` as int64)."""
    columns = COLUMNS + (LOGIT_COLUMNS if has_logits else [])
    table = pd.DataFrame(rows).reindex(columns=columns)
    table["n"] = table["n"].astype(np.int64)
    return table
