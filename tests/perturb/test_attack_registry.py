"""Registered attacks (ours and the pyautoattack adapter): spec parsing, constraints, untouched models."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from overconf.errors import ConfigError
from overconf.perturb import PERTURBATIONS, create_perturbation
from overconf.perturb.attacks import PGD
from overconf.perturb.autoattack import draw_seed

ATTACK_SPECS = [
    "fgsm", "fgsm:random_start=true:step_size=0.0625", "pgd", "pgd:keep=worst:restarts=2", "pgd:norm=l2:eps=0.5",
    "apgd-ce:steps=10", "apgd-ce:steps=10:keep=worst", "apgd-ce:norm=l2:eps=0.5:steps=10", "apgd-t:steps=5",
    "square:n_queries=50", "square:n_queries=50:keep=worst", "square:norm=l2:eps=0.5:n_queries=50",
]


def small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 10))


def data(model: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(12, 1, 8, 8, generator=g)
    x[0] = 1.0
    with torch.no_grad():
        y = model.eval()(x).argmax(1)  # every sample starts correctly classified
    y[-1] = (y[-1] + 1) % 10  # ... but one
    return x, y


def test_the_documented_attacks_are_registered() -> None:
    assert {"clean", "fgsm", "pgd", "apgd-ce", "apgd-t", "square", "autoattack"} <= set(PERTURBATIONS.names())


def test_pgd_defaults_and_labels() -> None:
    p = create_perturbation("pgd", 8 / 255)
    assert isinstance(p, PGD) and p.label == "pgd" and p.family == "attack"
    assert (p.eps, p.steps, p.norm, p.keep, p.restarts, p.random_start) == (8 / 255, 20, "linf", "last", 1, True)
    assert p.step_size == pytest.approx(2.5 * (8 / 255) / 20)
    q = create_perturbation("pgd:steps=50:eps=4/255:keep=worst", 8 / 255)
    assert q.label == "pgd:eps=4/255:keep=worst:steps=50"
    assert (q.eps, q.steps, q.keep) == (4 / 255, 50, "worst")
    assert create_perturbation("clean", 0.1).family == "clean"


@pytest.mark.parametrize(
    "spec",
    ["pgd:norm=l1", "pgd:keep=best", "pgd:steps=2.5", "pgd:steps=ten", "pgd:norm=l2", "pgd:bogus=1", "clean:eps=1",
     "square:p_init=2", "square:keep=first", "apgd-ce:steps=0", "autoattack:norm=l3", "fgsm:eps=-1"],
)
def test_bad_specs_are_config_errors(spec: str) -> None:
    with pytest.raises(ConfigError):
        create_perturbation(spec, 0.1)


@pytest.mark.parametrize("spec", ATTACK_SPECS)
def test_attack_contract(spec: str) -> None:
    model = small_model().train()  # the attack must not change the mode nor anything in the model
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = data(model)
    model.train()
    p = create_perturbation(spec, 1 / 16)
    rng_before = torch.random.get_rng_state()
    a = p(model, x, y, torch.Generator().manual_seed(1))
    assert torch.equal(torch.random.get_rng_state(), rng_before), "the global RNG must be left alone"
    b = p(model, x, y, torch.Generator().manual_seed(1))
    assert torch.equal(a, b), "deterministic under a seed"
    assert model.training
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert all(q.grad is None and q.requires_grad for q in model.parameters())
    assert a.shape == x.shape and a.dtype == x.dtype and not a.requires_grad
    assert float(a.min()) >= 0 and float(a.max()) <= 1
    delta = (a.double() - x.double()).flatten(1)
    if "norm=l2" in spec:
        assert float(delta.norm(dim=1).max()) <= 0.5
    else:
        assert float(delta.abs().max()) <= 1 / 16
    with torch.no_grad():
        model.eval()
        accuracy = float((model(a).argmax(1) == y).float().mean())
    assert accuracy < 11 / 12, "the attack must fool at least one sample of this random model"


def test_worst_mode_keeps_the_clean_input_where_the_library_failed() -> None:
    # the library's own output: adversarial where found, else the clean input; "last" moves every sample
    model = small_model()
    x, y = data(model)
    g = lambda: torch.Generator().manual_seed(0)
    worst = create_perturbation("apgd-ce:steps=5:eps=0.001", 0.1)
    worst.keep = "worst"
    last = create_perturbation("apgd-ce:steps=5:eps=0.001", 0.1)
    out_worst, out_last = worst(model, x, y, g()), last(model, x, y, g())
    with torch.no_grad():
        robust = model.eval()(out_worst).argmax(1) == y
    assert bool(robust.any())
    assert torch.equal(out_worst[robust], x[robust])
    assert bool(((out_last - x).flatten(1).abs().amax(1) > 0)[robust].all())


@pytest.mark.slow
def test_autoattack_standard_runs_and_is_at_least_as_strong_as_apgd_ce() -> None:
    model = small_model()
    x, y = data(model)
    x, y = x[:6], y[:6]
    aa = create_perturbation("autoattack:n_queries=20", 0.02)
    out = aa(model, x, y, torch.Generator().manual_seed(0))
    ce = create_perturbation("apgd-ce:keep=worst", 0.02)(model, x, y, torch.Generator().manual_seed(0))
    assert float((out.double() - x.double()).abs().max()) <= 0.02
    with torch.no_grad():
        model.eval()
        acc_aa = int((model(out).argmax(1) == y).sum())
        acc_ce = int((model(ce).argmax(1) == y).sum())
    assert acc_aa <= acc_ce
    assert all(q.grad is None and q.requires_grad for q in model.parameters())


def test_draw_seed_is_deterministic() -> None:
    assert draw_seed(torch.Generator().manual_seed(3)) == draw_seed(torch.Generator().manual_seed(3))
    assert 0 <= draw_seed(torch.Generator().manual_seed(4)) < 2**31 - 1
