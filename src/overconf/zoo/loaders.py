"""Where each zoo model's files live, where they come from, and how a model is built from them.

Every loader returns an ``nn.Module`` in eval mode that takes N×3×H×W inputs in [0, 1] (normalisation,
where the model needs it, is inside the module). Layout under the models folder (``--models-dir``,
``$OVERCONF_MODELS`` or ``<cache root>/models``, :func:`resolve_models_dir`):

``<dataset>/Linf/<id>.pt``                                        robust, RobustBench's layout
``<dataset>/Linf/<id>.pt_m<i>.pt``                                robust ensembles (one file per member)
``<dataset>/normal/<dataset>_normal_robustbench_<id>.tar``        normal CIFAR twins, as published on Zenodo
``imagenet/normal/<timm tag>.safetensors`` (or ``.pth``)          normal ImageNet twins (timm)
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import torch
from torch import nn

from overconf._compat import import_robustbench
from overconf.errors import CheckpointError, ConfigError, MissingFileError
from overconf.models.blocks import Normalize
from overconf.paths import cache_root
from overconf.zoo.catalogue import ZooModel, load_catalogue
from overconf.zoo.checkpoints import (
    USER_CORRUPT_HINT,
    ZOO_CORRUPT_HINT,
    find_state_dict,
    load_state_dict,
    read_checkpoint,
    read_lightning_tar,
)
from overconf.zoo.fetch import Source, gdrive_url, hub_hash_prefix, zenodo_url

ZENODO_RECORD = "7097538"
THREAT_MODEL = "Linf"


def resolve_models_dir(models_dir: Path | str | None = None) -> Path:
    """``models_dir`` if given, else ``$OVERCONF_MODELS``, else ``<cache root>/models`` (:func:`overconf.paths.cache_root`)."""
    if models_dir is not None:
        return Path(models_dir).expanduser()
    if os.environ.get("OVERCONF_MODELS"):
        return Path(os.environ["OVERCONF_MODELS"]).expanduser()
    return cache_root() / "models"


@cache
def robustbench_entry(dataset: str, model_id: str) -> dict[str, Any]:
    """RobustBench's model-zoo entry (``{'model': constructor, 'gdrive_id': …}``) for an L∞ model."""
    import_robustbench()
    from robustbench.model_zoo import model_dicts
    from robustbench.model_zoo.enums import BenchmarkDataset, ThreatModel

    try:
        return model_dicts[BenchmarkDataset(dataset)][ThreatModel(THREAT_MODEL)][model_id]
    except (KeyError, ValueError):
        raise ConfigError(
            f"RobustBench has no {THREAT_MODEL} model {model_id!r} for {dataset!r}",
            hint="check the id against robustbench.model_zoo, or give the model an entry_point",
        ) from None


def _gdrive_ids(model: ZooModel) -> list[str]:
    ids = robustbench_entry(model.dataset, model.model_id)["gdrive_id"]
    return list(ids) if isinstance(ids, (list, tuple)) else [ids]


def _timm_file_stem(model: ZooModel) -> str:
    return model.weights or model.model_id


ROBUSTBENCH_ENSEMBLES: dict[tuple[str, str], int] = {("cifar10", "Chen2020Adversarial"): 3}
"""(dataset, model id) → number of files, for the RobustBench models of the packaged catalogue stored as several
files; its other RobustBench models are one file each. So listing a catalogue model's files (plan resolution,
``--dry-run``) needs no import of RobustBench (about 3 s); RobustBench's own table is read for URLs and for ids
the packaged catalogue does not hold (tests/zoo/test_zoo_loaders.py checks the two agree)."""


@cache
def _packaged_robustbench_ids() -> frozenset[tuple[str, str]]:
    return frozenset((m.dataset, m.model_id) for m in load_catalogue().models() if m.source == "robustbench")


def _robustbench_file_count(model: ZooModel) -> int:
    key = (model.dataset, model.model_id)
    if key in _packaged_robustbench_ids():
        return ROBUSTBENCH_ENSEMBLES.get(key, 1)
    return len(_gdrive_ids(model))


