"""Checkpoints read without running pickled code, and state dicts matched to a model by one rule.

Reading. A checkpoint is a pickle; unpickling calls whatever callables it names, so we read every file
through a restricted unpickler (the "Restricting Globals" pattern of Python's ``pickle`` docs):

- the globals PyTorch's own ``weights_only`` loader allows (tensor rebuild functions, dtypes,
  ``OrderedDict``, ...) resolve to themselves;
- globals of the packages that write training bookkeeping into checkpoints (PyTorch Lightning's
  ``AttributeDict``, the authors' ``utils.MyCheckpoint`` callback, ``argparse.Namespace``, numpy
  scalars, paths) resolve to :class:`StandIn`, an inert container that records its arguments and state
  and runs nothing; the state dict never needs them;
- every other global (``os.system``, ``builtins.eval``, ...) is refused: :class:`CheckpointError`.

We do not use ``torch.load(weights_only=True)`` alone because it rejects Lightning checkpoints (it only
fills plain ``dict`` objects, and ``AttributeDict`` is a ``dict`` subclass); our unpickler resolves the
same safe set, so every file ``weights_only=True`` reads we read to the same tensors.

Matching (:func:`load_state_dict`). Checkpoints come wrapped (``{'state_dict': …}``, ``{'last': …}``)
and with wrapper prefixes on their keys (``module.`` from DataParallel, ``model.`` from Lightning or
RobustBench's normalising ``Sequential``); models may carry such a prefix too. One rule covers all:
unwrap through :data:`WRAPPER_KEYS`, then compare keys with their leading :data:`WRAPPER_PREFIXES`
removed, on both sides. Parameters and BatchNorm running statistics must all be present with the
model's shapes; other buffers absent from the file (input-normalisation constants) keep the values the
model was built with; entries the model lacks are ignored and listed in the returned :class:`LoadReport`.
For checkpoints RobustBench loads, this gives the tensors its ``load_model`` gives (its key stripping is
``robustbench.utils.rm_substr_from_state_dict`` for ``module.`` then ``model.``, and its non-strict
fallback for known models tolerates missing normalisation buffers and extra keys).
"""

from __future__ import annotations

import io
import pickle
import tarfile
import types
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import torch
from torch import nn
from torch._weights_only_unpickler import _get_allowed_globals

from overconf.errors import CheckpointError

BOOKKEEPING_ROOTS = frozenset(
    {"pytorch_lightning", "lightning", "lightning_fabric", "utils", "argparse", "numpy", "pathlib", "omegaconf"}
)
"""Top-level packages whose pickled objects are training bookkeeping; they load as inert :class:`StandIn`."""

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "last")
"""Keys under which checkpoints nest their state dict, tried in this order (``last`` before ``best``,
as RobustBench picks for the files that hold both)."""

WRAPPER_PREFIXES = ("module.", "model.")
"""Leading key prefixes added by wrappers (DataParallel, Lightning, a normalising ``Sequential``)."""


class StandIn(dict):
    """An inert stand-in for a bookkeeping object: keeps what the pickle gives it, executes nothing."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.args = args
        self.kwargs = kwargs
        self.items_list: list[Any] = []

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def append(self, item: Any) -> None:
        self.items_list.append(item)

    def extend(self, items: Any) -> None:
        self.items_list.extend(items)


def _stand_in_class(qualified: str) -> type[StandIn]:
    return type(qualified.rpartition(".")[2] or "StandIn", (StandIn,), {"qualified_name": qualified})


class RestrictedUnpickler(pickle.Unpickler):
    """``find_class`` resolves only torch's safe globals and bookkeeping stand-ins; refuses the rest."""

    _allowed = _get_allowed_globals()

    def find_class(self, module: str, name: str) -> Any:
        qualified = f"{module}.{name}"
        if qualified in self._allowed:
            return self._allowed[qualified]
        if module.partition(".")[0] in BOOKKEEPING_ROOTS:
            return _stand_in_class(qualified)
        raise CheckpointError(
            f"checkpoint refers to {qualified!r}, which would run code when unpickled; refused",
            hint="only tensors, standard containers and training bookkeeping are loaded; "
            "re-save the weights as a plain state dict (or safetensors) from a trusted environment",
        )


def _restricted_load(file: IO[bytes], **kwargs: Any) -> Any:
    return RestrictedUnpickler(file, **kwargs).load()


restricted_pickle = types.ModuleType("overconf_restricted_pickle")
restricted_pickle.Unpickler = RestrictedUnpickler  # type: ignore[attr-defined]
restricted_pickle.load = _restricted_load  # type: ignore[attr-defined]
restricted_pickle.__doc__ = "The ``pickle_module`` torch.load uses here: pickle with restricted globals."


