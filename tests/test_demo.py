"""`overconf demo --quick` end to end through the real console entry point, on real Fashion-MNIST."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from overconf.data import fashion_mnist
from overconf.data.corruptions import CORRUPTIONS
from overconf.data.ood import OOD_SETS
from overconf.errors import MissingFileError
from overconf.run.data import expand_perturbations
from overconf.run.demo import PAIRS, DemoConfig, pair_configs
from overconf.run.manifest import read_manifest, sha256_file
from overconf.store.parquet import read_records
from overconf.train.cache import train_or_load

REQUIRED_COLUMNS = ["model", "pair", "robust", "perturbation", "n", "accuracy", "ece", "overconfidence",
                    "underconfidence", "conf_correct", "auroc"]


def overconf(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "overconf", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=900, check=False)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    try:
        fashion_mnist.find_dir()
    except MissingFileError:
        pytest.skip("Fashion-MNIST is not installed (make data)")
    root = tmp_path_factory.mktemp("demo")
    out, cache = root / "run", root / "cache"
    result = overconf("demo", "--quick", "--out", str(out), env={"OVERCONF_CACHE": str(cache)})
    assert result.returncode == 0, result.stderr[-3000:]
    return out, cache, result


def test_summary_has_every_model_and_perturbation(quick_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    out, _, _ = quick_run
    summary = pd.read_csv(out / "summary.csv")
    assert set(REQUIRED_COLUMNS) <= set(summary.columns)
    config = DemoConfig.quick()
    perturbations = [p.label for p in expand_perturbations(config.perturbations(), fashion_mnist.NAME, None, 0.1)]
    assert len(set(perturbations)) == 3 + len(CORRUPTIONS) + len(OOD_SETS)
    assert len(summary) == 2 * len(PAIRS) * len(perturbations)
    assert set(summary["perturbation"]) == set(perturbations)
    for pair, group in summary.groupby("pair"):
        assert group.groupby("robust")["model"].nunique().to_dict() == {False: 1, True: 1}, pair
    n = summary.set_index("perturbation")["n"]
    assert (n["clean"] == config.n_examples).all()
    assert (n[perturbations[1]] == config.n_attack).all() and (n["fog:severity=3"] == config.n_attack).all()
    assert (n["ood-digits"] == config.n_attack).all()


def test_records_match_summary(quick_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    out, _, _ = quick_run
    records = read_records(out, ["model", "perturbation", "family", "label", "prediction", "correct", "confidence",
                                 "logits"])
    summary = pd.read_csv(out / "summary.csv")
    clean = records[records["perturbation"] == "clean"].groupby("model")["correct"].mean()
    expected = summary[summary["perturbation"] == "clean"].set_index("model")["accuracy"]
    pd.testing.assert_series_equal(clean.sort_index(), expected.sort_index(), check_names=False)
    assert (records.loc[records["family"] == "ood", "label"] == -1).all()
    # each record's confidence and prediction are the float64 softmax of its stored logits
    logits = np.stack(records["logits"].to_numpy()).astype(np.float64)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(records["confidence"], probs.max(axis=1), rtol=1e-12)
    assert (records["prediction"] == probs.argmax(axis=1)).all()
    assert (records["correct"] == (records["prediction"] == records["label"])).all()
    # o(f) in the summary is the mean confidence of each group's wrong records
    wrong = records[~records["correct"] & (records["family"] != "ood")]
    mean_wrong = wrong.groupby(["model", "perturbation"])["confidence"].mean()
    of = summary.set_index(["model", "perturbation"])["overconfidence"].loc[mean_wrong.index]
    np.testing.assert_allclose(of.to_numpy(), mean_wrong.to_numpy(), rtol=1e-9)


def test_robust_twins_are_less_overconfident(quick_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    """The paper's central finding, on this demo's fixed seeds: lower o(f) for the robust twin of every pair."""
    out, _, _ = quick_run
    summary = pd.read_csv(out / "summary.csv")
    for perturbation in ("clean", DemoConfig.quick().perturbations()[1]):
        rows = summary[summary["perturbation"] == perturbation].pivot(index="pair", columns="robust", values="overconfidence")
        assert (rows[True] < rows[False]).all(), (perturbation, rows)


def test_figures_report_and_manifest(quick_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    out, _, _ = quick_run
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


def test_demo_spec_file_names_the_same_cells(quick_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    """`overconf run examples/demo-quick.toml` on the demo's folder finds every cell done with an identical
    configuration (model cache keys, data fingerprint, every perturbation parameter, seed), so it computes
    exactly the demo's records; the full spec file is the full demo's spec."""
    from overconf.run.demo import demo_spec
    from overconf.run.spec import load_spec

    out, cache, _ = quick_run
    examples = Path(__file__).resolve().parents[1] / "examples"
    dry = overconf("run", str(examples / "demo-quick.toml"), "--out", str(out), "--dry-run",
                   env={"OVERCONF_CACHE": str(cache)})
    assert dry.returncode == 0, dry.stderr[-2000:]
    total = len(list(out.glob("records/*/*.parquet")))
    assert f"{total} done, 0 to compute" in dry.stdout, dry.stdout[:500]
    for spec_file, config in (("demo.toml", DemoConfig()), ("demo-quick.toml", DemoConfig.quick())):
        loaded, built = load_spec(examples / spec_file), demo_spec(config)
        assert (loaded.pairs, loaded.data, loaded.specs, loaded.n_examples, loaded.seed, loaded.batch_size) == (
            built.pairs, built.data, built.specs, built.n_examples, built.seed, built.batch_size)


def test_rerun_resumes_and_trains_nothing(quick_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    out, cache, first = quick_run
    assert first.stderr.count("trained ") == 2 * len(PAIRS)
    stamps = {p: p.stat().st_mtime_ns for p in (out / "records").glob("*/*.parquet")}
    again = overconf("demo", "--quick", "--out", str(out), "--no-report", env={"OVERCONF_CACHE": str(cache)})
    assert again.returncode == 0, again.stderr[-3000:]
    assert "trained " not in again.stderr and "loaded " not in again.stderr
    assert {p: p.stat().st_mtime_ns for p in (out / "records").glob("*/*.parquet")} == stamps
    train = fashion_mnist.load_fashion_mnist("train")
    sha = fashion_mnist.fingerprint()
    assert not any(train_or_load(c, train, sha, cache_dir=cache, progress=False).trained_now
                   for _, c in pair_configs(DemoConfig.quick()))


def test_killed_demo_keeps_finished_cells_and_resumes_to_the_same_result(
        quick_run: tuple[Path, Path, subprocess.CompletedProcess[str]], tmp_path: Path) -> None:
    import signal
    import time

    import pyarrow.parquet as pq

    out, cache, _ = quick_run
    target = tmp_path / "killed"
    process = subprocess.Popen([sys.executable, "-m", "overconf", "demo", "--quick", "--out", str(target), "--no-report"],
                               env={**os.environ, "OVERCONF_CACHE": str(cache)}, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while len(list(target.glob("records/*/*.parquet"))) < 8 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    finished = list(target.glob("records/*/*.parquet"))
    total = len(list(out.glob("records/*/*.parquet")))
    assert 8 <= len(finished) < total
    for path in finished:  # every file present is complete
        assert pq.read_table(path).num_rows > 0
    again = overconf("demo", "--quick", "--out", str(target), "--no-report", env={"OVERCONF_CACHE": str(cache)})
    assert again.returncode == 0, again.stderr[-2000:]
    assert len(list(target.glob("records/*/*.parquet"))) == total
    pd.testing.assert_frame_equal(pd.read_csv(target / "summary.csv"), pd.read_csv(out / "summary.csv"))


def test_out_dir_of_another_configuration_is_refused(quick_run: tuple[Path, Path, subprocess.CompletedProcess[str]]) -> None:
    out, cache, _ = quick_run
    full = overconf("demo", "--out", str(out), env={"OVERCONF_CACHE": str(cache)})
    assert full.returncode == 2 and "holds a different demo run" in full.stderr, full.stderr[-2000:]
    assert "trained " not in full.stderr


def test_user_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    for args in (["report", str(tmp_path)], ["demo", "--device", "bogus", "--out", str(tmp_path)],
                 ["data", "fetch", "cifar10"], ["demo", "--quick", "--out", str(tmp_path / "a-file" / "run")],
                 ["zoo", "list", "--dataset", "mnist"],
                 ["evaluate", "--zoo", "cifar10", "--out", str(tmp_path / "z"), "--perturbations", "pgd:steps=x"]):
        result = overconf(*args, env={"OVERCONF_CACHE": str(tmp_path / "cache")})
        assert result.returncode == 2, (args, result.stderr)
        assert "error:" in result.stderr and "hint:" in result.stderr and "Traceback" not in result.stderr, args
