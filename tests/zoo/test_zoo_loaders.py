"""Zoo loaders against RobustBench's own ``load_model`` on random-weight checkpoints in each published layout."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from overconf.errors import CheckpointError, MissingFileError
from overconf.zoo import load_catalogue, load_model, read_pairs_file
from overconf.zoo.loaders import build_robustbench_architecture, sources

warnings.filterwarnings("ignore", category=UserWarning)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def _robustbench_logits(model_id: str, models_dir: Path, dataset: str, x: torch.Tensor) -> torch.Tensor:
    from overconf._compat import import_robustbench

    import_robustbench()
    from robustbench.utils import load_model as rb_load_model

    with torch.no_grad():
        return rb_load_model(model_id, model_dir=str(models_dir), dataset=dataset, threat_model="Linf")(x)


def _ours(catalogue, dataset: str, robust_id: str, robust: bool, models_dir: Path):
    pair = next(p for p in catalogue.select(dataset).pairs if p.robust.model_id == robust_id)
    return load_model(pair.robust if robust else pair.normal, models_dir)


@pytest.mark.parametrize(
    ("dataset", "model_id", "layout"),
    [
        # RobustBench takes checkpoint['last'] for this model: a {'last', 'best'} file.
        ("cifar10", "Andriushchenko2020Understanding", "last_best"),
        # {'state_dict': …} with DataParallel's `module.` prefix; the file lacks the mu/sigma buffers.
        ("cifar10", "Wong2020Fast", "module_state_dict"),
        # A plain state dict with a `model.` prefix (Swish PreAct-ResNet-18 with normalisation inside).
        ("cifar100", "Rebuffi2021Fixing_R18_ddpm", "model_prefix"),
    ],
)
def test_robust_cifar_logits_equal_robustbench(tmp_path, catalogue, random_state, dataset, model_id, layout):
    state = random_state(dataset, model_id, seed=1)
    path = tmp_path / dataset / "Linf" / f"{model_id}.pt"
    path.parent.mkdir(parents=True)
    if layout == "last_best":
        torch.save({"last": state, "best": random_state(dataset, model_id, seed=2)}, path)
    elif layout == "module_state_dict":
        kept = {k: v for k, v in state.items() if k not in ("mu", "sigma")}
        torch.save({"state_dict": {f"module.{k}": v for k, v in kept.items()}, "epoch": 30}, path)
    else:
        torch.save({f"model.{k}": v for k, v in state.items()}, path)
    x = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    ours = _ours(catalogue, dataset, model_id, True, tmp_path)
    with torch.no_grad():
        got = ours(x)
    expected = _robustbench_logits(model_id, tmp_path, dataset, x)
    torch.testing.assert_close(got, expected, rtol=0, atol=0)
    assert got.std() > 0


def test_robust_imagenet_logits_equal_robustbench(tmp_path, catalogue, randomized):
    model_id = "Salman2020Do_R18"
    net = build_robustbench_architecture("imagenet", model_id)  # Sequential(normalize, model)
    state = {f"module.model.{k}": v for k, v in randomized(net.model.state_dict(), seed=3).items()}
    path = tmp_path / "imagenet" / "Linf" / f"{model_id}.pt"
    path.parent.mkdir(parents=True)
    torch.save({"model": state, "epoch": 90}, path)
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        got = _ours(catalogue, "imagenet", model_id, True, tmp_path)(x)
    # RobustBench looks in checkpoint['state_dict'] or the checkpoint itself; give it that layout.
    torch.save(state, path)
    torch.testing.assert_close(got, _robustbench_logits(model_id, tmp_path, "imagenet", x), rtol=0, atol=0)


def test_normal_cifar_twin_from_lightning_tar(tmp_path, catalogue, random_state, lightning_tar, monkeypatch):
    model_id = "Andriushchenko2020Understanding"
    state = random_state("cifar10", model_id, seed=4)
    pair = next(p for p in catalogue.select("cifar10").pairs if p.robust.model_id == model_id)
    (source,) = sources(pair.normal, tmp_path)
    assert source.path.name == f"cifar10_normal_robustbench_{model_id}.tar"
    assert "zenodo.org/records/7097538/files/" in source.url
    lightning_tar(source.path, model_id, state)
    monkeypatch.delitem(sys.modules, "utils")  # loading must not need the authors' module
    reference = build_robustbench_architecture("cifar10", model_id)
    reference.load_state_dict(state)
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        torch.testing.assert_close(load_model(pair.normal, tmp_path)(x), reference.eval()(x), rtol=0, atol=0)


def test_normal_imagenet_twin_from_timm_safetensors(tmp_path, catalogue):
    import timm

    pair = next(p for p in catalogue.select("imagenet").pairs if p.normal.model_id == "resnet18")
    (source,) = sources(pair.normal, tmp_path)
    assert source.url == "https://download.pytorch.org/models/resnet18-5c106cde.pth"
    torch.manual_seed(6)
    net = timm.create_model("resnet18", pretrained=False).eval()
    source.path.parent.mkdir(parents=True)
    save_file(net.state_dict(), str(source.path.with_suffix(".safetensors")))
    x = torch.rand(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(load_model(pair.normal, tmp_path)(x), net((x - mean) / std))


def test_user_pair_from_toml_with_entry_points(tmp_path, monkeypatch):
    (tmp_path / "mynets.py").write_text(
        "import torch\n"
        "def tiny():\n"
        "    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 10))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    torch.manual_seed(7)
    trained = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(12, 10))
    torch.save({"state_dict": {f"module.{k}": v for k, v in trained.state_dict().items()}}, tmp_path / "r.pt")
    save_file(trained.state_dict(), str(tmp_path / "n.safetensors"))
    (tmp_path / "mine.toml").write_text(
        '[[pair]]\ndataset = "cifar10"\nrobust_id = "MyRobust"\nnormal_id = "MyNormal"\narchitecture = "Linear"\n'
        f'robust = {{ entry_point = "mynets:tiny", checkpoint = "{tmp_path / "r.pt"}", training = "pgd" }}\n'
        'normal = { entry_point = "mynets:tiny", checkpoint = "n.safetensors" }\n'
    )
    (pair,) = read_pairs_file(tmp_path / "mine.toml")
    assert pair.robust.source == pair.normal.source == "entry_point" and pair.robust.meta["training"] == "pgd"
    x = torch.rand(2, 3, 2, 2)
    with torch.no_grad():
        for model in (pair.robust, pair.normal):
            torch.testing.assert_close(load_model(model, tmp_path)(x), trained(x))


def test_missing_file_names_path_and_fetch_command(tmp_path, catalogue):
    pair = catalogue.select("cifar10", ["Carmon2019Unlabeled"]).pairs[0]
    with pytest.raises(MissingFileError) as info:
        load_model(pair.robust, tmp_path)
    assert str(tmp_path / "cifar10" / "Linf" / "Carmon2019Unlabeled.pt") in info.value.message
    assert "overconf zoo fetch" in info.value.hint


def test_wrong_architecture_is_a_checkpoint_error(tmp_path, catalogue, random_state):
    path = tmp_path / "cifar10" / "Linf" / "Andriushchenko2020Understanding.pt"
    path.parent.mkdir(parents=True)
    torch.save(random_state("cifar100", "Rice2020Overfitting", seed=0), path)  # 100 classes, not 10
    pair = catalogue.select("cifar10", ["Andriushchenko2020Understanding"]).pairs[0]
    with pytest.raises(CheckpointError, match="wrong shape"):
        load_model(pair.robust, tmp_path)


def test_listing_the_packaged_models_files_needs_no_robustbench_and_agrees_with_it(tmp_path: Path) -> None:
    """model_files (plan resolution, --dry-run) takes the RobustBench models' file counts from the packaged table;
    sources (RobustBench's own gdrive ids, for fetching) must name the same paths for every catalogue model."""
    import subprocess

    code = ("import sys; from overconf.zoo import load_catalogue; from overconf.zoo.loaders import model_files; "
            f"[model_files(m, {str(tmp_path)!r}) for m in load_catalogue().models() if m.source != 'timm']; "
            "print('robustbench' in sys.modules, 'timm' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
    from overconf.zoo.loaders import model_files

    for model in load_catalogue().models():
        assert model_files(model, tmp_path) == [s.path for s in sources(model, tmp_path)], model.name
