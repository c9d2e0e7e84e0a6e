"""`overconf query` (DuckDB SQL over one or more runs) and `overconf show` on small hand-made runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from overconf.cli import app
from overconf.evaluation.records import ModelInfo, make_records
from overconf.store.parquet import write_records


def make_run(folder: Path, shift: float) -> Path:
    rng = np.random.default_rng(0)
    for model, robust in (("a-normal", False), ("a-robust", True)):
        for perturbation, family in (("clean", "clean"), ("fog:severity=3", "corruption"), ("pgd", "attack")):
            logits = rng.normal(size=(20, 3)) + shift
            write_records(folder, make_records(ModelInfo(model, "a", robust, "toy"), perturbation, family,
                                               np.arange(20), np.arange(20) % 3, logits))
    return folder


def test_query_over_two_runs_and_csv(tmp_path: Path) -> None:
    first, second = make_run(tmp_path / "r1", 0.0), make_run(tmp_path / "r2", 1.0)
    sql = "SELECT run, model, count(*) AS n, avg(correct::int) AS acc FROM records GROUP BY ALL ORDER BY ALL"
    result = CliRunner().invoke(app, ["query", str(first), str(second), sql, "--csv", str(tmp_path / "q.csv")])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(tmp_path / "q.csv")
    assert len(table) == 4 and set(table["n"]) == {60} and set(table["run"]) == {str(first), str(second)}
    printed = CliRunner().invoke(app, ["query", str(first), "SELECT count(*) AS rows FROM records"])
    assert printed.exit_code == 0 and "120" in printed.output
    bad = CliRunner().invoke(app, ["query", str(first), "SELECT nope FROM records"])
    assert bad.exit_code != 0 and "SQL error" in str(bad.exception)  # main() turns it into one error line


def test_show_pools_corruptions(tmp_path: Path) -> None:
    run = make_run(tmp_path / "r", 0.0)
    result = CliRunner().invoke(app, ["show", str(run)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "corruptions (1)" in result.output and "a-robust" in result.output and (run / "summary.csv").is_file()
