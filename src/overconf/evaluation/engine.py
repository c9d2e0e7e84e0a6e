"""The engine: run one model on one data set under one perturbation and return its records.

Feeding. In-memory sets (:class:`~overconf.data.base.TensorImageSet`) are sliced a batch at a time (on
CUDA the uint8 images go to the device once and are sliced there); folder sets are decoded by ``workers``
processes, one batch per worker, into pinned memory with prefetching on CUDA; corruptions generated on the
fly run in the same workers, every image with its own seed drawn up front from the run's generator, so
records are identical whatever the batch size and worker count. ``decode="gpu"`` has the workers read the
JPEG bytes only and decodes them on the device (:mod:`overconf.data.decode`).

Precision (``precision``, for the forward passes of clean, corrupted and OOD evaluation): ``fp32`` (strict
IEEE float32 matmuls and convolutions, no TF32), ``tf32`` (float32 with TF32 tensor-core matmuls and
convolutions on CUDA; as fp32 elsewhere), ``bf16`` / ``fp16`` (``torch.autocast``; on the CPU too).
Attacks run at ``attack_precision`` (default ``fp32``) whatever ``precision`` says. ``channels_last``
converts the model and the inputs to NHWC for the whole call. Logits are stored as float32 in every case.

Per batch the host waits for the device once, for the copy of the logits (on CUDA one batch late, so the
next batch is already queued); host-to-device copies are non-blocking. Every batch's logits are checked
(2-D, ``num_classes`` columns, finite; finiteness on the host copy) and a violation raises
:class:`~overconf.errors.ModelOutputError` naming model, cell, what was expected and what came, before any
record of the cell exists.

What was used comes back with the records: :func:`engine_settings` reads it from the table's schema
metadata (key ``overconf.engine``), to be written into ``run.json`` and each record file.
"""

from __future__ import annotations

import contextlib
import json
import weakref
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from overconf.data.base import ImageSet, TensorImageSet
from overconf.data.corruptions import image_seeds
from overconf.data.decode import check_gpu_decode, decode_batch, read_encoded
from overconf.errors import ConfigError, ModelOutputError
from overconf.evaluation.records import OOD_LABEL, ModelInfo, make_records
from overconf.evaluation.runtime import check_worker_counts, default_threads, default_workers, torch_threads
from overconf.perturb.base import Perturbation, SeededPerImage
from overconf.vocabulary import BATCH_SIZE, DECODE, PRECISION, check_setting

Precision = Literal["fp32", "tf32", "bf16", "fp16"]
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
#: ``batch_size="auto"`` off CUDA; on CUDA the largest power of two (≤ :data:`AUTO_BATCH_LIMIT`) that fits.
CPU_AUTO_BATCH = 256
AUTO_BATCH_LIMIT = 4096
METADATA_KEY = b"overconf.engine"


@dataclass(frozen=True)
class EngineSettings:
    """How one evaluation ran: written with its records (:func:`engine_settings`) and into ``run.json``."""

    device: str
    precision: str
    attack_precision: str
    channels_last: bool
    batch_size: int
    workers: int
    threads: int
    decode: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def engine_settings(table: pa.Table) -> dict[str, Any] | None:
    """The :class:`EngineSettings` (as a dict) a record table was computed with, or ``None``."""
    raw = (table.schema.metadata or {}).get(METADATA_KEY)
    return None if raw is None else json.loads(raw)


def check_precision(name: str, key: str = "precision") -> str:
    return str(check_setting(key, name))


@contextlib.contextmanager
def precision_context(precision: str, device: torch.device) -> Iterator[None]:
    """Run the block at ``precision`` on ``device``: TF32 on or off for CUDA matmuls and convolutions (restored
    after), and ``torch.autocast`` for bf16/fp16."""
    check_precision(precision)
    with contextlib.ExitStack() as stack:
        if device.type == "cuda":
            stack.enter_context(_cuda_fp32_precision("tf32" if precision == "tf32" else "ieee"))
        if precision in AUTOCAST_DTYPES:
            if not torch.amp.is_autocast_available(device.type):
                raise ConfigError(f"precision {precision} needs autocast, which {device.type} lacks", hint="use fp32")
            stack.enter_context(torch.autocast(device.type, dtype=AUTOCAST_DTYPES[precision]))
        yield


