"""Seconds per 1,000 images for every perturbation spec given (default: all corruptions at severity 3, the
OOD sets, FGSM, PGD-20 and Square with 500 queries), on Fashion-MNIST test images and a small CNN.

    .venv/bin/python benchmarks/bench_perturbations.py [--n 1000] [--threads 1] [spec ...]

The perturbation alone (model forward/backward passes of attacks included), not the engine around it.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from overconf.data.corruptions import CORRUPTIONS
from overconf.data.fashion_mnist import load_fashion_mnist
from overconf.perturb import create_perturbation

DEFAULT_SPECS = [*(f"{c}:severity=3" for c in CORRUPTIONS), "ood-uniform", "ood-gaussian", "ood-digits",
                 "fgsm", "pgd", "square:n_queries=500"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("specs", nargs="*", default=DEFAULT_SPECS)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    test = load_fashion_mnist("test")
    x, y = test.float_images(slice(0, args.n)), test.labels[: args.n]
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(), nn.Conv2d(16, 32, 5, stride=2, padding=2), nn.ReLU(),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    ).eval()
    for spec in ["ood-digits", *args.specs]:  # the first ood-digits call loads scikit-learn's digits: warm-up
        perturbation = create_perturbation(spec, 0.1)
        generator = torch.Generator().manual_seed(0)
        start = time.perf_counter()
        for i in range(0, args.n, args.batch_size):
            perturbation(model, x[i:i + args.batch_size], y[i:i + args.batch_size], generator)
        print(f"{perturbation.label:<32} {(time.perf_counter() - start) * 1000 / args.n:7.3f} s / 1,000 images")


if __name__ == "__main__":
    main()
