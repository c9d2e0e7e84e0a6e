"""Tables: summary.csv / .md / .tex equal overconf.metrics.summary_table; pair table and paired tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from overconf.metrics import paired_test, summary_table
from overconf.report.load import RunData
from overconf.report.tables import SUMMARY_CSV, pair_table, paired_tests, to_latex, to_markdown, write_summary
from overconf.store.parquet import read_records


@pytest.fixture(scope="module")
def summary(out: Path) -> pd.DataFrame:
    return summary_table(read_records(out))


def test_write_summary_csv_equals_summary_table(out: Path, summary: pd.DataFrame) -> None:
    written = write_summary(out)
    pd.testing.assert_frame_equal(written, summary)
    on_disk = pd.read_csv(out / SUMMARY_CSV)
    pd.testing.assert_frame_equal(on_disk, summary, check_dtype=False, rtol=1e-12)
    assert len(summary) == 4 * 6  # 4 models × 6 perturbations (OOD included: it has ood_auroc)


def test_report_tables_carry_summary_numbers(report_html: Path, summary: pd.DataFrame) -> None:
    tables = report_html.parent / "tables"
    csv = pd.read_csv(tables / "summary.csv")
    np.testing.assert_allclose(csv["overconfidence"], summary["overconfidence"], equal_nan=True)
    md = (tables / "summary.md").read_text().splitlines()
    assert len(md) == len(summary) + 2
    row = summary[(summary["model"] == "relu-flc-robust") & (summary["perturbation"] == "pgd")].iloc[0]
    line = next(x for x in md if "relu-flc-robust" in x and "| pgd |" in x)
    assert f"| {row['overconfidence']:.3f} |" in line and f"| {row['ece']:.3f} |" in line
    tex = (tables / "summary.tex").read_text()
    assert all(rule in tex for rule in ("\\toprule", "\\midrule", "\\bottomrule"))
    body = tex.split("\\midrule")[1].split("\\bottomrule")[0]
    assert body.count("\\\\") == len(summary)
    assert f"{row['overconfidence']:.3f}" in body


def test_latex_and_markdown_escape_text() -> None:
    table = pd.DataFrame({"model": ["a_b & c%"], "value": [np.nan], "robust": [True]})
    tex = to_latex(table)
    assert "a\\_b \\& c\\%" in tex and "--" in tex and "yes" in tex
    assert "| a_b & c% | – | yes |" in to_markdown(table)


def test_pair_table_differences_and_paired_tests(run: RunData, summary: pd.DataFrame) -> None:
    pairs = pair_table(run, summary)
    assert len(pairs) == 2 * 5  # 2 twins × 5 labelled perturbations (OOD left out)
    keyed = summary.set_index(["model", "perturbation"])
    for r in pairs.itertuples(index=False):
        assert r.overconfidence_robust == keyed.loc[(r.robust_model, r.perturbation), "overconfidence"]
        assert r.overconfidence_normal == keyed.loc[(r.normal_model, r.perturbation), "overconfidence"]
        assert r.overconfidence_diff == pytest.approx(r.overconfidence_robust - r.overconfidence_normal)
    tests = paired_tests(pairs)
    clean = pairs[pairs["perturbation"] == "clean"]
    expected = paired_test(clean["overconfidence_robust"], clean["overconfidence_normal"])
    row = tests[(tests["perturbation"] == "clean") & (tests["metric"] == "overconfidence")].iloc[0]
    assert (row["n"], row["p_value"], row["effect_size"]) == (expected.n, expected.p_value, expected.effect_size)
    assert row["effect_size"] == -1.0  # both robust twins are less over-confident
    detection = tests[tests["metric"] == "detection_auroc"]
    assert set(detection["perturbation"]) == {"pgd", "square"}
