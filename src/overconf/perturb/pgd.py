"""Projected gradient descent (Madry et al. 2018) and FGSM, functional and model-agnostic.

One step of PGD on the summed cross-entropy ``L(x') = Σ_i CE(f(x'_i), y_i)``:

- L∞: ``x' ← Π(x' + α · sign(∇_x' L))``
- L2:  ``x' ← Π(x' + α · ∇_x' L / ‖∇_x' L‖₂)``   (norm per sample)

where ``Π`` projects onto the intersection of the ε-ball around ``x`` and the box [0, 1]. Both constraints
hold *exactly* in the returned tensor (checked in float64 against the Python float ``eps``): for L∞ the
intersection is itself a box ``[max(0, x − ε), min(1, x + ε)]``, whose float32 bounds are nudged inward by
one ulp where rounding put them outside; for L2 we scale δ onto the ball, clamp to [0, 1] (clamping only
shrinks |δᵢ| because ``x`` is in the box) and shrink again in the rare rows where the float32 cast pushed
‖δ‖₂ past ε.

Gradients are taken with :func:`torch.autograd.grad` with respect to the input only: the model's
parameters, their ``requires_grad`` flags and their ``.grad`` are left as they were. Random numbers are
drawn on the CPU from ``generator`` and moved to ``x.device``, so results do not depend on the device's
RNG. ``eval_mode=True`` (evaluation) runs the attack with the model in eval mode and restores the mode
afterwards; adversarial training passes ``eval_mode=False`` to attack in whatever mode the caller set
(batch-norm batch statistics, as Wong et al. 2020 do).

``keep`` selects what is returned per sample:

- ``"last"``: the iterate after the final step (no early stopping): the adversarial example whose
  confidence the paper studies. With ``restarts > 1`` the final iterate of the strongest restart.
- ``"worst"``: the strongest point seen over the clean input, every iterate and every restart, where
  "strongest" orders first by misclassified-or-not, then by cross-entropy loss. A sample counts as robust
  only if no point found is misclassified: the robust-accuracy mode.

The same order ("misclassified first, then higher loss") picks among restarts in both modes.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from overconf.errors import ConfigError

Norm = Literal["linf", "l2"]
Keep = Literal["last", "worst"]


@contextmanager
def attack_mode(model: nn.Module, eval_mode: bool = True) -> Iterator[None]:
    """Put ``model`` in eval mode for the block (if ``eval_mode``) and restore its train/eval mode after."""
    was_training = model.training
    if eval_mode:
        model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def _float64(t: torch.Tensor) -> torch.Tensor:
    """``t`` in float64, on the CPU where the device has no float64 (Apple's MPS)."""
    return t.cpu().double() if t.device.type == "mps" else t.double()


def linf_bounds(x: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-pixel box ``[lower, upper]`` = [0, 1] ∩ [x − ε, x + ε], rounded inward so that, in float64,
    ``0 ≤ lower``, ``upper ≤ 1``, ``x − lower ≤ ε`` and ``upper − x ≤ ε`` hold exactly.

    >>> x = torch.tensor([0.0, 0.3, 0.99])
    >>> lo, hi = linf_bounds(x, 8 / 255)
    >>> bool(((x.double() - lo.double()) <= 8 / 255).all() and ((hi.double() - x.double()) <= 8 / 255).all())
    True
    >>> float(lo[0]), float(hi[2])
    (0.0, 1.0)
    """
    xd = _float64(x)
    lower = (xd - eps).clamp(min=0.0).to(x.dtype)
    upper = (xd + eps).clamp(max=1.0).to(x.dtype)
    for _ in range(8):  # rounding to x.dtype is off by at most half an ulp: one nudge fixes it
        low_out, up_out = xd - _float64(lower) > eps, _float64(upper) - xd > eps
        if not bool(low_out.any() or up_out.any()):
            break
        lower = torch.where(low_out, torch.nextafter(lower, torch.ones_like(lower)), lower)
        upper = torch.where(up_out, torch.nextafter(upper, torch.zeros_like(upper)), upper)
    return lower.to(x.device), upper.to(x.device)


def _flat_norm(t: torch.Tensor) -> torch.Tensor:
    norm: torch.Tensor = t.flatten(1).norm(dim=1)
    return norm


def _per_sample(v: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return v.view(-1, *([1] * (like.dim() - 1)))


def project_l2(x: torch.Tensor, x_adv: torch.Tensor, eps: float) -> torch.Tensor:
    """Onto {x' ∈ [0, 1]ⁿ : ‖x' − x‖₂ ≤ ε} (per sample): scale δ to the ball, clamp to the box, and shrink
    again where rounding to ``x.dtype`` left ‖δ‖₂ > ε (checked in float64)."""
    xd = _float64(x)
    delta = _float64(x_adv) - xd
    factor = (eps / _flat_norm(delta).clamp_min(1e-300)).clamp(max=1.0)
    delta = delta * _per_sample(factor, delta)
    out = (xd + delta).clamp(0.0, 1.0).to(x.dtype)
    for _ in range(64):
        over = _flat_norm(_float64(out) - xd) > eps
        if not bool(over.any()):
            return out.to(x.device)
        delta = delta * _per_sample(torch.where(over, 1.0 - 2.0**-20, 1.0).to(delta), delta)
        out = (xd + delta).clamp(0.0, 1.0).to(x.dtype)
    raise RuntimeError("L2 projection did not converge")  # unreachable in practice: each pass shrinks δ


def project(x: torch.Tensor, x_adv: torch.Tensor, eps: float, norm: Norm) -> torch.Tensor:
    """Onto {x' ∈ [0, 1]ⁿ : ‖x' − x‖ ≤ ε} exactly (see :func:`linf_bounds`, :func:`project_l2`)."""
    if norm == "linf":
        lower, upper = linf_bounds(x, eps)
        return torch.minimum(torch.maximum(x_adv, lower), upper)
    return project_l2(x, x_adv, eps)


def random_start_noise(
    x: torch.Tensor, eps: float, norm: Norm, generator: torch.Generator | None
) -> torch.Tensor:
    """A random δ drawn on the CPU: uniform in [−ε, ε]ⁿ (L∞) or uniform in the L2 ball of radius ε
    (Gaussian direction, radius ε·u^(1/n))."""
    shape, n = x.shape, x[0].numel()
    if norm == "linf":
        noise = (torch.rand(shape, generator=generator, dtype=torch.float64) * 2 - 1) * eps
    else:
        direction = torch.randn(shape, generator=generator, dtype=torch.float64)
        direction = direction / _per_sample(_flat_norm(direction).clamp_min(1e-300), direction)
        radius = eps * torch.rand(shape[0], generator=generator, dtype=torch.float64) ** (1.0 / n)
        noise = direction * _per_sample(radius, direction)
    return noise.to(device=x.device, dtype=x.dtype)


def check_args(eps: float, step_size: float, steps: int, norm: str, restarts: int, keep: str) -> None:
    if norm not in ("linf", "l2"):
        raise ConfigError(f"unknown norm {norm!r}", hint="use norm=linf or norm=l2")
    if keep not in ("last", "worst"):
        raise ConfigError(f"unknown keep {keep!r}", hint="use keep=last (final iterate) or keep=worst (robust accuracy)")
    if not (math.isfinite(eps) and eps >= 0) or not (math.isfinite(step_size) and step_size >= 0):
        raise ConfigError(f"eps={eps} and step_size={step_size} must be finite and non-negative")
    if steps < 0 or restarts < 1:
        raise ConfigError(f"steps={steps} must be ≥ 0 and restarts={restarts} ≥ 1")


def _stronger(wrong_a: torch.Tensor, loss_a: torch.Tensor, wrong_b: torch.Tensor, loss_b: torch.Tensor) -> torch.Tensor:
    """Per sample: is candidate a stronger than b (misclassified beats correct, then higher loss)?"""
    return (wrong_a & ~wrong_b) | ((wrong_a == wrong_b) & (loss_a > loss_b))


def _loss_and_wrong(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with torch.no_grad():
        logits = model(x)
    return F.cross_entropy(logits.float(), y, reduction="none"), logits.argmax(1) != y


def _single_run(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    step_size: float,
    steps: int,
    norm: Norm,
    random_start: bool,
    keep: Keep,
    generator: torch.Generator | None,
    best: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
    score: bool = True,
) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
    """One PGD run. Returns (x_out, wrong, loss) of what it keeps; with keep="worst" it updates ``best``.
    ``score=False`` (one run of keep="last", nothing to compare with) skips the final forward pass and
    returns (x_out, None, None)."""
    bounds = linf_bounds(x, eps) if norm == "linf" else None

    def project(x_adv: torch.Tensor) -> torch.Tensor:
        if bounds is not None:
            return torch.minimum(torch.maximum(x_adv, bounds[0]), bounds[1])
        return project_l2(x, x_adv, eps)

    x_adv = project(x + random_start_noise(x, eps, norm, generator)) if random_start else x.clone()
    for _ in range(steps):
        x_adv.requires_grad_(True)
        logits = model(x_adv)
        losses = F.cross_entropy(logits.float(), y, reduction="none")
        (grad,) = torch.autograd.grad(losses.sum(), x_adv)
        x_adv = x_adv.detach()
        if keep == "worst":
            best = _update(best, x_adv, losses.detach(), logits.detach().argmax(1) != y)
        if norm == "linf":
            step = grad.sign()
        else:
            step = grad / _per_sample(_flat_norm(grad.float()).clamp_min(1e-12).to(grad), grad)
        x_adv = project(x_adv + step_size * step)
    if not score:
        return x_adv, None, None
    loss, wrong = _loss_and_wrong(model, x_adv, y)
    if keep == "worst":
        assert best is not None
        return _update(best, x_adv, loss, wrong)
    return x_adv, wrong, loss


def _update(
    best: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None,
    x_new: torch.Tensor,
    loss: torch.Tensor,
    wrong: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    if best is None:
        return x_new.clone(), wrong, loss
    x_best, wrong_best, loss_best = best
    take = _stronger(wrong, loss, wrong_best, loss_best)
    return (
        torch.where(_per_sample(take, x_new), x_new, x_best),
        torch.where(take, wrong, wrong_best),
        torch.where(take, loss, loss_best),
    )


def pgd(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    step_size: float,
    steps: int,
    norm: Norm = "linf",
    random_start: bool = True,
    restarts: int = 1,
    keep: Keep = "last",
    generator: torch.Generator | None = None,
    eval_mode: bool = True,
) -> torch.Tensor:
    """PGD adversarial examples for ``model`` at ``x`` (N×… in [0, 1]) with labels ``y``; see the module doc.

    ``eps`` and ``step_size`` are in pixel units of [0, 1] (8/255 ≈ 0.0314); the usual step size is
    ``2.5 · eps / steps``. Returns a detached tensor like ``x`` with ``x' ∈ [0, 1]`` and ‖x' − x‖ ≤ ε.
    """
    check_args(eps, step_size, steps, norm, restarts, keep)
    x = x.detach()
    with attack_mode(model, eval_mode):
        best = _update(None, x, *_loss_and_wrong(model, x, y)) if keep == "worst" else None
        chosen: tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None] | None = None
        for _ in range(restarts):
            out = _single_run(
                model, x, y, eps=eps, step_size=step_size, steps=steps, norm=norm,
                random_start=random_start, keep=keep, generator=generator, best=best,
                score=keep == "worst" or restarts > 1,
            )
            if keep == "worst":
                best = chosen = out  # type: ignore[assignment]  # scored runs return tensors
            elif restarts == 1:
                chosen = out
            else:
                x_out, wrong, loss = out
                assert wrong is not None and loss is not None
                chosen = _update(chosen, x_out, loss, wrong)  # type: ignore[arg-type]
    assert chosen is not None
    return chosen[0].detach()


def fgsm(
    model: nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    eps: float,
    step_size: float | None = None,
    random_start: bool = False,
    generator: torch.Generator | None = None,
    eval_mode: bool = True,
) -> torch.Tensor:
    """Fast gradient sign method (Goodfellow et al. 2015), L∞: one PGD step of size ``step_size``
    (default ``eps``) from ``x``, or from a uniform random start in the ε-box when ``random_start``.
    ``random_start=True, step_size=1.25 * eps`` is FGSM-RS, the "fast adversarial training" attack of
    Wong et al. (2020); training passes ``eval_mode=False``.
    """
    return pgd(
        model, x, y, eps=eps, step_size=eps if step_size is None else step_size, steps=1, norm="linf",
        random_start=random_start, restarts=1, keep="last", generator=generator, eval_mode=eval_mode,
    )
