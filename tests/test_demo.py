"""The demo end to end through the real console entry point, on real Fashion-MNIST.

The run the tests share is the demo's own spec (:func:`overconf.run.demo.demo_spec`: the three pairs, every
perturbation family) at test sizes (``SMALL``: 3,000 training images, 500 clean / 50 perturbed test
images), written as a spec file and run once with ``overconf run``: it costs a third of ``overconf demo
--quick``. That ``overconf demo --quick`` names exactly the cells of ``examples/demo-quick.toml`` (and the
full demo those of ``examples/demo.toml``), and that the command is wired to them, is checked without
training (resolved plans and ``--dry-run``).
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from overconf.cli import main
from overconf.data import fashion_mnist
from overconf.data.corruptions import CORRUPTIONS
from overconf.data.ood import OOD_SETS
from overconf.errors import MissingFileError
from overconf.files import sha256_file
from overconf.metrics import softmax
from overconf.run.data import expand_perturbations
from overconf.run.demo import PAIRS, DemoConfig, demo_spec, pair_configs
from overconf.store.parquet import read_records
from overconf.store.run_json import read_manifest
from overconf.train.cache import train_or_load

pytestmark = pytest.mark.slow

REQUIRED_COLUMNS = ["model", "pair", "robust", "perturbation", "n", "accuracy", "ece", "overconfidence",
                    "underconfidence", "auroc"]
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: the demo at test sizes (``DemoConfig.quick()`` trains on 6,000 images and evaluates 1,000 / 100)
SMALL = DemoConfig(epochs=1, train_subset=3_000, n_examples=500, perturbation_examples=50, square_queries=50, pgd_steps=10)
#: the cells of the killed-and-resumed run: the first pair, the cheap families first, Square (the slowest) last
KILLED_SPECS = ("clean", "fog:severity=3", "ood-uniform", f"pgd:steps={SMALL.pgd_steps}",
                f"square:n_queries={SMALL.square_queries}")

RunFixture = tuple[Path, Path, subprocess.CompletedProcess[str], Path]


def overconf(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "overconf", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=900, check=False)


def in_process(args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``overconf ARGS`` through :func:`overconf.cli.main` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["overconf", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def demo_spec_file(path: Path, config: DemoConfig, pairs: tuple[str, ...] | None = None,
                   specs: tuple[str, ...] | None = None) -> Path:
    """``config``'s demo spec (optionally only some pairs / perturbations) as a spec file, the way
    ``examples/demo-quick.toml`` writes ``DemoConfig.quick()``."""
    def member(train) -> str:  # type: ignore[no-untyped-def]
        fields = {"activation": train.activation, "downsampling": train.downsampling, "epochs": train.epochs,
                  "train_subset": train.train_subset, "seed": train.seed, "training": train.training}
        return "{ train = { " + ", ".join(f"{k} = {v!r}".replace("'", '"') for k, v in fields.items()) + " } }"

    lines = ['name = "demo"', f"seed = {config.seed}", 'device = "auto"', f"batch_size = {config.batch_size}",
             "", "[data]", 'dataset = "fashion-mnist"', f"n_examples = {config.n_examples}"]
    members = {(pair, train.robust): train for pair, train in pair_configs(config)}
    for pair, _, _ in PAIRS:
        if pairs is None or pair in pairs:
            lines += ["", "[[pair]]", f'name = "{pair}"', f"robust = {member(members[(pair, True)])}",
                      f"normal = {member(members[(pair, False)])}"]
    chosen = specs if specs is not None else tuple(config.perturbations())
    lines += ["", "[perturbations]", "specs = [" + ", ".join(f'"{s}"' for s in chosen) + "]",
              "n_examples = { " + ", ".join(f"{f} = {config.perturbation_examples}" for f in ("attack", "corruption", "ood")) + " }"]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> RunFixture:
    """(run folder, model cache, the finished process, spec file) of the demo at test sizes."""
    try:
        fashion_mnist.find_dir()
    except MissingFileError:
        pytest.skip("Fashion-MNIST is not installed (make data)")
    root = tmp_path_factory.mktemp("demo")
    out, cache = root / "run", root / "cache"
    spec = demo_spec_file(root / "demo-small.toml", SMALL)
    result = overconf("run", str(spec), "--out", str(out), env={"OVERCONF_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr[-3000:]
    return out, cache, result, spec


def test_summary_has_every_model_and_perturbation(quick_run: RunFixture) -> None:
    out, *_ = quick_run
    summary = pd.read_csv(out / "summary.csv")
    assert set(REQUIRED_COLUMNS) <= set(summary.columns)
    config = SMALL
    perturbations = [p.label for p in expand_perturbations(config.perturbations(), fashion_mnist.NAME, None, 0.1)]
    assert len(set(perturbations)) == 3 + len(CORRUPTIONS) + len(OOD_SETS)
    assert len(summary) == 2 * len(PAIRS) * len(perturbations)
    assert set(summary["perturbation"]) == set(perturbations)
    for pair, group in summary.groupby("pair"):
        assert group.groupby("robust")["model"].nunique().to_dict() == {False: 1, True: 1}, pair
    n = summary.set_index("perturbation")["n"]
    assert (n["clean"] == config.n_examples).all()
    assert (n[perturbations[1]] == config.perturbation_examples).all() and (n["fog:severity=3"] == config.perturbation_examples).all()
    assert (n["ood-digits"] == config.perturbation_examples).all()


def test_records_match_summary(quick_run: RunFixture) -> None:
    out, *_ = quick_run
    records = read_records(out, ["model", "perturbation", "family", "label", "prediction", "correct", "confidence",
                                 "logits"])
    summary = pd.read_csv(out / "summary.csv")
    assert isinstance(records["model"].dtype, pd.CategoricalDtype)  # strings come back dictionary-encoded
    clean = records[records["perturbation"] == "clean"].groupby("model", observed=True)["correct"].mean()
    clean.index = clean.index.astype(str)
    expected = summary[summary["perturbation"] == "clean"].set_index("model")["accuracy"]
    pd.testing.assert_series_equal(clean.sort_index(), expected.sort_index(), check_names=False)
    assert (records.loc[records["family"] == "ood", "label"] == -1).all()
    # each record's confidence and prediction are the float64 softmax of its stored logits
    probs = softmax(np.stack(records["logits"].to_numpy()).astype(np.float64))
    np.testing.assert_allclose(records["confidence"], probs.max(axis=1), rtol=1e-12)
    assert (records["prediction"] == probs.argmax(axis=1)).all()
    assert (records["correct"] == (records["prediction"] == records["label"])).all()
    # o(f) in the summary is the mean confidence of each group's wrong records
    wrong = records[~records["correct"] & (records["family"] != "ood")]
    mean_wrong = wrong.groupby(["model", "perturbation"], observed=True)["confidence"].mean()
    of = summary.set_index(["model", "perturbation"])["overconfidence"].loc[mean_wrong.index]
    np.testing.assert_allclose(of.to_numpy(), mean_wrong.to_numpy(), rtol=1e-9)


def test_robust_twins_are_less_overconfident(quick_run: RunFixture) -> None:
    """The paper's central finding, on this demo's fixed seeds: lower o(f) for the robust twin of every pair."""
    out, *_ = quick_run
    summary = pd.read_csv(out / "summary.csv")
    for perturbation in ("clean", SMALL.perturbations()[1]):
        rows = summary[summary["perturbation"] == perturbation].pivot(index="pair", columns="robust", values="overconfidence")
        assert (rows[True] < rows[False]).all(), (perturbation, rows)


def test_figures_report_and_manifest(quick_run: RunFixture) -> None:
    out, *_ = quick_run
    figures = {p.name for p in (out / "report" / "figures").glob("*.png")}
    for prefix in ("fig1_", "fig2_", "fig3_", "fig4_", "fig5_"):
        assert any(name.startswith(prefix) for name in figures), prefix
    html = (out / "report" / "report.html").read_text()
    for png in (out / "report" / "figures").glob("*.png"):  # every figure is embedded in the page
        assert base64.b64encode(png.read_bytes()).decode("ascii") in html, png.name
    manifest = read_manifest(out)
    assert len(manifest["models"]) == 2 * len(PAIRS)
    for model in manifest["models"]:
        assert model["sha256"] == sha256_file(Path(model["checkpoint"]))
        assert model["sha256"] in html  # the page shows each checkpoint's hash
    assert manifest["data"]["sha256"] == fashion_mnist.fingerprint()


def test_demo_commands_name_the_cells_of_their_spec_files(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``overconf demo [--quick]`` and ``overconf run examples/demo[-quick].toml`` resolve to cells of identical
    configuration (model cache keys, data fingerprint, every perturbation parameter, seed: what decides that a
    cell is done), so they compute the same records; the command lists exactly those cells."""
    from overconf.run.plan import resolve
    from overconf.run.spec import load_spec

    try:
        fashion_mnist.find_dir()
    except MissingFileError:
        pytest.skip("Fashion-MNIST is not installed (make data)")
    small = demo_spec_file(tmp_path / "small.toml", SMALL)
    for spec_file, config in ((EXAMPLES / "demo.toml", DemoConfig()), (EXAMPLES / "demo-quick.toml", DemoConfig.quick()),
                              (small, SMALL)):
        loaded, built = load_spec(spec_file), demo_spec(config)
        assert (loaded.pairs, loaded.data, loaded.specs, loaded.n_examples, loaded.seed, loaded.batch_size) == (
            built.pairs, built.data, built.specs, built.n_examples, built.seed, built.batch_size), spec_file
    from_file, from_demo = resolve(load_spec(EXAMPLES / "demo-quick.toml"), progress=False), resolve(
        demo_spec(DemoConfig.quick()), progress=False)
    assert len(from_file.cells) == 2 * len(PAIRS) * (3 + len(CORRUPTIONS) + len(OOD_SETS))
    assert [(c.name, c.config) for c in from_file.cells] == [(c.name, c.config) for c in from_demo.cells]
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    listed = []
    for args in (["demo", "--quick"], ["run", str(EXAMPLES / "demo-quick.toml")]):
        code, out, err = in_process([*args, "--out", str(tmp_path / "quick"), "--dry-run"], monkeypatch, capsys)
        assert code == 0, err
        assert f"{len(from_file.cells)} cells; 0 done, {len(from_file.cells)} to compute" in out, out[:500]
        listed.append([line for line in out.splitlines() if line.startswith("  todo")])
    assert listed[0] == listed[1] and len(listed[0]) == len(from_file.cells)
    assert not (tmp_path / "quick").exists() and not (tmp_path / "cache" / "models").exists()


