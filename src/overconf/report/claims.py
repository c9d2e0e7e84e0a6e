"""The paper's claims (and a few of ours), each judged on this run's numbers, and the guards that qualify them.

A :class:`Claim` carries its statement, where it comes from (``source``: the paper's figure or text, or
"ours"), a verdict, the sub-conditions that failed, the pairs it ranges over and the numbers with their
95 % intervals. :func:`write_claims` writes them as ``report/claims.json`` (a list of objects; the keys of
:meth:`Claim.to_json` are a contract read by tests outside this repository, and so are the claim ids).

Most claims are rows of one table, :data:`CLAIMS` (:class:`ClaimSpec`: id, statement, source, metric, which
pair comparisons, side), judged by one function, :func:`judge`. The pair comparisons are the rows of
:func:`overconf.report.comparisons.pair_comparisons`: one pair under one perturbation and one metric. (The
claims.json fields ``cells_tested``, ``cells_against`` and ``cells_guarded`` name comparisons as
``<pair> · <perturbation>``: the field names are a contract.)

Verdicts. A claim about *every* pair comparison (:func:`judge_every`) is

- ``supported`` only when every expected pair has data, no value is missing or NaN, and every difference's
  95 % interval lies on the claimed side of zero;
- ``inconclusive`` when no comparison goes the other way but some interval reaches zero (or is undefined);
- ``partly supported`` when some comparisons go the other way (estimate on the wrong side) or, with every
  interval on the claimed side, some pair or comparison has no data (named);
- ``not supported`` when every comparison tested goes the other way; ``not testable`` when none can be tested.

A comparison that fails a guard (:mod:`overconf.report.guards`: near chance, too few wrong or correct
predictions) is not judged: it cannot support the claim, which is then at most ``partly supported`` (``not
testable`` when nothing is left) and names the comparisons and the guard. Claims whose results can go
opposite ways are split: one per attack label, one per corruption severity; statements name what was run
(:mod:`overconf.report.budget`).

A claim about an *average* (:func:`judge_average`) needs the paired test across pairs at p < :data:`ALPHA`.
Guards (``warning`` when they apply, else ``informational``): accuracy at or near chance, too few wrong
predictions for o(f), too few correct ones for u(f)/AUROC, budgets below the paper's, a fitted temperature at
its search bound, too few pairs for the paired test to reach p < :data:`ALPHA`, ECE below 50 % accuracy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from overconf.files import write_atomic
from overconf.metrics import paired_test
from overconf.metrics.temperature import TEMPERATURE_BOUNDS
from overconf.report.budget import attack_name, describe, run_parameters, severity_of, shortfalls
from overconf.report.calibrators import CALIBRATORS, HIST_BINS
from overconf.report.comparisons import Pair, replicate_units
from overconf.report.guards import (
    GUARD_COLUMN,
    MIN_CORRECT_FOR_UNDERCONFIDENCE,
    MIN_WRONG_FOR_OVERCONFIDENCE,
    NEAR_CHANCE_FACTOR,
    RISE_METRICS,
    chance_limit,
)

SUPPORTED = "supported"
PARTLY = "partly supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
NOT_TESTABLE = "not testable"
WARNING = "warning"
INFO = "informational"
VERDICTS = (SUPPORTED, PARTLY, NOT_SUPPORTED, INCONCLUSIVE, NOT_TESTABLE, WARNING, INFO)

CLAIMS_JSON = "claims.json"
#: significance level of the paired test across pairs (its statements read "p < 0.05")
ALPHA = 0.05
#: a fitted temperature within this factor of a search bound counts as "at the bound"
BOUND_TOLERANCE = 1.01
PAPER = "Grabinski et al. 2022"
GUARD_SOURCE = "ours (a guard)"


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One claim and its verdict on this run. ``numbers``: one dict per pair comparison (pair, perturbation,
    metric, robust, normal, estimate, low, high, n, note) or per model for guards."""

    id: str
    statement: str
    source: str
    verdict: str
    summary: str
    failed: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    pairs_expected: list[str] = field(default_factory=list)
    pairs_tested: list[str] = field(default_factory=list)
    pairs_missing: list[str] = field(default_factory=list)
    cells_tested: list[str] = field(default_factory=list)
    cells_against: list[str] = field(default_factory=list)
    numbers: list[dict[str, Any]] = field(default_factory=list)
    pairs_guarded: list[str] = field(default_factory=list)
    cells_guarded: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"unknown verdict {self.verdict!r}")

    def to_json(self) -> dict[str, Any]:
        """The claim as a JSON object (NaN becomes null)."""
        return {"id": self.id, "statement": self.statement, "source": self.source, "verdict": self.verdict,
                "summary": self.summary, "failed": self.failed, "evidence": self.evidence,
                "pairs_expected": self.pairs_expected, "pairs_tested": self.pairs_tested,
                "pairs_missing": self.pairs_missing, "cells_tested": self.cells_tested,
                "cells_against": self.cells_against, "numbers": [_clean(n) for n in self.numbers],
                "pairs_guarded": self.pairs_guarded, "cells_guarded": self.cells_guarded}


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, (np.floating, float)):
            out[key] = None if not math.isfinite(float(value)) else float(value)
        elif isinstance(value, np.integer):
            out[key] = int(value)
        elif isinstance(value, np.bool_):
            out[key] = bool(value)
        else:
            out[key] = value
    return out


def write_claims(claims: list[Claim], path: Path) -> Path:
    """Write ``claims`` as a JSON list to ``path`` (atomically)."""
    text = json.dumps([c.to_json() for c in claims], indent=2, allow_nan=False)
    write_atomic(Path(path), lambda tmp: tmp.write_text(text + "\n", encoding="utf-8"))
    return Path(path)


# --- the table ---------------------------------------------------------------------------------------------

Over = Literal["clean", "each attack", "PGD", "each severity", "each OOD set"]
"""Which pair comparisons a :class:`ClaimSpec` ranges over, and how they are split into claims:

- ``clean``: the clean comparisons, one claim;
- ``each attack``: one claim per attack label (``{key}`` = the label);
- ``PGD``: the comparisons of every PGD label together, one claim;
- ``each severity``: the corruption comparisons, one claim per severity run (``{key}`` = ``severity=<N>``,
  or ``other`` for labels without one);
- ``each OOD set``: one claim per OOD label (``{key}`` = the label).
"""

#: one evidence line per comparison: each side's value and the difference with its interval
DIFFERENCE = "{name}: {quantity} robust {robust} vs normal {normal}, Δ {interval} (n = {n})"


