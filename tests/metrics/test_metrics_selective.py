"""ROC / AUROC / AUPR / AURC: scikit-learn cross-checks, closed forms, the NaN rule and invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn import metrics as skm

from overconf.metrics import (
    aurc,
    auroc,
    average_precision,
    misclassification_aupr,
    misclassification_auroc,
    risk_coverage_curve,
    roc_curve,
)


def _data(n: int, seed: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    conf = rng.uniform(size=n)
    if ties:
        conf = np.round(conf, 1)  # heavy ties, including exact 0 and 1
    return conf, rng.uniform(size=n) < conf


@pytest.mark.parametrize("ties", [False, True])
def test_match_scikit_learn(ties: bool) -> None:
    conf, ok = _data(3000, seed=int(ties), ties=ties)
    assert misclassification_auroc(conf, ok) == pytest.approx(skm.roc_auc_score(ok, conf), abs=1e-12)
    assert misclassification_aupr(conf, ok) == pytest.approx(skm.average_precision_score(ok, conf), abs=1e-12)
    assert misclassification_aupr(conf, ok, positive="incorrect") == pytest.approx(
        skm.average_precision_score(~ok, -conf), abs=1e-12
    )
    fpr, tpr, thresholds = roc_curve(conf, ok)
    sk_fpr, sk_tpr, sk_thr = skm.roc_curve(ok, conf, drop_intermediate=False)
    np.testing.assert_allclose(fpr, sk_fpr)
    np.testing.assert_allclose(tpr, sk_tpr)
    np.testing.assert_array_equal(thresholds, sk_thr)


def test_closed_forms() -> None:
    # perfectly separating, inverted, and all-tied scores
    assert misclassification_auroc([0.9, 0.8, 0.3, 0.2], [True, True, False, False]) == 1.0
    assert misclassification_auroc([0.1, 0.2, 0.8, 0.9], [True, True, False, False]) == 0.0
    assert misclassification_auroc([0.5] * 4, [True, False, True, False]) == 0.5
    # P(s+ > s-) + ½ P(=): pairs (0.9,0.8)>, (0.9,0.1)>, (0.8,0.8)=, (0.8,0.1)> → 3.5 / 4
    assert auroc([0.9, 0.8, 0.8, 0.1], [True, True, False, False]) == 0.875
    assert average_precision([0.9, 0.8, 0.7, 0.1], [True, False, True, False]) == pytest.approx(5 / 6)


def test_one_class_absent_gives_nan_not_an_exception() -> None:
    conf = [0.9, 0.6, 0.7]
    for ok in ([True] * 3, [False] * 3):
        assert np.isnan(misclassification_auroc(conf, ok))
        assert np.isnan(misclassification_aupr(conf, ok))
        assert np.isnan(misclassification_aupr(conf, ok, positive="incorrect"))
    fpr, tpr, _ = roc_curve(conf, [True] * 3)
    assert np.isnan(fpr).all() and tpr[-1] == 1.0
    assert np.isnan(misclassification_auroc([1.0], [True]))  # one sample


def test_aurc_closed_forms() -> None:
    assert aurc([0.9, 0.8, 0.7, 0.1], [True, False, True, False]) == pytest.approx(
        (0 + 1 / 2 + 1 / 3 + 2 / 4) / 4
    )
    assert aurc([0.9, 0.2], [True, True]) == 0.0
    assert aurc([0.9, 0.2], [False, False]) == 1.0
    assert aurc([0.5], [False]) == 1.0
    # all tied: one threshold, risk = error rate at full coverage
    assert aurc([0.5] * 4, [True, False, False, True]) == 0.5
    coverage, risk, thresholds = risk_coverage_curve([0.9, 0.8, 0.8, 0.1], [True, True, False, False])
    assert coverage.tolist() == [0.25, 0.75, 1.0] and thresholds.tolist() == [0.9, 0.8, 0.1]
    assert risk.tolist() == pytest.approx([0.0, 1 / 3, 0.5])


samples = st.integers(1, 200).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]) | st.floats(0, 1)),
        arrays(np.bool_, n),
    )
)


@settings(max_examples=60, deadline=None)
@given(samples, st.randoms(use_true_random=False))
def test_invariants(data: tuple[np.ndarray, np.ndarray], rnd) -> None:
    conf, ok = data
    order = np.array(rnd.sample(range(conf.size), conf.size))
    a, r = misclassification_auroc(conf, ok), aurc(conf, ok)
    assert np.isnan(a) == (ok.all() or not ok.any())
    if not np.isnan(a):
        assert 0.0 <= a <= 1.0
        assert a == pytest.approx(misclassification_auroc(conf[order], ok[order]), abs=1e-12)
        # AUROC = P(s+ > s-) + ½ P(s+ = s-) (Mann–Whitney), computed over all pairs
        diff = conf[ok][:, None] - conf[~ok][None, :]
        assert a == pytest.approx(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size, abs=1e-12)
        # reversing the score reverses the ranking
        assert auroc(-conf, ok) == pytest.approx(1.0 - a, abs=1e-12)
        assert misclassification_aupr(conf, ok) == pytest.approx(
            misclassification_aupr(conf[order], ok[order])
        )
    assert r == pytest.approx(aurc(conf[order], ok[order]), abs=1e-12)
    assert 0.0 <= r <= 1.0
    # no ranking beats the ideal one (every right prediction more confident than every wrong one)
    ideal = (ok * conf.size + np.arange(conf.size)) / (2 * conf.size)  # distinct, every right one on top
    assert aurc(ideal, ok) <= r + 1e-12
    assert aurc(ideal, ok) <= aurc(np.where(ok, 0.75, 0.25), ok) + 1e-12
