"""The settings' vocabulary: the values each setting allows, its one default, and the one rule that checks
it, shared by the spec (:class:`overconf.run.spec.Spec`), the CLI, the API and the engine.

Torch-free (it imports only :mod:`overconf.errors` and :mod:`overconf.validate`): the CLI and the spec
check a value without loading torch. A bad value is one :class:`~overconf.errors.ConfigError` line,
``<where><label>=<value>: must be <what>``, ``label`` being the setting's name where the user wrote it (the
spec key, or the CLI flag):

>>> check_setting("batch_size", 0)
Traceback (most recent call last):
...
overconf.errors.ConfigError: batch_size=0: must be an integer >= 1 or "auto" (hint: e.g. 256, or "auto" for the largest that fits the device)
>>> check_setting("precision", "bf61", label="--precision")
Traceback (most recent call last):
...
overconf.errors.ConfigError: --precision='bf61': must be one of fp32, tf32, bf16, fp16 (hint: did you mean `bf16`?)
>>> family_limits(500), family_limits({"attack": 100})
({'clean': 500, 'attack': 500, 'corruption': 500, 'ood': 500}, {'attack': 100})
"""

from __future__ import annotations

import math
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any, Final

from overconf.errors import ConfigError
from overconf.validate import did_you_mean, unknown_name

#: forward-pass precisions (``precision``, ``attack_precision``); see :mod:`overconf.evaluation.engine`
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")
#: where image files are decoded (``decode``); see :mod:`overconf.data.decode`
DECODES = ("cpu", "gpu")
#: perturbation families: the record column ``family`` and the keys of the per-family ``n_examples``
FAMILIES = ("clean", "attack", "corruption", "ood")
#: ``[data] mode`` of image folders: 3 or 1 channels
IMAGE_MODES = ("RGB", "L")
#: ``device``: ``auto`` picks cuda, then mps, then cpu
DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
DEVICES = "auto, cpu, cuda, cuda:N or mps"
#: the largest seed (torch's generators take 64-bit seeds; numpy's take these too)
SEED_MAX = 2**63 - 1

BATCH_SIZE: Final = 256
"""Images per batch when none is named, for every entry point (spec, ``overconf evaluate``, the API, the
engine); ``"auto"`` picks one on CUDA."""
PRECISION: Final = "fp32"
"""``precision`` and ``attack_precision`` when none is named: strict IEEE float32."""
DECODE: Final = "cpu"
DEVICE: Final = "auto"
SEED: Final = 0
#: the engine keys (spec keys, ``overconf evaluate`` flags, arguments of the engine) and their defaults;
#: ``None``: chosen from the machine (:func:`overconf.evaluation.engine.default_workers` / ``default_threads``)
ENGINE_DEFAULTS: dict[str, Any] = {"batch_size": BATCH_SIZE, "precision": PRECISION, "attack_precision": PRECISION,
                                   "channels_last": False, "workers": None, "threads": None, "decode": DECODE}
ENGINE_KEYS = tuple(ENGINE_DEFAULTS)

#: the L∞ budget ε of the attacks per data set (pixel units); :func:`default_eps` for others
DEFAULT_EPS: dict[str, float] = {
    "fashion-mnist": 0.1,
    "cifar10": 8 / 255,
    "cifar100": 8 / 255,
    "imagenet": 4 / 255,
}
UNNAMED_EPS = 8 / 255


def default_eps(dataset: str | None) -> float:
    """ε when none is given: :data:`DEFAULT_EPS` of ``dataset``, else 8/255.

    >>> default_eps("imagenet") == 4 / 255, default_eps("my-folder") == 8 / 255
    (True, True)
    """
    return DEFAULT_EPS.get(dataset or "", UNNAMED_EPS)


def _integer(minimum: int, maximum: int | None = None) -> Callable[[Any], bool]:
    return lambda v: (not isinstance(v, bool) and isinstance(v, int) and v >= minimum
                      and (maximum is None or v <= maximum))


def _one_of(choices: tuple[str, ...]) -> tuple[str, Callable[[Any], bool], tuple[str, ...]]:
    return f"one of {', '.join(choices)}", lambda v: isinstance(v, str) and v in choices, choices