def read_checkpoint(source: Path | IO[bytes], name: str | None = None) -> Any:
    """The object stored in a torch checkpoint (zip or legacy format), read without running pickled code.

    ``source`` is a path or a seekable binary file; ``name`` names it in error messages. Raises
    :class:`CheckpointError` for refused globals and for truncated or unreadable files.
    """
    label = name or str(source)
    try:
        # weights_only=False only because a custom pickle_module is given: that module is the restriction.
        return torch.load(source, map_location="cpu", weights_only=False, pickle_module=restricted_pickle)
    except CheckpointError as exc:
        raise CheckpointError(f"{label}: {exc.message}", hint=exc.hint) from None
    except (pickle.UnpicklingError, EOFError, RuntimeError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CheckpointError(
            f"{label}: not a readable checkpoint ({type(exc).__name__}: {exc})",
            hint="the file is truncated or corrupt: delete it and run `overconf zoo fetch` again",
        ) from None


def read_lightning_tar(path: Path) -> Any:
    """The checkpoint inside a tar holding one Lightning ``.ckpt`` (the authors' Zenodo layout
    ``robustbench_<id>/version_0/checkpoints/*.ckpt``), read without extracting anything to disk."""
    try:
        with tarfile.open(path, "r:*") as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile() and m.name.endswith(".ckpt")), key=lambda m: m.name)
            if not members:
                raise CheckpointError(f"{path}: holds no .ckpt file", hint="expected robustbench_<id>/version_0/checkpoints/*.ckpt")
            handle = tar.extractfile(members[0])
            assert handle is not None
            data = io.BytesIO(handle.read())
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise CheckpointError(
            f"{path}: not a readable tar archive ({type(exc).__name__}: {exc})",
            hint="the file is truncated or corrupt: delete it and run `overconf zoo fetch` again",
        ) from None
    return read_checkpoint(data, name=f"{path}!{members[0].name}")


def find_state_dict(obj: Any) -> dict[str, torch.Tensor]:
    """The state dict inside a checkpoint object: a str → tensor mapping, unwrapped through
    :data:`WRAPPER_KEYS`.

    >>> t = torch.zeros(1)
    >>> list(find_state_dict({"epoch": 3, "state_dict": {"w": t}}))
    ['w']
    >>> list(find_state_dict({"best": {"b": t}, "last": {"l": t}}))
    ['l']
    """
    while isinstance(obj, Mapping):
        if obj and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
            return dict(obj)
        inner = next((obj[k] for k in WRAPPER_KEYS if isinstance(obj.get(k), Mapping)), None)
        if inner is None:
            break
        obj = inner
    keys = list(obj)[:8] if isinstance(obj, Mapping) else type(obj).__name__
    raise CheckpointError(
        f"no state dict (a mapping of names to tensors) found in the checkpoint; top level: {keys}",
        hint=f"a state dict may be nested under one of {', '.join(WRAPPER_KEYS)}",
    )


def strip_wrapper_prefixes(key: str) -> str:
    """``key`` without its leading :data:`WRAPPER_PREFIXES`.

    >>> strip_wrapper_prefixes("module.model.conv1.weight"), strip_wrapper_prefixes("models.0.fc.bias")
    ('conv1.weight', 'models.0.fc.bias')
    """
    stripped = True
    while stripped:
        stripped = False
        for prefix in WRAPPER_PREFIXES:
            if key.startswith(prefix):
                key, stripped = key[len(prefix):], True
    return key


@dataclass
class LoadReport:
    """What :func:`load_state_dict` did: model keys kept at their built values, file keys ignored."""

    kept_buffers: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)


def _required_keys(model: nn.Module) -> set[str]:
    """Parameters and BatchNorm running statistics: the learned state a checkpoint must provide."""
    required = {name for name, _ in model.named_parameters()}
    for prefix, module in model.named_modules():
        if isinstance(module, nn.modules.batchnorm._NormBase) and module.track_running_stats:
            required |= {f"{prefix}.{b}".lstrip(".") for b in ("running_mean", "running_var")}
    return required


def _by_stripped_key(keys: list[str], where: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for key in keys:
        short = strip_wrapper_prefixes(key)
        if short in mapping:
            raise CheckpointError(
                f"{where} keys {mapping[short]!r} and {key!r} are the same once wrapper prefixes are removed",
                hint="the checkpoint does not fit the loader's key-matching rule; load it with your own entry point",
            )
        mapping[short] = key
    return mapping


def load_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor], name: str = "checkpoint") -> LoadReport:
    """Copy ``state`` into ``model`` by the rule in this module's docstring; return what was kept/ignored."""
    own = model.state_dict()
    model_keys = _by_stripped_key(list(own), "model")
    file_keys = _by_stripped_key(list(state), name)
    matched: dict[str, torch.Tensor] = {}
    for short, file_key in file_keys.items():
        if short in model_keys:
            matched[model_keys[short]] = state[file_key]
    missing = sorted(_required_keys(model) - set(matched))
    if missing:
        raise CheckpointError(
            f"{name}: {len(missing)} learned tensors of the model are not in the checkpoint, e.g. {missing[:4]}",
            hint="the checkpoint was written for another architecture; check the catalogue entry",
        )
    wrong = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in matched.items() if v.shape != own[k].shape]
    if wrong:
        k, got, want = wrong[0]
        raise CheckpointError(
            f"{name}: {len(wrong)} tensors have the wrong shape, e.g. {k!r} is {got}, the model expects {want}",
            hint="the checkpoint was written for another architecture; check the catalogue entry",
        )
    result = model.load_state_dict(matched, strict=False)
    return LoadReport(
        kept_buffers=sorted(result.missing_keys),
        ignored=sorted(file_keys[s] for s in set(file_keys) - set(model_keys)),
    )
