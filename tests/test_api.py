"""The public API: overconf.evaluate is the function, benchmark takes any map-style dataset and spec strings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import overconf
from overconf.errors import ConfigError, DataError


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
    records = overconf.evaluate(model, WithIndex(), device="cpu", num_classes=3)  # its labels show only class 1
    assert records["index"].tolist() == [100, 101, 102, 103]

    class Bare(WithIndex):
        def __getitem__(self, i: int):
            return torch.zeros(1, 8, 8)

    with pytest.raises(DataError, match=r"expected \(x, y\) or \(x, y, index\)"):
        overconf.evaluate(model, Bare(), device="cpu")
    with pytest.raises(DataError, match="only 12 samples"):
        overconf.evaluate(model, data_and_model()[0], n_examples=13, device="cpu")


def test_benchmark_rows_per_perturbation() -> None:
    data, model = data_and_model()
    table = overconf.benchmark(model, data, ["clean", "pgd:steps=2", "ood-uniform"], n_examples={"attack": 5},
                               device="cpu", name="net")
    assert isinstance(table, pd.DataFrame)
    assert table["perturbation"].tolist() == ["clean", "pgd:steps=2", "ood-uniform"]
    assert table["n"].tolist() == [12, 5, 12] and set(table["model"]) == {"net"}
    clean = overconf.summary_table(overconf.evaluate(model, data, device="cpu"))
    assert table.loc[0, "ece"] == pytest.approx(clean.loc[0, "ece"])


def test_benchmark_limits_every_family_or_some_and_keeps_the_old_name_with_a_warning() -> None:
    data, model = data_and_model()
    specs = ["clean", "pgd:steps=2"]
    assert overconf.benchmark(model, data, specs, n_examples=10, device="cpu")["n"].tolist() == [10, 10]
    with pytest.warns(DeprecationWarning, match="n_per_family is deprecated"):
        table = overconf.benchmark(model, data, specs, n_examples=10, n_per_family={"attack": 5}, device="cpu")
    assert table["n"].tolist() == [10, 5]
    with pytest.raises(ConfigError, match="unknown family in n_examples 'atack'"):
        overconf.benchmark(model, data, specs, n_examples={"atack": 5}, device="cpu")


def test_images_are_checked_for_dtype_range_and_channels() -> None:
    images = torch.rand(8, 3, 8, 8)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 2))
    labels = torch.arange(8) % 2
    with pytest.raises(DataError, match=r"dtype torch.uint8 \(0..255 pixels\).*divide uint8 pixels by 255"):
        overconf.evaluate(net, torch.utils.data.TensorDataset((images * 255).to(torch.uint8), labels), device="cpu")
    normalised = (images - 0.5) / 0.25
    with pytest.raises(DataError, match=r"pixel values -\d.*expected \[0, 1\].*leave normalisation to the model"):
        overconf.benchmark(net, torch.utils.data.TensorDataset(normalised, labels), device="cpu")
    conv = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.Flatten(), torch.nn.LazyLinear(2))
    gray = torch.utils.data.TensorDataset(torch.rand(8, 1, 8, 8), labels)
    with pytest.raises(DataError, match="model expects 3 channels, data has 1"):
        overconf.evaluate(conv, gray, device="cpu")


def test_num_classes_is_inferred_and_the_logits_checked_against_it() -> None:
    from overconf.errors import ModelOutputError

    data = torch.utils.data.TensorDataset(torch.rand(20, 1, 4, 4), torch.arange(20) % 10)
    head = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 12))
    with pytest.raises(ModelOutputError, match="12 logits for a 10-class data set") as info:
        overconf.benchmark(head, data, device="cpu")
    assert "num_classes" in (info.value.hint or "")
    assert len(overconf.evaluate(head, data, device="cpu", num_classes=12)) == 20


def test_dict_rows_as_hugging_face_yields_them() -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (6, 8, 8, 3), dtype=np.uint8)
    rows = [{"image": Image.fromarray(p), "label": i % 2} for i, p in enumerate(pixels)]
    arrays = [{"img": p, "fine_label": i % 2} for i, p in enumerate(pixels)]
    tensors = torch.utils.data.TensorDataset(torch.from_numpy(pixels).permute(0, 3, 1, 2).float() / 255,
                                             torch.arange(6) % 2)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 2))
    expected = overconf.evaluate(net, tensors, device="cpu")
    for data, keys in ((rows, ("image", "label")), (arrays, ("img", "fine_label"))):
        got = overconf.evaluate(net, data, device="cpu", keys=keys)  # type: ignore[arg-type]
        np.testing.assert_allclose(np.stack(got["logits"].to_list()), np.stack(expected["logits"].to_list()),
                                   rtol=1e-6, atol=1e-7)
    with pytest.raises(DataError, match="lacking 'image'"):
        overconf.evaluate(net, arrays, device="cpu")  # type: ignore[arg-type]


def test_compare_writes_a_one_pair_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    g = torch.Generator().manual_seed(0)
    data = torch.utils.data.TensorDataset(torch.rand(16, 3, 8, 8, generator=g), torch.arange(16) % 4)
    torch.manual_seed(0)
    robust, normal = (torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(192, 4)) for _ in range(2))
    out = tmp_path / "pair"
    result = overconf.compare(robust, normal, data, ["clean", "ood-uniform"], out=out, mean=[0.5] * 3, std=[0.25] * 3,
                              device="cpu")
    assert sorted(p.relative_to(out).as_posix() for p in out.glob("records/*/*.parquet")) == [
        "records/pair-normal/clean.parquet", "records/pair-normal/ood-uniform.parquet",
        "records/pair-robust/clean.parquet", "records/pair-robust/ood-uniform.parquet"]
    assert result.report is not None and result.report.is_file() and (out / "summary.csv").is_file()
    records = overconf.read_records(out)
    clean = records[(records["model"] == "pair-robust") & (records["perturbation"] == "clean")].sort_values("index")
    with torch.no_grad():
        logits = robust((data.tensors[0] - 0.5) / 0.25).numpy()
    np.testing.assert_allclose(np.stack(clean["logits"].to_list()), logits, rtol=1e-5, atol=1e-6)
    again = overconf.compare(robust, normal, data, ["clean", "ood-uniform"], out=out, mean=[0.5] * 3, std=[0.25] * 3,
                             device="cpu", report=False)
    assert again.written == [] and again.done_before == 4
    with torch.no_grad():
        robust[1].weight.add_(1.0)  # other weights under the same name: refused, not mixed
    from overconf.errors import ConfigError

    with pytest.raises(ConfigError, match="differs in model.parameters_sha256"):
        overconf.compare(robust, normal, data, ["clean"], out=out, mean=[0.5] * 3, std=[0.25] * 3, device="cpu")


def test_compare_with_mean_and_std_of_other_channels_says_so(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Checked before anything runs (a Normalize of 3 values would silently broadcast 1-channel images)."""
    data = torch.utils.data.TensorDataset(torch.rand(4, 1, 8, 8), torch.arange(4) % 2)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2))
    from overconf.errors import ConfigError

    with pytest.raises(ConfigError, match="mean/std have 3 values, the data has 1 channel"):
        overconf.compare(net, net, data, out=tmp_path / "run", mean=[0.5] * 3, std=[0.2] * 3, device="cpu")
    assert not (tmp_path / "run").exists()
    broken = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3, 2))
    with pytest.raises(ConfigError, match="1 of 2 models failed") as info:
        overconf.compare(broken, net, data, out=tmp_path / "run", device="cpu", report=False)
    assert "logs" in (info.value.hint or "") and (tmp_path / "run" / "summary.csv").is_file()
    log = (tmp_path / "run" / "logs" / "pair-robust.log").read_text()
    assert "Traceback" in log and "mat1 and mat2" in log
