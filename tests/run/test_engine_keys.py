"""The engine keys of a spec (batch_size incl. "auto", precision, attack_precision, channels_last, workers,
threads, decode): parsed and checked, passed to the engine, and what the engine used written into every record
file's provenance and into run.json's cells; the CLI's `overconf evaluate` flags reach the spec."""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from overconf.errors import ConfigError
from overconf.run.execute import RunResult
from overconf.run.runner import run_spec
from overconf.run.spec import ENGINE_DEFAULTS, Spec, load_spec, parse_spec_text
from overconf.store.parquet import read_cell


def with_keys(spec_file: Path, keys: str, specs: str = '["clean", "pgd:steps=2"]') -> Path:
    """The my-pair spec with ``keys`` (TOML lines) in place of its ``batch_size`` line and only ``specs``."""
    text = spec_file.read_text().replace("batch_size = 256", keys)
    text = re.sub(r"^specs = .*$", f"specs = {specs}", text, flags=re.MULTILINE)
    spec_file.write_text(text)
    return spec_file


def test_engine_defaults() -> None:
    assert ENGINE_DEFAULTS == {"batch_size": 256, "precision": "fp32", "attack_precision": "fp32",
                               "channels_last": False, "workers": None, "threads": None, "decode": "cpu"}


def test_engine_keys_are_parsed(my_pair: Path) -> None:
    spec = load_spec(with_keys(my_pair, 'batch_size = "auto"\nprecision = "bf16"\nattack_precision = "fp16"\n'
                                        'channels_last = true\nworkers = 3\nthreads = 1\ndecode = "gpu"'))
    assert (spec.batch_size, spec.precision, spec.attack_precision, spec.channels_last, spec.workers, spec.threads,
            spec.decode) == ("auto", "bf16", "fp16", True, 3, 1, "gpu")


@pytest.mark.parametrize(("line", "message"), [
    ('batch_size = "big"', 'batch_size must be an integer ≥ 1 or "auto"'),
    ("batch_size = 0", 'batch_size must be an integer ≥ 1 or "auto"'),
    ('precision = "bf61"', "unknown precision 'bf61'"),
    ('attack_precision = "fp8"', "unknown attack_precision 'fp8'"),
    ('channels_last = "yes"', "channels_last must be true or false"),
    ("workers = -1", "workers must be an integer ≥ 0"),
    ("threads = 0", "threads must be an integer ≥ 1"),
    ('decode = "gpuu"', "unknown decode 'gpuu'"),
])
def test_bad_engine_keys_name_file_and_line(my_pair: Path, line: str, message: str) -> None:
    with_keys(my_pair, line)
    with pytest.raises(ConfigError) as err:
        load_spec(my_pair)
    assert message in err.value.message
    assert f"{my_pair}:10:" in err.value.message  # the line the key is on


def test_what_the_engine_used_is_in_every_file_and_in_run_json(my_pair: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_spec(with_keys(my_pair, 'batch_size = "auto"\nworkers = 0\nthreads = 1'), out=out, progress=False,
             report=False)
    manifest = json.loads((out / "run.json").read_text())
    assert len(manifest["cells"]) == 4
    for cell in manifest["cells"]:
        engine = read_cell(out / cell["file"])["provenance"]["engine"]  # type: ignore[index]
        n = cell["config"]["data"]["n_examples"]
        assert engine == {"device": "cpu", "precision": "fp32", "attack_precision": "fp32", "channels_last": False,
                          "batch_size": min(256, n), "workers": 0, "threads": 1, "decode": "cpu"}
        assert cell["engine"] == engine


def test_attack_precision_is_part_of_attack_cells_identity(my_pair: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    run_spec(with_keys(my_pair, "threads = 1"), out=out, progress=False, report=False)
    text = my_pair.read_text().replace("threads = 1", 'threads = 1\nattack_precision = "bf16"', 1)
    my_pair.write_text(text)
    with pytest.raises(ConfigError) as err:
        run_spec(my_pair, out=out, progress=False, report=False)
    assert "attack_precision" in err.value.message and "pgd" in err.value.message
    result = run_spec(my_pair, out=out, progress=False, report=False, overwrite=True)
    assert [p.name for p in result.written] == ["pgd_steps=2.parquet"] * 2  # clean cells kept: same identity
    assert all(read_cell(p)["config"]["attack_precision"] == "bf16" for p in result.written)  # type: ignore[index]


def test_evaluate_flags_reach_the_spec(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from overconf.cli import app

    seen: list[Spec] = []

    def fake_run_spec(spec: Spec, **_: Any) -> RunResult:
        seen.append(spec)
        return RunResult(spec.out)

    monkeypatch.setattr("overconf.run.zoo.run_spec", fake_run_spec)
    result = CliRunner().invoke(app, ["evaluate", "--zoo", "cifar10", "--out", str(tmp_path / "r"), "--batch-size",
                                      "auto", "--precision", "bf16", "--attack-precision", "fp16", "--channels-last",
                                      "--workers", "3", "--threads", "2", "--decode", "gpu"])
    assert result.exit_code == 0, result.output
    spec = seen[0]
    assert (spec.batch_size, spec.precision, spec.attack_precision, spec.channels_last, spec.workers, spec.threads,
            spec.decode) == ("auto", "bf16", "fp16", True, 3, 2, "gpu")
    CliRunner().invoke(app, ["evaluate", "--zoo", "cifar10", "--out", str(tmp_path / "r"), "--batch-size", "64"])
    assert seen[1].batch_size == 64 and seen[1].precision == "fp32" and seen[1].workers is None


@pytest.mark.parametrize(("flags", "message"), [
    (["--batch-size", "x"], "--batch-size='x': must be a positive integer or auto"),
    (["--precision", "bf61"], "unknown precision 'bf61'"),
    (["--workers", "-1"], "--workers=-1: must be an integer >= 0"),
    (["--decode", "gpuu"], "unknown decode 'gpuu'"),
])
def test_bad_evaluate_flags_are_one_line(flags: list[str], message: str, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from overconf.cli import main

    monkeypatch.setattr(sys, "argv", ["overconf", "evaluate", "--zoo", "cifar10", "--out", str(tmp_path / "r"), *flags])
    with pytest.raises(SystemExit) as exit_info:
        main()
    _, err = capsys.readouterr()
    assert exit_info.value.code not in (0, None)
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and message in errors[0] and "Traceback" not in err


def test_parse_spec_text_without_engine_keys_uses_the_defaults(tmp_path: Path) -> None:
    spec = parse_spec_text('[data]\ndataset = "fashion-mnist"\n[[pair]]\nname = "p"\n'
                           'robust = { entry_point = "m:f" }\nnormal = { entry_point = "m:f" }\n', "s.toml", tmp_path)
    assert {key: getattr(spec, key) for key in ENGINE_DEFAULTS} == ENGINE_DEFAULTS


def test_decode_gpu_without_cuda_is_refused_before_any_work(my_pair: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="decode=gpu needs a CUDA device"):
        run_spec(with_keys(my_pair, 'decode = "gpu"'), out=tmp_path / "run", progress=False, report=False)
    assert not (tmp_path / "run").exists()


def test_spec_vocabularies_match_the_engine() -> None:
    """spec.py keeps its own copies (it imports no torch): they must name exactly what the engine accepts."""
    from overconf.data import decode
    from overconf.evaluation import engine
    from overconf.run import spec

    assert spec.PRECISIONS == engine.PRECISIONS and spec.DECODES == decode.DECODES
    assert set(spec.ENGINE_KEYS) | {"device"} <= set(inspect.signature(engine.evaluate).parameters)
