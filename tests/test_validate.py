"""The user-input checks of overconf.validate and the did-you-mean of registries and the catalogue."""

from __future__ import annotations

import math

import pytest

from overconf.errors import ConfigError
from overconf.perturb import PERTURBATIONS
from overconf.validate import check_int, check_keys, check_number, check_positive, check_type, closest
from overconf.zoo import load_catalogue


@pytest.mark.parametrize("value", [0, -5, 1.5, "3", True, None])
def test_check_int_refuses_non_positive_and_non_integers(value):
    with pytest.raises(ConfigError) as info:
        check_int("n_examples", value)
    assert info.value.message == f"n_examples={value!r}: must be an integer >= 1"


def test_check_int_bounds():
    assert check_int("n", 1) == 1 and check_int("severity", 5, minimum=1, maximum=5) == 5
    with pytest.raises(ConfigError, match="<= 5"):
        check_int("severity", 6, minimum=1, maximum=5)


@pytest.mark.parametrize("value", [0.0, -0.1, math.inf, -math.inf, math.nan, "0.1", False])
def test_check_positive_refuses_zero_negative_non_finite(value):
    with pytest.raises(ConfigError, match="must be a finite number > 0.0"):
        check_positive("eps", value)


def test_check_number_inclusive_bounds():
    assert check_number("p", 0.0, minimum=0.0, maximum=1.0) == 0.0
    assert check_number("p", 1, minimum=0.0, maximum=1.0) == 1.0
    with pytest.raises(ConfigError, match="<= 1.0"):
        check_number("p", 1.01, minimum=0.0, maximum=1.0)


@pytest.mark.parametrize(("typo", "meant"), [("pdg", "pgd"), ("guassian_noise", "gaussian_noise"),
                                             ("sqare", "square"), ("PGD", "pgd")])
def test_unknown_perturbation_suggests_the_closest(typo, meant):
    assert closest(typo, PERTURBATIONS.names())[0] == meant
    with pytest.raises(ConfigError) as info:
        PERTURBATIONS.get(typo)
    assert info.value.message.startswith(f"unknown perturbation {typo!r}; did you mean `{meant}`")
    assert "pgd" in (info.value.hint or "")


def test_far_name_gets_no_suggestion():
    with pytest.raises(ConfigError) as info:
        PERTURBATIONS.get("zzzzzzzz")
    assert info.value.message == "unknown perturbation 'zzzzzzzz'"


def test_catalogue_suggests_dataset_and_model_names():
    with pytest.raises(ConfigError, match="did you mean `cifar10`"):
        load_catalogue().select("cifar01")
    with pytest.raises(ConfigError, match="did you mean `Carmon2019Unlabeled`"):
        load_catalogue().select("cifar10", ["Carmon2019Unlabelled"])


def test_check_keys_and_types():
    with pytest.raises(ConfigError) as info:
        check_keys("f, line 2", {"robust_idd": 1}, ["robust_id", "dataset"])
    assert info.value.message == "f, line 2: unknown key 'robust_idd'; did you mean `robust_id`?"
    with pytest.raises(ConfigError, match="lacks dataset"):
        check_keys("f", {"robust_id": 1}, ["robust_id", "dataset"], required=["dataset"])
    with pytest.raises(ConfigError, match="checkpoint must be a string, not int 5"):
        check_type("f, line 3", "checkpoint", 5, str, "a string")
    with pytest.raises(ConfigError, match="not bool True"):
        check_type("f", "n", True, int, "an integer")
    assert check_type("f", "n", 3, int, "an integer") == 3


def test_data_subsets_refuse_non_positive_sizes():
    import torch

    from overconf.data.base import TensorImageSet

    data = TensorImageSet("toy", torch.zeros(4, 1, 2, 2), torch.zeros(4, dtype=torch.int64), 10)
    assert len(data.subset(2)) == 2 and len(data.subset(None)) == 4 and len(data.subset(9)) == 4
    for n in (0, -5):
        with pytest.raises(ConfigError, match=f"n_examples={n}: must be an integer >= 1"):
            data.subset(n)
