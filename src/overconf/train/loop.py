"""Standard and adversarial training of the small CNN family (seeded, with a progress bar)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from overconf.data.base import TensorImageSet
from overconf.evaluation.runtime import default_threads, torch_threads
from overconf.models.cnn import small_cnn
from overconf.perturb.pgd import fgsm, pgd
from overconf.train.config import TrainConfig


def build_model(config: TrainConfig, train_set: TensorImageSet) -> nn.Module:
    """The untrained network of ``config`` (weights from ``config.seed``)."""
    torch.manual_seed(config.seed)
    x = train_set.images
    return small_cnn(config.activation, config.downsampling, in_channels=x.shape[1],
                     num_classes=train_set.num_classes, image_size=x.shape[-1])


def adversarial_batch(model: nn.Module, config: TrainConfig, x: torch.Tensor, y: torch.Tensor,
                      generator: torch.Generator) -> torch.Tensor:
    """The inputs a training step sees: clean, PGD-AT or FGSM-RS examples. The attack runs in train mode
    (batch statistics), as in Madry et al. and Wong et al."""
    if config.training == "standard":
        return x
    if config.training == "pgd":
        return pgd(model, x, y, eps=config.eps, step_size=2.5 * config.eps / config.attack_steps,
                   steps=config.attack_steps, random_start=True, generator=generator, eval_mode=False)
    return fgsm(model, x, y, eps=config.eps, step_size=1.25 * config.eps, random_start=True,
                generator=generator, eval_mode=False)


def train_model(config: TrainConfig, train_set: TensorImageSet, *, device: torch.device | str = "cpu",
                progress: bool = True, threads: int | None = None) -> tuple[nn.Module, dict[str, float]]:
    """Train ``config``'s model on ``train_set``; return it (in eval mode) and final-epoch statistics
    (``train_loss``: mean cross-entropy on the inputs trained on; ``train_accuracy``: on those inputs;
    ``threads``: torch's thread count used, ``threads`` or :func:`overconf.evaluation.runtime.default_threads`)."""
    n_threads = default_threads() if threads is None else threads
    with torch_threads(n_threads):
        model, stats = _train(config, train_set, torch.device(device), progress)
    return model, {**stats, "threads": n_threads}


def _train(config: TrainConfig, train_set: TensorImageSet, device: torch.device,
           progress: bool) -> tuple[nn.Module, dict[str, float]]:
    data = train_set.subset(config.train_subset)
    model = build_model(config, data).to(device)
    generator = torch.Generator().manual_seed(config.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(data) // config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr, epochs=config.epochs,
                                                   steps_per_epoch=steps_per_epoch)
    stats: dict[str, float] = {}
    model.train()
    for epoch in range(config.epochs):
        order = torch.randperm(len(data), generator=generator)
        loss_sum, correct, seen = 0.0, 0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"train {config.activation}/{config.downsampling}/{config.training} "
                   f"epoch {epoch + 1}/{config.epochs}", disable=None if progress else True, leave=False)
        for step in bar:
            rows = order[step * config.batch_size:(step + 1) * config.batch_size]
            x = data.float_images(rows).to(device)
            y = data.labels[rows].to(device)
            x_train = adversarial_batch(model, config, x, y, generator)
            logits = model(x_train)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            seen += len(y)
            if step % 20 == 0:
                bar.set_postfix(loss=f"{loss_sum / seen:.3f}", acc=f"{correct / seen:.3f}")
        stats = {"train_loss": loss_sum / seen, "train_accuracy": correct / seen}
    model.eval()
    return model, stats
