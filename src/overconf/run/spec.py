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

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field, fields
from pathlib import Path
from typing import Any

from overconf.errors import ConfigError
from overconf.store.location import uri_of
from overconf.train.config import TrainConfig
from overconf.validate import closest, unknown_name
from overconf.vocabulary import (
    BATCH_SIZE,
    DECODE,
    DEVICE,
    ENGINE_KEYS,
    FAMILIES,
    IMAGE_MODES,
    PRECISION,
    SEED,
    check_setting,
    invalid,
)

TOP_KEYS = ("out", "seed", "device", *ENGINE_KEYS, "name", "cache_dir", "data", "pair", "zoo", "perturbations")
DATA_KEYS = ("dataset", "path", "num_classes", "image_size", "n_examples", "split", "order", "mode", "classes")
PAIR_KEYS = ("name", "robust", "normal", "architecture")
MODEL_KEYS = ("entry_point", "kwargs", "checkpoint", "strip_prefix", "mean", "std", "name", "train", "config")
ZOO_KEYS = ("dataset", "pairs", "catalogue", "add", "models_dir")
PERTURBATION_KEYS = ("specs", "n_examples", "eps")
TRAIN_KEYS = tuple(f.name for f in fields(TrainConfig))
#: the settings a :class:`Spec` checks itself (the rules of :func:`overconf.vocabulary.check_setting`)
SETTINGS = ("seed", "device", *ENGINE_KEYS, "eps")


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
    """A whole run. ``folder``: where relative entry points are looked for (the spec file's folder).

    The fields' defaults are what a spec file that leaves the key out runs with (:mod:`overconf.vocabulary`:
    one default per setting, whatever the entry point). A Spec checks its settings when built (``seed``,
    ``device``, the engine keys, ``eps``, the per-family ``n_examples``), each with the one rule of
    :func:`overconf.vocabulary.check_setting`; :meth:`from_dict` checks the rest of a spec's tables. ``check``
    names the keys in errors as the user wrote them (a spec file's ``file:line: key``, a CLI flag).
    """

    out: Path
    data: DataSpec
    pairs: tuple[PairSpec, ...] = ()
    zoo: ZooSpec | None = None
    specs: tuple[str, ...] = ("clean",)
    n_examples: dict[str, int] = field(default_factory=dict)
    """``[perturbations] n_examples``: family → the first n samples (families left out: all of ``data``'s)."""
    eps: float | None = None
    seed: int = SEED
    device: str = DEVICE
    batch_size: int | str = BATCH_SIZE
    precision: str = PRECISION
    attack_precision: str = PRECISION
    channels_last: bool = False
    workers: int | None = None
    threads: int | None = None
    decode: str = DECODE
    name: str = "spec"
    cache_dir: Path | None = None
    folder: Path = Path(".")
    source: str = "<spec>"
    check: InitVar[_Checker | None] = None

    def __post_init__(self, check: _Checker | None) -> None:
        check = check or _Checker()
        for key in SETTINGS:
            check.setting(getattr(self, key), key, "perturbations" if key == "eps" else None)
        check.keys(self.n_examples, FAMILIES, f"{check.label('perturbations.n_examples')} (a family)", "perturbations")
        for family, n in self.n_examples.items():
            check.setting(n, family, "perturbations", rule="n_examples", path=f"perturbations.n_examples.{family}")

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], *, source: str | None = None, folder: Path | str = Path("."),
                  text: str = "", names: Mapping[str, str] | None = None) -> Spec:
        """The spec a dict in a spec file's shape (its TOML tables) describes, every key and value checked.
        Errors name ``source`` and the line of ``text`` the key is on (a spec file), or the key by ``names``
        (spec key path, e.g. ``data.n_examples`` or ``perturbations.n_examples.attack`` → the name the user
        gave it, e.g. a CLI flag)."""
        return _from_dict(_Checker(source, text, names), raw, Path(folder))


