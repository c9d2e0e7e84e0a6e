"""Figures: their content (points, bars, legend AUCs, curves) checked against overconf.metrics on the records."""

from __future__ import annotations

from pathlib import Path

import matplotlib.colors as mcolors
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, PolyCollection
from matplotlib.patches import Rectangle, StepPatch
from matplotlib.text import Text
from synthetic_run import make_synthetic_run

from overconf.metrics import (
    attack_detection_auroc,
    mean_confidence_correct,
    misclassification_auroc,
    overconfidence,
    reliability_diagram,
    summary_table,
)
from overconf.report.comparisons import expected_pairs, pair_comparisons
from overconf.report.figures import bars, density, difference, reliability, roc, scatter
from overconf.report.figures.common import budgets, panel_title, save_figure
from overconf.report.load import RunData, load_run
from overconf.store.parquet import read_records

PANELS = ["clean", "pgd", "square", "corruptions"]
TITLES = ["Clean", "PGD", "Squares", "Corruptions"]


@pytest.fixture(scope="module")
def records(out: Path) -> pd.DataFrame:
    return read_records(out, ["model", "robust", "perturbation", "family", "index", "confidence", "correct"])


def panel_arrays(records: pd.DataFrame, model: str, panel: str) -> tuple[np.ndarray, np.ndarray]:
    """Independent of report.load: the records of one model in one panel (corruptions pooled)."""
    rows = records[records["model"] == model]
    rows = rows[rows["family"] == "corruption"] if panel == "corruptions" else rows[rows["perturbation"] == panel]
    return rows["confidence"].to_numpy(), rows["correct"].to_numpy(bool)


def visible_axes(fig):
    """The figure's panels (colour bars left out)."""
    return [ax for ax in fig.axes if ax.axison and ax.get_label() != "<colorbar>"]


def is_green(rgba) -> bool:
    r, g, b = mcolors.to_rgb(rgba)
    return g > r and g > b


def test_panels_group_corruptions_and_drop_ood(run: RunData) -> None:
    assert run.panels == PANELS
    ood = [f.perturbation for f in run.files if f.family == "ood"]
    assert ood and not any(key[1] in ood for key in run._panel_files)
    assert len(run.arrays("relu-flc-normal", "corruptions")[0]) == 2 * 300


def test_fig1_one_point_per_model_at_its_mean_confidences(run: RunData, records: pd.DataFrame) -> None:
    fig = scatter.figure_confidence_scatter(run)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == TITLES
    for ax, panel in zip(axes, PANELS):
        groups = {c.get_label(): c for c in ax.collections if isinstance(c, PathCollection)}
        assert set(groups) == {"robust", "normal"}
        assert sum(len(c.get_offsets()) for c in groups.values()) == len(run.models) == 4
        for label, collection in groups.items():
            models = run.models.loc[run.models["robust"] == (label == "robust"), "model"]
            expected = sorted((mean_confidence_correct(*panel_arrays(records, m, panel)),
                               overconfidence(*panel_arrays(records, m, panel))) for m in models)
            np.testing.assert_allclose(sorted(map(tuple, collection.get_offsets())), expected)
            assert all(is_green(c) == (label == "robust") for c in collection.get_facecolors())
        star = [line for line in ax.lines if line.get_marker() == "*"]
        assert len(star) == 1 and list(star[0].get_xydata()[0]) == [1.0, 0.0]
        region = next(c for c in ax.collections if isinstance(c, PolyCollection))
        assert region.get_paths()[0].contains_point((0.2, 0.8)) and not region.get_paths()[0].contains_point((0.8, 0.2))


def test_fig2_one_bar_per_model_with_its_overconfidence(run: RunData, records: pd.DataFrame) -> None:
    fig = bars.figure_overconfidence_bars(run)
    for ax, panel in zip(visible_axes(fig), PANELS):
        rects = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(rects) == 4
        heights = sorted(r.get_height() for r in rects)
        expected = sorted(overconfidence(*panel_arrays(records, m, panel)) for m in run.models["model"])
        np.testing.assert_allclose(heights, expected)
        assert sum(is_green(r.get_facecolor()) for r in rects) == 2
        assert [t.get_text() for t in ax.get_xticklabels()] == ["relu-flc", "relu-maxpool"]