@dataclass(frozen=True, kw_only=True)
class Aside:
    """Comparisons of the claim's metric under another attack, listed in its evidence but not judged."""

    attack: str  #: the attack name (label before ``:``) whose comparisons are listed
    preface: str  #: the first evidence line, saying why they are not judged
    line: str  #: one evidence line per comparison (fields as :class:`ClaimSpec` ``evidence``)


@dataclass(frozen=True, kw_only=True)
class ClaimSpec:
    """One row of :data:`CLAIMS`: a claim about the pair comparisons of one metric, judged by :func:`judge`.

    ``id``, ``statement``, ``source`` and ``evidence`` are :meth:`str.format` templates. Their fields:
    ``key`` (the split, see :data:`Over`), ``label``, ``title`` (``PGD``, ``Squares``), ``ran`` (what was run
    under the split's labels, :func:`overconf.report.budget.describe`), ``ran_clause`` (`` — <ran> —`` or
    nothing), ``run_note`` (`` Run: <ran>.`` when run.json records it), ``name`` (``severity 3``), ``count``
    (corruptions of the severity), ``paper_auroc`` (the paper's detection AUROC of the attack, or ``.``),
    ``tolerance`` and ``paper``; ``evidence`` (one line per comparison) also has ``name`` (the comparison,
    ``<pair> · <perturbation>``), ``pair``, ``quantity``, ``robust``, ``normal``, ``attacked``, ``clean``,
    ``estimate``, ``low``, ``high`` (3 decimals), ``interval`` (estimate [low, high]) and ``n``.

    ``side``: the difference is claimed below (``<``) or above (``>``) zero — after subtracting ``tolerance``
    when given (the claim is then "below the tolerance"). ``rule``: ``every`` comparison on its side
    (:func:`judge_every`) or the ``average`` across pairs by the paired test (:func:`judge_average`).
    ``if_empty``: the summary and ``failed`` line of a ``not testable`` claim when the split has no comparison
    at all. ``group``: rows sharing a group that follow each other in the table are judged split by split
    (per OOD set: its AUROC claim, then its confidence claim).

    Guards are no column: every comparison carries its own (:func:`overconf.report.guards.guard_comparisons`,
    which guards apply follows from the metric), and :func:`judge_every` leaves a guarded comparison unjudged.
    """

    id: str
    statement: str
    source: str
    metric: str
    over: Over
    side: Literal["<", ">"]
    quantity: str
    noun: str = "pairs"
    rule: Literal["every", "average"] = "every"
    evidence: str = DIFFERENCE
    tolerance: float | None = None
    if_empty: tuple[str, str] | None = None
    aside: Aside | None = None
    group: str = ""


#: "stays low": the robust model's o(f) may rise under PGD by less than this (ImageNet, the paper: 0.22–0.36
#: clean → 0.23–0.39 under PGD, a rise of at most 0.03)
STAYS_LOW_TOLERANCE = 0.05
#: the paper's attack-detection AUROC on CIFAR-10 (robust vs normal), per attack
PAPER_DETECTION = {"pgd": "PGD 0.92 vs 0.52", "square": "Squares 0.92 vs 0.84"}
#: calibrator (:data:`overconf.report.calibrators.CALIBRATORS`) → claim id and how it is fitted
_CALIBRATION_CLAIMS = {
    "ts": ("temperature-scaling", "post-hoc temperature scaling (T fitted per model by NLL"),
    "iso": ("isotonic-calibration", "isotonic regression of correct on confidence (fitted per model"),
    "hist": ("histogram-binning", f"histogram binning ({HIST_BINS} equal-width bins, fitted per model"),
}
_NO_PGD = ("The run has no PGD attack.", "complete: no PGD perturbation in the run")
_SEPARATES = ("the robust model's confidence separates its correct from its wrong predictions better (higher "
              "misclassification AUROC).")
_FIG3 = "{paper}, Fig. 3 ({column} column: mean ± std ROC of robust vs normal models; judged here per pair)"

