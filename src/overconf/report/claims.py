"""The paper's claims (and a few of ours), each judged on this run's numbers, and the guards that qualify them.

A :class:`Claim` carries its statement, where it comes from (``source``: the paper's figure or text, or
"ours"), a verdict, the sub-conditions that failed, the pairs it ranges over and the numbers with their
95 % intervals. :func:`write_claims` writes them as ``report/claims.json`` (a list of objects; the keys of
:meth:`Claim.to_json` are a contract read by tests outside this repository).

Verdicts. A claim about *every* pair or cell (:func:`judge_every`) is

- ``supported`` only when every expected pair has data, no value is missing or NaN, and every difference's
  95 % interval lies on the claimed side of zero;
- ``inconclusive`` when no cell goes the other way but some interval reaches zero (or is undefined);
- ``partly supported`` when some cells go the other way (estimate on the wrong side) or, with every
  interval on the claimed side, some pair or cell has no data (named);
- ``not supported`` when every cell tested goes the other way; ``not testable`` when none can be tested.

A cell that fails a guard (:mod:`overconf.report.guards`: near chance, too few wrong or correct predictions) is
not judged: it cannot support the claim, which is then at most ``partly supported`` (``not testable`` when no
cell is left) and names the cells and the guard. Claims whose results can go opposite ways are split: one per
attack label, one per corruption severity; statements name what was run (:mod:`overconf.report.budget`).

A claim about an *average* (:func:`claim_lower_on_average`) needs the paired test across pairs at p < 0.05.
Guards (``warning`` when they apply, else ``informational``): accuracy at or near chance, too few wrong
predictions for o(f), too few correct ones for u(f)/AUROC, budgets below the paper's, a fitted temperature at its search bound, too few pairs for the paired test to reach
p < 0.05, ECE below 50 % accuracy.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from overconf.files import write_atomic
from overconf.metrics import paired_test
from overconf.metrics.temperature import TEMPERATURE_BOUNDS
from overconf.report.budget import attack_name, describe, run_parameters, severity_of, shortfalls
from overconf.report.calibrators import CALIBRATORS, HIST_BINS
from overconf.report.cells import Pair, replicate_units
from overconf.report.guards import (
    GUARD_COLUMN,
    MIN_CORRECT_FOR_UNDERCONFIDENCE,
    MIN_WRONG_FOR_OVERCONFIDENCE,
    NEAR_CHANCE_FACTOR,
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
ALPHA = 0.05
#: a fitted temperature within this factor of a search bound counts as "at the bound"
BOUND_TOLERANCE = 1.01
PAPER = "Grabinski et al. 2022"


@dataclass(frozen=True)
class Claim:
    """One claim and its verdict on this run. ``numbers``: one dict per cell (pair, perturbation, metric,
    robust, normal, estimate, low, high, n, note) or per model for guards."""

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


def _f(value: float | None) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _interval(row: Any) -> str:
    if not np.isfinite(row.low) or not np.isfinite(row.high):
        return f"{_f(row.estimate)} (interval undefined)"
    return f"{_f(row.estimate)} [{_f(row.low)}, {_f(row.high)}]"


def cell_name(pair: str, perturbation: str) -> str:
    return f"{pair} · {perturbation}"


def _numbers(cells: pd.DataFrame) -> list[dict[str, Any]]:
    keep = ["dataset", "pair", "perturbation", "metric", "robust", "normal", "estimate", "low", "high", "n", "note"]
    keep += [c for c in (GUARD_COLUMN,) if c in cells.columns]
    return [dict(zip(keep, row)) for row in cells[keep].itertuples(index=False)]


def _guards(cells: pd.DataFrame) -> np.ndarray:
    """Why each cell fails a guard ("" where it passes, or where the table has no guard column)."""
    if GUARD_COLUMN not in cells.columns:
        return np.full(len(cells), "", dtype=object)
    return cells[GUARD_COLUMN].fillna("").astype(str).to_numpy(dtype=object)


def judge_every(claim_id: str, statement: str, source: str, cells: pd.DataFrame, pairs: list[Pair], side: str,
                describe: Callable[[Any], str], what: str) -> Claim:
    """Judge "for every pair/cell, the difference is on ``side`` of zero" (``side``: ``"<"`` or ``">"``).

    ``cells``: the rows of :func:`overconf.report.cells.pair_cells` the claim ranges over (one per expected
    cell); ``pairs``: the run's expected pairs (a pair with no row at all counts as missing); ``describe``:
    one evidence line per row; ``what``: the cells' noun for the summary ("pairs", "pair × attack cells").
    """
    expected = [p.name for p in pairs]
    names = [cell_name(r.pair, r.perturbation) for r in cells.itertuples(index=False)]
    estimate, low, high = (cells[c].to_numpy(float) for c in ("estimate", "low", "high"))
    sign = -1.0 if side == "<" else 1.0
    finite = np.isfinite(estimate)
    reasons = _guards(cells)
    guarded = finite & (reasons != "")
    judged = finite & ~guarded
    against = judged & (sign * estimate <= 0)
    favourable = judged & ~against & np.isfinite(low) & np.isfinite(high) & (sign * np.where(sign < 0, high, low) > 0)
    straddle = judged & ~against & ~favourable
    missing_cells = [n for n, ok in zip(names, finite) if not ok]
    tested_pairs = list(dict.fromkeys(p for p, ok in zip(cells["pair"], judged) if ok))
    guarded_pairs = list(dict.fromkeys(p for p, g in zip(cells["pair"], guarded) if g))
    guarded_cells = [n for n, g in zip(names, guarded) if g]
    missing_pairs = [p for p in expected if p not in set(cells.loc[finite, "pair"]) or
                     p in set(cells.loc[~finite, "pair"])]
    tested = [n for n, ok in zip(names, judged) if ok]
    against_names = [n for n, bad in zip(names, against) if bad]
    failed = []
    if missing_pairs or missing_cells:
        notes = "; ".join(f"{n}: {note}" for n, note, ok in zip(names, cells["note"], finite) if not ok)
        absent = [p for p in expected if p not in set(cells["pair"])]
        failed.append("complete: " + "; ".join(x for x in [
            f"{len(missing_pairs)} of {len(expected)} pairs lack data ({', '.join(missing_pairs)})" if missing_pairs else "",
            f"no records at all for {', '.join(absent)}" if absent else "", notes] if x))
    if guarded_cells:
        failed.append(f"guard: {len(guarded_cells)} of {len(names)} {what} not judged (a guard fails): " + "; ".join(
            f"{n} ({why})" for n, why, g in zip(names, reasons, guarded) if g))
    if against_names:
        strong = int((against & np.isfinite(low) & np.isfinite(high) & (sign * np.where(sign < 0, low, high) < 0)).sum())
        failed.append(f"sign: {len(against_names)} of {len(tested)} {what} go the other way "
                      f"({strong} with the whole interval on the wrong side): {', '.join(against_names)}")
    if straddle.any():
        failed.append(f"interval: {int(straddle.sum())} of {len(tested)} {what} have a 95% interval reaching "
                      f"zero or undefined: {', '.join(n for n, s in zip(names, straddle) if s)}")
    if not tested:
        verdict = NOT_TESTABLE
    elif against.any():
        verdict = NOT_SUPPORTED if against.sum() == len(tested) else PARTLY
    elif straddle.any():
        verdict = INCONCLUSIVE
    elif missing_pairs or missing_cells or guarded_cells:
        verdict = PARTLY
    else:
        verdict = SUPPORTED
    guarded_note = f"; {len(guarded_cells)} not judged: a guard fails" if guarded_cells else ""
    summary = (f"{int(favourable.sum())} of {len(names)} {what} have the whole 95% interval on the claimed side "
               f"(pairs with data: {len(tested_pairs)} of {len(expected)}{guarded_note}).") if tested else (
               f"Nothing to test: {len(names)} {what} expected, none with data that passes the guards "
               f"({len(expected)} pairs in the run{guarded_note}).")
    evidence = [describe(r) + (f" — not judged: {why}" if g else "")
                for r, why, g in zip(cells.itertuples(index=False), reasons, guarded)]
    return Claim(claim_id, statement, source, verdict, summary, failed, evidence, expected, tested_pairs,
                 missing_pairs, tested, against_names, _numbers(cells), guarded_pairs, guarded_cells)


def _select(cells: pd.DataFrame, metric: str, family: str | None = None, perturbation: str | None = None) -> pd.DataFrame:
    part = cells[cells["metric"] == metric]
    if family is not None:
        part = part[part["family"] == family]
    if perturbation is not None:
        part = part[part["perturbation"] == perturbation]
    return part


def _diff_line(label: str) -> Callable[[Any], str]:
    def line(r: Any) -> str:
        if not np.isfinite(r.estimate):
            return f"{cell_name(r.pair, r.perturbation)}: {r.note}"
        return (f"{cell_name(r.pair, r.perturbation)}: {label} robust {_f(r.robust)} vs normal {_f(r.normal)}, "
                f"Δ {_interval(r)} (n = {r.n})")
    return line


def _ran(label: str, run: dict[str, dict[str, Any]] | None) -> str:
    """`` Run: <what was run>.`` when run.json records it, else nothing."""
    return f" Run: {describe(label, run)}." if run and label in run else ""


def claim_every_pair_clean(cells: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]] | None = None) -> Claim:
    return judge_every(
        "every-pair-clean", "In every pair the robust model has the lower over-confidence o(f) on clean data."
        + _ran("clean", run),
        f"{PAPER}, Fig. 2 and its CIFAR-10 result (robust o(f) lower in every pair)",
        _select(cells, "overconfidence", perturbation="clean"), pairs, "<", _diff_line("o(f)"), "pairs")


def _is_pgd(perturbation: str) -> bool:
    return perturbation.split(":")[0].lower() == "pgd"


def claim_pgd_rise(cells: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]] | None = None) -> Claim:
    rise = _select(cells, "normal_rise", family="attack")
    rise = rise[np.array([_is_pgd(p) for p in rise["perturbation"]], dtype=bool)]
    ran = ", ".join(describe(str(label), run or {}) for label in dict.fromkeys(rise["perturbation"]))

    def line(r: Any) -> str:
        if not np.isfinite(r.estimate):
            return f"{cell_name(r.pair, r.perturbation)}: {r.note}"
        return (f"{cell_name(r.pair, r.perturbation)}: normal o(f) clean {_f(r.normal)} → attacked {_f(r.robust)}, "
                f"rise {_interval(r)} (n = {r.n})")

    claim = judge_every(
        "pgd-rise", f"Under PGD{' — ' + ran + ' —' if ran else ''} the normal models' over-confidence o(f) rises "
        "above their clean o(f).",
        f"{PAPER}, Fig. 2 and the ImageNet numbers (normal o(f) 0.47–0.59 clean, 0.88–0.94 under PGD)",
        rise, pairs, ">", line, "pair × PGD cells")
    square = _select(cells, "normal_rise", family="attack")
    square = square[np.array([p.split(":")[0].lower() == "square" for p in square["perturbation"]], dtype=bool)]
    notes = [f"not judged: {cell_name(r.pair, r.perturbation)} normal o(f) change {_interval(r)}"
             for r in square.itertuples(index=False)]
    if notes:
        notes.insert(0, "Squares are not part of this claim: a Square example is the first point found across the "
                        "decision boundary, so o(f) is expected to fall under Squares for both kinds of model.")
    if rise.empty:
        return Claim(claim.id, claim.statement, claim.source, NOT_TESTABLE, "The run has no PGD attack.",
                     ["complete: no PGD perturbation in the run"], notes, claim.pairs_expected, [],
                     claim.pairs_expected, [], [], [])
    return Claim(**{**claim.__dict__, "evidence": claim.evidence + notes})


def _attack_labels(cells: pd.DataFrame) -> list[str]:
    return [str(p) for p in dict.fromkeys(cells.loc[cells["family"] == "attack", "perturbation"])]


def _title(label: str) -> str:
    return {"pgd": "PGD", "square": "Squares"}.get(attack_name(label), attack_name(label))


#: the paper's attack-detection AUROC on CIFAR-10 (robust vs normal), per attack
PAPER_DETECTION = {"pgd": "PGD 0.92 vs 0.52", "square": "Squares 0.92 vs 0.84"}


def claim_attack_lower(cells: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]]) -> list[Claim]:
    """One claim per attack label: the robust model's o(f) stays below its twin's under that attack."""
    return [judge_every(
        f"attack-lower:{label}", f"Under {_title(label)} — {describe(label, run)} — the robust model's o(f) stays "
        "below its normal twin's.",
        f"{PAPER}, Fig. 2 (clean / PGD / Squares bars) and the ImageNet numbers (robust 0.23–0.39 under PGD)",
        _select(cells, "overconfidence", family="attack", perturbation=label), pairs, "<", _diff_line("o(f)"),
        "pairs") for label in _attack_labels(cells)]


def claim_detection(cells: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]]) -> list[Claim]:
    """One claim per attack label: attack detection has the higher AUROC for the robust model."""
    return [judge_every(
        f"detection:{label}", f"Detection of {_title(label)} examples — {describe(label, run)} — (clean-correct vs "
        "attacked-wrong, by confidence) has a higher AUROC for the robust model"
        + (f" (paper, CIFAR-10: {PAPER_DETECTION[attack_name(label)]})." if attack_name(label) in PAPER_DETECTION
           else "."),
        f"{PAPER}, Fig. 4", _select(cells, "detection_auroc", family="attack", perturbation=label), pairs, ">",
        _diff_line("detection AUROC"), "pairs") for label in _attack_labels(cells)]


def claim_misclassification_auroc(cells: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]]) -> list[Claim]:
    """One claim per attack label: the robust model's confidence separates right from wrong better."""
    return [judge_every(
        f"misclassification-auroc:{label}", f"Under {_title(label)} — {describe(label, run)} — the robust model's "
        "confidence separates its correct from its wrong predictions better (higher misclassification AUROC).",
        f"{PAPER}, Fig. 3 ({_title(label)} column)", _select(cells, "auroc", family="attack", perturbation=label),
        pairs, ">", _diff_line("AUROC"), "pairs") for label in _attack_labels(cells)]


