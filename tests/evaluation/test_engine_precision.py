"""Precision and memory layout: fp32 is today's exact records; bf16/fp16 autocast agree with fp32 on the demo
models (CPU autocast runs both, so this runs in CI); attacks stay fp32 unless asked."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from overconf.data.base import TensorImageSet
from overconf.evaluation.agreement import assert_records_agree
from overconf.evaluation.engine import engine_settings, evaluate
from overconf.evaluation.records import ModelInfo, make_records
from overconf.models.cnn import small_cnn
from overconf.perturb import create_perturbation
from overconf.run.demo import PAIRS

INFO = ModelInfo("m", "p", False, "fashion-mnist")
pytestmark = pytest.mark.usefixtures("pinned_torch_threads")


def class_patterns(n: int, seed: int) -> TensorImageSet:
    """Fashion-MNIST-shaped images: one random template per class plus noise (learnable in a few steps)."""
    templates = torch.rand((10, 1, 28, 28), generator=torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 10, (n,), generator=g)
    x = (0.4 * templates[labels] + 0.6 * torch.rand((n, 1, 28, 28), generator=g)).mul(255).round().to(torch.uint8)
    return TensorImageSet("fashion-mnist", x, labels, 10)


@pytest.fixture(scope="module")
def demo_models() -> dict[str, nn.Module]:
    """The three demo architectures, trained briefly (30 Adam steps, to about the accuracy of the demo models) so that predictions are not coin flips."""
    train = class_patterns(400, seed=1)
    models = {}
    for pair, activation, downsampling in PAIRS:
        torch.manual_seed(0)
        model = small_cnn(activation, downsampling)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for step in range(30):
            rows = slice((step * 50) % 400, (step * 50) % 400 + 50)
            loss = F.cross_entropy(model(train.float_images(rows)), train.labels[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        models[pair] = model.eval()
    return models


def _arrays(table) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
    return table.column("prediction").to_numpy(), table.column("confidence").to_numpy()


@pytest.mark.slow
@pytest.mark.parametrize("precision,max_conf_diff", [("bf16", 0.05), ("fp16", 0.01)])
def test_low_precision_agrees_with_fp32_on_the_demo_models(
    demo_models: dict[str, nn.Module], precision: str, max_conf_diff: float, capsys: pytest.CaptureFixture[str],
) -> None:
    test = class_patterns(200, seed=2)
    clean = create_perturbation("clean", 0.1)
    for pair, model in demo_models.items():
        reference = evaluate(model, INFO, test, clean, precision="fp32", progress=False)
        low = evaluate(model, INFO, test, clean, precision=precision, channels_last=True, progress=False)
        (pred32, conf32), (pred_low, conf_low) = _arrays(reference), _arrays(low)
        agreement = float((pred32 == pred_low).mean())
        diff = np.abs(conf32 - conf_low)
        with capsys.disabled():  # the reported amount (pytest -s shows it; the note quotes it)
            print(f"\n{pair} {precision}: agreement {agreement:.4f}, |Δconfidence| max {diff.max():.4f} "
                  f"mean {diff.mean():.5f}, accuracy fp32 {np.mean(pred32 == test.labels.numpy()):.3f}")
        assert agreement >= 0.99
        assert float(diff.max()) <= max_conf_diff
        assert engine_settings(low)["precision"] == precision and engine_settings(low)["channels_last"]


def test_fp32_channels_last_and_tf32_keep_fp32_records_on_cpu(demo_models: dict[str, nn.Module]) -> None:
    model, test = demo_models["relu-maxpool"], class_patterns(50, seed=3)
    clean = create_perturbation("clean", 0.1)
    plain = evaluate(model, INFO, test, clean, progress=False)
    with torch.no_grad():
        expected = model(test.float_images()).numpy()
    assert_records_agree(make_records(INFO, "clean", "clean", np.arange(50), test.labels.numpy(), expected), plain)
    assert evaluate(model, INFO, test, clean, precision="tf32", progress=False).equals(plain)  # TF32 is CUDA-only
    layout = evaluate(model, INFO, test, clean, channels_last=True, progress=False)
    np.testing.assert_allclose(np.array(layout.column("logits").to_pylist()), expected, rtol=1e-4, atol=1e-5)
    assert all(p.is_contiguous() for p in model.parameters())  # the memory format is restored


def test_attacks_run_in_fp32_unless_asked(demo_models: dict[str, nn.Module]) -> None:
    """The attack's own forward/backward passes stay fp32 under precision=bf16: the adversarial examples are
    those of the fp32 run (only the final forward pass is bf16); attack_precision=bf16 changes them."""
    model, test = demo_models["relu-flc"], class_patterns(16, seed=4)
    pgd = create_perturbation("pgd:steps=3", 0.1)
    fp32 = evaluate(model, INFO, test, pgd, progress=False)
    bf16_forward = evaluate(model, INFO, test, pgd, precision="bf16", progress=False)
    x_adv_fp32 = pgd(model, test.float_images(), test.labels, torch.Generator().manual_seed(0))
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
        expected = model(x_adv_fp32).float().numpy()
    np.testing.assert_array_equal(np.array(bf16_forward.column("logits").to_pylist(), dtype=np.float32), expected)
    both = evaluate(model, INFO, test, pgd, precision="bf16", attack_precision="bf16", progress=False)
    assert engine_settings(both)["attack_precision"] == "bf16"
    assert not both.equals(bf16_forward) and not fp32.equals(bf16_forward)


@pytest.mark.parametrize("precision,tf32", [("fp32", False), ("tf32", True)])
def test_cuda_tf32_flags_are_set_for_the_block_and_restored(precision: str, tf32: bool) -> None:
    """The flags are plain Python state, so this runs without a GPU; legacy reads keep working inside."""
    from overconf.evaluation.engine import precision_context

    backends = torch.backends
    before = (backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32)
    with precision_context(precision, torch.device("cuda")):
        assert (backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32) == (tf32, tf32)
    assert (backends.cuda.matmul.allow_tf32, backends.cudnn.allow_tf32) == before
