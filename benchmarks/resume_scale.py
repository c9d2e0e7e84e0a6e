"""An all-done resume at the paper's grid size: ``overconf run SPEC --no-report`` on a finished run of the
paper's shape (71 pairs = 142 models × 78 cells: clean, PGD, Square, 15 corruptions × 5 severities; 11,076
record files), each stage in its own process, with wall time, CPU time and peak resident memory written to
``benchmarks/results/resume_scale-*.json`` and ``.md``.

The grid is real, only small: tiny CNNs (``examples/my-pair/mymodels.py``, each with its own random
weights), 10 images of 32 × 32 px in an image folder, ``--n`` samples per attack and corruption cell. What the
resume does (plan resolution with a checkpoint hash per model, reading and checking every record file's
metadata, ``run.json``) does not depend on the number of samples per cell, only on files and cells.

Stages: ``compute`` (the first run, computing every cell; skipped when ``--out`` holds a finished run),
``resume`` (all done, fresh process), ``resume-again`` (the same, warm file cache), ``dry-run``.

Usage: ``.venv/bin/python benchmarks/resume_scale.py [--pairs 71] [--n 2] [--out DIR] [--tag NAME]``
Not a test: the compute stage writes 11,076 files and takes tens of minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from pathlib import Path

from cli_measure import measure_cli, write_results

ROOT = Path(__file__).resolve().parents[1]
PERTURBATIONS = ["clean", "pgd:steps=2", "square:n_queries=4",
                 *[f"corruptions:severity={s}" for s in range(1, 6)]]


def make_grid(folder: Path, pairs: int, n: int) -> Path:
    """The image folder, one checkpoint per model and the spec; returns the spec's path."""
    import numpy as np
    import torch
    from PIL import Image

    sys.path.insert(0, str(ROOT / "examples" / "my-pair"))
    from mymodels import normal_net, robust_net

    rng = np.random.default_rng(0)
    for c in range(10):
        (folder / "data" / f"class{c}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(folder / "data" / f"class{c}" / "0.png")
    (folder / "ckpt").mkdir(exist_ok=True)
    shutil.copy(ROOT / "examples" / "my-pair" / "mymodels.py", folder / "mymodels.py")
    lines = ['out = "run"', "seed = 0", 'device = "cpu"', "threads = 1", "",
             "[data]", 'dataset = "imagefolder"', 'path = "data"', "num_classes = 10", "image_size = 32", ""]
    for k in range(pairs):
        for kind, net in (("robust", robust_net), ("normal", normal_net)):
            torch.manual_seed(2 * k + (kind == "normal"))
            torch.save(net().state_dict(), folder / "ckpt" / f"{kind}{k:03d}.pt")
        lines += ["[[pair]]", f'name = "p{k:03d}"',
                  f'robust = {{ entry_point = "mymodels:robust_net", checkpoint = "ckpt/robust{k:03d}.pt" }}',
                  f'normal = {{ entry_point = "mymodels:normal_net", checkpoint = "ckpt/normal{k:03d}.pt" }}', ""]
    lines += ["[perturbations]", f"specs = {json.dumps(PERTURBATIONS)}",
              f"n_examples = {{ attack = {n}, corruption = {n} }}", ""]
    spec = folder / "spec.toml"
    spec.write_text("\n".join(lines))
    return spec



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=71)
    parser.add_argument("--n", type=int, default=2, help="samples per attack and corruption cell")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "resume-scale",
                        help="folder for the grid (kept, so a second call only measures the resume)")
    parser.add_argument("--tag", default=None)
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="overconf sources the stages run (e.g. another checkout's src, for a before/after)")
    args = parser.parse_args()
    folder = args.out.resolve()
    spec = folder / "spec.toml"
    results: dict[str, object] = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
                                  "load_at_start": os.getloadavg()[0], "pairs": args.pairs, "models": 2 * args.pairs,
                                  "cells_per_model": 78, "cells": 2 * args.pairs * 78, "src": str(args.src)}
    stages: dict[str, dict[str, float]] = {}
    env = {**os.environ, "PYTHONPATH": str(args.src), "OMP_NUM_THREADS": "1"}
    if not (folder / "run" / "run.json").is_file():
        folder.mkdir(parents=True, exist_ok=True)
        spec = make_grid(folder, args.pairs, args.n)
        stages["compute"] = measure_cli(["run", str(spec), "--no-report"], env, folder)
        print("compute", stages["compute"], flush=True)
    files = sum(1 for _ in (folder / "run").rglob("*.parquet"))
    results["record_files"] = files
    for name, argv in (("resume", ["run", str(spec), "--no-report"]),
                       ("resume-again", ["run", str(spec), "--no-report"]),
                       ("dry-run", ["run", str(spec), "--dry-run"])):
        stages[name] = measure_cli(argv, env, folder)
        print(name, stages[name], flush=True)
    results["load_at_end"] = os.getloadavg()[0]
    tag = args.tag or f"{args.pairs}pairs"
    title = (f"All-done resume: {2 * args.pairs} models × 78 cells = {files:,} record files ({results['machine']}, "
             f"load {results['load_at_start']:.1f} at start, {results['load_at_end']:.1f} at end)")
    print(write_results(f"resume_scale-{tag}", title, results, stages))


if __name__ == "__main__":
    main()