def claim_fig3_columns(cells: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]]) -> list[Claim]:
    """Fig. 3's clean and corruption columns (the attack columns are :func:`claim_misclassification_auroc`):
    the robust model's confidence separates its correct from its wrong predictions better."""
    source = f"{PAPER}, Fig. 3 ({{}} column: mean ± std ROC of robust vs normal models; judged here per pair)"
    claims = [judge_every(
        "misclassification-auroc:clean", f"On clean data — {describe('clean', run)} — the robust model's confidence "
        "separates its correct from its wrong predictions better (higher misclassification AUROC).",
        source.format("clean"), _select(cells, "auroc", perturbation="clean"), pairs, ">", _diff_line("AUROC"), "pairs")]
    part = _select(cells, "auroc", family="corruption")
    severities = [severity_of(str(p)) for p in part["perturbation"]]
    for severity in dict.fromkeys(severities):
        rows = part[[s == severity for s in severities]]
        name = f"severity {severity}" if severity is not None else "no stated severity"
        claims.append(judge_every(
            f"misclassification-auroc:corruptions:severity={severity}" if severity is not None
            else "misclassification-auroc:corruptions:other",
            f"Under each common corruption run at {name} ({rows['perturbation'].nunique()} corruption(s)) the robust "
            "model's confidence separates its correct from its wrong predictions better (higher misclassification "
            "AUROC).", source.format("CIFAR-10-C; the paper pools the corruptions, here each corruption cell is "
            "judged"), rows, pairs, ">", _diff_line("AUROC"), "pair × corruption cells"))
    return claims