#: the judged claims, in the order of claims.json (:func:`check_claims` adds the rest)
CLAIMS: tuple[ClaimSpec, ...] = (
    ClaimSpec(id="every-pair-clean", metric="overconfidence", over="clean", side="<", quantity="o(f)",
              statement="In every pair the robust model has the lower over-confidence o(f) on clean data.{run_note}",
              source="{paper}, Fig. 2 and its CIFAR-10 result (robust o(f) lower in every pair)"),
    ClaimSpec(id="clean-average", metric="overconfidence", over="clean", side="<", quantity="o(f)", rule="average",
              statement="Robust models are less over-confident than normal ones on clean data (across pairs).{run_note}",
              source="{paper}, abstract and Fig. 2"),
    ClaimSpec(id="pgd-rise", metric="normal_rise", over="PGD", side=">", quantity="o(f)", noun="pair × PGD cells",
              statement="Under PGD{ran_clause} the normal models' over-confidence o(f) rises above their clean o(f).",
              source="{paper}, Fig. 2 and the ImageNet numbers (normal o(f) 0.47–0.59 clean, 0.88–0.94 under PGD)",
              evidence="{name}: normal o(f) clean {clean} → attacked {attacked}, rise {interval} (n = {n})",
              if_empty=_NO_PGD, aside=Aside(
                  attack="square", line="not judged: {name} normal o(f) change {interval}",
                  preface="Squares are not part of this claim: a Square example is the first point found across the "
                          "decision boundary, so o(f) is expected to fall under Squares for both kinds of model.")),
    ClaimSpec(id="robust-stays-low", metric="robust_rise", over="PGD", side="<", quantity="o(f)",
              noun="pair × PGD cells", tolerance=STAYS_LOW_TOLERANCE, if_empty=_NO_PGD,
              statement="Under PGD{ran_clause} the robust models' o(f) stays low: it rises above their clean o(f) by "
                        "less than {tolerance} (the whole 95% interval of the rise below {tolerance}).",
              source="{paper}, ImageNet numbers (robust o(f) 0.22–0.36 clean, 0.23–0.39 under PGD)",
              evidence="{name}: robust o(f) clean {clean} → attacked {attacked}, rise {estimate} [{low}, {high}] "
                       "(tolerance {tolerance}; n = {n})"),
    ClaimSpec(id="attack-lower:{key}", metric="overconfidence", over="each attack", side="<", quantity="o(f)",
              statement="Under {title} — {ran} — the robust model's o(f) stays below its normal twin's.",
              source="{paper}, Fig. 2 (clean / PGD / Squares bars) and the ImageNet numbers (robust 0.23–0.39 under "
                     "PGD)"),
    ClaimSpec(id="detection:{key}", metric="detection_auroc", over="each attack", side=">", quantity="detection AUROC",
              statement="Detection of {title} examples — {ran} — (clean-correct vs attacked-wrong, by confidence) has "
                        "a higher AUROC for the robust model{paper_auroc}",
              source="{paper}, Fig. 4"),
    ClaimSpec(id="misclassification-auroc:{key}", metric="auroc", over="each attack", side=">", quantity="AUROC",
              statement="Under {title} — {ran} — " + _SEPARATES, source="{paper}, Fig. 3 ({title} column)"),
    ClaimSpec(id="misclassification-auroc:clean", metric="auroc", over="clean", side=">", quantity="AUROC",
              statement="On clean data — {ran} — " + _SEPARATES, source=_FIG3.replace("{column}", "clean")),
    ClaimSpec(id="misclassification-auroc:corruptions:{key}", metric="auroc", over="each severity", side=">",
              quantity="AUROC", noun="pair × corruption cells",
              statement="Under each common corruption run at {name} ({count} corruption(s)) " + _SEPARATES,
              source=_FIG3.replace("{column}", "CIFAR-10-C; the paper pools the corruptions, here each corruption "
                                               "cell is judged")),
    ClaimSpec(id="corruptions:{key}", metric="overconfidence", over="each severity", side="<", quantity="o(f)",
              noun="pair × corruption cells",
              statement="Under each common corruption run at {name} ({count} corruption(s): {ran}) the robust model's "
                        "o(f) stays below its normal twin's.",
              source="ours: extends the paper's clean-data claim to each corruption cell (the paper shows CIFAR-10-C "
                     "in Fig. 3 only)"),
    *(ClaimSpec(id=claim_id, metric=CALIBRATORS[key][0], over="clean", side="<", quantity="o(f)",
                statement=f"The robust model's lower clean o(f) survives {how} on its clean records of odd index, "
                          "o(f) scored on those of even index).",
                source="ours (not in the paper)",
                evidence=f"{{pair}}: o(f) after {CALIBRATORS[key][1]} robust {{robust}} vs normal {{normal}}, "
                         "Δ {interval} (n = {n} held-out samples)",
                if_empty=("The run has no clean records to calibrate.", f"complete: no {CALIBRATORS[key][1]}"))
      for key, (claim_id, how) in _CALIBRATION_CLAIMS.items()),
    ClaimSpec(id="ood-auroc:{key}", metric="ood_auroc", over="each OOD set", side=">", quantity="OOD AUROC",
              group="ood", source="ours (OOD detection is not in the paper)",
              statement="On OOD inputs {label} the robust model's confidence separates clean from OOD inputs better "
                        "(higher OOD-detection AUROC) than its normal twin's."),
    ClaimSpec(id="ood-confidence:{key}", metric="ood_confidence", over="each OOD set", side="<",
              quantity="mean OOD confidence", group="ood", source="ours (OOD inputs are not in the paper)",
              statement="On OOD inputs {label} the robust model is less confident than its normal twin (lower mean "
                        "confidence)."),
)


def spec_of(claim_id: str) -> ClaimSpec:
    """The row of :data:`CLAIMS` whose ``id`` template is ``claim_id`` (as the table writes it, ``{key}`` included)."""
    return next(spec for spec in CLAIMS if spec.id == claim_id)


# --- judging ------------------------------------------------------------------------------------------------


