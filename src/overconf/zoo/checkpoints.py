"""Checkpoints read without running pickled code, and state dicts matched to a model by one rule.

Reading. A checkpoint is a pickle; unpickling calls whatever callables it names, so every file is read by
PyTorch's own ``weights_only`` unpickler (``torch.load(..., weights_only=True)``), which restricts what a
pickle may name (GLOBAL), call (REDUCE, NEWOBJ), fill (SETITEM, APPEND) and change in place (BUILD) to
tensors, dtypes and standard containers. On top of that set we allow only training bookkeeping, as inert
safe globals (``torch.serialization.safe_globals``), never the real classes:

- globals of the packages that write bookkeeping into checkpoints (:data:`BOOKKEEPING_ROOTS`: PyTorch
  Lightning, the authors' ``utils.MyCheckpoint`` callback, ``argparse.Namespace``, numpy scalars, paths)
  resolve to :class:`StandIn`, which records its arguments and state and runs nothing;
- Lightning's ``AttributeDict`` (a ``dict`` subclass, which the unpickler may not fill) resolves to ``dict``;
- everything else the ``weights_only`` unpickler refuses (``os.system``, ``builtins.eval``, BUILD on a
  function, ...) is a :class:`CheckpointError` naming the file; so is an exception raised inside an allowed
  constructor (``builtins.set(1)``). The state dict never needs the bookkeeping.

The bookkeeping globals a file names are found before loading by reading its pickle's opcodes
(``pickletools.genops``, nothing executed).

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

import functools
import io
import pickle
import pickletools
import re
import tarfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Self

import torch
from torch import nn

from overconf.errors import CheckpointError

BOOKKEEPING_ROOTS = frozenset(
    {"pytorch_lightning", "lightning", "lightning_fabric", "utils", "argparse", "numpy", "pathlib", "omegaconf"}
)
"""Top-level packages whose pickled objects are training bookkeeping; they load as inert :class:`StandIn`."""

DICT_BOOKKEEPING = frozenset({
    "pytorch_lightning.utilities.parsing.AttributeDict",
    "lightning.pytorch.utilities.parsing.AttributeDict",
    "lightning_fabric.utilities.data.AttributeDict",
    "lightning.fabric.utilities.data.AttributeDict",
})
"""Bookkeeping ``dict`` subclasses: they load as plain ``dict`` (the unpickler fills only plain dicts)."""

WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "net", "last")
"""Keys under which checkpoints nest their state dict, tried in this order (``last`` before ``best``,
as RobustBench picks for the files that hold both)."""

WRAPPER_PREFIXES = ("module.", "model.", "_orig_mod.")
"""Leading key prefixes added by wrappers (DataParallel, Lightning, a normalising ``Sequential``,
``torch.compile``)."""

_REFUSAL = re.compile(r"Unsupported global|not an allowed global|is blocked|Trying to call reduce|"
                      r"Can only (build|create new object|append|SETITEM)|Unsupported operand")
_GLOBAL = re.compile(r"GLOBAL (\S+) was not an allowed global")


class StandIn:
    """An inert stand-in for a bookkeeping object: keeps what the pickle gives it, executes nothing.

    ``qualified_name`` (on the per-global subclass) is the global the file named.
    """

    qualified_name = ""
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    state: Any

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        obj = object.__new__(cls)
        obj.args, obj.kwargs, obj.state = args, kwargs, None
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"StandIn({self.qualified_name})"


@functools.cache
def _stand_in_class(qualified: str) -> type[StandIn]:
    return type(qualified.rpartition(".")[2] or "StandIn", (StandIn,), {"qualified_name": qualified})


def _pickle_globals(handle: IO[bytes], max_pickles: int) -> Iterator[str]:
    """``module.name`` of each GLOBAL / STACK_GLOBAL opcode in the next ``max_pickles`` pickles of
    ``handle`` (read as opcodes; nothing is executed). Stops quietly at anything unreadable: the
    unpickler then reports it."""
    try:
        for _ in range(max_pickles):
            strings: list[str] = []
            for opcode, arg, _pos in pickletools.genops(handle):
                if opcode.name == "GLOBAL":
                    yield str(arg).replace(" ", ".", 1)
                elif opcode.name == "STACK_GLOBAL" and len(strings) >= 2:
                    yield f"{strings[-2]}.{strings[-1]}"
                elif isinstance(arg, str):
                    strings.append(arg)
    except (ValueError, EOFError, pickle.UnpicklingError, OSError):
        return


def _bookkeeping_globals(source: Path | IO[bytes]) -> list[Callable[..., Any] | tuple[Callable[..., Any], str]]:
    """The bookkeeping globals ``source`` names, each paired with its inert stand-in, for
    ``torch.serialization.safe_globals``."""
    names: set[str] = set()
    handle = open(source, "rb") if isinstance(source, Path) else source  # noqa: SIM115 (closed below)
    start = handle.tell()
    try:
        if zipfile.is_zipfile(handle):
            handle.seek(start)
            with zipfile.ZipFile(handle) as archive:
                pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
                for name in pickles[:1]:
                    names.update(_pickle_globals(io.BytesIO(archive.read(name)), 1))
        else:
            handle.seek(start)
            # legacy format: magic number, protocol version, system info, then the object
            names.update(_pickle_globals(handle, 4))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        pass
    finally:
        if isinstance(source, Path):
            handle.close()
        else:
            handle.seek(start)
    allowed: list[Callable[..., Any] | tuple[Callable[..., Any], str]] = []
    for name in sorted(names):
        if name in DICT_BOOKKEEPING:
            allowed.append((dict, name))
        elif name.partition(".")[0] in BOOKKEEPING_ROOTS:
            allowed.append((_stand_in_class(name), name))
    return allowed


ZOO_CORRUPT_HINT = "the file is truncated or corrupt: delete it and run `overconf zoo fetch` again"
USER_CORRUPT_HINT = ("the file is truncated or corrupt: save it again, e.g. torch.save(model.state_dict(), path) "
                     "or safetensors.torch.save_file(model.state_dict(), path)")


def _looks_like_torch_file(source: Path | IO[bytes]) -> bool:
    """A zip archive (torch ≥ 1.6) or a pickle (the legacy format starts with PROTO, byte 0x80)."""
    try:
        if isinstance(source, Path):
            with open(source, "rb") as handle:
                head = handle.read(4)
        else:
            start = source.tell()
            head = source.read(4)
            source.seek(start)
    except OSError:
        return True  # let torch.load name the problem
    return head.startswith((b"PK", b"\x80"))


def read_checkpoint(source: Path | IO[bytes], name: str | None = None, corrupt_hint: str = ZOO_CORRUPT_HINT) -> Any:
    """The object stored in a torch checkpoint (zip or legacy format), read by torch's ``weights_only``
    unpickler with the bookkeeping stand-ins of this module's docstring.

    ``source`` is a path or a seekable binary file; ``name`` names it in error messages. Raises
    :class:`CheckpointError` (naming the file) for refused globals or operations, for exceptions raised
    while unpickling, and for truncated or unreadable files.
    """
    label = name or str(source)
    source = Path(source) if isinstance(source, str) else source
    if isinstance(source, Path) and source.is_dir():
        raise CheckpointError(f"{label}: is a folder, not a checkpoint file", hint="name the checkpoint file itself")
    if isinstance(source, Path) and not source.exists():
        raise CheckpointError(f"{label}: no such file", hint="check the path")
    if not _looks_like_torch_file(source):
        raise CheckpointError(f"{label}: not a PyTorch or safetensors file (it is neither a zip archive nor a pickle)",
                              hint=corrupt_hint)
    try:
        with torch.serialization.safe_globals(_bookkeeping_globals(source)):
            return torch.load(source, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        text = str(exc)
        if _REFUSAL.search(text):
            named = _GLOBAL.search(text)
            what = f"refers to {named.group(1)!r}, which" if named else "holds an operation that"
            raise CheckpointError(
                f"{label}: checkpoint {what} would run code or change objects when unpickled; refused",
                hint="only tensors, standard containers and training bookkeeping are loaded; "
                "re-save the weights as a plain state dict (or safetensors) from a trusted environment",
            ) from None
        raise CheckpointError(f"{label}: not a readable checkpoint ({text.splitlines()[-1][:200]})",
                              hint=corrupt_hint) from None
    except FileNotFoundError:
        raise CheckpointError(f"{label}: no such file", hint="check the path") from None
    except (EOFError, RuntimeError, zipfile.BadZipFile, ValueError, OSError) as exc:
        raise CheckpointError(
            f"{label}: not a readable checkpoint ({type(exc).__name__}: {str(exc)[:200]})", hint=corrupt_hint,
        ) from None
    except Exception as exc:  # noqa: BLE001  raised inside an allowed constructor, e.g. builtins.set(1)
        raise CheckpointError(
            f"{label}: unpickling failed inside an allowed constructor ({type(exc).__name__}: {str(exc)[:200]})",
            hint="the file is corrupt or was crafted; do not use it: delete it and fetch it again",
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
            hint=ZOO_CORRUPT_HINT,
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


def suggest_prefix(file_keys: list[str], model_keys: list[str]) -> str | None:
    """The leading ``a.`` or ``a.b.`` of the checkpoint's keys whose removal matches the most model keys
    (``None`` when none matches any).

    >>> suggest_prefix(["net.conv.weight", "net.fc.bias"], ["conv.weight", "fc.bias"])
    'net.'
    """
    wanted = {strip_wrapper_prefixes(k) for k in model_keys}
    candidates = {".".join(k.split(".")[:depth]) + "." for k in file_keys for depth in (1, 2) if k.count(".") >= depth}
    scored = [(sum(strip_wrapper_prefixes(k[len(p):]) in wanted for k in file_keys if k.startswith(p)), p)
              for p in sorted(candidates)]
    best = max(scored, default=(0, ""))
    return best[1] if best[0] > 0 else None


def load_state_dict(model: nn.Module, state: Mapping[str, torch.Tensor], name: str = "checkpoint",
                    strip_prefix: str | None = None, user: bool = False) -> LoadReport:
    """Copy ``state`` into ``model`` by the rule in this module's docstring; return what was kept/ignored.

    ``strip_prefix`` (e.g. ``"net."``) is removed from the front of the checkpoint's keys first; ``user``: the
    checkpoint is the user's own (hints point at the spec's keys, not the zoo catalogue).
    """
    if strip_prefix:
        state = {k.removeprefix(strip_prefix): v for k, v in state.items()}
    own = model.state_dict()
    model_keys = _by_stripped_key(list(own), "model")
    file_keys = _by_stripped_key(list(state), name)
    matched: dict[str, torch.Tensor] = {}
    for short, file_key in file_keys.items():
        if short in model_keys:
            matched[model_keys[short]] = state[file_key]
    missing = sorted(_required_keys(model) - set(matched))
    other = "check the pair's entry_point" if user else "check the catalogue entry"
    if missing:
        prefix = suggest_prefix(list(state), list(own))
        hint = (f"the checkpoint's keys carry the prefix {prefix!r}: add strip_prefix = \"{prefix}\" to the model"
                if prefix else f"the checkpoint was written for another architecture; {other}")
        raise CheckpointError(
            f"{name}: {len(missing)} learned tensors of the model are not in the checkpoint, e.g. {missing[:3]}; "
            f"the checkpoint holds {len(state)} tensors, e.g. {list(state)[:3]}",
            hint=hint,
        )
    wrong = [(k, tuple(v.shape), tuple(own[k].shape)) for k, v in matched.items() if v.shape != own[k].shape]
    if wrong:
        k, got, want = wrong[0]
        raise CheckpointError(
            f"{name}: {len(wrong)} tensors have the wrong shape, e.g. {k!r} is {got}, the model expects {want}",
            hint=f"the checkpoint was written for another architecture (or number of classes); {other}",
        )
    result = model.load_state_dict(matched, strict=False)
    return LoadReport(
        kept_buffers=sorted(result.missing_keys),
        ignored=sorted(file_keys[s] for s in set(file_keys) - set(model_keys)),
    )
