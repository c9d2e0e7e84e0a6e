"""A thin adapter over ``pyautoattack`` 0.2.0 (Croce & Hein's AutoAttack): ``apgd-ce``, ``apgd-t``,
``square`` and the standard ``autoattack`` ensemble as registered perturbations.

What the adapter adds, and nothing else:

- the seed comes from our generator (one draw per batch) and the global torch RNG, which the library
  reseeds, is restored afterwards (:func:`torch.random.fork_rng`);
- the model runs in eval mode with its parameters' ``requires_grad`` switched off during the call
  (FAB calls ``.backward()``, which would otherwise add to the parameters' ``.grad``); both restored;
- outputs are projected once more with :func:`overconf.perturb.pgd.project`, a no-op up to float
  rounding, so that every attack's output satisfies ``x' ∈ [0, 1]``, ``‖x' − x‖ ≤ ε`` exactly.

What each returns (``keep``, as for ``pgd``):

- ``apgd-ce[:steps=100][:restarts=1][:keep=last|worst]``: ``last`` (default) is APGD's own
  ``best_loss=True`` output, the highest-cross-entropy point of the run for every sample (APGD's iterates
  are not monotone, its best point is its answer); ``worst`` is the library's default output: the
  adversarial example where one was found, else the clean input (robust-accuracy semantics).
- ``apgd-t[:steps=100][:n_target_classes=9]``: targeted APGD on the DLR loss, ``worst`` semantics only.
- ``square[:n_queries=5000][:p_init=0.8][:restarts=1][:rescale=false][:keep=last|worst]``: Square
  (Andriushchenko et al. 2020), margin loss. ``last`` (default) is the attack's final point for every
  sample (Square only accepts improvements, so it is the lowest-margin point found, or the first one
  misclassified); ``worst`` is the library's output (adversarial where found, else clean input). Defaults
  as AutoAttack / RobustBench: 5,000 queries, p_init 0.8, no rescaling of the p schedule to ``n_queries``
  (``rescale=true`` rescales it, which suits small query budgets).
- ``autoattack[:n_queries=5000]``: the standard version (APGD-CE, APGD-T, FAB-T, Square), ``worst``
  semantics: the reference robust accuracy.

All take ``eps`` (default: the data set's L∞ budget) and ``norm=linf|l2`` (L2 needs an explicit ``eps``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from overconf._compat import import_autoattack
from overconf.errors import ConfigError
from overconf.perturb.attacks import as_number, resolve_eps
from overconf.perturb.base import PERTURBATIONS
from overconf.perturb.pgd import Keep, Norm, attack_mode, project
from overconf.validate import check_name

LIBRARY_NORM = {"linf": "Linf", "l2": "L2"}


def draw_seed(generator: torch.Generator | None) -> int:
    """One seed in [0, 2³¹ − 1) drawn from ``generator`` (the library seeds torch with it)."""
    return int(torch.randint(0, 2**31 - 1, (1,), generator=generator))


@contextmanager
def library_call(model: nn.Module, x: torch.Tensor) -> Iterator[None]:
    """Eval mode, parameters without ``requires_grad`` and a forked global RNG for the block; all restored."""
    flags = [(p, p.requires_grad) for p in model.parameters()]
    devices = [x.device] if x.device.type == "cuda" else []
    with attack_mode(model, eval_mode=True), torch.random.fork_rng(devices=devices):
        try:
            for p, _ in flags:
                p.requires_grad_(False)
            yield
        finally:
            for p, flag in flags:
                p.requires_grad_(flag)


@dataclass
class APGD:
    """Untargeted APGD on the cross-entropy (``apgd-ce``)."""

    eps: float
    norm: Norm = "linf"
    steps: int = 100
    restarts: int = 1
    keep: Keep = "last"
    label: str = "apgd-ce"
    family: str = "attack"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        aa = import_autoattack()
        with library_call(model, x):
            attack = aa.autopgd_base.APGDAttack(
                model, n_iter=self.steps, norm=LIBRARY_NORM[self.norm], n_restarts=self.restarts, eps=self.eps,
                seed=draw_seed(generator), loss="ce", eot_iter=1, rho=0.75, device=x.device,
            )
            out = attack.perturb(x, y, best_loss=self.keep == "last")
        return project(x, out.detach().to(x.dtype), self.eps, self.norm)


@dataclass
class APGDTargeted:
    """Targeted APGD on the DLR loss against the top ``n_target_classes`` other classes (``apgd-t``)."""

    eps: float
    norm: Norm = "linf"
    steps: int = 100
    n_target_classes: int = 9
    label: str = "apgd-t"
    family: str = "attack"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        aa = import_autoattack()
        with library_call(model, x):
            num_classes = int(model(x[:1]).shape[1])
            attack = aa.autopgd_base.APGDAttack_targeted(
                model, n_iter=self.steps, norm=LIBRARY_NORM[self.norm], n_restarts=1, eps=self.eps,
                seed=draw_seed(generator), eot_iter=1, rho=0.75,
                n_target_classes=min(self.n_target_classes, num_classes - 1), device=x.device,
            )
            out = attack.perturb(x, y)
        return project(x, out.detach().to(x.dtype), self.eps, self.norm)


@dataclass
class Square:
    """Square attack, score-based black box, margin loss (``square``)."""

    eps: float
    norm: Norm = "linf"
    n_queries: int = 5000
    p_init: float = 0.8
    restarts: int = 1
    rescale: bool = False
    keep: Keep = "last"
    label: str = "square"
    family: str = "attack"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        aa = import_autoattack()
        with library_call(model, x), torch.no_grad():
            attack = aa.square.SquareAttack(
                model, norm=LIBRARY_NORM[self.norm], n_queries=self.n_queries, eps=self.eps, p_init=self.p_init,
                n_restarts=self.restarts, seed=draw_seed(generator), loss="margin", resc_schedule=self.rescale,
                device=x.device,
            )
            if self.keep == "worst":
                out = attack.perturb(x, y)
            else:  # perturb() would put back the clean input where the attack failed; we want its final point
                attack.init_hyperparam(x)
                torch.random.manual_seed(attack.seed)
                if x.device.type == "cuda":
                    torch.cuda.random.manual_seed(attack.seed)
                out = x.clone()
                for _ in range(self.restarts):  # later restarts only for samples still classified correctly
                    still = model(out).argmax(1) == y
                    if still.any():
                        _, found = attack.attack_single_run(x[still], y[still])
                        out[still] = found
        return project(x, out.detach().to(x.dtype), self.eps, self.norm)


@dataclass
class AutoAttackStandard:
    """The standard AutoAttack ensemble (APGD-CE, APGD-T, FAB-T, Square) (``autoattack``)."""

    eps: float
    norm: Norm = "linf"
    n_queries: int = 5000
    label: str = "autoattack"
    family: str = "attack"

    def __call__(self, model: nn.Module, x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        aa = import_autoattack()
        with library_call(model, x):
            attack = aa.AutoAttack(
                model, norm=LIBRARY_NORM[self.norm], eps=self.eps, version="standard",
                seed=draw_seed(generator), device=x.device,
            )
            attack.square.n_queries = self.n_queries
            num_classes = int(model(x[:1]).shape[1])
            attack.apgd_targeted.n_target_classes = min(attack.apgd_targeted.n_target_classes, num_classes - 1)
            attack.fab.n_target_classes = min(attack.fab.n_target_classes, num_classes - 1)
            out, _ = attack.run_standard_evaluation(x, y, batch_size=x.shape[0])
        return project(x, out.detach().to(x.dtype), self.eps, self.norm)


def _common(default_eps: float, eps: float | None, norm: str) -> tuple[float, Norm]:
    norm_ = check_name("norm", norm, ("linf", "l2"))
    return resolve_eps(eps, default_eps, norm_), norm_  # type: ignore[return-value]


def _positive_int(name: str, value: object) -> int:
    n = int(as_number(name, value, int))
    if n < 1:
        raise ConfigError(f"parameter {name}={n} must be at least 1")
    return n


@PERTURBATIONS.register("apgd-ce")
def make_apgd_ce(default_eps: float, eps: float | None = None, norm: str = "linf", steps: int = 100,
                 restarts: int = 1, keep: str = "last") -> APGD:
    """APGD-CE (pyautoattack); keep=last: highest-loss point, keep=worst: adversarial else clean input."""
    eps_, norm_ = _common(default_eps, eps, norm)
    keep_ = check_name("keep", keep, ("last", "worst"))
    return APGD(eps_, norm_, _positive_int("steps", steps), _positive_int("restarts", restarts), keep_)  # type: ignore[arg-type]


@PERTURBATIONS.register("apgd-t")
def make_apgd_t(default_eps: float, eps: float | None = None, norm: str = "linf", steps: int = 100,
                n_target_classes: int = 9) -> APGDTargeted:
    """Targeted APGD on the DLR loss (pyautoattack): adversarial example where found, else clean input."""
    eps_, norm_ = _common(default_eps, eps, norm)
    return APGDTargeted(eps_, norm_, _positive_int("steps", steps), _positive_int("n_target_classes", n_target_classes))


@PERTURBATIONS.register("square")
def make_square(default_eps: float, eps: float | None = None, norm: str = "linf", n_queries: int = 5000,
                p_init: float = 0.8, restarts: int = 1, rescale: bool = False, keep: str = "last") -> Square:
    """Square attack, black box (pyautoattack); keep=last: its final point, keep=worst: adversarial else clean."""
    eps_, norm_ = _common(default_eps, eps, norm)
    p = float(as_number("p_init", p_init, float))
    if not 0 < p <= 1:
        raise ConfigError(f"parameter p_init={p} must be in (0, 1]")
    keep_ = check_name("keep", keep, ("last", "worst"))
    return Square(eps_, norm_, _positive_int("n_queries", n_queries), p, _positive_int("restarts", restarts),
                  bool(rescale), keep_)  # type: ignore[arg-type]


@PERTURBATIONS.register("autoattack")
def make_autoattack(default_eps: float, eps: float | None = None, norm: str = "linf", n_queries: int = 5000) -> AutoAttackStandard:
    """Standard AutoAttack (APGD-CE, APGD-T, FAB-T, Square): the reference robust accuracy."""
    eps_, norm_ = _common(default_eps, eps, norm)
    return AutoAttackStandard(eps_, norm_, _positive_int("n_queries", n_queries))