def test_rerun_resumes_and_trains_nothing(quick_run: RunFixture, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out, cache, first, spec = quick_run
    assert first.stderr.count("trained ") == 2 * len(PAIRS)
    stamps = {p: p.stat().st_mtime_ns for p in (out / "records").glob("*/*.parquet")}
    assert len(stamps) == 2 * len(PAIRS) * len(expand_perturbations(SMALL.perturbations(), fashion_mnist.NAME, None, 0.1))
    monkeypatch.setenv("OVERCONF_CACHE", str(cache))
    code, _, err = in_process(["run", str(spec), "--out", str(out), "--no-report"], monkeypatch, capsys)
    assert code == 0, err[-3000:]
    assert "trained " not in err and "loaded " not in err and f"0 cells computed, {len(stamps)} already done" in err
    assert {p: p.stat().st_mtime_ns for p in (out / "records").glob("*/*.parquet")} == stamps
    train = fashion_mnist.load_fashion_mnist("train")
    sha = fashion_mnist.fingerprint()
    assert not any(train_or_load(c, train, sha, cache_dir=cache, progress=False).trained_now
                   for _, c in pair_configs(SMALL))


def test_killed_run_keeps_finished_cells_and_resumes_to_the_same_result(
        quick_run: RunFixture, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """A run killed (SIGKILL) once its first record file exists leaves only complete files; rerun, it computes
    the rest, and every record equals the uninterrupted run's (same cells: first pair, models cached)."""
    import signal
    import time

    import pyarrow.parquet as pq

    out, cache, _, _ = quick_run
    pair = PAIRS[0][0]
    spec = demo_spec_file(tmp_path / "killed.toml", SMALL, pairs=(pair,), specs=KILLED_SPECS)
    target = tmp_path / "killed"
    env = {"OVERCONF_CACHE": str(cache)}
    process = subprocess.Popen([sys.executable, "-m", "overconf", "run", str(spec), "--out", str(target), "--no-report"],
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while not list(target.glob("records/*/*.parquet")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert running, "the run ended (or the deadline passed) before its first record file appeared"
    total = 2 * len(KILLED_SPECS)
    finished = list(target.glob("records/*/*.parquet"))
    assert 1 <= len(finished) < total
    for path in finished:  # every file present is complete
        assert pq.read_table(path).num_rows > 0
    monkeypatch.setenv("OVERCONF_CACHE", str(cache))
    code, _, err = in_process(["run", str(spec), "--out", str(target), "--no-report"], monkeypatch, capsys)
    assert code == 0, err[-2000:]
    assert f"{total - len(finished)} cells computed, {len(finished)} already done" in err and "trained " not in err
    resumed = sorted(p.relative_to(target) for p in target.glob("records/*/*.parquet"))
    assert len(resumed) == total
    columns = ["index", "label", "prediction", "confidence", "correct", "logits"]
    for relative in resumed:
        assert pq.read_table(target / relative, columns=columns).equals(pq.read_table(out / relative, columns=columns)), relative
    ours = pd.read_csv(target / "summary.csv")
    theirs = pd.read_csv(out / "summary.csv")
    theirs = theirs[theirs["pair"] == pair].set_index(["model", "perturbation"]).loc[
        ours.set_index(["model", "perturbation"]).index].reset_index()
    pd.testing.assert_frame_equal(ours[theirs.columns], theirs)


def test_out_dir_of_another_configuration_is_refused(quick_run: RunFixture, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out, cache, _, _ = quick_run
    stamps = {p: p.stat().st_mtime_ns for p in (out / "records").glob("*/*.parquet")}
    monkeypatch.setenv("OVERCONF_CACHE", str(cache))
    code, _, err = in_process(["demo", "--out", str(out)], monkeypatch, capsys)
    assert code == 2 and "holds a different demo run" in err, err[-2000:]
    assert "trained " not in err and {p: p.stat().st_mtime_ns for p in (out / "records").glob("*/*.parquet")} == stamps


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    for args in (["report", str(tmp_path)], ["demo", "--device", "bogus", "--out", str(tmp_path)],
                 ["data", "fetch", "cifar10"], ["demo", "--quick", "--out", str(tmp_path / "a-file" / "run")],
                 ["zoo", "list", "--dataset", "mnist"],
                 ["evaluate", "--zoo", "cifar10", "--out", str(tmp_path / "z"), "--perturbations", "pgd:steps=x"]):
        code, _, err = in_process(args, monkeypatch, capsys)
        assert code == 2, (args, err)
        assert "error:" in err and "hint:" in err and "Traceback" not in err, args
