"""Records on disk: one Parquet file per model × perturbation, written atomically, read with DuckDB.

Layout: ``<out>/records/<model>/<perturbation>.parquet``. A file exists only when it is complete
(written to a temporary name in the same folder, fsynced, then renamed), so an interrupted run loses at
most the model × perturbation cell it was computing and a rerun resumes from the files present.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from overconf.errors import ConfigError
from overconf.evaluation.records import RECORD_SCHEMA
from overconf.files import write_atomic
from overconf.store.layout import records_path
from overconf.store.query import record_files

CELL_METADATA_KEY = b"overconf.cell"


def write_records(out: Path, table: pa.Table, cell: dict[str, Any] | None = None) -> Path:
    """Write one model × perturbation record table atomically and return its path.

    ``cell`` (the cell's resolved configuration and provenance, :mod:`overconf.store.identity`) is stored as
    JSON in the Parquet schema metadata under ``overconf.cell``; :func:`read_cell` reads it back.
    """
    table = table.cast(RECORD_SCHEMA)
    if cell is not None:
        table = table.replace_schema_metadata({CELL_METADATA_KEY: json.dumps(cell, sort_keys=True, default=str)})
    models = set(table.column("model").unique().to_pylist())
    perturbations = set(table.column("perturbation").unique().to_pylist())
    if len(models) != 1 or len(perturbations) != 1:
        raise ValueError("a record file holds exactly one model and one perturbation")
    path = records_path(out, models.pop(), perturbations.pop())
    write_atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))
    return path


def has_records(out: Path, model: str, perturbation: str) -> bool:
    return records_path(out, model, perturbation).is_file()


_CELLS: dict[tuple[str, int, int], bytes | None] = {}
"""Cell metadata (its JSON) already read in this process, by (path, size, mtime in ns): a file's footer is read
once per command."""


def read_cell(path: Path) -> dict[str, Any] | None:
    """The cell metadata a record file was written with (``None`` for files written without it); a file unchanged
    since it was last read in this process is not read again (each call parses the JSON anew, so the caller owns
    what it gets)."""
    stat = Path(path).stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _CELLS:
        _CELLS[key] = (pq.read_metadata(path).metadata or {}).get(CELL_METADATA_KEY)
    raw = _CELLS[key]
    return json.loads(raw) if raw else None


STRING_COLUMNS = ("model", "pair", "dataset", "perturbation", "family")
"""Record columns returned as pandas categoricals by :func:`read_records` (few distinct values, many rows)."""


def read_records(out: Path, columns: list[str] | None = None, where: str | None = None) -> pd.DataFrame:
    """All records of a run as a DataFrame, optionally only some columns and rows (a DuckDB SQL predicate).

    ``read_records(run, ["model", "confidence", "correct"], "perturbation = 'pgd'")``

    The string columns (:data:`STRING_COLUMNS`) come back as pandas categoricals, so their cost is one small
    integer per row. This holds every selected record in memory: ask for the columns and rows you need (the
    report and ``overconf query`` read the files in place instead).

    Every file is checked first (:func:`overconf.store.query.record_files`): a damaged or inconsistent file is a
    :class:`overconf.errors.RecordError` naming it and the rule it breaks.
    """
    files = record_files(Path(out))
    cols = "*" if columns is None else ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {cols} FROM read_parquet(?, union_by_name=true)"
    if where:
        sql += f" WHERE {where}"
    try:
        with duckdb.connect() as con:
            table = con.sql(sql, params=[[str(f) for f in files]]).to_arrow_table()
    except duckdb.Error as exc:  # the files passed their checks: the columns or the predicate are wrong
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"records query failed: {first}",
                          hint=f"columns: {', '.join(RECORD_SCHEMA.names)}; `where` is a DuckDB SQL predicate") from None
    for name in STRING_COLUMNS:
        if name in table.column_names:
            position = table.column_names.index(name)
            table = table.set_column(position, name, pc.dictionary_encode(table.column(name)))
    return table.to_pandas()