#: "stays low": the robust model's o(f) may rise under PGD by less than this (ImageNet, the paper: 0.22–0.36
#: clean → 0.23–0.39 under PGD, a rise of at most 0.03)
STAYS_LOW_TOLERANCE = 0.05


def claim_robust_stays_low(cells: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]]) -> Claim:
    """Under PGD the robust model's o(f) rises by less than :data:`STAYS_LOW_TOLERANCE` (attacked − clean, same images)."""
    rise = _select(cells, "robust_rise", family="attack")
    rise = rise[np.array([_is_pgd(p) for p in rise["perturbation"]], dtype=bool)]
    ran = ", ".join(describe(str(label), run) for label in dict.fromkeys(rise["perturbation"]))
    shifted = rise.assign(estimate=rise["estimate"] - STAYS_LOW_TOLERANCE, low=rise["low"] - STAYS_LOW_TOLERANCE,
                          high=rise["high"] - STAYS_LOW_TOLERANCE)

    def line(r: Any) -> str:
        if not np.isfinite(r.estimate):
            return f"{cell_name(r.pair, r.perturbation)}: {r.note}"
        t = STAYS_LOW_TOLERANCE
        return (f"{cell_name(r.pair, r.perturbation)}: robust o(f) clean {_f(r.normal)} → attacked {_f(r.robust)}, "
                f"rise {_f(r.estimate + t)} [{_f(r.low + t)}, {_f(r.high + t)}] (tolerance {t:g}; n = {r.n})")

    claim = judge_every(
        "robust-stays-low", f"Under PGD{' — ' + ran + ' —' if ran else ''} the robust models' o(f) stays low: it "
        f"rises above their clean o(f) by less than {STAYS_LOW_TOLERANCE:g} (the whole 95% interval of the rise "
        f"below {STAYS_LOW_TOLERANCE:g}).", f"{PAPER}, ImageNet numbers (robust o(f) 0.22–0.36 clean, 0.23–0.39 "
        "under PGD)", shifted, pairs, "<", line, "pair × PGD cells")
    if rise.empty:
        return Claim(claim.id, claim.statement, claim.source, NOT_TESTABLE, "The run has no PGD attack.",
                     ["complete: no PGD perturbation in the run"], [], claim.pairs_expected, [], claim.pairs_expected)
    numbers = _numbers(rise)
    return Claim(**{**claim.__dict__, "numbers": [{**n, "tolerance": STAYS_LOW_TOLERANCE} for n in numbers]})


