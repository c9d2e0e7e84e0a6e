"""``overconf evaluate --zoo DATASET --dry-run`` of the paper's whole zoo with every model's files present:
the paper's perturbations (clean, PGD, Square, 15 corruptions × 5 severities), each data set in its own
process, first with an empty checkpoint-hash cache (every file hashed) and then with a warm one, with wall
time, CPU time and peak resident memory written to ``benchmarks/results/zoo_dry_run-*.json`` and ``.md``.

The files are stand-ins of ``--file-mb`` MB at the paths ``overconf zoo fetch`` writes (a dry run never
loads them; it hashes each once per machine, cached by path, size and mtime), the CIFAR test sets are
random arrays in their pickle layout and the ImageNet set is RobustBench's 5,000 validation file names
holding one tiny JPEG each. So the cold figure here is for ``--file-mb`` MB files: the hashing throughput it
reports projects the real zoo's first call (about 35 GB).

Usage: ``.venv/bin/python benchmarks/zoo_dry_run.py [--file-mb 1] [--tag NAME]``
"""

from __future__ import annotations

import argparse
import io
import os
import pickle
import platform
import sys
import tempfile
from pathlib import Path

from cli_measure import measure_cli, write_results

ROOT = Path(__file__).resolve().parents[1]
PERTURBATIONS = ",".join(["clean", "pgd", "square", *[f"corruptions:severity={s}" for s in range(1, 6)]])


def make_models(models: Path, file_mb: float) -> dict[str, int]:
    """A stand-in file at every path the catalogue's models need; returns files per data set."""
    sys.path.insert(0, str(ROOT / "src"))
    from overconf.zoo.catalogue import load_catalogue
    from overconf.zoo.loaders import sources

    catalogue = load_catalogue(None, ())
    counts: dict[str, int] = {}
    size = int(file_mb * 2**20)
    for model in catalogue.models():
        for source in sources(model, models):
            source.path.parent.mkdir(parents=True, exist_ok=True)
            seed = model.model_id.encode() + bytes([model.robust])
            source.path.write_bytes((seed * (size // len(seed) + 1))[:size])
            counts[model.dataset] = counts.get(model.dataset, 0) + 1
    return counts


def make_data(data: Path) -> None:
    """CIFAR-10/100 test sets of random pixels; ImageNet's 5,000 RobustBench validation files (one JPEG each)."""
    import numpy as np
    from PIL import Image

    sys.path.insert(0, str(ROOT / "src"))
    from overconf.data.imagenet import robustbench_image_ids

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (10000, 3072), dtype=np.uint8)
    (data / "cifar-10-batches-py").mkdir(parents=True)
    (data / "cifar-10-batches-py" / "test_batch").write_bytes(
        pickle.dumps({"data": pixels, "labels": rng.integers(0, 10, 10000).tolist()}))
    (data / "cifar-100-python").mkdir()
    (data / "cifar-100-python" / "test").write_bytes(
        pickle.dumps({"data": pixels, "fine_labels": rng.integers(0, 100, 10000).tolist()}))
    jpeg = io.BytesIO()
    Image.new("RGB", (8, 8)).save(jpeg, format="JPEG")
    for name in robustbench_image_ids():
        path = data / "val" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(jpeg.getvalue())



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file-mb", type=float, default=1.0, help="size of each stand-in checkpoint file, MB")
    parser.add_argument("--tag", default=None)
    args = parser.parse_args()
    results: dict[str, object] = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                                  "load_at_start": os.getloadavg()[0], "file_mb": args.file_mb,
                                  "perturbations": PERTURBATIONS}
    stages: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        counts = make_models(root / "models", args.file_mb)
        make_data(root / "data")
        results["files"] = counts
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1",
               "OVERCONF_CACHE": str(root / "cache")}
        for dataset in ("cifar10", "cifar100", "imagenet"):
            argv = ["evaluate", "--zoo", dataset, "--models-dir", str(root / "models"), "--data-dir", str(root / "data"),
                    "--perturbations", PERTURBATIONS, "--dry-run", "--out", str(root / f"run-{dataset}")]
            for when in ("cold", "warm"):
                stages[f"{dataset} ({when} hash cache)"] = measure_cli(argv, env)
                print(dataset, when, stages[f"{dataset} ({when} hash cache)"], flush=True)
    results["load_at_end"] = os.getloadavg()[0]
    tag = args.tag or platform.node()
    title = (f"`evaluate --zoo DATASET --dry-run`, paper perturbations, every file present ({counts} files of "
             f"{args.file_mb:g} MB; {results['machine']}, load {results['load_at_start']:.1f} at start, "
             f"{results['load_at_end']:.1f} at end)")
    print(write_results(f"zoo_dry_run-{tag}", title, results, stages))


if __name__ == "__main__":
    main()
