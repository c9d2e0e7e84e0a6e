"""ImageNet validation loader on a tiny folder of JPEGs, against RobustBench's own loader."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from overconf.data.base import DATASETS
from overconf.data.imagenet import class_index, load_imagenet, robustbench_image_ids
from overconf.errors import DataError, MissingFileError


def _write_images(root, relative, seed=0):
    rng = np.random.default_rng(seed)
    for k, rel in enumerate(relative):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        size = (300 + 7 * k, 260)  # not square: the resize/crop matters
        Image.fromarray(rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)).save(path)


def test_sorted_order_labels_and_preprocessing(tmp_path):
    rels = ["n01440764/b.JPEG", "n01440764/a.JPEG", "n15075141/c.JPEG"]
    _write_images(tmp_path / "val", rels)
    ds = DATASETS.get("imagenet")(data_dir=tmp_path, order="sorted")
    assert [p.name for p, _ in ds.samples] == ["a.JPEG", "b.JPEG", "c.JPEG"]
    assert [y for _, y in ds.samples] == [0, 0, 999]
    x, y, index = ds[2]
    assert x.shape == (3, 224, 224) and 0 <= x.min() and x.max() <= 1 and (y, index) == (999, 2)
    # Resize(256) then CenterCrop(224), done by hand on the PIL image.
    image = Image.open(tmp_path / "val" / rels[2]).convert("RGB")
    w, h = image.size
    resized = image.resize((round(256 * w / h), 256) if w > h else (256, round(256 * h / w)), Image.BILINEAR)
    left, top = (resized.size[0] - 224) // 2, (resized.size[1] - 224) // 2
    crop = np.asarray(resized.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 255
    torch.testing.assert_close(x, torch.from_numpy(crop).permute(2, 0, 1), atol=1 / 255 + 1e-6, rtol=0)
    assert len(ds.subset(2)) == 2 and ds.subset(2)[1][1] == 0


def test_robustbench_order_matches_robustbench_loader(tmp_path, monkeypatch):
    ids = robustbench_image_ids()
    assert len(ids) == 5000
    from overconf._compat import import_robustbench

    import_robustbench()
    import robustbench.loaders as rb_loaders

    # RobustBench's loader needs all 5,000 files: check its first items against ours on a short list.
    short = list(ids[:4])
    monkeypatch.setattr("overconf.data.imagenet.robustbench_image_ids", lambda: tuple(short))
    monkeypatch.setattr(rb_loaders, "make_custom_dataset", lambda root, _, c2i: [
        (str(root) + "/" + r, c2i[r.split("/")[0]]) for r in short])
    _write_images(tmp_path / "val", short)
    # RobustBench indexes classes by the folders present: add the others so both use 0..999.
    for wnid in class_index([]):
        (tmp_path / "val" / wnid).mkdir(exist_ok=True)
    from robustbench.data import PREPROCESSINGS

    theirs = rb_loaders.CustomImageFolder(str(tmp_path / "val"), PREPROCESSINGS["Res256Crop224"])
    ours = load_imagenet(data_dir=tmp_path)
    for i in range(len(short)):
        x, y, _ = ours[i]
        tx, ty, _ = theirs[i]
        assert y == ty
        torch.testing.assert_close(x, tx, rtol=0, atol=0)


def test_missing_and_unreadable(tmp_path, monkeypatch):
    monkeypatch.delenv("OVERCONF_DATA", raising=False)
    with pytest.raises(MissingFileError, match="ImageNet"):
        load_imagenet(data_dir=tmp_path)
    (tmp_path / "val" / "n01440764").mkdir(parents=True)
    with pytest.raises(MissingFileError, match="5000"):
        load_imagenet(data_dir=tmp_path)
    (tmp_path / "val" / "n01440764" / "x.JPEG").write_bytes(b"not a jpeg")
    ds = load_imagenet(data_dir=tmp_path, order="sorted")
    with pytest.raises(DataError, match="not a readable image"):
        ds[0]