def claim_corruptions(cells: pd.DataFrame, pairs: list[Pair], run: dict[str, dict[str, Any]]) -> list[Claim]:
    """One claim per corruption severity run: the robust model's o(f) stays below its twin's in every
    corruption of that severity."""
    part = _select(cells, "overconfidence", family="corruption")
    severities = [severity_of(str(p)) for p in part["perturbation"]]
    claims = []
    for severity in dict.fromkeys(severities):
        rows = part[[s == severity for s in severities]]
        labels = list(dict.fromkeys(str(p) for p in rows["perturbation"]))
        name = f"severity {severity}" if severity is not None else "no stated severity"
        ran = ", ".join(describe(label, run) for label in labels)
        claims.append(judge_every(
            f"corruptions:severity={severity}" if severity is not None else "corruptions:other",
            f"Under each common corruption run at {name} ({len(labels)} corruption(s): {ran}) the robust "
            "model's o(f) stays below its normal twin's.", "ours: extends the paper's clean-data claim to each "
            "corruption cell (the paper shows CIFAR-10-C in Fig. 3 only)", rows, pairs, "<", _diff_line("o(f)"),
            "pair × corruption cells"))
    return claims


def claim_ood(cells: pd.DataFrame, pairs: list[Pair]) -> list[Claim]:
    """Per OOD set: the robust model separates clean from OOD inputs better (higher AUROC) and is less confident
    on OOD inputs than its twin."""
    part = cells[cells["family"] == "ood"]
    claims = []
    for label in dict.fromkeys(str(p) for p in part["perturbation"]):
        claims.append(judge_every(
            f"ood-auroc:{label}", f"On OOD inputs {label} the robust model's confidence separates clean from OOD "
            "inputs better (higher OOD-detection AUROC) than its normal twin's.", "ours (OOD detection is not in "
            "the paper)", _select(part, "ood_auroc", perturbation=label), pairs, ">", _diff_line("OOD AUROC"), "pairs"))
        claims.append(judge_every(
            f"ood-confidence:{label}", f"On OOD inputs {label} the robust model is less confident than its normal twin "
            "(lower mean confidence).", "ours (OOD inputs are not in the paper)",
            _select(part, "ood_confidence", perturbation=label), pairs, "<", _diff_line("mean OOD confidence"), "pairs"))
    return claims


