"""run.json's record hashes: recorded by a run, checked on read (cached by file metadata), `verify_run`."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from overconf.errors import RecordError
from overconf.evaluation.records import ModelInfo, make_records
from overconf.store import integrity
from overconf.store.integrity import RECORD_HASHES, check_record_hashes
from overconf.store.parquet import read_records, write_records
from overconf.store.verify import verify_run


def _run(out: Path) -> list[Path]:
    """Two record files and the run.json a run would write for them."""
    rng = np.random.default_rng(0)
    files = [write_records(out, make_records(ModelInfo(m, "p", m == "r", "d"), "clean", "clean", np.arange(100),
                                             rng.integers(0, 10, 100), rng.normal(size=(100, 10)).astype(np.float32)))
             for m in ("n", "r")]
    hashes = integrity.record_hashes(out, files, {})
    (out / "run.json").write_text(json.dumps({RECORD_HASHES: hashes, "cells": []}))
    return files


def test_a_run_verifies_and_an_edit_past_the_spot_checked_rows_is_caught(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    files = _run(tmp_path / "run")
    assert verify_run(tmp_path / "run") == (2, [])
    assert len(read_records(tmp_path / "run")) == 200
    # confidence 0.999 on a wrong row beyond the 64 rows whose logits are re-checked: every record rule holds
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(files[1])
    confidence = table.column("confidence").to_numpy().copy()
    wrong = next(i for i in np.flatnonzero(~table.column("correct").to_numpy(zero_copy_only=False)) if i >= 64)
    confidence[wrong] = 0.999
    table = table.set_column(table.schema.get_field_index("confidence"), table.schema.field("confidence"),
                             pa.array(confidence, type=table.schema.field("confidence").type))
    pq.write_table(table, files[1])
    with pytest.raises(RecordError, match=f"{files[1]}: its content changed since run.json recorded it"):
        read_records(tmp_path / "run")
    checked, problems = verify_run(tmp_path / "run")
    assert checked == 2 and len(problems) == 1 and str(files[1]) in problems[0]


def test_hashes_are_cached_by_file_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    files = _run(tmp_path / "run")
    reads: list[Path] = []
    from overconf import files as hashing

    real = hashing.sha256_file
    monkeypatch.setattr(hashing, "sha256_file", lambda p: reads.append(p) or real(p))
    check_record_hashes(files)
    assert reads == []  # hashed when run.json was written; unchanged since
    stat = files[0].stat()
    data = files[0].read_bytes()
    files[0].write_bytes(data[:-9] + bytes([data[-9] ^ 0xFF]) + data[-8:])  # same size ...
    os.utime(files[0], ns=(stat.st_atime_ns, stat.st_mtime_ns))  # ... and modification time restored
    with pytest.raises(RecordError, match="content changed"):
        check_record_hashes(files)
    assert reads == [files[0]]


def test_unrecorded_and_missing_files_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    files = _run(tmp_path / "run")
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    manifest[RECORD_HASHES]["records/gone/clean.parquet"] = "0" * 64
    del manifest[RECORD_HASHES][str(files[0].relative_to(tmp_path / "run"))]
    (tmp_path / "run" / "run.json").write_text(json.dumps(manifest))
    _, problems = verify_run(tmp_path / "run")
    assert problems == [f"{files[0]}: not recorded in run.json (copied in, or written by another run)",
                        f"{tmp_path / 'run' / 'records/gone/clean.parquet'}: recorded in run.json but missing"]
