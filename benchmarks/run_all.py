"""`make bench`: the engine's speed on whatever device is present, as ratios measured in this one process.

    .venv/bin/python benchmarks/run_all.py [--device auto|cpu|cuda] [--size tiny|full] [--only a,b,...]

Writes ``benchmarks/results/<device>.json`` (device, versions, sizes, every figure) and ``<device>.md`` (the
table the README quotes). ``--size`` defaults to ``full`` on CUDA and ``tiny`` on the CPU (a few minutes on
2 cores). Items:

a. the engine vs a bare ``model(x)`` loop over the same tensors (fp32): demo CNN and WRN-28-10 (random weights)
b. the engine in bf16 + channels-last vs the engine in fp32, same models
c. an image folder of JPEGs (500×375) through the engine vs the same images fed from memory, vs a bare
   ``DataLoader`` with the same workers (and, on CUDA, ``decode="gpu"``); on-the-fly corruptions with
   worker processes vs without
d. PGD-10 through the engine vs a textbook PGD loop vs pyautoattack's APGD-CE (10 iterations), with the
   robust accuracy each reaches, on a demo CNN briefly trained with FGSM-RS (Fashion-MNIST when present); and
   engine vs textbook PGD-10 on WRN-28-10 (random weights), where the attack's compute dominates
e. the metric set vs netcal / torchmetrics / scikit-learn (``bench_metrics.py``)
f. achieved TFLOP/s of the forward pass and of forward + input-gradient, against this machine's own
   matmul peak at the same precision measured in the same run (FLOPs counted by ``torch.utils.flop_counter``)
g. reproducibility on this device: WRN-28-10 records at batch 500 twice and at 500 vs 128 (share of equal
   predictions, largest |Δ confidence| and |Δ logit|); ``batch_size="auto"``: the size it resolves, its speed

Every timing is the best of ``repeat`` runs after a warm-up, the two sides of a ratio alternating. Nothing
here is a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overconf.data.base import TensorImageSet
from overconf.evaluation.engine import evaluate, precision_context
from overconf.evaluation.records import ModelInfo
from overconf.evaluation.runtime import available_cores, default_workers, resolve_device
from overconf.models.cnn import small_cnn
from overconf.perturb import create_perturbation

RESULTS = Path(__file__).resolve().parent / "results"
INFO = ModelInfo("bench", "bench", False, "bench")
SIZES = {
    "tiny": {"cnn_n": 1000, "cnn_batch": 250, "wrn_n": 4, "wrn_batch": 4, "folder_n": 32, "folder_model": "resnet18",
             "folder_batch": 16, "corruption_n": 400, "pgd_n": 100, "pgd_batch": 50, "pgd_wrn_n": 4, "train_subset": 2000, "metrics_n": 200_000,
             "matmul": 1024, "repeat": 2, "flop_batch": 4},
    "full": {"cnn_n": 10_000, "cnn_batch": 500, "wrn_n": 10_000, "wrn_batch": 500, "folder_n": 2000,
             "folder_model": "resnet50", "folder_batch": 250, "corruption_n": 10_000, "pgd_n": 2000, "pgd_batch": 500, "pgd_wrn_n": 1000, "train_subset": 6000,
             "metrics_n": 1_000_000, "matmul": 8192, "repeat": 3, "flop_batch": 256},
}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def best_times(fns: dict[str, Callable[[], Any]], device: torch.device, repeat: int) -> dict[str, float]:
    """Seconds per call of each function: one warm-up each, then ``repeat`` rounds alternating them, best kept."""
    for fn in fns.values():
        fn()
        sync(device)
    best = {name: float("inf") for name in fns}
    for _ in range(repeat):
        for name, fn in fns.items():
            sync(device)
            start = time.perf_counter()
            fn()
            sync(device)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "cpu") if Path("/proc/cpuinfo").exists() \
        else platform.processor() or "cpu"
    return f"{model} ({available_cores()} cores)"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "cuda": str(torch.version.cuda), "cudnn": str(torch.backends.cudnn.version())}
    for package in ("torch", "torchvision", "timm", "pyautoattack", "netcal", "torchmetrics", "scikit-learn", "overconf"):
        try:
            out[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            out[package] = "not installed"
    if os.environ.get("OVERCONF_GIT_COMMIT"):  # a copy of the tree without its history (e.g. on a lent machine)
        out["git"] = os.environ["OVERCONF_GIT_COMMIT"]
        return out
    try:
        out["git"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                    cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        out["git"] = "unknown"
    return out


def random_set(n: int, shape: tuple[int, int, int], classes: int = 10, seed: int = 0) -> TensorImageSet:
    g = torch.Generator().manual_seed(seed)
    return TensorImageSet("bench", torch.randint(0, 256, (n, *shape), generator=g, dtype=torch.uint8),
                          torch.randint(0, classes, (n,), generator=g), classes)


def wrn_28_10() -> nn.Module:
    from overconf._compat import import_robustbench

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import_robustbench()
        from robustbench.model_zoo.architectures.wide_resnet import WideResNet
    torch.manual_seed(0)
    return WideResNet(depth=28, widen_factor=10)


def bare_loop(model: nn.Module, x: torch.Tensor, batch: int, precision: str | None = "fp32") -> Callable[[], Any]:
    """What one writes by hand: ``model(x)`` batch by batch over tensors already on the device, logits to the host;
    at the engine's ``precision`` (fp32: no TF32 anywhere), or with ``None`` at torch's defaults (on CUDA that is
    TF32 convolutions and fp32 matmuls)."""
    def run() -> list[torch.Tensor]:
        with torch.no_grad(), precision_context(precision, x.device) if precision else contextlib.nullcontext():
            return [model(x[i:i + batch]).float().cpu() for i in range(0, len(x), batch)]
    return run


def engine_call(model: nn.Module, data: Any, spec: str, device: torch.device, **options: Any) -> Callable[[], Any]:
    perturbation = create_perturbation(spec, 0.1)
    return lambda: evaluate(model, INFO, data, perturbation, device=device, progress=False, **options)


def row(item: str, what: str, figures: dict[str, float], ratio: float, unit: str = "img/s", **extra: Any) -> dict[str, Any]:
    return {"item": item, "what": what, "figures": {k: float(f"{v:.4g}") for k, v in figures.items()}, "unit": unit,
            "ratio": round(ratio, 3), **extra}


def bench_engine(device: torch.device, size: dict[str, Any], threads: int) -> list[dict[str, Any]]:
    """(a) engine vs bare loop, fp32; (b) engine bf16 + channels-last vs engine fp32."""
    rows = []
    for name, build, shape, n, batch in (("demo CNN", small_cnn, (1, 28, 28), size["cnn_n"], size["cnn_batch"]),
                                         ("WRN-28-10", wrn_28_10, (3, 32, 32), size["wrn_n"], size["wrn_batch"])):
        torch.manual_seed(0)
        model = build().eval().to(device)
        data = random_set(n, shape)
        x = data.float_images().to(device)
        fns = {
            "bare": bare_loop(model, x, batch),
            "engine": engine_call(model, data, "clean", device, batch_size=batch, threads=threads),
            "engine_bf16_cl": engine_call(model, data, "clean", device, batch_size=batch, threads=threads,
                                          precision="bf16", channels_last=True),
        }
        if device.type == "cuda":  # torch's default on CUDA is TF32 convolutions: compare that with the engine's tf32
            fns["bare_torch_defaults"] = bare_loop(model, x, batch, None)
            fns["engine_tf32"] = engine_call(model, data, "clean", device, batch_size=batch, threads=threads,
                                             precision="tf32")
        t = best_times(fns, device, size["repeat"])
        ips = {k: n / v for k, v in t.items()}
        common = {"model": name, "n": n, "batch_size": batch}
        rows.append(row("a", f"engine vs bare loop, fp32, {name}", {"engine": ips["engine"], "bare": ips["bare"]},
                        ips["engine"] / ips["bare"], **common))
        if device.type == "cuda":
            rows.append(row("a", f"engine tf32 vs bare loop at torch's defaults (TF32 convolutions), {name}",
                            {"engine_tf32": ips["engine_tf32"], "bare_torch_defaults": ips["bare_torch_defaults"]},
                            ips["engine_tf32"] / ips["bare_torch_defaults"], **common))
        rows.append(row("b", f"engine bf16 + channels-last vs engine fp32, {name}",
                        {"bf16_channels_last": ips["engine_bf16_cl"], "fp32": ips["engine"]},
                        ips["engine_bf16_cl"] / ips["engine"], **common))
        if device.type == "cuda":
            rows.append(row("b", f"engine bf16 + channels-last vs engine tf32, {name}",
                            {"bf16_channels_last": ips["engine_bf16_cl"], "tf32": ips["engine_tf32"]},
                            ips["engine_bf16_cl"] / ips["engine_tf32"], **common))
    return rows


def agreement(a: Any, b: Any) -> dict[str, float]:
    """How far two record tables of the same cells are apart: share of equal predictions, largest |Δ confidence|
    and |Δ logit|."""
    la, lb = (np.stack(t.column("logits").to_numpy(zero_copy_only=False)) for t in (a, b))
    ca, cb = (t.column("confidence").to_numpy() for t in (a, b))
    return {"same_prediction": float(np.mean(la.argmax(1) == lb.argmax(1))),
            "max_abs_confidence_diff": float(np.abs(ca - cb).max()), "max_abs_logit_diff": float(np.abs(la - lb).max())}


def bench_reproducibility(device: torch.device, size: dict[str, Any], threads: int) -> list[dict[str, Any]]:
    """(g) WRN-28-10 (random weights), fp32: records at batch sizes 500 and 128 and on a second call compared
    (kernels are chosen per batch shape, so on CUDA the last bits can differ); ``batch_size="auto"``: the size it
    resolves and its throughput against batch 500."""
    torch.manual_seed(0)
    model = wrn_28_10().eval().to(device)
    n = min(size["wrn_n"], 2000)
    data = random_set(n, (3, 32, 32))
    run = {b: engine_call(model, data, "clean", device, batch_size=b, threads=threads) for b in (500, 128)}
    first, again, small = run[500](), run[500](), run[128]()
    auto = engine_call(model, data, "clean", device, batch_size="auto", threads=threads)
    from overconf.evaluation.engine import engine_settings

    auto_size = (engine_settings(auto()) or {}).get("batch_size", 0)
    t = best_times({"auto": auto, "fixed": run[500]}, device, size["repeat"])
    ips = {k: n / v for k, v in t.items()}
    return [
        row("g", "WRN-28-10 fp32 records: batch 500 twice", {"same_prediction": agreement(first, again)["same_prediction"]},
            1.0, unit="share", n=n, agreement=agreement(first, again)),
        row("g", "WRN-28-10 fp32 records: batch 500 vs 128", {"same_prediction": agreement(first, small)["same_prediction"]},
            1.0, unit="share", n=n, agreement=agreement(first, small)),
        row("g", f"batch_size=auto (resolved {auto_size}) vs 500, WRN-28-10 fp32", {"auto": ips["auto"], "fixed": ips["fixed"]},
            ips["auto"] / ips["fixed"], n=n, auto_batch_size=auto_size),
    ]


def jpeg_folder(root: Path, n: int) -> list[tuple[Path, int]]:
    from PIL import Image

    rng = np.random.default_rng(0)
    samples = []
    for i in range(n):
        folder = root / f"n{i % 10:08d}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"img{i:05d}.JPEG"
        small = rng.integers(0, 256, (30, 40, 3)).astype(np.uint8)
        Image.fromarray(small).resize((500, 375), Image.BICUBIC).save(path, quality=90)
        samples.append((path, i % 10))
    return samples


def bench_folder(device: torch.device, size: dict[str, Any], threads: int, workers: int) -> list[dict[str, Any]]:
    """(c) image folder through the engine vs from memory vs a bare DataLoader; corruptions in workers."""
    import timm
    from torch.utils.data import DataLoader

    from overconf.data.imagenet import ImageFolderSet

    n, batch = size["folder_n"], size["folder_batch"]
    torch.manual_seed(0)
    model = timm.create_model(size["folder_model"], pretrained=False, num_classes=10).eval().to(device)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = ImageFolderSet("imagefolder", jpeg_folder(Path(tmp), n), 10, "Res256Crop224")
        decoded = torch.stack([folder[i][0] for i in range(n)])
        memory = TensorImageSet("memory", decoded.mul(255).round().to(torch.uint8), torch.tensor(
            [label for _, label in folder.samples]), 10)

        def bare_loader() -> None:
            loader = DataLoader(folder, batch_size=batch, num_workers=workers, pin_memory=device.type == "cuda")
            with torch.no_grad(), precision_context("fp32", device):
                for x, _, _ in loader:
                    model(x.to(device, non_blocking=True)).float().cpu()

        fns = {
            "engine_folder": engine_call(model, folder, "clean", device, batch_size=batch, workers=workers, threads=threads),
            "engine_memory": engine_call(model, memory, "clean", device, batch_size=batch, threads=threads),
            "bare_dataloader": bare_loader,
        }
        if device.type == "cuda":
            fns["engine_folder_gpu_decode"] = engine_call(model, folder, "clean", device, batch_size=batch,
                                                          workers=workers, threads=threads, decode="gpu")
        t = best_times(fns, device, size["repeat"])
        tables = {"cpu": fns["engine_folder"]()}
        if device.type == "cuda":
            tables["gpu"] = fns["engine_folder_gpu_decode"]()
    ips = {k: n / v for k, v in t.items()}
    common = {"model": size["folder_model"], "n": n, "batch_size": batch, "workers": workers}
    rows.append(row("c", f"image folder via engine vs bare DataLoader ({workers} workers), {size['folder_model']}",
                    {"engine_folder": ips["engine_folder"], "bare_dataloader": ips["bare_dataloader"]},
                    ips["engine_folder"] / ips["bare_dataloader"], **common))
    rows.append(row("c", f"image folder via engine vs the same images from memory, {size['folder_model']}",
                    {"engine_folder": ips["engine_folder"], "engine_memory": ips["engine_memory"]},
                    ips["engine_folder"] / ips["engine_memory"], **common))
    if "engine_folder_gpu_decode" in ips:
        rows.append(row("c", f"image folder, decode on GPU vs CPU workers, {size['folder_model']}",
                        {"gpu_decode": ips["engine_folder_gpu_decode"], "cpu_decode": ips["engine_folder"]},
                        ips["engine_folder_gpu_decode"] / ips["engine_folder"], **common,
                        agreement=agreement(tables["cpu"], tables["gpu"])))
    cnn = small_cnn().eval().to(device)
    cn = size["corruption_n"]
    data = random_set(cn, (1, 28, 28))
    for spec in ("fog", "gaussian_noise"):
        t = best_times({
            "workers": engine_call(cnn, data, spec, device, batch_size=100, workers=workers, threads=threads),
            "no_workers": engine_call(cnn, data, spec, device, batch_size=100, workers=0, threads=threads),
        }, device, size["repeat"])
        ips = {k: cn / v for k, v in t.items()}
        rows.append(row("c", f"corruption {spec} on the fly: {workers} workers vs none, demo CNN",
                        {"workers": ips["workers"], "no_workers": ips["no_workers"]},
                        ips["workers"] / ips["no_workers"], n=cn, batch_size=100, workers=workers))
    return rows


def textbook_pgd(model: nn.Module, x: torch.Tensor, y: torch.Tensor, eps: float, steps: int, batch: int,
                 generator: torch.Generator) -> torch.Tensor:
    """Madry et al.'s loop as usually written: random start, sign steps, clamp to the ε-box and [0, 1]."""
    alpha, out = 2.5 * eps / steps, []
    for i in range(0, len(x), batch):
        xb, yb = x[i:i + batch], y[i:i + batch]
        noise = (torch.rand(xb.shape, generator=generator) * 2 - 1).to(xb.device) * eps
        x_adv = (xb + noise).clamp(0, 1)
        for _ in range(steps):
            x_adv.requires_grad_(True)
            loss = F.cross_entropy(model(x_adv), yb)
            (grad,) = torch.autograd.grad(loss, x_adv)
            x_adv = torch.min(torch.max(x_adv.detach() + alpha * grad.sign(), xb - eps), xb + eps).clamp(0, 1)
        with torch.no_grad():
            out.append(model(x_adv).argmax(1).cpu())
    return torch.cat(out)


