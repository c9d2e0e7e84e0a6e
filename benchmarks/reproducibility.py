"""How far records move across batch sizes, thread counts and CPU kernel paths (the reproducibility contract of
:mod:`overconf.evaluation.agreement`), measured on two demo models and a WRN-28-10.

Each kernel path runs in its own process (``ATEN_CPU_CAPABILITY`` and ``ONEDNN_MAX_CPU_ISA`` are read when torch
starts): the reference (batch 500, one thread, torch's default kernels) and every other setting evaluate the
same models on the same cells; the parent compares every table with the reference. Writes
``benchmarks/results/reproducibility-<cpu>.md`` and ``.json``.

    python benchmarks/reproducibility.py             # about 5 minutes on 2 cores
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

#: (name, environment, evaluate() keyword arguments, mkldnn on)
PATHS: list[tuple[str, dict[str, str], dict[str, int], bool]] = [
    ("reference: batch 500, 1 thread", {}, {"batch_size": 500, "threads": 1}, True),
    ("batch 7", {}, {"batch_size": 7, "threads": 1}, True),
    ("2 threads", {}, {"batch_size": 500, "threads": 2}, True),
    ("2 workers, batch 64", {}, {"batch_size": 64, "threads": 1, "workers": 2}, True),
    ("ATEN_CPU_CAPABILITY=default", {"ATEN_CPU_CAPABILITY": "default"}, {"batch_size": 500, "threads": 1}, True),
    ("ONEDNN_MAX_CPU_ISA=SSE41", {"ONEDNN_MAX_CPU_ISA": "SSE41"}, {"batch_size": 500, "threads": 1}, True),
    ("mkldnn off, batch 7", {}, {"batch_size": 7, "threads": 1}, False),
]
DEMO_CELLS = ["clean", "fog", "ood-uniform", "pgd:steps=10"]
WRN_CELLS = ["clean", "pgd:steps=2"]


def _train_demo_models(folder: Path) -> list[str]:
    from safetensors.torch import save_file

    from overconf.data.fashion_mnist import load_fashion_mnist
    from overconf.train.config import TrainConfig
    from overconf.train.loop import train_model

    train = load_fashion_mnist("train")
    names = []
    for training in ("standard", "fgsm-rs"):
        model, _ = train_model(TrainConfig(training=training, epochs=1, train_subset=6_000), train, progress=False,
                               threads=2)
        save_file(model.state_dict(), folder / f"demo-{training}.safetensors")
        names.append(f"demo-{training}")
    return names


def _wrn():  # type: ignore[no-untyped-def]
    import torch

    from overconf._compat import import_robustbench

    import_robustbench()
    from robustbench.model_zoo.architectures.wide_resnet import WideResNet

    torch.manual_seed(0)
    return WideResNet(depth=28, widen_factor=10).eval()


def _child(folder: Path, index: int) -> None:
    """Evaluate every model × cell under ``PATHS[index]``; write the tables as Parquet."""
    import pyarrow.parquet as pq
    import torch
    from safetensors.torch import load_file

    from overconf.data.base import TensorImageSet
    from overconf.data.fashion_mnist import load_fashion_mnist
    from overconf.evaluation.engine import evaluate
    from overconf.evaluation.records import ModelInfo
    from overconf.models.cnn import small_cnn
    from overconf.perturb import create_perturbation

    _, _, kwargs, mkldnn = PATHS[index]
    torch.backends.mkldnn.enabled = mkldnn
    test = load_fashion_mnist("test")
    jobs = []
    for training in ("standard", "fgsm-rs"):
        model = small_cnn()
        model.load_state_dict(load_file(folder / f"demo-{training}.safetensors"))
        for cell in DEMO_CELLS:
            n = 1000 if cell == "clean" else 200
            jobs.append((f"demo-{training}", model.eval(), test.subset(n), cell, 0.1))
    g = torch.Generator().manual_seed(0)
    cifar_like = TensorImageSet("cifar10", torch.randint(0, 256, (32, 3, 32, 32), generator=g, dtype=torch.uint8),
                                torch.randint(0, 10, (32,), generator=g), 10)
    wrn = _wrn()
    for cell in WRN_CELLS:
        jobs.append(("wrn-28-10", wrn, cifar_like.subset(32 if cell == "clean" else 8), cell, 8 / 255))
    for name, model, data, cell, eps in jobs:
        table = evaluate(model, ModelInfo(name, name, False, data.name), data, create_perturbation(cell, eps),
                         progress=False, **kwargs)
        pq.write_table(table, folder / f"{index}-{name}-{cell.replace(':', '_')}.parquet")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    import pyarrow.parquet as pq
    import torch

    from overconf.evaluation.agreement import LOGIT_RTOL, compare_records

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        models = _train_demo_models(folder) + ["wrn-28-10"]
        for index, (name, env, _, _) in enumerate(PATHS):
            print(f"[{index + 1}/{len(PATHS)}] {name}", flush=True)
            subprocess.run([sys.executable, __file__, "--child", str(folder), str(index)], check=True,
                           env={**os.environ, "OMP_NUM_THREADS": "1", **env})
        rows = []
        for model in models:
            cells = WRN_CELLS if model == "wrn-28-10" else DEMO_CELLS
            for cell in cells:
                stem = f"{model}-{cell.replace(':', '_')}.parquet"
                reference = pq.read_table(folder / f"0-{stem}")
                for index, (name, _, _, _) in enumerate(PATHS[1:], start=1):
                    c = compare_records(reference, pq.read_table(folder / f"{index}-{stem}"))
                    rows.append({"model": model, "cell": cell, "path": name, "n": reference.num_rows,
                                 "max_logit_error": c.max_logit_error,
                                 "rows_above_rtol": int((c.logit_error > LOGIT_RTOL).sum()),
                                 "rows_breaking_contract": int(c.violations(LOGIT_RTOL).sum()),
                                 "max_confidence_error": float(c.confidence_error.max(initial=0.0)),
                                 "predictions_differ": int(c.flipped.sum()),
                                 "logit_scale_median": float(torch.tensor(c.scale).median())})
    cpu = _cpu()
    slug = "".join(ch if ch.isalnum() else "-" for ch in cpu.lower()).strip("-")
    slug = "-".join(part for part in slug.split("-") if part)
    RESULTS.mkdir(exist_ok=True)
    meta = {"cpu": cpu, "machine": platform.machine(), "torch": torch.__version__, "logit_rtol": LOGIT_RTOL,
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    (RESULTS / f"reproducibility-{slug}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    lines = [(f"# Reproducibility across settings: {cpu} ({platform.machine()}, torch {torch.__version__}, "
             f"default capability {meta['cpu_capability']})"), "",
             ("`python benchmarks/reproducibility.py`. Each row compares one cell's records with the reference "
             "(batch 500, one thread, default kernels). Logit error: per row max |Δz| / max(1, max |z|)."), "",
             ("| model | cell | setting | n | max logit error | rows > 1e-4 | rows breaking the contract | "
             "max \\|Δ confidence\\| | predictions differ |"), "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | {r['cell']} | {r['path']} | {r['n']} | {r['max_logit_error']:.2e} | "
                     f"{r['rows_above_rtol']} | {r['rows_breaking_contract']} | {r['max_confidence_error']:.2e} | "
                     f"{r['predictions_differ']} |")
    (RESULTS / f"reproducibility-{slug}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(Path(sys.argv[2]), int(sys.argv[3]))
    else:
        main()
