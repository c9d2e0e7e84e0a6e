"""Experiment specs: ``overconf run SPEC.toml``, a TOML file describing one run (a public contract).

```toml
out = "runs/mine"                 # run folder
seed = 0
device = "auto"                   # auto | cpu | cuda | cuda:N | mps
batch_size = 256                  # or "auto": the largest that fits on CUDA (256 on the CPU)
precision = "fp32"                # fp32 | tf32 | bf16 | fp16: forward passes; part of every cell's identity
attack_precision = "fp32"         # attacks' precision (part of attack cells' identity when not fp32)
channels_last = false             # NHWC layout for model and inputs
workers = 2                       # data-loading worker processes (default: from the core count)
threads = 2                       # torch threads (default: $OMP_NUM_THREADS, else the cores left)
decode = "cpu"                    # cpu | gpu: where image files are decoded

[data]
dataset = "imagefolder"           # fashion-mnist | cifar10 | cifar100 | imagenet | imagefolder | npz
path = "data/test"
num_classes = 10                  # required for imagefolder / npz
image_size = 32                   # optional: resize + centre crop
n_examples = 1000                 # optional: n samples (more than exist is an error); folder/npz: class-stratified
order = "stratified"              # folder/npz: stratified (seeded by seed, default) | sorted (the first n files)
classes = ["cat", "dog"]          # imagefolder, optional: class folder names in the models' output order

[[pair]]                          # any number; or zoo = { dataset = "cifar10", pairs = ["..."] }
name = "mine"
robust = { entry_point = "mymodels:robust_net", checkpoint = "ckpt/robust.pt" }
normal = { entry_point = "mymodels:normal_net", checkpoint = "ckpt/normal.safetensors", mean = [0.49, 0.48, 0.45], std = [0.25, 0.24, 0.26] }

[perturbations]
specs = ["clean", "pgd:steps=20", "square:n_queries=1000", "fog:severity=3", "ood-uniform"]
n_examples = { attack = 500, corruption = 500, ood = 500 }
```

A model is built by an ``entry_point`` (``module:function``, found beside the spec file or in the
current directory without ``PYTHONPATH``) with an optional ``checkpoint`` (safetensors, or a PyTorch file
read without unpickling code) and optional ``mean``/``std`` (a normalisation layer in front), or trained
here from a ``train`` table (:class:`overconf.train.config.TrainConfig`'s fields; cached by its key).
Relative paths of data, checkpoints and catalogues resolve against the spec file's folder (a checkpoint and
an imagefolder/npz ``path`` may also be ``s3://`` URIs: :mod:`overconf.store.inputs`); ``out``, like
every output path of the CLI, against the current directory (``--out`` overrides it). Unknown keys are an error naming the file, the
line and the closest valid key; every value is type- and range-checked on load.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from overconf.errors import ConfigError
from overconf.store.location import uri_of
from overconf.train.config import TrainConfig
from overconf.validate import closest

DEVICE_PATTERN = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")
PRECISIONS = ("fp32", "tf32", "bf16", "fp16")  # as overconf.evaluation.engine.PRECISIONS (kept torch-free here)
DECODES = ("cpu", "gpu")  # as overconf.data.decode.DECODES
FAMILY_LIMITS = ("clean", "attack", "corruption", "ood")

ENGINE_KEYS = ("batch_size", "precision", "attack_precision", "channels_last", "workers", "threads", "decode")
TOP_KEYS = ("out", "seed", "device", *ENGINE_KEYS, "name", "cache_dir", "data", "pair", "zoo", "perturbations")
DATA_KEYS = ("dataset", "path", "num_classes", "image_size", "n_examples", "split", "order", "mode", "classes")
IMAGE_MODES = ("RGB", "L")  # as overconf.data.folder.MODES (kept PIL-free here)
PAIR_KEYS = ("name", "robust", "normal", "architecture")
MODEL_KEYS = ("entry_point", "kwargs", "checkpoint", "strip_prefix", "mean", "std", "name", "train", "config")
ZOO_KEYS = ("dataset", "pairs", "catalogue", "add", "models_dir")
PERTURBATION_KEYS = ("specs", "n_examples", "eps")
TRAIN_KEYS = tuple(f.name for f in fields(TrainConfig))


@dataclass(frozen=True)
class DataSpec:
    """``[data]``: which test set, where, how many samples."""

    dataset: str
    path: Path | None = None
    num_classes: int | None = None
    image_size: int | None = None
    n_examples: int | None = None
    split: str | None = None
    order: str | None = None
    mode: str | None = None
    classes: tuple[str, ...] | None = None


@dataclass(frozen=True)
class ModelSpec:
    """One member of a ``[[pair]]``: an entry point (+ checkpoint, normalisation) or a model trained here."""

    entry_point: str | None = None
    checkpoint: Path | None = None
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None
    name: str | None = None
    train: TrainConfig | None = None
    config: dict[str, Any] = field(default_factory=dict)
    kwargs: dict[str, Any] = field(default_factory=dict)
    strip_prefix: str | None = None


@dataclass(frozen=True)
class PairSpec:
    name: str
    robust: ModelSpec
    normal: ModelSpec
    architecture: str = ""


@dataclass(frozen=True)
class ZooSpec:
    """``zoo = { dataset = "cifar10", pairs = [...] }``: pairs of the shipped (or a given) catalogue."""

    dataset: str
    pairs: tuple[str, ...] = ()
    catalogue: Path | None = None
    add: tuple[Path, ...] = ()
    models_dir: Path | None = None


@dataclass(frozen=True)
class Spec:
    """A whole run. ``folder``: where relative entry points are looked for (the spec file's folder)."""

    out: Path
    data: DataSpec
    pairs: tuple[PairSpec, ...] = ()
    zoo: ZooSpec | None = None
    specs: tuple[str, ...] = ("clean",)
    n_examples: dict[str, int] = field(default_factory=dict)
    eps: float | None = None
    seed: int = 0
    device: str = "auto"
    batch_size: int | str = 256
    precision: str = "fp32"
    attack_precision: str = "fp32"
    channels_last: bool = False
    workers: int | None = None
    threads: int | None = None
    decode: str = "cpu"
    name: str = "spec"
    cache_dir: Path | None = None
    folder: Path = Path(".")
    source: str = "<spec>"


#: the engine keys' defaults (what a spec that names none of them runs with)
ENGINE_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(Spec) if f.name in ENGINE_KEYS}


