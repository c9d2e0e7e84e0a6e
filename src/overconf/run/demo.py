"""The Fashion-MNIST demo as a spec: robust/normal twins of the small CNN family, trained here (or loaded
from the cache), evaluated on clean, attacked, corrupted and out-of-distribution test data.

Each pair is a normally trained model and its adversarially trained twin with otherwise identical
configuration (architecture, optimiser, epochs, seed); ``--quick`` shrinks training and test sets so the
whole demo runs in a few minutes on 2 CPU cores (the tests run the same spec at smaller sizes). ``examples/demo.toml`` (and ``demo-quick.toml``)
is this spec written out: ``overconf run examples/demo.toml`` computes the same cells as ``overconf demo``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from overconf.data import fashion_mnist
from overconf.data.ood import OOD_SETS
from overconf.run.execute import RunResult
from overconf.run.runner import run_spec
from overconf.run.spec import DataSpec, ModelSpec, PairSpec, Spec
from overconf.train.config import TrainConfig

#: (pair name, activation, downsampling): the building blocks the paper compares.
PAIRS: tuple[tuple[str, str, str], ...] = (
    ("relu-maxpool", "relu", "maxpool"),
    ("relu-flc", "relu", "flc"),
    ("pssilu-maxpool", "pssilu", "maxpool"),
)


@dataclass(frozen=True)
class DemoConfig:
    """Sizes of the demo. ``n_examples``: clean samples; ``perturbation_examples``: samples attacked, corrupted
    or replaced by OOD (the spec's ``[perturbations] n_examples`` of each family, as ``--n-examples attack=N`` is
    that of attacks)."""

    robust_training: str = "fgsm-rs"
    epochs: int = 1
    train_subset: int | None = None
    n_examples: int = 10_000
    perturbation_examples: int = 500
    square_queries: int = 200
    pgd_steps: int = 20
    seed: int = 0
    batch_size: int = 500

    @classmethod
    def quick(cls) -> DemoConfig:
        return cls(epochs=1, train_subset=6_000, n_examples=1_000, perturbation_examples=100, square_queries=100, pgd_steps=10)

    def perturbations(self) -> list[str]:
        """Clean, L∞ PGD (final iterate), Square, the 15 corruptions at their default severity, the OOD sets."""
        return ["clean", f"pgd:steps={self.pgd_steps}", f"square:n_queries={self.square_queries}", "corruptions",
                *(f"ood-{name}" for name in OOD_SETS)]


def pair_configs(config: DemoConfig) -> list[tuple[str, TrainConfig]]:
    """(pair, training config) for both members of every demo pair, normal first."""
    configs = []
    for pair, activation, downsampling in PAIRS:
        normal = TrainConfig(activation=activation, downsampling=downsampling, training="standard",
                             epochs=config.epochs, train_subset=config.train_subset, seed=config.seed)
        configs += [(pair, normal), (pair, replace(normal, training=config.robust_training))]
    return configs


def demo_spec(config: DemoConfig, out: Path = Path("runs/demo"), *, data_dir: Path | None = None,
              cache_dir: Path | None = None, device: str = "auto") -> Spec:
    """The demo's :class:`Spec`."""
    members = {(pair, train.robust): ModelSpec(train=train) for pair, train in pair_configs(config)}
    pairs = tuple(PairSpec(pair, members[(pair, True)], members[(pair, False)]) for pair, _, _ in PAIRS)
    return Spec(
        out=Path(out), data=DataSpec(fashion_mnist.NAME, data_dir, n_examples=config.n_examples), pairs=pairs,
        specs=tuple(config.perturbations()), n_examples={f: config.perturbation_examples for f in ("attack", "corruption", "ood")},
        seed=config.seed, device=device, batch_size=config.batch_size, name="demo", cache_dir=cache_dir,
    )


def run_demo(out: Path = Path("runs/demo"), *, quick: bool = False, data_dir: Path | None = None,
             cache_dir: Path | None = None, device: str = "auto", progress: bool = True, report: bool = True,
             overwrite: bool = False, backend: str = "local", address: str | None = None,
             dry_run: bool = False) -> RunResult:
    """Run the demo into ``out`` (records, ``summary.csv``, ``run.json``, report).

    Finished cells (model × perturbation) already under ``out`` are kept, so an interrupted demo resumes;
    cells of another configuration are refused (``overwrite`` replaces them).
    """
    spec = demo_spec(DemoConfig.quick() if quick else DemoConfig(), out, data_dir=data_dir, cache_dir=cache_dir,
                     device=device)
    return run_spec(spec, command="overconf demo" + (" --quick" if quick else ""), overwrite=overwrite,
                    backend=backend, address=address, dry_run=dry_run, progress=progress, report=report, table=True)
