"""Trained models cached as safetensors under a key derived from the training configuration and data.

``<cache>/models/<key>.safetensors`` (``<cache>``: ``cache_dir`` or :func:`overconf.paths.cache_root`) + ``<key>.json`` (configuration, data hash, statistics), where
``key = sha256(CACHE_FORMAT ‖ config JSON ‖ data SHA-256)[:20]``. Both files are written atomically,
the JSON last, so a model counts as cached only once it is complete. The JSON records the weights' SHA-256
(``sha256``); loading checks it, so weights replaced in the cache (e.g. a robust model's by its normal
twin's) are refused, naming the file.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from overconf.data.base import TensorImageSet
from overconf.errors import CheckpointError
from overconf.files import stamped_sha256, write_atomic
from overconf.paths import cache_root
from overconf.train.config import TrainConfig
from overconf.train.loop import build_model, train_model

CACHE_FORMAT = "overconf-small-cnn-v1"


def cache_key(config: TrainConfig, data_sha256: str) -> str:
    text = f"{CACHE_FORMAT}\n{config.to_json()}\n{data_sha256}"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


@dataclass
class CachedModel:
    model: nn.Module
    path: Path
    meta: dict
    trained_now: bool


def _read_meta(meta_path: Path, weights: Path) -> dict[str, Any]:
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError):
        meta = None
    if not isinstance(meta, dict):
        raise CheckpointError(f"cached model {weights}: its record {meta_path} is damaged",
                              hint=f"delete {weights} and {meta_path} and rerun to train it again")
    return meta


def train_or_load(config: TrainConfig, train_set: TensorImageSet, data_sha256: str, *,
                  cache_dir: Path | None = None, device: torch.device | str = "cpu",
                  progress: bool = True) -> CachedModel:
    """The model of ``config``: from the cache when present, else trained now and cached."""
    folder = (cache_dir or cache_root()) / "models"
    key = cache_key(config, data_sha256)
    weights, meta_path = folder / f"{key}.safetensors", folder / f"{key}.json"
    if meta_path.is_file() and weights.is_file():
        model = build_model(config, train_set.subset(config.train_subset))
        meta = _read_meta(meta_path, weights)
        recorded = meta.get("sha256")
        if recorded is not None and stamped_sha256([weights])[weights] != recorded:
            raise CheckpointError(f"cached model {weights}: its SHA-256 differs from the one recorded in {meta_path.name} "
                                  "when it was trained (replaced or damaged)",
                                  hint=f"delete {weights} and {meta_path} and rerun to train it again")
        try:
            model.load_state_dict(load_file(str(weights)))
        except Exception as exc:  # noqa: BLE001 - any load failure means a damaged entry
            raise CheckpointError(f"cached model {weights} is damaged ({exc})", hint=f"delete {weights} and rerun") from None
        return CachedModel(model.eval().to(device), weights, meta, trained_now=False)
    start = time.perf_counter()
    model, stats = train_model(config, train_set, device=device, progress=progress)
    meta = {"config": json.loads(config.to_json()), "data_sha256": data_sha256, "key": key,
            "train_seconds": round(time.perf_counter() - start, 2), **stats}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    write_atomic(weights, lambda tmp: save_file(state, str(tmp), metadata={"config": config.to_json()}))
    meta["sha256"] = stamped_sha256([weights])[weights]  # checked whenever the cached weights are loaded
    write_atomic(meta_path, lambda tmp: tmp.write_text(json.dumps(meta, indent=2, sort_keys=True)))
    return CachedModel(model, weights, meta, trained_now=True)