def _robustbench_paths(model: ZooModel, models_dir: Path, count: int) -> list[Path]:
    stem = Path(models_dir) / model.dataset / THREAT_MODEL / f"{model.model_id}.pt"
    return [stem] if count == 1 else [stem.with_name(f"{stem.name}_m{k}.pt") for k in range(count)]


def model_files(model: ZooModel, models_dir: Path) -> list[Path]:
    """The local paths of the files ``model`` needs (:func:`sources` without the URLs: no RobustBench import for
    the packaged catalogue's models)."""
    if model.source == "robustbench" and not model.checkpoint:
        return _robustbench_paths(model, models_dir, _robustbench_file_count(model))
    return [s.path for s in sources(model, models_dir)]


def sources(model: ZooModel, models_dir: Path) -> list[Source]:
    """The files ``model`` needs, each with the URL ``overconf zoo fetch`` downloads it from. A checkpoint
    the catalogue file names (``checkpoint``; relative paths are under ``models_dir``) is the model's one
    file, whatever its source, and has no URL."""
    if model.checkpoint:
        path = Path(model.checkpoint).expanduser()
        return [Source("", path if path.is_absolute() else Path(models_dir) / path)]
    root = Path(models_dir) / model.dataset
    if model.source == "robustbench":
        ids = _gdrive_ids(model)
        return [Source(gdrive_url(i), path) for i, path in zip(ids, _robustbench_paths(model, models_dir, len(ids)),
                                                                strict=True)]
    if model.source == "lightning":
        name = f"{model.dataset}_normal_robustbench_{model.model_id}.tar"
        return [Source(zenodo_url(ZENODO_RECORD, name), root / "normal" / name)]
    if model.source == "timm":
        from timm.models import get_pretrained_cfg

        cfg = get_pretrained_cfg(_timm_file_stem(model))
        if cfg is None or not cfg.url:
            raise ConfigError(f"timm knows no downloadable weights {_timm_file_stem(model)!r}",
                              hint="name a tag with a URL, e.g. resnet50.a1_in1k")
        local = root / "normal" / f"{_timm_file_stem(model)}.safetensors"
        if not local.is_file():
            local = local.with_suffix(".pth")
        return [Source(cfg.url, local, hub_hash_prefix(cfg.url) if local.suffix == ".pth" else None)]
    return []


def fetch_command(model: ZooModel) -> str:
    return f"overconf zoo fetch --dataset {model.dataset} --pairs {model.model_id}"


def missing_files(model: ZooModel, models_dir: Path) -> list[Path]:
    return [path for path in model_files(model, models_dir) if not path.is_file()]


def require_files(model: ZooModel, models_dir: Path) -> list[Path]:
    """The model's local files; :class:`MissingFileError` naming the first absent path and the fetch command."""
    missing = missing_files(model, models_dir)
    if missing:
        hint = (f"run `{fetch_command(model)}`" if model.source != "entry_point" and not model.checkpoint
                else "fix the checkpoint path in your catalogue file")
        raise MissingFileError(f"{model.name} ({model.dataset}): no file at {missing[0]}", hint=hint)
    return model_files(model, models_dir)


def _read_weights(path: Path, user: bool = False) -> dict[str, torch.Tensor]:
    hint = USER_CORRUPT_HINT if user else ZOO_CORRUPT_HINT
    if path.is_dir():
        raise CheckpointError(f"{path}: is a folder, not a checkpoint file", hint="name the checkpoint file itself")
    if path.suffix == ".safetensors":
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path))
        except (SafetensorError, OSError) as exc:
            raise CheckpointError(f"{path}: not a readable safetensors file ({exc})", hint=hint) from None
    if path.suffix == ".tar":
        return find_state_dict(read_lightning_tar(path))
    return find_state_dict(read_checkpoint(path, corrupt_hint=hint))


def _load_into(model: nn.Module, path: Path, strip_prefix: str | None = None, user: bool = False) -> nn.Module:
    load_state_dict(model, _read_weights(path, user), name=str(path), strip_prefix=strip_prefix, user=user)
    return model


def build_robustbench_architecture(dataset: str, arch_id: str) -> nn.Module:
    """RobustBench's architecture for ``arch_id`` with freshly initialised weights."""
    return robustbench_entry(dataset, arch_id)["model"]()