class _Checker:
    """Type, range and key checks that name the key as the user wrote it: in a spec file (``source`` and its
    ``text``) ``<file>:<line>: <key>`` and the closest valid key; elsewhere by ``names`` (spec key path →
    name, e.g. a CLI flag), without a prefix."""

    def __init__(self, source: str | None = None, text: str = "", names: Mapping[str, str] | None = None) -> None:
        self.source, self.lines, self.names = source, text.splitlines(), dict(names or {})

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

    def where(self, key: str | None = None, table: str | None = None) -> str:
        """The prefix of an error about ``key``: ``<file>:<line>: `` (``<file>: `` when not found), or nothing."""
        if self.source is None:
            return ""
        line = self.line_of(key, table) if key else None
        return f"{self.source}:{line}: " if line else f"{self.source}: "

    def label(self, key: str, table: str | None = None, path: str | None = None) -> str:
        """How the key is named: ``names[path]`` (path default ``table.key``), else the path below ``table``."""
        path = path or (f"{table}.{key}" if table else key)
        return self.names.get(path, path[len(table) + 1:] if table and path.startswith(f"{table}.") else path)

    def fail(self, message: str, key: str | None = None, table: str | None = None, hint: str | None = None) -> ConfigError:
        return ConfigError(f"{self.where(key, table)}{message}", hint=hint)

    def invalid(self, value: Any, key: str, table: str | None, expected: str, hint: str | None = None) -> ConfigError:
        return invalid(self.label(key, table), value, expected, where=self.where(key, table), hint=hint)

    def setting(self, value: Any, key: str, table: str | None = None, *, rule: str | None = None,
                path: str | None = None) -> Any:
        """``value`` if :func:`overconf.vocabulary.check_setting` accepts it for ``rule`` (default ``key``)."""
        return check_setting(rule or key, value, label=self.label(key, table, path), where=self.where(key, table))

    def keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], where: str, name: str | None = None) -> None:
        for key in table:
            if key not in allowed:
                close = closest(key, allowed, n=1, cutoff=0.5)
                hint = f"did you mean {close[0]!r}?" if close else f"valid keys: {', '.join(allowed)}"
                raise self.fail(f"unknown key {key!r} in {where}", key, name, hint=hint)

    def integer(self, value: Any, key: str, table: str | None = None, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.invalid(value, key, table, f"an integer >= {minimum}")
        return value

    def string(self, value: Any, key: str, table: str | None = None) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.invalid(value, key, table, "a non-empty string")
        return value

    def path(self, value: Any, key: str, table: str | None, folder: Path, *, uri: bool = False) -> Path:
        """A path (a non-empty string, or a :class:`os.PathLike`), relative ones resolved against ``folder``; with
        ``uri`` (checkpoints, data), an ``s3://`` URI is kept as the Path of it that
        :func:`overconf.store.location.uri_of` reads back (:mod:`overconf.store.inputs` copies it where it is read;
        another scheme is an error)."""
        if not isinstance(value, os.PathLike):
            value = self.string(value, key, table)
        if uri:
            try:
                if uri_of(str(value), "an object or folder", "s3://bucket/ckpt/robust.pt") is not None:
                    return Path(value)
            except ConfigError as exc:
                raise self.fail(f"{key}: {exc.message}", key, table, hint=exc.hint) from None
        path = Path(value).expanduser()
        return path if path.is_absolute() else folder / path

    def choice(self, value: Any, key: str, choices: tuple[str, ...], table: str | None = None) -> str:
        if not isinstance(value, str) or value not in choices:
            close = closest(value, choices, n=1) if isinstance(value, str) else []
            raise self.invalid(value, key, table, f"one of {', '.join(choices)}",
                               hint=f"did you mean {close[0]!r}?" if close else None)
        return value

    def number(self, value: Any, key: str, table: str | None = None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.invalid(value, key, table, "a number")
        return float(value)

    def table(self, value: Any, key: str, table: str | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.invalid(value, key, table, "a table")
        return value


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
    checkpoint = check.path(table["checkpoint"], "checkpoint", "pair", folder, uri=True) if "checkpoint" in table else None
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
        raise unknown_name("dataset", dataset, dataset_names(), where=check.where("dataset", "data").removesuffix(": "))
    num_classes = check.integer(raw["num_classes"], "num_classes", "data", 2) if "num_classes" in raw else None
    if dataset in ("imagefolder", "npz") and (num_classes is None or "path" not in raw):
        raise check.fail(f"dataset {dataset!r} needs path and num_classes", "dataset", "data",
                         hint='e.g. path = "data/test" and num_classes = 10')
    path = check.path(raw["path"], "path", "data", folder, uri=True) if "path" in raw else None
    if path is not None and uri_of(path) is not None and dataset not in ("imagefolder", "npz"):
        raise check.fail(f"path {uri_of(path)}: an s3:// path is read for imagefolder and npz data, not {dataset!r}",
                         "path", "data", hint=f"copy the {dataset} files to a local folder and name that")
    return DataSpec(
        dataset=dataset,
        path=path,
        num_classes=num_classes,
        image_size=check.integer(raw["image_size"], "image_size", "data", 1) if "image_size" in raw else None,
        n_examples=check.setting(raw.get("n_examples"), "n_examples", "data"),
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
        raise check.invalid(value, "classes", "data", "a list of class folder names", hint='e.g. classes = ["cat", "dog"]')
    twice = sorted({v for v in value if value.count(v) > 1})
    if twice:
        raise check.fail(f"class {twice[0]!r} is listed twice in classes", "classes", "data")
    return tuple(value)


def _zoo(check: _Checker, raw: Any, folder: Path) -> ZooSpec:
    table = check.table(raw, "zoo")
    check.keys(table, ZOO_KEYS, "zoo", None)
    pairs = table.get("pairs", [])
    if not isinstance(pairs, list) or not all(isinstance(p, str) for p in pairs):
        raise check.invalid(pairs, "pairs", "zoo", "a list of model ids")
    add = table.get("add", [])
    if not isinstance(add, list) or not all(isinstance(p, (str, os.PathLike)) for p in add):
        raise check.invalid(add, "add", "zoo", "a list of pairs files")
    return ZooSpec(
        dataset=check.string(table.get("dataset"), "dataset", "zoo"),
        pairs=tuple(pairs),
        catalogue=check.path(table["catalogue"], "catalogue", "zoo", folder) if "catalogue" in table else None,
        add=tuple(check.path(p, "add", "zoo", folder) for p in add),
        models_dir=check.path(table["models_dir"], "models_dir", "zoo", folder) if "models_dir" in table else None,
    )


def _perturbations(check: _Checker, raw: Any) -> dict[str, Any]:
    """``[perturbations]``: the Spec fields ``specs``, ``n_examples`` and ``eps`` it sets (values checked by
    :class:`Spec`)."""
    table = check.table(raw, "perturbations")
    check.keys(table, PERTURBATION_KEYS, "[perturbations]", "perturbations")
    fields_: dict[str, Any] = {}
    if "specs" in table:
        specs = table["specs"]
        if not isinstance(specs, list) or not specs or not all(isinstance(s, str) and s.strip() for s in specs):
            raise check.invalid(specs, "specs", "perturbations", "a non-empty list of spec strings",
                                hint='e.g. specs = ["clean", "pgd:steps=20", "corruptions"]')
        fields_["specs"] = tuple(s.strip() for s in specs)
    if "n_examples" in table:
        fields_["n_examples"] = dict(check.table(table["n_examples"], "n_examples", "perturbations"))
    if "eps" in table:
        fields_["eps"] = table["eps"]
    return fields_


def _from_dict(check: _Checker, raw: Mapping[str, Any], folder: Path) -> Spec:
    """:meth:`Spec.from_dict`: the tables' structure checked here, the settings' values by :class:`Spec`; a key
    left out takes the Spec field's default."""
    check.keys(raw, TOP_KEYS, "the spec")
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
    given = {key: raw[key] for key in SETTINGS if key in raw}  # eps: a key of [perturbations]
    for key in ("name", "cache_dir"):
        if key in raw:
            given[key] = check.string(raw[key], key) if key == "name" else check.path(raw[key], key, None, folder)
    out = check.path(raw.get("out", "runs/run"), "out", None, Path("."))  # out: against the current directory
    source = check.source or Spec.source
    return Spec(out=out, data=data, pairs=tuple(pairs), zoo=zoo, **_perturbations(check, raw.get("perturbations", {})),
                **given, folder=folder, source=source, check=check)


def parse_spec_text(text: str, source: str = "<spec>", folder: Path = Path(".")) -> Spec:
    """Parse and check a spec's TOML text; ``folder`` anchors relative paths and entry points."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc})", hint="see https://toml.io for the syntax") from None
    return Spec.from_dict(raw, source=source, folder=folder, text=text)


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
