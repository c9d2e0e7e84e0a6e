"""Common tests over every public metric (scikit-learn's ``metrics/tests/test_common.py`` style).

``METRICS`` maps each name in ``overconf.metrics.__all__`` (result types aside) to how it is called on one
shared synthetic data set and the properties it has; each invariance test runs over the metrics with its
property, one test id per metric, and ``test_every_public_metric_is_listed`` fails when a public metric is
added without an entry here.

Properties:

``aggregate``           permuting the samples (jointly over all inputs) leaves the value unchanged
``per_sample``          one output per sample: permuting the samples permutes the output
``threshold_free``      depends only on the ranking of confidences/scores: invariant under ẑ → ẑ² and s → s³ + s
``symmetric``           swapping the two groups (right/wrong, in/out) gives 1 − value
``takes_correct``       ``correct`` as 0/1 integers gives the same value as booleans
``needs_logits``        takes logits: adding a constant to a row of logits leaves the value unchanged
                        (``logit_shift_adds``: the output grows by that constant instead)
``class_relabelling``   renaming the classes (columns and labels permuted together) leaves the value unchanged
``unit_interval``       a float in [0, 1] (NaN where undefined)
``scalar``              returns a Python ``float``
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

import overconf.metrics as M
from overconf.evaluation.records import ModelInfo, make_records

N, K = 64, 4
#: relative tolerance of 'the same value': summation order (and temperature fitting's optimiser) moves the last digits
RTOL = 1e-9


@dataclass(frozen=True)
class Data:
    """One synthetic data set; every per-sample array has N rows in the same sample order."""

    logits: np.ndarray
    labels: np.ndarray
    index: np.ndarray
    logits2: np.ndarray  # a second, "perturbed" set of the same samples
    out_scores: np.ndarray
    correct_dtype: type = bool

    @property
    def probs(self) -> np.ndarray:
        return M.softmax(self.logits)

    @property
    def conf(self) -> np.ndarray:
        return self.probs.max(axis=1)

    @property
    def correct(self) -> np.ndarray:
        return (self.probs.argmax(axis=1) == self.labels).astype(self.correct_dtype)

    @property
    def conf2(self) -> np.ndarray:
        return M.softmax(self.logits2).max(axis=1)

    @property
    def correct2(self) -> np.ndarray:
        return (self.logits2.argmax(axis=1) == self.labels).astype(self.correct_dtype)

    @property
    def ood_in(self) -> np.ndarray:
        """In-distribution scores: the clean confidences."""
        return Data.conf.fget(self)  # type: ignore[attr-defined]

    @property
    def ood_out(self) -> np.ndarray:
        return self.out_scores


def make_data(seed: int = 0) -> Data:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, K, N)
    logits = rng.normal(size=(N, K)) * 2.0
    logits[np.arange(N), labels] += 1.5
    logits2 = rng.normal(size=(N, K)) * 2.0
    return Data(logits, labels, np.arange(N), logits2, rng.uniform(0.2, 0.9, N))


def _records(d: Data) -> pd.DataFrame:
    info = ModelInfo(model="m", pair="p", robust=False, dataset="toy")
    tables = [make_records(info, "clean", "clean", d.index, d.labels, d.logits),
              make_records(info, "pgd", "attack", d.index, d.labels, d.logits2)]
    return pa.concat_tables(tables).to_pandas()


def _sorted_table(d: Data) -> pd.DataFrame:
    return M.summary_table(_records(d)).sort_values(["model", "perturbation"]).reset_index(drop=True)


@dataclass(frozen=True)
class Metric:
    call: Callable[[Data], Any]
    properties: frozenset[str] = field(default_factory=frozenset)


def metric(call: Callable[[Data], Any], *properties: str) -> Metric:
    return Metric(call, frozenset(properties))


CONF = ("aggregate", "takes_correct", "scalar")
RANKED = (*CONF, "threshold_free", "unit_interval")

METRICS: dict[str, Metric] = {
    "accuracy": metric(lambda d: M.accuracy(d.correct), *CONF, "unit_interval"),
    "expected_calibration_error": metric(lambda d: M.expected_calibration_error(d.conf, d.correct), *CONF, "unit_interval"),
    "overconfidence": metric(lambda d: M.overconfidence(d.conf, d.correct), *CONF, "unit_interval"),
    "underconfidence": metric(lambda d: M.underconfidence(d.conf, d.correct), *CONF, "unit_interval"),
    "mean_confidence_correct": metric(lambda d: M.mean_confidence_correct(d.conf, d.correct), *CONF, "unit_interval"),
    "mean_confidence": metric(lambda d: M.mean_confidence(d.conf), "aggregate", "scalar", "unit_interval"),
    "reliability_diagram": metric(lambda d: M.reliability_diagram(d.conf, d.correct), "aggregate", "takes_correct"),
    "assign_bins": metric(lambda d: M.assign_bins(d.conf, d.correct), "per_sample", "takes_correct"),
    "bin_edges": metric(lambda d: M.bin_edges(15)),
    "nll": metric(lambda d: M.nll(d.probs, d.labels), "aggregate", "scalar", "class_relabelling"),
    "brier_score": metric(lambda d: M.brier_score(d.probs, d.labels), "aggregate", "scalar", "class_relabelling"),
    "misclassification_auroc": metric(lambda d: M.misclassification_auroc(d.conf, d.correct), *RANKED, "symmetric"),
    "misclassification_aupr": metric(lambda d: M.misclassification_aupr(d.conf, d.correct), *RANKED),
    "aurc": metric(lambda d: M.aurc(d.conf, d.correct), *RANKED),
    "auroc": metric(lambda d: M.auroc(d.conf, d.correct), *RANKED, "symmetric"),
    "average_precision": metric(lambda d: M.average_precision(d.conf, d.correct), *RANKED),
    "roc_curve": metric(lambda d: M.roc_curve(d.conf, d.correct), "aggregate", "takes_correct"),
    "risk_coverage_curve": metric(lambda d: M.risk_coverage_curve(d.conf, d.correct), "aggregate", "takes_correct"),
    "attack_detection_auroc": metric(lambda d: M.attack_detection_auroc(d.conf, d.correct, d.conf2, d.correct2), *RANKED),
    "ood_auroc": metric(lambda d: M.ood_auroc(d.ood_in, d.ood_out), "aggregate", "scalar", "threshold_free",
                        "unit_interval", "symmetric"),
    "fpr_at_95_tpr": metric(lambda d: M.fpr_at_95_tpr(d.ood_in, d.ood_out), "aggregate", "scalar",
                            "threshold_free", "unit_interval"),
    "msp_score": metric(lambda d: M.msp_score(d.logits), "per_sample", "needs_logits"),
    "max_logit_score": metric(lambda d: M.max_logit_score(d.logits), "per_sample", "logit_shift_adds"),
    "energy_score": metric(lambda d: M.energy_score(d.logits), "per_sample", "logit_shift_adds"),
    "row_logsumexp": metric(lambda d: M.row_logsumexp(d.logits), "per_sample", "logit_shift_adds"),
    "softmax": metric(lambda d: M.softmax(d.logits), "per_sample", "needs_logits"),
    "log_softmax": metric(lambda d: M.log_softmax(d.logits), "per_sample", "needs_logits"),
    "apply_temperature": metric(lambda d: M.apply_temperature(d.logits, 2.0), "per_sample", "needs_logits"),
    "fit_temperature": metric(lambda d: M.fit_temperature(d.logits, d.labels), "aggregate", "scalar", "needs_logits",
                              "class_relabelling"),
    "bootstrap_ci": metric(lambda d: M.bootstrap_ci(M.accuracy, d.correct, n_resamples=200), "takes_correct"),
    "paired_test": metric(lambda d: M.paired_test(d.conf, d.conf2), "aggregate"),
    "summary_table": metric(_sorted_table, "aggregate"),
}
#: what ``__all__`` exports besides metrics: the types metrics return
RESULT_TYPES = {"BootstrapResult", "PairedTestResult", "ReliabilityDiagram"}


def having(prop: str) -> list[str]:
    return [name for name, m in METRICS.items() if prop in m.properties]


def assert_same(a: Any, b: Any) -> None:
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, rtol=RTOL, atol=1e-12)
    elif dataclasses.is_dataclass(a):
        for f in dataclasses.fields(a):
            assert_same(getattr(a, f.name), getattr(b, f.name))
    elif isinstance(a, tuple | list):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    else:
        np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=RTOL, atol=1e-12)


def permuted(d: Data, order: np.ndarray) -> Data:
    return dataclasses.replace(d, logits=d.logits[order], labels=d.labels[order], index=d.index[order],
                               logits2=d.logits2[order], out_scores=d.out_scores[order])


DATA = make_data()
ORDER = np.random.default_rng(1).permutation(N)


def test_every_public_metric_is_listed():
    assert set(METRICS) == set(M.__all__) - RESULT_TYPES


#: a generic function and its named use, equal on (confidence, correct) by definition
GENERIC_AND_NAMED_USE = {frozenset({"auroc", "misclassification_auroc"}),
                         frozenset({"average_precision", "misclassification_aupr"})}


def test_no_two_public_names_for_one_value():
    """One name per metric: no function is exported twice, and no two scalar metrics agree on the data."""
    functions = [getattr(M, name) for name in METRICS]
    assert len({id(f) for f in functions}) == len(functions)
    values = {name: METRICS[name].call(DATA) for name in having("scalar")}
    equal = {frozenset({a, b}) for a in values for b in values
             if a < b and np.isclose(values[a], values[b], rtol=RTOL, atol=1e-12)}
    assert equal == GENERIC_AND_NAMED_USE


def test_the_data_exercise_both_outcomes():
    assert 0.2 < DATA.correct.mean() < 0.9 and 0.05 < DATA.correct2.mean() < 0.9


@pytest.mark.parametrize("name", list(METRICS))
def test_deterministic_and_inputs_untouched(name: str):
    copy = dataclasses.replace(DATA, logits=DATA.logits.copy(), labels=DATA.labels.copy(),
                               logits2=DATA.logits2.copy(), out_scores=DATA.out_scores.copy())
    first = METRICS[name].call(copy)
    assert_same(first, METRICS[name].call(copy))
    assert_same([copy.logits, copy.labels, copy.logits2, copy.out_scores],
                [DATA.logits, DATA.labels, DATA.logits2, DATA.out_scores])


@pytest.mark.parametrize("name", having("aggregate"))
def test_sample_permutation_invariance(name: str):
    assert_same(METRICS[name].call(DATA), METRICS[name].call(permuted(DATA, ORDER)))


@pytest.mark.parametrize("name", having("per_sample"))
def test_sample_permutation_equivariance(name: str):
    out = np.asarray(METRICS[name].call(DATA))
    assert out.shape[0] == N
    assert_same(out[ORDER], METRICS[name].call(permuted(DATA, ORDER)))


class _Transformed(Data):
    """The same data with confidences squared and OOD scores mapped by s³ + s (both strictly increasing)."""

    @property
    def conf(self) -> np.ndarray:
        return super().conf ** 2

    @property
    def conf2(self) -> np.ndarray:
        return super().conf2 ** 2

    @property
    def ood_in(self) -> np.ndarray:
        return super().ood_in ** 3 + super().ood_in

    @property
    def ood_out(self) -> np.ndarray:
        return super().ood_out ** 3 + super().ood_out


@pytest.mark.parametrize("name", having("threshold_free"))
def test_invariance_to_increasing_transforms(name: str):
    transformed = _Transformed(**{f.name: getattr(DATA, f.name) for f in dataclasses.fields(DATA)})
    assert not np.allclose(transformed.conf, DATA.conf)
    assert_same(METRICS[name].call(DATA), METRICS[name].call(transformed))


class _Swapped(Data):
    """Right and wrong swapped (``correct`` negated), in- and out-of-distribution swapped."""

    @property
    def correct(self) -> np.ndarray:
        return ~super().correct

    @property
    def ood_in(self) -> np.ndarray:
        return super().ood_out

    @property
    def ood_out(self) -> np.ndarray:
        return super().ood_in


@pytest.mark.parametrize("name", having("symmetric"))
def test_swapping_the_groups_gives_the_complement(name: str):
    swapped = _Swapped(**{f.name: getattr(DATA, f.name) for f in dataclasses.fields(DATA)})
    value = METRICS[name].call(DATA)
    assert 0.0 < value < 1.0 and value != 0.5
    assert METRICS[name].call(swapped) == pytest.approx(1.0 - value, abs=1e-12)


@pytest.mark.parametrize("name", having("takes_correct"))
def test_zero_one_integers_equal_booleans(name: str):
    as_int = dataclasses.replace(DATA, correct_dtype=np.int64)
    assert as_int.correct.dtype == np.int64 and set(np.unique(as_int.correct)) == {0, 1}
    assert_same(METRICS[name].call(DATA), METRICS[name].call(as_int))


@pytest.mark.parametrize("name", having("needs_logits"))
def test_invariance_to_a_constant_added_to_each_row_of_logits(name: str):
    shift = np.random.default_rng(2).normal(size=(N, 1)) * 10
    shifted = dataclasses.replace(DATA, logits=DATA.logits + shift)
    assert_same(METRICS[name].call(DATA), METRICS[name].call(shifted))


@pytest.mark.parametrize("name", having("logit_shift_adds"))
def test_a_constant_added_to_each_row_of_logits_is_added_to_the_score(name: str):
    shift = np.random.default_rng(2).normal(size=(N, 1)) * 10
    shifted = dataclasses.replace(DATA, logits=DATA.logits + shift)
    np.testing.assert_allclose(METRICS[name].call(shifted), METRICS[name].call(DATA) + shift[:, 0], rtol=1e-10)


@pytest.mark.parametrize("name", having("class_relabelling"))
def test_invariance_to_renaming_the_classes(name: str):
    rename = np.array([2, 0, 3, 1])  # class c becomes rename[c]
    relabelled = dataclasses.replace(DATA, logits=DATA.logits[:, np.argsort(rename)], labels=rename[DATA.labels])
    assert (relabelled.probs.argmax(axis=1) == relabelled.labels).tolist() == DATA.correct.tolist()
    assert_same(METRICS[name].call(DATA), METRICS[name].call(relabelled))


@pytest.mark.parametrize("name", having("scalar"))
def test_returns_a_python_float(name: str):
    value = METRICS[name].call(DATA)
    assert type(value) is float
    if "unit_interval" in METRICS[name].properties:
        assert 0.0 <= value <= 1.0