def trained_demo_cnn(device: torch.device, train_subset: int) -> tuple[nn.Module, TensorImageSet, str]:
    """A demo CNN trained with FGSM-RS on ``train_subset`` Fashion-MNIST images (one epoch), or random weights and
    random images when Fashion-MNIST is not installed (then robust accuracy means nothing)."""
    from overconf.data import fashion_mnist
    from overconf.errors import MissingFileError
    from overconf.train.config import TrainConfig
    from overconf.train.loop import train_model

    try:
        train, test = fashion_mnist.load_fashion_mnist("train"), fashion_mnist.load_fashion_mnist("test")
    except MissingFileError:
        torch.manual_seed(0)
        return small_cnn().eval().to(device), random_set(10_000, (1, 28, 28)), "random weights, random images"
    config = TrainConfig(activation="relu", downsampling="maxpool", training="fgsm-rs", epochs=1,
                         train_subset=train_subset)
    model, _ = train_model(config, train, device=device, progress=False)
    return model.eval(), test, f"FGSM-RS, {train_subset:,} Fashion-MNIST images, 1 epoch"


def bench_pgd(device: torch.device, size: dict[str, Any], threads: int) -> list[dict[str, Any]]:
    """(d) PGD-10 through the engine vs a textbook loop vs APGD-CE, with robust accuracy."""
    from overconf._compat import import_autoattack

    model, test, how = trained_demo_cnn(device, size["train_subset"])
    n, batch, eps, steps = size["pgd_n"], size["pgd_batch"], 0.1, 10
    data = test.subset(n)
    x, y = data.float_images().to(device), data.labels.to(device)
    aa = import_autoattack()
    results: dict[str, Any] = {}

    def engine() -> None:
        table = evaluate(model, INFO, data, create_perturbation(f"pgd:steps={steps}", eps), batch_size=batch,
                         device=device, threads=threads, progress=False)
        results["engine"] = float(np.mean(table.column("correct").to_numpy()))

    def textbook() -> None:
        with precision_context("fp32", device):  # the engine attacks at attack_precision fp32: no TF32
            pred = textbook_pgd(model, x, y, eps, steps, batch, torch.Generator().manual_seed(0))
        results["textbook"] = float((pred == y.cpu()).float().mean())

    def apgd() -> None:
        attack = aa.autopgd_base.APGDAttack(model, n_iter=steps, norm="Linf", n_restarts=1, eps=eps, seed=0,
                                            loss="ce", eot_iter=1, rho=0.75, device=device)
        correct = []
        with precision_context("fp32", device):
            for i in range(0, n, batch):
                x_adv = attack.perturb(x[i:i + batch], y[i:i + batch])
                with torch.no_grad():
                    correct.append((model(x_adv).argmax(1) == y[i:i + batch]).cpu())
        results["apgd-ce"] = float(torch.cat(correct).float().mean())

    torch.set_num_threads(threads)
    t = best_times({"engine": engine, "textbook": textbook, "apgd-ce": apgd}, device, size["repeat"])
    ips = {k: n / v for k, v in t.items()}
    common = {"model": f"demo CNN ({how})", "n": n, "batch_size": batch, "eps": eps, "steps": steps,
              "robust_accuracy": {k: round(v, 4) for k, v in results.items()}}
    rows = [
        row("d", "PGD-10 via engine vs textbook PGD loop", {"engine": ips["engine"], "textbook": ips["textbook"]},
            ips["engine"] / ips["textbook"], **common),
        row("d", "PGD-10 via engine vs pyautoattack APGD-CE (10 iterations)",
            {"engine": ips["engine"], "apgd-ce": ips["apgd-ce"]}, ips["engine"] / ips["apgd-ce"], **common),
    ]
    return rows + bench_pgd_wrn(device, size, threads)


