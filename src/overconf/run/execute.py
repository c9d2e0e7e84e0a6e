"""The one resume loop: compare every cell with what its record file says, compute what is missing, claim
each cell before computing it, write ``run.json``; the back end decides where models run.

A cell is *done* when its record file exists and the configuration stored in it equals the requested one;
*differing* when the file holds another configuration (refused, naming the differing keys, unless
``overwrite``); *todo* otherwise. Record files are written atomically (:func:`overconf.store.parquet.
write_atomic`), so a killed process leaves only complete files; claims (:mod:`overconf.run.locks`) keep
concurrent processes apart, and a killed process's claims are released by the kernel.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pyarrow import ArrowException
from rich.console import Console
from rich.markup import escape

from overconf.errors import ConfigError, DataError, RecordError
from overconf.run.failures import ModelFailure, model_failure_line
from overconf.run.identity import differing_keys, git_commit, overconf_version, provenance
from overconf.run.locks import claim
from overconf.run.manifest import MANIFEST, environment_versions, read_manifest, write_manifest
from overconf.run.plan import Cell, Plan, PlanModel
from overconf.run.progress import RunProgress, rate_key, read_rates, record_rate, rough_rate
from overconf.store.integrity import RECORD_HASHES, record_hashes, remove_stale_temporary
from overconf.store.parquet import read_cell, write_records

console = Console(stderr=True)
BACKENDS = ("local", "ray")


@dataclass
class RunResult:
    """What a run did: its folder, models, pairs skipped (with why), record files written, report, and the
    models that failed (``(model, error)``: their output was unusable, their remaining cells not computed)."""

    out: Path
    models: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    done_before: int = 0
    report: Path | None = None
    failed: list[tuple[str, str]] = field(default_factory=list)

    def failure_summary(self) -> str | None:
        """One line naming the failed models, or None when every model ran."""
        if not self.failed:
            return None
        names = ", ".join(dict.fromkeys(model for model, _ in self.failed))
        count = len(dict.fromkeys(model for model, _ in self.failed))
        return (f"{count} of {len(self.models)} models failed and have cells missing: {names} "
                "(the error lines above say why)")


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


def previous_manifest(out: Path, quiet: bool = False) -> dict[str, Any]:
    """The run.json a run adds to; a damaged one is reported (unless ``quiet``) and rebuilt (from the spec and
    the record files' own metadata), never trusted."""
    try:
        return read_manifest(out)
    except RecordError as exc:
        if not quiet:
                console.print(f"[yellow]warning:[/] {escape(exc.message)}; rebuilding it from the spec and the record "
                          "files", highlight=False, soft_wrap=True)
        return {}


def _check_damage(plan: Plan, out: Path, overwrite: bool, done: list[Cell], pending: list[Cell]) -> None:
    """Done cells whose record file changed since run.json recorded its SHA-256 are refused naming the file
    (``overwrite``: recomputed)."""
    from overconf.store.integrity import changed_hint, changed_records

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
    from overconf.evaluation.engine import engine_settings, evaluate

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


def run_model_cells(plan: Plan, model: PlanModel, cells: Sequence[Cell], out: Path,
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


def _engine_used(cell: Cell, out: Path) -> dict[str, Any] | None:
    """The engine settings a cell's record file was computed with (``None`` while it is not computed)."""
    path = cell.path(out)
    if not path.is_file():
        return None
    try:
        engine: dict[str, Any] | None = ((read_cell(path) or {}).get("provenance") or {}).get("engine")
    except (OSError, ValueError):  # an unreadable file is reported where records are read
        return None
    return engine


def build_manifest(plan: Plan, out: Path, command: str, pending: Sequence[Cell] = ()) -> dict[str, Any]:
    """``run.json``: the run's command, configuration, versions, data, models and every cell's configuration;
    the SHA-256 of every record file but those of ``pending`` cells (about to be written or replaced)."""
    previous = previous_manifest(out, quiet=True)
    pending_ids = {id(c) for c in pending}
    old_models = {m.get("model"): m for m in previous.get("models", [])}
    models = []
    for model in plan.models:
        entry = model.entry()
        old = old_models.get(model.info.model, {})
        models.append({**old, **{k: v for k, v in entry.items() if v is not None or k not in old}})
    cells = [{"model": c.model.info.model, "perturbation": c.perturbation.label,
              "file": str(c.path(out).relative_to(out)), "config": c.config, "engine": _engine_used(c, out)}
             for c in plan.cells]
    versions = {**environment_versions(), "overconf": overconf_version(), "git_commit": git_commit() or "unknown"}
    return {
        "command": command,
        "created": previous.get("created") or datetime.now(UTC).isoformat(timespec="seconds"),
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "overconf_version": overconf_version(),
        "git_commit": git_commit(),
        "config": {**plan.config, "skipped": [{"robust": r, "missing": p} for r, p in plan.skipped]},
        "seed": plan.seed,
        "versions": versions,
        "data": plan.data,
        "models": models,
        "perturbations": plan.perturbations,
        "cells": cells,
        RECORD_HASHES: record_hashes(out, [c.path(out) for c in plan.cells if id(c) not in pending_ids], previous,
                                     exclude=[c.path(out) for c in pending]),
    }


def estimate_seconds(cells: Sequence[Cell], device: str) -> tuple[float, bool]:
    """(seconds, measured?) for ``cells``: measured throughput on this machine where known, else rough rates."""
    rates = read_rates()
    total, measured = 0.0, True
    for cell in cells:
        key = rate_key(cell.config["data"]["dataset"], cell.perturbation.label, device)
        rate = rates.get(key)
        if rate is None:
            measured = False
            rate = rough_rate(cell.perturbation.family, cell.config["perturbation"])
        total += cell.config["data"]["n_examples"] / rate
    return total, measured


def print_dry_run(plan: Plan, out: Path, done: Sequence[Cell], pending: Sequence[Cell],
                  differing: Sequence[tuple[Cell, list[str]]]) -> None:
    """The grid (models × cells), which cells are done, and an estimated cost; nothing is written."""
    done_names = {c.name for c in done}
    differ = {c.name: keys for c, keys in differing}
    print(f"dry run: {out} · {len(plan.models)} models × {len(plan.perturbations)} perturbations = "
          f"{len(plan.cells)} cells; {len(done)} done, {len(pending)} to compute"
          + (f" ({len(differ)} replacing cells of another configuration)" if differ else ""))
    for model, reason in plan.skipped:
        print(f"  skipped {model}: {reason}")
    for cell in plan.cells:
        state = "done" if cell.name in done_names else ("REPLACE" if cell.name in differ else "todo")
        extra = f" (differs in {', '.join(differ[cell.name][:4])})" if cell.name in differ else ""
        print(f"  {state:<7} {cell.model.info.model:<32} {cell.perturbation.label:<28} "
              f"n={cell.config['data']['n_examples']}{extra}")
    device = str(plan.engine["device"])
    seconds, measured = estimate_seconds(pending, device)
    how = (f"from throughput measured on this machine ({device})" if measured else
           "from rough rates (small CNN on 2 CPU cores: 2,000 samples/s clean and OOD, 500/s corruptions, "
           "attacks 2,000/s divided by steps or queries/10; nothing measured here yet)")
    print(f"estimated cost: {seconds / 60:.1f} min {how}")


def check_out(out: Path, overwrite: bool) -> None:
    """Refuse a run folder that would scatter results where they do not belong: a file system root, the
    home folder, a file, or a non-empty folder that is not a run (no run.json, no records/) unless
    ``overwrite``."""
    resolved = Path(out).expanduser().resolve()
    if resolved == Path(resolved.anchor) or resolved == Path.home().resolve():
        raise ConfigError(f"out = {out} is {'a file system root' if resolved == Path(resolved.anchor) else 'your home folder'}",
                          hint="give a run folder of its own, e.g. --out runs/mine")
    if resolved.exists() and not resolved.is_dir():
        raise ConfigError(f"out = {out} is a file, not a folder", hint="give a run folder, e.g. --out runs/mine")
    if overwrite or not resolved.is_dir():
        return
    if (resolved / MANIFEST).exists() or (resolved / "records").is_dir():
        return
    entries = sorted(p.name for p in resolved.iterdir() if not p.name.startswith(".") and p.name != "logs")
    if entries:
        raise ConfigError(f"out = {out} is a folder that is not a run and holds {len(entries)} entries "
                          f"(e.g. {entries[0]})", hint="give an empty or new folder, or pass --overwrite to write there")


def execute(plan: Plan, out: Path, *, command: str, overwrite: bool = False, backend: str = "local",
            address: str | None = None, dry_run: bool = False, progress: bool = True) -> RunResult:
    """Run ``plan`` into ``out`` (see the module docstring); ``dry_run`` prints the plan and writes nothing."""
    if backend not in BACKENDS:
        raise ConfigError(f"unknown backend {backend!r}", hint=f"choose one of {', '.join(BACKENDS)}")
    out = Path(out)
    check_out(out, overwrite)
    if backend == "ray" and not dry_run:  # an address that does not answer is said before anything is written
        from overconf.run.ray_backend import check_address

        check_address(address)
    previous_manifest(out)  # a damaged run.json is said before any cell is computed
    done, pending, differing = check_cells(plan, out, overwrite)
    result = RunResult(out, [m.info.model for m in plan.models], list(plan.skipped), [], len(done))
    if dry_run:
        print_dry_run(plan, out, done, pending, differing)
        return result
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob(f".{MANIFEST}.*.tmp"):  # a killed writer's run.json (written in milliseconds)
        if time.time() - stale.stat().st_mtime > 60:
            stale.unlink(missing_ok=True)
    # run.json is written once, at the end, unless it must be written first: a new run's identity, or cells about
    # to be replaced (their old files' hashes must go before a kill can leave a new file under an old hash)
    replacing = any(c.path(out).exists() for c in pending)
    if not pending or replacing or not (out / MANIFEST).is_file():
        write_manifest(out, build_manifest(plan, out, command, pending))
    if pending:
        if backend == "ray":
            from overconf.run.ray_backend import run_on_ray

            result.written = run_on_ray(plan, pending, out, address=address, progress=progress, failed=result.failed)
        else:
            tracker = RunProgress(len(plan.cells), len(done), enabled=progress)
            try:
                for model in plan.models:
                    cells = [c for c in pending if c.model is model]
                    if cells:
                        result.written += run_model_cells(plan, model, cells, out, tracker, progress, result.failed)
            finally:
                tracker.close()
        write_manifest(out, build_manifest(plan, out, command))
    return result
