"""Every family of perturbation goes through the one engine and yields the one record format; records of
batch sizes 7 and 500 agree under the reproducibility contract (:mod:`overconf.evaluation.agreement`) except
where ``BATCH_DEPENDENT`` says why."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from overconf.data.base import TensorImageSet
from overconf.data.corrupted import load_cifar_c
from overconf.evaluation.agreement import assert_records_agree
from overconf.evaluation.engine import evaluate
from overconf.evaluation.records import RECORD_SCHEMA, ModelInfo
from overconf.perturb import PERTURBATIONS, create_perturbation
from overconf.perturb.corruption import pregenerated

INFO = ModelInfo("tiny", "tiny-pair", False, "fashion-mnist")


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 10))


def tiny_set(n: int = 10) -> TensorImageSet:
    g = torch.Generator().manual_seed(0)
    return TensorImageSet("fashion-mnist", torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8),
                          torch.arange(n) % 10, 10)


@pytest.mark.parametrize(
    "spec,label,family",
    [("clean", "clean", "clean"), ("pgd:steps=2", "pgd:steps=2", "attack"), ("fog", "fog:severity=3", "corruption"),
     ("jpeg_compression:severity=5", "jpeg_compression:severity=5", "corruption"), ("ood-digits", "ood-digits", "ood"),
     ("ood-gaussian:std=0.5", "ood-gaussian:std=0.5", "ood")],
)
def test_records_of_each_family(spec: str, label: str, family: str) -> None:
    model = tiny_model().train()
    table = evaluate(model, INFO, tiny_set(), create_perturbation(spec, 0.1), batch_size=4, progress=False)
    assert table.schema == RECORD_SCHEMA and table.num_rows == 10
    assert set(table.column("perturbation").to_pylist()) == {label}
    assert set(table.column("family").to_pylist()) == {family}
    assert table.column("index").to_pylist() == list(range(10))
    labels = table.column("label").to_pylist()
    assert labels == ([-1] * 10 if family == "ood" else [i % 10 for i in range(10)])
    if family == "ood":
        assert not any(table.column("correct").to_pylist())
    assert model.training


#: perturbations whose output depends on how the data set is cut into batches, and why
BATCH_DEPENDENT = {
    "ood-digits": "draws the digits without replacement within each batch",
    "apgd-ce": "pyautoattack seeds each batch's run from the generator once",
    "apgd-t": "pyautoattack seeds each batch's run from the generator once",
    "square": "pyautoattack seeds each batch's run from the generator once",
    "autoattack": "pyautoattack seeds each batch's run from the generator once",
}
#: a faster spec than the registered default, where it matters
FASTER = {"pgd": "pgd:steps=2"}


@pytest.mark.reproducibility
@pytest.mark.parametrize("name", [n for n in PERTURBATIONS.names() if n not in BATCH_DEPENDENT])
def test_records_agree_across_batch_sizes(name: str) -> None:
    model, data = tiny_model(), tiny_set(20)
    spec = FASTER.get(name, name)
    a = evaluate(model, INFO, data, create_perturbation(spec, 0.1), batch_size=7, progress=False)
    b = evaluate(model, INFO, data, create_perturbation(spec, 0.1), batch_size=500, progress=False)
    assert a.num_rows == 20
    assert_records_agree(a, b)


def test_batch_dependent_perturbations_are_registered() -> None:
    assert set(BATCH_DEPENDENT) <= set(PERTURBATIONS.names())


def test_pregenerated_sets_record_as_the_same_corruption(tmp_path: Path) -> None:
    images = np.random.default_rng(0).integers(0, 256, (5 * 3, 32, 32, 3), dtype=np.uint8)
    (tmp_path / "CIFAR-10-C").mkdir()
    np.save(tmp_path / "CIFAR-10-C" / "fog.npy", images)
    np.save(tmp_path / "CIFAR-10-C" / "labels.npy", np.tile(np.array([3, 1, 4], dtype=np.uint8), 5))
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 10))
    info = ModelInfo("m", "p", True, "cifar10")
    table = evaluate(model, info, load_cifar_c("cifar10", "fog", 2, tmp_path), pregenerated("fog", 2), progress=False)
    assert table.column("perturbation").to_pylist() == ["fog:severity=2"] * 3
    assert table.column("family").to_pylist() == ["corruption"] * 3
    assert table.column("label").to_pylist() == [3, 1, 4]
    expected = model(torch.from_numpy(images[3:6]).permute(0, 3, 1, 2).float() / 255)
    np.testing.assert_allclose(np.array(table.column("logits").to_pylist()), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
