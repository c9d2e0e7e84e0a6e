"""Claims and claims.json: verdicts need complete data and intervals on the claimed side; guards warn.

Each way a verdict can go wrong is reproduced on a synthetic run: a missing record file, a pair whose o(f) is NaN,
a random-weight pair, a corruption cell against the claim, a temperature at its search bound.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_run import DEFAULT_PERTURBATIONS, make_synthetic_run, synthetic_logits

from overconf.evaluation.records import ModelInfo, make_records
from overconf.metrics.temperature import TEMPERATURE_BOUNDS
from overconf.report.build import analyse
from overconf.report.claims import (
    INCONCLUSIVE,
    NOT_SUPPORTED,
    NOT_TESTABLE,
    PARTLY,
    STAYS_LOW_TOLERANCE,
    SUPPORTED,
    VERDICTS,
    WARNING,
    guard_temperature_bound,
    judge,
    judge_every,
    minimum_p_value,
    spec_of,
)
from overconf.report.combine import combine_runs
from overconf.report.comparisons import Pair, expected_pairs
from overconf.report.guards import MIN_CORRECT_FOR_UNDERCONFIDENCE
from overconf.report.tables import paired_tests
from overconf.store.layout import records_path
from overconf.store.parquet import write_records

CONTRACT_KEYS = {"id", "statement", "verdict", "pairs_expected", "pairs_tested", "pairs_missing", "cells_tested",
                 "cells_against"}
THREE_PAIRS = ("relu-maxpool", "relu-flc", "pssilu-maxpool")


def claims_of(out: Path) -> dict[str, dict]:
    """The claims as claims.json holds them (without drawing the figures: keeps the tests fast)."""
    return {c.id: c.to_json() for c in analyse(out, n_resamples=100).claims}


def test_claims_json_contract_on_the_synthetic_run(report_html: Path) -> None:
    claims = json.loads((report_html.parent / "claims.json").read_text())
    assert isinstance(claims, list) and len({c["id"] for c in claims}) == len(claims) >= 10
    for claim in claims:
        assert CONTRACT_KEYS <= set(claim), claim["id"]
        assert claim["verdict"] in VERDICTS
        assert claim["source"]  # traceable to the paper, or labelled as ours
        assert claim["pairs_expected"] == ["relu-maxpool", "relu-flc"]
    by_id = {c["id"]: c for c in claims}
    clean = by_id["every-pair-clean"]
    assert clean["verdict"] == SUPPORTED and clean["pairs_missing"] == [] and clean["cells_against"] == []
    assert clean["cells_tested"] == ["relu-maxpool · clean", "relu-flc · clean"]
    for number in clean["numbers"]:
        assert number["high"] < 0 and number["low"] <= number["estimate"] <= number["high"]
    assert by_id["paired-test-power"]["verdict"] == WARNING  # 2 pairs: the smallest p is 0.5
    assert "0.5" in by_id["paired-test-power"]["evidence"][0]
    assert by_id["clean-average"]["verdict"] == INCONCLUSIVE and "power" in by_id["clean-average"]["failed"][0]


def test_every_interval_contains_its_estimate(report_html: Path) -> None:
    claims = json.loads((report_html.parent / "claims.json").read_text())
    cells = pd.read_csv(report_html.parent / "tables" / "pair_cells.csv")
    differences = pd.read_csv(report_html.parent / "tables" / "pair_differences.csv")
    numbers = [n for c in claims for n in c["numbers"] if n.get("low") is not None]
    assert len(numbers) > 20
    for table in (cells, differences, pd.DataFrame(numbers)):
        defined = table.dropna(subset=["low", "high"])
        assert len(defined) > 10
        assert ((defined["low"] <= defined["estimate"]) & (defined["estimate"] <= defined["high"])).all()


def test_a_missing_record_file_is_named_not_dropped(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=THREE_PAIRS, n=600,  # ≥ 30 wrong predictions per model (the guard)
                             perturbations={"clean": ("clean", 0.9, 0.8), "pgd": ("attack", 0.05, 0.45)})
    records_path(out, "relu-flc-robust", "clean").unlink()
    claims = claims_of(out)
    clean = claims["every-pair-clean"]
    assert clean["pairs_expected"] == list(THREE_PAIRS)
    assert clean["pairs_missing"] == ["relu-flc"] and clean["pairs_tested"] == ["relu-maxpool", "pssilu-maxpool"]
    assert clean["verdict"] == PARTLY
    assert any(f.startswith("complete:") and "relu-flc-robust · clean" in f for f in clean["failed"])
    detection = claims["detection:pgd"]  # needs the clean records too
    assert detection["pairs_missing"] == ["relu-flc"] and detection["verdict"] != SUPPORTED


def test_a_pair_with_nan_overconfidence_is_missing(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool", "relu-flc"), n=600,
                             perturbations={"clean": ("clean", 0.9, 0.8)})
    info = ModelInfo("relu-flc-normal", "relu-flc", False, "synthetic", {})
    labels = pd.read_parquet(records_path(out, "relu-flc-normal", "clean"))["label"].to_numpy()
    logits = synthetic_logits(np.random.default_rng(5), labels, 1.0, 6.0, 10)  # every prediction right
    write_records(out, make_records(info, "clean", "clean", np.arange(labels.size), labels, logits))
    clean = claims_of(out)["every-pair-clean"]
    assert clean["pairs_missing"] == ["relu-flc"] and clean["verdict"] == PARTLY
    assert "no wrong prediction on the normal model" in " ".join(clean["failed"])


def test_a_random_weight_pair_gets_no_supported_verdict(tmp_path: Path) -> None:
    same = {False: (1.0, 1.0), True: (1.0, 1.0)}
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool",), n=100, scales=same,
                                 perturbations={"clean": ("clean", 0.1, 0.1), "pgd": ("attack", 0.09, 0.09),
                                                "square": ("attack", 0.1, 0.1)})
    claims = claims_of(out)
    assert not [c["id"] for c in claims.values() if c["verdict"] == SUPPORTED]
    chance = claims["chance-accuracy"]
    assert chance["verdict"] == WARNING and len(chance["evidence"]) == 2
    power = claims["paired-test-power"]
    assert power["verdict"] == WARNING and "smallest two-sided p" in power["evidence"][0] and "is 1 " in power["evidence"][0]


def test_a_corruption_cell_against_the_claim_is_named(tmp_path: Path) -> None:
    perturbations = {**DEFAULT_PERTURBATIONS, "fog:severity=5": ("corruption", 0.5, 0.55),
                     "noise:severity=1": ("corruption", 0.8, 0.75)}
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool", "relu-flc"), n=400, perturbations=perturbations)
    info = ModelInfo("relu-flc-robust", "relu-flc", True, "synthetic", {})
    labels = pd.read_parquet(records_path(out, "relu-flc-robust", "fog:severity=5"))["label"].to_numpy()
    logits = synthetic_logits(np.random.default_rng(7), labels, 0.55, 8.0, 10, wrong_scale=12.0)  # confidently wrong
    write_records(out, make_records(info, "fog:severity=5", "corruption", np.arange(labels.size), labels, logits))
    claims = claims_of(out)
    corruptions = claims["corruptions:severity=5"]  # one claim per severity run
    assert corruptions["cells_against"] == ["relu-flc · fog:severity=5"]
    assert corruptions["verdict"] == PARTLY and len(corruptions["cells_tested"]) == 2
    assert any(f.startswith("sign: 1 of 2") for f in corruptions["failed"])
    assert claims["corruptions:severity=3"]["cells_against"] == [] and claims["corruptions:severity=1"]["verdict"] != PARTLY


def cells_frame(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": "d", "pair": p, "perturbation": "clean", "metric": "overconfidence", "robust": 0.3,
                          "normal": 0.5, "estimate": e, "low": lo, "high": hi, "n": 100,
                          "note": "" if np.isfinite(e) else "undefined"} for p, e, lo, hi in rows])


NAN = float("nan")


# Constructed cells (pair, estimate, low, high) with the verdict and failed sub-conditions written out by hand:
# the expected values are constants, never recomputed by a copy of the rule.
@pytest.mark.parametrize(("rows", "side", "verdict", "failed"), [
    ([("a", -0.2, -0.3, -0.1), ("b", -0.1, -0.15, -0.05)], "<", SUPPORTED, []),
    ([("a", 0.2, 0.1, 0.3), ("b", 0.1, 0.05, 0.15)], ">", SUPPORTED, []),
    ([("a", -0.2, -0.3, -0.1), ("b", -0.01, -0.05, 0.03)], "<", INCONCLUSIVE, ["interval"]),
    ([("a", -0.2, -0.3, -0.1), ("b", -0.1, -0.2, 0.0)], "<", INCONCLUSIVE, ["interval"]),  # touches zero
    ([("a", 0.2, 0.0, 0.3), ("b", 0.1, 0.05, 0.15)], ">", INCONCLUSIVE, ["interval"]),  # touches zero
    ([("a", -0.2, -0.3, -0.1), ("b", -0.1, NAN, NAN)], "<", INCONCLUSIVE, ["interval"]),
    ([("a", -0.2, -0.3, -0.1), ("b", NAN, NAN, NAN)], "<", PARTLY, ["complete"]),
    ([("a", -0.2, -0.3, -0.1)], "<", PARTLY, ["complete"]),  # pair b has no row at all
    ([("a", -0.2, -0.3, 0.01)], "<", INCONCLUSIVE, ["complete", "interval"]),  # b missing, a reaches zero
    ([("a", -0.2, -0.3, -0.1), ("b", 0.1, 0.05, 0.15)], "<", PARTLY, ["sign"]),
    ([("a", 0.2, 0.1, 0.3)], "<", NOT_SUPPORTED, ["complete", "sign"]),  # b missing, a against
    ([("a", 0.2, 0.1, 0.3), ("b", 0.1, -0.05, 0.15)], "<", NOT_SUPPORTED, ["sign"]),
    ([("a", -0.2, -0.3, -0.1), ("b", -0.1, -0.15, -0.05)], ">", NOT_SUPPORTED, ["sign"]),
    ([("a", 0.0, -0.1, 0.1), ("b", -0.1, -0.15, -0.05)], "<", PARTLY, ["sign"]),  # an estimate of 0 is against
    ([("a", NAN, NAN, NAN)], "<", NOT_TESTABLE, ["complete"]),
])
def test_judge_every_needs_complete_data_and_intervals(rows, side: str, verdict: str, failed: list[str]) -> None:
    pairs = [Pair("d", "a", "a-r", "a-n"), Pair("d", "b", "b-r", "b-n")]
    claim = judge_every(cells_frame(rows), pairs, side=side, line=lambda r: "", noun="pairs", id="x", statement="s",
                        source="ours")
    assert claim.verdict == verdict
    assert [f.split(":")[0] for f in claim.failed] == failed


def test_minimum_p_value_of_the_wilcoxon_test() -> None:
    assert [minimum_p_value(n) for n in (1, 3, 5, 6)] == [1.0, 0.25, 0.0625, 0.03125]


def test_temperature_at_its_search_bound_is_a_warning() -> None:
    summary = pd.DataFrame({"model": ["a", "b"], "perturbation": ["clean", "clean"],
                            "temperature": [TEMPERATURE_BOUNDS[1], 1.7]})
    claim = guard_temperature_bound(summary, [])
    assert claim.verdict == WARNING and len(claim.evidence) == 1 and claim.evidence[0].startswith("a: T = 100")


def test_expected_pairs_come_from_run_json_not_from_records() -> None:
    models = pd.DataFrame(columns=["model", "pair", "robust", "dataset"])
    manifest = {"models": [{"model": "n", "pair": "g", "robust": False, "dataset": "c"},
                           {"model": "r1", "pair": "g", "robust": True, "dataset": "c"},
                           {"model": "r2", "pair": "g", "robust": True, "dataset": "c"}]}
    assert expected_pairs(manifest, models) == [Pair("c", "r1", "r1", "n"), Pair("c", "r2", "r2", "n")]
    listed = {"pairs": [{"dataset": "c", "pair": "p", "robust": "r1", "normal": "n"}], **manifest}
    assert expected_pairs(listed, models) == [Pair("c", "p", "r1", "n")]


def test_pgd_rise_judges_pgd_only_and_explains_squares(report_html: Path) -> None:
    claims = {c["id"]: c for c in json.loads((report_html.parent / "claims.json").read_text())}
    rise = claims["pgd-rise"]
    assert rise["cells_tested"] == ["relu-maxpool · pgd", "relu-flc · pgd"]
    assert any("Squares are not part of this claim" in e for e in rise["evidence"])
    assert claims["attack-lower:pgd"]["cells_tested"] == ["relu-maxpool · pgd", "relu-flc · pgd"]
    assert claims["attack-lower:square"]["cells_tested"] == ["relu-maxpool · square", "relu-flc · square"]


def test_a_perturbation_listed_in_run_json_but_without_records_is_missing(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool", "relu-flc"), n=300,
                                 perturbations={"clean": ("clean", 0.9, 0.8), "fog:severity=3": ("corruption", 0.6, 0.65)})
    manifest = json.loads((out / "run.json").read_text())
    manifest["cells"] = [{"model": m["model"], "perturbation": "contrast:severity=5",
                          "config": {"perturbation": {"label": "contrast:severity=5", "family": "corruption"}}}
                         for m in manifest["models"]]
    (out / "run.json").write_text(json.dumps(manifest))
    corruptions = claims_of(out)["corruptions:severity=5"]
    assert corruptions["verdict"] != SUPPORTED and set(corruptions["pairs_missing"]) == {"relu-maxpool", "relu-flc"}
    assert any("contrast:severity=5" in f for f in corruptions["failed"])


def test_a_random_weight_pair_with_confident_normal_model_is_not_judged(tmp_path: Path) -> None:
    # clean accuracy 2.5 % and 12.5 % on 40 images: without gating this pair was "supported" by every-pair-clean
    # and attack-lower, with the chance warning only further down
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool",), n=40,
                             perturbations={"clean": ("clean", 0.125, 0.025), "pgd": ("attack", 0.05, 0.0),
                                            "square": ("attack", 0.1, 0.02)})
    claims = claims_of(out)
    assert not [c["id"] for c in claims.values() if c["verdict"] == SUPPORTED]
    for claim_id in ("every-pair-clean", "attack-lower:pgd", "attack-lower:square", "clean-average"):
        claim = claims[claim_id]
        assert claim["verdict"] == NOT_TESTABLE, claim_id
        assert claim["pairs_guarded"] == ["relu-maxpool"] and claim["pairs_tested"] == []
        assert any(f.startswith("guard:") and "near chance" in f for f in claim["failed"]), claim_id


def test_too_few_correct_predictions_gate_auroc_but_not_overconfidence(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool", "relu-flc"), n=300,
                             perturbations={"clean": ("clean", 0.92, 0.8), "pgd": ("attack", 0.05, 0.45)})
    claims = claims_of(out)
    auroc = next(c for i, c in claims.items() if i.startswith("misclassification-auroc"))
    assert auroc["verdict"] == NOT_TESTABLE and auroc["pairs_guarded"] == ["relu-maxpool", "relu-flc"]
    assert "normal: " in auroc["failed"][0] and f"correct predictions < {MIN_CORRECT_FOR_UNDERCONFIDENCE}" in auroc["failed"][0]
    attack = claims["attack-lower:pgd"]  # the normal models have ~285 wrong predictions: o(f) is judged
    assert attack["pairs_guarded"] == [] and attack["verdict"] == SUPPORTED
    assert claims["few-correct"]["verdict"] == WARNING


@pytest.mark.parametrize(("guards", "verdict"), [
    (["", ""], SUPPORTED),
    (["", "b-n near chance"], PARTLY),
    (["a-r: 3 wrong predictions < 30", "b-n near chance"], NOT_TESTABLE),
])
def test_a_cell_failing_a_guard_cannot_support_a_claim(guards: list[str], verdict: str) -> None:
    pairs = [Pair("d", "a", "a-r", "a-n"), Pair("d", "b", "b-r", "b-n")]
    cells = cells_frame([("a", -0.2, -0.3, -0.1), ("b", -0.1, -0.15, -0.05)]).assign(guard=guards)
    claim = judge_every(cells, pairs, side="<", line=lambda r: "", noun="pairs", id="x", statement="s", source="ours")
    assert claim.verdict == verdict
    assert claim.pairs_guarded == [p for p, g in zip("ab", guards) if g]


def test_a_square_reversal_gets_its_own_verdict(tmp_path: Path) -> None:
    # PGD supports the paper in both pairs, Squares contradict it in both: one compound "detection" claim
    # called this "partly supported"; per attack the two results never share a verdict
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool", "relu-flc"), n=400,
                             perturbations={"clean": ("clean", 0.85, 0.8), "pgd": ("attack", 0.05, 0.45),
                                            "square": ("attack", 0.3, 0.6)})
    for k, pair in enumerate(("relu-maxpool", "relu-flc")):
        info = ModelInfo(f"{pair}-robust", pair, True, "synthetic", {})
        labels = pd.read_parquet(records_path(out, info.model, "square"))["label"].to_numpy()
        logits = synthetic_logits(np.random.default_rng(11 + k), labels, 0.6, 1.5, 10, wrong_scale=12.0)
        write_records(out, make_records(info, "square", "attack", np.arange(labels.size), labels, logits))
    claims = claims_of(out)
    assert "detection" not in claims
    assert claims["detection:pgd"]["verdict"] == SUPPORTED
    square = claims["detection:square"]
    assert square["verdict"] == NOT_SUPPORTED and len(square["cells_against"]) == 2
    assert "Squares" in square["statement"] and "0.92 vs 0.84" in square["statement"]


def test_statements_name_what_was_run_and_budgets_below_the_paper_warn(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool",), n=300, perturbations={
        "clean": ("clean", 0.85, 0.8), "square:n_queries=200": ("attack", 0.3, 0.6),
        "fog:severity=3": ("corruption", 0.6, 0.65)})
    manifest = json.loads((out / "run.json").read_text())
    params = {"clean": {}, "square:n_queries=200": {"eps": 0.1, "n_queries": 200, "norm": "linf"},
              "fog:severity=3": {"name": "fog", "severity": 3}}
    manifest["cells"] = [{"model": m["model"], "perturbation": label, "config": {
        "perturbation": {"label": label, "family": family, **params[label]},
        "data": {"n_examples": 300, "size": 10000}}} for m in manifest["models"]
        for label, family in (("clean", "clean"), ("square:n_queries=200", "attack"), ("fog:severity=3", "corruption"))]
    (out / "run.json").write_text(json.dumps(manifest))
    claims = claims_of(out)
    assert "200 queries" in claims["attack-lower:square:n_queries=200"]["statement"]
    assert "300 of 10000 images" in claims["attack-lower:square:n_queries=200"]["statement"]
    assert "Run: clean (300 of 10000 images)." in claims["every-pair-clean"]["statement"]
    corruptions = claims["corruptions:severity=3"]
    assert "severity 3" in corruptions["statement"] and "every" not in corruptions["statement"]
    assert [i for i in claims if i.startswith("corruptions")] == ["corruptions:severity=3"]
    budget = claims["budget"]
    assert budget["verdict"] == WARNING
    assert any("n_queries = 200" in e and "5000 in the reference" in e and "the paper's Square attack" in e for e in budget["evidence"])
    assert any("300 of the test set's 10000 images" in e for e in budget["evidence"])
    assert all(c["source"] for c in claims.values())


def test_the_same_checkpoints_in_two_runs_are_one_unit_in_the_paired_test(tmp_path: Path) -> None:
    # the same two pairs (same checkpoint SHA-256s) evaluated in two runs: 2 independent pairs, not 4
    perturbations = {"clean": ("clean", 0.85, 0.75)}
    first = make_synthetic_run(tmp_path / "a", n=300, perturbations=perturbations, seed=1)
    second = make_synthetic_run(tmp_path / "b", n=300, perturbations=perturbations, seed=2)
    (tmp_path / "both").mkdir()
    files, manifest = combine_runs([first, second])
    claims = {c.id: c for c in analyse(tmp_path / "both", n_resamples=100, files=files, manifest=manifest).claims}
    test = claims["clean-average"].numbers[-1]
    assert test["metric"] == "paired_test" and test["n"] == 2 and test["n_pairs"] == 4
    assert test["minimum_p"] == 0.5 and "2 independent pairs" in claims["clean-average"].summary
    assert any("4 pairs form 2 units" in e for e in claims["clean-average"].evidence)
    assert "2 independent pairs" in claims["paired-test-power"].evidence[0]
    other = json.loads((second / "run.json").read_text())
    for m in other["models"]:
        m["sha256"] = "ff" + m["sha256"][2:]  # other checkpoints: four independent pairs
    (second / "run.json").write_text(json.dumps(other))
    files, manifest = combine_runs([first, second])
    claims = {c.id: c for c in analyse(tmp_path / "both", n_resamples=100, files=files, manifest=manifest).claims}
    assert claims["clean-average"].numbers[-1]["n"] == 4


def test_paired_tests_table_averages_pairs_of_one_unit() -> None:
    pairs = pd.DataFrame({"dataset": "d", "perturbation": "clean", "pair": ["a", "b", "c"],
                          "overconfidence_robust": [0.2, 0.4, 0.3], "overconfidence_normal": [0.5, 0.7, 0.6]})
    table = paired_tests(pairs, {"a": "a = b", "b": "a = b", "c": "c"})
    row = table[table["metric"] == "overconfidence"].iloc[0]
    assert row["n"] == 2 and row["robust_mean"] == pytest.approx(0.3)
    assert paired_tests(pairs).query("metric == 'overconfidence'")["n"].iloc[0] == 3


def test_a_cell_covering_few_classes_is_a_warning(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool",), n=300,
                             perturbations={"clean": ("clean", 0.85, 0.8), "pgd": ("attack", 0.05, 0.45)})
    for model in ("relu-maxpool-normal", "relu-maxpool-robust"):  # the attack saw the first 40 of a class-sorted set
        path = records_path(out, model, "pgd")
        table = pd.read_parquet(path)
        table = table.assign(label=np.where(table["index"] < 150, 0, 1)).iloc[:40]
        info = ModelInfo(model, "relu-maxpool", model.endswith("robust"), "synthetic", {})
        logits = np.stack(table["logits"].to_numpy())
        write_records(out, make_records(info, "pgd", "attack", table["index"].to_numpy(), table["label"].to_numpy(), logits))
    coverage = claims_of(out)["class-coverage"]
    assert coverage["verdict"] == WARNING and coverage["evidence"] == ["synthetic · pgd: 1 of 10 classes"]


def test_ood_claims_and_calibration_direction_are_on_the_page(tmp_path: Path) -> None:
    # the robust models are as confident on OOD noise as on clean data: robust OOD detection is worse
    perturbations = {"clean": ("clean", 0.85, 0.75), "ood-uniform": ("ood", 0.0, 0.0)}
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool", "relu-flc"), n=400, perturbations=perturbations)
    for k, pair in enumerate(("relu-maxpool", "relu-flc")):
        info = ModelInfo(f"{pair}-robust", pair, True, "synthetic", {})
        labels = pd.read_parquet(records_path(out, info.model, "ood-uniform"))["label"].to_numpy()
        logits = synthetic_logits(np.random.default_rng(21 + k), np.zeros_like(labels), 1.0, 8.0, 10)
        write_records(out, make_records(info, "ood-uniform", "ood", np.arange(labels.size), np.full(labels.size, -1), logits))
    claims = claims_of(out)
    auroc, confidence = claims["ood-auroc:ood-uniform"], claims["ood-confidence:ood-uniform"]
    assert auroc["source"].startswith("ours") and confidence["source"].startswith("ours")
    assert auroc["verdict"] == NOT_SUPPORTED and len(auroc["cells_against"]) == 2
    assert confidence["verdict"] == NOT_SUPPORTED
    for number in auroc["numbers"]:
        assert number["low"] <= number["estimate"] <= number["high"] < 0
    direction = claims["calibration-direction"]
    assert direction["verdict"] == "informational" and len(direction["evidence"]) == 2
    assert all("robust relu-" in e and "-robust under-confident" in e for e in direction["evidence"])
    assert "not better calibration" in direction["summary"]


def test_the_gap_is_judged_after_three_calibrators_on_the_same_held_out_half(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool", "relu-flc"), n=600,
                             perturbations={"clean": ("clean", 0.85, 0.75)})
    claims = claims_of(out)
    for claim_id in ("temperature-scaling", "isotonic-calibration", "histogram-binning"):
        claim = claims[claim_id]
        assert claim["source"] == "ours (not in the paper)" and claim["verdict"] == SUPPORTED, claim_id
        assert [n["n"] for n in claim["numbers"]] == [300, 300]  # the even half, scored; the odd half fitted


def test_isotonic_and_histogram_binning_are_fitted_on_odd_and_scored_on_even() -> None:
    from overconf.report.calibrators import calibrated_clean_records, histogram_binning

    index = np.arange(8)
    records = pd.DataFrame({"model": "m", "family": "clean", "index": index,
                            "confidence": [0.95, 0.95, 0.95, 0.95, 0.35, 0.35, 0.35, 0.35],
                            "correct": [True, True, False, False, True, False, True, False]})

    class OneCleanCell:  # the two things calibrated_clean_records asks of a RunData
        models = pd.DataFrame({"model": ["m"]})

        def read(self, model: str, perturbation: str, columns: list[str]) -> pd.DataFrame:
            return records[[c for c in columns if c in records.columns]]

    table = calibrated_clean_records(OneCleanCell(), pd.DataFrame({"model": ["m"], "perturbation": ["clean"]}))  # type: ignore[arg-type]
    assert table["index"].tolist() == [0, 2, 4, 6] and table["confidence_ts"].isna().all()  # no logits: no T
    # odd half: confidence 0.95 → 1 of 2 right; 0.35 → 0 of 2 right
    assert table["confidence_hist"].tolist() == [0.5, 0.5, 0.0, 0.0]
    assert table["confidence_iso"].tolist() == [0.5, 0.5, 0.0, 0.0]
    assert histogram_binning(np.array([0.95]), np.array([True]))(np.array([0.1])).tolist() == [0.1]  # empty bin


def rise_frame(rows: list[tuple[str, float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame([{"dataset": "d", "pair": p, "perturbation": "pgd", "family": "attack", "metric": "robust_rise",
                          "robust": NAN, "normal": NAN, "attacked": 0.3 + e, "clean": 0.3, "estimate": e, "low": lo, "high": hi, "n": 500, "note": ""}
                         for p, e, lo, hi in rows])


@pytest.mark.parametrize(("rows", "verdict"), [
    ([("a", 0.02, 0.0, 0.04), ("b", -0.01, -0.03, 0.01)], SUPPORTED),  # rises below the 0.05 tolerance
    ([("a", 0.02, 0.0, 0.04), ("b", 0.03, 0.01, 0.07)], INCONCLUSIVE),  # b's interval reaches the tolerance
    ([("a", 0.08, 0.06, 0.10), ("b", 0.02, 0.0, 0.04)], PARTLY),
    ([("a", 0.08, 0.06, 0.10), ("b", 0.06, 0.04, 0.08)], NOT_SUPPORTED),
])
def test_robust_overconfidence_stays_low_under_pgd_within_a_stated_tolerance(rows, verdict: str) -> None:
    pairs = [Pair("d", "a", "a-r", "a-n"), Pair("d", "b", "b-r", "b-n")]
    [claim] = judge(spec_of("robust-stays-low"), rise_frame(rows), pairs, {})
    assert claim.verdict == verdict and STAYS_LOW_TOLERANCE == 0.05
    assert "by less than 0.05" in claim.statement
    assert [n["estimate"] for n in claim.to_json()["numbers"]] == [r[1] for r in rows]  # unshifted numbers
    assert "tolerance 0.05" in claim.evidence[0]


def test_every_column_of_fig3_and_the_building_blocks_are_judged_with_intervals(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=THREE_PAIRS, n=600, perturbations=DEFAULT_PERTURBATIONS)
    claims = claims_of(out)
    for claim_id in ("misclassification-auroc:clean", "misclassification-auroc:pgd", "misclassification-auroc:square",
                     "misclassification-auroc:corruptions:severity=3"):
        assert "Fig. 3" in claims[claim_id]["source"], claim_id
    assert claims["misclassification-auroc:clean"]["verdict"] == SUPPORTED
    blocks = claims["building-blocks:downsampling"], claims["building-blocks:activation"]
    assert [b["cells_tested"] for b in blocks] == [["flc vs maxpool · normal · clean", "flc vs maxpool · robust · clean"],
                                                   ["pssilu vs relu · normal · clean", "pssilu vs relu · robust · clean"]]
    assert blocks[0]["pairs_expected"] == list(THREE_PAIRS) and blocks[0]["pairs_tested"] == ["relu-maxpool", "relu-flc"]
    for block in blocks:
        assert block["verdict"] not in ("informational", NOT_TESTABLE) and "Figs. 5–6" in block["source"]
        for number in block["numbers"]:
            assert number["low"] <= number["estimate"] <= number["high"]
    assert "building-blocks" not in claims
