"""One vocabulary for what models are grouped by: activation, downsampling and training.

The small CNN family (:mod:`overconf.models.cnn`), its training (:mod:`overconf.train`), the zoo's
metadata (``zoo/models.csv``, derived by :mod:`overconf.zoo.traits`) and the figures that group models
(``run.json`` ``models[].config``) all use these names. A model with several kinds joins them with ``+``
in sorted order (``maxpool+strided``).

>>> sorted(DOWNSAMPLING)
['avgpool', 'flc', 'maxpool', 'spectral', 'strided']
>>> sorted(TRAINING)
['adversarial', 'fgsm-rs', 'pgd', 'standard']
"""

from __future__ import annotations

from collections.abc import Mapping

from overconf.validate import check_name

#: downsampling name → what reduces the spatial size
DOWNSAMPLING: dict[str, str] = {
    "maxpool": "max pooling (2×2 in the small CNN)",
    "avgpool": "average pooling (not counted when it pools down to 1×1 before the classifier)",
    "strided": "a convolution with stride > 1",
    "flc": "FLC pooling (Grabinski et al. 2022), overconf.models.blocks.FLCPooling",
    "spectral": "another FFT-based pooling",
}

#: training name → how the model was trained; the first three are what overconf.train runs
TRAINING: dict[str, str] = {
    "standard": "cross-entropy on clean inputs",
    "fgsm-rs": "FGSM with random start ('fast AT', Wong et al. 2020)",
    "pgd": "PGD adversarial training (Madry et al. 2018)",
    "adversarial": "L∞ adversarial training by a method the metadata does not name "
                   "(the zoo's RobustBench models: PGD-AT, TRADES, MART, ... with various extra data)",
}

#: other names of the same activation, as architecture code spells them (``Swish`` is x·σ(x) = SiLU)
ACTIVATION_ALIASES: dict[str, str] = {"swish": "silu"}

#: class names (lower-cased) of downsampling modules, mapped to the vocabulary
DOWNSAMPLING_ALIASES: dict[str, str] = {"flcpooling": "flc"}


def split(value: str) -> list[str]:
    """The kinds of a ``+``-joined value.

    >>> split("maxpool+strided")
    ['maxpool', 'strided']
    """
    return value.split("+") if value else []


def check_vocabulary(meta: Mapping[str, str], where: str = "") -> None:
    """A :class:`~overconf.errors.ConfigError` (with the closest name) when ``meta``'s ``downsampling`` or
    ``training`` is not in the vocabulary; activations are open (any activation's torch name).

    >>> check_vocabulary({"downsampling": "maxpool+strided", "training": "pgd"})
    >>> check_vocabulary({"training": "pgd-at"}, "mine.toml")
    Traceback (most recent call last):
    ...
    overconf.errors.ConfigError: mine.toml: unknown training 'pgd-at'; did you mean `pgd`? (hint: known: adversarial, fgsm-rs, pgd, standard)
    """
    for key, names in (("downsampling", DOWNSAMPLING), ("training", TRAINING)):
        for part in split(meta.get(key, "")):
            check_name(key, part, names, where)
