"""A run's record files, each checked first (:func:`record_files`), and DuckDB SQL over one or more runs: a view ``records`` (every record column plus ``run``,
the run folder as given) over the record files in place (``read_parquet``; nothing is copied, so DuckDB
streams them and reads only the columns and row groups a query needs).

>>> import tempfile, pyarrow as pa, numpy as np
>>> from overconf.evaluation.records import ModelInfo, make_records
>>> from overconf.store.parquet import write_records
>>> out = Path(tempfile.mkdtemp())
>>> _ = write_records(out, make_records(ModelInfo("m", "p", False, "d"), "clean", "clean", np.arange(3),
...                                     np.array([0, 1, 1]), np.array([[2.0, 0.0]] * 3)))
>>> query_records([out], "SELECT model, avg(correct::int) AS accuracy FROM records GROUP BY model").round(3).to_dict("records")
[{'model': 'm', 'accuracy': 0.333}]
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pandas as pd

from overconf.errors import ConfigError, MissingFileError
from overconf.store.integrity import check_record_hashes
from overconf.store.location import opened
from overconf.store.validation import RecordFile, describe_record_file


def record_files(out: Path) -> list[Path]:
    """The run's record files, each checked (:func:`check_run_records`)."""
    files = sorted((Path(out) / "records").glob("*/*.parquet"))
    if not files and (Path(out) / "report.html").is_file():
        raise MissingFileError(f"{out} holds a combined report (report.html), not records",
                               hint="query the run folders it combines: overconf query RUN1 RUN2 \"SQL\"")
    if not files:
        raise MissingFileError(f"no records under {Path(out) / 'records'}",
                               hint="give run folders written by overconf run / demo / evaluate")
    check_run_records(files)
    return files


CHECK_THREADS = 8
"""Threads checking a run's record files (reading Parquet releases the GIL); at most the number of cores."""


def check_run_records(files: Sequence[Path]) -> list[RecordFile]:
    """Check every record file of a run (:func:`~overconf.store.validation.describe_record_file`, several files at a time), and that its
    content is what the run's ``run.json`` recorded (:func:`overconf.store.integrity.check_record_hashes`);
    return what each holds. A bad file raises the error of the first bad file in ``files``' order."""
    threads = min(CHECK_THREADS, os.cpu_count() or 1, len(files))
    if threads <= 1:
        described = [describe_record_file(path) for path in files]
    else:
        with ThreadPoolExecutor(threads) as pool:
            described = list(pool.map(describe_record_file, files))
    check_record_hashes(files)
    return described


def query_records(runs: Sequence[Path | str], sql: str) -> pd.DataFrame:
    """Run ``sql`` against the view ``records`` of ``runs`` (folders or ``s3://`` URIs, read through local
    mirrors: :mod:`overconf.store.location`); a SQL error is a :class:`ConfigError`."""
    if not runs:
        raise ConfigError("no run folder given", hint='overconf query RUN [RUN...] "SELECT ... FROM records"')
    parts = []
    for run in runs:
        with opened(run) as folder:
            files = ", ".join(_literal(str(f)) for f in record_files(folder.local))
        name = folder.name if folder.remote else str(run)
        parts.append(f"SELECT *, {_literal(name)} AS run FROM read_parquet([{files}], union_by_name=true)")
    with duckdb.connect() as con:
        con.execute("CREATE TEMP VIEW records AS " + " UNION ALL BY NAME ".join(parts))
        try:
            return con.execute(sql).df()
        except duckdb.Error as exc:
            first = str(exc).strip().splitlines()[0]
            raise ConfigError(f"SQL error: {first}", hint="the view is named records; columns: "
                              + ", ".join(c[0] for c in con.execute("DESCRIBE records").fetchall())) from None


def _literal(text: str) -> str:
    """``text`` as a SQL string literal (single quotes doubled).

    >>> _literal("it's")
    "'it''s'"
    """
    return "'" + text.replace("'", "''") + "'"
