"""Checks of what a user passes (options, spec parameters, file entries), each failing with one
:class:`overconf.errors.ConfigError` line that names the parameter and what was expected.

Run them before any work starts, so a bad value never costs a training or an attack first.

>>> check_int("n_examples", 100)
100
>>> check_int("batch_size", 0)
Traceback (most recent call last):
...
overconf.errors.ConfigError: batch_size=0: must be an integer >= 1
>>> check_number("eps", float("inf"), minimum=0.0, exclusive_minimum=True)
Traceback (most recent call last):
...
overconf.errors.ConfigError: eps=inf: must be a finite number > 0.0
>>> did_you_mean("pdg", ["clean", "fgsm", "pgd", "square"])
'did you mean `pgd`?'
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from typing import Any

from overconf.errors import ConfigError, OverconfError


def closest(value: str, choices: Iterable[str], n: int = 3, cutoff: float = 0.6) -> list[str]:
    """Up to ``n`` of ``choices`` most similar to ``value`` (difflib's ratio ≥ ``cutoff``), best first;
    case is ignored.

    >>> closest("guassian_noise", ["gaussian_noise", "impulse_noise", "fog"])
    ['gaussian_noise']
    """
    by_lower = {c.lower(): c for c in choices}
    return [by_lower[m] for m in difflib.get_close_matches(str(value).lower(), list(by_lower), n=n, cutoff=cutoff)]


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """``did you mean `x`?`` (or ```x` or `y`?``) for the closest choices, or ``""`` when none is close."""
    matches = closest(value, choices)
    return f"did you mean {' or '.join(f'`{m}`' for m in matches)}?" if matches else ""


def unknown_name(kind: str, value: str, choices: Iterable[str], error: type[OverconfError] = ConfigError,
                 where: str = "") -> OverconfError:
    """The error for an unknown name: ``unknown <kind> 'x'; did you mean `y`?`` with the valid names
    in the hint (all of them when there are at most 30)."""
    listed = sorted(choices)
    suggestion = did_you_mean(value, listed)
    prefix = f"{where}: " if where else ""
    message = f"{prefix}unknown {kind} {value!r}" + (f"; {suggestion}" if suggestion else "")
    shown = ", ".join(listed) if len(listed) <= 30 else ", ".join(listed[:30]) + ", ..."
    return error(message, hint=f"known: {shown}")


def check_name(kind: str, value: str, choices: Iterable[str], where: str = "",
               error: type[OverconfError] = ConfigError) -> str:
    """``value`` if it is one of ``choices``, else :func:`unknown_name`'s ``error`` (a metric passes
    :class:`~overconf.errors.MetricInputError`).

    >>> check_name("norm", "l2", ("linf", "l2"))
    'l2'
    """
    choices = list(choices)
    if value not in choices:
        raise unknown_name(kind, value, choices, error, where=where)
    return value


def check_int(name: str, value: Any, *, minimum: int | None = 1, maximum: int | None = None,
              where: str = "") -> int:
    """``value`` if it is an integer (not a bool) within [minimum, maximum], else a :class:`ConfigError`."""
    bounds = " and ".join(b for b in (f">= {minimum}" if minimum is not None else "",
                                      f"<= {maximum}" if maximum is not None else "") if b)
    expected = f"an integer {bounds}".rstrip()
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{prefix}{name}={value!r}: must be {expected}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ConfigError(f"{prefix}{name}={value!r}: must be {expected}")
    return value


def check_number(name: str, value: Any, *, minimum: float | None = None, maximum: float | None = None,
                 exclusive_minimum: bool = False, where: str = "") -> float:
    """``value`` as a float if it is a finite real number within the bounds (``minimum`` excluded when
    ``exclusive_minimum``), else a :class:`ConfigError`. NaN and ±inf are always refused."""
    parts = []
    if minimum is not None:
        parts.append(f"{'>' if exclusive_minimum else '>='} {minimum}")
    if maximum is not None:
        parts.append(f"<= {maximum}")
    expected = "a finite number" + (" " + " and ".join(parts) if parts else "")
    prefix = f"{where}: " if where else ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{prefix}{name}={value!r}: must be {expected}")
    number = float(value)
    too_low = minimum is not None and (number <= minimum if exclusive_minimum else number < minimum)
    if not math.isfinite(number) or too_low or (maximum is not None and number > maximum):
        raise ConfigError(f"{prefix}{name}={value!r}: must be {expected}")
    return number


def check_positive(name: str, value: Any, where: str = "") -> float:
    """A finite number > 0 (an ε, a step size, a standard deviation).

    >>> check_positive("eps", 8 / 255) == 8 / 255
    True
    """
    return check_number(name, value, minimum=0.0, exclusive_minimum=True, where=where)


def check_keys(where: str, entry: Mapping[str, Any], allowed: Iterable[str], required: Iterable[str] = ()) -> None:
    """Refuse keys of ``entry`` outside ``allowed`` (with a did-you-mean) and missing ``required`` keys.

    >>> check_keys("pairs.toml, line 3", {"robust_idd": "x"}, ["dataset", "robust_id"])
    Traceback (most recent call last):
    ...
    overconf.errors.ConfigError: pairs.toml, line 3: unknown key 'robust_idd'; did you mean `robust_id`? (hint: known: dataset, robust_id)
    """
    allowed, required = list(allowed), list(required)
    for key in entry:
        if key not in allowed:
            raise unknown_name("key", key, allowed, where=where)
    missing = [k for k in required if k not in entry]
    if missing:
        raise ConfigError(f"{where}: lacks {', '.join(missing)}", hint=f"required: {', '.join(required)}")


def check_type(where: str, key: str, value: Any, expected: type | tuple[type, ...], what: str) -> Any:
    """``value`` if it is an instance of ``expected`` (bools are not numbers), else a :class:`ConfigError`
    saying ``<where>: <key> must be <what>, not <type> <value>``."""
    is_bool_for_number = isinstance(value, bool) and bool not in (expected if isinstance(expected, tuple) else (expected,))
    if not isinstance(value, expected) or is_bool_for_number:
        raise ConfigError(f"{where}: {key} must be {what}, not {type(value).__name__} {value!r}")
    return value
