"""The imagefolder and npz data sets: layout, classes, ranges and labels checked with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from overconf.data.base import DATASETS
from overconf.data.folder import load_image_folder, load_npz
from overconf.data.named import dataset_names
from overconf.errors import ConfigError, DataError, MissingFileError


def test_registered() -> None:
    assert {"imagefolder", "npz"} <= set(dataset_names())
    assert DATASETS.get("npz") is load_npz


def test_image_folder_classes_order_and_resize(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    pixels = {}
    for cls in ("b_dog", "a_cat"):
        (tmp_path / cls).mkdir()
        for name in ("2.png", "1.jpg"):
            array = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
            Image.fromarray(array).save(tmp_path / cls / name, quality=100)
            pixels[(cls, name)] = array
    (tmp_path / "a_cat" / "notes.txt").write_text("ignored")
    data = load_image_folder(path=tmp_path, num_classes=5)
    assert len(data) == 4 and [data[i][1] for i in range(4)] == [0, 0, 1, 1]
    x, y, index = data[1]
    assert (x.shape, y, index) == ((3, 10, 12), 0, 1)
    np.testing.assert_array_equal((x * 255).round().byte().permute(1, 2, 0).numpy(), pixels[("a_cat", "2.png")])
    assert load_image_folder(path=tmp_path, num_classes=5, image_size=8)[0][0].shape == (3, 8, 8)
    assert len(data.subset(3)) == 3 and data.fingerprint() == load_image_folder(path=tmp_path, num_classes=5).fingerprint()
    with pytest.raises(ConfigError, match="num_classes must be an integer"):
        load_image_folder(path=tmp_path, num_classes=1)
    with pytest.raises(MissingFileError, match="not found"):
        load_image_folder(path=tmp_path / "nope", num_classes=2)
    (tmp_path / "c_empty").mkdir()
    with pytest.raises(DataError, match="3 class folders but num_classes = 2"):
        load_image_folder(path=tmp_path, num_classes=2)


def test_npz_layouts_and_checks(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    hwc = rng.integers(0, 256, (4, 6, 6, 3), dtype=np.uint8)
    np.savez(tmp_path / "u8.npz", x=hwc, y=np.array([0, 1, 2, 1]))
    data = load_npz(path=tmp_path / "u8.npz", num_classes=3)
    np.testing.assert_allclose(data[2][0].numpy(), hwc[2].transpose(2, 0, 1) / 255, atol=1e-7)
    chw = rng.random((3, 1, 5, 5)).astype(np.float32)
    np.savez(tmp_path / "f.npz", x=chw, y=np.array([0, 1, 1]))
    assert torch.equal(load_npz(path=tmp_path / "f.npz", num_classes=2)[1][0], torch.from_numpy(chw[1]))
    assert load_npz(path=tmp_path / "u8.npz", num_classes=3, image_size=4)[0][0].shape == (3, 4, 4)
    bad = {
        "range": ({"x": chw * 2, "y": np.array([0, 1, 1])}, "must lie in \\[0, 1\\]"),
        "labels": ({"x": hwc, "y": np.array([0, 1, 2, 3])}, "labels 0..3 outside 0..2"),
        "count": ({"x": hwc, "y": np.array([0, 1])}, "expected 4 integers"),
        "shape": ({"x": hwc[..., 0], "y": np.array([0, 1, 2, 1])}, "expected 4 dimensions"),
        "layout": ({"x": hwc.transpose(0, 3, 1, 2).copy(), "y": np.array([0, 1, 2, 1])}, "not N×H×W×C"),
        "missing": ({"images": hwc}, "no array 'x'"),
    }
    for name, (arrays, message) in bad.items():
        np.savez(tmp_path / f"{name}.npz", **arrays)
        with pytest.raises(DataError, match=message):
            load_npz(path=tmp_path / f"{name}.npz", num_classes=3)


def _jpeg_folder(root: Path, mode: str = "RGB", suffix: str = ".jpg") -> Path:
    rng = np.random.default_rng(1)
    for k, cls in enumerate(("cat", "dog")):
        (root / cls).mkdir(parents=True)
        for j in range(2):
            shape = (20 + 3 * j, 26) if mode == "L" else (20 + 3 * j, 26, 3)
            Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(root / cls / f"{k}{j}{suffix}", quality=95)
    return root


def test_one_image_file_class_for_every_folder_set(tmp_path: Path) -> None:
    from overconf.data.folder import ImageFolderSet
    from overconf.data.imagenet import ImageFolderSet as ImageNetSet

    assert ImageNetSet is ImageFolderSet
    data = load_image_folder(path=_jpeg_folder(tmp_path / "f"), num_classes=2, image_size=8)
    assert isinstance(data, ImageFolderSet) and (data.preprocessing, data.mode, data.channels) == ("Res8Crop8", "RGB", 3)
    with pytest.raises(DataError, match=r"images of different sizes \(00.jpg is 26×20, cat/01.jpg is 26×23\)"):
        load_image_folder(path=tmp_path / "f", num_classes=2)  # without image_size they could not be batched
    for n in (0, -1):  # the n ≥ 1 check FolderImageSet.subset used to lack
        with pytest.raises(ConfigError, match=f"n_examples={n}: must be an integer >= 1"):
            data.subset(n)
    part = data.subset(3)
    assert isinstance(part, ImageFolderSet) and len(part) == 3 and len(data) == 4
    assert (part.preprocessing, part.mode, part.samples) == (data.preprocessing, data.mode, data.samples[:3])
    with pytest.raises(ConfigError, match="unknown preprocessing 'Res8'"):
        ImageFolderSet("x", data.samples, 2, "Res8")
    (tmp_path / "f" / "cat" / "00.jpg").write_bytes(b"not an image")
    with pytest.raises(DataError, match="00.jpg: not a readable image"):
        data[0]


@pytest.mark.reproducibility
@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_user_folder_decodes_on_the_device_path_like_pil(tmp_path: Path, mode: str) -> None:
    """The tensor pipeline of ``decode="gpu"`` (libjpeg on the CPU here) on a user folder with ``image_size``
    gives PIL's images up to rounding, in the folder's mode (1 channel for grayscale files)."""
    from overconf.data.decode import decode_batch, read_encoded

    data = load_image_folder(path=_jpeg_folder(tmp_path, mode), num_classes=2, image_size=16)
    assert data.mode == mode
    pil = torch.stack([data[i][0] for i in range(len(data))])
    tensor = decode_batch([read_encoded(p) for p, _ in data.samples], data.preprocessing, "cpu", data.mode)
    assert tensor.shape == pil.shape == (4, data.channels, 16, 16)
    levels = ((tensor - pil).abs() * 255).round()
    assert float(levels.max()) <= 2 and float(levels.mean()) < 0.25  # generic kernels: see test_engine_feeding


def test_engine_accepts_user_jpeg_folders_for_gpu_decode(tmp_path: Path) -> None:
    """The engine's decode=gpu check: a user JPEG folder passes the data set check (on a machine without
    CUDA the device check then refuses); PNG files and in-memory sets are refused with their reason."""
    from torch import nn

    from overconf.data.base import TensorImageSet
    from overconf.data.decode import check_gpu_decodable
    from overconf.evaluation.engine import evaluate
    from overconf.evaluation.records import ModelInfo
    from overconf.perturb import create_perturbation

    model = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(3, 2))
    info = ModelInfo("m", "p", False, "imagefolder")
    clean = create_perturbation("clean", 0.1)
    jpegs = load_image_folder(path=_jpeg_folder(tmp_path / "jpeg"), num_classes=2, image_size=16)
    check_gpu_decodable(jpegs)
    with pytest.raises(ConfigError, match="decode=gpu needs a CUDA device, but the run uses cpu"):
        evaluate(model, info, jpegs, clean, decode="gpu", progress=False)
    pngs = load_image_folder(path=_jpeg_folder(tmp_path / "png", suffix=".png"), num_classes=2, image_size=16)
    with pytest.raises(ConfigError, match=r"decode=gpu decodes JPEG files only, but png: .*\(e.g. 00.png\)"):
        evaluate(model, info, pngs, clean, decode="gpu", progress=False)
    memory = TensorImageSet("toy", torch.zeros(2, 3, 4, 4), torch.zeros(2, dtype=torch.int64), 2)
    with pytest.raises(ConfigError, match="decode=gpu needs a data set of image files, which toy is not"):
        evaluate(model, info, memory, clean, decode="gpu", progress=False)
