"""``build_report(out)``: every figure, table and the HTML page of a run, from its records and run.json.

Writes ``<out>/summary.csv`` and, under ``<out>/report/``: ``figures/*.png|*.svg``,
``tables/*.csv|*.md|*.tex`` and ``report.html``. No model is loaded.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from overconf.files import write_atomic
from overconf.report.calibrators import calibrated_clean_records
from overconf.report.claims import CLAIMS_JSON, Claim, check_claims, write_claims
from overconf.report.combine import combine_runs
from overconf.report.comparisons import (
    Pair,
    block_comparisons,
    block_pairs,
    expected_pairs,
    ood_comparisons,
    replicate_units,
)
from overconf.report.direction import calibration_directions
from overconf.report.figures import bars, density, difference, ood, reliability, roc, scatter
from overconf.report.figures.common import budgets, dataset_title
from overconf.report.guards import class_coverage, guard_comparisons, guard_statement
from overconf.report.html import FigureEntry, TableEntry, render_page
from overconf.report.intervals import N_RESAMPLES
from overconf.report.load import RunData, load_run, n_classes
from overconf.report.parallel import FigureJob, draw_figures, intervals, summarise, workers_pool
from overconf.report.tables import pair_table, paired_tests, write_summary, write_table
from overconf.store.layout import slug
from overconf.store.validation import RecordFile

log = logging.getLogger(__name__)
UNIT_NOTE = ("Tests across pairs count independent pairs: pairs whose robust and normal checkpoints share their "
             "SHA-256 (the same two models evaluated on several data sets or in several runs) are averaged into one "
             "unit before the Wilcoxon test.")
REPORT_DIR = "report"
REPORT_HTML = "report.html"
SUMMARY_HTML_COLUMNS = ["model", "robust", "dataset", "perturbation", "family", "n", "accuracy", "ece",
                        "overconfidence", "underconfidence", "auroc", "detection_auroc"]


@contextmanager
def _timed(step: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    log.info("report: %s took %.2f s", step, time.perf_counter() - start)


@dataclass
class Analysis:
    """Everything the report computes before drawing: the summary, the run, its expected pairs, the pair
    table and paired tests, the pair comparisons (robust − normal per pair × perturbation × metric) with
    intervals, the panel differences and the claims."""

    summary: pd.DataFrame
    run: RunData
    expected: list[Pair]
    pairs: pd.DataFrame
    tests: pd.DataFrame
    comparisons: pd.DataFrame
    differences: pd.DataFrame
    claims: list[Claim]


def analyse(out: Path, n_resamples: int = N_RESAMPLES, files: list[RecordFile] | None = None,
            manifest: dict[str, Any] | None = None, workers: int = 1) -> Analysis:
    """Read a run's records and compute its numbers and claims (no figure; writes ``<out>/summary.csv``).

    ``files`` / ``manifest``: use these instead of reading ``out``'s (several runs combined). Records are read
    one cell at a time; ``workers`` > 1 spreads the summary (per model) and the intervals (per pair) over that
    many processes."""
    out = Path(out)
    with _timed("checking record files"):
        run = load_run(out, files, manifest)
    with workers_pool(workers, run) as pool:
        return _analyse(run, out, n_resamples, pool)


def _analyse(run: RunData, out: Path, n_resamples: int, pool: Executor | None) -> Analysis:
    with _timed("summary table"):
        summary = write_summary(out, summarise(run, pool))
    expected = expected_pairs(run.manifest, run.models)
    classes = n_classes(run)
    with _timed("post-hoc calibrators"):
        scaled = calibrated_clean_records(run, summary)
    with _timed("pair table and tests"):
        pairs = pair_table(run, summary, expected)
        tests = paired_tests(pairs, replicate_units(expected, run.manifest))
    with _timed("bootstrap intervals"):
        comparisons, pooled = intervals(run, expected, n_resamples, scaled, pool)
        differences = difference.pair_differences(run, comparisons, pooled, expected)
        directions = calibration_directions(run, expected, summary, n_resamples)
        comparisons = pd.concat([comparisons, ood_comparisons(run, expected, n_resamples)], ignore_index=True)
        blocks = guard_comparisons(block_comparisons(run, block_pairs(run.models), n_resamples), summary, classes)
    comparisons = guard_comparisons(comparisons, summary, classes)
    claims = check_claims(run.models, summary, comparisons, expected, classes, run.manifest,
                          class_coverage(run, run.manifest), directions, blocks)
    return Analysis(summary, run, expected, pairs, tests, comparisons, differences, claims)


def build_report(out: Path, n_resamples: int = N_RESAMPLES, workers: int = 1) -> Path:
    """Build the report of ``out`` and return the path of ``report.html``.

    ``n_resamples`` is the number of bootstrap resamples behind the robust-minus-normal intervals; ``workers``
    the number of processes computing the summary, the intervals and the figures (1: this one).
    """
    out = Path(out)
    with _timed("checking record files"):
        run = load_run(out)
    with workers_pool(workers, run) as pool:
        return render_report(_analyse(run, out, n_resamples, pool), out / REPORT_DIR, str(out), n_resamples, pool)


def build_combined_report(runs: list[Path], out: Path, n_resamples: int = N_RESAMPLES, workers: int = 1) -> Path:
    """One report of several runs (e.g. a CIFAR-10 and a CIFAR-100 run: the rows of Fig. 1) under ``out``.

    The runs' records and ``run.json`` are combined (:func:`overconf.report.combine.combine_runs`); writes
    ``out/summary.csv``, ``out/report.html``, ``out/claims.json``, ``out/figures`` and ``out/tables``.
    """
    out = Path(out)
    files, manifest = combine_runs([Path(d) for d in runs], command=f"overconf report {' '.join(map(str, runs))} --out {out}")
    run = load_run(out, files, manifest)
    with workers_pool(workers, run) as pool:
        analysis = _analyse(run, out, n_resamples, pool)
        return render_report(analysis, out, ", ".join(str(d) for d in runs), n_resamples, pool)


def figure_jobs(analysis: Analysis) -> list[FigureJob]:
    """Every figure of the report, in page order, as jobs that draw and save it (in any process)."""
    run = analysis.run
    jobs = [
        FigureJob(scatter.figure_confidence_scatter, (), "fig1_confidence_scatter",
                  "Fig. 1 — Confidence on correct vs wrong predictions", scatter.CAPTION),
        FigureJob(bars.figure_overconfidence_bars, (), "fig2_overconfidence_bars", "Fig. 2 — Over-confidence per pair",
                  bars.CAPTION),
        FigureJob(roc.figure_misclassification_roc, (), "fig3_misclassification_roc",
                  "Fig. 3 — ROC: correct vs wrong by confidence", roc.CAPTION_MISCLASSIFICATION),
        FigureJob(roc.figure_detection_roc, (), "fig4_detection_roc", "Fig. 4 — Attack detection ROC",
                  roc.CAPTION_DETECTION),
    ]
    for name, title, models in density.density_groups(run):
        caption = density.CAPTION_TRAINING if name.startswith("fig5") else density.CAPTION_BLOCKS.format(
            key=name.rsplit("_", 1)[-1])
        label = "Fig. 5" if name.startswith("fig5") else "Fig. 6"
        jobs.append(FigureJob(density.figure_densities, (models, title), name,
                              f"{label} — Confidence densities, {title}", caption))
    for dataset in run.datasets:
        pages = reliability.reliability_pages(run, dataset)
        for k, models in enumerate(pages, start=1):
            suffix, page = ("", "") if len(pages) == 1 else (f"_p{k}", f" (page {k} of {len(pages)})")
            jobs.append(FigureJob(reliability.figure_reliability, (dataset, models), f"reliability_{dataset}{suffix}",
                                  f"Reliability diagrams, {dataset_title(dataset)}{page}", reliability.CAPTION))
    jobs.append(FigureJob(ood.figure_ood_auroc, (analysis.summary,), "ood_auroc",
                          "OOD detection — AUROC per model (ours)", ood.CAPTION, with_run=False))
    jobs.append(FigureJob(difference.figure_differences, (analysis.differences,), "pair_differences",
                          "Robust minus normal with bootstrap intervals", difference.CAPTION, with_run=False))
    return jobs


def render_report(analysis: Analysis, report_dir: Path, run_label: str, n_resamples: int,
                  pool: Executor | None = None) -> Path:
    """Write claims.json, every figure and table and report.html of ``analysis`` under ``report_dir`` (the
    figures in ``pool``'s processes when given)."""
    figures_dir, tables_dir = report_dir / "figures", report_dir / "tables"
    summary, run, pairs, tests = analysis.summary, analysis.run, analysis.pairs, analysis.tests
    comparisons, differences, claims = analysis.comparisons, analysis.differences, analysis.claims
    write_claims(claims, report_dir / CLAIMS_JSON)

    for stale in [*figures_dir.glob("*.png"), *figures_dir.glob("*.svg"), *figures_dir.glob("*.pdf")]:  # figures of pairs no longer in the run
        stale.unlink()
    budget = budgets(run.panels, (run.manifest.get("config") or {}).get("eps"))
    with _timed("figures"):
        saved = draw_figures(figure_jobs(analysis), figures_dir, run, pool)
    entries = [FigureEntry(slug(job.name), job.title, f"{job.caption} {budget}".strip(), *paths)
               for job, paths in saved]

    write_table(summary, tables_dir, "summary", caption="Summary: one row per model and perturbation.")
    write_table(pairs, tables_dir, "pairs", caption="Robust model beside its normal twin (diff = robust - normal).")
    write_table(tests, tables_dir, "paired_tests", caption="Paired tests of robust vs normal across pairs.")
    write_table(differences, tables_dir, "pair_differences",
                caption="Robust minus normal with 95% paired bootstrap intervals.")

    write_table(comparisons, tables_dir, "pair_cells",
                caption="Robust minus normal per pair and perturbation with 95% paired bootstrap intervals.")
    shown = summary[[c for c in SUMMARY_HTML_COLUMNS if c in summary.columns]]
    comparison_columns = ["pair", "perturbation", "metric", "robust", "normal", "attacked", "clean", "estimate", "low",
                          "high", "n", "note", *[c for c in ("guard",) if c in comparisons.columns]]
    tables = [
        TableEntry("Paired tests across pairs", "Wilcoxon signed-rank test of robust vs normal values per "
                   "perturbation (overconf.metrics.paired_test); with n pairs the smallest p is 2/2^n.", tests,
                   csv=tables_dir / "paired_tests.csv"),
        TableEntry("Robust minus normal per pair and perturbation", f"Differences on the samples both twins saw, "
                   f"95% paired bootstrap intervals ({n_resamples} resamples).", comparisons[comparison_columns], collapsed=True,
                   csv=tables_dir / "pair_cells.csv"),
        TableEntry("Summary (model × perturbation)", "The main columns; all columns in the CSV (also .md and .tex).",
                   shown, collapsed=True, csv=tables_dir / "summary.csv"),
    ]
    page = render_page(title="overconf report", run_label=run_label, manifest=run.manifest, claims=claims,
                       figures=entries, tables=tables, base=report_dir, notes=[guard_statement(), UNIT_NOTE])
    html_path = report_dir / REPORT_HTML
    write_atomic(html_path, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return html_path