def bench_pgd_wrn(device: torch.device, size: dict[str, Any], threads: int) -> list[dict[str, Any]]:
    """(d) PGD-10 on WRN-28-10 (random weights: speed only), where the attack's compute dominates its overheads;
    on CUDA both sides at tf32 (the engine's ``attack_precision="tf32"``), else fp32."""
    precision = "tf32" if device.type == "cuda" else "fp32"
    n, batch, eps, steps = size["pgd_wrn_n"], size["wrn_batch"], 8 / 255, 10
    torch.manual_seed(0)
    model = wrn_28_10().eval().to(device)
    data = random_set(n, (3, 32, 32))
    x, y = data.float_images().to(device), data.labels.to(device)

    def engine() -> None:
        evaluate(model, INFO, data, create_perturbation(f"pgd:steps={steps}", eps), batch_size=batch, device=device,
                 threads=threads, progress=False, attack_precision=precision, precision=precision)  # type: ignore[arg-type]

    def textbook() -> None:
        with precision_context(precision, device):
            textbook_pgd(model, x, y, eps, steps, batch, torch.Generator().manual_seed(0))

    t = best_times({"engine": engine, "textbook": textbook}, device, size["repeat"])
    ips = {k: n / v for k, v in t.items()}
    return [row("d", f"PGD-10 via engine vs textbook PGD loop, WRN-28-10 ({precision})",
                {"engine": ips["engine"], "textbook": ips["textbook"]}, ips["engine"] / ips["textbook"],
                model="WRN-28-10 (random weights)", n=n, batch_size=batch, eps=round(eps, 5), steps=steps)]


