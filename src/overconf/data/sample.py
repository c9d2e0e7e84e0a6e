"""Fair samples of folder and npz data: a seeded, class-stratified order whose every prefix covers the classes.

An image folder lists its files class by class, so the first ``n`` of it (``n_examples``) see only the first
classes. :func:`stratified_order` orders *all* samples so that every prefix is a proportional stratified
sample: sample ``j`` (0-based, after a seeded shuffle within its class ``c`` of ``n_c`` samples) gets the key
``(j + u_c) / n_c`` with one seeded offset ``u_c ∈ [0, 1)`` per class, and samples are sorted by key (ties by
a seeded class rank). A prefix of length ``n`` then holds ``n · n_c / N`` samples of class ``c``, give or take
one, and the prefixes are nested (the attack cells' 50 images are among the clean cells' 200), so records of
different cells still join on ``index`` (the position in this order).
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from overconf.data.base import ImageSet, TensorImageSet

#: ``order`` of folder and npz data: ``stratified`` (default) or ``sorted`` (the files' order: class by class)
ORDERS = ("stratified", "sorted")


def labels_of(dataset: ImageSet) -> np.ndarray:
    """Every sample's class index, in the set's order (in-memory labels, or the files' labels of a folder)."""
    if isinstance(dataset, TensorImageSet):
        return dataset.labels.numpy().astype(np.int64)
    samples = getattr(dataset, "samples", None)
    if samples is None:
        return np.array([int(dataset[i][1]) for i in range(len(dataset))], dtype=np.int64)
    return np.fromiter((int(label) for _, label in samples), dtype=np.int64, count=len(samples))


def stratified_order(labels: np.ndarray, seed: int) -> np.ndarray:
    """All indices of ``labels`` in a seeded, class-stratified order (see the module docstring).

    >>> order = stratified_order(np.repeat(np.arange(4), 25), seed=0)
    >>> sorted(np.bincount(np.repeat(np.arange(4), 25)[order[:8]], minlength=4).tolist())
    [2, 2, 2, 2]
    """
    rng = np.random.default_rng(seed)
    keys = np.empty(labels.size, dtype=np.float64)
    classes = np.unique(labels)
    rank = np.empty(labels.size, dtype=np.int64)
    for position, c in zip(rng.permutation(classes.size), classes):
        members = rng.permutation(np.flatnonzero(labels == c))
        keys[members] = (np.arange(members.size) + rng.random()) / members.size
        rank[members] = position
    return np.lexsort((rank, keys))


def reordered(dataset: ImageSet, order: np.ndarray) -> ImageSet:
    """``dataset`` with its samples in ``order`` (a view for folders, a copy of the tensors for npz data)."""
    if isinstance(dataset, TensorImageSet):
        index = torch.from_numpy(np.asarray(order, dtype=np.int64))
        return TensorImageSet(dataset.name, dataset.images[index], dataset.labels[index], dataset.num_classes)
    samples = getattr(dataset, "samples", None)
    if samples is None:
        raise TypeError(f"cannot reorder {type(dataset).__name__}")
    part = copy.copy(dataset)
    part.samples = [samples[i] for i in order]  # type: ignore[attr-defined]
    return part


def class_coverage(dataset: ImageSet, n: int | None) -> tuple[int, int]:
    """``(classes among the first n samples, classes in the whole set)``."""
    labels = labels_of(dataset)
    head = labels if n is None else labels[:n]
    return int(np.unique(head).size), int(np.unique(labels).size)
