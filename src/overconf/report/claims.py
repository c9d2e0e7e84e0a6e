"""The paper's claims, each checked against this run's numbers.

A :class:`Claim` carries the paper's statement, a verdict and the numbers behind it. Verdicts:
``supported`` (holds in every cell checked), ``partly supported`` (in some), ``not supported`` (in none),
``not testable`` (the run lacks what the claim needs, e.g. no attack or no pair), ``warning`` (a
caveat that applies to this run) and ``informational`` (numbers without a pass/fail rule).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from overconf.report.load import block_groups

SUPPORTED = "supported"
PARTLY = "partly supported"
NOT_SUPPORTED = "not supported"
NOT_TESTABLE = "not testable"
WARNING = "warning"
INFO = "informational"


@dataclass(frozen=True)
class Claim:
    key: str
    statement: str
    verdict: str
    summary: str
    evidence: list[str] = field(default_factory=list)


def _verdict(passed: list[bool]) -> str:
    if not passed:
        return NOT_TESTABLE
    if all(passed):
        return SUPPORTED
    return PARTLY if any(passed) else NOT_SUPPORTED


def _f(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.3f}"


def _test_note(tests: pd.DataFrame, perturbation: str, metric: str) -> str:
    cell = tests[(tests["perturbation"] == perturbation) & (tests["metric"] == metric)]
    notes = []
    for row in cell.itertuples(index=False):
        if np.isfinite(row.p_value):
            notes.append(f"{row.dataset} · {perturbation}: paired test over {row.n} pairs, median Δ {_f(row.median_difference)}, "
                         f"p = {row.p_value:.3g}")
        else:
            notes.append(f"{row.dataset} · {perturbation}: paired test not computed over {row.n} pairs ({row.note or 'too few pairs'})")
    return "; ".join(notes)


def claim_every_pair_clean(pairs: pd.DataFrame) -> Claim:
    clean = pairs[pairs["perturbation"] == "clean"] if not pairs.empty else pairs
    passed = [bool(d < 0) for d in clean.get("overconfidence_diff", pd.Series(dtype=float)).dropna()]
    evidence = [f"{r.pair}: o(f) robust {r.robust_model} {_f(r.overconfidence_robust)} vs normal {r.normal_model} "
                f"{_f(r.overconfidence_normal)} (Δ {_f(r.overconfidence_diff)})" for r in clean.itertuples(index=False)]
    return Claim("every-pair-clean", "In every pair the robust model has the lower over-confidence o(f) (clean data).",
                 _verdict(passed), f"{sum(passed)} of {len(passed)} pairs have robust o(f) < normal o(f) on clean data.",
                 evidence)


def claim_lower_on_average(pairs: pd.DataFrame, tests: pd.DataFrame) -> Claim:
    clean = pairs[pairs["perturbation"] == "clean"] if not pairs.empty else pairs
    if clean.empty or clean["overconfidence_diff"].dropna().empty:
        return Claim("clean-average", "Robust models are less over-confident than normal ones on clean data.", NOT_TESTABLE,
                     "No pair with clean records and wrong predictions in both models.")
    robust, normal = clean["overconfidence_robust"].mean(), clean["overconfidence_normal"].mean()
    median = float(np.nanmedian(clean["overconfidence_diff"]))
    verdict = SUPPORTED if median < 0 and robust < normal else NOT_SUPPORTED
    evidence = [f"mean o(f): robust {_f(robust)}, normal {_f(normal)}; median Δ (robust − normal) {_f(median)}",
                _test_note(tests, "clean", "overconfidence")]
    return Claim("clean-average", "Robust models are less over-confident than normal ones on clean data.", verdict,
                 f"Mean o(f) robust {_f(robust)} vs normal {_f(normal)}.", [e for e in evidence if e])


def claim_attack_rise(pairs: pd.DataFrame) -> Claim:
    statement = ("Under attack (PGD, Squares) the normal models' o(f) rises while the robust models' stays low "
                 "(below the normal twin's, rising less).")
    attacks = [] if pairs.empty else list(dict.fromkeys(pairs.loc[pairs["family"] == "attack", "perturbation"]))
    keyed = pairs.set_index(["robust_model", "perturbation"]) if not pairs.empty else pairs
    passed, evidence = [], []
    for attack in attacks:
        for r in pairs[pairs["perturbation"] == attack].itertuples(index=False):
            if (r.robust_model, "clean") not in keyed.index:
                continue
            clean = keyed.loc[(r.robust_model, "clean")]
            rise_n = r.overconfidence_normal - clean["overconfidence_normal"]
            rise_r = r.overconfidence_robust - clean["overconfidence_robust"]
            if not (np.isfinite(rise_n) and np.isfinite(rise_r)):
                continue
            ok = bool(rise_n > 0 and r.overconfidence_robust < r.overconfidence_normal and rise_r < rise_n)
            passed.append(ok)
            evidence.append(f"{attack} · {r.pair}: normal o(f) {_f(clean['overconfidence_normal'])} → "
                            f"{_f(r.overconfidence_normal)} (rise {_f(rise_n)}), robust {_f(clean['overconfidence_robust'])} → "
                            f"{_f(r.overconfidence_robust)} (rise {_f(rise_r)}){'' if ok else ' ✗'}")
    return Claim("attack-rise", statement, _verdict(passed),
                 f"Holds in {sum(passed)} of {len(passed)} pair × attack cells." if passed else "The run has no attack.",
                 evidence)


def claim_detection(pairs: pd.DataFrame, tests: pd.DataFrame) -> Claim:
    statement = ("Attack detection (clean-correct vs attacked-wrong, by confidence) has a higher AUC for robust "
                 "models (paper, CIFAR-10: PGD 0.92 vs 0.52, Squares 0.92 vs 0.84).")
    if pairs.empty or "detection_auroc_diff" not in pairs:
        return Claim("detection", statement, NOT_TESTABLE, "The run has no attack with clean records.")
    cells = pairs[(pairs["family"] == "attack")].dropna(subset=["detection_auroc_diff"])
    passed = [bool(d > 0) for d in cells["detection_auroc_diff"]]
    evidence = [f"{r.perturbation} · {r.pair}: AUC robust {_f(r.detection_auroc_robust)} vs normal "
                f"{_f(r.detection_auroc_normal)}" for r in cells.itertuples(index=False)]
    evidence += [n for a in dict.fromkeys(cells["perturbation"]) if (n := _test_note(tests, a, "detection_auroc"))]
    return Claim("detection", statement, _verdict(passed),
                 f"Robust AUC higher in {sum(passed)} of {len(passed)} pair × attack cells.", evidence)


def claim_misclassification_auroc(pairs: pd.DataFrame) -> Claim:
    statement = ("Under attack, robust models' confidence separates their correct from their wrong predictions "
                 "better (higher misclassification AUROC, Fig. 3).")
    cells = pairs[pairs["family"] == "attack"].dropna(subset=["auroc_diff"]) if not pairs.empty else pairs
    passed = [bool(d > 0) for d in cells.get("auroc_diff", pd.Series(dtype=float))]
    evidence = [f"{r.perturbation} · {r.pair}: AUROC robust {_f(r.auroc_robust)} vs normal {_f(r.auroc_normal)}"
                for r in cells.itertuples(index=False)]
    return Claim("misclassification-auroc", statement, _verdict(passed),
                 f"Robust AUROC higher in {sum(passed)} of {len(passed)} pair × attack cells.", evidence)


def claim_corruptions(pairs: pd.DataFrame) -> Claim:
    statement = "Under distribution shift (common corruptions) robust models stay less over-confident."
    cells = pairs[pairs["family"] == "corruption"] if not pairs.empty else pairs
    if cells.empty:
        return Claim("corruptions", statement, NOT_TESTABLE, "The run has no corruption records.")
    per_pair = cells.groupby("pair")[["overconfidence_robust", "overconfidence_normal"]].mean()
    passed = [bool(r < n) for r, n in per_pair.itertuples(index=False) if np.isfinite(r) and np.isfinite(n)]
    evidence = [f"{pair}: mean o(f) over {int((cells['pair'] == pair).sum())} corruption cells, robust {_f(r)} vs "
                f"normal {_f(n)}" for pair, (r, n) in per_pair.iterrows()]
    return Claim("corruptions", statement, _verdict(passed),
                 f"Robust mean o(f) lower in {sum(passed)} of {len(passed)} pairs.", evidence)


def claim_gap_survives_temperature(pairs: pd.DataFrame, tests: pd.DataFrame) -> Claim:
    statement = ("Beyond the paper: the robust model's lower clean o(f) survives post-hoc temperature scaling "
                 "(T fitted per model on half of its clean records, o(f) scored on the other half).")
    clean = pairs[pairs["perturbation"] == "clean"] if not pairs.empty else pairs
    if clean.empty or "overconfidence_ts_diff" not in clean or clean["overconfidence_ts_diff"].dropna().empty:
        return Claim("temperature-scaling", statement, NOT_TESTABLE, "The run has no clean records with logits.")
    cells = clean.dropna(subset=["overconfidence_ts_diff"])
    passed = [bool(d < 0) for d in cells["overconfidence_ts_diff"]]
    evidence = [f"{r.pair}: T robust {_f(r.temperature_robust)}, normal {_f(r.temperature_normal)}; o(f) after "
                f"scaling robust {_f(r.overconfidence_ts_robust)} vs normal {_f(r.overconfidence_ts_normal)} "
                f"(Δ {_f(r.overconfidence_ts_diff)}; before: Δ {_f(r.overconfidence_diff)})"
                for r in cells.itertuples(index=False)]
    evidence += [n for n in [_test_note(tests, "clean", "overconfidence_ts")] if n]
    return Claim("temperature-scaling", statement, _verdict(passed),
                 f"{sum(passed)} of {len(passed)} pairs keep robust o(f) < normal o(f) after temperature scaling.",
                 evidence)


def claim_ece_warning(summary: pd.DataFrame) -> Claim:
    statement = "ECE is hard to interpret for models with accuracy below 50%."
    rows = summary[(summary["family"] != "ood") & (summary["accuracy"] < 0.5)]
    if rows.empty:
        return Claim("ece-low-accuracy", statement, INFO, "Every model × perturbation has accuracy ≥ 50%: ECE is readable.")
    evidence = [f"{r.model} · {r.perturbation}: accuracy {_f(r.accuracy)}, ECE {_f(r.ece)}" for r in rows.itertuples(index=False)]
    return Claim("ece-low-accuracy", statement, WARNING,
                 f"{len(rows)} model × perturbation cells have accuracy < 50%: read their ECE with care "
                 "(compare o(f) and u(f) instead).", evidence)


def claim_building_blocks(models: pd.DataFrame, summary: pd.DataFrame) -> Claim:
    statement = ("Building blocks change confidence: normally trained models with another downsampling (e.g. FLC "
                 "pooling) or activation (e.g. PSSiLU) differ in over-confidence.")
    clean = summary[summary["perturbation"] == "clean"].set_index("model")
    configs = dict(zip(models["model"], models["config"]))
    evidence = []
    for dataset, key, members in block_groups(models):
        for model in members:
            if model in clean.index:
                evidence.append(f"{dataset} · {key}={configs[model][key]} · {model}: clean o(f) "
                                f"{_f(clean.loc[model, 'overconfidence'])}, accuracy {_f(clean.loc[model, 'accuracy'])}")
    if not evidence:
        return Claim("building-blocks", statement, NOT_TESTABLE,
                     "No two normal models differ only in downsampling or activation (run.json models[].config).")
    return Claim("building-blocks", statement, INFO, "Clean o(f) of normally trained models by building block "
                 "(see Figs. 5–6); no pass/fail rule: the paper reports the effect, not its direction for every block.",
                 evidence)


def check_claims(models: pd.DataFrame, summary: pd.DataFrame, pairs: pd.DataFrame, tests: pd.DataFrame) -> list[Claim]:
    """Every claim, in the order the report lists them."""
    return [
        claim_every_pair_clean(pairs),
        claim_lower_on_average(pairs, tests),
        claim_attack_rise(pairs),
        claim_detection(pairs, tests),
        claim_misclassification_auroc(pairs),
        claim_corruptions(pairs),
        claim_gap_survives_temperature(pairs, tests),
        claim_building_blocks(models, summary),
        claim_ece_warning(summary),
    ]