def test_fig3_legend_carries_mean_and_std_of_misclassification_auroc(run: RunData, records: pd.DataFrame) -> None:
    fig = roc.figure_misclassification_roc(run)
    for ax, panel in zip(visible_axes(fig), PANELS):
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        for robust, name in ((False, "normal"), (True, "robust")):
            models = run.models.loc[run.models["robust"] == robust, "model"]
            aucs = [misclassification_auroc(*panel_arrays(records, m, panel)) for m in models]
            label = f"{name} (n=2, AUC {np.mean(aucs):.3f} ± {np.std(aucs, ddof=1):.3f})"  # sample SD
            assert label in texts
            mean_curve = next(line for line in ax.lines if line.get_label() == label)
            # the plotted mean curve integrates to about the mean AUROC (linear interpolation, 201 points)
            assert np.trapezoid(mean_curve.get_ydata(), mean_curve.get_xdata()) == pytest.approx(np.mean(aucs), abs=0.01)
        assert "random (AUC 0.5)" in texts
        dashed = [line for line in ax.lines if line.get_linestyle() == "--"]
        assert len(dashed) == 1 and dashed[0].get_xydata().tolist() == [[0, 0], [1, 1]]
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2  # the ± std bands


def test_fig4_mean_and_std_over_robust_and_over_normal(run: RunData, out: Path) -> None:
    fig = roc.figure_detection_roc(run)
    summary = summary_table(read_records(out))
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["PGD", "Squares"]
    for ax, attack in zip(axes, ["pgd", "square"]):
        texts = [t.get_text() for t in ax.get_legend().get_texts()]
        assert len(texts) == 3  # robust, normal, random: readable whatever the number of pairs
        for robust, name in ((False, "normal"), (True, "robust")):
            rows = summary[(summary["perturbation"] == attack) & (summary["robust"] == robust)]
            aucs = rows["detection_auroc"].to_numpy()
            assert f"{name} (n=2, AUC {np.mean(aucs):.3f} ± {np.std(aucs, ddof=1):.3f})" in texts


def test_detection_arrays_join_clean_and_attacked_on_index(run: RunData) -> None:
    clean_conf, clean_ok, attack_conf, attack_ok = roc.detection_arrays(run, "relu-maxpool-robust", "pgd")
    assert len(clean_conf) == len(attack_conf) == 300
    assert roc.detection_auroc(run, "relu-maxpool-robust", "pgd") == attack_detection_auroc(
        clean_conf, clean_ok, attack_conf, attack_ok)


def test_density_figures_one_per_pair_and_one_per_varying_block(run: RunData) -> None:
    groups = density.density_groups(run)
    names = [g[0] for g in groups]
    assert names == ["fig5_density_synthetic_relu-flc", "fig5_density_synthetic_relu-maxpool",
                     "fig6_density_synthetic_downsampling"]
    assert groups[-1][2] == ["relu-flc-normal", "relu-maxpool-normal"]  # normally trained only, ordered by block
    fig = density.figure_densities(run, groups[0][2], groups[0][1])
    axes = visible_axes(fig)
    assert len(axes) == 2 * len(PANELS)
    for ax in axes:
        kde = [line for line in ax.lines if line.get_label().endswith("KDE")]
        assert len(kde) == 2 and len(ax.patches) == 2  # correct + wrong: histogram and KDE each
        for line in kde:
            assert np.trapezoid(line.get_ydata(), line.get_xdata()) == pytest.approx(1.0, abs=0.02)  # reflected KDE