def claim_budget(run: dict[str, dict[str, Any]], pairs: list[Pair]) -> Claim:
    """A warning for every budget of the run below the paper's (attack strength, test-set size)."""
    statement = ("The run's attacks and test set are as strong and as large as the paper's (Square queries, PGD "
                 "steps, images evaluated).")
    if not run:
        return Claim("budget", statement, "ours (a guard)", NOT_TESTABLE, "run.json lists no cells: the run's "
                     "budgets are unknown.", pairs_expected=[p.name for p in pairs])
    lines = shortfalls(run)
    return _guard("budget", statement, "ours (a guard)", lines, [{"perturbation": k, **{
        key: value for key, value in v.items() if isinstance(value, int | float | str | bool)}} for k, v in run.items()],
        "{n} budget(s) below the paper's: read the verdicts as about this weaker run.",
        "Every budget recorded in run.json is at least the paper's.", pairs)


#: calibrator (:data:`overconf.report.calibrators.CALIBRATORS`) → claim id and how it is fitted
_CALIBRATION_CLAIMS = {
    "ts": ("temperature-scaling", "post-hoc temperature scaling (T fitted per model by NLL"),
    "iso": ("isotonic-calibration", "isotonic regression of correct on confidence (fitted per model"),
    "hist": ("histogram-binning", f"histogram binning ({HIST_BINS} equal-width bins, fitted per model"),
}


def claim_gap_survives(cells: pd.DataFrame, pairs: list[Pair], calibrator: str = "ts") -> Claim:
    """The robust model's lower clean o(f) survives ``calibrator`` fitted on one held-out half, scored on the other."""
    metric, name = CALIBRATORS[calibrator]
    claim_id, how = _CALIBRATION_CLAIMS[calibrator]
    part = _select(cells, metric, perturbation="clean")

    def line(r: Any) -> str:
        if not np.isfinite(r.estimate):
            return f"{cell_name(r.pair, r.perturbation)}: {r.note}"
        return (f"{r.pair}: o(f) after {name} robust {_f(r.robust)} vs normal {_f(r.normal)}, "
                f"Δ {_interval(r)} (n = {r.n} held-out samples)")

    claim = judge_every(
        claim_id, f"The robust model's lower clean o(f) survives {how} on its clean records of odd index, o(f) "
        "scored on those of even index).", "ours (not in the paper)", part, pairs, "<", line, "pairs")
    if part.empty:
        return Claim(claim.id, claim.statement, claim.source, NOT_TESTABLE, "The run has no clean records to calibrate.",
                     [f"complete: no {name}"], [], claim.pairs_expected, [], claim.pairs_expected)
    return claim


def claim_gap_survives_temperature(cells: pd.DataFrame, pairs: list[Pair]) -> Claim:
    return claim_gap_survives(cells, pairs, "ts")


def minimum_p_value(n_pairs: int) -> float:
    """The smallest two-sided p the exact Wilcoxon signed-rank test can give with ``n`` pairs: ``2 / 2ⁿ``.

    >>> minimum_p_value(3), minimum_p_value(6)
    (0.25, 0.03125)
    """
    return min(1.0, 2.0 / 2.0 ** n_pairs) if n_pairs > 0 else 1.0


def by_unit(data: pd.DataFrame, units: dict[str, str] | None) -> pd.DataFrame:
    """``robust`` and ``normal`` averaged over the pairs of one unit (:func:`overconf.report.cells.replicate_units`:
    pairs sharing both checkpoints), one row per unit named ``pair`` (a pair is its own unit without ``units``)."""
    units = units or {}
    keyed = data.assign(pair=[units.get(str(p), str(p)) for p in data["pair"]])
    return keyed.groupby("pair", sort=False)[["robust", "normal"]].mean().reset_index()


