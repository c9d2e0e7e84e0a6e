"""What ``--backend ray`` costs per task on this machine, and that the local path did not get slower.

Run: ``OMP_NUM_THREADS=1 python benchmarks/ray_overhead.py`` (about a minute on 2 CPU cores). Prints:
ray.init of a local 2-CPU instance; the round trip of an empty task (mean of 20); and the wall time of
the same small spec (a tiny user pair on 50 images, 8 cells) run with the local and the Ray back end.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from overconf.run.runner import run_spec

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "my-pair"


def make_example(root: Path) -> Path:
    folder = root / "my-pair"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("__pycache__", "data", "ckpt"))
    rng = np.random.default_rng(0)
    for c in range(10):
        (folder / "data" / "test" / f"c{c}").mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (36, 40, 3), dtype=np.uint8)).save(folder / "data/test" / f"c{c}" / f"{i}.png")
    sys.path.insert(0, str(folder))
    import mymodels

    mymodels.save_random_checkpoints(str(folder / "ckpt"))
    return folder / "spec.toml"


def main() -> None:
    import ray

    root = Path(tempfile.mkdtemp())
    spec = make_example(root)
    start = time.perf_counter()
    run_spec(spec, out=root / "local", progress=False, report=False)
    local = time.perf_counter() - start
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    init = time.perf_counter() - start

    @ray.remote
    def empty() -> None:
        return None

    ray.get(empty.remote())  # start a worker
    start = time.perf_counter()
    for _ in range(20):
        ray.get(empty.remote())
    per_task = (time.perf_counter() - start) / 20
    start = time.perf_counter()
    run_spec(spec, out=root / "ray", backend="ray", progress=False, report=False)
    remote = time.perf_counter() - start
    ray.shutdown()
    print(f"ray.init (2 CPUs, no dashboard): {init:.2f} s")
    print(f"empty task round trip: {per_task * 1000:.1f} ms (mean of 20)")
    print(f"8-cell spec, 2 models: local {local:.2f} s, ray {remote:.2f} s (2 tasks: each resolves the spec again)")
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