def test_density_guards_degenerate_and_large_inputs(run: RunData) -> None:
    fig = density.figure_densities(run, ["relu-flc-normal"], "t")
    ax = fig.axes[0]
    ax.clear()
    density.draw_density(ax, np.full(5, 0.7), np.ones(5, bool))  # no spread: histogram only, no KDE
    assert len(ax.patches) == 1 and not ax.lines
    big = np.random.default_rng(1).uniform(0.2, 1.0, 50_000)
    first, second = density.kde_curve(big), density.kde_curve(big)
    np.testing.assert_array_equal(first, second)  # the KDE subsample is deterministic


def test_reliability_bars_equal_metrics_reliability_diagram(run: RunData, records: pd.DataFrame) -> None:
    fig = reliability.figure_reliability(run, "synthetic")
    axes = visible_axes(fig)
    assert len(axes) == 4 * len(PANELS)
    ax = axes[0]  # first model (relu-flc-normal), clean
    diagram = reliability_diagram(*panel_arrays(records, "relu-flc-normal", "clean"), n_bins=15)
    step = next(p for p in ax.patches if isinstance(p, StepPatch))
    expected = np.where(diagram.counts > 0, diagram.accuracy, np.nan)
    np.testing.assert_allclose(step.get_data().values, expected)


def test_pair_differences_estimate_and_interval(run: RunData, records: pd.DataFrame) -> None:
    pairs = expected_pairs(run.manifest, run.models)
    table = difference.pair_differences(run, *pair_comparisons(run, pairs, n_resamples=100), pairs)
    assert len(table) == 2 * len(PANELS) * 3
    row = table[(table["panel"] == "clean") & (table["metric"] == "overconfidence")
                & (table["robust_model"] == "relu-flc-robust")].iloc[0]
    expected = (overconfidence(*panel_arrays(records, "relu-flc-robust", "clean"))
                - overconfidence(*panel_arrays(records, "relu-flc-normal", "clean")))
    assert row["estimate"] == pytest.approx(expected)
    assert row["low"] <= row["estimate"] <= row["high"] < 0  # the synthetic robust twin is clearly less over-confident
    fig = difference.figure_differences(table)
    assert [len(ax.containers) for ax in fig.axes] == [2, 2, 2]
    assert all(ax.get_legend() is None for ax in fig.axes) and len(fig.legends) == 1  # below the panels


def test_save_figure_writes_png_and_svg(run: RunData, tmp_path: Path) -> None:
    png, svg = save_figure(scatter.figure_confidence_scatter(run), tmp_path, "fig1")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = svg.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text and "<text" not in text  # glyphs as paths


def all_figures(run: RunData) -> list:
    pairs = expected_pairs(run.manifest, run.models)
    groups = density.density_groups(run)
    return [scatter.figure_confidence_scatter(run), bars.figure_overconfidence_bars(run),
            roc.figure_misclassification_roc(run), roc.figure_detection_roc(run),
            density.figure_densities(run, groups[0][2], groups[0][1]), reliability.figure_reliability(run, "synthetic"),
            difference.figure_differences(difference.pair_differences(run, *pair_comparisons(run, pairs, n_resamples=50), pairs))]


def test_figures_are_readable_at_their_saved_size(run: RunData) -> None:
    """Text ≥ 8 pt; no legend overlaps a panel's data area; Fig. 1 has colour bars for its accuracy shading."""
    for fig in all_figures(run):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        texts = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        assert texts and min(t.get_fontsize() for t in texts) >= 8.0
        panels = visible_axes(fig)
        legends = [*fig.legends, *(ax.get_legend() for ax in fig.axes if ax.get_legend() is not None)]
        for legend in legends:
            box = legend.get_window_extent(renderer)
            for ax in panels:
                assert not box.overlaps(ax.get_window_extent(renderer)), ax.get_title()
    scatter_fig = all_figures(run)[0]
    bars_ = [ax for ax in scatter_fig.axes if ax.get_label() == "<colorbar>"]
    assert sorted(ax.get_ylabel() for ax in bars_) == ["accuracy, normal", "accuracy, robust"]


