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
import torch
from typer.testing import CliRunner

from overconf.data.base import TensorImageSet
from overconf.errors import ConfigError
from overconf.run.execute import RunResult
from overconf.run.runner import run_spec
from overconf.run.spec import Spec, load_spec, parse_spec_text
from overconf.store.parquet import read_cell
from overconf.vocabulary import ENGINE_DEFAULTS


def with_keys(spec_file: Path, keys: str, specs: str = '["clean", "pgd:steps=2"]') -> Path:
    """The my-pair spec with ``keys`` (TOML lines) in place of its ``batch_size`` line and only ``specs``."""
    text = spec_file.read_text().replace("batch_size = 256", keys)
    text = re.sub(r"^specs = .*$", f"specs = {specs}", text, flags=re.MULTILINE)
    spec_file.write_text(text)
    return spec_file


def test_engine_keys_are_parsed(my_pair: Path) -> None:
    spec = load_spec(with_keys(my_pair, 'batch_size = "auto"\nprecision = "bf16"\nattack_precision = "fp16"\n'
                                        'channels_last = true\nworkers = 3\nthreads = 1\ndecode = "gpu"'))
    assert (spec.batch_size, spec.precision, spec.attack_precision, spec.channels_last, spec.workers, spec.threads,
            spec.decode) == ("auto", "bf16", "fp16", True, 3, 1, "gpu")


@pytest.mark.parametrize(("line", "message"), [
    ('batch_size = "big"', 'batch_size=\'big\': must be an integer >= 1 or "auto"'),
    ("batch_size = 0", 'batch_size=0: must be an integer >= 1 or "auto"'),
    ('precision = "bf61"', "precision='bf61': must be one of fp32, tf32, bf16, fp16"),
    ('attack_precision = "fp8"', "attack_precision='fp8': must be one of fp32, tf32, bf16, fp16"),
    ('channels_last = "yes"', "channels_last='yes': must be true or false"),
    ("workers = -1", "workers=-1: must be an integer >= 0"),
    ("threads = 0", "threads=0: must be an integer >= 1"),
    ('decode = "gpuu"', "decode='gpuu': must be one of cpu, gpu"),
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


@pytest.mark.parametrize(("flags", "deprecated"), [(["--n-examples", "attack=7"], False),
                                                 (["--attack-examples", "7"], True)])
def test_the_per_family_limit_flag_reaches_the_spec(flags: list[str], deprecated: bool, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from overconf.cli import app

    seen: list[Spec] = []
    monkeypatch.setattr("overconf.run.zoo.run_spec", lambda spec, **_: seen.append(spec) or RunResult(spec.out))
    result = CliRunner().invoke(app, ["evaluate", "--zoo", "cifar10", "--out", str(tmp_path / "r"), "--n-examples",
                                      "100", *flags])
    assert result.exit_code == 0, result.output
    assert seen[0].data.n_examples == 100 and seen[0].n_examples == {"attack": 7}
    warnings = [line for line in result.stderr.splitlines() if "deprecated" in line]
    assert warnings == (["warning: --attack-examples is deprecated: use --n-examples attack=N"] if deprecated else [])


@pytest.mark.parametrize(("flags", "message"), [
    (["--n-examples", "attack=0"], "--n-examples attack=0: must be an integer >= 1"),
    (["--n-examples", "atack=5"], "unknown key 'atack' in --n-examples (a family)"),
    (["--batch-size", "x"], "--batch-size='x': must be an integer >= 1 or \"auto\""),
    (["--batch-size", "²"], "--batch-size='²': must be an integer >= 1 or \"auto\""),
    (["--precision", "bf61"], "--precision='bf61': must be one of fp32, tf32, bf16, fp16"),
    (["--workers", "-1"], "--workers=-1: must be an integer >= 0"),
    (["--decode", "gpuu"], "--decode='gpuu': must be one of cpu, gpu"),
    (["--seed", "-1"], "--seed=-1: must be an integer >= 0"),
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


def test_every_entry_point_runs_with_the_same_engine_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A spec file, `overconf evaluate`, the zoo front end, the grid API and the engine leave the same engine keys
    unset; each ends up with the same values."""
    from overconf.cli import app
    from overconf.evaluation import engine
    from overconf.run.grid import grid_plan
    from overconf.run.zoo import zoo_spec

    seen: list[Spec] = []
    monkeypatch.setattr("overconf.run.zoo.run_spec", lambda spec, **_: seen.append(spec) or RunResult(spec.out))
    result = CliRunner().invoke(app, ["evaluate", "--zoo", "cifar10", "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    from_file = parse_spec_text('[data]\ndataset = "fashion-mnist"\n[[pair]]\nname = "p"\n'
                                'robust = { entry_point = "m:f" }\nnormal = { entry_point = "m:f" }\n', "s.toml", tmp_path)
    from_zoo = zoo_spec("cifar10", tmp_path / "z")
    keys = list(inspect.signature(engine.evaluate).parameters)
    from_engine = {key: inspect.signature(engine.evaluate).parameters[key].default for key in keys}
    from_grid = grid_plan([], TensorImageSet("t", torch.zeros(2, 1, 2, 2), torch.tensor([0, 1]), 2), ["clean"]).engine
    for spec in (seen[0], from_file, from_zoo):
        settings = {key: getattr(spec, key) for key in ENGINE_DEFAULTS}
        assert settings == {key: from_engine[key] for key in ENGINE_DEFAULTS} == {key: from_grid[key] for key in settings}
