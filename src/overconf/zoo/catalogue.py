"""The catalogue of robust/normal pairs: which models, where their files live, what they are.

Read at run time from files, never from code:

- pairs: a CSV ``dataset,robust_id,normal_id,architecture`` (the package ships the paper's 71 pairs as
  ``pairs.csv``; ``--catalogue FILE`` replaces it) plus any number of user files, CSV with the same
  columns or TOML with ``[[pair]]`` tables (see :func:`read_pairs_file`);
- per-model metadata: ``models.csv`` shipped beside it (``dataset,model_id,robust,activation,
  downsampling,training,extra_data,preprocessing,clean_acc,robust_acc``); user files may add the same
  keys to a model's table.

Every model has a ``source`` saying how it is loaded (:mod:`overconf.zoo.loaders`):

``robustbench``  a robust model: RobustBench's architecture + ``<models>/<dataset>/Linf/<id>.pt``
``lightning``    a normal CIFAR twin: the same architecture + the authors' Lightning checkpoint tar
``timm``         a normal ImageNet twin: ``timm.create_model(id)`` + local weights
``entry_point``  any model: ``module:function`` returning an ``nn.Module`` (+ an optional checkpoint)

A normal twin is shared by all robust models that name it; ``pair`` is that twin's id, so records of a
group carry one ``pair`` value (one normal model, one or more robust models).
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

from overconf.errors import ConfigError, MissingFileError
from overconf.models.vocabulary import check_vocabulary
from overconf.validate import check_keys, check_name, check_type, did_you_mean

SOURCES = ("robustbench", "lightning", "timm", "entry_point")
PAIR_COLUMNS = ("dataset", "robust_id", "normal_id", "architecture")
META_KEYS = ("activation", "downsampling", "training", "extra_data", "preprocessing", "clean_acc", "robust_acc")
NUM_CLASSES = {"cifar10": 10, "cifar100": 100, "imagenet": 1000}
OPTION_KEYS = ("entry_point", "checkpoint", "weights", "arch_id", *META_KEYS)
"""What a pair file may say about one side (``robust = {...}`` / ``normal_<key>`` columns)."""
NORMAL_SUFFIX = "_normal"

TIMM_WEIGHTS = {
    "resnet18": "resnet18.tv_in1k",
    "resnet50": "resnet50.a1_in1k",
    "wide_resnet50_2": "wide_resnet50_2.racm_in1k",
}
"""The pretrained tag of each timm name: the default weights of timm 0.5.4, which the authors pinned
(timm 1.0 changed ``resnet18``'s default to ``a1_in1k``). A user file can name another tag as
``weights = "resnet50.tv_in1k"``."""


@dataclass(frozen=True)
class ZooModel:
    """One model of the zoo. ``arch_id`` names its constructor (RobustBench id or timm name)."""

    dataset: str
    model_id: str
    robust: bool
    source: str
    architecture: str
    arch_id: str
    pair: str
    entry_point: str | None = None
    checkpoint: str | None = None
    weights: str | None = None
    meta: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def name(self) -> str:
        """The model's name in records: the robust id, or the normal id + ``_normal``."""
        return self.model_id if self.robust else f"{self.model_id}{NORMAL_SUFFIX}"

    @property
    def num_classes(self) -> int:
        return NUM_CLASSES.get(self.dataset, 10)


@dataclass(frozen=True)
class Pair:
    dataset: str
    robust: ZooModel
    normal: ZooModel
    architecture: str


@dataclass
class Catalogue:
    """The pairs, in file order; models are shared between pairs that name the same twin."""

    pairs: list[Pair]

    def select(self, dataset: str | None = None, names: Sequence[str] | None = None) -> Catalogue:
        """Pairs of one data set and/or whose robust id, normal id or pair name is in ``names``."""
        if dataset is not None:
            check_name("dataset", dataset, sorted({p.dataset for p in self.pairs}))
        pairs = [p for p in self.pairs if dataset is None or p.dataset == dataset]
        if names:
            wanted = set(names)
            pairs = [p for p in pairs if wanted & {p.robust.model_id, p.normal.model_id, p.normal.name, p.robust.pair}]
            found = {n for p in pairs for n in (p.robust.model_id, p.normal.model_id, p.normal.name)}
            unknown = sorted(wanted - found)
            if unknown:
                known = {n for p in self.pairs if dataset is None or p.dataset == dataset
                         for n in (p.robust.model_id, p.normal.model_id, p.normal.name)}
                suggestion = did_you_mean(unknown[0], known)
                raise ConfigError(
                    f"no pair in the catalogue{f' for {dataset}' if dataset else ''} names {unknown}"
                    + (f"; {suggestion}" if suggestion else ""),
                    hint="see `overconf zoo list` for the names",
                )
        return Catalogue(pairs)

    def models(self) -> list[ZooModel]:
        """Each model once, robust and normal interleaved in pair order."""
        seen: dict[tuple[str, str], ZooModel] = {}
        for p in self.pairs:
            for m in (p.normal, p.robust):
                seen.setdefault((m.dataset, m.name), m)
        return list(seen.values())

    def __len__(self) -> int:
        return len(self.pairs)


def _package_file(name: str) -> Path:
    return Path(str(resources.files("overconf.zoo").joinpath(name)))


def default_catalogue_path() -> Path:
    """The paper's 71 pairs as shipped with the package."""
    return _package_file("pairs.csv")


def read_metadata(path: Path | None = None) -> dict[tuple[str, str, bool], dict[str, str]]:
    """``(dataset, model_id, robust) → {key: value}`` from a metadata CSV (default: the shipped one)."""
    path = _package_file("models.csv") if path is None else Path(path)
    if not path.is_file():
        return {}
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    return {
        (r["dataset"], r["model_id"], r["robust"].lower() == "true"): {k: r[k] for k in META_KEYS if r.get(k)}
        for r in rows
    }


def _model(dataset: str, model_id: str, robust: bool, architecture: str, pair: str, options: dict[str, Any],
           arch_id: str) -> ZooModel:
    entry_point = options.get("entry_point")
    if entry_point:
        source = "entry_point"
    elif robust:
        source = "robustbench"
    else:
        source = "timm" if dataset == "imagenet" else "lightning"
    weights = options.get("weights") or (TIMM_WEIGHTS.get(model_id) if source == "timm" else None)
    meta = {k: str(options[k]) for k in META_KEYS if options.get(k) not in (None, "")}
    return ZooModel(dataset, model_id, robust, source, architecture, options.get("arch_id") or arch_id, pair,
                    entry_point, options.get("checkpoint"), weights, meta)


def make_pair(row: dict[str, Any], where: str = "catalogue") -> Pair:
    """A :class:`Pair` from one row: the four columns, plus optional ``robust``/``normal`` option tables
    (or flat ``robust_<key>``/``normal_<key>`` CSV columns) with ``entry_point``, ``checkpoint``,
    ``weights``, ``arch_id`` and metadata keys."""
    _check_row(row, where)
    dataset = str(row["dataset"])
    options = {side: dict(row.get(side) or {}) for side in ("robust", "normal")}
    for key, value in row.items():
        for side, side_options in options.items():
            if key.startswith(f"{side}_") and key != f"{side}_id" and value not in (None, ""):
                side_options[key[len(side) + 1:]] = value
    robust_id, normal_id = str(row["robust_id"]), str(row["normal_id"])
    architecture = str(row["architecture"])
    # A normal CIFAR twin is built with RobustBench's constructor of the same id (the authors trained
    # `robustbench_<normal_id>`); a timm twin with its timm name.
    robust = _model(dataset, robust_id, True, architecture, normal_id, options["robust"], robust_id)
    normal = _model(dataset, normal_id, False, architecture, normal_id, options["normal"], normal_id)
    for model in (robust, normal):
        check_vocabulary(model.meta, f"{where}: {model.model_id}")
    return Pair(dataset, robust, normal, architecture)


def _check_row(row: Any, where: str) -> None:
    """Keys, types and data set of one pair row; a :class:`ConfigError` naming ``where`` (file, line)."""
    if not isinstance(row, dict):
        raise ConfigError(f"{where}: a pair must be a table of keys, not {type(row).__name__} {row!r}",
                          hint="write each pair as a [[pair]] table")
    if None in row:
        raise ConfigError(f"{where}: the row has more fields than the header", hint="check the commas in that line")
    flat = [f"{side}_{key}" for side in ("robust", "normal") for key in OPTION_KEYS]
    check_keys(where, row, [*PAIR_COLUMNS, "robust", "normal", *flat])
    missing = [c for c in PAIR_COLUMNS if row.get(c) in (None, "")]
    if missing:
        raise ConfigError(f"{where}: the pair lacks {', '.join(missing)}", hint=f"every pair needs {', '.join(PAIR_COLUMNS)}")
    for column in PAIR_COLUMNS:
        check_type(where, column, row[column], str, "a string")
    check_name("dataset", row["dataset"], NUM_CLASSES, where=where)
    for side in ("robust", "normal"):
        if side in row:
            table = check_type(where, side, row[side], dict, "a table such as { checkpoint = \"model.pt\" }")
            check_keys(f"{where}, {side}", table, OPTION_KEYS)
            for key, value in table.items():
                _check_option(where, f"{side}.{key}", key, value)
    for side in ("robust", "normal"):
        for key in OPTION_KEYS:
            if row.get(f"{side}_{key}") is not None:
                _check_option(where, f"{side}_{key}", key, row[f"{side}_{key}"])


def _check_option(where: str, name: str, key: str, value: Any) -> None:
    """Paths, entry points and ids are strings; metadata values strings or numbers."""
    if key in META_KEYS:
        check_type(where, name, value, (str, int, float), "a string or number")
    else:
        check_type(where, name, value, str, "a string")


def _toml_rows(path: Path, text: str) -> list[tuple[int, Any]]:
    """The ``[[pair]]`` tables of a TOML pairs file, each with the line of its header."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint="see the README's Model zoo section") from None
    check_keys(str(path), document, ["pair"])
    rows = document.get("pair", [])
    if not isinstance(rows, list):
        raise ConfigError(f"{path}: `pair` must be a list of [[pair]] tables, not {type(rows).__name__}",
                          hint="write [[pair]] (two brackets) above each pair")
    headers = [n for n, line in enumerate(text.splitlines(), 1) if re.match(r"\s*\[\[\s*pair\s*\]\]", line)]
    return [(headers[i] if i < len(headers) else 0, row) for i, row in enumerate(rows)]


def _csv_rows(path: Path, text: str) -> list[tuple[int, Any]]:
    """The rows of a CSV pairs file, each with its line number."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise ConfigError(f"{path}, line {reader.line_num}: not valid CSV ({exc})",
                          hint="a CSV with the header dataset,robust_id,normal_id,architecture") from None
    if reader.fieldnames is not None:
        check_keys(f"{path}, line 1", {k: None for k in reader.fieldnames},
                   [*PAIR_COLUMNS, *(f"{s}_{k}" for s in ("robust", "normal") for k in OPTION_KEYS)])
    return rows


