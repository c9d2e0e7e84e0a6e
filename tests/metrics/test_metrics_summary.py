"""summary_table on synthetic records built with the record contract (make_records)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from overconf.errors import MetricInputError
from overconf.evaluation.records import OOD_LABEL, ModelInfo, make_records
from overconf.metrics import (
    attack_detection_auroc,
    expected_calibration_error,
    fpr_at_95_tpr,
    misclassification_auroc,
    ood_auroc,
    overconfidence,
    summary_table,
)

REQUIRED_COLUMNS = [
    "model", "pair", "robust", "perturbation", "n", "accuracy", "ece", "overconfidence",
    "underconfidence", "auroc",
]  # fmt: skip


def _records(with_logits: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    tables = []
    for name, robust, scale in (("normal", False, 6.0), ("robust", True, 1.5)):
        info = ModelInfo(model=name, pair="p0", robust=robust, dataset="toy")
        labels = rng.integers(0, 4, 200)
        clean = rng.normal(size=(200, 4)) * scale
        clean[np.arange(200), labels] += 2.0
        tables.append(make_records(info, "clean", "clean", np.arange(200), labels, clean))
        attacked_index = np.arange(0, 200, 2)  # only half of the images are attacked
        attacked = rng.normal(size=(100, 4)) * scale
        tables.append(make_records(info, "pgd", "attack", attacked_index, labels[attacked_index], attacked))
        ood = rng.normal(size=(50, 4)) * scale
        tables.append(make_records(info, "ood-uniform", "ood", np.arange(50), np.full(50, OOD_LABEL), ood))
    frame = pd.concat([table.to_pandas() for table in tables], ignore_index=True)
    return frame if with_logits else frame.drop(columns="logits")


def test_one_row_per_model_and_perturbation_with_required_columns() -> None:
    table = summary_table(_records())
    assert len(table) == 6
    assert set(REQUIRED_COLUMNS) <= set(table.columns)
    assert {"nll", "brier", "detection_auroc", "ood_auroc", "ood_fpr95"} <= set(table.columns)
    assert table.groupby(["model", "perturbation"]).size().eq(1).all()


def test_no_column_always_equals_another() -> None:
    table = summary_table(_records()).select_dtypes("number")
    same = [(a, b) for a, b in itertools.combinations(table.columns, 2)
            if table[a].notna().any() and np.allclose(table[a], table[b], equal_nan=True)]
    assert same == []


def test_no_column_is_one_minus_another() -> None:
    # the mean confidence of the right predictions is 1 − u(f): the summary carries u(f) only
    table = summary_table(_records()).select_dtypes("number")
    complements = [(a, b) for a, b in itertools.combinations(table.columns, 2)
                   if table[a].notna().any() and np.allclose(table[a], 1 - table[b], equal_nan=True)]
    assert complements == []


def test_values_equal_the_metric_functions() -> None:
    records = _records()
    table = summary_table(records).set_index(["model", "perturbation"])
    for (model, perturbation), group in records.groupby(["model", "perturbation"]):
        row = table.loc[(model, perturbation)]
        assert row["n"] == len(group)
        conf, ok = group["confidence"].to_numpy(), group["correct"].to_numpy()
        if perturbation == "ood-uniform":
            assert np.isnan(row["accuracy"]) and np.isnan(row["ece"]) and np.isnan(row["auroc"])
            assert row["mean_confidence"] == pytest.approx(conf.mean())
            continue
        assert row["accuracy"] == pytest.approx(ok.mean())
        assert row["ece"] == pytest.approx(expected_calibration_error(conf, ok))
        assert row["overconfidence"] == pytest.approx(overconfidence(conf, ok))
        assert row["auroc"] == pytest.approx(misclassification_auroc(conf, ok))


def test_attack_detection_uses_only_the_attacked_clean_indices() -> None:
    records = _records()
    table = summary_table(records).set_index(["model", "perturbation"])
    clean = records[(records.model == "robust") & (records.family == "clean")].set_index("index")
    attacked = records[(records.model == "robust") & (records.family == "attack")]
    matched = clean.loc[attacked["index"]]
    expected = attack_detection_auroc(
        matched.confidence, matched.correct, attacked.confidence, attacked.correct
    )
    everything = attack_detection_auroc(
        clean.confidence, clean.correct, attacked.confidence, attacked.correct
    )
    assert table.loc[("robust", "pgd"), "detection_auroc"] == pytest.approx(expected)
    assert expected != pytest.approx(everything)  # the matching matters on this data
    assert np.isnan(table.loc[("robust", "clean"), "detection_auroc"])


def test_ood_row_uses_the_model_clean_records_as_in_distribution() -> None:
    records = _records()
    table = summary_table(records).set_index(["model", "perturbation"])
    clean = records[(records.model == "normal") & (records.family == "clean")].confidence
    ood = records[(records.model == "normal") & (records.family == "ood")].confidence
    assert table.loc[("normal", "ood-uniform"), "ood_auroc"] == pytest.approx(ood_auroc(clean, ood))
    assert table.loc[("normal", "ood-uniform"), "ood_fpr95"] == pytest.approx(fpr_at_95_tpr(clean, ood))


def test_without_logits_the_logit_columns_are_skipped() -> None:
    table = summary_table(_records(with_logits=False))
    assert "nll" not in table.columns and "brier" not in table.columns
    assert set(REQUIRED_COLUMNS) <= set(table.columns)


def test_missing_columns_raise_metric_input_error() -> None:
    with pytest.raises(MetricInputError, match="confidence"):
        summary_table(_records().drop(columns="confidence"))


def test_degenerate_groups_give_nan_not_an_exception() -> None:
    records = _records(with_logits=False)
    records.loc[records.model == "robust", "correct"] = True  # a robust model right on every sample
    table = summary_table(records).set_index(["model", "perturbation"])
    row = table.loc[("robust", "clean")]
    assert row["accuracy"] == 1.0 and np.isnan(row["overconfidence"]) and np.isnan(row["auroc"])
    assert row["aurc"] == 0.0
    assert np.isnan(table.loc[("robust", "pgd"), "detection_auroc"])  # no perturbed-wrong sample


def test_bin_count_is_passed_through() -> None:
    records = _records()
    table = summary_table(records, n_bins=5).set_index(["model", "perturbation"])
    group = records[(records["model"] == "normal") & (records["perturbation"] == "clean")]
    conf, ok = group["confidence"].to_numpy(), group["correct"].to_numpy()
    assert table.loc[("normal", "clean"), "ece"] == pytest.approx(expected_calibration_error(conf, ok, 5), abs=1e-12)
    assert table.loc[("normal", "clean"), "mce"] == pytest.approx(
        expected_calibration_error(conf, ok, 5, norm="max"), abs=1e-12)


def test_temperature_scaling_is_fitted_on_odd_and_scored_on_even_indices() -> None:
    from overconf.metrics import apply_temperature, fit_temperature, underconfidence

    rng = np.random.default_rng(1)
    n, classes = 4000, 5
    calibrated = 2.0 * rng.normal(size=(n, classes))
    probs = np.exp(calibrated) / np.exp(calibrated).sum(axis=1, keepdims=True)
    labels = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)  # y ~ softmax(z): z is calibrated
    info = ModelInfo("hot", "p", False, "toy")
    records = make_records(info, "clean", "clean", np.arange(n), labels, 3.0 * calibrated).to_pandas()
    row = summary_table(records).iloc[0]
    odd, even = records["index"] % 2 == 1, records["index"] % 2 == 0
    logits = np.stack(records["logits"].to_numpy()).astype(np.float64)
    assert row["temperature"] == pytest.approx(fit_temperature(logits[odd], labels[odd]), rel=1e-12)
    assert row["temperature"] == pytest.approx(3.0, rel=0.15)  # over-confident by a factor 3: T recovers it
    conf = apply_temperature(logits[even], row["temperature"]).max(axis=1)
    ok = records.loc[even, "correct"].to_numpy()
    assert row["n_ts"] == even.sum()
    assert row["overconfidence_ts"] == pytest.approx(overconfidence(conf, ok), abs=1e-12)
    assert row["underconfidence_ts"] == pytest.approx(underconfidence(conf, ok), abs=1e-12)
    assert row["ece_ts"] < 0.5 * row["ece"] and row["overconfidence_ts"] < row["overconfidence"]


def test_no_temperature_without_clean_records() -> None:
    records = _records()
    table = summary_table(records[records["perturbation"] != "clean"])
    assert table["temperature"].isna().all() and table["overconfidence_ts"].isna().all()
