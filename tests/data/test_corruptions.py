"""The 15 corruptions: shapes, ranges, seeding, and closed-form / reference checks per corruption."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch

from overconf.data.corruptions import (
    CORRUPTIONS,
    SEVERITIES,
    corrupt,
    disk_kernel,
    frost_texture,
    motion_kernel,
    plasma_fractal,
)
from overconf.errors import ConfigError

pytestmark = pytest.mark.usefixtures("pinned_torch_threads")


RANDOM_FREE = {"defocus_blur", "zoom_blur", "brightness", "contrast", "pixelate", "jpeg_compression"}


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def images(shape: tuple[int, int, int, int], seed: int = 0) -> torch.Tensor:
    """Smooth-ish random images quantised to 1/255, like decoded data."""
    g = torch.Generator().manual_seed(seed)
    coarse = torch.rand((shape[0], shape[1], 4, 4), generator=g)
    x = torch.nn.functional.interpolate(coarse, size=shape[2:], mode="bilinear", align_corners=False)
    return torch.floor(x * 255) / 255


@pytest.mark.parametrize("name", CORRUPTIONS)
@pytest.mark.parametrize("shape", [(3, 1, 28, 28), (2, 3, 32, 32), (2, 3, 20, 24), (2, 1, 8, 8)])
def test_every_corruption_and_severity_is_a_quantised_image_of_the_same_shape(name: str, shape: tuple) -> None:
    x = images(shape)
    previous = None
    for severity in SEVERITIES:
        y = corrupt(x, name, severity, gen())
        assert y.shape == x.shape and y.dtype == torch.float32
        assert float(y.min()) >= 0 and float(y.max()) <= 1
        assert torch.equal(torch.round(y * 255), y * 255), "outputs are multiples of 1/255"
        assert torch.equal(y, corrupt(x, name, severity, gen())), "deterministic under a seed"
        # motion blur 3 → 4 only lengthens the kernel past taps of weight e^(−36/8) (σ = 2 in both, as in the
        # CIFAR-10-C table); elastic severities are not nested
        same_allowed = name == "elastic_transform" or (name == "motion_blur" and severity == 4)
        if previous is not None and not same_allowed and shape[2] >= 20:
            assert not torch.equal(y, previous), "severities differ"
        previous = y
    if name not in RANDOM_FREE:
        assert not torch.equal(corrupt(x, name, 3, gen(0)), corrupt(x, name, 3, gen(1)))


@pytest.mark.parametrize("name", ["gaussian_noise", "glass_blur", "motion_blur", "snow", "frost", "fog", "elastic_transform"])
def test_an_image_gets_the_same_corruption_whatever_the_batch_size(name: str) -> None:
    x = images((6, 1, 16, 16))
    g = gen(3)
    split = torch.cat([corrupt(x[:2], name, 4, g), corrupt(x[2:], name, 4, g)])
    assert torch.equal(split, corrupt(x, name, 4, gen(3)))


@pytest.mark.parametrize("name", ["defocus_blur", "glass_blur", "motion_blur", "zoom_blur", "contrast", "pixelate", "elastic_transform"])
def test_constant_images_stay_constant(name: str) -> None:
    x = torch.full((2, 3, 32, 32), 100 / 255)
    for severity in SEVERITIES:
        y = corrupt(x, name, severity, gen())
        assert float((y - x).abs().max()) <= 1 / 255 + 1e-7, (name, severity)


def test_jpeg_of_a_constant_gray_image_is_exact() -> None:
    x = torch.full((1, 1, 16, 16), 128 / 255)
    assert torch.equal(corrupt(x, "jpeg_compression", 5), x)


def test_gaussian_noise_has_the_table_sigma() -> None:
    x = torch.full((200, 1, 32, 32), 0.5)
    for severity, sigma in zip(SEVERITIES, (0.04, 0.06, 0.08, 0.09, 0.10)):
        d = (corrupt(x, "gaussian_noise", severity, gen()) - x).double()
        # floor-quantisation adds a uniform [−1/255, 0) error: mean −0.5/255, variance 1/(12·255²)
        assert float(d.mean()) == pytest.approx(-0.5 / 255, abs=1e-3)
        assert float(d.var()) == pytest.approx(sigma**2 + 1 / (12 * 255**2), rel=0.02)


def test_shot_noise_is_poisson_with_the_table_photon_count() -> None:
    x = torch.full((200, 1, 32, 32), 0.4)
    d = (corrupt(x, "shot_noise", 5, gen()) - x).double()  # c = 50: variance 0.4/50
    assert float(d.var()) == pytest.approx(0.4 / 50 + 1 / (12 * 255**2), rel=0.03)


def test_impulse_noise_flips_the_table_fraction_to_black_or_white() -> None:
    x = torch.full((100, 3, 32, 32), 0.5)
    y = corrupt(x, "impulse_noise", 5, gen())  # c = 0.07
    flipped = y != torch.floor(x * 255) / 255
    assert float(flipped.float().mean()) == pytest.approx(0.07, abs=0.003)
    assert set(torch.unique(y[flipped]).tolist()) == {0.0, 1.0}
    assert float((y[flipped] == 1).float().mean()) == pytest.approx(0.5, abs=0.02)


def test_contrast_is_the_table_formula() -> None:
    x = images((2, 3, 32, 32))
    for severity, c in zip(SEVERITIES, (0.75, 0.5, 0.4, 0.3, 0.15)):
        mean = x.double().mean(dim=(2, 3), keepdim=True)
        expected = torch.floor(((x.double() - mean) * c + mean).clamp(0, 1) * 255 + 1e-6) / 255
        assert torch.equal(corrupt(x, "contrast", severity), expected.float())


def test_brightness_matches_an_hsv_round_trip() -> None:
    x = images((1, 3, 8, 8), seed=5)
    for severity, c in zip(SEVERITIES, (0.05, 0.1, 0.15, 0.2, 0.3)):
        y = corrupt(x, "brightness", severity)
        for i, j in [(0, 0), (3, 5), (7, 7)]:
            h, s, v = colorsys.rgb_to_hsv(*x[0, :, i, j].double().tolist())
            expected = colorsys.hsv_to_rgb(h, s, min(v + c, 1.0))
            np.testing.assert_allclose(y[0, :, i, j].numpy(), np.floor(np.array(expected) * 255 + 1e-6) / 255, atol=1e-6)
    gray = torch.full((1, 1, 4, 4), 0.2)
    assert torch.allclose(corrupt(gray, "brightness", 5), torch.full_like(gray, np.floor(0.5 * 255 + 1e-6) / 255))
    black = torch.zeros(1, 3, 2, 2)
    assert torch.allclose(corrupt(black, "brightness", 1), torch.full_like(black, np.floor(0.05 * 255) / 255))


def test_fog_of_a_black_image_stays_black() -> None:  # (x + a·plasma) · max(x) / (max(x) + a) with max(x) = 0
    assert torch.equal(corrupt(torch.zeros(2, 1, 28, 28), "fog", 5, gen()), torch.zeros(2, 1, 28, 28))


def test_pixelate_averages_boxes() -> None:
    # 20 px at 0.65 → 13 px and back: a two-tone vertical edge becomes a ramp between the two tones
    x = torch.zeros(1, 1, 20, 20)
    x[..., 10:] = 1.0
    y = corrupt(x, "pixelate", 5)[0, 0]
    assert torch.equal(y[0], y[-1]) and float(y[0, 0]) == 0 and float(y[0, -1]) == 1
    assert 0 < float(y[0, 9]) < 1 or 0 < float(y[0, 10]) < 1


def test_disk_kernel_and_motion_kernel() -> None:
    k = disk_kernel(1.5, 0.1)
    assert k.sum() == pytest.approx(1.0) and np.allclose(k, k.T) and np.allclose(k, k[::-1])
    assert disk_kernel(0.3, 0.4).shape == (3, 3)
    offsets, weights = motion_kernel(6, 2.0, 90.0)
    assert offsets == [(i, 0) for i in range(13)]
    np.testing.assert_allclose(weights, np.exp(-np.arange(13) ** 2 / 8) / np.exp(-np.arange(13) ** 2 / 8).sum())


def test_plasma_fractal_and_frost_texture_are_seeded_maps_in_unit_range() -> None:
    a = plasma_fractal(32, 2.0, np.random.default_rng(0))
    assert a.shape == (32, 32) and a.min() == 0 and a.max() == 1
    assert np.array_equal(a, plasma_fractal(32, 2.0, np.random.default_rng(0)))
    with pytest.raises(ValueError):
        plasma_fractal(30, 2.0, np.random.default_rng(0))
    f = frost_texture(28, 28, 0.875, np.random.default_rng(0))
    assert f.shape == (28, 28) and f.min() >= 0 and f.max() <= 1 and 0.2 < f.mean() < 0.8


def test_stronger_severities_move_images_further_on_average() -> None:
    x = images((20, 1, 28, 28))
    for name in ("gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "zoom_blur", "fog", "contrast",
                 "brightness", "pixelate", "jpeg_compression"):
        distances = [float((corrupt(x, name, s, gen()) - x).abs().mean()) for s in SEVERITIES]
        assert distances[0] < distances[2] < distances[4], (name, distances)


def test_bad_names_and_severities() -> None:
    x = images((1, 1, 8, 8))
    with pytest.raises(ConfigError):
        corrupt(x, "rain", 3)
    for severity in (0, 6, 2.5, True):
        with pytest.raises(ConfigError):
            corrupt(x, "fog", severity)  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        corrupt(x[0], "fog", 3)


def test_clipped_zoom_equals_scipy_zoom_of_the_centre() -> None:
    import math

    from scipy import ndimage

    from overconf.data.corruptions import ZOOM_FACTORS, _clipped_zoom

    x = np.random.default_rng(0).random((2, 3, 28, 30))
    for factor in ZOOM_FACTORS[-1]:
        ch, cw = math.ceil(28 / factor), math.ceil(30 / factor)
        top, left = (28 - ch) // 2, (30 - cw) // 2
        ref = ndimage.zoom(x[:, :, top:top + ch, left:left + cw], (1, 1, factor, factor), order=1)
        th, tw = (ref.shape[2] - 28) // 2, (ref.shape[3] - 30) // 2
        np.testing.assert_allclose(_clipped_zoom(x, float(factor)), ref[:, :, th:th + 28, tw:tw + 30], atol=1e-9)
