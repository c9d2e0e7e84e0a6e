"""The engine's feeding: records agree across batch sizes, worker counts and the path the data takes (the
contract of :mod:`overconf.evaluation.agreement`), and are bit-identical for the same settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from overconf.data.base import TensorImageSet
from overconf.data.corruptions import corrupt
from overconf.data.decode import decode_batch, read_encoded
from overconf.data.imagenet import ImageFolderSet
from overconf.errors import ConfigError
from overconf.evaluation.agreement import assert_records_agree
from overconf.evaluation.engine import CPU_AUTO_BATCH, BatchSource, engine_settings, evaluate
from overconf.evaluation.records import ModelInfo, make_records
from overconf.models.cnn import small_cnn
from overconf.perturb import create_perturbation

INFO = ModelInfo("m", "p", False, "fashion-mnist")
pytestmark = [pytest.mark.usefixtures("pinned_torch_threads"), pytest.mark.reproducibility]


def fashion_like(n: int = 40) -> TensorImageSet:
    g = torch.Generator().manual_seed(0)
    return TensorImageSet("fashion-mnist", torch.randint(0, 256, (n, 1, 28, 28), generator=g, dtype=torch.uint8),
                          torch.randint(0, 10, (n,), generator=g), 10)


@pytest.fixture(scope="module")
def cnn() -> nn.Module:
    torch.manual_seed(0)
    return small_cnn()


@pytest.mark.parametrize("spec", ["clean", "gaussian_noise", "glass_blur:severity=2", "pgd:steps=2", "ood-uniform"])
def test_records_agree_across_batch_sizes_and_workers(cnn: nn.Module, spec: str) -> None:
    data = fashion_like(40 if spec.startswith("pgd") else 510)  # 510: batch 500 makes two batches, one per worker
    settings = ((7, 0), (500, 0), (7, 2), (500, 2))
    tables = [evaluate(cnn, INFO, data, create_perturbation(spec, 0.1), batch_size=b, workers=w, progress=False)
              for b, w in settings]
    for table in tables[1:]:
        assert_records_agree(tables[0], table)
    expected_workers = [0, 0, 2, 2] if spec in ("gaussian_noise", "glass_blur:severity=2") else [0, 0, 0, 0]
    assert [engine_settings(t)["workers"] for t in tables] == expected_workers
    again = evaluate(cnn, INFO, data, create_perturbation(spec, 0.1), batch_size=7, workers=2, progress=False)
    assert again.equals(tables[2])  # same call, same settings, same machine: bit for bit


def test_corruptions_in_workers_equal_the_batchwise_perturbation(cnn: nn.Module) -> None:
    """Seeds drawn up front for the whole set are the stream the perturbation draws batch by batch."""
    data = fashion_like(30)
    table = evaluate(cnn, INFO, data, create_perturbation("fog", 0.1), batch_size=8, workers=2, seed=5, progress=False)
    generator = torch.Generator().manual_seed(5)
    x = torch.cat([corrupt(data.float_images(slice(i, i + 8)), "fog", 3, generator) for i in range(0, 30, 8)])
    with torch.no_grad():
        expected = cnn.eval()(x).numpy()
    assert_records_agree(make_records(INFO, "fog:severity=3", "corruption", np.arange(30), data.labels.numpy(),
                                      expected), table)


def test_batch_source_slices_in_memory_sets() -> None:
    data = fashion_like(10)
    source = BatchSource(data, 4)
    assert len(source) == 3
    x, y, index = source[2]
    assert torch.equal(x, data.float_images(slice(8, 10))) and y.tolist() == data.labels[8:].tolist()
    assert index.tolist() == [8, 9]


def jpeg_folder(root: Path, n: int = 10) -> list[tuple[Path, int]]:
    rng = np.random.default_rng(0)
    samples = []
    for i in range(n):
        folder = root / f"n{i % 3:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        image = Image.fromarray(rng.integers(0, 256, (9, 12, 3)).astype(np.uint8)).resize((80, 60), Image.BICUBIC)
        path = folder / f"img{i}.JPEG"
        image.save(path, quality=90)
        samples.append((path, i % 3))
    return samples


def test_folder_sets_decode_in_workers_with_identical_records(tmp_path: Path) -> None:
    data = ImageFolderSet("imagenet", jpeg_folder(tmp_path), 3, "Crop288")
    torch.manual_seed(0)
    model = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Flatten(), nn.Linear(48, 3))
    tables = [evaluate(model, INFO, data, create_perturbation("clean", 0.1), batch_size=b, workers=w, progress=False)
              for b, w in ((3, 0), (500, 2), (3, 2))]
    assert tables[0].column("index").to_pylist() == list(range(10))
    assert tables[0].column("label").to_pylist() == [i % 3 for i in range(10)]
    for table in tables[1:]:
        assert_records_agree(tables[0], table)
    assert engine_settings(tables[2])["workers"] == 2 and engine_settings(tables[1])["workers"] == 0  # one batch: no workers


@pytest.mark.parametrize("preprocessing,max_levels", [("Res256Crop224", 1), ("BicubicRes256Crop224", 2), ("Crop288", 0)])
def test_tensor_decoding_differs_from_pil_by_rounding_only(tmp_path: Path, preprocessing: str, max_levels: int) -> None:
    """The ``decode="gpu"`` pipeline run with libjpeg on the CPU: resizing in float instead of PIL's 8-bit
    integer arithmetic moves pixels by at most one or two gray levels. On average by 0.001–0.004 levels with
    torch's AVX2/AVX-512 uint8 resampling kernels, by up to 0.19 with its generic kernels
    (``ATEN_CPU_CAPABILITY=default``), so the mean is bounded at a quarter level."""
    samples = jpeg_folder(tmp_path, 4)
    data = ImageFolderSet("imagenet", samples, 3, preprocessing)
    pil = torch.stack([data[i][0] for i in range(len(data))])
    tensor = decode_batch([read_encoded(path) for path, _ in samples], preprocessing, "cpu")
    assert tensor.shape == pil.shape
    levels = ((tensor - pil).abs() * 255).round()
    assert float(levels.max()) <= max_levels and float(levels.mean()) < 0.25


def test_gpu_decode_needs_cuda_and_files(tmp_path: Path) -> None:
    data = ImageFolderSet("imagenet", jpeg_folder(tmp_path, 2), 3, "Crop288")
    model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 3))
    with pytest.raises(ConfigError, match="decode=gpu needs a CUDA device"):
        evaluate(model, INFO, data, create_perturbation("clean", 0.1), decode="gpu", progress=False)
    with pytest.raises(ConfigError, match="decode='jpeg': must be one of cpu, gpu"):
        evaluate(model, INFO, data, create_perturbation("clean", 0.1), decode="jpeg", progress=False)  # type: ignore[arg-type]


def test_auto_batch_size_threads_and_settings_are_recorded(cnn: nn.Module) -> None:
    before = torch.get_num_threads()
    table = evaluate(cnn, INFO, fashion_like(300), create_perturbation("clean", 0.1), batch_size="auto", threads=1,
                     progress=False)
    settings = engine_settings(table)
    assert settings == {"device": "cpu", "precision": "fp32", "attack_precision": "fp32", "channels_last": False,
                        "batch_size": CPU_AUTO_BATCH, "workers": 0, "threads": 1, "decode": "cpu"}
    assert torch.get_num_threads() == before
    small = evaluate(cnn, INFO, fashion_like(10), create_perturbation("clean", 0.1), batch_size="auto", progress=False)
    assert engine_settings(small)["batch_size"] == 10  # never more than the data set holds


@pytest.mark.parametrize("option,value", [("batch_size", 0), ("batch_size", "big"), ("workers", -1), ("threads", 0)])
def test_bad_engine_options_are_one_clear_error(cnn: nn.Module, option: str, value: object) -> None:
    with pytest.raises(ConfigError, match=option):
        evaluate(cnn, INFO, fashion_like(4), create_perturbation("clean", 0.1), progress=False, **{option: value})


def test_decode_batch_resizes_each_size_group_as_single_images_would(tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(1)
    paths = []
    for i, (w, h) in enumerate([(300, 260), (280, 300), (300, 260), (257, 400), (280, 300)]):
        paths.append(tmp_path / f"{i}.jpg")
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(paths[-1], quality=90)
    encoded = [read_encoded(p) for p in paths]
    together = decode_batch(encoded, "Res256Crop224", "cpu")
    alone = torch.cat([decode_batch([e], "Res256Crop224", "cpu") for e in encoded])
    assert together.shape == (5, 3, 224, 224)
    assert torch.equal(together, alone)  # grouping by size changes nothing, not even the last bit


def test_out_of_memory_is_one_clear_error_naming_cell_and_batch_size(cnn: nn.Module) -> None:
    class Hungry(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    with pytest.raises(ConfigError) as err:
        evaluate(Hungry(), INFO, fashion_like(20), create_perturbation("clean", 0.1), batch_size=8, progress=False)
    assert "model 'm' on fashion-mnist · clean: out of cpu memory at batch size 8" in err.value.message
    assert "batch_size" in (err.value.hint or "")


@pytest.mark.parametrize("key", ["workers", "threads"])
def test_workers_and_threads_beyond_any_use_are_refused(cnn: nn.Module, key: str) -> None:
    from overconf.evaluation.runtime import OVERSUBSCRIPTION, available_cores

    too_many = OVERSUBSCRIPTION * available_cores() + 1
    with pytest.raises(ConfigError, match=f"{key} = {too_many} on a machine with"):
        evaluate(cnn, INFO, fashion_like(20), create_perturbation("clean", 0.1), progress=False, **{key: too_many})
