"""The Fashion-MNIST demo: robust/normal twins of the small CNN family, trained (or loaded from the
cache), evaluated on clean, attacked, corrupted and out-of-distribution test data, summarised and reported.

Each pair is a normally trained model and its adversarially trained twin with otherwise identical
configuration (architecture, optimiser, epochs, seed); ``--quick`` shrinks training and test sets so the
whole demo runs in about a minute (the tests use it).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd
import torch
from rich.console import Console

from overconf.data import fashion_mnist
from overconf.errors import ConfigError
from overconf.evaluation.engine import resolve_device
from overconf.evaluation.records import ModelInfo
from overconf.paths import cache_root
from overconf.report import build_report
from overconf.report.tables import write_summary
from overconf.run.local import GridModel, run_grid
from overconf.run.manifest import environment_versions, read_manifest, sha256_file, write_manifest
from overconf.train.cache import cache_key, train_or_load
from overconf.train.config import TrainConfig

console = Console(stderr=True)

#: (pair name, activation, downsampling): the building blocks the paper compares.
PAIRS: tuple[tuple[str, str, str], ...] = (
    ("relu-maxpool", "relu", "maxpool"),
    ("relu-flc", "relu", "flc"),
    ("pssilu-maxpool", "pssilu", "maxpool"),
)

#: Out-of-distribution sets of the demo (each replaces the test images; records get label −1).
OOD_SETS: tuple[str, ...] = ("ood-uniform", "ood-gaussian", "ood-digits")


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo. ``n_test``: clean samples; ``n_attack``: samples attacked, corrupted or replaced by OOD."""

    robust_training: str = "fgsm-rs"
    epochs: int = 1
    train_subset: int | None = None
    n_test: int = 10_000
    n_attack: int = 500
    square_queries: int = 200
    pgd_steps: int = 20
    seed: int = 0

    @classmethod
    def quick(cls) -> DemoConfig:
        return cls(epochs=1, train_subset=6_000, n_test=1_000, n_attack=100, square_queries=100, pgd_steps=10)

    def perturbations(self) -> list[str]:
        """Clean, L∞ PGD (final iterate), Square, the 15 corruptions at their default severity, OOD sets."""
        from overconf.data.corruptions import CORRUPTIONS

        return ["clean", f"pgd:steps={self.pgd_steps}", f"square:n_queries={self.square_queries}",
                *CORRUPTIONS, *OOD_SETS]


def pair_configs(config: DemoConfig) -> list[tuple[str, TrainConfig]]:
    """(pair, training config) for both members of every demo pair, normal first."""
    configs = []
    for pair, activation, downsampling in PAIRS:
        normal = TrainConfig(activation=activation, downsampling=downsampling, training="standard",
                             epochs=config.epochs, train_subset=config.train_subset, seed=config.seed)
        configs += [(pair, normal), (pair, replace(normal, training=config.robust_training))]
    return configs


def model_name(pair: str, train: TrainConfig) -> str:
    return f"{pair}-{'robust' if train.robust else 'normal'}"


def run_demo(out: Path, *, quick: bool = False, data_dir: Path | None = None, cache_dir: Path | None = None,
             device: str = "auto", progress: bool = True, report: bool = True) -> Path:
    """Run the demo into ``out`` (records, ``summary.csv``, ``run.json``, report); return ``out``.

    Finished cells (model × perturbation) already under ``out`` are kept, so an interrupted demo resumes.
    """
    config = DemoConfig.quick() if quick else DemoConfig()
    torch_device = resolve_device(device)
    cache_dir = cache_dir or cache_root()
    started = time.perf_counter()
    train_set = fashion_mnist.load_fashion_mnist("train", data_dir)
    test_set = fashion_mnist.load_fashion_mnist("test", data_dir).subset(config.n_test)
    data_sha = fashion_mnist.fingerprint(data_dir)

    trained: dict[str, dict] = {}

    def loader(train: TrainConfig, name: str):
        def load() -> torch.nn.Module:
            cached = train_or_load(train, train_set, data_sha, cache_dir=cache_dir, device=torch_device, progress=progress)
            verb = "trained" if cached.trained_now else "loaded"
            console.print(f"{verb} {name} ({cached.meta.get('train_seconds', '?')} s of training) ← {cached.path}")
            trained[name] = {"checkpoint": str(cached.path), "train": cached.meta}
            return cached.model
        return load

    grid, keys = [], {}
    for pair, train in pair_configs(config):
        name = model_name(pair, train)
        grid.append(GridModel(ModelInfo(name, pair, train.robust, fashion_mnist.NAME), loader(train, name)))
        keys[name] = cache_key(train, data_sha)
    check_out_dir(out, keys)
    write_manifest(out, _manifest(out, config, keys, trained, data_sha, data_dir, torch_device))
    n_perturbed = {family: config.n_attack for family in ("attack", "corruption", "ood")}
    run_grid(grid, test_set, config.perturbations(), out, n_per_family=n_perturbed, device=torch_device,
             seed=config.seed, progress=progress)
    write_manifest(out, _manifest(out, config, keys, trained, data_sha, data_dir, torch_device))
    if report:
        console.print(f"report: {build_report(out)}")
    else:
        write_summary(out)
    console.print(f"demo: {out / 'summary.csv'} written in {time.perf_counter() - started:.0f} s")
    return out


def check_out_dir(out: Path, keys: dict[str, str]) -> None:
    """Refuse to resume into a folder whose records come from other models (another configuration, other
    data, ``--quick`` vs full): every model's cache key is recorded in ``run.json`` before any record."""
    previous = {m["model"]: m.get("key") for m in read_manifest(out).get("models", [])}
    if not previous and (Path(out) / "records").is_dir():
        raise ConfigError(f"{out} holds records but no run.json, so they cannot be matched to models",
                          hint="choose another --out, or delete that folder")
    changed = sorted(name for name, key in previous.items() if keys.get(name) != key)
    if changed:
        raise ConfigError(f"{out} holds a different demo run (models {', '.join(changed)} differ)",
                          hint="choose another --out, or delete that folder to start again")


def _manifest(out: Path, config: DemoConfig, keys: dict[str, str], trained: dict[str, dict], data_sha: str,
              data_dir: Path | None, device: torch.device) -> dict:
    previous = {m["model"]: m for m in read_manifest(out).get("models", [])}
    models = []
    for pair, train in pair_configs(config):
        name = model_name(pair, train)
        entry = previous.get(name, {})
        if name in trained:
            path = Path(trained[name]["checkpoint"])
            entry = {"checkpoint": str(path), "sha256": sha256_file(path), "train": trained[name]["train"]}
        models.append({**entry, "model": name, "key": keys[name], "pair": pair, "robust": train.robust, "dataset": fashion_mnist.NAME,
                       "config": {"activation": train.activation, "downsampling": train.downsampling,
                                  "training": train.training, "eps": train.eps, "epochs": train.epochs,
                                  "train_subset": train.train_subset, "seed": train.seed}})
    return {
        "command": "overconf demo" + (" --quick" if config.n_test < 10_000 else ""),
        "created": pd.Timestamp.now(tz="UTC").isoformat(),
        "config": {"demo": config.__dict__, "device": str(device)},
        "seed": config.seed,
        "versions": environment_versions(),
        "data": {"name": fashion_mnist.NAME, "sha256": data_sha, "path": str(fashion_mnist.find_dir(data_dir)),
                 "n_test": config.n_test, "n_attack": config.n_attack},
        "models": models,
        "perturbations": config.perturbations(),
    }
