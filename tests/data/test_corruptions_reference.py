"""Our corruptions against outputs of the original CIFAR-10-C generator.

``reference/cifar10c_reference.npz`` holds 3 test-like 32×32 RGB images and their corruptions at severities
2 and 5, as produced by the functions of ``make_cifar_c.py`` (hendrycks/robustness, commit ca36008) run with
OpenCV 5.0, scikit-image 0.26 and ImageMagick 6 through Wand, and saved as uint8 like the published set.
Where the original draws random numbers, the file holds the draws (motion and snow angles, snow noise) or
the original ran on ``np.random.seed(k)`` for image ``k`` (fog, glass blur, elastic), which we replay through
a legacy ``RandomState``. Frost (our texture is synthetic) and the three noises (plain NumPy draws) are not
in the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from overconf.data import corruptions as C

REFERENCE = Path(__file__).parent / "reference" / "cifar10c_reference.npz"


class Replay:
    """Stands in for a ``np.random.Generator``: returns the original's draws for one image."""

    def __init__(self, seed: int, noise: np.ndarray | None = None, angle: float | None = None) -> None:
        self.legacy, self.noise, self.angle = np.random.RandomState(seed), noise, angle

    def uniform(self, low: float, high: float, size: object = None) -> object:
        if self.angle is not None and size is None:
            return self.angle
        return self.legacy.uniform(low, high, size)

    def integers(self, low: int, high: int, size: object) -> np.ndarray:
        return self.legacy.randint(low, high, size=size)

    def normal(self, loc: float, scale: float, size: tuple[int, ...]) -> np.ndarray:
        assert self.noise is not None
        return (loc + scale * self.noise).reshape(size)


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    with np.load(REFERENCE) as data:
        return dict(data)


@pytest.mark.parametrize("severity", [2, 5])
@pytest.mark.parametrize(
    "name",
    ["defocus_blur", "zoom_blur", "contrast", "brightness", "jpeg_compression", "pixelate", "motion_blur", "snow",
     "fog", "glass_blur", "elastic_transform"],
)
def test_matches_the_original_generator_within_one_gray_level(reference: dict, name: str, severity: int) -> None:
    images = reference["images"].astype(np.float64).transpose(0, 3, 1, 2) / 255
    if name == "motion_blur":
        rngs = [Replay(k, angle=a) for k, a in enumerate(reference["motion_angles"])]
    elif name == "snow":
        rngs = [Replay(k, noise=n, angle=a) for k, (n, a) in enumerate(zip(reference["snow_noise"], reference["snow_angles"]))]
    else:
        rngs = [Replay(k) for k in range(len(images))]
    ours = C.FUNCTIONS[name](images.copy(), severity, rngs)
    ours = np.floor(np.clip(ours, 0, 1) * 255 + 1e-6).astype(int).transpose(0, 2, 3, 1)
    diff = np.abs(ours - reference[f"{name}_{severity}"].astype(int))
    assert diff.max() <= 1
    assert (diff == 0).mean() >= 0.98