def _f(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _interval(row: Any) -> str:
    if not np.isfinite(row.low) or not np.isfinite(row.high):
        return f"{_f(row.estimate)} (interval undefined)"
    return f"{_f(row.estimate)} [{_f(row.low)}, {_f(row.high)}]"


def comparison_name(pair: str, perturbation: str) -> str:
    """How claims.json names a pair comparison (``cells_tested`` and the like): ``<pair> · <perturbation>``."""
    return f"{pair} · {perturbation}"


#: the keys of a claims.json ``numbers`` entry of a pair comparison, in order
NUMBER_KEYS = ["dataset", "pair", "perturbation", "metric", "robust", "normal", "estimate", "low", "high", "n", "note"]


def _numbers(comparisons: pd.DataFrame) -> list[dict[str, Any]]:
    """claims.json ``numbers``: :data:`NUMBER_KEYS` (and ``guard``) per comparison. The keys are a contract: the
    attacked and clean o(f) of a :data:`~overconf.report.guards.RISE_METRICS` row go under ``robust`` and
    ``normal``, as claims.json has always had them."""
    if "attacked" in comparisons.columns:
        rise = comparisons["metric"].isin(RISE_METRICS).to_numpy()
        comparisons = comparisons.assign(robust=np.where(rise, comparisons["attacked"], comparisons["robust"]),
                                         normal=np.where(rise, comparisons["clean"], comparisons["normal"]))
    keep = NUMBER_KEYS + [c for c in (GUARD_COLUMN,) if c in comparisons.columns]
    return [dict(zip(keep, row)) for row in comparisons[keep].itertuples(index=False)]


def _guards(comparisons: pd.DataFrame) -> np.ndarray:
    """Why each comparison fails a guard ("" where it passes, or where the table has no guard column)."""
    if GUARD_COLUMN not in comparisons.columns:
        return np.full(len(comparisons), "", dtype=object)
    return comparisons[GUARD_COLUMN].fillna("").astype(str).to_numpy(dtype=object)


def judge_every(comparisons: pd.DataFrame, pairs: list[Pair], *, side: str, line: Callable[[Any], str], noun: str,
                id: str, statement: str, source: str) -> Claim:
    """Judge "for every pair comparison, the difference is on ``side`` of zero" (``side``: ``"<"`` or ``">"``).

    ``comparisons``: the rows of :func:`overconf.report.comparisons.pair_comparisons` the claim ranges over (one
    per expected comparison); ``pairs``: the run's expected pairs (a pair with no row at all counts as
    missing); ``line``: one evidence line per row; ``noun``: what the summary counts ("pairs", "pair × attack
    cells"); ``id``, ``statement``, ``source``: the claim's.
    """
    expected = [p.name for p in pairs]
    names = [comparison_name(r.pair, r.perturbation) for r in comparisons.itertuples(index=False)]
    estimate, low, high = (comparisons[c].to_numpy(float) for c in ("estimate", "low", "high"))
    sign = -1.0 if side == "<" else 1.0
    finite = np.isfinite(estimate)
    reasons = _guards(comparisons)
    guarded = finite & (reasons != "")
    judged = finite & ~guarded
    against = judged & (sign * estimate <= 0)
    favourable = judged & ~against & np.isfinite(low) & np.isfinite(high) & (sign * np.where(sign < 0, high, low) > 0)
    straddle = judged & ~against & ~favourable
    missing_names = [n for n, ok in zip(names, finite) if not ok]
    tested_pairs = list(dict.fromkeys(p for p, ok in zip(comparisons["pair"], judged) if ok))
    guarded_pairs = list(dict.fromkeys(p for p, g in zip(comparisons["pair"], guarded) if g))
    guarded_names = [n for n, g in zip(names, guarded) if g]
    missing_pairs = [p for p in expected if p not in set(comparisons.loc[finite, "pair"]) or
                     p in set(comparisons.loc[~finite, "pair"])]
    tested = [n for n, ok in zip(names, judged) if ok]
    against_names = [n for n, bad in zip(names, against) if bad]
    failed = []
    if missing_pairs or missing_names:
        notes = "; ".join(f"{n}: {note}" for n, note, ok in zip(names, comparisons["note"], finite) if not ok)
        absent = [p for p in expected if p not in set(comparisons["pair"])]
        failed.append("complete: " + "; ".join(x for x in [
            f"{len(missing_pairs)} of {len(expected)} pairs lack data ({', '.join(missing_pairs)})" if missing_pairs else "",
            f"no records at all for {', '.join(absent)}" if absent else "", notes] if x))
    if guarded_names:
        failed.append(f"guard: {len(guarded_names)} of {len(names)} {noun} not judged (a guard fails): " + "; ".join(
            f"{n} ({why})" for n, why, g in zip(names, reasons, guarded) if g))
    if against_names:
        strong = int((against & np.isfinite(low) & np.isfinite(high) & (sign * np.where(sign < 0, low, high) < 0)).sum())
        failed.append(f"sign: {len(against_names)} of {len(tested)} {noun} go the other way "
                      f"({strong} with the whole interval on the wrong side): {', '.join(against_names)}")
    if straddle.any():
        failed.append(f"interval: {int(straddle.sum())} of {len(tested)} {noun} have a 95% interval reaching "
                      f"zero or undefined: {', '.join(n for n, s in zip(names, straddle) if s)}")
    if not tested:
        verdict = NOT_TESTABLE
    elif against.any():
        verdict = NOT_SUPPORTED if against.sum() == len(tested) else PARTLY
    elif straddle.any():
        verdict = INCONCLUSIVE
    elif missing_pairs or missing_names or guarded_names:
        verdict = PARTLY
    else:
        verdict = SUPPORTED
    guarded_note = f"; {len(guarded_names)} not judged: a guard fails" if guarded_names else ""
    summary = (f"{int(favourable.sum())} of {len(names)} {noun} have the whole 95% interval on the claimed side "
               f"(pairs with data: {len(tested_pairs)} of {len(expected)}{guarded_note}).") if tested else (
               f"Nothing to test: {len(names)} {noun} expected, none with data that passes the guards "
               f"({len(expected)} pairs in the run{guarded_note}).")
    evidence = [line(r) + (f" — not judged: {why}" if g else "")
                for r, why, g in zip(comparisons.itertuples(index=False), reasons, guarded)]
    return Claim(id=id, statement=statement, source=source, verdict=verdict, summary=summary, failed=failed,
                 evidence=evidence, pairs_expected=expected, pairs_tested=tested_pairs, pairs_missing=missing_pairs,
                 cells_tested=tested, cells_against=against_names, numbers=_numbers(comparisons),
                 pairs_guarded=guarded_pairs, cells_guarded=guarded_names)


def minimum_p_value(n_pairs: int) -> float:
    """The smallest two-sided p the exact Wilcoxon signed-rank test can give with ``n`` pairs: ``2 / 2ⁿ``.

    >>> minimum_p_value(3), minimum_p_value(6)
    (0.25, 0.03125)
    """
    return min(1.0, 2.0 / 2.0 ** n_pairs) if n_pairs > 0 else 1.0


def pairs_needed(alpha: float = ALPHA) -> int:
    """The fewest pairs whose :func:`minimum_p_value` is below ``alpha``.

    >>> pairs_needed(0.05)
    6
    """
    return next(n for n in range(1, 64) if minimum_p_value(n) < alpha)


def by_unit(data: pd.DataFrame, units: dict[str, str] | None) -> pd.DataFrame:
    """``robust`` and ``normal`` averaged over the pairs of one unit (:func:`overconf.report.comparisons.replicate_units`:
    pairs sharing both checkpoints), one row per unit named ``pair`` (a pair is its own unit without ``units``)."""
    units = units or {}
    keyed = data.assign(pair=[units.get(str(p), str(p)) for p in data["pair"]])
    return keyed.groupby("pair", sort=False)[["robust", "normal"]].mean().reset_index()


def judge_average(comparisons: pd.DataFrame, pairs: list[Pair], units: dict[str, str] | None, *, side: str,
                  quantity: str, id: str, statement: str, source: str) -> Claim:
    """Judge "across pairs, robust − normal is on ``side`` of zero" by :func:`overconf.metrics.paired_test` at
    p < :data:`ALPHA`: one value per independent pair (:func:`by_unit`), comparisons failing a guard left out.

    ``supported`` when the median difference is on ``side`` and p < :data:`ALPHA` with every expected pair in
    the test; ``partly supported`` when so but some pair lacks data or fails a guard; ``not supported`` when
    the median is on the other side (or zero) with p < :data:`ALPHA`; else ``inconclusive``.
    """
    expected = [p.name for p in pairs]
    reasons = _guards(comparisons)
    finite = np.isfinite(comparisons["estimate"].to_numpy(float))
    guarded = finite & (reasons != "")
    data = comparisons[finite & ~guarded]
    guarded_pairs = [str(p) for p in comparisons.loc[guarded, "pair"]]
    guarded_names = [comparison_name(r.pair, r.perturbation) for r in comparisons[guarded].itertuples(index=False)]
    guard_line = [f"guard: {len(guarded_pairs)} pair(s) left out of the test (a guard fails): " + "; ".join(
        f"{p} ({why})" for p, why in zip(comparisons.loc[guarded, "pair"], reasons[guarded]))] if guarded_pairs else []
    missing = [p for p in expected if p not in set(comparisons.loc[finite, "pair"])]
    numbers = _numbers(comparisons)
    head: dict[str, Any] = {"id": id, "statement": statement, "source": source, "pairs_expected": expected, "pairs_missing": missing,
            "pairs_guarded": guarded_pairs, "cells_guarded": guarded_names}
    if data.empty:
        return Claim(**head, verdict=NOT_TESTABLE, summary=f"No pair has clean {quantity} for both models that "
                     "passes the guards.", failed=["complete: no pair with data", *guard_line], numbers=numbers)
    grouped = by_unit(data, units)
    robust, normal = grouped["robust"].to_numpy(float), grouped["normal"].to_numpy(float)
    test = paired_test(robust, normal)
    n_units = len(grouped)
    min_p = minimum_p_value(n_units)
    evidence = [(f"mean {quantity} robust {_f(robust.mean())} vs normal {_f(normal.mean())}; median Δ "
                 f"{_f(test.median_difference)}"),
                (f"Wilcoxon signed-rank over {n_units} independent pairs: p = {test.p_value:.3g} (the smallest p "
                 f"{n_units} pairs can give is {min_p:.3g}), effect size r = {test.effect_size:.2f}")]
    if n_units < len(data):
        evidence.append(f"{len(data)} pairs form {n_units} units: pairs whose robust and normal checkpoints share "
                        f"their SHA-256 (the same models on several data sets or runs) are averaged into one unit "
                        f"before the test ({', '.join(u for u in grouped['pair'] if ' = ' in u)})")
    sign = -1.0 if side == "<" else 1.0
    against = sign * test.median_difference <= 0
    failed = []
    if missing:
        failed.append(f"complete: {len(missing)} of {len(expected)} pairs lack data ({', '.join(missing)})")
    failed += guard_line
    if min_p >= ALPHA:
        failed.append(f"power: with {n_units} independent pairs the test cannot reach p < {ALPHA} (smallest p {min_p:.3g})")
    elif test.p_value >= ALPHA:
        failed.append(f"significance: p = {test.p_value:.3g} ≥ {ALPHA}")
    if against:
        failed.append(f"sign: median Δ (robust − normal) = {_f(test.median_difference)} {'≥' if side == '<' else '≤'} 0")
    if against:
        verdict = NOT_SUPPORTED if test.p_value < ALPHA else INCONCLUSIVE
    elif test.p_value >= ALPHA:
        verdict = INCONCLUSIVE
    else:
        verdict = PARTLY if missing or guarded_pairs else SUPPORTED
    numbers.append({"metric": "paired_test", "n": n_units, "n_pairs": len(data), "p_value": test.p_value,
                    "minimum_p": min_p, "effect_size": test.effect_size, "median_difference": test.median_difference})
    return Claim(**head, verdict=verdict, failed=failed, evidence=evidence, numbers=numbers,
                 summary=f"Mean {quantity} robust {_f(robust.mean())} vs normal {_f(normal.mean())}; paired test p = "
                         f"{test.p_value:.3g} over {n_units} independent pairs ({len(data)} pairs).",
                 pairs_tested=list(dict.fromkeys(data["pair"])),
                 cells_tested=[comparison_name(r.pair, r.perturbation) for r in data.itertuples(index=False)],
                 cells_against=[comparison_name(r.pair, r.perturbation) for r in data.itertuples(index=False)
                                if sign * r.estimate <= 0])


@dataclass(frozen=True)
class _Split:
    """The comparisons of one claim of a :class:`ClaimSpec` and the template fields that name them."""

    key: str
    rows: pd.DataFrame
    fields: dict[str, str]


def _is_pgd(perturbation: str) -> bool:
    return attack_name(perturbation) == "pgd"


def _title(label: str) -> str:
    return {"pgd": "PGD", "square": "Squares"}.get(attack_name(label), attack_name(label))


def _ran(labels: list[str], run: dict[str, dict[str, Any]]) -> dict[str, str]:
    """What was run under ``labels``: ``ran``, ``ran_clause`` and ``run_note`` (see :class:`ClaimSpec`)."""
    ran = ", ".join(describe(label, run) for label in labels)
    recorded = bool(labels) and all(label in run for label in labels)
    return {"ran": ran, "ran_clause": f" — {ran} —" if ran else "", "run_note": f" Run: {ran}." if recorded else ""}


def _splits(spec: ClaimSpec, comparisons: pd.DataFrame, run: dict[str, dict[str, Any]]) -> list[_Split]:
    """The claims of one row: its metric's comparisons split as ``spec.over`` says (see :data:`Over`)."""
    rows = comparisons[comparisons["metric"] == spec.metric]
    family, perturbation = rows["family"], rows["perturbation"]
    if spec.over == "clean":
        return [_Split("clean", rows[perturbation == "clean"], _ran(["clean"], run))]
    if spec.over == "PGD":
        part = rows[(family == "attack").to_numpy() & np.array([_is_pgd(str(p)) for p in perturbation], dtype=bool)]
        return [_Split("pgd", part, _ran([str(p) for p in dict.fromkeys(part["perturbation"])], run))]
    if spec.over == "each attack":
        labels = dict.fromkeys(str(p) for p in comparisons.loc[comparisons["family"] == "attack", "perturbation"])
        return [_Split(label, rows[(family == "attack") & (perturbation == label)],
                       {"label": label, "title": _title(label), **_ran([label], run),
                        "paper_auroc": f" (paper, CIFAR-10: {PAPER_DETECTION[attack_name(label)]})."
                        if attack_name(label) in PAPER_DETECTION else "."}) for label in labels]
    if spec.over == "each OOD set":
        labels = dict.fromkeys(str(p) for p in comparisons.loc[comparisons["family"] == "ood", "perturbation"])
        return [_Split(label, rows[(family == "ood") & (perturbation == label)], {"label": label}) for label in labels]
    part = rows[family == "corruption"]
    severities = [severity_of(str(p)) for p in part["perturbation"]]
    splits = []
    for severity in dict.fromkeys(severities):
        chosen = part[[s == severity for s in severities]]
        severity_labels = [str(p) for p in dict.fromkeys(chosen["perturbation"])]
        splits.append(_Split(f"severity={severity}" if severity is not None else "other", chosen, {
            "name": f"severity {severity}" if severity is not None else "no stated severity",
            "count": str(len(severity_labels)), **_ran(severity_labels, run)}))
    return splits


def _line_fields(spec: ClaimSpec, r: Any) -> dict[str, Any]:
    """The per-comparison fields of an evidence template (see :class:`ClaimSpec`)."""
    values = r._asdict()
    back = spec.tolerance  # the judged rows are shifted by the tolerance: the line shows them unshifted

    def value(key: str) -> str:
        number = values.get(key, float("nan"))
        return _f(number + back if back is not None and key in ("estimate", "low", "high") else number)

    return {"name": comparison_name(r.pair, r.perturbation), "pair": r.pair, "quantity": spec.quantity, "n": r.n,
            "interval": _interval(r), "tolerance": f"{spec.tolerance:g}" if spec.tolerance is not None else "",
            **{key: value(key) for key in ("robust", "normal", "attacked", "clean", "estimate", "low", "high")}}


def _judge_split(spec: ClaimSpec, split: _Split, comparisons: pd.DataFrame, pairs: list[Pair],
                 units: dict[str, str] | None) -> Claim:
    fields = {"paper": PAPER, "key": split.key, "tolerance": f"{spec.tolerance:g}" if spec.tolerance is not None
              else "", **split.fields}
    head: dict[str, Any] = {"id": spec.id.format(**fields), "statement": spec.statement.format(**fields),
            "source": spec.source.format(**fields)}
    if spec.rule == "average":
        return judge_average(split.rows, pairs, units, side=spec.side, quantity=spec.quantity, **head)
    rows, t = split.rows, spec.tolerance
    judged = rows if t is None else rows.assign(estimate=rows["estimate"] - t, low=rows["low"] - t, high=rows["high"] - t)

    def line(r: Any) -> str:
        if not np.isfinite(r.estimate):
            return f"{comparison_name(r.pair, r.perturbation)}: {r.note}"
        return spec.evidence.format(**_line_fields(spec, r))

    claim = judge_every(judged, pairs, side=spec.side, line=line, noun=spec.noun, **head)
    notes = _aside(spec, comparisons)
    if rows.empty and spec.if_empty is not None:
        summary, failed = spec.if_empty
        return Claim(**head, verdict=NOT_TESTABLE, summary=summary, failed=[failed], evidence=notes,
                     pairs_expected=claim.pairs_expected, pairs_missing=claim.pairs_expected)
    numbers = claim.numbers if t is None else [{**n, "tolerance": t} for n in _numbers(rows)]
    return replace(claim, evidence=claim.evidence + notes, numbers=numbers)


def _aside(spec: ClaimSpec, comparisons: pd.DataFrame) -> list[str]:
    """The evidence lines of ``spec.aside``: its preface, then one line per comparison (none: no line)."""
    if spec.aside is None:
        return []
    rows = comparisons[(comparisons["metric"] == spec.metric) & (comparisons["family"] == "attack")]
    rows = rows[np.array([attack_name(str(p)) == spec.aside.attack for p in rows["perturbation"]], dtype=bool)]
    lines = [spec.aside.line.format(**_line_fields(spec, r)) for r in rows.itertuples(index=False)]
    return [spec.aside.preface, *lines] if lines else []


def judge(spec: ClaimSpec, comparisons: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]] | None = None,
          units: dict[str, str] | None = None) -> list[Claim]:
    """The claims of one row of :data:`CLAIMS` on this run: one per split of its comparisons (``comparisons``:
    :func:`overconf.report.comparisons.pair_comparisons` with guards; ``run``:
    :func:`overconf.report.budget.run_parameters`; ``units``: :func:`overconf.report.comparisons.replicate_units`)."""
    return [_judge_split(spec, split, comparisons, pairs, units) for split in _splits(spec, comparisons, run or {})]


