"""What a run actually ran (attack budgets, corruption severities, sample counts) and where it fell short of the paper.

``run.json`` ``cells[].config`` holds each cell's resolved perturbation parameters (``perturbation``: ε,
steps, n_queries, severity, ...) and its data (``data``: ``n_examples`` evaluated of the test set's ``size``).
:func:`run_parameters` collects them per perturbation label; :func:`describe` turns them into the words a
claim's statement uses ("PGD, ε = 0.1, 20 steps, 500 images"); :func:`shortfalls` lists every budget below
the paper's or the usual reference (:data:`PAPER_BUDGETS`) with both numbers.
"""

from __future__ import annotations

import re
from typing import Any

#: attack (label before ``:``) → parameter → the paper's value and where it comes from
PAPER_BUDGETS: dict[str, dict[str, tuple[float, str]]] = {
    "square": {"n_queries": (5000, "the paper's Square attack (RobustBench / AutoAttack standard) uses 5,000 queries")},
    "pgd": {"steps": (20, "PGD-20, the usual robustness-evaluation budget, taken as the reference")},
}
_SEVERITY = re.compile(r"severity=(\d+)")
_WORDS = {"eps": "ε = {:.4g}", "steps": "{:g} steps", "n_queries": "{:g} queries", "restarts": "{:g} restart(s)",
          "norm": "{}", "severity": "severity {}"}


def attack_name(label: str) -> str:
    """``pgd:steps=10`` → ``pgd``."""
    return label.split(":")[0].lower()


def severity_of(label: str) -> int | None:
    """The corruption severity in a label (``fog:severity=3`` → 3), None when the label has none."""
    found = _SEVERITY.search(label)
    return int(found.group(1)) if found else None


def run_parameters(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Perturbation label → its parameters from ``run.json`` ``cells`` (first cell of the label), plus
    ``n_examples`` (largest over the label's cells) and ``size`` (the test set's size); empty without cells."""
    out: dict[str, dict[str, Any]] = {}
    for cell in manifest.get("cells", []) or []:
        if not isinstance(cell, dict):
            continue
        config = cell.get("config") or {}
        perturbation = config.get("perturbation") or {}
        label = perturbation.get("label", cell.get("perturbation")) if isinstance(perturbation, dict) else None
        if not isinstance(label, str):
            continue
        data = config.get("data") or {}
        entry = out.setdefault(label, {k: v for k, v in perturbation.items() if k not in ("label", "spec")})
        for key in ("n_examples", "size"):
            value = data.get(key) if isinstance(data, dict) else None
            if isinstance(value, int) and not isinstance(value, bool):
                entry[key] = max(int(entry.get(key, 0)), value)
    return out


def describe(label: str, parameters: dict[str, dict[str, Any]]) -> str:
    """What was run under ``label``: its budget and sample count, e.g. ``pgd (ε = 0.1, 20 steps; 500 of 10000 images)``;
    the label alone with "(parameters not recorded in run.json)" when the run lists no cells."""
    params = parameters.get(label)
    if not params:
        return f"{label} (parameters not recorded in run.json)"
    words = [_WORDS[k].format(params[k]) for k in _WORDS if k in params and params[k] is not None
             and not (k == "severity" and severity_of(label) is not None)]
    if "n_examples" in params:
        size = params.get("size")
        words.append(f"{params['n_examples']} of {size} images" if size else f"{params['n_examples']} images")
    return f"{label} ({', '.join(words)})" if words else label


def shortfalls(parameters: dict[str, dict[str, Any]]) -> list[str]:
    """One line per budget below the paper's: attack queries/steps (:data:`PAPER_BUDGETS`) and a test set
    evaluated in part (``n_examples`` < ``size``; the paper evaluates whole test sets)."""
    lines = []
    for label, params in parameters.items():
        for key, (paper, why) in PAPER_BUDGETS.get(attack_name(label), {}).items():
            value = params.get(key)
            if isinstance(value, int | float) and value < paper:
                lines.append(f"{label}: {key} = {value:g} in this run, {paper:g} in the reference ({why}); a weaker "
                             "attack leaves more images correct and more of its errors were already wrong on clean data")
        n, size = params.get("n_examples"), params.get("size")
        if isinstance(n, int) and isinstance(size, int) and n < size:
            lines.append(f"{label}: {n} of the test set's {size} images in this run, all {size} in the paper")
    return lines
