"""The one resume loop: compare every cell with what its record file says, compute what is missing, claiming
each cell before computing it. Every back end (:mod:`overconf.run.backends`) runs it.

A cell is *done* when its record file exists and the configuration stored in it equals the requested one;
*differing* when the file holds another configuration (refused, naming the differing keys, unless
``overwrite``); *todo* otherwise. Record files are written atomically (:func:`overconf.files.write_atomic`), so
a killed process leaves only complete files; claims (:mod:`overconf.run.locks`) keep concurrent processes apart,
and a killed process's claims are released by the kernel.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pyarrow import ArrowException
from rich.console import Console
from rich.markup import escape

from overconf.errors import ConfigError, DataError, RecordError
from overconf.evaluation.engine import engine_settings, evaluate
from overconf.files import remove_stale_temporary
from overconf.run.failures import ModelFailure, model_failure_line
from overconf.run.locks import claim
from overconf.run.models import GridModel
from overconf.run.plan import Cell, Plan
from overconf.run.progress import RunProgress, rate_key, record_rate
from overconf.store.identity import differing_keys, provenance
from overconf.store.integrity import changed_hint, changed_records
from overconf.store.parquet import read_cell, write_records
from overconf.store.run_json import read_manifest

console = Console(stderr=True)


def cell_state(cell: Cell, out: Path) -> tuple[str, list[str]]:
    """``("todo" | "done" | "differs" | "damaged", differing keys or why)`` of a cell against its record file."""
    path = cell.path(out)
    if not path.is_file():
        return "todo", []
    try:
        stored = read_cell(path)
    except (OSError, ValueError, ArrowException) as exc:  # truncated, not Parquet, metadata not JSON
        return "damaged", [f"not a readable record file ({type(exc).__name__}: {str(exc)[:160]})"]
    keys = differing_keys((stored or {}).get("config"), cell.config)
    return ("done", []) if not keys else ("differs", keys)


def _check_damage(plan: Plan, out: Path, overwrite: bool, done: list[Cell], pending: list[Cell]) -> None:
    """Done cells whose record file changed since run.json recorded its SHA-256 are refused naming the file
    (``overwrite``: recomputed)."""
    try:
        manifest = read_manifest(out)
    except RecordError:
        return  # rebuilt: nothing recorded to compare with
    by_path = {c.path(out): c for c in done}
    for path, why in changed_records(out, list(by_path), manifest):
        if not overwrite:
            raise RecordError(f"{path}: {why}", hint=f"pass --overwrite to recompute it; {changed_hint(path)}")
        done.remove(by_path[path])
        pending.append(by_path[path])


def check_cells(plan: Plan, out: Path, overwrite: bool) -> tuple[list[Cell], list[Cell], list[tuple[Cell, list[str]]]]:
    """(done, pending, differing); differing cells are refused unless ``overwrite`` (then they are pending),
    and so are damaged record files and files whose content changed since run.json recorded them."""
    done, pending, differing = [], [], []
    for cell in plan.cells:
        state, keys = cell_state(cell, out)
        if state == "damaged" and not overwrite:
            raise RecordError(f"{cell.path(out)}: {keys[0]}",
                              hint="pass --overwrite to recompute it, or delete it and rerun")
        if state == "done":
            done.append(cell)
        else:
            pending.append(cell)
            if state == "differs":
                differing.append((cell, keys))
    _check_damage(plan, out, overwrite, done, pending)
    if differing and not overwrite:
        cell, keys = differing[0]
        shown = ", ".join(keys[:6]) + (f" and {len(keys) - 6} more" if len(keys) > 6 else "")
        raise ConfigError(
            f"{out} holds a different {plan.name} run: {len(differing)} cell(s) were computed with another "
            f"configuration (e.g. {cell.path(out)}: {cell.name} differs in {shown})",
            hint="choose another --out, or pass --overwrite to replace those cells",
        )
    return done, pending, differing


def compute_cell(model: Any, cell: Cell, out: Path, plan: Plan, progress: bool) -> Path:
    """Evaluate one cell and write its records with its configuration and provenance (atomically); the
    provenance holds the engine settings actually used (threads, workers, the resolved batch size, ...)."""
    data = cell.data()
    start = time.perf_counter()
    try:
        table = evaluate(model, cell.model.info, data, cell.perturbation.perturbation, **plan.engine, seed=plan.seed,
                         progress=progress)
    except (DataError, KeyboardInterrupt):  # the data's fault (every model would meet it), or the user's stop
        raise
    except Exception as exc:
        raise ModelFailure(cell.name, exc, data) from exc
    seconds = time.perf_counter() - start
    device = str(plan.engine["device"])
    path = write_records(out, table, {"config": cell.config, "provenance": provenance(engine_settings(table) or {})})
    record_rate(rate_key(cell.config["data"]["dataset"], cell.perturbation.label, device), len(data), seconds)
    return path


def _finished(cell: Cell, out: Path) -> bool:
    return cell_state(cell, out)[0] == "done"


def run_model_cells(plan: Plan, model: GridModel, cells: Sequence[Cell], out: Path,
                    tracker: RunProgress | None = None, progress: bool = True,
                    failed: list[tuple[str, str]] | None = None) -> list[Path]:
    """The resume loop for one model: claim each cell, skip it if done meanwhile, compute it otherwise.
    Any exception while loading, building or running the model (:class:`~overconf.run.failures.ModelFailure`)
    stops this model only: one line naming model, cell, exception type and message is printed and appended to
    ``failed``, the full traceback is appended to ``<out>/logs/<model>.log``.

    Cells claimed by another process are taken up again at the end (waiting for their claim): if that
    process finished them they are skipped, if it died they are computed here.
    """
    loaded: list[Any] = []
    written: list[Path] = []

    def get_model(cell: Cell) -> Any:
        if not loaded:
            try:
                loaded.append(model.load())
            except (DataError, KeyboardInterrupt):
                raise
            except Exception as exc:
                raise ModelFailure(cell.name, exc) from exc
        return loaded[0]

    deferred: list[Cell] = []
    try:
        for wait, queue in ((False, list(cells)), (True, deferred)):
            for cell in queue:
                with claim(out, model.info.model, cell.perturbation.label, wait=wait) as held:
                    if not held:
                        deferred.append(cell)
                        continue
                    path = cell.path(out)  # a killed writer of this cell may have left its temporary file
                    remove_stale_temporary(path.parent, path.name)
                    if _finished(cell, out):
                        continue
                    start = time.perf_counter()
                    written.append(compute_cell(get_model(cell), cell, out, plan, progress))
                    if tracker is not None:
                        tracker.cell_done(cell.name, time.perf_counter() - start)
    except ModelFailure as failure:  # this model cannot run: stop it, go on with the other models
        line = model_failure_line(model.info.model, failure, out)
        console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)
        if failed is not None:
            failed.append((model.info.model, line))
    return written
