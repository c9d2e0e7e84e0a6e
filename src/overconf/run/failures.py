"""A model that cannot run: the exception of one model's loading, building or forward pass, kept apart from
the run so that the other models complete (:func:`overconf.run.resume.run_model_cells`).

The user sees one line naming the model, the cell, the exception type and its message (shape mismatches
between data and model said in words, :func:`explain_shape_error`); the full traceback is appended to
``<out>/logs/<model>.log``.
"""

from __future__ import annotations

import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from overconf.errors import OverconfError
from overconf.evaluation.shapes import explain_shape_error
from overconf.store.layout import slug

LOGS = "logs"

class ModelFailure(Exception):
    """``exc`` raised by one model in ``cell`` (``"model · perturbation"``); ``data``: the cell's data set
    (for saying what a shape mismatch means), when it was loaded."""

    def __init__(self, cell: str, exc: BaseException, data: Any = None) -> None:
        super().__init__(f"{cell}: {type(exc).__name__}: {exc}")
        self.cell, self.exc, self.data = cell, exc, data


def log_path(out: Path, model: str) -> Path:
    return Path(out) / LOGS / f"{slug(model)}.log"


def model_failure_line(model: str, failure: ModelFailure, out: Path) -> str:
    """Append ``failure``'s traceback to the model's log; the one line that says what failed and where."""
    exc = failure.exc
    path = log_path(out, model)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat(timespec='seconds')} {failure.cell}\n")
            log.write("".join(traceback.format_exception(exc)))
        where = f"traceback in {path}"
    except OSError as error:  # the traceback is a help, not a result: never let it hide the failure
        where = f"traceback not written: {error.strerror or error}"
    if isinstance(exc, OverconfError):
        text = f"{type(exc).__name__}: {exc.message}" + (f" (hint: {exc.hint})" if exc.hint else "")
    else:
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        explained = explain_shape_error(exc, failure.data)
        text = f"{type(exc).__name__}: {first}" + (f" ({explained})" if explained else "")
    return f"{failure.cell} failed: {text}; its remaining cells are skipped ({where})"
