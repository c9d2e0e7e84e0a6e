"""Record files checked on read: a file that is damaged, misplaced or inconsistent stops the read with one
line naming the file and the rule it breaks (never a traceback, never a silently wrong summary).

Rules, per ``records/<model>/<perturbation>.parquet`` (all vectorised; only the logits are spot-checked):

1. it is a readable Parquet file with at least one row;
2. schema: every column of :data:`overconf.evaluation.records.RECORD_SCHEMA` with its type;
3. one model and one perturbation, and they are the ones its path names (``slug(model)/slug(perturbation)``);
   one pair, data set, ``robust`` flag and family;
4. no null, ``family`` one of :data:`~overconf.evaluation.records.FAMILIES`, ``index`` unique;
5. ``correct == (prediction == label)``, ``label >= -1``, ``prediction >= 0``;
6. ``confidence`` finite and in [0, 1];
7. on the first :data:`SPOT_CHECK_ROWS` rows: logits finite, ``prediction`` an arg-max of the logits and
   ``confidence`` = max softmax of the logits (float64) within :data:`CONFIDENCE_TOLERANCE`.

Rule 3 puts each (model, perturbation) in one file, so with rule 4 ``(model, perturbation, index)`` is
unique across the run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from overconf.errors import RecordError
from overconf.evaluation.records import RECORD_SCHEMA
from overconf.store.layout import slug
from overconf.vocabulary import FAMILIES

SPOT_CHECK_ROWS = 64
"""Rows of each file whose logits are re-checked against ``prediction`` and ``confidence``."""

CONFIDENCE_TOLERANCE = 1e-6
"""Largest accepted |stored confidence − max softmax(logits)| (both float64 from the same float32 logits)."""

_SCALARS = [f.name for f in RECORD_SCHEMA if f.name != "logits"]


def _fail(path: Path, rule: str) -> RecordError:
    return RecordError(f"{path}: {rule}",
                       hint=f"delete {path} and rerun the command that wrote it to recompute it")


@dataclass(frozen=True)
class RecordFile:
    """What one checked record file holds: its (single) model, pair, robust flag, data set, perturbation and
    family, its number of rows and the width of its logits (the number of classes)."""

    path: Path
    model: str
    pair: str
    robust: bool
    dataset: str
    perturbation: str
    family: str
    rows: int
    n_classes: int


_CHECKED: dict[tuple[str, int, int], RecordFile] = {}
"""Files already checked in this process, by (path, size, mtime in ns): each is read once per command."""


def check_record_file(path: Path) -> tuple[str, str]:
    """Check one record file by the rules of this module; return its (model, perturbation).

    Raises :class:`overconf.errors.RecordError` naming the file and the first rule it breaks.
    """
    facts = describe_record_file(path)
    return facts.model, facts.perturbation


def describe_record_file(path: Path) -> RecordFile:
    """Check one record file (:func:`check_record_file`) and return what it holds; a file unchanged since it was
    last checked in this process (same size and modification time) is not read again."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError as exc:
        raise _fail(path, f"not a readable Parquet record file ({type(exc).__name__}: {str(exc)[:160]})") from None
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _CHECKED:
        _CHECKED[key] = _describe(path)
    return _CHECKED[key]


def _describe(path: Path) -> RecordFile:
    try:
        handle = pq.ParquetFile(path)
        schema = handle.schema_arrow
        table = handle.read(columns=[c for c in _SCALARS if c in schema.names])
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise _fail(path, f"not a readable Parquet record file ({type(exc).__name__}: {str(exc)[:160]})") from None
    for expected in RECORD_SCHEMA:
        if expected.name not in schema.names:
            raise _fail(path, f"schema: column {expected.name!r} is missing")
        found = schema.field(expected.name).type
        if not found.equals(expected.type):
            raise _fail(path, f"schema: column {expected.name!r} is {found}, expected {expected.type}")
    if table.num_rows == 0:
        raise _fail(path, "holds no records")
    if any(table.column(c).null_count for c in table.column_names):
        raise _fail(path, "holds null values")
    models = pc.unique(table.column("model")).to_pylist()
    perturbations = pc.unique(table.column("perturbation")).to_pylist()
    if len(models) != 1 or len(perturbations) != 1:
        raise _fail(path, f"holds {len(models)} models and {len(perturbations)} perturbations, expected one of each")
    model, perturbation = models[0], perturbations[0]
    if slug(model) != path.parent.name or f"{slug(perturbation)}.parquet" != path.name:
        raise _fail(path, f"holds model {model!r} × perturbation {perturbation!r}, which belong in "
                          f"records/{slug(model)}/{slug(perturbation)}.parquet")
    families = set(pc.unique(table.column("family")).to_pylist())
    if not families <= set(FAMILIES):
        raise _fail(path, f"family {sorted(families - set(FAMILIES))} is not one of {', '.join(FAMILIES)}")
    index = table.column("index").to_numpy()
    if np.unique(index).size != index.size:
        raise _fail(path, "index values repeat: (model, perturbation, index) must be unique")
    label, prediction = table.column("label").to_numpy(), table.column("prediction").to_numpy()
    correct = table.column("correct").to_numpy(zero_copy_only=False)
    if (label < -1).any() or (prediction < 0).any():
        raise _fail(path, "label below -1 or prediction below 0")
    if not np.array_equal(correct, prediction == label):
        raise _fail(path, f"correct differs from (prediction == label) in {int((correct != (prediction == label)).sum())} rows")
    confidence = table.column("confidence").to_numpy()
    if not np.isfinite(confidence).all() or (confidence < 0).any() or (confidence > 1).any():
        raise _fail(path, "confidence is not finite or outside [0, 1]")
    width = _spot_check_logits(path, handle, prediction, confidence)
    pairs, datasets = pc.unique(table.column("pair")).to_pylist(), pc.unique(table.column("dataset")).to_pylist()
    robust = pc.unique(table.column("robust")).to_pylist()
    if len(pairs) != 1 or len(datasets) != 1 or len(robust) != 1 or len(families) != 1:
        raise _fail(path, "pair, dataset, robust or family is not the same on every row")
    return RecordFile(path, model, pairs[0], bool(robust[0]), datasets[0], perturbation, families.pop(),
                      table.num_rows, width)


def _spot_check_logits(path: Path, handle: pq.ParquetFile, prediction: np.ndarray, confidence: np.ndarray) -> int:
    """Check the logits of the first rows; return their width (the number of classes)."""
    batch = next(handle.iter_batches(batch_size=SPOT_CHECK_ROWS, columns=["logits"]))
    column = batch.column(0)
    lengths = pc.list_value_length(column).to_numpy(zero_copy_only=False)
    if lengths.size == 0 or (lengths != lengths[0]).any() or lengths[0] < 1:
        raise _fail(path, "logits rows differ in length or are empty")
    z = pc.list_flatten(column).to_numpy(zero_copy_only=False).astype(np.float64).reshape(len(lengths), -1)
    if not np.isfinite(z).all():
        raise _fail(path, "logits are not finite")
    n = len(lengths)
    top = z.max(axis=1)
    if (prediction[:n] >= z.shape[1]).any() or (z[np.arange(n), prediction[:n]] != top).any():
        raise _fail(path, "prediction is not the arg-max of the logits")
    expected = 1.0 / np.exp(z - top[:, None]).sum(axis=1)
    if (np.abs(expected - confidence[:n]) > CONFIDENCE_TOLERANCE).any():
        raise _fail(path, "confidence differs from the max softmax of the logits")
    return int(z.shape[1])