class _Checker:
    """Type, range and key checks that name the file, the line and the closest valid key."""

    def __init__(self, source: str, text: str) -> None:
        self.source, self.lines = source, text.splitlines()

    def line_of(self, key: str, table: str | None = None) -> int | None:
        start = 0
        if table:
            header = re.compile(r"^\s*\[\[?\s*" + re.escape(table) + r"\s*\]\]?\s*(#.*)?$")
            start = next((i for i, line in enumerate(self.lines) if header.match(line)), 0)
        pattern = re.compile(r"(^|[\s{,])[\"']?" + re.escape(key) + r"[\"']?\s*=")
        for i in list(range(start, len(self.lines))) + list(range(start)):
            if pattern.search(self.lines[i].split("#", 1)[0]):
                return i + 1
        return None

    def fail(self, message: str, key: str | None = None, table: str | None = None, hint: str | None = None) -> ConfigError:
        line = self.line_of(key, table) if key else None
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{where}: {message}", hint=hint)

    def keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str, name: str | None = None) -> None:
        for key in table:
            if key not in allowed:
                close = closest(key, allowed, n=1, cutoff=0.5)
                hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(allowed)}"
                raise self.fail(f"unknown key {key!r} in {where}", key, name, hint=hint)

    def integer(self, value: Any, key: str, table: str | None = None, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(f"{key} must be an integer ≥ {minimum}, got {value!r}", key, table)
        return value

    def string(self, value: Any, key: str, table: str | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{key} must be a non-empty string, got {value!r}", key, table)
        return value

    def choice(self, value: Any, key: str, choices: tuple[str, ...], table: str | None = None) -> str:
        value = self.string(value, key, table)
        if value not in choices:
            close = closest(value, choices, n=1)
            raise self.fail(f"unknown {key} {value!r}", key, table,
                            hint=f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(choices)}")
        return value

    def number(self, value: Any, key: str, table: str | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.fail(f"{key} must be a number, got {value!r}", key, table)
        return float(value)

    def table(self, value: Any, key: str, table: str | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(f"{key} must be a table, got {value!r}", key, table)
        return value


def _path(value: str, folder: Path, uri: bool = False) -> Path:
    """``value`` against the spec's folder; with ``uri``, an ``s3://`` URI is kept as the Path of it that
    :func:`overconf.store.location.uri_of` reads back (another scheme is a :class:`ConfigError`)."""
    if uri and uri_of(value, "an object or folder", "s3://bucket/ckpt/robust.pt") is not None:
        return Path(value)
    path = Path(value).expanduser()
    return path if path.is_absolute() else folder / path


def _input_path(check: _Checker, value: Any, key: str, table: str, folder: Path) -> Path:
    """A checkpoint or data path: local (against ``folder``) or an ``s3://`` URI (:mod:`overconf.store.inputs`)."""
    try:
        return _path(check.string(value, key, table), folder, uri=True)
    except ConfigError as exc:
        raise check.fail(f"{key}: {exc.message}", key, table, hint=exc.hint) from None


def _model(check: _Checker, raw: Any, where: str, folder: Path, pair: str) -> ModelSpec:
    table = check.table(raw, where.rsplit(".", 1)[-1], "pair")
    check.keys(table, MODEL_KEYS, where, "pair")
    has_entry, has_train = "entry_point" in table, "train" in table
    if has_entry == has_train:
        raise check.fail(f"{where} needs exactly one of entry_point or train", where.rsplit(".", 1)[-1], "pair",
                         hint='e.g. robust = { entry_point = "mymodels:robust_net", checkpoint = "ckpt/robust.pt" }')
    entry = check.string(table["entry_point"], "entry_point", "pair") if has_entry else None
    if entry is not None and not re.fullmatch(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*", entry):
        raise check.fail(f"entry_point {entry!r} is not of the form module:function", "entry_point", "pair",
                         hint='e.g. entry_point = "mymodels:robust_net"')
    norm: dict[str, tuple[float, ...] | None] = {}
    for key in ("mean", "std"):
        value = table.get(key)
        if value is not None:
            if not isinstance(value, list) or not value or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
                raise check.fail(f"{key} must be a list of numbers (one per channel), got {value!r}", key, "pair")
            if key == "std" and any(v <= 0 for v in value):
                raise check.fail(f"std must be positive, got {value!r}", key, "pair")
            value = tuple(float(v) for v in value)
        norm[key] = value
    if (norm["mean"] is None) != (norm["std"] is None) or (norm["mean"] and len(norm["mean"]) != len(norm["std"] or ())):
        raise check.fail("mean and std go together, one number per channel each", "mean", "pair")
    train = None
    if has_train:
        raw_train = check.table(table["train"], "train", "pair")
        check.keys(raw_train, TRAIN_KEYS, f"{where}.train", "pair")
        try:
            train = TrainConfig(**raw_train)
        except (TypeError, ConfigError) as exc:
            raise check.fail(f"{where}.train: {getattr(exc, 'message', exc)}", "train", "pair") from None
        if "checkpoint" in table:
            raise check.fail(f"{where}: a trained model has no checkpoint", "checkpoint", "pair")
    config = check.table(table.get("config", {}), "config", "pair")
    name = check.string(table["name"], "name", "pair") if "name" in table else None
    checkpoint = _input_path(check, table["checkpoint"], "checkpoint", "pair", folder) if "checkpoint" in table else None
    kwargs = check.table(table.get("kwargs", {}), "kwargs", "pair")
    strip_prefix = check.string(table["strip_prefix"], "strip_prefix", "pair") if "strip_prefix" in table else None
    if has_train and (kwargs or strip_prefix):
        raise check.fail(f"{where}: kwargs and strip_prefix go with an entry_point, not train",
                         "kwargs" if kwargs else "strip_prefix", "pair")
    if strip_prefix is not None and checkpoint is None:
        raise check.fail(f"{where}: strip_prefix needs a checkpoint", "strip_prefix", "pair")
    return ModelSpec(entry, checkpoint, norm["mean"], norm["std"], name, train, dict(config), dict(kwargs), strip_prefix)


def _data(check: _Checker, raw: dict[str, Any], folder: Path) -> DataSpec:
    check.keys(raw, DATA_KEYS, "[data]", "data")
    if "dataset" not in raw:
        raise check.fail("[data] needs dataset", "data", hint="e.g. dataset = \"imagefolder\"")
    dataset = check.string(raw["dataset"], "dataset", "data")
    from overconf.data.named import dataset_names  # lazy: start-up time

    if dataset not in dataset_names():
        close = closest(dataset, dataset_names(), n=1)
        raise check.fail(f"unknown dataset {dataset!r}", "dataset", "data",
                         hint=f"did you mean {close[0]!r}?" if close else f"choose one of {', '.join(dataset_names())}")
    num_classes = check.integer(raw["num_classes"], "num_classes", "data", 2) if "num_classes" in raw else None
    if dataset in ("imagefolder", "npz") and (num_classes is None or "path" not in raw):
        raise check.fail(f"dataset {dataset!r} needs path and num_classes", "dataset", "data",
                         hint='e.g. path = "data/test" and num_classes = 10')
    path = _input_path(check, raw["path"], "path", "data", folder) if "path" in raw else None
    if path is not None and uri_of(path) is not None and dataset not in ("imagefolder", "npz"):
        raise check.fail(f"path {uri_of(path)}: an s3:// path is read for imagefolder and npz data, not {dataset!r}",
                         "path", "data", hint=f"copy the {dataset} files to a local folder and name that")
    return DataSpec(
        dataset=dataset,
        path=path,
        num_classes=num_classes,
        image_size=check.integer(raw["image_size"], "image_size", "data", 1) if "image_size" in raw else None,
        n_examples=check.integer(raw["n_examples"], "n_examples", "data", 1) if "n_examples" in raw else None,
        split=check.string(raw["split"], "split", "data") if "split" in raw else None,
        order=check.string(raw["order"], "order", "data") if "order" in raw else None,
        mode=_mode(check, raw, dataset),
        classes=_classes(check, raw["classes"], dataset) if "classes" in raw else None,
    )


def _mode(check: _Checker, raw: dict[str, Any], dataset: str) -> str | None:
    if "mode" not in raw:
        return None
    if dataset != "imagefolder":
        raise check.fail(f"mode applies to imagefolder data, not {dataset!r}", "mode", "data",
                         hint="remove mode from [data]")
    return check.choice(raw["mode"], "mode", IMAGE_MODES, "data")


def _classes(check: _Checker, value: Any, dataset: str) -> tuple[str, ...]:
    """``classes``: distinct non-empty folder names, for imagefolder data only."""
    if dataset != "imagefolder":
        raise check.fail(f"classes applies to imagefolder data, not {dataset!r}", "classes", "data",
                         hint="remove classes from [data]")
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise check.fail(f"classes must be a list of class folder names, got {value!r}", "classes", "data",
                         hint='e.g. classes = ["cat", "dog"]')
    twice = sorted({v for v in value if value.count(v) > 1})
    if twice:
        raise check.fail(f"class {twice[0]!r} is listed twice in classes", "classes", "data")
    return tuple(value)


def _zoo(check: _Checker, raw: Any, folder: Path) -> ZooSpec:
    table = check.table(raw, "zoo")
    check.keys(table, ZOO_KEYS, "zoo", None)
    pairs = table.get("pairs", [])
    if not isinstance(pairs, list) or not all(isinstance(p, str) for p in pairs):
        raise check.fail(f"zoo.pairs must be a list of model ids, got {pairs!r}", "pairs")
    add = table.get("add", [])
    if not isinstance(add, list) or not all(isinstance(p, str) for p in add):
        raise check.fail(f"zoo.add must be a list of pairs files, got {add!r}", "add")
    return ZooSpec(
        dataset=check.string(table.get("dataset"), "dataset"),
        pairs=tuple(pairs),
        catalogue=_path(check.string(table["catalogue"], "catalogue"), folder) if "catalogue" in table else None,
        add=tuple(_path(p, folder) for p in add),
        models_dir=_path(check.string(table["models_dir"], "models_dir"), folder) if "models_dir" in table else None,
    )


def _perturbations(check: _Checker, raw: Any) -> tuple[tuple[str, ...], dict[str, int], float | None]:
    table = check.table(raw, "perturbations")
    check.keys(table, PERTURBATION_KEYS, "[perturbations]", "perturbations")
    specs = table.get("specs", ["clean"])
    if not isinstance(specs, list) or not specs or not all(isinstance(s, str) and s.strip() for s in specs):
        raise check.fail(f"perturbations.specs must be a non-empty list of spec strings, got {specs!r}", "specs",
                         "perturbations", hint='e.g. specs = ["clean", "pgd:steps=20", "corruptions"]')
    limits = check.table(table.get("n_examples", {}), "n_examples", "perturbations")
    for family, n in limits.items():
        if family not in FAMILY_LIMITS:
            close = closest(family, FAMILY_LIMITS, n=1)
            raise check.fail(f"unknown key {family!r} in perturbations.n_examples (a family)", family, "perturbations",
                             hint=f"did you mean {close[0]!r}?" if close else f"families: {', '.join(FAMILY_LIMITS)}")
        check.integer(n, family, "perturbations", 1)
    eps = check.number(table["eps"], "eps", "perturbations") if "eps" in table else None
    if eps is not None and not 0 < eps <= 1:
        raise check.fail(f"eps must be in (0, 1] (pixel units), got {eps}", "eps", "perturbations")
    return tuple(s.strip() for s in specs), dict(limits), eps


SEED_MAX = 2**63 - 1
"""The largest seed (torch's generators take 64-bit seeds; numpy's take these too)."""


def _seed(check: _Checker, value: Any) -> int:
    seed = check.integer(value, "seed")
    if seed > SEED_MAX:
        raise check.fail(f"seed must be an integer ≤ 2**63 - 1, got {seed}", "seed")
    return seed


def parse_spec_text(text: str, source: str = "<spec>", folder: Path = Path(".")) -> Spec:
    """Parse and check a spec's TOML text; ``folder`` anchors relative paths and entry points."""
    check = _Checker(source, text)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})", hint="see https://toml.io for the syntax") from None
    check.keys(raw, TOP_KEYS, "the spec")
    folder = Path(folder)
    zoo = _zoo(check, raw["zoo"], folder) if "zoo" in raw else None
    data_raw = check.table(raw.get("data", {}), "data")
    if "dataset" not in data_raw and zoo is not None:
        data_raw = {**data_raw, "dataset": zoo.dataset}
    data = _data(check, data_raw, folder)
    if zoo is not None and zoo.dataset != data.dataset:
        raise check.fail(f"zoo.dataset {zoo.dataset!r} differs from [data] dataset {data.dataset!r}", "dataset")
    pairs_raw = raw.get("pair", [])
    if not isinstance(pairs_raw, list):
        raise check.fail("pair must be an array of tables ([[pair]])", "pair")
    pairs = []
    for i, p in enumerate(pairs_raw):
        table = check.table(p, "pair")
        check.keys(table, PAIR_KEYS, f"[[pair]] #{i + 1}", "pair")
        for key in ("name", "robust", "normal"):
            if key not in table:
                raise check.fail(f"[[pair]] #{i + 1} needs {key}", "pair", hint="each pair has name, robust and normal")
        name = check.string(table["name"], "name", "pair")
        pairs.append(PairSpec(name, _model(check, table["robust"], f"pair {name}.robust", folder, name),
                              _model(check, table["normal"], f"pair {name}.normal", folder, name),
                              str(table.get("architecture", ""))))
    if not pairs and zoo is None:
        raise check.fail("the spec names no models", hint="add [[pair]] tables or zoo = { dataset = ..., pairs = [...] }")
    specs, limits, eps = _perturbations(check, raw.get("perturbations", {}))
    device = check.string(raw.get("device", "auto"), "device")
    if not DEVICE_PATTERN.match(device):
        raise check.fail(f"unknown device {device!r}", "device", hint="use auto, cpu, cuda, cuda:N or mps")
    precision, attack_precision, decode = (check.choice(raw.get(key, default), key, choices) for key, default, choices in (
        ("precision", "fp32", PRECISIONS), ("attack_precision", "fp32", PRECISIONS), ("decode", "cpu", DECODES)))
    batch_size = raw.get("batch_size", 256)
    if batch_size != "auto" and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise check.fail(f"batch_size must be an integer ≥ 1 or \"auto\", got {batch_size!r}", "batch_size")
    channels_last = raw.get("channels_last", False)
    if not isinstance(channels_last, bool):
        raise check.fail(f"channels_last must be true or false, got {channels_last!r}", "channels_last")
    return Spec(
        out=Path(check.string(raw.get("out", "runs/run"), "out")).expanduser(),
        data=data, pairs=tuple(pairs), zoo=zoo, specs=specs, n_examples=limits, eps=eps,
        seed=_seed(check, raw.get("seed", 0)),
        device=device,
        batch_size=batch_size,
        precision=precision,
        attack_precision=attack_precision,
        channels_last=channels_last,
        workers=check.integer(raw["workers"], "workers") if "workers" in raw else None,
        threads=check.integer(raw["threads"], "threads", None, 1) if "threads" in raw else None,
        decode=decode,
        name=check.string(raw.get("name", "spec"), "name"),
        cache_dir=_path(check.string(raw["cache_dir"], "cache_dir"), folder) if "cache_dir" in raw else None,
        folder=folder, source=source,
    )


def spec_line(spec: Spec, message: str) -> str | None:
    """``<spec file>:<line>`` of the first perturbation spec string quoted in ``message`` (the spec file alone
    when the string is not found; ``None`` for a spec that is no file)."""
    path = Path(spec.source)
    try:
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else None
    except (OSError, UnicodeDecodeError):
        lines = None
    if lines is None:
        return None
    for text in spec.specs:
        if repr(text) in message or f"'{text.split(':')[0]}" in message:
            for i, line in enumerate(lines):
                if f'"{text}"' in line or f"'{text}'" in line:
                    return f"{spec.source}:{i + 1}"
    return spec.source


def load_spec(path: Path | str) -> Spec:
    """Read and check ``SPEC.toml``: relative paths and entry points resolve against its folder."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"spec file {path} is a folder", hint="give the path of a .toml file, e.g. examples/demo.toml")
    if not path.is_file():
        raise ConfigError(f"spec file {path} not found", hint="give the path of a .toml file, e.g. examples/demo.toml")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text (UTF-8) file: byte {exc.start} cannot be decoded",
                          hint="a spec is a TOML text file, e.g. examples/demo.toml") from None
    return parse_spec_text(text, str(path), path.resolve().parent)
