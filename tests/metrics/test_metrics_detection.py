"""Attack- and OOD-detection metrics and the MSP / max-logit / energy scores."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import softmax as scipy_softmax
from sklearn import metrics as skm

from overconf.metrics import (
    attack_detection_auroc,
    energy_score,
    fpr_at_95_tpr,
    max_logit_score,
    msp_score,
    ood_auroc,
)


def test_attack_detection_uses_clean_correct_vs_perturbed_wrong_only() -> None:
    clean_conf = np.array([0.99, 0.95, 0.40, 0.10])
    clean_ok = np.array([True, True, False, False])  # the two clean-wrong samples are ignored
    pert_conf = np.array([0.6, 0.97, 0.3, 0.999])
    pert_ok = np.array([False, False, True, True])  # the two perturbed-right samples are ignored
    # positives {0.99, 0.95} vs negatives {0.6, 0.97}: 3 of 4 pairs ordered → 0.75
    assert attack_detection_auroc(clean_conf, clean_ok, pert_conf, pert_ok) == 0.75
    positives, negatives = clean_conf[clean_ok], pert_conf[~pert_ok]
    y = np.r_[np.ones(2), np.zeros(2)]
    assert attack_detection_auroc(clean_conf, clean_ok, pert_conf, pert_ok) == pytest.approx(
        skm.roc_auc_score(y, np.r_[positives, negatives])
    )


def test_attack_detection_nan_when_a_set_is_empty() -> None:
    assert np.isnan(attack_detection_auroc([0.9], [True], [0.8], [True]))  # the attack flipped nothing
    assert np.isnan(attack_detection_auroc([0.9], [False], [0.8], [False]))  # no clean sample was right


def test_scores_closed_form_and_stable_for_huge_logits() -> None:
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 0.0, -1000.0], [-5.0, -5.0, -5.0]])
    np.testing.assert_allclose(msp_score(logits), scipy_softmax(logits, axis=1).max(1))
    assert msp_score(logits)[1] == 1.0 and msp_score(logits)[2] == pytest.approx(1 / 3)
    assert max_logit_score(logits).tolist() == [3.0, 1000.0, -5.0]
    expected = [np.log(np.e + np.e**2 + np.e**3), 1000.0, -5.0 + np.log(3)]
    np.testing.assert_allclose(energy_score(logits), expected)
    np.testing.assert_allclose(
        energy_score(logits, temperature=2.0)[[0, 2]],
        [2 * np.log(np.exp([0.5, 1, 1.5]).sum()), -5 + 2 * np.log(3)],
    )
    assert np.isfinite(energy_score(logits)).all()


def test_ood_auroc_and_fpr95_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    inside, outside = rng.normal(1.0, 1.0, 2000), rng.normal(0.0, 1.0, 1500)
    y, s = np.r_[np.ones(2000), np.zeros(1500)], np.r_[inside, outside]
    assert ood_auroc(inside, outside) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    fpr, tpr, _ = skm.roc_curve(y, s, drop_intermediate=False)
    assert fpr_at_95_tpr(inside, outside) == pytest.approx(fpr[np.searchsorted(tpr, 0.95, side="left")])
    # definition: fraction of out scores ≥ the largest threshold keeping 95 % of in scores
    threshold = np.sort(inside)[::-1][int(np.ceil(0.95 * 2000)) - 1]
    assert fpr_at_95_tpr(inside, outside) == pytest.approx((outside >= threshold).mean())


def test_ood_closed_forms() -> None:
    assert ood_auroc([0.9, 0.8], [0.1, 0.2]) == 1.0
    assert ood_auroc([0.1, 0.2], [0.9, 0.8]) == 0.0
    assert ood_auroc([0.5, 0.5], [0.5]) == 0.5
    assert fpr_at_95_tpr([0.9, 0.8], [0.1, 0.2]) == 0.0
    assert fpr_at_95_tpr([0.1, 0.2], [0.9, 0.8]) == 1.0
    # exactly 95 of 100 in-samples at or above the threshold 0.5 (ties included), 1 of 4 out-samples too
    inside = np.r_[np.full(95, 0.5) + np.linspace(0, 0.4, 95), np.full(5, 0.1)]
    assert fpr_at_95_tpr(inside, [0.5, 0.45, 0.2, 0.05]) == 0.25


scores = arrays(np.float64, st.integers(1, 60), elements=st.sampled_from([0.0, 0.5, 1.0]) | st.floats(-5, 5))


@settings(max_examples=60, deadline=None)
@given(scores, scores)
def test_ood_invariants(inside: np.ndarray, outside: np.ndarray) -> None:
    a = ood_auroc(inside, outside)
    assert ood_auroc(outside, inside) == pytest.approx(1.0 - a, abs=1e-12)
    diff = inside[:, None] - outside[None, :]
    assert a == pytest.approx(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size, abs=1e-12)
    fpr = fpr_at_95_tpr(inside, outside)
    threshold = np.sort(inside)[::-1][int(np.ceil(0.95 * inside.size - 1e-9)) - 1]
    assert fpr == pytest.approx((outside >= threshold).mean())
    assert fpr_at_95_tpr(inside, outside, tpr=0.5) <= fpr + 1e-12  # a lower TPR never costs more FPR