def read_pairs_file(path: Path) -> list[Pair]:
    """Pairs from a CSV (header ``dataset,robust_id,normal_id,architecture[,robust_<key>,normal_<key>…]``)
    or a TOML file::

        [[pair]]
        dataset = "cifar10"
        robust_id = "MyRobustNet"
        normal_id = "MyNormalNet"
        architecture = "ResNet-18"
        robust = { entry_point = "mypkg.models:robust_net", checkpoint = "/ckpt/robust.pt" }
        normal = { entry_point = "mypkg.models:normal_net", checkpoint = "/ckpt/normal.safetensors" }
    """
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"catalogue file {path} does not exist", hint="pass a CSV or TOML file of pairs")
    try:
        text = path.read_text(encoding="utf-8")
        if "\0" in text:
            raise UnicodeError("NUL bytes")
    except UnicodeError:
        raise ConfigError(f"{path}: not a text file (a pairs file is CSV or TOML, UTF-8)",
                          hint="pass a CSV or TOML file of pairs") from None
    rows = _toml_rows(path, text) if path.suffix.lower() == ".toml" else _csv_rows(path, text)
    if not rows:
        raise ConfigError(f"{path}: no pairs found", hint="a CSV needs a header row; a TOML file [[pair]] tables")
    return [make_pair(row, f"{path}, line {line}" if line else str(path)) for line, row in rows]


def load_catalogue(
    path: Path | None = None,
    extra: Iterable[Path] = (),
    metadata: Path | None = None,
) -> Catalogue:
    """The catalogue from ``path`` (default: the shipped 71 pairs) plus user files ``extra``, with the
    metadata of :func:`read_metadata` filled in under what each file states itself."""
    pairs = read_pairs_file(default_catalogue_path() if path is None else Path(path))
    for more in extra:
        pairs += read_pairs_file(Path(more))
    known = read_metadata(metadata)

    def with_meta(m: ZooModel) -> ZooModel:
        return replace(m, meta={**known.get((m.dataset, m.model_id, m.robust), {}), **m.meta})

    return Catalogue([replace(p, robust=with_meta(p.robust), normal=with_meta(p.normal)) for p in pairs])
