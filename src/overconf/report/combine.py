"""Several runs as one: their record files and ``run.json`` combined for one report (``overconf report R1 R2 --out D``).

Record files are listed together (nothing is copied or read beyond their checks). A model name that occurs in more than one run is prefixed with its run folder's
name (``cifar10-run/relu-flc-normal``), and so is its pair, so that twins never mix across runs; names
that are unique stay as they are. The combined manifest lists every run's models, cells, perturbations and
data, and keeps each run's own manifest under ``runs``.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any

from overconf.errors import ConfigError
from overconf.report.load import record_files
from overconf.store.run_json import read_manifest
from overconf.store.validation import RecordFile


def _run_names(runs: list[Path]) -> list[str]:
    names = [d.resolve().name or str(d) for d in runs]
    return [n if names.count(n) == 1 else f"{n}-{k}" for k, n in enumerate(names, start=1)]


def combine_runs(runs: list[Path], command: str = "") -> tuple[list[RecordFile], dict[str, Any]]:
    """``(record files, manifest)`` of ``runs`` combined (see the module docstring)."""
    if not runs:
        raise ConfigError("no run folder given", hint="pass one or more run folders: overconf report RUN1 RUN2 --out DIR")
    if len({d.resolve() for d in runs}) != len(runs):
        raise ConfigError(f"a run folder is given twice: {', '.join(map(str, runs))}", hint="name each run once")
    names = _run_names(runs)
    listed = [record_files(d) for d in runs]
    manifests = [read_manifest(d) for d in runs]
    counts = Counter(m for files in listed for m in {f.model for f in files})
    shared = {m for m, n in counts.items() if n > 1}
    parts: list[RecordFile] = []
    models, cells, data, perturbations = [], [], [], []
    for name, files, manifest in zip(names, listed, manifests):
        rename = {m: f"{name}/{m}" for m in shared}
        local = {f.model for f in files}
        pair_of = {f.model: f.pair for f in files}
        renamed_pairs = {pair_of[m]: f"{name}/{pair_of[m]}" for m in shared & local}
        parts += [dataclasses.replace(f, model=rename.get(f.model, f.model), pair=renamed_pairs.get(f.pair, f.pair))
                  for f in files]
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
    return parts, combined
