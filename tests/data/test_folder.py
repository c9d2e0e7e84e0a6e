"""The imagefolder and npz data sets: layout, classes, ranges and labels checked with clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from overconf.data.base import DATASETS
from overconf.data.folder import load_image_folder, load_npz
from overconf.errors import ConfigError, DataError, MissingFileError
from overconf.run.data import dataset_names


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