#: setting → (what it must be, the test, the names a misspelling is compared with)
_RULES: dict[str, tuple[str, Callable[[Any], bool], tuple[str, ...]]] = {
    "batch_size": ('an integer >= 1 or "auto"', lambda v: v == "auto" or _integer(1)(v), ()),
    "precision": _one_of(PRECISIONS),
    "attack_precision": _one_of(PRECISIONS),
    "channels_last": ("true or false", lambda v: isinstance(v, bool), ()),
    "workers": ("an integer >= 0", _integer(0), ()),
    "threads": ("an integer >= 1", _integer(1), ()),
    "decode": _one_of(DECODES),
    "device": (DEVICES, lambda v: isinstance(v, str) and DEVICE_PATTERN.match(v) is not None, ()),
    "seed": ("an integer >= 0 and <= 2**63 - 1", _integer(0, SEED_MAX), ()),
    "eps": ("a finite number > 0 and <= 1 (pixel units)",
            lambda v: not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v) and 0 < v <= 1, ()),
    "n_examples": ("an integer >= 1", _integer(1), ()),
}
#: setting → an example of a valid value, the hint of an error that has no closer one (a misspelt name)
_EXAMPLES: dict[str, str] = {
    "batch_size": 'e.g. 256, or "auto" for the largest that fits the device',
    "precision": "e.g. fp32 (strict float32)", "attack_precision": "e.g. fp32 (strict float32)",
    "channels_last": "e.g. true", "workers": "e.g. 0 (load data in the main process)",
    "threads": "e.g. 2", "decode": "e.g. cpu", "device": "e.g. cpu, cuda:0, or auto (CUDA, then MPS, then CPU)",
    "seed": "e.g. 0", "eps": "e.g. 0.0313725 (8/255, CIFAR's L-infinity budget)", "n_examples": "e.g. 1000",
}
#: settings whose ``None`` means "the default chosen later" (from the machine, or the data set)
_OPTIONAL = ("workers", "threads", "eps", "n_examples")


def invalid(label: str, value: Any, expected: str, *, where: str = "", hint: str | None = None) -> ConfigError:
    """The error for a bad value: ``<where><label>=<value!r>: must be <expected>``."""
    return ConfigError(f"{where}{label}={value!r}: must be {expected}", hint=hint)


def check_setting(key: str, value: Any, *, label: str | None = None, where: str = "") -> Any:
    """``value`` if it is a valid value of the setting ``key`` (an engine key, ``device``, ``seed``, ``eps``,
    ``n_examples``; ``None`` where the default is chosen later), else :func:`invalid`'s error naming it
    ``label`` (default ``key``) after the prefix ``where``."""
    expected, test, choices = _RULES[key]
    if (value is None and key in _OPTIONAL) or test(value):
        return value
    hint = did_you_mean(value, choices) if choices and isinstance(value, str) else ""
    raise invalid(label or key, value, expected, where=where, hint=hint or _EXAMPLES[key])


def family_limits(n_examples: int | Mapping[str, int | None] | None, label: str = "n_examples", *,
                  n_per_family: Mapping[str, int | None] | None = None) -> dict[str, int]:
    """The per-family sample limits (family → the first n samples) that ``n_examples`` stands for: an int
    limits every family, a mapping the families it names (the spec's ``[perturbations] n_examples``);
    families left out, or mapped to ``None``, take every sample. ``n_per_family``: the deprecated name of the
    mapping, its families overriding an int ``n_examples``."""
    limits: dict[str, int] = {}
    if isinstance(n_examples, Mapping):
        limits = _named_families(n_examples, label)
    elif n_examples is not None:
        limits = dict.fromkeys(FAMILIES, check_setting("n_examples", n_examples, label=label))
    if n_per_family is not None:
        warnings.warn("n_per_family is deprecated: pass n_examples={family: n} (the spec's [perturbations] "
                      "n_examples)", DeprecationWarning, stacklevel=3)
        limits = {f: n for f, n in limits.items() if f not in n_per_family} | _named_families(n_per_family, label)
    return limits


def _named_families(limits: Mapping[str, int | None], label: str) -> dict[str, int]:
    for family in limits:
        if family not in FAMILIES:
            raise unknown_name(f"family in {label}", family, FAMILIES)
    return {family: check_setting("n_examples", n, label=f"{label}[{family!r}]")
            for family, n in limits.items() if n is not None}