def claim_lower_on_average(cells: pd.DataFrame, pairs: list[Pair], units: dict[str, str] | None = None,
                           run: dict[str, dict[str, Any]] | None = None) -> Claim:
    statement = "Robust models are less over-confident than normal ones on clean data (across pairs)." + _ran("clean", run)
    source = f"{PAPER}, abstract and Fig. 2"
    part = _select(cells, "overconfidence", perturbation="clean")
    expected = [p.name for p in pairs]
    reasons = _guards(part)
    finite = np.isfinite(part["estimate"].to_numpy(float))
    guarded = finite & (reasons != "")
    data = part[finite & ~guarded]
    guarded_pairs = [str(p) for p in part.loc[guarded, "pair"]]
    guard_line = [f"guard: {len(guarded_pairs)} pair(s) left out of the test (a guard fails): " + "; ".join(
        f"{p} ({why})" for p, why in zip(part.loc[guarded, "pair"], reasons[guarded]))] if guarded_pairs else []
    missing = [p for p in expected if p not in set(part.loc[finite, "pair"])]
    numbers = _numbers(part)
    if data.empty:
        return Claim("clean-average", statement, source, NOT_TESTABLE, "No pair has clean o(f) for both models "
                     "that passes the guards.", ["complete: no pair with data", *guard_line], [], expected, [], missing,
                     numbers=numbers, pairs_guarded=guarded_pairs,
                     cells_guarded=[cell_name(p, "clean") for p in guarded_pairs])
    grouped = by_unit(data, units)
    robust, normal = grouped["robust"].to_numpy(float), grouped["normal"].to_numpy(float)
    test = paired_test(robust, normal)
    n_units = len(grouped)
    min_p = minimum_p_value(n_units)
    evidence = [f"mean o(f) robust {_f(robust.mean())} vs normal {_f(normal.mean())}; median Δ {_f(test.median_difference)}",
                (f"Wilcoxon signed-rank over {n_units} independent pairs: p = {test.p_value:.3g} (the smallest p "
                 f"{n_units} pairs can give is {min_p:.3g}), effect size r = {test.effect_size:.2f}")]
    if n_units < len(data):
        evidence.append(f"{len(data)} pairs form {n_units} units: pairs whose robust and normal checkpoints share "
                        f"their SHA-256 (the same models on several data sets or runs) are averaged into one unit "
                        f"before the test ({', '.join(u for u in grouped['pair'] if ' = ' in u)})")
    failed = []
    if missing:
        failed.append(f"complete: {len(missing)} of {len(expected)} pairs lack data ({', '.join(missing)})")
    failed += guard_line
    if min_p >= ALPHA:
        failed.append(f"power: with {n_units} independent pairs the test cannot reach p < {ALPHA} (smallest p {min_p:.3g})")
    elif test.p_value >= ALPHA:
        failed.append(f"significance: p = {test.p_value:.3g} ≥ {ALPHA}")
    if test.median_difference >= 0:
        failed.append(f"sign: median Δ (robust − normal) = {_f(test.median_difference)} ≥ 0")
    if test.median_difference >= 0:
        verdict = NOT_SUPPORTED if test.p_value < ALPHA else INCONCLUSIVE
    elif test.p_value >= ALPHA:
        verdict = INCONCLUSIVE
    else:
        verdict = PARTLY if missing or guarded_pairs else SUPPORTED
    numbers.append({"metric": "paired_test", "n": n_units, "n_pairs": len(data), "p_value": test.p_value,
                    "minimum_p": min_p, "effect_size": test.effect_size, "median_difference": test.median_difference})
    return Claim("clean-average", statement, source, verdict,
                 f"Mean o(f) robust {_f(robust.mean())} vs normal {_f(normal.mean())}; paired test p = "
                 f"{test.p_value:.3g} over {n_units} independent pairs ({len(data)} pairs).", failed, evidence, expected,
                 list(dict.fromkeys(data["pair"])), missing, [cell_name(p, "clean") for p in data["pair"]],
                 [cell_name(r.pair, "clean") for r in data.itertuples(index=False) if r.estimate >= 0], numbers,
                 guarded_pairs, [cell_name(p, "clean") for p in guarded_pairs])


def claim_building_blocks(blocks: pd.DataFrame | None, pairs: list[Pair]) -> list[Claim]:
    """Per building-block key: within one architecture and training, the alternative block (e.g. FLC pooling,
    PSSiLU) has a lower clean o(f) than the standard one, judged per comparison with its interval."""
    source = f"{PAPER}, Figs. 5–6 (standard vs FLC pooling / vs PSSiLU vs adversarially trained, one architecture)"
    if blocks is None or blocks.empty:
        return [Claim("building-blocks", "Building blocks change over-confidence: models that differ only in "
                      "downsampling or activation differ in clean o(f).", source, NOT_TESTABLE,
                      "No two models of one training differ only in downsampling or activation (run.json "
                      "models[].config).", ["complete: no building-block group in run.json models[].config"],
                      pairs_expected=[p.name for p in pairs])]
    claims = []
    for key in dict.fromkeys(blocks["block"]):
        part = _select(blocks[blocks["block"] == key], "overconfidence")
        compared = [Pair(str(r.dataset), str(r.pair), str(r.robust_model), str(r.normal_model))
                    for r in part.itertuples(index=False)]

        def line(r: Any) -> str:
            if not np.isfinite(r.estimate):
                return f"{r.pair}: {r.note}"
            return (f"{r.pair}: clean o(f) {r.robust_model} {_f(r.robust)} vs {r.normal_model} {_f(r.normal)}, "
                    f"Δ {_interval(r)} (n = {r.n})")

        claim = judge_every(
            f"building-blocks:{key}", f"Within one architecture and training, a model whose {key} is not the "
            f"standard one ({', '.join(dict.fromkeys(p.name.split(' vs ')[0] for p in compared))}) has a lower clean "
            "o(f) than its standard twin, for normally and for adversarially trained members.", source, part,
            compared, "<", line, "comparisons")
        # pairs_* keep naming the run's robust/normal pairs (a contract); the comparisons are the cells
        tested = {m for r in part.itertuples(index=False) if f"{r.pair} · clean" in claim.cells_tested
                  for m in (r.robust_model, r.normal_model)}
        in_run = [p.name for p in pairs if p.robust in tested or p.normal in tested]
        claims.append(Claim(**{**claim.__dict__, "pairs_expected": [p.name for p in pairs], "pairs_tested": in_run,
                               "pairs_missing": [], "pairs_guarded": []}))
    return claims