@contextlib.contextmanager
def _cuda_fp32_precision(mode: str) -> Iterator[None]:
    """TF32 for CUDA matmuls and cuDNN (conv and RNN) on (``tf32``) or off (``ieee``), restored after. The
    ``allow_tf32`` flags set conv and RNN together; setting only ``cudnn.conv.fp32_precision`` would make any
    later read of ``torch.backends.cudnn.allow_tf32`` raise (torch 2.14: "a mix of the legacy and new APIs")."""
    matmul, cudnn = torch.backends.cuda.matmul, torch.backends.cudnn
    before = (matmul.allow_tf32, cudnn.allow_tf32)
    matmul.allow_tf32 = cudnn.allow_tf32 = mode == "tf32"
    try:
        yield
    finally:
        matmul.allow_tf32, cudnn.allow_tf32 = before


_AUTO_BATCH: weakref.WeakKeyDictionary[nn.Module, dict[tuple[Any, ...], int]] = weakref.WeakKeyDictionary()


def auto_batch_size(model: nn.Module, sample_shape: Sequence[int], device: torch.device, *, precision: str,
                    channels_last: bool, needs_grad: bool, limit: int = AUTO_BATCH_LIMIT) -> int:
    """``batch_size="auto"``: off CUDA :data:`CPU_AUTO_BATCH`; on CUDA the largest power of two up to ``limit``
    whose forward pass (with ``needs_grad`` also the backward pass to the input, as attacks need) fits in the
    device's free memory, tried once per model, input shape and settings and remembered."""
    if device.type != "cuda":
        return min(CPU_AUTO_BATCH, limit)
    key = (tuple(sample_shape), str(device), precision, channels_last, needs_grad, limit)
    known = _AUTO_BATCH.setdefault(model, {})
    if key in known:
        return known[key]
    fits, size = 0, 1
    while size <= limit:
        try:
            x = torch.rand((size, *sample_shape), device=device)
            if channels_last and x.dim() == 4:
                x = x.contiguous(memory_format=torch.channels_last)
            with precision_context(precision, device):
                if needs_grad:
                    x.requires_grad_(True)
                    (torch.autograd.grad(model(x).float().sum(), x))
                else:
                    with torch.no_grad():
                        model(x)
            torch.cuda.synchronize(device)
            fits, size = size, size * 2
        except torch.cuda.OutOfMemoryError:
            break
        finally:
            x = None  # type: ignore[assignment]
            torch.cuda.empty_cache()
    if fits == 0:
        raise ConfigError(f"not even one image fits in {device}'s free memory", hint="free the device or use --device cpu")
    known[key] = fits
    return fits


class BatchSource(Dataset[tuple[Any, torch.Tensor, torch.Tensor]]):
    """Batch ``b`` of a data set (rows ``b·batch_size`` …), ready for the model: ``(x, y, index)`` with x
    N×C×H×W float32 in [0, 1], or with ``encoded`` the files' bytes (a list of uint8 tensors) for decoding on
    the device. With ``seeded`` (a corruption) and one seed per row, x is corrupted here, in the worker."""

    def __init__(self, dataset: ImageSet, batch_size: int, *, seeded: SeededPerImage | None = None,
                 seeds: Sequence[int] | None = None, encoded: bool = False) -> None:
        self.dataset, self.batch_size, self.seeded, self.seeds, self.encoded = dataset, batch_size, seeded, seeds, encoded

    def __len__(self) -> int:
        return (len(self.dataset) + self.batch_size - 1) // self.batch_size

    def __getitem__(self, b: int) -> tuple[Any, torch.Tensor, torch.Tensor]:
        start, stop = b * self.batch_size, min((b + 1) * self.batch_size, len(self.dataset))
        data = self.dataset
        x: Any
        if self.encoded:
            samples = data.samples[start:stop]  # type: ignore[attr-defined]  # checked by the engine
            x = [read_encoded(path) for path, _ in samples]
            y, index = torch.tensor([label for _, label in samples], dtype=torch.int64), torch.arange(start, stop)
        elif isinstance(data, TensorImageSet):
            x, y, index = data.float_images(slice(start, stop)), data.labels[start:stop], torch.arange(start, stop)
        else:
            items = [data[i] for i in range(start, stop)]
            x = torch.stack([item[0] for item in items])
            y = torch.tensor([int(item[1]) for item in items], dtype=torch.int64)
            index = torch.tensor([int(item[2]) for item in items], dtype=torch.int64)
        if self.seeded is not None and self.seeds is not None:
            x = self.seeded.apply_seeded(x, self.seeds[start:stop])
        return x, y, index


def _describe_cell(info: ModelInfo, dataset: ImageSet, perturbation: Perturbation) -> str:
    return f"model {info.model!r} on {dataset.name} · {perturbation.label}"


