"""Temperature scaling: recovers a known temperature, keeps the arg-max, and lowers NLL on held-out data."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from overconf.errors import MetricInputError
from overconf.metrics import (
    apply_temperature,
    expected_calibration_error,
    fit_temperature,
    log_softmax,
    nll,
    softmax,
)


def _sample(n: int, true_t: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits whose labels are drawn from softmax(z / true_t): the NLL-optimal temperature is ≈ true_t."""
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 5)) * 4.0
    p = softmax(logits, true_t)
    labels = (rng.uniform(size=(n, 1)) > p.cumsum(1)).sum(1)
    return logits, np.minimum(labels, 4)


@pytest.mark.parametrize("true_t", [0.5, 1.0, 3.0])
def test_recovers_the_generating_temperature(true_t: float) -> None:
    logits, labels = _sample(20000, true_t, seed=0)
    assert fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.05)


def test_fit_matches_a_torch_optimiser_and_improves_held_out_calibration() -> None:
    logits, labels = _sample(6000, 2.5, seed=1)
    fit, held_out = slice(0, 3000), slice(3000, None)
    t = fit_temperature(logits[fit], labels[fit])
    log_t = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    z, y = torch.tensor(logits[fit]), torch.tensor(labels[fit])
    optimiser = torch.optim.LBFGS([log_t], max_iter=100, tolerance_grad=1e-10, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(z / log_t.exp(), y)
        loss.backward()
        return loss

    optimiser.step(closure)
    assert t == pytest.approx(float(log_t.detach().exp()), rel=1e-4)
    before, after = softmax(logits[held_out]), apply_temperature(logits[held_out], t)
    assert np.array_equal(before.argmax(1), after.argmax(1))
    assert nll(after, labels[held_out]) < nll(before, labels[held_out])
    ok = after.argmax(1) == labels[held_out]
    assert expected_calibration_error(after.max(1), ok) < expected_calibration_error(before.max(1), ok)


def test_softmax_helpers_are_stable() -> None:
    z = np.array([[1000.0, 0.0], [-1000.0, -1000.0]])
    np.testing.assert_allclose(softmax(z), [[1.0, 0.0], [0.5, 0.5]])
    np.testing.assert_allclose(log_softmax(z), [[0.0, -1000.0], [-np.log(2), -np.log(2)]])
    with pytest.raises(MetricInputError, match="temperature"):
        apply_temperature(z, 0.0)
    with pytest.raises(MetricInputError, match="labels"):
        fit_temperature(z, [0, 2])