def _guard(claim_id: str, statement: str, source: str, hits: list[str], numbers: list[dict[str, Any]],
           warn: str, fine: str, pairs: list[Pair]) -> Claim:
    expected = [p.name for p in pairs]
    if hits:
        return Claim(claim_id, statement, source, WARNING, warn.format(n=len(hits)), [warn.format(n=len(hits))],
                     hits, expected, numbers=numbers)
    return Claim(claim_id, statement, source, INFO, fine, pairs_expected=expected, numbers=numbers)


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
    return _guard("chance-accuracy", f"Every model is clearly better than chance on clean data (accuracy ≥ "
                  f"max({NEAR_CHANCE_FACTOR} × chance, chance + 3 binomial standard errors)).", "ours (a guard)",
                  hits, numbers, "{n} model(s) at or near chance accuracy on clean data.",
                  "Every model is clearly above chance on clean data.", pairs)


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
    return _guard("few-wrong", f"o(f) rests on at least {MIN_WRONG_FOR_OVERCONFIDENCE} wrong predictions in every "
                  "model × perturbation cell.", "ours (a guard)", hits, numbers,
                  f"{{n}} model × perturbation cell(s) have fewer than {MIN_WRONG_FOR_OVERCONFIDENCE} wrong "
                  "predictions: their o(f) is an average of few values (or undefined) and is not judged.",
                  f"Every cell has at least {MIN_WRONG_FOR_OVERCONFIDENCE} wrong predictions.", pairs)


def guard_few_correct(summary: pd.DataFrame, pairs: list[Pair]) -> Claim:
    hits, numbers = _few_predictions(summary, right=True)
    return _guard("few-correct", f"u(f) and AUROC rest on at least {MIN_CORRECT_FOR_UNDERCONFIDENCE} correct "
                  "predictions in every model × perturbation cell.", "ours (a guard)", hits, numbers,
                  f"{{n}} model × perturbation cell(s) have fewer than {MIN_CORRECT_FOR_UNDERCONFIDENCE} correct "
                  "predictions: their u(f) and AUROC are not judged.",
                  f"Every cell has at least {MIN_CORRECT_FOR_UNDERCONFIDENCE} correct predictions.", pairs)


def claim_calibration_direction(directions: pd.DataFrame | None, pairs: list[Pair]) -> Claim:
    """Per pair: is each member over- or under-confident overall (mean confidence − accuracy, and T vs 1)?"""
    statement = ("Calibration direction of each model on clean data: mean confidence − accuracy (= o(f)·P(wrong) − "
                 "u(f)·P(right)) above 0 is over-confident, below 0 under-confident. Lower o(f) is not the same "
                 "as better calibration: an under-confident model also has a low o(f).")
    expected = [p.name for p in pairs]
    if directions is None or directions.empty:
        return Claim("calibration-direction", statement, "ours (the paper's decomposition of ECE)", NOT_TESTABLE,
                     "No clean records.", pairs_expected=expected)
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
    return Claim("calibration-direction", statement, "ours (the paper's decomposition of ECE)", INFO, summary,
                 evidence=evidence, pairs_expected=expected, pairs_tested=list(dict.fromkeys(directions["pair"])),
                 numbers=directions.to_dict("records"))


def guard_class_coverage(coverage: pd.DataFrame | None, pairs: list[Pair]) -> Claim:
    """A warning for every data set × perturbation whose records cover fewer classes than the data set has."""
    statement = "Every cell's samples cover every class of its data set (a class-sorted first n would not)."
    if coverage is None or coverage.empty:
        return Claim("class-coverage", statement, "ours (a guard)", NOT_TESTABLE, "No labelled records.",
                     pairs_expected=[p.name for p in pairs])
    short = coverage[coverage["classes"] < coverage["classes_in_data"]]
    hits = [f"{r.dataset} · {r.perturbation}: {r.classes} of {r.classes_in_data} classes" for r in short.itertuples(index=False)]
    return _guard("class-coverage", statement, "ours (a guard)", hits, coverage.to_dict("records"),
                  "{n} cell(s) cover fewer classes than their data set: their numbers describe those classes only.",
                  "Every cell covers every class of its data set.", pairs)


