"""Bookkeeping that reads once: checkpoint hashes cached on disk, record files and their cell metadata read
once per process, run.json rewritten only when it changes, summary.csv reused when current, a light CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from overconf import files
from overconf.evaluation.records import ModelInfo, make_records
from overconf.files import remembered_sha256, sha256_file
from overconf.report.tables import SUMMARY_CSV, summary_is_current, write_summary
from overconf.store import parquet, validation
from overconf.store.parquet import read_cell, write_records
from overconf.store.run_json import write_manifest


def _write(out: Path, model: str = "m", perturbation: str = "clean") -> Path:
    records = make_records(ModelInfo(model, "p", False, "d"), perturbation, "clean", np.arange(6), np.arange(6) % 3,
                           np.eye(3)[np.arange(6) % 3] * 2.0)
    return write_records(out, records, cell={"config": {"k": 1}})


def test_checkpoint_hash_is_cached_by_path_size_and_mtime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"abc" * 1000)
    first = remembered_sha256(weights)
    assert first == sha256_file(weights)
    calls: list[Path] = []
    monkeypatch.setattr(files, "sha256_file", lambda p: calls.append(p) or "recomputed")
    assert remembered_sha256(weights) == first and not calls  # remembered: the file is not read again
    weights.write_bytes(b"abcd" * 1000)  # changed size and time: hashed afresh
    assert remembered_sha256(weights) == "recomputed" and len(calls) == 1
    os.utime(weights, ns=(1, 1))  # same size, another time: hashed afresh
    remembered_sha256(weights)
    assert len(calls) == 2


def test_hash_cache_that_cannot_be_written_only_costs_the_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("OVERCONF_CACHE", str(blocker))
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"x")
    assert remembered_sha256(weights) == sha256_file(weights)


def test_run_json_is_left_alone_when_unchanged(tmp_path: Path) -> None:
    path = write_manifest(tmp_path, {"a": 1})
    os.utime(path, ns=(1, 1))
    write_manifest(tmp_path, {"a": 1})
    assert path.stat().st_mtime_ns == 1
    write_manifest(tmp_path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}


def test_record_file_is_checked_and_its_cell_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path)
    facts = validation.describe_record_file(path)
    assert (facts.model, facts.perturbation, facts.rows, facts.n_classes) == ("m", "clean", 6, 3)
    cell = read_cell(path)
    assert cell == {"config": {"k": 1}}
    cell["config"]["k"] = 2  # the caller's copy: the remembered metadata is unchanged
    monkeypatch.setattr(validation, "_describe", lambda p: pytest.fail("read again"))
    monkeypatch.setattr(parquet.pq, "read_schema", lambda p: pytest.fail("read again"))
    assert validation.describe_record_file(path) == facts
    assert read_cell(path) == {"config": {"k": 1}}


def test_summary_is_reused_only_while_current(tmp_path: Path) -> None:
    _write(tmp_path, "m", "clean")
    assert not summary_is_current(tmp_path)
    write_summary(tmp_path)
    assert summary_is_current(tmp_path)
    later = _write(tmp_path, "n", "clean")
    assert not summary_is_current(tmp_path)  # one more file than rows
    write_summary(tmp_path)
    assert summary_is_current(tmp_path)
    written = (tmp_path / SUMMARY_CSV).stat().st_mtime_ns
    os.utime(later, ns=(written + 10**9, written + 10**9))  # a record file newer than the summary
    assert not summary_is_current(tmp_path)


def test_version_and_help_import_nothing_heavy() -> None:
    code = ("import sys\nfrom overconf import cli\nsys.argv = ['overconf', '--version']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print([m for m in ('torch', 'pandas', 'pyarrow', 'duckdb', 'matplotlib', 'scipy') if m in sys.modules])")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
    assert done.stdout.startswith("overconf ")
