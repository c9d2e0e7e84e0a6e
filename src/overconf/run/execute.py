"""Run a plan into a run folder: check the folder and every cell (:mod:`overconf.run.resume`), print the plan
(``dry_run``) or hand the pending cells to one back end (:mod:`overconf.run.backends`: ``local`` or ``ray``),
and write ``run.json`` (:mod:`overconf.store.run_json`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.markup import escape

from overconf.errors import ConfigError, RecordError
from overconf.run.backends.local import run_local
from overconf.run.backends.ray import check_address, run_on_ray
from overconf.run.plan import Cell, Plan
from overconf.run.progress import rate_key, read_rates, rough_rate
from overconf.run.resume import check_cells, console
from overconf.store.integrity import RECORD_HASHES, record_hashes
from overconf.store.parquet import read_cell
from overconf.store.run_json import MANIFEST, environment_versions, read_manifest, write_manifest
from overconf.version import __version__, git_commit

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
    versions = {**environment_versions(), "overconf": __version__, "git_commit": git_commit() or "unknown"}
    return {
        "command": command,
        "created": previous.get("created") or datetime.now(UTC).isoformat(timespec="seconds"),
        "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        "overconf_version": __version__,
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
            result.written = run_on_ray(plan, pending, out, address=address, progress=progress, failed=result.failed)
        else:
            result.written = run_local(plan, pending, out, progress=progress, failed=result.failed)
        write_manifest(out, build_manifest(plan, out, command))
    return result
