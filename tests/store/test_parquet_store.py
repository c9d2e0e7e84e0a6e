"""Record files: atomic, one model × perturbation each, read back exactly with DuckDB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from overconf.errors import MissingFileError
from overconf.evaluation.records import RECORD_SCHEMA, ModelInfo, make_records
from overconf.files import write_atomic
from overconf.metrics import softmax
from overconf.store.layout import records_path
from overconf.store.parquet import has_records, read_records, write_records


def table(model: str = "m", perturbation: str = "fog:severity=3", n: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 10)).astype(np.float32)
    return make_records(ModelInfo(model, "p", True, "fashion-mnist"), perturbation, "corruption",
                        np.arange(n), rng.integers(0, 10, n), logits)


def test_round_trip(tmp_path: Path) -> None:
    t = table()
    path = write_records(tmp_path, t)
    assert path == records_path(tmp_path, "m", "fog:severity=3") and has_records(tmp_path, "m", "fog:severity=3")
    assert pq.read_schema(path).equals(RECORD_SCHEMA)
    back = read_records(tmp_path)
    assert back["confidence"].tolist() == t.column("confidence").to_pylist()
    assert np.allclose(np.stack(back["logits"].to_list()), np.stack(t.column("logits").to_pylist()))
    assert read_records(tmp_path, ["model"], "perturbation = 'clean'").empty


def test_records_confidence_is_max_softmax() -> None:
    t = table(n=50)
    logits = np.stack(t.column("logits").to_pylist()).astype(np.float64)
    probs = softmax(logits)
    assert np.allclose(t.column("confidence").to_numpy(), probs.max(1), atol=1e-15)
    assert (t.column("prediction").to_numpy() == logits.argmax(1)).all()
    assert (t.column("correct").to_numpy() == (t.column("prediction").to_numpy() == t.column("label").to_numpy())).all()


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    target = tmp_path / "records" / "m" / "x.parquet"

    def crash(tmp: Path) -> None:
        tmp.write_bytes(b"half a file")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomic(target, crash)
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_one_model_and_perturbation_per_file(tmp_path: Path) -> None:
    import pyarrow as pa

    mixed = pa.concat_tables([table("a"), table("b")])
    with pytest.raises(ValueError, match="exactly one model"):
        write_records(tmp_path, mixed)


def test_empty_run_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(MissingFileError, match="no records"):
        read_records(tmp_path)
