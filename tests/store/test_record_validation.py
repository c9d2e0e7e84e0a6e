"""Record files are checked on read: every broken rule is one RecordError naming the file and the rule."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from overconf.errors import RecordError
from overconf.evaluation.records import ModelInfo, make_records
from overconf.store.layout import records_path
from overconf.store.parquet import read_records, write_records


def _table(model: str = "a", perturbation: str = "clean", n: int = 100, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, 10)).astype(np.float32)
    labels = logits.argmax(1) if seed == 0 else rng.integers(0, 10, n)  # seed 0: all correct
    labels[: n // 4] = (labels[: n // 4] + 1) % 10
    return make_records(ModelInfo(model, "p", model.endswith("robust"), "fashion-mnist"), perturbation, "clean",
                        np.arange(n), labels, logits)


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _rewrite(path: Path, change: Callable[[pa.Table], pa.Table]) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def _flip_correct(t: pa.Table) -> pa.Table:
    return _replace(t, "correct", pc.invert(t.column("correct")))


def _nan_confidence(t: pa.Table) -> pa.Table:
    values = t.column("confidence").to_numpy().copy()
    values[7] = np.nan
    return _replace(t, "confidence", pa.array(values))


def _wrong_confidence(t: pa.Table) -> pa.Table:
    values = t.column("confidence").to_numpy().copy()
    values[3] = min(1.0, values[3] + 0.01)
    return _replace(t, "confidence", pa.array(values))


def _repeated_index(t: pa.Table) -> pa.Table:
    values = t.column("index").to_numpy().copy()
    values[5] = values[4]
    return _replace(t, "index", pa.array(values))


def _wrong_prediction(t: pa.Table) -> pa.Table:
    pred = (t.column("prediction").to_numpy() + 1) % 10
    label = t.column("label").to_numpy()
    return _replace(_replace(t, "prediction", pa.array(pred)), "correct", pa.array(pred == label))


CORRUPTIONS = {
    "flipped correct": (_flip_correct, "correct differs from (prediction == label) in 100 rows"),
    "NaN confidence": (_nan_confidence, "confidence is not finite or outside [0, 1]"),
    "confidence not the softmax": (_wrong_confidence, "confidence differs from the max softmax of the logits"),
    "repeated index": (_repeated_index, "index values repeat"),
    "prediction not the arg-max": (_wrong_prediction, "prediction is not the arg-max of the logits"),
    "missing column": (lambda t: t.drop_columns(["family"]), "schema: column 'family' is missing"),
    "wrong type": (lambda t: _replace(t, "label", t.column("label").cast(pa.float64())),
                   "schema: column 'label' is double, expected int64"),
    "no rows": (lambda t: t.slice(0, 0), "holds no records"),
    "two models": (lambda t: _replace(t, "model", pa.array(["a"] * 50 + ["b"] * 50)),
                   "holds 2 models and 1 perturbations"),
}


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    write_records(tmp_path, _table("a", "clean"))
    write_records(tmp_path, _table("a", "fog:severity=3"))
    write_records(tmp_path, _table("b-robust", "clean", seed=1))
    assert len(read_records(tmp_path)) == 300
    return tmp_path


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_each_broken_rule_names_the_file_and_the_rule(run: Path, case: str) -> None:
    change, rule = CORRUPTIONS[case]
    path = records_path(run, "a", "clean")
    _rewrite(path, change)
    with pytest.raises(RecordError) as info:
        read_records(run)
    assert info.value.message.startswith(f"{path}: {rule}")
    assert f"delete {path}" in (info.value.hint or "")


def test_another_models_file_copied_into_a_run_folder_is_refused(run: Path) -> None:
    stray = records_path(run, "b-robust", "fog:severity=3")
    shutil.copy(records_path(run, "a", "fog:severity=3"), stray)
    with pytest.raises(RecordError) as info:
        read_records(run)
    assert info.value.message == (f"{stray}: holds model 'a' × perturbation 'fog:severity=3', which belong in "
                                  "records/a/fog_severity=3.parquet")


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_damaged_file_is_one_clear_error(run: Path, damage: str) -> None:
    path = records_path(run, "a", "clean")
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "garbage": b"not parquet" * 50, "empty": b""}[damage])
    with pytest.raises(RecordError, match="not a readable Parquet record file") as info:
        read_records(run)
    assert info.value.message.startswith(f"{path}: ")


def test_bad_query_is_a_config_error(run: Path) -> None:
    from overconf.errors import ConfigError

    with pytest.raises(ConfigError, match="records query failed"):
        read_records(run, ["no_such_column"])
