"""The report's steps spread over worker processes: the summary one model per task, the bootstrap intervals
one pair per task, the figures one figure per task (each task reads only the record files it needs, one cell
or one panel at a time).

Workers are started with ``spawn`` (no state shared with the parent but the :class:`RunData` sent once at
start); with ``workers = 1`` everything runs in this process. Results come back in the serial order, so the
tables do not depend on the number of workers.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from overconf.errors import ConfigError
from overconf.metrics.summary import GROUP_KEYS, held_out_temperature, summary_frame, summary_row
from overconf.report.comparisons import (
    COMPARISON_COLUMNS,
    Pair,
    one_pair_comparisons,
    pair_calibrated,
    pair_tasks,
)
from overconf.report.load import RunData
from overconf.store.layout import slug

SUMMARY_COLUMNS_READ = ["model", "pair", "robust", "dataset", "perturbation", "family", "index", "label",
                        "confidence", "correct", "logits"]


def model_summary_rows(run: RunData, model: str, n_bins: int = 15) -> list[dict[str, object]]:
    """The summary rows of one model: its clean cell is read once (temperature, detection and OOD references),
    then each other cell in turn."""
    clean = run.read(model, "clean", SUMMARY_COLUMNS_READ)
    temperature = held_out_temperature(clean)
    rows = [] if clean is None else [summary_row(clean, clean, temperature, n_bins)]
    for f in run.files_of(model):
        if f.perturbation != "clean":
            group = run.read(model, f.perturbation, SUMMARY_COLUMNS_READ)
            if group is not None:
                rows.append(summary_row(group, clean, temperature, n_bins))
    return rows


def sorted_rows(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Rows in :func:`overconf.metrics.summary_table`'s order (sorted by its group keys)."""
    return sorted(rows, key=lambda r: tuple(str(r[k]) if k != "robust" else bool(r[k]) for k in GROUP_KEYS))


_RUN: RunData | None = None
"""The run a worker process serves (set once by :func:`_start`)."""


def _start(run: RunData) -> None:
    global _RUN
    _RUN = run


def _run() -> RunData:
    if _RUN is None:  # pragma: no cover - only reachable if a task runs outside a pool started here
        raise RuntimeError("report worker started without a run")
    return _RUN


def check_workers(workers: int) -> int:
    """``workers`` if it is a whole number in [1, 4 × cores], else a :class:`ConfigError`."""
    limit = 4 * (os.cpu_count() or 1)
    if not isinstance(workers, int) or isinstance(workers, bool) or not 1 <= workers <= limit:
        raise ConfigError(f"--workers={workers!r}: must be a whole number from 1 to {limit} (4 × the cores)",
                          hint="use about one worker per core")
    return workers


@contextmanager
def workers_pool(workers: int, run: RunData) -> Iterator[Executor | None]:
    """A process pool of ``workers`` processes serving ``run`` (``None`` for one worker: run here)."""
    if check_workers(workers) == 1:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start, initargs=(run,)) as pool:
        yield pool


def _summary_task(model: str) -> list[dict[str, object]]:
    return model_summary_rows(_run(), model)


def summarise(run: RunData, pool: Executor | None) -> pd.DataFrame:
    """The run's summary table (:func:`overconf.report.tables.compute_summary`), one model per task."""
    models = [str(m) for m in run.models["model"]]
    parts = pool.map(_summary_task, models) if pool is not None else (model_summary_rows(run, m) for m in models)
    return summary_frame(sorted_rows([row for rows in parts for row in rows]), has_logits=True)


def _pair_task(task: tuple[Pair, list[tuple[str, str]], int, int, pd.DataFrame]) -> tuple[list[Any], list[Any]]:
    pair, labels, n_resamples, seed, scaled = task
    return one_pair_comparisons(_run(), pair, labels, n_resamples, seed, scaled)


def intervals(run: RunData, pairs: list[Pair], n_resamples: int, scaled: pd.DataFrame,
              pool: Executor | None, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`overconf.report.comparisons.pair_comparisons`, one pair per task (each sent only its own calibrated rows)."""
    tasks = [(pair, labels, n_resamples, seed, pair_calibrated(scaled, pair))
             for _, pair, labels in pair_tasks(run, pairs)]
    if pool is None:
        parts: Any = (one_pair_comparisons(run, *task) for task in tasks)
    else:
        parts = pool.map(_pair_task, tasks)
    rows: list[Any] = []
    pooled: list[Any] = []
    for comparison_rows, pooled_rows in parts:
        rows += comparison_rows
        pooled += pooled_rows
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS), pd.DataFrame(pooled, columns=COMPARISON_COLUMNS)


@dataclass(frozen=True)
class FigureJob:
    """One figure: ``draw(run, *args)`` (or ``draw(*args)`` when not ``with_run``) returns it or ``None``; it is
    saved as ``<figures>/<slug(name)>.png|.svg`` and shown under ``title`` with ``caption``."""

    draw: Callable[..., Any]
    args: tuple[Any, ...]
    name: str
    title: str
    caption: str
    with_run: bool = True


def _draw(job: FigureJob, figures_dir: Path, run: RunData) -> tuple[Path, Path] | None:
    from overconf.report.figures.common import save_figure  # lazy: start-up time (matplotlib)

    fig = job.draw(run, *job.args) if job.with_run else job.draw(*job.args)
    return None if fig is None else save_figure(fig, figures_dir, slug(job.name))


def _figure_task(task: tuple[FigureJob, Path]) -> tuple[Path, Path] | None:
    return _draw(task[0], task[1], _run())


def draw_figures(jobs: list[FigureJob], figures_dir: Path, run: RunData,
                 pool: Executor | None) -> list[tuple[FigureJob, tuple[Path, Path]]]:
    """Draw and save every figure (in ``pool``'s processes when given); ``(job, (png, svg))`` of those drawn,
    in the jobs' order."""
    if pool is None:
        saved: Any = (_draw(job, figures_dir, run) for job in jobs)
    else:
        saved = pool.map(_figure_task, [(job, figures_dir) for job in jobs])
    return [(job, paths) for job, paths in zip(jobs, saved) if paths is not None]