def check_logit_shape(out: torch.Tensor, n: int, num_classes: int, cell: str) -> None:
    """:class:`ModelOutputError` unless ``out`` is an ``n × num_classes`` tensor (``num_classes`` 0: any number of
    columns); metadata only, no host-device sync."""
    if not isinstance(out, torch.Tensor):
        raise ModelOutputError(f"{cell}: the model returned a {type(out).__name__}, expected a tensor of logits",
                               hint="wrap the model so that forward returns the N × classes logits tensor")
    if out.dim() != 2:
        raise ModelOutputError(f"{cell}: output of shape {tuple(out.shape)} for a batch of {n} images, "
                               f"expected {n} × {num_classes} logits", hint="the model must return N × classes logits")
    if out.shape[0] != n:
        raise ModelOutputError(f"{cell}: {out.shape[0]} rows of logits for a batch of {n} images",
                               hint="the model must return one row of logits per image")
    if num_classes and out.shape[1] != num_classes:  # 0: a wrapped data set that does not say
        raise ModelOutputError(f"{cell}: {out.shape[1]} logits for a {num_classes}-class data set",
                               hint="check that the model was built for this data set (its number of classes)")


def check_logits_finite(host: torch.Tensor, index: torch.Tensor, cell: str) -> None:
    """:class:`ModelOutputError` if the (host copy of the) logits hold NaN or ±inf."""
    finite = torch.isfinite(host)
    if bool(finite.all()):
        return
    bad_rows = (~finite).any(dim=1).nonzero().flatten()
    n_nan, n_inf = int(torch.isnan(host).sum()), int(torch.isinf(host).sum())
    first = ", ".join(str(int(index[r])) for r in bad_rows[:3])
    raise ModelOutputError(f"{cell}: {n_nan} NaN and {n_inf} infinite logits in {len(bad_rows)} samples "
                           f"(index {first}{', …' if len(bad_rows) > 3 else ''}); nothing of this cell was written",
                           hint="check the model and its weights (a diverged or wrongly loaded checkpoint?)")


def evaluate(
    model: nn.Module,
    info: ModelInfo,
    dataset: ImageSet,
    perturbation: Perturbation,
    *,
    batch_size: int | Literal["auto"] = BATCH_SIZE,
    device: torch.device | str = "cpu",
    seed: int = 0,
    progress: bool = True,
    precision: Precision = PRECISION,
    attack_precision: Precision = PRECISION,
    channels_last: bool = False,
    workers: int | None = None,
    threads: int | None = None,
    decode: Literal["cpu", "gpu"] = DECODE,
) -> pa.Table:
    """Records (see :mod:`overconf.evaluation.records`) of ``model`` on ``perturbation(dataset)``.

    The batch order is fixed and the perturbation's random numbers come from one generator seeded with
    ``seed``, so a run on CPU is reproducible bit for bit. The model is moved to ``device`` and stays there,
    in the train/eval mode it had; with ``channels_last`` it is converted back to the contiguous memory format
    after the call (whatever format it had before). ``workers`` (default :func:`~overconf.evaluation.runtime.default_workers`) is used only where there is work for
    worker processes (folder sets, corruptions); ``threads`` (default :func:`~overconf.evaluation.runtime.default_threads`) is torch's
    thread count for the call. See the module docstring for ``precision``, ``channels_last`` and ``decode``.
    """
    device = torch.device(device)
    given = {"batch_size": batch_size, "precision": precision, "attack_precision": attack_precision,
             "channels_last": channels_last, "workers": workers, "threads": threads, "decode": decode}
    for key, value in given.items():
        check_setting(key, value)
    check_worker_counts(workers, threads)
    if len(dataset) == 0:
        raise ConfigError(f"{dataset.name}: no samples to evaluate", hint="check n_examples and the data folder")
    encoded = decode == "gpu"
    if encoded:
        check_gpu_decode(device, dataset)  # an ImageFolderSet of JPEGs, on CUDA
    seeded = perturbation if isinstance(perturbation, SeededPerImage) else None
    in_memory = isinstance(dataset, TensorImageSet) and not encoded
    was_training = model.training
    model.eval().to(device)
    if channels_last:
        model.to(memory_format=torch.channels_last)
    try:
        if batch_size == "auto":
            shape = tuple(dataset[0][0].shape)  # decode=gpu gives the same shape as PIL
            needs_grad = perturbation.family == "attack"
            size = auto_batch_size(model, shape, device, precision=attack_precision if needs_grad else precision,
                                   channels_last=channels_last, needs_grad=needs_grad, limit=max(1, len(dataset)))
        else:
            size = batch_size
        # worker processes where they have work (files to decode, corruptions to compute) and more than one batch
        n_batches = (len(dataset) + size - 1) // size
        wanted = default_workers(device) if workers is None else workers
        n_workers = 0 if (in_memory and seeded is None) or n_batches < 2 else min(wanted, n_batches)
        n_threads = threads if threads is not None else default_threads(n_workers if device.type == "cpu" else 0)
        settings = EngineSettings(str(device), precision, attack_precision, channels_last, size, n_workers,
                                  n_threads, decode)
        with torch_threads(n_threads):
            try:
                index, label, logits = _run(model, info, dataset, perturbation, device, seed, size, n_workers,
                                            settings, seeded, in_memory, encoded, progress)
            except torch.OutOfMemoryError:
                raise ConfigError(f"{_describe_cell(info, dataset, perturbation)}: out of {device} memory at batch "
                                  f"size {size}; nothing of this cell was written",
                                  hint='use a smaller batch_size, or batch_size = "auto" (--batch-size auto)') from None
    finally:
        if channels_last:
            model.to(memory_format=torch.contiguous_format)
        model.train(was_training)
    if perturbation.family == "ood":
        label = np.full_like(label, OOD_LABEL)
    table = make_records(info, perturbation.label, perturbation.family, index, label, logits)
    return table.replace_schema_metadata({**(table.schema.metadata or {}),
                                          METADATA_KEY: json.dumps(settings.as_dict()).encode()})


