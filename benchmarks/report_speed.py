"""Time ``build_report`` on a synthetic run the size of a demo: 3 pairs (6 models) × 20 perturbations × 10k samples.

Usage: ``.venv/bin/python benchmarks/report_speed.py [OUT]`` (the run folder to write; default: a temporary folder).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from overconf.report import build_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "report"))  # the fake-run fabricator
from synthetic_run import DEFAULT_PERTURBATIONS, make_synthetic_run

CORRUPTIONS = ["fog", "gaussian_noise", "contrast", "brightness", "jpeg_compression", "pixelate", "zoom_blur",
               "shot_noise", "elastic_transform"]


def main(out: Path) -> None:
    perturbations = {k: v for k, v in DEFAULT_PERTURBATIONS.items() if v[0] != "corruption"}
    for i, name in enumerate(CORRUPTIONS):
        for severity in (1, 5):
            perturbations[f"{name}:severity={severity}"] = ("corruption", 0.85 - 0.05 * severity, 0.75 - 0.02 * i)
    perturbations = dict(list(perturbations.items())[:20])
    start = time.perf_counter()
    make_synthetic_run(out, pairs=("relu-maxpool", "relu-flc", "pssilu-maxpool"), n=10_000, perturbations=perturbations)
    made, cpu = time.perf_counter(), time.process_time()
    build_report(out)
    done = time.perf_counter()
    print(f"6 models × {len(perturbations)} perturbations × 10k samples: records written in {made - start:.1f} s, "
          f"report built in {done - made:.1f} s wall, {time.process_time() - cpu:.1f} s CPU")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        main(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            main(Path(tmp))
