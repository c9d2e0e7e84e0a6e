"""Spec files: the contract keys, errors naming file/line/closest key, and a user's pair on an image folder."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from overconf.errors import ConfigError, DataError
from overconf.run.runner import run_spec
from overconf.run.spec import load_spec, parse_spec_text
from overconf.store.parquet import read_cell, read_records

CONTRACT = '''
out = "runs/mine"
seed = 0
device = "auto"
batch_size = 256

[data]
dataset = "imagefolder"
path = "data/test"
num_classes = 10
image_size = 32
n_examples = 1000

[[pair]]
name = "mine"
robust = { entry_point = "mymodels:robust_net", checkpoint = "ckpt/robust.pt" }
normal = { entry_point = "mymodels:normal_net", checkpoint = "ckpt/normal.safetensors", mean = [0.49, 0.48, 0.45], std = [0.25, 0.24, 0.26] }

[perturbations]
specs = ["clean", "pgd:steps=20", "square:n_queries=1000", "fog:severity=3", "ood-uniform"]
n_examples = { attack = 500, corruption = 500, ood = 500 }
'''


def test_the_contract_spec_parses(tmp_path: Path) -> None:
    spec = parse_spec_text(CONTRACT, "mine.toml", tmp_path)
    assert spec.out == Path("runs/mine") and spec.batch_size == 256 and spec.precision == "fp32"
    assert spec.data.path == tmp_path / "data/test" and spec.data.n_examples == 1000 and spec.data.image_size == 32
    assert spec.pairs[0].normal.mean == (0.49, 0.48, 0.45) and spec.pairs[0].robust.checkpoint == tmp_path / "ckpt/robust.pt"
    assert spec.specs[1] == "pgd:steps=20" and spec.n_examples == {"attack": 500, "corruption": 500, "ood": 500}


@pytest.mark.parametrize(("old", "new", "line", "expected"), [
    ("batch_size = 256", "batchsize = 256", 5, "did you mean 'batch_size'"),
    ("num_classes = 10", "num_class = 10", 10, "did you mean 'num_classes'"),
    ('robust = { entry_point', 'robust = { entrypoint', 16, "did you mean 'entry_point'"),
    ("n_examples = { attack", "n_examples = { atack", 21, "did you mean 'attack'"),
])
def test_misspelt_keys_name_file_line_and_closest_key(old: str, new: str, line: int, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_spec_text(CONTRACT.replace(old, new), "mine.toml")
    assert info.value.message.startswith(f"mine.toml:{line}: unknown key"), info.value.message
    assert expected in (info.value.hint or "")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("seed = 0", "seed = -1", "seed=-1: must be an integer >= 0"),
    ("batch_size = 256", 'batch_size = "big"', "batch_size='big': must be an integer >= 1"),
    ('device = "auto"', 'device = "gpu"', "device='gpu': must be auto, cpu, cuda, cuda:N or mps"),
    ("image_size = 32", "image_size = 0", "image_size=0: must be an integer >= 1"),
    ('dataset = "imagefolder"', 'dataset = "imagefoldr"', "unknown dataset 'imagefoldr'"),
    ("std = [0.25, 0.24, 0.26]", "std = [0.25, 0.0, 0.26]", "std must be positive"),
    ('"ood-uniform"]', '3]', "non-empty list of spec strings"),
    ("num_classes = 10\n", "\n", "needs path and num_classes"),
])
def test_values_are_type_and_range_checked(old: str, new: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_spec_text(CONTRACT.replace(old, new, 1), "mine.toml")


def test_my_pair_example_runs_resumes_and_refuses_a_mix(my_pair: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # entry points resolve beside the spec file, not through the cwd or PYTHONPATH
    assert "mymodels" not in sys.modules
    out = tmp_path / "run"
    first = run_spec(my_pair, out=out, progress=False, report=False)
    assert len(first.written) == 8
    records = read_records(out)
    assert records.groupby("perturbation").size().to_dict() == {"clean": 80, "fog:severity=3": 40,
                                                                "ood-uniform": 40, "pgd:steps=5": 40}
    # The normal model's clean logits are its net on normalised images (mean/std wrapper).
    import mymodels

    from overconf.data.folder import load_image_folder
    from overconf.zoo.loaders import load_weights

    net = load_weights(mymodels.normal_net(), my_pair.parent / "ckpt" / "normal.safetensors").eval()
    images = load_image_folder(path=my_pair.parent / "data/test", num_classes=10, image_size=32)
    sample = json.loads((out / "run.json").read_text())["data"]["sample_indices"]  # the class-stratified sample
    assert len(sample) == 40 and sorted({images.samples[i][1] for i in sample}) == list(range(10))
    x = torch.stack([images[i][0] for i in sample])
    mean, std = torch.tensor([0.49, 0.48, 0.45]).view(1, 3, 1, 1), torch.tensor([0.25, 0.24, 0.26]).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = net((x - mean) / std).numpy()
    clean = records[(records["model"] == "mine-normal") & (records["perturbation"] == "clean")].sort_values("index")
    np.testing.assert_allclose(np.stack(clean["logits"].to_list()), expected, rtol=1e-5, atol=1e-6)
    # Every record file carries its cell's full configuration; run.json lists the same.
    pgd = out / "records" / "mine-robust" / "pgd_steps=5.parquet"
    cell = read_cell(pgd)
    assert cell is not None
    params = cell["config"]["perturbation"]
    assert params["eps"] == pytest.approx(8 / 255) and params["steps"] == 5 and params["step_size"] == pytest.approx(2.5 * 8 / 255 / 5)
    assert cell["config"]["model"]["checkpoint_sha256"] and cell["config"]["data"]["n_examples"] == 20
    assert cell["config"]["data"]["size"] == 50 and cell["config"]["precision"] == "fp32"
    assert "torch" in cell["provenance"]["versions"] and cell["provenance"]["device"] == "cpu"
    manifest = json.loads((out / "run.json").read_text())
    listed = {(c["model"], c["perturbation"]): c["config"] for c in manifest["cells"]}
    assert listed[("mine-robust", "pgd:steps=5")] == cell["config"] and manifest["overconf_version"]
    # Rerun: nothing to do.  Another n_examples: refused, naming the key; --overwrite replaces those cells.
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("records/*/*.parquet")}
    assert run_spec(my_pair, out=out, progress=False, report=False).written == []
    changed = my_pair.parent / "changed.toml"
    changed.write_text(my_pair.read_text().replace("n_examples = 40", "n_examples = 30"))
    with pytest.raises(ConfigError, match=r"differs in data\.n_examples"):
        run_spec(changed, out=out, progress=False, report=False)
    assert {p: p.stat().st_mtime_ns for p in out.glob("records/*/*.parquet")} == stamps
    again = run_spec(changed, out=out, progress=False, report=False, overwrite=True)
    assert sorted(p.parent.name for p in again.written) == ["mine-normal", "mine-robust"]
    assert pq.read_table(out / "records" / "mine-robust" / "clean.parquet").num_rows == 30


def test_dry_run_writes_nothing_and_too_many_examples_is_an_error(my_pair: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "dry"
    run_spec(my_pair, out=out, dry_run=True, progress=False)
    printed = capsys.readouterr().out
    assert not out.exists()
    assert "2 models × 4 perturbations = 8 cells; 0 done, 8 to compute" in printed and "estimated cost" in printed
    big = my_pair.parent / "big.toml"
    big.write_text(my_pair.read_text().replace("n_examples = 40", "n_examples = 500"))
    with pytest.raises(DataError, match="n_examples = 500 but the data set holds only 50"):
        run_spec(big, out=out, dry_run=True, progress=False)


def test_cli_run_reports_one_line_errors(tmp_path: Path) -> None:
    import subprocess

    bad = tmp_path / "bad.toml"
    bad.write_text(CONTRACT.replace("num_classes = 10", "num_clases = 10"))
    result = subprocess.run([sys.executable, "-m", "overconf", "run", str(bad)], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{bad}:10: unknown key 'num_clases'" in " ".join(result.stderr.split()) and "did you mean 'num_classes'" in result.stderr


def test_examples_parse() -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    for path in sorted(examples.glob("**/*.toml")):
        load_spec(path)


def test_a_model_with_wrong_outputs_fails_the_run_after_the_others_finish(
        my_pair: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """One model gives 9 logits for 10 classes: its error is printed, the other model's cells and the summary
    are written, and the command exits 1 with a last line naming the failed model."""
    from overconf.cli import main

    (my_pair.parent / "badmodels.py").write_text(
        "from torch import nn\n\n\ndef nine_logits():\n"
        "    return nn.Sequential(nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(12, 9))\n")
    spec = my_pair.parent / "bad.toml"
    spec.write_text(my_pair.read_text().replace(
        'robust = { entry_point = "mymodels:robust_net", checkpoint = "ckpt/robust.pt" }',
        'robust = { entry_point = "badmodels:nine_logits" }'))
    out = tmp_path / "out"
    for command in (["run", str(spec), "--out", str(out), "--no-report"],) * 2:  # a rerun fails the same way
        monkeypatch.setattr(sys, "argv", ["overconf", *command])
        with pytest.raises(SystemExit) as exit_info:
            main()
        captured = capsys.readouterr()
        assert exit_info.value.code == 1, captured.err
        assert "Traceback" not in captured.err
        errors = [line for line in captured.err.splitlines() if line.startswith("error: ")]
        assert len(errors) == 2 and "mine-robust" in errors[0] and "remaining cells are skipped" in errors[0]
        assert errors[1] == "error: 1 of 2 models failed and have cells missing: mine-robust (the error lines above say why)"
        assert captured.err.rstrip().splitlines()[-1].startswith("hint: fix those models")
        assert sorted(p.name for p in (out / "records" / "mine-normal").iterdir()) == [
            "clean.parquet", "fog_severity=3.parquet", "ood-uniform.parquet", "pgd_steps=5.parquet"]
        assert not (out / "records" / "mine-robust").exists() or not list((out / "records" / "mine-robust").glob("*.parquet"))
        summary = (out / "summary.csv").read_text()
        assert "mine-normal" in summary and "mine-robust" not in summary


def test_entry_point_kwargs_and_strip_prefix_load_without_a_wrapper_file(tmp_path: Path) -> None:
    """torchvision.models:resnet18 built with kwargs = { num_classes = 2 }, its weights saved under a ``net.``
    prefix and loaded with strip_prefix: the run's logits are the model's."""
    import torchvision

    from overconf.run.plan import resolve

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "data.npz", x=rng.integers(0, 256, (6, 16, 16, 3), dtype=np.uint8), y=np.arange(6) % 2)
    torch.manual_seed(0)
    net = torchvision.models.resnet18(num_classes=2).eval()
    torch.save({"state_dict": {f"net.{k}": v for k, v in net.state_dict().items()}}, tmp_path / "r18.pt")
    member = '{ entry_point = "torchvision.models:resnet18", kwargs = { num_classes = 2 }, checkpoint = "r18.pt", ' \
             'strip_prefix = "net." }'
    (tmp_path / "spec.toml").write_text(
        f'out = "{tmp_path}/run"\ndevice = "cpu"\n[data]\ndataset = "npz"\npath = "data.npz"\nnum_classes = 2\n'
        f'[[pair]]\nname = "r"\nrobust = {member}\nnormal = {member}\n')
    spec = load_spec(tmp_path / "spec.toml")
    assert spec.pairs[0].robust.kwargs == {"num_classes": 2} and spec.pairs[0].robust.strip_prefix == "net."
    model = resolve(spec, progress=False).models[0].load()
    x = torch.rand(2, 3, 16, 16)
    with torch.no_grad():
        torch.testing.assert_close(model(x), net(x))
    with pytest.raises(ConfigError, match="strip_prefix needs a checkpoint"):
        parse_spec_text((tmp_path / "spec.toml").read_text().replace('checkpoint = "r18.pt", ', ""), "s.toml", tmp_path)


def test_mode_converts_a_grayscale_folder_for_an_rgb_model(tmp_path: Path) -> None:
    from PIL import Image

    from overconf.run.plan import resolve

    for k in range(4):
        (tmp_path / "gray" / f"c{k % 2}").mkdir(parents=True, exist_ok=True)
        Image.new("L", (8, 8), color=40 * k).save(tmp_path / "gray" / f"c{k % 2}" / f"{k}.png")
    (tmp_path / "m.py").write_text("from torch import nn\n\ndef rgb():\n    return nn.Sequential(nn.Conv2d(3, 2, 8), "
                                   "nn.Flatten())\n")
    text = ('out = "run"\ndevice = "cpu"\n[data]\ndataset = "imagefolder"\npath = "gray"\nnum_classes = 2\nmode = "RGB"\n'
            '[[pair]]\nname = "p"\nrobust = { entry_point = "m:rgb" }\nnormal = { entry_point = "m:rgb" }\n')
    plan = resolve(parse_spec_text(text, "s.toml", tmp_path), progress=False)
    image = plan.cells[0].data()[3][0]
    assert image.shape == (3, 8, 8) and torch.allclose(image, torch.full((3, 8, 8), 120 / 255))
    assert plan.cells[0].config["data"]["mode"] == "RGB"
    with pytest.raises(ConfigError, match="mode='rgb': must be one of RGB, L"):
        parse_spec_text(text.replace('mode = "RGB"', 'mode = "rgb"'), "s.toml", tmp_path)
    with pytest.raises(ConfigError, match="mode applies to imagefolder data, not 'npz'"):
        parse_spec_text(text.replace('"imagefolder"', '"npz"'), "s.toml", tmp_path)