def test_missing_models_are_named_in_the_panel(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=("relu-maxpool",), n=60, perturbations={"clean": ("clean", 1.0, 0.8)})
    run = load_run(out)
    for fig in (scatter.figure_confidence_scatter(run), bars.figure_overconfidence_bars(run),
                roc.figure_misclassification_roc(run)):
        title = visible_axes(fig)[0].get_title()
        assert "relu-maxpool-normal" in title and "not shown" in title, title


def test_panel_titles_use_the_papers_names() -> None:
    assert [panel_title(p, "cifar10") for p in ("clean", "pgd:steps=20", "square:n_queries=200", "corruptions")] == [
        "Clean", "PGD", "Squares", "CIFAR-10-C (corruptions)"]
    assert budgets(["clean", "pgd:steps=20", "square:n_queries=200"], 8 / 255) == (
        "Attack budgets: PGD: steps=20; Squares: n_queries=200; ε = 0.03137.")


def test_ood_figure_one_bar_per_model_per_ood_set(out: Path) -> None:
    from overconf.metrics import summary_table
    from overconf.report.figures.ood import figure_ood_auroc
    from overconf.store.parquet import read_records

    summary = summary_table(read_records(out))
    fig = figure_ood_auroc(summary)
    assert fig is not None and len(fig.axes) == 1 and fig.axes[0].get_title() == "ood-uniform"
    heights = sorted(round(p.get_height(), 9) for p in fig.axes[0].patches)
    expected = summary[summary["family"] == "ood"]["ood_auroc"]
    assert heights == sorted(round(v, 9) for v in expected) and len(heights) == 4
    assert figure_ood_auroc(summary[summary["family"] != "ood"]) is None


def test_each_figure_is_also_a_pdf_at_one_and_two_column_width(run: RunData, tmp_path: Path) -> None:
    import re

    from matplotlib.text import Text

    fig = bars.figure_overconfidence_bars(run)
    size = tuple(fig.get_size_inches())
    save_figure(fig, tmp_path, "fig2")
    for tag, points in (("1col", 3.25 * 72), ("2col", 6.75 * 72)):
        data = (tmp_path / f"fig2-{tag}.pdf").read_bytes()
        assert data[:5] == b"%PDF-"
        box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", data)
        assert box is not None and float(box.group(1)) == pytest.approx(points, abs=0.5)
    assert tuple(fig.get_size_inches()) == size  # restored
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
    assert sizes and min(sizes) >= 7.0  # points: the same at any print width


def test_roc_band_and_auroc_spread_are_sample_standard_deviations() -> None:
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    curves = [np.full(roc.FPR_GRID.size, 0.2), np.full(roc.FPR_GRID.size, 0.6)]
    roc.draw_mean_std(ax, curves, [0.7, 0.9], robust=True)
    label = ax.get_lines()[0].get_label()
    assert "AUC 0.800 ± 0.141" in label  # ddof = 1: 0.1414; the population SD would be 0.100
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.max() == pytest.approx(0.4 + np.std([0.2, 0.6], ddof=1))
    single = Figure().subplots()
    roc.draw_mean_std(single, curves[:1], [0.7], robust=False)
    assert "one model: no SD" in single.get_lines()[0].get_label()


def test_density_is_bounded_to_the_support_of_a_confidence() -> None:
    values = np.random.default_rng(0).uniform(0.1, 0.4, 400)  # K = 10: a confidence is at least 0.1
    curve = density.kde_curve(values, lower=0.1)
    assert curve is not None and np.all(curve[density.KDE_GRID < 0.1] == 0)
    inside = density.KDE_GRID >= 0.1
    assert float(np.trapezoid(curve[inside], density.KDE_GRID[inside])) == pytest.approx(1.0, abs=0.03)


def test_reliability_diagrams_show_per_bin_counts(run: RunData) -> None:
    fig = reliability.figure_reliability(run, "synthetic")
    ax = fig.axes[0]
    conf, _ = run.arrays(run.model_names("synthetic")[0], run.panels_of("synthetic")[0], "synthetic")
    counts = [int(t.get_text()) for t in ax.texts if t.get_text().isdigit()]
    assert sum(counts) == conf.size and len(counts) >= 2