def _batches(dataset: ImageSet, device: torch.device, generator: torch.Generator, size: int, workers: int,
             seeded: SeededPerImage | None, in_memory: bool, encoded: bool) -> Iterator[tuple[Any, torch.Tensor, torch.Tensor]]:
    """(x on the host or already on ``device``, y on the host, index) per batch, in data set order."""
    if in_memory and seeded is None and device.type == "cuda":  # the uint8 set on the device once, sliced there
        assert isinstance(dataset, TensorImageSet)
        on_device = TensorImageSet(dataset.name, dataset.images.to(device, non_blocking=True), dataset.labels,
                                   dataset.num_classes)
        labels = dataset.labels.pin_memory()  # slices of pinned memory: the labels' copies do not block either
        for start in range(0, len(dataset), size):
            stop = min(start + size, len(dataset))
            yield on_device.float_images(slice(start, stop)), labels[start:stop], torch.arange(start, stop)
        return
    seeds = image_seeds(len(dataset), generator) if seeded is not None else None
    source = BatchSource(dataset, size, seeded=seeded, seeds=seeds, encoded=encoded)
    if in_memory and seeded is None:  # slicing is all there is to do: no loader
        yield from (source[b] for b in range(len(source)))
        return
    loader = DataLoader(source, batch_size=None, shuffle=False, num_workers=workers, pin_memory=device.type == "cuda",
                        prefetch_factor=4 if workers else None, persistent_workers=False)
    yield from loader


def _run(model: nn.Module, info: ModelInfo, dataset: ImageSet, perturbation: Perturbation, device: torch.device,
         seed: int, size: int, workers: int, settings: EngineSettings, seeded: SeededPerImage | None,
         in_memory: bool, encoded: bool, progress: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    cell = _describe_cell(info, dataset, perturbation)
    generator = torch.Generator().manual_seed(seed)
    cuda = device.type == "cuda"
    is_attack = perturbation.family == "attack"
    indices: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    logits: list[np.ndarray] = []
    pending: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, Any]] = []

    def finish(host: torch.Tensor, y: torch.Tensor, index: torch.Tensor, done: Any) -> None:
        if done is not None:
            done.synchronize()
        check_logits_finite(host, index, cell)
        indices.append(index.numpy())
        labels.append(y.numpy())
        logits.append(host.numpy())

    n_batches = -(-len(dataset) // size)
    bar = tqdm(_batches(dataset, device, generator, size, workers, seeded, in_memory, encoded), total=n_batches,
               desc=f"{info.model} · {perturbation.label}", disable=None if progress else True, leave=False)
    for x, y, index in bar:
        if encoded:
            x = decode_batch(x, dataset.preprocessing, device, dataset.mode)  # type: ignore[attr-defined]
        else:
            x = x.to(device, non_blocking=True)
        y_device = y.to(device, non_blocking=True)
        if seeded is None:
            with precision_context(settings.attack_precision if is_attack else settings.precision, device):
                x = perturbation(model, x, y_device, generator)
        if settings.channels_last and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        with precision_context(settings.precision, device), torch.no_grad():
            out = model(x)
        check_logit_shape(out, len(y), dataset.num_classes, cell)
        host = out.detach().float().to("cpu", non_blocking=cuda)
        done = None
        if cuda:
            done = torch.cuda.Event()  # type: ignore[no-untyped-call]
            done.record()
        pending.append((host, y, index, done))
        while len(pending) > (1 if cuda else 0):  # on CUDA finish a batch once the next one is queued
            finish(*pending.pop(0))
    while pending:
        finish(*pending.pop(0))
    return np.concatenate(indices), np.concatenate(labels), np.concatenate(logits)
