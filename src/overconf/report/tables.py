"""The report's tables: the summary (model × perturbation), the pair table and the paired tests.

Each table is written as CSV (full precision), Markdown and LaTeX (booktabs, 3 decimals). LaTeX goes
through pandas' ``Styler.to_latex`` (jinja2 is pinned, it comes with torch); Markdown is written here
because pandas' ``to_markdown`` needs ``tabulate``, which is not in the pinned set.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from overconf.errors import MetricInputError
from overconf.files import write_atomic
from overconf.metrics import paired_test
from overconf.report.comparisons import Pair
from overconf.report.load import RunData, load_run
from overconf.report.parallel import summarise

SUMMARY_CSV = "summary.csv"
PAIR_METRICS = ("accuracy", "ece", "overconfidence", "underconfidence", "auroc", "detection_auroc", "temperature",
                "overconfidence_ts", "ece_ts")
TESTED_METRICS = ("overconfidence", "underconfidence", "ece", "auroc", "detection_auroc", "overconfidence_ts")


def compute_summary(out: Path | RunData) -> pd.DataFrame:
    """:func:`overconf.metrics.summary_table` of all records of a run (one row per model × perturbation),
    computed one model at a time, one cell at a time (:func:`overconf.report.parallel.model_summary_rows`): memory is that of one cell."""
    return summarise(out if isinstance(out, RunData) else load_run(Path(out)), None)


def summary_is_current(out: Path) -> bool:
    """Whether ``<out>/summary.csv`` was written after every record file of the run changed and has one row per
    file (so an all-done resume need not read the records again)."""
    path = Path(out) / SUMMARY_CSV
    files = list((Path(out) / "records").glob("*/*.parquet"))
    try:
        written = path.stat().st_mtime_ns
        if not files or any(f.stat().st_mtime_ns > written for f in files):
            return False
        with open(path, "rb") as handle:
            rows = sum(1 for _ in handle) - 1
    except OSError:
        return False
    return rows == len(files)


def write_summary(out: Path, summary: pd.DataFrame | None = None, run: RunData | None = None) -> pd.DataFrame:
    """Write ``<out>/summary.csv`` (computing the summary of ``run``, else of ``out``'s records, unless given) and
    return the table."""
    summary = compute_summary(run if run is not None else out) if summary is None else summary
    write_atomic(Path(out) / SUMMARY_CSV, lambda tmp: summary.to_csv(tmp, index=False))
    return summary


def _table_entry(value: object, digits: int) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return "–" if math.isnan(value) else f"{value:.{digits}f}"
    return str(value)


def to_markdown(table: pd.DataFrame, digits: int = 3) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned, NaN as an en dash, ``|`` escaped).

    >>> print(to_markdown(pd.DataFrame({"model": ["a|b"], "ece": [0.12345]})))
    | model | ece |
    | :-- | --: |
    | a\\|b | 0.123 |
    """
    numeric = [pd.api.types.is_numeric_dtype(table[c]) and not pd.api.types.is_bool_dtype(table[c]) for c in table]
    head = "| " + " | ".join(str(c) for c in table.columns) + " |"
    rule = "| " + " | ".join("--:" if n else ":--" for n in numeric) + " |"
    body = ["| " + " | ".join(_table_entry(v, digits).replace("|", "\\|") for v in row) + " |"
            for row in table.itertuples(index=False)]
    return "\n".join([head, rule, *body])


def to_latex(table: pd.DataFrame, digits: int = 3, caption: str | None = None) -> str:
    """A booktabs LaTeX table (``\\toprule``/``\\midrule``/``\\bottomrule``), text escaped, NaN as ``--``."""
    shown = table.copy()
    for column in shown.columns:
        if pd.api.types.is_bool_dtype(shown[column]):
            shown[column] = shown[column].map({True: "yes", False: "no"})
    styler = shown.style.hide(axis="index").format(precision=digits, na_rep="--", escape="latex")
    styler = styler.format_index(escape="latex", axis=1)
    return styler.to_latex(hrules=True, caption=caption, column_format="l" * len(shown.columns))


def write_table(table: pd.DataFrame, out_dir: Path, name: str, caption: str | None = None) -> list[Path]:
    """Write ``name`` as ``.csv``, ``.md`` and ``.tex`` under ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = [out_dir / f"{name}.csv", out_dir / f"{name}.md", out_dir / f"{name}.tex"]
    write_atomic(paths[0], lambda tmp: table.to_csv(tmp, index=False))
    write_atomic(paths[1], lambda tmp: tmp.write_text(to_markdown(table) + "\n"))
    write_atomic(paths[2], lambda tmp: tmp.write_text(to_latex(table, caption=caption)))
    return paths


def pair_table(run: RunData, summary: pd.DataFrame, pairs: list[Pair] | None = None) -> pd.DataFrame:
    """Robust model beside its normal twin per perturbation: ``<metric>_robust``, ``_normal``, ``_diff`` (r − n).

    One row per expected pair (``pairs``, default: the run's twins) × labelled perturbation of its data set;
    a model without records there leaves NaN values (the row stays, so the pair is not silently dropped).
    """
    metrics = [m for m in PAIR_METRICS if m in summary.columns]
    labelled = summary[summary["family"] != "ood"]
    keyed = labelled.set_index(["model", "perturbation"])
    if pairs is None:
        pairs = [Pair(d, name, r, n) for d in run.datasets for name, r, n in run.twins(d)]
    rows = []
    for pair in pairs:
        perturbations = labelled.loc[labelled["dataset"] == pair.dataset, ["perturbation", "family"]].drop_duplicates()
        for perturbation, family in perturbations.itertuples(index=False):
            row: dict[str, object] = {"dataset": pair.dataset, "perturbation": perturbation, "family": family,
                                      "pair": pair.name, "robust_model": pair.robust, "normal_model": pair.normal}
            for metric in metrics:
                r = float(keyed.loc[(pair.robust, perturbation), metric]) if (pair.robust, perturbation) in keyed.index else np.nan
                n = float(keyed.loc[(pair.normal, perturbation), metric]) if (pair.normal, perturbation) in keyed.index else np.nan
                row[f"{metric}_robust"], row[f"{metric}_normal"], row[f"{metric}_diff"] = r, n, r - n
            rows.append(row)
    return pd.DataFrame(rows)


def paired_tests(pairs: pd.DataFrame, units: dict[str, str] | None = None) -> pd.DataFrame:
    """:func:`overconf.metrics.paired_test` of robust vs normal across pairs, per data set × perturbation × metric.

    ``units``: pair → unit (:func:`overconf.report.comparisons.replicate_units`); pairs of one unit (the same two
    checkpoints) are averaged into one before the test, so ``n`` counts independent pairs. Rows with fewer
    pairs than the test accepts keep NaN statistics (``note`` says why).
    """
    units = units or {}
    columns = ["dataset", "perturbation", "metric", "n", "robust_mean", "normal_mean", "median_difference",
               "statistic", "p_value", "effect_size", "note"]
    rows: list[dict[str, object]] = []
    if pairs.empty:
        return pd.DataFrame(rows, columns=columns)
    for (dataset, perturbation), group in pairs.groupby(["dataset", "perturbation"], sort=False):
        for metric in TESTED_METRICS:
            if f"{metric}_robust" not in group:
                continue
            both = group[["pair", f"{metric}_robust", f"{metric}_normal"]].dropna()
            if both.empty:
                continue
            both = (both.assign(pair=[units.get(str(p), str(p)) for p in both["pair"]])
                    .groupby("pair", sort=False).mean().reset_index(drop=True))
            r, n = both.iloc[:, 0].to_numpy(), both.iloc[:, 1].to_numpy()
            row = {"dataset": dataset, "perturbation": perturbation, "metric": metric, "n": len(both),
                   "robust_mean": float(r.mean()), "normal_mean": float(n.mean()),
                   "median_difference": float(np.median(r - n)), "statistic": np.nan, "p_value": np.nan,
                   "effect_size": np.nan, "note": ""}
            try:
                test = paired_test(r, n)
                row.update(statistic=float(test.statistic), p_value=float(test.p_value),
                           effect_size=float(test.effect_size), median_difference=float(test.median_difference))
            except MetricInputError as exc:
                row["note"] = exc.message
            rows.append(row)
    return pd.DataFrame(rows, columns=columns)
