"""The local grid: every cell written, finished cells never recomputed, models loaded only when needed."""

from __future__ import annotations

from pathlib import Path

import torch

from overconf.data.base import TensorImageSet
from overconf.evaluation.records import ModelInfo
from overconf.models.cnn import small_cnn
from overconf.run.grid import run_grid
from overconf.run.models import GridModel
from overconf.store.parquet import read_records


def dataset(n: int = 40) -> TensorImageSet:
    g = torch.Generator().manual_seed(0)
    return TensorImageSet("fashion-mnist", torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8),
                          torch.randint(0, 10, (n,), generator=g), 10)


def test_grid_resumes_cell_by_cell(tmp_path: Path) -> None:
    loads: list[str] = []

    def loader(name: str):
        def load() -> torch.nn.Module:
            loads.append(name)
            torch.manual_seed(0)
            return small_cnn()
        return load

    grid = [GridModel(ModelInfo(f"m{i}", "pair", bool(i), "fashion-mnist"), loader(f"m{i}")) for i in range(2)]
    specs = ["clean", "pgd:steps=2", "ood-uniform"]
    first = run_grid(grid, dataset(), specs, tmp_path, n_examples={"attack": 10}, batch_size=16, progress=False)
    assert len(first) == 6 and loads == ["m0", "m1"]
    records = read_records(tmp_path, ["model", "perturbation", "label"])
    counts = records.groupby(["model", "perturbation"]).size().to_dict()
    assert counts[("m0", "clean")] == 40 and counts[("m0", "pgd:steps=2")] == 10 and counts[("m1", "ood-uniform")] == 40
    assert (records.loc[records["perturbation"] == "ood-uniform", "label"] == -1).all()

    (tmp_path / "records" / "m1" / "pgd_steps=2.parquet").unlink()  # as if interrupted during this cell
    again = run_grid(grid, dataset(), specs, tmp_path, n_examples={"attack": 10}, batch_size=16, progress=False)
    assert [p.name for p in again] == ["pgd_steps=2.parquet"] and loads == ["m0", "m1", "m1"]


def test_evaluation_is_reproducible_and_leaves_mode(tmp_path: Path) -> None:
    from overconf.evaluation.engine import evaluate
    from overconf.perturb import create_perturbation

    torch.manual_seed(0)
    model = small_cnn().train()
    info = ModelInfo("m", "p", False, "fashion-mnist")
    pgd = create_perturbation("pgd:steps=3", eps=0.1)
    a = evaluate(model, info, dataset(20), pgd, batch_size=8, seed=3, progress=False)
    b = evaluate(model, info, dataset(20), pgd, batch_size=8, seed=3, progress=False)
    assert model.training
    assert a.equals(b)
