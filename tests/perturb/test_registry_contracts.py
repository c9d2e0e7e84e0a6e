"""The perturbation contract, one test per registered name (as timm's tests run over ``list_models()``).

Every perturbation, whatever its family: keeps the batch's shape and dtype, stays in [0, 1], is
deterministic under a seeded generator, leaves the global RNG, the model's weights, mode and gradients
alone. Then per family: ``clean`` returns the input; an ``attack`` stays within ε (L∞) and does not lower
the model's loss; a ``corruption`` changes the images but not with the model; an ``ood`` set ignores both
the images and the model. Attacks run with few steps/queries (``FAST``) on a tiny model and 6 images.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from overconf.perturb import PERTURBATIONS, create_perturbation
from overconf.perturb.listing import list_perturbations

EPS = 8 / 255
NAMES = PERTURBATIONS.names()
FAMILY = {e.name: e.family for e in list_perturbations()}
#: parameters that keep each attack's test fast; an attack registered without an entry fails its test
FAST = {"clean": "", "fgsm": "", "pgd": ":steps=3", "apgd-ce": ":steps=5", "apgd-t": ":steps=3",
        "square": ":n_queries=30", "autoattack": ":n_queries=10"}


def tiny_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(3, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                         nn.Linear(4 * 16 * 16, 10))


def images(seed: int = 0) -> torch.Tensor:
    x = torch.rand(6, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
    x[0] = 1.0  # a saturated image: outputs must still stay in [0, 1]
    return x


def spec(name: str) -> str:
    if FAMILY[name] in ("attack", "clean"):
        assert name in FAST, f"give the attack {name!r} fast parameters in FAST"
        return name + FAST[name]
    return name


def run(name: str, model: nn.Module, x: torch.Tensor, seed: int = 1) -> torch.Tensor:
    with torch.no_grad():
        y = model.eval()(x).argmax(1)
    model.train()
    return create_perturbation(spec(name), EPS)(model, x, y, torch.Generator().manual_seed(seed))


def test_every_name_has_a_family():
    assert set(FAMILY) == set(NAMES) and set(FAMILY.values()) <= {"clean", "attack", "corruption", "ood"}


@pytest.mark.parametrize("name", NAMES)
def test_contract(name: str):
    p = create_perturbation(spec(name), EPS)
    assert p.family == FAMILY[name] and p.label.split(":")[0] == name
    model, x = tiny_model(), images()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.random.get_rng_state()
    out = run(name, model, x)
    assert torch.equal(torch.random.get_rng_state(), rng), "the global RNG must be left alone"
    assert torch.equal(out, run(name, model, x)), "deterministic under a seeded generator"
    assert out.shape == x.shape and out.dtype == x.dtype and not out.requires_grad
    assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
    assert model.training and all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert all(q.grad is None and q.requires_grad for q in model.parameters())


@pytest.mark.parametrize("name", [n for n in NAMES if FAMILY[n] == "clean"])
def test_clean_is_the_input(name: str):
    x = images()
    assert torch.equal(run(name, tiny_model(), x), x)


@pytest.mark.parametrize("name", [n for n in NAMES if FAMILY[n] == "attack"])
def test_attack_stays_within_eps_and_does_not_lower_the_loss(name: str):
    model, x = tiny_model(), images()
    out = run(name, model, x)
    assert float((out.double() - x.double()).abs().max()) <= EPS + 1e-7
    assert not torch.equal(out, x)
    with torch.no_grad():
        model.eval()
        y = model(x).argmax(1)
        assert float(F.cross_entropy(model(out), y)) >= float(F.cross_entropy(model(x), y))


@pytest.mark.parametrize("name", [n for n in NAMES if FAMILY[n] == "corruption"])
def test_corruption_changes_the_images_but_not_with_the_model(name: str):
    x = images()
    out = run(name, tiny_model(0), x)
    assert not torch.equal(out, x)
    assert torch.equal(out, run(name, tiny_model(1), x))


@pytest.mark.parametrize("name", [n for n in NAMES if FAMILY[n] == "ood"])
def test_ood_ignores_the_images_and_the_model(name: str):
    out = run(name, tiny_model(0), images(0))
    assert torch.equal(out, run(name, tiny_model(1), images(1)))
    assert not torch.equal(run(name, tiny_model(0), images(0), seed=2), out), "a new seed draws new images"


def test_registered_corruptions_and_ood_sets_are_the_data_modules():
    from overconf.data.corruptions import CORRUPTIONS
    from overconf.data.ood import OOD_SETS

    assert {n for n in NAMES if FAMILY[n] == "corruption"} == set(CORRUPTIONS)
    assert {n for n in NAMES if FAMILY[n] == "ood"} == {f"ood-{name}" for name in OOD_SETS}