def bench_metrics_ratios(size: dict[str, Any]) -> list[dict[str, Any]]:
    """(e) every metric that has a reference implementation: reference seconds / ours."""
    import bench_metrics

    data = bench_metrics.make_data(size["metrics_n"], 10)
    mine, refs = bench_metrics.ours(data), bench_metrics.references(data, 10)
    rows = []
    for name, ref_list in refs.items():
        ours_s = bench_metrics.best_of(mine[name], size["repeat"])
        for ref_name, ref_fn in ref_list:
            theirs = bench_metrics.best_of(ref_fn, 1)
            rows.append(row("e", f"{name}: ours vs {ref_name}", {"ours_s": ours_s, f"{ref_name}_s": theirs},
                            theirs / ours_s, unit="s", n=size["metrics_n"]))
    return rows


def matmul_peak(device: torch.device, precision: str, n: int, repeat: int) -> float:
    """TFLOP/s of an n×n by n×n matmul (2n³ FLOPs) at the engine's ``precision`` (bf16: bfloat16 operands):
    this machine's own peak."""
    dtype = torch.bfloat16 if precision == "bf16" else torch.float32
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)

    def mm() -> None:
        with precision_context("fp32" if precision == "bf16" else precision, device):
            a @ b
    t = best_times({"mm": mm}, device, repeat)["mm"]
    return 2 * n**3 / t / 1e12


