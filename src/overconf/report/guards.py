"""The guards that gate the claims' verdicts: the minimum counts and the chance limit, in one place.

A pair comparison (one pair under one perturbation and one metric, a row of
:func:`overconf.report.comparisons.pair_comparisons`) *fails a guard* when

- a member of the pair is at or near chance on clean data: accuracy below
  ``max(NEAR_CHANCE_FACTOR / K, 1/K + 3 √(1/K (1 − 1/K) / n))`` (K classes, n clean samples);
- an o(f)-based number (o(f), o(f) after calibration, the rise of o(f) under attack) rests on fewer than
  :data:`MIN_WRONG_FOR_OVERCONFIDENCE` wrong predictions of either side;
- a u(f)-based number rests on fewer than :data:`MIN_CORRECT_FOR_UNDERCONFIDENCE` correct predictions, or
  an AUROC on fewer than that many positives (correct; clean-correct for attack detection) or fewer than
  :data:`MIN_WRONG_FOR_OVERCONFIDENCE` negatives (wrong; attacked-wrong for attack detection).

A comparison that fails a guard cannot support a claim: :func:`overconf.report.claims.judge_every` counts it
as not testable for that claim and names it with the guard.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from overconf.report.load import RunData

#: o(f) averages the confidence of the wrong predictions: below this many, an o(f)-based number is not judged
MIN_WRONG_FOR_OVERCONFIDENCE = 30
#: u(f) averages 1 − confidence of the correct predictions: below this many, a u(f)/AUROC number is not judged
MIN_CORRECT_FOR_UNDERCONFIDENCE = 30
#: a clean accuracy below this multiple of chance (1 / number of classes) is "near chance"
NEAR_CHANCE_FACTOR = 1.5
#: count columns of a pair comparison: the predictions behind each side's value (see
#: :func:`overconf.report.comparisons.pair_comparisons`); for :data:`RISE_METRICS` ``robust_*`` counts the attacked
#: side and ``normal_*`` the clean one
COUNT_COLUMNS = ["robust_correct", "robust_wrong", "normal_correct", "normal_wrong"]
#: the metrics of one model, attacked − clean (its o(f) under an attack minus on the same clean images): their
#: two values are the comparison's ``attacked`` and ``clean`` columns, not ``robust`` and ``normal``
RISE_METRICS = ("normal_rise", "robust_rise")
GUARD_COLUMN = "guard"

_NEEDS_WRONG = {"overconfidence", "overconfidence_ts", *RISE_METRICS, "auroc", "detection_auroc"}
_NEEDS_CORRECT = {"underconfidence", "auroc", "detection_auroc"}
_CALIBRATED = ("overconfidence_ts", "overconfidence_iso", "overconfidence_hist")


def needs_wrong(metric: str) -> bool:
    return metric in _NEEDS_WRONG or metric in _CALIBRATED


def needs_correct(metric: str) -> bool:
    return metric in _NEEDS_CORRECT


def chance_limit(n_classes: int, n: int) -> float:
    """The clean accuracy below which a model counts as near chance: ``max(1.5/K, 1/K + 3 binomial SE)``.

    >>> round(chance_limit(10, 100), 3)
    0.19
    """
    chance = 1.0 / n_classes
    return max(NEAR_CHANCE_FACTOR * chance, chance + 3 * math.sqrt(chance * (1 - chance) / max(n, 1)))


def near_chance_models(summary: pd.DataFrame, n_classes: dict[str, int]) -> dict[str, str]:
    """Model → why it is near chance (clean accuracy below :func:`chance_limit`); models above are left out."""
    out: dict[str, str] = {}
    clean = summary[summary["perturbation"] == "clean"]
    for r in clean.itertuples(index=False):
        k = n_classes.get(str(r.dataset), 0)
        if k >= 2 and np.isfinite(r.accuracy) and r.accuracy < chance_limit(k, int(r.n)):
            out[str(r.model)] = (f"{r.model} near chance (clean accuracy {r.accuracy:.3f} < "
                                 f"{chance_limit(k, int(r.n)):.3f} with {k} classes)")
    return out


def _count(row: pd.Series, column: str) -> int:
    value = row.get(column, np.nan)
    return int(value) if value is not None and np.isfinite(value) else 0


def comparison_guard(row: pd.Series, near_chance: dict[str, str]) -> str:
    """Why a pair comparison fails a guard ("" when it passes): near chance, too few wrong, too few correct."""
    reasons = [near_chance[m] for m in (str(row["robust_model"]), str(row["normal_model"])) if m in near_chance]
    metric = str(row["metric"])
    if not np.isfinite(row["estimate"]):
        return "; ".join(reasons)  # undefined anyway: the note says why
    sides = ("attacked", "clean") if metric in RISE_METRICS else ("robust", "normal")
    for side, prefix in zip(sides, ("robust", "normal")):
        wrong, correct = _count(row, f"{prefix}_wrong"), _count(row, f"{prefix}_correct")
        if needs_wrong(metric) and wrong < MIN_WRONG_FOR_OVERCONFIDENCE:
            reasons.append(f"{side}: {wrong} wrong predictions < {MIN_WRONG_FOR_OVERCONFIDENCE}")
        if needs_correct(metric) and correct < MIN_CORRECT_FOR_UNDERCONFIDENCE:
            reasons.append(f"{side}: {correct} correct predictions < {MIN_CORRECT_FOR_UNDERCONFIDENCE}")
    return "; ".join(reasons)


def guard_comparisons(comparisons: pd.DataFrame, summary: pd.DataFrame, n_classes: dict[str, int]) -> pd.DataFrame:
    """``comparisons`` with a :data:`GUARD_COLUMN` column: why each fails a guard, "" where it passes."""
    near = near_chance_models(summary, n_classes)
    guard = [comparison_guard(row, near) for _, row in comparisons.iterrows()] if len(comparisons) else []
    return comparisons.assign(**{GUARD_COLUMN: pd.Series(guard, index=comparisons.index, dtype=object)})


def guard_statement() -> str:
    """The minimums as one sentence (stated on the page)."""
    return (f"A pair comparison (pair × perturbation × metric) is not judged when a member of its pair is near "
            f"chance on clean data (accuracy below max({NEAR_CHANCE_FACTOR}/K, 1/K + 3 binomial standard errors)), "
            f"when an o(f)-based number rests on fewer than {MIN_WRONG_FOR_OVERCONFIDENCE} wrong predictions of either "
            f"model, or a u(f)- or AUROC-based number on fewer than {MIN_CORRECT_FOR_UNDERCONFIDENCE} correct ones "
            f"(for AUROC also fewer than {MIN_WRONG_FOR_OVERCONFIDENCE} wrong ones).")


def class_coverage(run: RunData, manifest: dict[str, object]) -> pd.DataFrame:
    """Per data set × labelled perturbation: ``classes`` (distinct true labels in its records, over all models)
    and ``classes_in_data`` (``run.json`` ``data`` ``classes_present`` of that data set, else the most any of
    its perturbations covers). Reads the ``label`` column of one record file at a time."""
    seen: dict[tuple[str, str], set[int]] = {}
    for f in run.files:
        if f.family != "ood":
            labels = run.read(f.model, f.perturbation, ["label"])
            if labels is not None:
                seen.setdefault((f.dataset, f.perturbation), set()).update(labels["label"].unique().tolist())
    table = pd.DataFrame([{"dataset": d, "perturbation": p, "classes": len(v)} for (d, p), v in sorted(seen.items())],
                         columns=["dataset", "perturbation", "classes"])
    items = manifest.get("data")
    entries = [d for d in (items if isinstance(items, list) else [items]) if isinstance(d, dict)]
    present = {str(d.get("name")): d["classes_present"] for d in entries if isinstance(d.get("classes_present"), int)}
    most = table.groupby("dataset")["classes"].transform("max")
    table["classes_in_data"] = [int(present.get(d, m)) for d, m in zip(table["dataset"], most)]
    return table
