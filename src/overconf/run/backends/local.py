"""``--backend local``: the pending cells computed in this process, one model after another."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from overconf.run.plan import Cell, Plan
from overconf.run.progress import RunProgress
from overconf.run.resume import run_model_cells


def run_local(plan: Plan, pending: Sequence[Cell], out: Path, *, progress: bool = True,
              failed: list[tuple[str, str]] | None = None) -> list[Path]:
    """Compute ``pending`` model by model (each model loaded once, only if it has a pending cell); return the
    record files written (failed models are appended to ``failed``)."""
    written: list[Path] = []
    tracker = RunProgress(len(plan.cells), len(plan.cells) - len(pending), enabled=progress)
    try:
        for model in plan.models:
            cells = [c for c in pending if c.model is model]
            if cells:
                written += run_model_cells(plan, model, cells, out, tracker, progress, failed)
    finally:
        tracker.close()
    return written