def guard_temperature_bound(summary: pd.DataFrame, pairs: list[Pair]) -> Claim:
    low, high = TEMPERATURE_BOUNDS
    statement = f"Every fitted temperature lies inside its search interval [{low:g}, {high:g}]."
    if "temperature" not in summary.columns:
        return Claim("temperature-bound", statement, "ours (a guard)", NOT_TESTABLE, "No logits: no temperature fitted.",
                     pairs_expected=[p.name for p in pairs])
    clean = summary[(summary["perturbation"] == "clean") & np.isfinite(summary["temperature"].astype(float))]
    hits, numbers = [], []
    for r in clean.itertuples(index=False):
        numbers.append({"model": r.model, "temperature": r.temperature, "bounds": [low, high]})
        if r.temperature <= low * BOUND_TOLERANCE or r.temperature >= high / BOUND_TOLERANCE:
            hits.append(f"{r.model}: T = {r.temperature:.4g} at the search bound; the scaled o(f) is not a fitted optimum")
    return _guard("temperature-bound", statement, "ours (a guard)", hits, numbers,
                  "{n} model(s) have a fitted temperature at its search bound.",
                  "Every fitted temperature lies inside its search interval.", pairs)


def guard_paired_test_power(cells: pd.DataFrame, pairs: list[Pair], units: dict[str, str] | None = None) -> Claim:
    part = _select(cells, "overconfidence", perturbation="clean")
    n = len(by_unit(part[np.isfinite(part["estimate"].to_numpy(float))], units))
    min_p = minimum_p_value(n)
    statement = f"The run has enough pairs for the paired test across pairs to reach p < {ALPHA}."
    numbers = [{"metric": "paired_test", "n": n, "minimum_p": min_p}]
    if min_p >= ALPHA:
        return _guard("paired-test-power", statement, "ours (a guard)", [
            (f"{n} independent pairs with clean data: the smallest two-sided p the Wilcoxon signed-rank test can give is "
             f"{min_p:.3g} (2 / 2^{n}); at least 6 pairs are needed for p < {ALPHA}")], numbers,
            "Too few pairs for the paired test to reach p < 0.05.", "", pairs)
    return _guard("paired-test-power", statement, "ours (a guard)", [], numbers, "",
                  f"{n} pairs: the paired test can reach p = {min_p:.3g}.", pairs)


def guard_ece_low_accuracy(summary: pd.DataFrame, pairs: list[Pair]) -> Claim:
    rows = summary[(summary["family"] != "ood") & (summary["accuracy"] < 0.5)]
    hits = [f"{r.model} · {r.perturbation}: accuracy {_f(r.accuracy)}, ECE {_f(r.ece)}" for r in rows.itertuples(index=False)]
    numbers = [{"model": r.model, "perturbation": r.perturbation, "accuracy": r.accuracy, "ece": r.ece}
               for r in rows.itertuples(index=False)]
    return _guard("ece-low-accuracy", "ECE is hard to interpret for models with accuracy below 50%.",
                  f"{PAPER} (their caveat on ECE)", hits, numbers,
                  "{n} model × perturbation cells have accuracy < 50%: read their ECE with care (compare o(f) and "
                  "u(f) instead).", "Every model × perturbation has accuracy ≥ 50%: ECE is readable.", pairs)


def check_claims(models: pd.DataFrame, summary: pd.DataFrame, cells: pd.DataFrame, pairs: list[Pair],
                 n_classes: dict[str, int], manifest: dict[str, Any] | None = None,
                 coverage: pd.DataFrame | None = None, directions: pd.DataFrame | None = None,
                 blocks: pd.DataFrame | None = None) -> list[Claim]:
    """Every claim, then every guard, in the order the report lists them (``manifest``: ``run.json``, for what
    was run; ``coverage``: :func:`overconf.report.guards.class_coverage`)."""
    run = run_parameters(manifest or {})
    units = replicate_units(pairs, manifest or {})
    return [
        claim_every_pair_clean(cells, pairs, run),
        claim_lower_on_average(cells, pairs, units, run),
        claim_pgd_rise(cells, pairs, run),
        claim_robust_stays_low(cells, pairs, run),
        *claim_attack_lower(cells, pairs, run),
        *claim_detection(cells, pairs, run),
        *claim_misclassification_auroc(cells, pairs, run),
        *claim_fig3_columns(cells, pairs, run),
        *claim_corruptions(cells, pairs, run),
        *(claim_gap_survives(cells, pairs, key) for key in CALIBRATORS),
        *claim_ood(cells, pairs),
        *claim_building_blocks(blocks, pairs),
        claim_calibration_direction(directions, pairs),
        guard_chance(summary, n_classes, pairs),
        guard_few_wrong(summary, pairs),
        guard_few_correct(summary, pairs),
        guard_temperature_bound(summary, pairs),
        guard_paired_test_power(cells, pairs, units),
        guard_ece_low_accuracy(summary, pairs),
        claim_budget(run, pairs),
        guard_class_coverage(coverage, pairs),
    ]
