"""The engine checks every model's output: 2-D, exactly num_classes columns, finite; one failing model stops
alone."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from overconf.data.base import TensorImageSet
from overconf.errors import ModelOutputError
from overconf.evaluation.engine import evaluate
from overconf.evaluation.records import ModelInfo
from overconf.perturb import create_perturbation
from overconf.run.grid import run_grid
from overconf.run.models import GridModel
from overconf.store.parquet import read_records

INFO = ModelInfo("bad-net", "p", False, "fashion-mnist")


def data(n: int = 12) -> TensorImageSet:
    g = torch.Generator().manual_seed(0)
    return TensorImageSet("fashion-mnist", torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8),
                          torch.arange(n) % 10, 10)


class Logits(nn.Module):
    """A linear model whose output is reshaped or poisoned on purpose."""

    def __init__(self, classes: int = 10, poison_from: int | None = None, value: float = float("nan"),
                 flat: bool = False) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.linear = nn.Linear(28 * 28, classes)
        self.poison_from, self.value, self.flat, self.seen = poison_from, value, flat, 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x.flatten(1))
        if self.poison_from is not None and self.seen + len(x) > self.poison_from:
            out = out.clone()
            out[max(0, self.poison_from - self.seen):, 0] = self.value
        self.seen += len(x)
        return out[:, 0] if self.flat else out


@pytest.mark.parametrize(
    "model,message",
    [
        (Logits(classes=12), r"model 'bad-net' on fashion-mnist · clean: 12 logits for a 10-class data set"),
        (Logits(classes=5), r"5 logits for a 10-class data set"),
        (Logits(flat=True), r"output of shape \(4,\) for a batch of 4 images, expected 4 × 10 logits"),
        (Logits(poison_from=0), r"clean: 4 NaN and 0 infinite logits in 4 samples \(index 0, 1, 2, …\)"),
        (Logits(poison_from=9, value=float("inf")), r"0 NaN and 1 infinite logits in 1 samples \(index 9\)"),
    ],
)
def test_bad_output_is_one_clear_error(model: nn.Module, message: str) -> None:
    with pytest.raises(ModelOutputError, match=message):
        evaluate(model, INFO, data(10), create_perturbation("clean", 0.1), batch_size=4, progress=False)


def test_one_bad_model_stops_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    grid = [
        GridModel(ModelInfo("good", "p", False, "fashion-mnist"), lambda: Logits()),
        GridModel(ModelInfo("nan-later", "p", True, "fashion-mnist"), lambda: Logits(poison_from=20)),
        GridModel(ModelInfo("wide", "q", False, "fashion-mnist"), lambda: Logits(classes=12)),
    ]
    written = run_grid(grid, data(12), ["clean", "gaussian_noise", "ood-uniform"], tmp_path, batch_size=8,
                       progress=False)
    # "nan-later" sees 12 clean images, then NaN from its 21st image on: its corruption cell fails, nothing of it is written
    assert sorted(str(p.relative_to(tmp_path)) for p in written) == [
        "records/good/clean.parquet", "records/good/gaussian_noise_severity=3.parquet", "records/good/ood-uniform.parquet",
        "records/nan-later/clean.parquet"]
    err = capsys.readouterr().err
    assert "model 'wide' on fashion-mnist · clean: 12 logits for a 10-class data set" in err
    assert "model 'nan-later' on fashion-mnist · gaussian_noise:severity=3: 4 NaN" in err
    records = read_records(tmp_path, ["model", "perturbation"])
    assert set(records["model"]) == {"good", "nan-later"}