def judge_table(specs: tuple[ClaimSpec, ...], comparisons: pd.DataFrame, pairs: list[Pair],
                run: dict[str, dict[str, Any]] | None = None, units: dict[str, str] | None = None) -> Iterator[Claim]:
    """:func:`judge` of every row in table order; the rows of one ``group`` are judged split by split."""
    for _, rows in groupby(specs, key=lambda spec: spec.group or spec.id):
        members = list(rows)
        per_row = [_splits(spec, comparisons, run or {}) for spec in members]
        for splits in zip(*per_row, strict=True):
            for spec, split in zip(members, splits):
                yield _judge_split(spec, split, comparisons, pairs, units)


# --- the claims that are not rows of the table, and the guards ------------------------------------------------


def claim_building_blocks(blocks: pd.DataFrame | None, pairs: list[Pair]) -> list[Claim]:
    """Per building-block key: within one architecture and training, the alternative block (e.g. FLC pooling,
    PSSiLU) has a lower clean o(f) than the standard one, judged per comparison with its interval (the
    comparisons are of two models that are not a run pair: ``robust`` holds the alternative, ``normal`` the
    standard one; :func:`overconf.report.comparisons.block_comparisons`)."""
    source = f"{PAPER}, Figs. 5–6 (standard vs FLC pooling / vs PSSiLU vs adversarially trained, one architecture)"
    if blocks is None or blocks.empty:
        return [Claim(id="building-blocks", statement="Building blocks change over-confidence: models that differ "
                      "only in downsampling or activation differ in clean o(f).", source=source, verdict=NOT_TESTABLE,
                      summary="No two models of one training differ only in downsampling or activation (run.json "
                      "models[].config).", failed=["complete: no building-block group in run.json models[].config"],
                      pairs_expected=[p.name for p in pairs])]
    claims = []
    for key in dict.fromkeys(blocks["block"]):
        part = blocks[(blocks["block"] == key) & (blocks["metric"] == "overconfidence")]
        compared = [Pair(str(r.dataset), str(r.pair), str(r.robust_model), str(r.normal_model))
                    for r in part.itertuples(index=False)]

        def line(r: Any) -> str:
            if not np.isfinite(r.estimate):
                return f"{r.pair}: {r.note}"
            return (f"{r.pair}: clean o(f) {r.robust_model} {_f(r.robust)} vs {r.normal_model} {_f(r.normal)}, "
                    f"Δ {_interval(r)} (n = {r.n})")

        claim = judge_every(
            part, compared, side="<", line=line, noun="comparisons", id=f"building-blocks:{key}", source=source,
            statement=f"Within one architecture and training, a model whose {key} is not the standard one "
                      f"({', '.join(dict.fromkeys(p.name.split(' vs ')[0] for p in compared))}) has a lower clean "
                      "o(f) than its standard twin, for normally and for adversarially trained members.")
        # pairs_* keep naming the run's robust/normal pairs (a contract); cells_* name the block comparisons
        tested = {m for r in part.itertuples(index=False) if comparison_name(r.pair, "clean") in claim.cells_tested
                  for m in (r.robust_model, r.normal_model)}
        in_run = [p.name for p in pairs if p.robust in tested or p.normal in tested]
        claims.append(replace(claim, pairs_expected=[p.name for p in pairs], pairs_tested=in_run, pairs_missing=[],
                              pairs_guarded=[]))
    return claims


