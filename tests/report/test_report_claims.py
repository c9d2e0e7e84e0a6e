"""Claims: verdicts follow the numbers (supported / partly / not supported / not testable / warning)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from overconf.metrics import summary_table
from overconf.report.claims import (
    NOT_SUPPORTED,
    NOT_TESTABLE,
    PARTLY,
    SUPPORTED,
    WARNING,
    check_claims,
    claim_attack_rise,
    claim_detection,
    claim_every_pair_clean,
    claim_gap_survives_temperature,
)
from overconf.report.load import RunData
from overconf.report.tables import pair_table, paired_tests
from overconf.store.parquet import read_records


def pairs_frame(clean_diffs: list[float]) -> pd.DataFrame:
    rows = []
    for i, diff in enumerate(clean_diffs):
        rows.append({"dataset": "d", "perturbation": "clean", "family": "clean", "pair": f"p{i}",
                     "robust_model": f"r{i}", "normal_model": f"n{i}", "overconfidence_robust": 0.5 + diff,
                     "overconfidence_normal": 0.5, "overconfidence_diff": diff})
    return pd.DataFrame(rows)


def test_claims_on_the_synthetic_run(run: RunData, run_dir: Path) -> None:
    summary = summary_table(read_records(run_dir))
    pairs = pair_table(run, summary)
    claims = {c.key: c for c in check_claims(run.models, summary, pairs, paired_tests(pairs))}
    assert claims["every-pair-clean"].verdict == SUPPORTED
    assert claims["every-pair-clean"].summary.startswith("2 of 2 pairs")
    assert claims["clean-average"].verdict == SUPPORTED
    assert claims["attack-rise"].verdict == SUPPORTED
    assert claims["detection"].verdict == SUPPORTED
    assert claims["corruptions"].verdict == SUPPORTED
    assert claims["building-blocks"].evidence[0].startswith("synthetic · downsampling=flc · relu-flc-normal")
    low = summary[(summary["family"] != "ood") & (summary["accuracy"] < 0.5)]
    assert claims["ece-low-accuracy"].verdict == WARNING and len(claims["ece-low-accuracy"].evidence) == len(low) > 0


def test_every_pair_verdicts_follow_the_signs() -> None:
    assert claim_every_pair_clean(pairs_frame([-0.1, -0.2])).verdict == SUPPORTED
    assert claim_every_pair_clean(pairs_frame([-0.1, 0.2])).verdict == PARTLY
    assert claim_every_pair_clean(pairs_frame([0.1, 0.2])).verdict == NOT_SUPPORTED
    assert claim_every_pair_clean(pd.DataFrame()).verdict == NOT_TESTABLE


def test_attack_rise_needs_normal_rise_and_robust_below() -> None:
    base = {"dataset": "d", "pair": "p", "robust_model": "r", "normal_model": "n"}
    rows = [{**base, "perturbation": "clean", "family": "clean", "overconfidence_robust": 0.3, "overconfidence_normal": 0.6},
            {**base, "perturbation": "pgd", "family": "attack", "overconfidence_robust": 0.32, "overconfidence_normal": 0.9}]
    assert claim_attack_rise(pd.DataFrame(rows)).verdict == SUPPORTED
    rows[1]["overconfidence_normal"] = 0.5  # the normal model's o(f) falls under attack
    assert claim_attack_rise(pd.DataFrame(rows)).verdict == NOT_SUPPORTED
    assert claim_detection(pd.DataFrame(), pd.DataFrame()).verdict == NOT_TESTABLE


def test_temperature_claim_follows_the_scaled_gap(run: RunData, run_dir: Path) -> None:
    summary = summary_table(read_records(run_dir))
    pairs = pair_table(run, summary)
    clean = pairs[pairs["perturbation"] == "clean"]
    claim = claim_gap_survives_temperature(pairs, paired_tests(pairs))
    expected = [bool(d < 0) for d in clean["overconfidence_ts_diff"]]
    assert claim.verdict == {(True,): SUPPORTED, (False,): NOT_SUPPORTED}.get(tuple(set(expected)), PARTLY)
    assert len(claim.evidence) >= len(clean) and f"{clean['temperature_robust'].iloc[0]:.3f}" in claim.evidence[0]
    flipped = clean.assign(overconfidence_ts_diff=-clean["overconfidence_ts_diff"].abs() - 0.01)
    assert claim_gap_survives_temperature(flipped, pd.DataFrame(columns=["perturbation", "metric"])).verdict == SUPPORTED
    no_logits = pairs.drop(columns=[c for c in pairs if c.startswith("overconfidence_ts")])
    assert claim_gap_survives_temperature(no_logits, paired_tests(no_logits)).verdict == NOT_TESTABLE
