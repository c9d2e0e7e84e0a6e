"""build_report on degenerate runs: one perturbation, a model without wrong predictions, no robust twin."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from synthetic_run import make_synthetic_run

from overconf.report import build_report
from overconf.report.figures import scatter
from overconf.report.load import load_run


def test_report_of_a_clean_only_run_with_a_perfect_model(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool",), n=60, perturbations={"clean": ("clean", 1.0, 0.8)})
    page = build_report(out, n_resamples=50).read_text()
    assert "not testable" in page  # no attack, no corruption
    names = sorted(p.stem for p in (out / "report" / "figures").glob("*.png"))
    assert "fig4_detection_roc" not in names and "fig1_confidence_scatter" in names
    # the perfect normal model has no wrong prediction: o(f) is undefined, so only the robust model is plotted
    fig = scatter.figure_confidence_scatter(load_run(out))
    assert [c.get_label() for c in fig.axes[0].collections[1:]] == ["robust"]
    assert "not shown (no wrong prediction): relu-maxpool-normal" in fig.axes[0].get_title()
    differences = pd.read_csv(out / "report" / "tables" / "pair_differences.csv")
    assert differences.loc[differences["metric"] == "overconfidence", "estimate"].isna().all()


def test_report_of_a_run_without_robust_models(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool",), n=60,
                                 perturbations={"clean": ("clean", 0.9, 0.8), "pgd": ("attack", 0.1, 0.5)})
    shutil.rmtree(out / "records" / "relu-maxpool-robust")
    page = build_report(out, n_resamples=50).read_text()
    assert page.count('class="claim na"') >= 5  # every pair claim is not testable
    assert not (out / "report" / "figures" / "pair_differences.png").exists()


def test_claims_json_names_a_missing_record_file(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool", "relu-flc", "pssilu-maxpool"), n=300,
                                 perturbations={"clean": ("clean", 0.9, 0.8)})
    (out / "records" / "relu-flc-robust" / "clean.parquet").unlink()
    build_report(out, n_resamples=50)
    claims = {c["id"]: c for c in json.loads((out / "report" / "claims.json").read_text())}
    assert claims["every-pair-clean"]["verdict"] == "partly supported"
    assert claims["every-pair-clean"]["pairs_missing"] == ["relu-flc"]