def count_flops(fn: Callable[[], Any]) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def model_passes(model: nn.Module, x: torch.Tensor, y: torch.Tensor, precision: str,
                 device: torch.device) -> dict[str, Callable[[], Any]]:
    """The forward pass, and forward + gradient with respect to the input (one attack step), of ``model`` on ``x``,
    at the engine's ``precision``."""
    def forward() -> None:
        with torch.no_grad(), precision_context(precision, device):
            model(x)

    for parameter in model.parameters():  # the gradient of the input only, as an attack step
        parameter.requires_grad_(False)

    def forward_backward() -> None:
        xg = x.clone().requires_grad_(True)
        with precision_context(precision, device):
            loss = F.cross_entropy(model(xg).float(), y)
        loss.backward()  # (FlopCounterMode cannot follow torch.autograd.grad)

    return {"forward": forward, "forward+input-backward": forward_backward}


def bench_flops(device: torch.device, size: dict[str, Any]) -> list[dict[str, Any]]:
    """(f) achieved TFLOP/s, forward and forward + input gradient, at fp32 (no TF32), tf32 (CUDA only) and bf16 +
    channels-last, each against the matmul peak at the same precision."""
    precisions = ["fp32", "tf32", "bf16"] if device.type == "cuda" else ["fp32", "bf16"]
    peaks = {p: matmul_peak(device, p, size["matmul"], size["repeat"]) for p in precisions}
    rows = []
    for name, build, shape in (("demo CNN", small_cnn, (1, 28, 28)), ("WRN-28-10", wrn_28_10, (3, 32, 32))):
        torch.manual_seed(0)
        model = build().eval().to(device)
        x = torch.rand((size["flop_batch"], *shape), device=device)
        y = torch.zeros(len(x), dtype=torch.int64, device=device)
        for precision in precisions:
            bf16 = precision == "bf16"
            xp = x.contiguous(memory_format=torch.channels_last) if bf16 else x
            if bf16:
                model.to(memory_format=torch.channels_last)
            passes = model_passes(model, xp, y, precision, device)
            flops = {kind: count_flops(fn) for kind, fn in passes.items()}
            t = best_times(passes, device, size["repeat"])
            for kind, n_flops in flops.items():
                achieved = n_flops / t[kind] / 1e12
                rows.append(row("f", f"{kind} {precision}{' + channels-last' if bf16 else ''}, {name}: "
                                "achieved vs matmul peak", {"achieved_tflops": achieved, "peak_tflops": peaks[precision]},
                                achieved / peaks[precision], unit="TFLOP/s", model=name, batch_size=len(x),
                                gflop_per_image=round(n_flops / len(x) / 1e9, 4)))
            model.to(memory_format=torch.contiguous_format)
    return rows


