"""PGD / FGSM: exact constraints, closed-form optima, untouched parameters, mode and determinism."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from overconf.errors import ConfigError
from overconf.perturb.pgd import fgsm, linf_bounds, pgd, project_l2


def tiny_cnn(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Dropout(0.2),
        nn.Flatten(), nn.Linear(4 * 8 * 8, 10),
    )


def batch(n: int = 16, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 1, 8, 8, generator=g)
    x[0] = 0.0  # saturated pixels exercise the box constraint
    x[1] = 1.0
    return x, torch.randint(0, 10, (n,), generator=g)


@pytest.mark.parametrize("eps", [8 / 255, 0.1, 0.3, 1 / 3])
@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_outputs_in_box_and_ball_exactly(eps: float, norm: str) -> None:
    model = tiny_cnn()
    x, y = batch()
    eps_ = eps if norm == "linf" else eps * 8  # L2 budgets are larger
    out = pgd(model, x, y, eps=eps_, step_size=eps_ / 2, steps=5, norm=norm, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    delta = out.double() - x.double()
    if norm == "linf":
        assert float(delta.abs().max()) <= eps_
    else:
        assert float(delta.flatten(1).norm(dim=1).max()) <= eps_
    assert float(delta.abs().max()) > 0  # it did move


def test_linf_bounds_rounding_is_inward() -> None:
    x = torch.rand(100_000, generator=torch.Generator().manual_seed(3))
    for eps in (8 / 255, 4 / 255, 0.1, 0.031):
        lo, hi = linf_bounds(x, eps)
        assert float((x.double() - lo.double()).max()) <= eps
        assert float((hi.double() - x.double()).max()) <= eps
        assert float(lo.min()) >= 0 and float(hi.max()) <= 1
        # inward rounding loses at most one float32 ulp of the budget
        assert float((hi.double() - x.double())[x < 1 - eps].min()) > eps - 1e-7


def test_project_l2_is_the_ball_projection_inside_the_box() -> None:
    x = torch.full((2, 3), 0.5)
    x_adv = x + torch.tensor([[0.3, 0.4, 0.0], [0.03, 0.04, 0.0]])  # norms 0.5 and 0.05
    out = project_l2(x, x_adv, 0.1)
    torch.testing.assert_close(out[0] - x[0], torch.tensor([0.06, 0.08, 0.0]))
    torch.testing.assert_close(out[1], x_adv[1])


def test_linf_pgd_reaches_the_closed_form_optimum_of_a_linear_model() -> None:
    # logits = W x: for label 0 the loss grows with (w1 − w0)·x, maximised at x + ε·sign(w1 − w0)
    torch.manual_seed(0)
    model = nn.Linear(6, 2, bias=False)
    x, y, eps = torch.full((1, 6), 0.5), torch.tensor([0]), 0.05
    out = pgd(model, x, y, eps=eps, step_size=eps / 4, steps=10, random_start=True,
              generator=torch.Generator().manual_seed(0))
    w = model.weight.detach()
    torch.testing.assert_close(out, x + eps * torch.sign(w[1] - w[0]), rtol=0, atol=1e-7)


def test_l2_pgd_reaches_the_closed_form_optimum_of_a_linear_model() -> None:
    torch.manual_seed(0)
    model = nn.Linear(6, 2, bias=False)
    x, y, eps = torch.full((1, 6), 0.5), torch.tensor([0]), 0.2
    out = pgd(model, x, y, eps=eps, step_size=eps / 2, steps=10, norm="l2", random_start=False)
    w = model.weight.detach()
    direction = (w[1] - w[0]) / (w[1] - w[0]).norm()
    torch.testing.assert_close(out, x + eps * direction, rtol=0, atol=1e-6)


def test_fgsm_matches_its_formula() -> None:
    model = tiny_cnn().eval()
    x, y = batch()
    xg = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(F.cross_entropy(model(xg), y, reduction="sum"), xg)
    expected = (x + 0.1 * grad.sign()).clamp(0, 1)
    torch.testing.assert_close(fgsm(model, x, y, eps=0.1), expected, rtol=0, atol=1e-7)


def test_fgsm_rs_starts_randomly_and_steps_1_25_eps() -> None:
    model = tiny_cnn()
    x, y = batch()
    a = fgsm(model, x, y, eps=0.1, step_size=0.125, random_start=True, generator=torch.Generator().manual_seed(0))
    b = fgsm(model, x, y, eps=0.1, step_size=0.125, random_start=True, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    # with a step larger than ε from a random start, most interior pixels end on the box faces
    interior = (x > 0.1) & (x < 0.9)
    on_face = ((a - x).abs() - 0.1).abs() < 1e-6
    assert float(on_face[interior].float().mean()) > 0.5


def test_parameters_are_untouched_and_only_input_gradients_are_taken() -> None:
    model = tiny_cnn()
    model[0].weight.requires_grad_(False)  # a frozen layer must stay frozen
    model[5].weight.grad = torch.full_like(model[5].weight, 7.0)  # a stale .grad must stay as it was
    before = {k: v.clone() for k, v in model.state_dict().items()}
    flags = {k: p.requires_grad for k, p in model.named_parameters()}
    x, y = batch()
    x.requires_grad_(False)
    pgd(model, x, y, eps=0.1, step_size=0.03, steps=3, keep="worst", restarts=2, generator=torch.Generator().manual_seed(0))
    fgsm(model, x, y, eps=0.1)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k  # includes BatchNorm running statistics (eval mode)
    assert {k: p.requires_grad for k, p in model.named_parameters()} == flags
    for name, p in model.named_parameters():
        if name == "5.weight":
            assert torch.equal(p.grad, torch.full_like(p, 7.0))
        else:
            assert p.grad is None, name
    assert x.grad is None and not x.requires_grad


@pytest.mark.parametrize("eval_mode", [True, False])
@pytest.mark.parametrize("start_training", [True, False])
def test_train_eval_mode_during_and_after(eval_mode: bool, start_training: bool) -> None:
    model = tiny_cnn().train(start_training)
    seen: list[bool] = []
    model.register_forward_hook(lambda m, i, o: seen.append(m.training))
    x, y = batch()
    pgd(model, x, y, eps=0.1, step_size=0.05, steps=2, eval_mode=eval_mode, generator=torch.Generator().manual_seed(0))
    assert model.training == start_training
    assert seen and set(seen) == {start_training and not eval_mode}


def test_mode_is_restored_when_the_model_raises() -> None:
    class Boom(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("boom")

    model = Boom().train()
    with pytest.raises(RuntimeError):
        pgd(model, *batch(), eps=0.1, step_size=0.1, steps=1)
    assert model.training


@pytest.mark.parametrize("norm", ["linf", "l2"])
def test_deterministic_under_a_generator(norm: str) -> None:
    model = tiny_cnn()
    x, y = batch()
    kw = {"eps": 0.3, "step_size": 0.1, "steps": 3, "norm": norm, "restarts": 2}
    a = pgd(model, x, y, generator=torch.Generator().manual_seed(5), **kw)
    b = pgd(model, x, y, generator=torch.Generator().manual_seed(5), **kw)
    c = pgd(model, x, y, generator=torch.Generator().manual_seed(6), **kw)
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_worst_finds_every_misclassification_last_finds_and_clean_ones() -> None:
    model = tiny_cnn().eval()
    x, y = batch(64)
    kw = {"eps": 0.05, "step_size": 0.02, "steps": 4}
    last = pgd(model, x, y, keep="last", generator=torch.Generator().manual_seed(0), **kw)
    worst = pgd(model, x, y, keep="worst", generator=torch.Generator().manual_seed(0), **kw)
    with torch.no_grad():
        wrong_clean = model(x).argmax(1) != y
        wrong_last = model(last).argmax(1) != y
        wrong_worst = model(worst).argmax(1) != y
    assert bool((wrong_worst >= wrong_last).all()) and bool((wrong_worst >= wrong_clean).all())
    with torch.no_grad():
        loss_last = F.cross_entropy(model(last), y, reduction="none")
        loss_worst = F.cross_entropy(model(worst), y, reduction="none")
    same = wrong_worst == wrong_last
    assert bool((loss_worst[same] >= loss_last[same] - 1e-6).all())


def test_zero_steps_without_random_start_is_the_identity() -> None:
    x, y = batch()
    assert torch.equal(pgd(tiny_cnn(), x, y, eps=0.1, step_size=0.1, steps=0, random_start=False), x)


def test_bad_arguments_raise_config_errors() -> None:
    x, y = batch()
    with pytest.raises(ConfigError):
        pgd(tiny_cnn(), x, y, eps=0.1, step_size=0.1, steps=1, norm="l1")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        pgd(tiny_cnn(), x, y, eps=0.1, step_size=0.1, steps=1, keep="best")  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        pgd(tiny_cnn(), x, y, eps=-0.1, step_size=0.1, steps=1)
