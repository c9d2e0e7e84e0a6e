"""The report reads one record file at a time: the streamed summary equals the in-memory one, the per-cell
cache stays within its budget, worker processes give the serial tables, and figures stay bounded in size."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from synthetic_run import make_synthetic_run

from overconf.errors import ConfigError
from overconf.metrics import summary_table
from overconf.report.build import analyse, build_report, figure_jobs
from overconf.report.figures import density, reliability
from overconf.report.figures.common import PNG_DPI
from overconf.report.load import RunData, _CellCache, load_run
from overconf.report.parallel import check_workers
from overconf.report.tables import compute_summary
from overconf.store.parquet import read_records
from overconf.store.query import query_records


def test_streamed_summary_equals_the_in_memory_summary(out: Path, run: RunData) -> None:
    streamed = compute_summary(run)
    whole = summary_table(read_records(out))
    assert list(streamed.columns) == list(whole.columns)
    keys = ["model", "perturbation"]
    assert streamed[keys].astype(str).values.tolist() == whole[keys].astype(str).values.tolist()
    numeric = [c for c in whole.columns if pd.api.types.is_float_dtype(whole[c])]
    np.testing.assert_allclose(streamed[numeric].to_numpy(float), whole[numeric].to_numpy(float), rtol=1e-9,
                               equal_nan=True)


def test_read_records_dictionary_encodes_strings(out: Path) -> None:
    records = read_records(out, ["model", "perturbation", "confidence"])
    assert all(isinstance(records[c].dtype, pd.CategoricalDtype) for c in ("model", "perturbation"))


def test_cell_cache_keeps_within_its_budget(run: RunData) -> None:
    one = run.files[0]
    size = sum(a.nbytes for a in _CellCache().get(one.path))
    cache = _CellCache(budget=2 * size)
    for f in run.files:
        cache.get(f.path)
        assert cache.size <= max(2 * size, max(sum(a.nbytes for a in v) for v in cache.items.values()))
    assert len(cache.items) <= 2
    confidence = run.arrays(one.model, "clean")[0]
    assert confidence.size == one.rows  # reads after eviction give the records again


@pytest.mark.slow  # ~40 s on 2 idle cores: a whole report built serially and with workers
def test_workers_give_the_serial_tables_and_figures(out: Path, tmp_path: Path) -> None:
    serial = analyse(out, n_resamples=50)
    parallel = analyse(out, n_resamples=50, workers=2)
    pd.testing.assert_frame_equal(serial.summary, parallel.summary, check_exact=False, rtol=1e-12)
    pd.testing.assert_frame_equal(serial.comparisons, parallel.comparisons, check_exact=False, rtol=1e-12)
    names = {}
    for workers in (1, 2):
        copy = tmp_path / f"run{workers}"
        shutil.copytree(out, copy, ignore=shutil.ignore_patterns("report"))
        page = build_report(copy, n_resamples=50, workers=workers).read_text()
        names[workers] = sorted(p.name for p in (copy / "report" / "figures").iterdir())
        shown = [name for name in names[workers] if name.endswith((".png", ".svg"))]
        assert all(f'<figure id="{Path(name).stem}"' in page for name in shown)
    # each as PNG and SVG, and as PDFs at one- and two-column width
    assert names[1] == names[2] and len(names[2]) == 4 * len(figure_jobs(serial))


@pytest.mark.parametrize("workers", [0, -1, 10_000])
def test_workers_out_of_range_is_a_config_error(workers: int) -> None:
    with pytest.raises(ConfigError, match="--workers"):
        check_workers(workers)


def test_reliability_figure_is_paged_and_bounded(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=[f"relu-p{k}" for k in range(7)], n=40,
                             perturbations={"clean": ("clean", 0.9, 0.8)}, accuracy_step=0.01)
    run = load_run(out)
    pages = reliability.reliability_pages(run, "synthetic")
    assert [len(p) for p in pages] == [12, 2]
    assert [m for page in pages for m in page] == run.model_names("synthetic")
    fig = reliability.figure_reliability(run, "synthetic", pages[0])
    assert fig.get_figheight() * PNG_DPI < 16_000
    assert len([ax for ax in fig.axes if ax.get_ylabel()]) == 12
    # the 7 normal models differ only in downsampling: Fig. 6 alone would have 7 rows; 12 per page at most
    fig6 = [(name, models) for name, _, models in density.density_groups(run) if name.startswith("fig6")]
    assert [len(models) for _, models in fig6] == [7] and fig6[0][0] == "fig6_density_synthetic_downsampling"


def test_density_figure_of_many_models_is_paged(tmp_path: Path) -> None:
    out = make_synthetic_run(tmp_path, pairs=[f"relu-p{k:02d}" for k in range(14)], n=20,
                             perturbations={"clean": ("clean", 0.9, 0.8)}, accuracy_step=0.01)
    fig6 = [(name, models) for name, _, models in density.density_groups(load_run(out)) if name.startswith("fig6")]
    assert [len(models) for _, models in fig6] == [12, 2]
    assert [name for name, _ in fig6] == ["fig6_density_synthetic_p1_downsampling", "fig6_density_synthetic_p2_downsampling"]


def test_query_reads_files_in_place_even_with_quotes_in_the_path(out: Path, tmp_path: Path) -> None:
    quoted = tmp_path / "it's a run"
    quoted.symlink_to(out, target_is_directory=True)
    table = query_records([quoted], "SELECT run, count(*) AS n FROM records GROUP BY run")
    assert table["run"].tolist() == [str(quoted)] and int(table["n"].iloc[0]) == len(read_records(out, ["index"]))