def markdown(report: dict[str, Any]) -> str:
    lines = [f"# Benchmarks on {report['device']['name']}", "",
             (f"`{report['command']}` · size `{report['size']}` · torch {report['versions']['torch']} · "
              f"overconf {report['versions']['git']} · {report['date']}"), "",
             "| item | what | figures | ratio |", "|---|---|---|---:|"]
    for r in report["results"]:
        figures = ", ".join(f"{k} {v:,.3g}" for k, v in r["figures"].items())
        extra = f" (robust acc. {', '.join(f'{k} {v:.3f}' for k, v in r['robust_accuracy'].items())})" \
            if "robust_accuracy" in r else ""
        if "agreement" in r:
            extra += (f" (same prediction {r['agreement']['same_prediction']:.2%}, max \\|Δ confidence\\| "
                      f"{r['agreement']['max_abs_confidence_diff']:.2g}, max \\|Δ logit\\| "
                      f"{r['agreement']['max_abs_logit_diff']:.2g})")  # \\|: a literal bar inside a table cell
        lines.append(f"| {r['item']} | {r['what']} | {figures} {r['unit']}{extra} | {r['ratio']:.2f}× |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--size", choices=("tiny", "full"), default=None)
    parser.add_argument("--only", default="a,c,d,e,f,g", help="comma-separated items (a includes b)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all cores)")
    parser.add_argument("--workers", type=int, default=None, help="data-loading workers (default: the engine's)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    device = resolve_device(args.device)
    size_name = args.size or ("full" if device.type == "cuda" else "tiny")
    size = SIZES[size_name]
    threads = args.threads or available_cores()
    workers = (default_workers(device) or available_cores()) if args.workers is None else args.workers  # bench workers
    torch.set_num_threads(threads)
    only = set(args.only.split(","))
    name = device_name(device)
    report: dict[str, Any] = {
        "device": {"type": device.type, "name": name, "cores": available_cores(), "threads": threads, "workers": workers},
        "versions": versions(), "size": size_name, "sizes": size, "command": " ".join(["benchmarks/run_all.py", *sys.argv[1:]]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "results": [],
    }
    steps: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [
        ("a", lambda: bench_engine(device, size, threads)),
        ("c", lambda: bench_folder(device, size, threads, workers)),
        ("d", lambda: bench_pgd(device, size, threads)),
        ("e", lambda: bench_metrics_ratios(size)),
        ("f", lambda: bench_flops(device, size)),
        ("g", lambda: bench_reproducibility(device, size, threads)),
    ]
    started = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    stem = slug(f"{device.type}-{name}")
    for item, step in steps:
        if item not in only:
            continue
        item_start = time.perf_counter()
        rows = step()
        report["results"] += rows
        for r in rows:
            print(f"{r['item']} {r['what']}: {r['ratio']:.2f}×  {r['figures']}", flush=True)
        print(f"   ({item}: {time.perf_counter() - item_start:.0f} s)", flush=True)
        report["seconds"] = round(time.perf_counter() - started, 1)  # written after every item: a crash keeps the rest
        (args.out / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
        (args.out / f"{stem}.md").write_text(markdown(report))
    print(f"{args.out / stem}.json, .md ({report['seconds']} s)")


if __name__ == "__main__":
    main()