def _load_robustbench(model: ZooModel, files: list[Path]) -> nn.Module:
    net = build_robustbench_architecture(model.dataset, model.arch_id)
    if len(files) == 1:
        return _load_into(net, files[0])
    members = getattr(net, "models", None)
    if members is None or len(members) != len(files):
        raise CheckpointError(f"{model.name}: {len(files)} checkpoint files but the architecture is not an "
                              f"ensemble of {len(files)} members")
    for member, path in zip(members, files):
        _load_into(member, path)
    return net


def _load_lightning(model: ZooModel, files: list[Path]) -> nn.Module:
    return _load_into(build_robustbench_architecture(model.dataset, model.arch_id), files[0])


def _load_timm(model: ZooModel, files: list[Path]) -> nn.Module:
    import timm
    from timm.models import get_pretrained_cfg

    net = timm.create_model(model.arch_id, pretrained=False, num_classes=model.num_classes)
    _load_into(net, files[0])
    cfg = get_pretrained_cfg(_timm_file_stem(model))
    mean, std = (cfg.mean, cfg.std) if cfg is not None else (net.pretrained_cfg["mean"], net.pretrained_cfg["std"])
    return nn.Sequential(Normalize(tuple(mean), tuple(std)), net)


def import_entry_point(spec: str, search: Sequence[Path] = ()) -> Callable[..., nn.Module]:
    """The callable named by ``"package.module:function"``; a module not importable as installed is looked
    for (as ``<folder>/<module>.py`` or a package folder) in each of ``search``, which is then put on the path."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ConfigError(f"entry point {spec!r} is not of the form 'module:function'",
                          hint="e.g. entry_point = \"mypkg.models:build\"")
    top = module_name.split(".")[0]
    if importlib.util.find_spec(top) is None:
        for folder in search:
            folder = Path(folder).resolve()
            if (folder / f"{top}.py").is_file() or (folder / top / "__init__.py").is_file():
                if str(folder) not in sys.path:
                    sys.path.insert(0, str(folder))
                importlib.invalidate_caches()
                break
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        looked = ", ".join(str(Path(f)) for f in search)
        raise ConfigError(f"entry point {spec!r} cannot be imported ({exc})",
                          hint=f"put {top}.py in {looked}" if looked else "check that its package is installed") from None
    except SyntaxError as exc:
        raise ConfigError(f"entry point {spec!r}: {exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}",
                          hint="fix the syntax of that file") from None
    except Exception as exc:  # noqa: BLE001  the module's own top-level code failed while importing
        raise ConfigError(f"entry point {spec!r}: importing {module_name} raised {type(exc).__name__}: "
                          f"{(str(exc).strip().splitlines() or [''])[0][:300]}",
                          hint="run `python -c \"import " + module_name + "\"` to see the traceback") from None
    return target


def load_weights(model: nn.Module, path: Path, strip_prefix: str | None = None, user: bool = False) -> nn.Module:
    """Load a checkpoint file (safetensors, Lightning tar or a PyTorch file, no code unpickled) into ``model``;
    ``strip_prefix`` is removed from the front of its keys first (see
    :func:`overconf.zoo.checkpoints.load_state_dict`); ``user``: the user's own file (hints say so)."""
    return _load_into(model, Path(path), strip_prefix, user)


def _load_entry_point(model: ZooModel, files: list[Path]) -> nn.Module:
    net = import_entry_point(model.entry_point or "")()
    if not isinstance(net, nn.Module):
        raise ConfigError(f"entry point {model.entry_point!r} returned {type(net).__name__}, not an nn.Module")
    return _load_into(net, files[0]) if files else net


LOADERS: dict[str, Callable[[ZooModel, list[Path]], nn.Module]] = {
    "robustbench": _load_robustbench,
    "lightning": _load_lightning,
    "timm": _load_timm,
    "entry_point": _load_entry_point,
}


def load_model(model: ZooModel, models_dir: Path | str | None = None) -> nn.Module:
    """The zoo model as an ``nn.Module`` in eval mode taking inputs in [0, 1], from local files only."""
    files = require_files(model, resolve_models_dir(models_dir))
    return LOADERS[model.source](model, files).eval()
