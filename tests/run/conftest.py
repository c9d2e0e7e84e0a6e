"""A user's own pair on an image folder, as examples/my-pair ships it, built in a temporary folder."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "my-pair"


def make_my_pair(root: Path) -> Path:
    """examples/my-pair copied under ``root`` with 5 random 36×40 PNGs in each of 10 class folders and random
    checkpoints; returns the spec file. ``mymodels`` is importable only through the spec's folder."""
    folder = root / "my-pair"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", "data", "ckpt"))
    rng = np.random.default_rng(0)
    for c in range(10):
        (folder / "data" / "test" / f"class{c:02d}").mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (36, 40, 3), dtype=np.uint8)).save(
                folder / "data" / "test" / f"class{c:02d}" / f"{i}.png")
    sys.path.insert(0, str(folder))
    try:
        import mymodels

        mymodels.save_random_checkpoints(str(folder / "ckpt"))
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("mymodels", None)
    return folder / "spec.toml"


@pytest.fixture()
def my_pair(tmp_path: Path) -> Path:
    return make_my_pair(tmp_path)


@pytest.fixture(scope="session")
def my_pair_factory():  # type: ignore[no-untyped-def]
    """:func:`make_my_pair` for fixtures of wider scope."""
    return make_my_pair
