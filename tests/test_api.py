"""The public API: overconf.evaluate is the function, benchmark takes any map-style dataset and spec strings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import overconf
from overconf.errors import DataError


def data_and_model() -> tuple[torch.utils.data.TensorDataset, torch.nn.Module]:
    g = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.rand(12, 1, 8, 8, generator=g), torch.arange(12) % 3)
    torch.manual_seed(0)
    return data, torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))


def test_evaluate_is_the_function_and_matches_the_model() -> None:
    import overconf.api

    assert callable(overconf.evaluate) and overconf.evaluate.__module__ == "overconf.api"
    data, model = data_and_model()
    records = overconf.evaluate(model, data, "clean", device="cpu")
    with torch.no_grad():
        logits = model(data.tensors[0]).numpy()
    np.testing.assert_allclose(np.stack(records["logits"].to_list()), logits, rtol=1e-6)
    assert records["index"].tolist() == list(range(12)) and records["label"].tolist() == (torch.arange(12) % 3).tolist()
    table = overconf.summary_table(records)
    assert table.loc[0, "accuracy"] == pytest.approx((logits.argmax(1) == np.arange(12) % 3).mean())


def test_items_with_their_own_index_and_wrong_items() -> None:
    class WithIndex(torch.utils.data.Dataset):
        def __len__(self) -> int:
            return 4

        def __getitem__(self, i: int):
            return torch.zeros(1, 8, 8), 1, 100 + i

    _, model = data_and_model()
    assert overconf.evaluate(model, WithIndex(), device="cpu")["index"].tolist() == [100, 101, 102, 103]

    class Bare(WithIndex):
        def __getitem__(self, i: int):
            return torch.zeros(1, 8, 8)

    with pytest.raises(DataError, match=r"expected \(x, y\) or \(x, y, index\)"):
        overconf.evaluate(model, Bare(), device="cpu")
    with pytest.raises(DataError, match="only 12 samples"):
        overconf.evaluate(model, data_and_model()[0], n_examples=13, device="cpu")


def test_benchmark_rows_per_perturbation() -> None:
    data, model = data_and_model()
    table = overconf.benchmark(model, data, ["clean", "pgd:steps=2", "ood-uniform"], n_per_family={"attack": 5},
                               device="cpu", name="net")
    assert isinstance(table, pd.DataFrame)
    assert table["perturbation"].tolist() == ["clean", "pgd:steps=2", "ood-uniform"]
    assert table["n"].tolist() == [12, 5, 12] and set(table["model"]) == {"net"}
    clean = overconf.summary_table(overconf.evaluate(model, data, device="cpu"))
    assert table.loc[0, "ece"] == pytest.approx(clean.loc[0, "ece"])
