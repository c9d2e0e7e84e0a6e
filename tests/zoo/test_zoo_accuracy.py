"""``overconf zoo verify --accuracy``: clean accuracy against the published figure, with a binomial tolerance,
on local models whose accuracy is known exactly."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
import torch
from torch import nn

from overconf.data.base import TensorImageSet
from overconf.errors import DataError
from overconf.zoo import load_catalogue
from overconf.zoo.accuracy import (
    AccuracyCheck,
    check_accuracy,
    lowest_consistent,
    published_accuracy,
    summary_checks,
)
from overconf.zoo.catalogue import ZooModel


class ReadsItsAnswer(nn.Module):
    """Predicts the class written in the first pixel (value k / 10 → class k): its accuracy is known."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot((x[:, 0, 0, 0] * 10).round().long(), 10).float() * 5.0


def data_with_accuracy(n: int, right: int) -> TensorImageSet:
    predicted = torch.arange(n) % 10
    labels = torch.where(torch.arange(n) < right, predicted, (predicted + 1) % 10)
    images = (predicted.float() / 10).view(n, 1, 1, 1).expand(n, 1, 4, 4).clone()
    return TensorImageSet("cifar10", images, labels, 10)


def model_with(clean_acc: str) -> ZooModel:
    robust = load_catalogue().select("cifar10", ["Carmon2019Unlabeled"]).pairs[0].robust
    return replace(robust, meta={**robust.meta, "clean_acc": clean_acc})


def test_catalogue_holds_robustbench_accuracies_for_robust_models_only() -> None:
    models = load_catalogue().models()
    robust = [m for m in models if m.robust]
    assert len(robust) == 71 and all(published_accuracy(m) is not None for m in robust)
    carmon = next(m for m in robust if m.model_id == "Carmon2019Unlabeled")
    assert (carmon.meta["clean_acc"], carmon.meta["robust_acc"]) == ("89.69", "59.53")  # model_info JSON
    assert all(published_accuracy(m) is None for m in models if not m.robust)


@pytest.mark.parametrize(("published", "ok"), [("80.0", True), ("83.5", True), ("95.0", False), ("60", True)])
def test_model_of_known_accuracy_is_flagged_only_far_below_its_published_figure(published: str, ok: bool) -> None:
    check = check_accuracy(model_with(published), ReadsItsAnswer(), data_with_accuracy(200, 160), 200, device="cpu")
    assert (check.n, check.correct) == (200, 160)
    assert check.ok is ok
    assert ("BELOW" in check.line()) is (not ok)


def test_first_n_only_and_a_model_without_published_figure_is_never_flagged() -> None:
    twin = load_catalogue().select("cifar10", ["Carmon2019Unlabeled"]).pairs[0].normal
    check = check_accuracy(twin, ReadsItsAnswer(), data_with_accuracy(50, 0), 20, device="cpu")
    assert (check.n, check.correct, check.ok) == (20, 0, True)
    assert "no published figure" in check.line()


def test_a_model_built_for_other_images_is_said_in_words() -> None:
    three_channels = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(), nn.LazyLinear(10))
    with pytest.raises(DataError, match="model expects 3 channels, data has 1") as raised:
        check_accuracy(model_with("80.0"), three_channels, data_with_accuracy(20, 20), 20, device="cpu")
    assert raised.value.hint and "catalogue" in raised.value.hint


def test_tolerance_is_the_binomial_quantile() -> None:
    from scipy.stats import binom

    for n, p in ((100, 0.9), (500, 0.62), (37, 0.5)):
        low = lowest_consistent(p, n)
        k = round(low * n)
        assert binom.cdf(k, n, p) >= 0.001 and (k == 0 or binom.cdf(k - 1, n, p) < 0.001)


def test_summary_clean_rows_are_checked_like_evaluate_does() -> None:
    model = model_with("95.0")
    summary = pd.DataFrame({"model": [model.name, model.name], "perturbation": ["clean", "pgd"],
                            "accuracy": [0.5, 0.1], "n": [400, 400]})
    [check] = summary_checks(summary, [model])
    assert isinstance(check, AccuracyCheck) and (check.n, check.correct, check.ok) == (400, 200, False)