def _guard(*, id: str, statement: str, hits: list[str], numbers: list[dict[str, Any]], warn: str, fine: str,
           pairs: list[Pair], source: str = GUARD_SOURCE) -> Claim:
    """A guard claim: ``warning`` with ``hits`` as evidence (``warn``: its summary, ``{n}`` the number of hits),
    else ``informational`` with the summary ``fine``."""
    expected = [p.name for p in pairs]
    head: dict[str, Any] = {"id": id, "statement": statement, "source": source, "pairs_expected": expected, "numbers": numbers}
    if hits:
        return Claim(**head, verdict=WARNING, summary=warn.format(n=len(hits)), failed=[warn.format(n=len(hits))],
                     evidence=hits)
    return Claim(**head, verdict=INFO, summary=fine)


def guard_chance(summary: pd.DataFrame, n_classes: dict[str, int], pairs: list[Pair]) -> Claim:
    clean = summary[summary["perturbation"] == "clean"]
    hits, numbers = [], []
    for r in clean.itertuples(index=False):
        k = n_classes.get(str(r.dataset), 0)
        if k < 2:
            continue
        chance, limit = 1.0 / k, chance_limit(k, int(r.n))
        numbers.append({"model": r.model, "dataset": r.dataset, "accuracy": r.accuracy, "chance": chance,
                        "limit": limit, "n": int(r.n)})
        if r.accuracy < limit:
            hits.append(f"{r.model}: clean accuracy {_f(r.accuracy)} with {k} classes (chance {_f(chance)}, "
                        f"limit {_f(limit)}, n = {r.n}): its pairs are not judged by any claim")
    return _guard(id="chance-accuracy", statement=f"Every model is clearly better than chance on clean data (accuracy "
                  f"≥ max({NEAR_CHANCE_FACTOR} × chance, chance + 3 binomial standard errors)).", hits=hits,
                  numbers=numbers, warn="{n} model(s) at or near chance accuracy on clean data.",
                  fine="Every model is clearly above chance on clean data.", pairs=pairs)


