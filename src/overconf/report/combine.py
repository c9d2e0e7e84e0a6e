"""Several runs as one: their records and ``run.json`` combined for one report (``overconf report R1 R2 --out D``).

Records are concatenated. A model name that occurs in more than one run is prefixed with its run folder's
name (``cifar10-run/relu-flc-normal``), and so is its pair, so that twins never mix across runs; names
that are unique stay as they are. The combined manifest lists every run's models, cells, perturbations and
data, and keeps each run's own manifest under ``runs``.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from overconf.errors import ConfigError
from overconf.run.manifest import read_manifest
from overconf.store.parquet import read_records


def _run_names(runs: list[Path]) -> list[str]:
    names = [d.resolve().name or str(d) for d in runs]
    return [n if names.count(n) == 1 else f"{n}-{k}" for k, n in enumerate(names, start=1)]


def combine_runs(runs: list[Path], command: str = "") -> tuple[pd.DataFrame, dict[str, Any]]:
    """``(records, manifest)`` of ``runs`` combined (see the module docstring)."""
    if not runs:
        raise ConfigError("no run folder given", hint="pass one or more run folders: overconf report RUN1 RUN2 --out DIR")
    if len({d.resolve() for d in runs}) != len(runs):
        raise ConfigError(f"a run folder is given twice: {', '.join(map(str, runs))}", hint="name each run once")
    names = _run_names(runs)
    frames = [read_records(d) for d in runs]
    manifests = [read_manifest(d) for d in runs]
    counts = Counter(m for f in frames for m in f["model"].astype(str).unique())
    shared = {m for m, n in counts.items() if n > 1}
    parts, models, cells, data, perturbations = [], [], [], [], []
    for name, frame, manifest in zip(names, frames, manifests):
        rename = {m: f"{name}/{m}" for m in shared}
        local = set(frame["model"].astype(str).unique())
        pair_of = dict(zip(frame["model"].astype(str), frame["pair"].astype(str)))
        renamed_pairs = {pair_of[m]: f"{name}/{pair_of[m]}" for m in shared & local}
        frame = frame.assign(model=frame["model"].astype(str).replace(rename),
                             pair=frame["pair"].astype(str).replace(renamed_pairs))
        parts.append(frame)
        for m in manifest.get("models", []):
            entry = dict(m)
            entry["model"] = rename.get(str(entry.get("model")), entry.get("model"))
            entry["pair"] = renamed_pairs.get(str(entry.get("pair")), entry.get("pair"))
            models.append(entry)
        for c in manifest.get("cells", []) or []:
            cells.append({**c, "model": rename.get(str(c.get("model")), c.get("model"))})
        items = manifest.get("data")
        data += [d for d in (items if isinstance(items, list) else [items]) if d]
        perturbations += [p for p in manifest.get("perturbations", []) if p not in perturbations]
    first = manifests[0]
    combined = {
        "command": command,
        "created": first.get("created"),
        "config": {"runs": {name: str(d) for name, d in zip(names, runs)}},
        "seed": first.get("seed"),
        "versions": first.get("versions", {}),
        "data": data,
        "models": models,
        "perturbations": perturbations,
        "cells": cells,
        "runs": {name: manifest for name, manifest in zip(names, manifests)},
    }
    return pd.concat(parts, ignore_index=True), combined
