"""``overconf evaluate --zoo`` and ``overconf zoo list|verify`` on a tiny local zoo (random weights, 6 images)."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from overconf.cli import app
from overconf.errors import MissingFileError
from overconf.files import sha256_file
from overconf.run.zoo import evaluate_zoo
from overconf.store.parquet import read_records
from overconf.store.run_json import read_manifest
from overconf.zoo import load_catalogue, load_model
from overconf.zoo.fetch import record_checksum

warnings.filterwarnings("ignore", category=UserWarning)
MODEL_ID = "Andriushchenko2020Understanding"


@pytest.fixture()
def zoo(tmp_path, random_state, lightning_tar):
    """A models folder holding one CIFAR-10 pair (PreActResNet-18) and a data folder with 6 test images."""
    models = tmp_path / "models"
    robust = models / "cifar10" / "Linf" / f"{MODEL_ID}.pt"
    robust.parent.mkdir(parents=True)
    torch.save({"last": random_state("cifar10", MODEL_ID, seed=0)}, robust)
    normal = models / "cifar10" / "normal" / f"cifar10_normal_robustbench_{MODEL_ID}.tar"
    lightning_tar(normal, MODEL_ID, random_state("cifar10", MODEL_ID, seed=1))
    data = tmp_path / "data" / "cifar-10-batches-py"
    data.mkdir(parents=True)
    rng = np.random.default_rng(0)
    batch = {"data": rng.integers(0, 256, (6, 3072), dtype=np.uint8), "labels": [0, 1, 2, 3, 4, 5]}
    (data / "test_batch").write_bytes(pickle.dumps(batch))
    return tmp_path, models, robust, normal


def test_evaluate_runs_present_pairs_and_skips_missing(zoo):
    root, models, robust, normal = zoo
    out = root / "run"
    result = evaluate_zoo(
        "cifar10", out, pairs=[MODEL_ID, "Wong2020Fast"], models_dir=models, data_dir=root / "data",
        n_examples=4, perturbations={"specs": ["clean", "pgd:steps=2"], "n_examples": {"attack": 3}}, batch_size=4, device="cpu",
        report=False, progress=False,
    )
    assert result.models == [f"{MODEL_ID}_normal", MODEL_ID]
    assert [r for r, _ in result.skipped] == ["Wong2020Fast"]
    assert result.skipped[0][1].endswith("cifar10/Linf/Wong2020Fast.pt")
    records = read_records(out)
    assert len(records) == 2 * (4 + 3)  # attacks on the first 3 samples only
    assert set(records["pair"]) == {MODEL_ID} and records.groupby("model")["robust"].first().to_dict() == {
        MODEL_ID: True, f"{MODEL_ID}_normal": False}
    # The clean records are the model's own logits on the first 4 images.
    model = load_model(load_catalogue().select("cifar10", [MODEL_ID]).pairs[0].robust, models)
    x = torch.from_numpy(np.stack([np.asarray(pickle.loads((root / "data/cifar-10-batches-py/test_batch")
                                                          .read_bytes())["data"][i]) for i in range(4)]))
    with torch.no_grad():
        expected = model(x.view(4, 3, 32, 32).float() / 255).numpy()
    clean = records[(records["model"] == MODEL_ID) & (records["perturbation"] == "clean")].sort_values("index")
    np.testing.assert_allclose(np.stack(clean["logits"].to_list()), expected, rtol=1e-5, atol=1e-5)
    manifest = read_manifest(out)
    by_model = {m["model"]: m for m in manifest["models"]}
    assert by_model[MODEL_ID]["sha256"] == sha256_file(robust)
    assert by_model[f"{MODEL_ID}_normal"]["sha256"] == sha256_file(normal)
    assert by_model[MODEL_ID]["config"]["activation"] == "relu"
    assert manifest["perturbations"] == ["clean", "pgd:steps=2"] and manifest["data"]["n_examples"] == 4
    # A rerun finds every cell done and writes nothing.
    again = evaluate_zoo("cifar10", out, pairs=[MODEL_ID], models_dir=models, data_dir=root / "data",
                         n_examples=4, perturbations={"specs": ["clean", "pgd:steps=2"], "n_examples": {"attack": 3}}, device="cpu", report=False,
                         progress=False)
    assert again.written == []


def test_evaluate_errors(zoo):
    root, models, _, _ = zoo
    with pytest.raises(MissingFileError, match="none of the 1 selected") as info:
        evaluate_zoo("cifar10", root / "run", pairs=["Wong2020Fast"], models_dir=models, report=False)
    assert "overconf zoo fetch" in info.value.hint
    # Without CIFAR-10-C, corruptions expands to the 15 generated corruptions (severity 3 unless given).
    dry = evaluate_zoo("cifar10", root / "run", pairs=[MODEL_ID], models_dir=models, data_dir=root / "data",
                       perturbations=["clean", "corruptions:severity=2"], report=False, dry_run=True)
    assert dry.written == [] and not (root / "run").exists()


def test_corruptions_expand_to_the_pregenerated_sets(tmp_path, monkeypatch):
    """A user pair of tiny entry-point models (75 sets × 2 models must stay cheap) on a small CIFAR-10-C."""
    from overconf.data.corruptions import CORRUPTIONS

    (tmp_path / "tinynets.py").write_text(
        "import torch\n"
        "def tiny():\n"
        "    torch.manual_seed(0)\n"
        "    return torch.nn.Sequential(torch.nn.AvgPool2d(8), torch.nn.Flatten(), torch.nn.Linear(48, 10))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "pairs.toml").write_text(
        '[[pair]]\ndataset = "cifar10"\nrobust_id = "TinyRobust"\nnormal_id = "TinyNormal"\narchitecture = "Linear"\n'
        'robust = { entry_point = "tinynets:tiny" }\nnormal = { entry_point = "tinynets:tiny" }\n'
    )
    data = tmp_path / "data"
    (data / "cifar-10-batches-py").mkdir(parents=True)
    batch = {"data": np.zeros((4, 3072), np.uint8), "labels": [0, 1, 2, 3]}
    (data / "cifar-10-batches-py" / "test_batch").write_bytes(pickle.dumps(batch))
    folder = data / "CIFAR-10-C"
    folder.mkdir()
    rng = np.random.default_rng(1)
    n = 3  # images per severity
    for name in CORRUPTIONS:
        np.save(folder / f"{name}.npy", rng.integers(0, 256, (5 * n, 32, 32, 3), dtype=np.uint8))
    np.save(folder / "labels.npy", np.tile(np.arange(n), 5).astype(np.uint8))
    out = tmp_path / "run"
    evaluate_zoo("cifar10", out, catalogue=tmp_path / "pairs.toml", models_dir=tmp_path, data_dir=data,
                 n_examples=2, perturbations=["corruptions"], device="cpu", report=False, progress=False)
    records = read_records(out)
    assert set(records["family"]) == {"corruption"} and len(records) == 2 * 15 * 5 * 2
    cell = records[(records["model"] == "TinyRobust") & (records["perturbation"] == "fog:severity=4")]
    images = np.load(folder / "fog.npy")[3 * n:3 * n + 2]
    from tinynets import tiny

    with torch.no_grad():
        expected = tiny()(torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255).numpy()
    np.testing.assert_allclose(np.stack(cell.sort_values("index")["logits"].to_list()), expected, rtol=1e-5, atol=1e-6)
    assert sorted(cell["index"]) == [0, 1] and len(read_manifest(out)["perturbations"]) == 75


def test_cli_list_and_verify(zoo):
    _root, models, robust, _ = zoo
    runner = CliRunner()
    listed = runner.invoke(app, ["zoo", "list", "--dataset", "cifar10", "--pairs", f"{MODEL_ID},Wong2020Fast",
                                 "--models-dir", str(models)])
    assert listed.exit_code == 0, listed.output
    assert "present" in listed.output and "missing" in listed.output
    record_checksum(models, robust, "file:///x", sha256_file(robust))
    verified = runner.invoke(app, ["zoo", "verify", "--pairs", MODEL_ID, "--models-dir", str(models)])
    assert verified.exit_code == 0, verified.output
    robust.write_bytes(robust.read_bytes()[:-10])  # truncated: hash differs from the record
    failed = runner.invoke(app, ["zoo", "verify", "--pairs", MODEL_ID, "--models-dir", str(models)])
    assert failed.exit_code != 0 and "differs from the recorded" in failed.output


@pytest.mark.parametrize("flag", ["--zoo", "--dataset"])
def test_evaluate_takes_the_data_set_as_zoo_or_dataset(flag, monkeypatch, tmp_path):
    """``--zoo DATASET`` (the contract spelling) and ``--dataset DATASET`` (as in ``zoo list``) are one option."""
    import overconf.run.zoo

    calls = []
    monkeypatch.setattr(overconf.run.zoo, "evaluate_zoo", lambda dataset, out, **kw: calls.append((dataset, out))
                        or overconf.run.zoo.RunResult(out=out, models=[], skipped=[], report=None))
    result = CliRunner().invoke(app, ["evaluate", flag, "cifar100", "--out", str(tmp_path / "run"), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert calls == [("cifar100", tmp_path / "run")]


def test_zoo_verify_accuracy_compares_with_the_published_figure(zoo):
    root, models, _, _ = zoo
    result = CliRunner().invoke(app, ["zoo", "verify", "--dataset", "cifar10", "--pairs", MODEL_ID, "--models-dir",
                                      str(models), "--accuracy", "--n-examples", "6", "--data-dir", str(root / "data"),
                                      "--device", "cpu"])
    lines = [line for line in result.output.splitlines() if "clean accuracy" in line]
    assert len(lines) == 2, result.output
    assert "published 79.84%" in "".join(lines) and "no published figure" in "".join(lines)
    assert (result.exit_code != 0) == ("BELOW" in result.output)  # random weights: flagged only if 0 of 6 right