def _few_predictions(summary: pd.DataFrame, right: bool) -> tuple[list[str], list[dict[str, Any]]]:
    """Model × perturbation cells (OOD left out) with fewer correct (``right``) or wrong predictions than the
    guard's minimum: one line and one number each."""
    minimum = MIN_CORRECT_FOR_UNDERCONFIDENCE if right else MIN_WRONG_FOR_OVERCONFIDENCE
    word, key = ("correct", "n_correct") if right else ("wrong", "n_wrong")
    hits, numbers = [], []
    for r in summary[summary["family"] != "ood"].itertuples(index=False):
        share = float(r.accuracy) if right else 1.0 - float(r.accuracy)
        count = round(int(r.n) * share) if np.isfinite(r.accuracy) else 0
        if count < minimum:
            hits.append(f"{r.model} · {r.perturbation}: {count} {word} predictions of {r.n}")
            numbers.append({"model": r.model, "perturbation": r.perturbation, key: count, "n": int(r.n)})
    return hits, numbers


def guard_few_wrong(summary: pd.DataFrame, pairs: list[Pair]) -> Claim:
    hits, numbers = _few_predictions(summary, right=False)
    return _guard(id="few-wrong", statement=f"o(f) rests on at least {MIN_WRONG_FOR_OVERCONFIDENCE} wrong predictions "
                  "in every model × perturbation cell.", hits=hits, numbers=numbers,
                  warn=f"{{n}} model × perturbation cell(s) have fewer than {MIN_WRONG_FOR_OVERCONFIDENCE} wrong "
                  "predictions: their o(f) is an average of few values (or undefined) and is not judged.",
                  fine=f"Every cell has at least {MIN_WRONG_FOR_OVERCONFIDENCE} wrong predictions.", pairs=pairs)


def guard_few_correct(summary: pd.DataFrame, pairs: list[Pair]) -> Claim:
    hits, numbers = _few_predictions(summary, right=True)
    return _guard(id="few-correct", statement=f"u(f) and AUROC rest on at least {MIN_CORRECT_FOR_UNDERCONFIDENCE} "
                  "correct predictions in every model × perturbation cell.", hits=hits, numbers=numbers,
                  warn=f"{{n}} model × perturbation cell(s) have fewer than {MIN_CORRECT_FOR_UNDERCONFIDENCE} correct "
                  "predictions: their u(f) and AUROC are not judged.",
                  fine=f"Every cell has at least {MIN_CORRECT_FOR_UNDERCONFIDENCE} correct predictions.", pairs=pairs)


def claim_calibration_direction(directions: pd.DataFrame | None, pairs: list[Pair]) -> Claim:
    """Per pair: is each member over- or under-confident overall (mean confidence − accuracy, and T vs 1)?"""
    head: dict[str, Any] = {"id": "calibration-direction", "source": "ours (the paper's decomposition of ECE)",
            "pairs_expected": [p.name for p in pairs],
            "statement": "Calibration direction of each model on clean data: mean confidence − accuracy (= "
                         "o(f)·P(wrong) − u(f)·P(right)) above 0 is over-confident, below 0 under-confident. Lower "
                         "o(f) is not the same as better calibration: an under-confident model also has a low o(f)."}
    if directions is None or directions.empty:
        return Claim(**head, verdict=NOT_TESTABLE, summary="No clean records.")
    evidence = []
    for pair, group in directions.groupby("pair", sort=False):
        parts = []
        for r in group.itertuples(index=False):
            t = f", T = {r.temperature:.3g} {'> 1' if r.temperature > 1 else '< 1' if r.temperature < 1 else '= 1'}" \
                if np.isfinite(r.temperature) else ""
            parts.append(f"{r.role} {r.model} {r.direction} (confidence − accuracy {_f(r.estimate)} "
                         f"[{_f(r.low)}, {_f(r.high)}]{t})")
        evidence.append(f"{pair}: " + "; ".join(parts))
    under = directions[(directions["role"] == "robust") & (directions["direction"] == "under-confident")]
    summary = (f"{len(under)} of {int((directions['role'] == 'robust').sum())} robust models are under-confident "
               "overall (whole interval below 0): their lower o(f) comes with a higher u(f), not better calibration."
               if len(under) else "No robust model is under-confident overall with its whole interval below 0.")
    return Claim(**head, verdict=INFO, summary=summary, evidence=evidence,
                 pairs_tested=list(dict.fromkeys(directions["pair"])), numbers=directions.to_dict("records"))


def guard_class_coverage(coverage: pd.DataFrame | None, pairs: list[Pair]) -> Claim:
    """A warning for every data set × perturbation whose records cover fewer classes than the data set has."""
    statement = "Every cell's samples cover every class of its data set (a class-sorted first n would not)."
    if coverage is None or coverage.empty:
        return Claim(id="class-coverage", statement=statement, source=GUARD_SOURCE, verdict=NOT_TESTABLE,
                     summary="No labelled records.", pairs_expected=[p.name for p in pairs])
    short = coverage[coverage["classes"] < coverage["classes_in_data"]]
    hits = [f"{r.dataset} · {r.perturbation}: {r.classes} of {r.classes_in_data} classes" for r in short.itertuples(index=False)]
    return _guard(id="class-coverage", statement=statement, hits=hits, numbers=coverage.to_dict("records"),
                  warn="{n} cell(s) cover fewer classes than their data set: their numbers describe those classes only.",
                  fine="Every cell covers every class of its data set.", pairs=pairs)


def guard_temperature_bound(summary: pd.DataFrame, pairs: list[Pair]) -> Claim:
    low, high = TEMPERATURE_BOUNDS
    statement = f"Every fitted temperature lies inside its search interval [{low:g}, {high:g}]."
    if "temperature" not in summary.columns:
        return Claim(id="temperature-bound", statement=statement, source=GUARD_SOURCE, verdict=NOT_TESTABLE,
                     summary="No logits: no temperature fitted.", pairs_expected=[p.name for p in pairs])
    clean = summary[(summary["perturbation"] == "clean") & np.isfinite(summary["temperature"].astype(float))]
    hits, numbers = [], []
    for r in clean.itertuples(index=False):
        numbers.append({"model": r.model, "temperature": r.temperature, "bounds": [low, high]})
        if r.temperature <= low * BOUND_TOLERANCE or r.temperature >= high / BOUND_TOLERANCE:
            hits.append(f"{r.model}: T = {r.temperature:.4g} at the search bound; the scaled o(f) is not a fitted optimum")
    return _guard(id="temperature-bound", statement=statement, hits=hits, numbers=numbers,
                  warn="{n} model(s) have a fitted temperature at its search bound.",
                  fine="Every fitted temperature lies inside its search interval.", pairs=pairs)


def guard_paired_test_power(comparisons: pd.DataFrame, pairs: list[Pair], units: dict[str, str] | None = None) -> Claim:
    part = comparisons[(comparisons["metric"] == "overconfidence") & (comparisons["perturbation"] == "clean")]
    n = len(by_unit(part[np.isfinite(part["estimate"].to_numpy(float))], units))
    min_p = minimum_p_value(n)
    head: dict[str, Any] = {"id": "paired-test-power", "numbers": [{"metric": "paired_test", "n": n, "minimum_p": min_p}],
            "statement": f"The run has enough pairs for the paired test across pairs to reach p < {ALPHA}.",
            "pairs": pairs}
    if min_p >= ALPHA:
        return _guard(**head, hits=[(
            f"{n} independent pairs with clean data: the smallest two-sided p the Wilcoxon signed-rank test can give "
            f"is {min_p:.3g} (2 / 2^{n}); at least {pairs_needed()} pairs are needed for p < {ALPHA}")],
            warn=f"Too few pairs for the paired test to reach p < {ALPHA}.", fine="")
    return _guard(**head, hits=[], warn="", fine=f"{n} pairs: the paired test can reach p = {min_p:.3g}.")


def guard_ece_low_accuracy(summary: pd.DataFrame, pairs: list[Pair]) -> Claim:
    rows = summary[(summary["family"] != "ood") & (summary["accuracy"] < 0.5)]
    hits = [f"{r.model} · {r.perturbation}: accuracy {_f(r.accuracy)}, ECE {_f(r.ece)}" for r in rows.itertuples(index=False)]
    numbers = [{"model": r.model, "perturbation": r.perturbation, "accuracy": r.accuracy, "ece": r.ece}
               for r in rows.itertuples(index=False)]
    return _guard(id="ece-low-accuracy", statement="ECE is hard to interpret for models with accuracy below 50%.",
                  source=f"{PAPER} (their caveat on ECE)", hits=hits, numbers=numbers,
                  warn="{n} model × perturbation cells have accuracy < 50%: read their ECE with care (compare o(f) and "
                  "u(f) instead).", fine="Every model × perturbation has accuracy ≥ 50%: ECE is readable.", pairs=pairs)


def claim_budget(run: dict[str, dict[str, Any]], pairs: list[Pair]) -> Claim:
    """A warning for every budget of the run below the paper's (attack strength, test-set size)."""
    statement = ("The run's attacks and test set are as strong and as large as the paper's (Square queries, PGD "
                 "steps, images evaluated).")
    if not run:
        return Claim(id="budget", statement=statement, source=GUARD_SOURCE, verdict=NOT_TESTABLE,
                     summary="run.json lists no cells: the run's budgets are unknown.",
                     pairs_expected=[p.name for p in pairs])
    return _guard(id="budget", statement=statement, hits=shortfalls(run), numbers=[{"perturbation": k, **{
        key: value for key, value in v.items() if isinstance(value, int | float | str | bool)}} for k, v in run.items()],
        warn="{n} budget(s) below the paper's: read the verdicts as about this weaker run.",
        fine="Every budget recorded in run.json is at least the paper's.", pairs=pairs)


def check_claims(models: pd.DataFrame, summary: pd.DataFrame, comparisons: pd.DataFrame, pairs: list[Pair],
                 n_classes: dict[str, int], manifest: dict[str, Any] | None = None,
                 coverage: pd.DataFrame | None = None, directions: pd.DataFrame | None = None,
                 blocks: pd.DataFrame | None = None) -> list[Claim]:
    """Every claim, then every guard, in the order the report lists them: the rows of :data:`CLAIMS`, the
    building blocks, the calibration direction, the guards (``comparisons``:
    :func:`overconf.report.comparisons.pair_comparisons` with guards; ``manifest``: ``run.json``, for what was
    run; ``coverage``: :func:`overconf.report.guards.class_coverage`)."""
    run = run_parameters(manifest or {})
    units = replicate_units(pairs, manifest or {})
    return [
        *judge_table(CLAIMS, comparisons, pairs, run, units),
        *claim_building_blocks(blocks, pairs),
        claim_calibration_direction(directions, pairs),
        guard_chance(summary, n_classes, pairs),
        guard_few_wrong(summary, pairs),
        guard_few_correct(summary, pairs),
        guard_temperature_bound(summary, pairs),
        guard_paired_test_power(comparisons, pairs, units),
        guard_ece_low_accuracy(summary, pairs),
        claim_budget(run, pairs),
        guard_class_coverage(coverage, pairs),
    ]
