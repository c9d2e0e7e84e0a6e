"""Bad input at the command line, one case per fault users met: hostile or careless options, files, models,
data and run folders (model-output checks excepted: they live with the engine's tests).

Each case runs ``overconf`` in-process through :func:`overconf.cli.main` (the real entry point, error
handler included) and asserts the exit code, the ``error:`` lines (one, or one per failed model plus the
line naming them; at most one ``hint:`` line), that no traceback is printed, and that no partial or wrong
file is left behind (and that what must be written, e.g. the other models' records, is).
"""

from __future__ import annotations

import errno
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import torch

from overconf.cli import main
from overconf.evaluation.records import ModelInfo, make_records
from overconf.store.layout import records_path
from overconf.store.parquet import write_records

ROBUST_ID = "Andriushchenko2020Understanding"


@dataclass
class Case:
    """``args`` (with ``{tmp}`` for the test's folder) after ``setup(tmp)``; the run must exit with
    ``code`` and print an error line containing every string of ``error`` (``{tmp}`` filled in)."""

    args: list[str]
    error: list[str]
    setup: Callable[[Path], None] = lambda tmp: None
    code: int = 2
    absent: list[str] = field(default_factory=list)  # paths (under tmp) that must not exist afterwards
    output_has: list[str] = field(default_factory=list)  # further text anywhere in stdout + stderr
    output_lacks: list[str] = field(default_factory=list)
    errors: int = 1  # error lines: a run whose models fail has one per failed model, then the summary line
    present: list[str] = field(default_factory=list)  # paths (under tmp) that must exist afterwards


def _run(tmp: Path, case: Case, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    args = [a.replace("{tmp}", str(tmp)) for a in case.args]
    monkeypatch.setattr(sys, "argv", ["overconf", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


def _check(tmp: Path, case: Case, code: int, out: str, err: str) -> None:
    text = out + err
    assert code == case.code, text
    assert "Traceback" not in text
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    hints = [line for line in err.splitlines() if line.startswith("hint: ")]
    assert len(errors) == case.errors and len(hints) <= 1, err
    for expected in case.error:
        assert expected.replace("{tmp}", str(tmp)) in errors[0], errors[0]
    for path in case.present:
        assert (tmp / path).exists(), path
    for expected in case.output_has:
        assert expected.replace("{tmp}", str(tmp)) in text, text
    for unexpected in case.output_lacks:
        assert unexpected.replace("{tmp}", str(tmp)) not in text, text
    for path in case.absent:
        assert not (tmp / path).exists(), path
    assert not list(tmp.rglob("*.tmp")), "a temporary file was left behind"


# ---------------------------------------------------------------- set-ups


def _pairs_file(name: str, text: str | bytes) -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        path = tmp / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())

    return setup


def _toml_pair(extra: str = "", dataset: str = "cifar10") -> str:
    return (f'# my pairs\n\n[[pair]]\ndataset = "{dataset}"\nrobust_id = "Mine"\nnormal_id = "{ROBUST_ID}"\n'
            f'architecture = "PreActResNet-18"\n{extra}')


def _records_run(tmp: Path) -> None:
    """A valid run: a normal and a robust model, clean records, no report yet."""
    rng = np.random.default_rng(0)
    for model, robust in (("m-normal", False), ("m-robust", True)):
        logits = rng.normal(size=(40, 10)).astype(np.float32)
        write_records(tmp / "run", make_records(ModelInfo(model, "m", robust, "fashion-mnist"), "clean", "clean",
                                                np.arange(40), rng.integers(0, 10, 40), logits))


def _copied_records(tmp: Path) -> None:
    _records_run(tmp)
    stray = records_path(tmp / "run", "m-robust", "fog:severity=3")
    shutil.copy(records_path(tmp / "run", "m-normal", "clean"), stray)


def _flipped_correct(tmp: Path) -> None:
    _records_run(tmp)
    path = records_path(tmp / "run", "m-robust", "clean")
    table = pq.read_table(path)
    pq.write_table(table.set_column(table.schema.get_field_index("correct"), "correct",
                                    pc.invert(table.column("correct"))), path)


def _damaged_records(tmp: Path) -> None:
    _records_run(tmp)
    path = records_path(tmp / "run", "m-robust", "clean")
    path.write_bytes(path.read_bytes()[:300])


def _tampered_zoo(tmp: Path) -> None:
    """The robust checkpoint sets torch._utils._rebuild_tensor_v2.__defaults__ (BUILD on a function)."""
    path = tmp / "models" / "cifar10" / "Linf" / f"{ROBUST_ID}.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\nN}X\x0c\x00\x00\x00__defaults__K\x07\x85s\x86b.")


USER_MODELS = """
import torch
from torch import nn


def good(channels=3):
    return nn.Sequential(nn.Conv2d(channels, 4, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(16, 2))


class Raises(nn.Module):
    def forward(self, x):
        raise ValueError("my forward is broken")


def raises():
    return Raises()


class Meta(nn.Module):
    def forward(self, x):
        return torch.zeros(x.shape[0], 2, device="meta")


def meta():
    return Meta()


def needs_argument(width):
    return good()


def flat():
    return nn.Sequential(nn.Flatten(), nn.Linear(3 * 32 * 32, 2))
"""


def _user_run(robust: str, channels: int = 3, extra_data: str = "",
              models: str = USER_MODELS) -> Callable[[Path], None]:
    """A user's folder ``u``: an .npz of 8 random 8×8 images with ``channels`` channels (2 classes), ``umodels.py``
    and ``spec.toml`` with the pair ``u`` (normal: ``umodels:good``; robust: the inline table ``robust``)."""

    def setup(tmp: Path) -> None:
        folder = tmp / "u"
        folder.mkdir()
        rng = np.random.default_rng(0)
        np.savez(folder / "data.npz", x=rng.integers(0, 256, (8, 8, 8, channels), dtype=np.uint8),
                 y=np.arange(8) % 2)
        (folder / "umodels.py").write_text(models)
        (folder / "spec.toml").write_text(
            f'out = "{tmp}/run"\ndevice = "cpu"\n\n[data]\ndataset = "npz"\npath = "data.npz"\nnum_classes = 2\n'
            f'{extra_data}\n[[pair]]\nname = "u"\nrobust = {robust}\n'
            f'normal = {{ entry_point = "umodels:good", kwargs = {{ channels = {channels} }} }}\n\n'
            '[perturbations]\nspecs = ["clean", "ood-uniform"]\n')

    return setup


def _edited_spec(old: str, new: str, robust: str = '{ entry_point = "umodels:good" }') -> Callable[[Path], None]:
    def setup(tmp: Path) -> None:
        _user_run(robust)(tmp)
        spec = tmp / "u" / "spec.toml"
        text = spec.read_text()
        assert old in text
        spec.write_text(text.replace(old, new, 1))

    return setup


def _failed_model(robust: str, error: list[str], channels: int = 3,
                  setup: Callable[[Path], object] | None = None) -> Case:
    """A run whose robust model fails: exit 1, its one line, the normal model's cells, summary and report."""
    return Case(["run", "{tmp}/u/spec.toml"], ["u-robust · clean failed:", *error],
                setup=setup or _user_run(robust, channels),  # type: ignore[arg-type]
                code=1, errors=2, present=["run/records/u-normal/clean.parquet", "run/records/u-normal/ood-uniform.parquet",
                                           "run/summary.csv", "run/report/report.html", "run/logs/u-robust.log"],
                absent=["run/records/u-robust"],
                output_has=["error: 1 of 2 models failed and have cells missing: u-robust"],
                output_lacks=["zoo fetch", "catalogue"])  # the user's own models never get zoo hints


def _gray_folder(tmp: Path, mode: str = "") -> None:
    """The user's spec pointed at an image folder of grayscale PNGs (and ``mode`` when given)."""
    from PIL import Image

    _user_run('{ entry_point = "umodels:good" }')(tmp)
    for k in range(4):
        (tmp / "u" / "gray" / f"c{k % 2}").mkdir(parents=True, exist_ok=True)
        Image.new("L", (8, 8), color=40 * k).save(tmp / "u" / "gray" / f"c{k % 2}" / f"{k}.png")
    spec = tmp / "u" / "spec.toml"
    spec.write_text(spec.read_text().replace('dataset = "npz"\npath = "data.npz"',
                                             'dataset = "imagefolder"\npath = "gray"' + (f'\nmode = "{mode}"' if mode else ""))
                    .replace("kwargs = { channels = 3 }", "kwargs = { channels = 1 }"))


def _mixed_sizes(tmp: Path) -> None:
    """The user's spec pointed at an image folder whose images have two sizes, without image_size."""
    from PIL import Image

    _user_run('{ entry_point = "umodels:good" }')(tmp)
    for k, size in enumerate((8, 8, 9)):
        (tmp / "u" / "images" / f"c{k % 2}").mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (size, size)).save(tmp / "u" / "images" / f"c{k % 2}" / f"{k}.png")
    spec = tmp / "u" / "spec.toml"
    spec.write_text(spec.read_text().replace('dataset = "npz"\npath = "data.npz"', 'dataset = "imagefolder"\npath = "images"'))


def _ran(mutate: Callable[[Path], object]) -> Callable[[Path], None]:
    """The user's spec run once into ``run`` (both models good), then ``mutate(tmp)``."""

    def setup(tmp: Path) -> None:
        from overconf.run.runner import run_spec

        _user_run('{ entry_point = "umodels:good" }')(tmp)
        run_spec(tmp / "u" / "spec.toml", progress=False, report=False)
        mutate(tmp)

    return setup


def _truncate(tmp: Path) -> None:
    path = tmp / "run" / "records" / "u-normal" / "clean.parquet"
    path.write_bytes(path.read_bytes()[:200])


def _edit_consistently(tmp: Path) -> None:
    """A wrong prediction made right: label and correct changed together, so every record rule still holds."""
    path = tmp / "run" / "records" / "u-robust" / "clean.parquet"
    table = pq.read_table(path)
    label, prediction = table.column("label").to_numpy().copy(), table.column("prediction").to_numpy()
    wrong = int(np.flatnonzero(label != prediction)[0])
    label[wrong] = prediction[wrong]
    table = table.set_column(table.schema.get_field_index("label"), table.schema.field("label"),
                             pa.array(label, type=table.schema.field("label").type))
    table = table.set_column(table.schema.get_field_index("correct"), table.schema.field("correct"),
                             pa.array(label == prediction))
    pq.write_table(table, path)


EVALUATE = ["evaluate", "--zoo", "cifar10", "--out", "{tmp}/run", "--models-dir", "{tmp}/models",
            "--data-dir", "{tmp}", "--no-report"]

CASES: dict[str, Case] = {
    # --- a run survives its models: each failure stops that model only
    "model forward raises": _failed_model('{ entry_point = "umodels:raises" }', ["ValueError: my forward is broken"]),
    "model returns logits on the meta device": _failed_model('{ entry_point = "umodels:meta" }', ["meta"]),
    "entry point needs an argument": _failed_model('{ entry_point = "umodels:needs_argument" }',
                                                   ["TypeError", "width"]),
    "rgb model on grayscale data": _failed_model('{ entry_point = "umodels:good" }',
                                                 ["model expects 3 channels, data has 1"], channels=1),
    "rgb model on a grayscale image folder": _failed_model(
        '{ entry_point = "umodels:good" }', ["model expects 3 channels, data has 1: set mode = \"RGB\" in [data]"],
        setup=_gray_folder),
    "linear layer of another image size": _failed_model('{ entry_point = "umodels:flat" }',
                                                        ["expects 3072 input features but gets 192"]),
    "damaged user checkpoint, loaded lazily": _failed_model(
        '{ entry_point = "umodels:good", checkpoint = "bad.pt" }', ["CheckpointError", "bad.pt"],
        setup=lambda tmp: (_user_run('{ entry_point = "umodels:good", checkpoint = "bad.pt" }')(tmp),
                           (tmp / "u" / "bad.pt").write_bytes(b"PK\x03\x04" + bytes(200)))),
    "mean/std of 3 values on 1-channel data": Case(
        ["run", "{tmp}/u/spec.toml"], ["pair u.robust: mean/std have 3 values, the data has 1 channel(s)"],
        setup=_user_run('{ entry_point = "umodels:good", mean = [0.5, 0.5, 0.5], std = [0.2, 0.2, 0.2] }', 1),
        absent=["run"]),
    "image folder with mixed sizes and no image_size": Case(
        ["run", "{tmp}/u/spec.toml"], ["images of different sizes", "is 8×8", "c0/2.png is 9×9"], setup=_mixed_sizes,
        absent=["run"], output_has=["hint: set image_size"]),
    "checkpoint keys with a net. prefix": _failed_model(
        '{ entry_point = "umodels:good", checkpoint = "net.pt" }',
        ["learned tensors of the model are not in the checkpoint", "the checkpoint holds 4 tensors, e.g. ['net.0.weight'",
         "add strip_prefix = \"net.\""],
        setup=lambda tmp: (_user_run('{ entry_point = "umodels:good", checkpoint = "net.pt" }')(tmp),
                           torch.save({f"net.{k}": v for k, v in torch.nn.Sequential(
                               torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(16, 2)).state_dict().items()}, tmp / "u" / "net.pt"))),
    "entry point module with a syntax error": Case(
        ["run", "{tmp}/u/spec.toml"], ["entry point 'broken:net'", "broken.py:1: SyntaxError"],
        setup=lambda tmp: (_user_run('{ entry_point = "broken:net" }')(tmp),
                           (tmp / "u" / "broken.py").write_text("def net(:\n")), absent=["run"]),
    # --- validated before anything is written
    "out is the root folder": Case(["run", "{tmp}/u/spec.toml", "--out", "/", "--dry-run"],
                                   ["out = / is a file system root"], setup=_user_run('{ entry_point = "umodels:good" }')),
    "out is the home folder": Case(["run", "{tmp}/u/spec.toml", "--out", str(Path.home()), "--dry-run"],
                                   ["is your home folder"], setup=_user_run('{ entry_point = "umodels:good" }')),
    "out is a folder that is not a run": Case(
        ["run", "{tmp}/u/spec.toml", "--out", "{tmp}/u"], ["out = {tmp}/u is a folder that is not a run"],
        setup=_user_run('{ entry_point = "umodels:good" }'), output_has=["--overwrite"], absent=["u/records", "u/run.json"]),
    "seed beyond 64 bits": Case(["run", "{tmp}/u/spec.toml"], ["spec.toml:3: seed=1180591620717411303424: must be an integer", "<= 2**63 - 1"],
                                setup=_edited_spec('device = "cpu"', 'device = "cpu"\nseed = 1180591620717411303424'),
                                absent=["run"]),
    "threads = 100000": Case(["run", "{tmp}/u/spec.toml"], ["threads = 100000 on a machine with"],
                             setup=_edited_spec('device = "cpu"', 'device = "cpu"\nthreads = 100000'), absent=["run"]),
    "spec is a folder": Case(["run", "{tmp}/u"], ["spec file {tmp}/u is a folder"],
                             setup=_user_run('{ entry_point = "umodels:good" }'), absent=["run"]),
    "spec of random bytes": Case(["run", "{tmp}/s.toml"], ["{tmp}/s.toml: not a text (UTF-8) file"],
                                 setup=_pairs_file("s.toml", bytes(range(128, 256)) * 4), absent=["run"]),
    "checkpoint is a folder": Case(["run", "{tmp}/u/spec.toml"], ["u-robust: checkpoint {tmp}/u is a folder"],
                                   setup=_user_run('{ entry_point = "umodels:good", checkpoint = "." }'), absent=["run"]),
    "ray address that does not answer": Case(
        ["run", "{tmp}/u/spec.toml", "--backend", "ray", "--address", "127.0.0.1:1"],
        ["Ray address 127.0.0.1:1 does not answer within 30 s"], setup=_user_run('{ entry_point = "umodels:good" }'),
        absent=["run"]),
    "random bytes as a user checkpoint": _failed_model(
        '{ entry_point = "umodels:good", checkpoint = "bad.pt" }', ["bad.pt: not a PyTorch or safetensors file"],
        setup=lambda tmp: (_user_run('{ entry_point = "umodels:good", checkpoint = "bad.pt" }')(tmp),
                           (tmp / "u" / "bad.pt").write_bytes(bytes(range(256))))),
    "perturbation parameter typo": Case(
        ["run", "{tmp}/u/spec.toml"], [("spec.toml:16: perturbation 'pgd:step=3': unknown parameter 'step'; "
                                       "did you mean `steps`")],
        setup=_edited_spec('specs = ["clean", "ood-uniform"]', 'specs = ["clean",\n  "pgd:step=3"]'), absent=["run"],
        output_has=["hint: pgd takes"]),
    "zoo dry run missing weights and data": Case(
        [*EVALUATE, "--dry-run"], ["selected cifar10 pairs has its files", "and the data: cifar10 not found",
                                   "cifar-10-batches-py"], absent=["run"],
        setup=lambda tmp: None, output_has=["for the data: download"]),
    "data fetch cifar10": Case(["data", "fetch", "cifar10"], ["`data fetch` downloads only 'fashion-mnist', not 'cifar10'"],
                               output_has=["cifar-10-python.tar.gz", "fetches model weights only"]),
    "data fetch --dataset cifar10": Case(["data", "fetch", "--dataset", "cifar10"], ["not 'cifar10'"]),
    "query a combined report": Case(
        ["query", "{tmp}/combined", "SELECT 1"], ["{tmp}/combined holds a combined report (report.html), not records"],
        setup=lambda tmp: ((tmp / "combined").mkdir(), (tmp / "combined" / "report.html").write_text("<html>"))),
    # --- damage met on resume, and a run folder edited after the run
    "resume over a truncated record file": Case(
        ["run", "{tmp}/u/spec.toml"], ["{tmp}/run/records/u-normal/clean.parquet: not a readable record file"],
        setup=_ran(_truncate), output_has=["hint: pass --overwrite to recompute it"]),
    "resume over an empty run.json": Case(
        ["run", "{tmp}/u/spec.toml", "--no-report"], [], setup=_ran(lambda tmp: (tmp / "run" / "run.json").write_text("")),
        code=0, errors=0, output_has=["warning: {tmp}/run/run.json: damaged", "rebuilding it",
                                      "0 cells computed, 4 already done"]),
    "resume after a killed writer": Case(
        ["run", "{tmp}/u/spec.toml", "--no-report"], [], code=0, errors=0,
        setup=_ran(lambda tmp: ((tmp / "run/records/u-normal/clean.parquet").unlink(),
                                (tmp / "run/records/u-normal/.clean.parquet.abc123.tmp").write_bytes(b"PAR1"))),
        output_has=["1 cells computed, 3 already done"]),
    "resume over a foreign record file": Case(
        ["run", "{tmp}/u/spec.toml"], ["(e.g. {tmp}/run/records/u-robust/clean.parquet: u-robust · clean differs in"],
        setup=_ran(lambda tmp: shutil.copy(tmp / "run/records/u-normal/clean.parquet",
                                           tmp / "run/records/u-robust/clean.parquet")),
        output_has=["hint: choose another --out, or pass --overwrite"]),
    "resume over an edited record file": Case(
        ["run", "{tmp}/u/spec.toml"],
        ["{tmp}/run/records/u-robust/clean.parquet: its content changed since run.json recorded it"],
        setup=_ran(_edit_consistently), output_has=["hint: pass --overwrite to recompute it"]),
    "report of an edited record file": Case(
        ["report", "{tmp}/run"], ["u-robust/clean.parquet: its content changed since run.json recorded it"],
        setup=_ran(_edit_consistently), absent=["run/report"], output_has=["overconf verify RUN"]),
    "query of an edited record file": Case(
        ["query", "{tmp}/run", "SELECT count(*) FROM records"], ["u-robust/clean.parquet: its content changed"],
        setup=_ran(_edit_consistently)),
    "show of an edited record file": Case(
        ["show", "{tmp}/run"], ["u-robust/clean.parquet: its content changed"],
        setup=_ran(_edit_consistently), present=["run/summary.csv"]),
    "verify an edited run": Case(
        ["verify", "{tmp}/run"], ["{tmp}/run: 2 problem(s) in 5 record files"],
        setup=_ran(lambda tmp: (_edit_consistently(tmp), shutil.copy(tmp / "run/records/u-normal/clean.parquet",
                                                                    tmp / "run/records/u-normal/fog_severity=3.parquet"))),
        output_has=["FAIL {tmp}/run/records/u-robust/clean.parquet: its content changed",
                    "FAIL {tmp}/run/records/u-normal/fog_severity=3.parquet: holds model 'u-normal' × perturbation 'clean'"]),
    "report of a run with a damaged run.json": Case(
        ["report", "{tmp}/run"], ["{tmp}/run/run.json: damaged"],
        setup=_ran(lambda tmp: (tmp / "run" / "run.json").write_bytes(b"\xff\xfe{")), absent=["run/report"]),
    # --- tracebacks and silent acceptance at the CLI: numbers
    "n-examples 0": Case([*EVALUATE, "--n-examples", "0"], ["--n-examples=0: must be an integer >= 1"], absent=["run"]),
    "n-examples -5": Case([*EVALUATE, "--n-examples", "-5"], ["--n-examples=-5: must be an integer >= 1"], absent=["run"]),
    "attack-examples 0": Case([*EVALUATE, "--attack-examples", "0"], ["--attack-examples=0"], absent=["run"]),
    "batch-size 0": Case([*EVALUATE, "--batch-size", "0"], ["--batch-size=0: must be an integer >= 1"], absent=["run"]),
    "eps inf": Case([*EVALUATE, "--eps", "inf"], ["--eps=inf: must be a finite number > 0"], absent=["run"]),
    "eps negative": Case([*EVALUATE, "--eps", "-0.1"], ["--eps=-0.1: must be a finite number > 0"], absent=["run"]),
    "seed negative": Case([*EVALUATE, "--seed", "-1"], ["--seed=-1: must be an integer >= 0"], absent=["run"]),
    "n-resamples 0": Case(["report", "{tmp}", "--n-resamples", "0"], ["--n-resamples=0"]),
    # --- perturbation specs and names
    "pgd eps=inf": Case([*EVALUATE, "--perturbations", "clean,pgd:eps=inf"],
                        ["perturbation 'pgd:eps=inf': eps=inf must be a finite number"], absent=["run"]),
    "pgd eps=nan": Case([*EVALUATE, "--perturbations", "pgd:eps=nan"], ["eps=nan must be a finite number"], absent=["run"]),
    "pgd eps=0": Case([*EVALUATE, "--perturbations", "pgd:eps=0"], ["eps=0.0: must be a finite number > 0"], absent=["run"]),
    "typo pdg": Case([*EVALUATE, "--perturbations", "clean,pdg"],
                     ["unknown perturbation 'pdg'; did you mean `pgd`?"], absent=["run"]),
    "typo guassian_noise": Case([*EVALUATE, "--perturbations", "guassian_noise"],
                                ["unknown perturbation 'guassian_noise'; did you mean `gaussian_noise`?"], absent=["run"]),
    "typo data set": Case([*EVALUATE[:2], "cifar01", *EVALUATE[3:]], ["unknown dataset 'cifar01'; did you mean `cifar10`"],
                          absent=["run"]),
    "typo family": Case(["perturbations", "--family", "atack"],
                        ["unknown perturbation family 'atack'; did you mean `attack`?"]),
    # --- --data-dir never silently ignored
    "data fetch into a missing folder": Case(
        ["data", "fetch", "--data-dir", "{tmp}/nonexistent"], ["--data-dir {tmp}/nonexistent: no such folder"],
        absent=["nonexistent"], output_lacks=["/usr/share"]),
    "demo with an empty data folder": Case(
        ["demo", "--quick", "--no-report", "--device", "cpu", "--data-dir", "{tmp}/empty", "--out", "{tmp}/run"],
        ["--data-dir {tmp}/empty lacks Fashion-MNIST's train-images-idx3-ubyte.gz"],
        setup=lambda tmp: (tmp / "empty").mkdir(), absent=["run"]),
    # --- pairs files: types, keys, data sets, file and line, hints printed literally
    "pairs checkpoint = 5": Case(
        ["zoo", "list", "--add", "{tmp}/p.toml", "--models-dir", "{tmp}/models"],
        ["{tmp}/p.toml, line 3: robust.checkpoint must be a string, not int 5"],
        setup=_pairs_file("p.toml", _toml_pair("robust = { checkpoint = 5 }\n"))),
    "pairs robust = str": Case(
        ["zoo", "list", "--add", "{tmp}/p.toml"], ["{tmp}/p.toml, line 3: robust must be a table"],
        setup=_pairs_file("p.toml", _toml_pair('robust = "str"\n'))),
    "pairs unknown key": Case(
        ["zoo", "list", "--add", "{tmp}/p.toml"],
        ["{tmp}/p.toml, line 3: unknown key 'robust_idd'; did you mean `robust_id`"],
        setup=_pairs_file("p.toml", _toml_pair('robust_idd = "x"\n'))),
    "pairs unknown data set": Case(
        ["zoo", "list", "--add", "{tmp}/p.toml"], ["{tmp}/p.toml, line 3: unknown dataset 'cifar-10'"],
        setup=_pairs_file("p.toml", _toml_pair(dataset="cifar-10"))),
    "pairs csv row lacks a column": Case(
        ["zoo", "list", "--add", "{tmp}/p.csv"], ["{tmp}/p.csv, line 3: the pair lacks normal_id, architecture"],
        setup=_pairs_file("p.csv", f"dataset,robust_id,normal_id,architecture\ncifar10,A,{ROBUST_ID},X\ncifar10,B\n")),
    "pairs binary file": Case(
        ["zoo", "list", "--add", "{tmp}/p.csv"], ["{tmp}/p.csv: not a text file"],
        setup=_pairs_file("p.csv", bytes(range(256)) * 4)),
    "pairs hint printed literally": Case(
        ["zoo", "list", "--add", "{tmp}/p.toml"], ["`pair` must be a list of [[pair]] tables"],
        setup=_pairs_file("p.toml", "pair = 5\n"), output_has=["hint: write [[pair]] (two brackets) above each pair"]),
    "missing user checkpoint names its path": Case(
        ["zoo", "verify", "--add", "{tmp}/p.toml", "--pairs", "Mine", "--models-dir", "{tmp}/models", "--no-load"],
        ["models failed verification"],
        setup=_pairs_file("p.toml", _toml_pair('robust = { checkpoint = "/nowhere/mine.pt" }\n')),
        output_has=["missing /nowhere/mine.pt"], output_lacks=["cifar10/Linf/Mine.pt"]),
    # --- checkpoints: a tamper pickle is refused and every model is still reported
    "tampered checkpoint": Case(
        ["zoo", "verify", "--pairs", ROBUST_ID, "--models-dir", "{tmp}/models"], ["models failed verification"],
        setup=_tampered_zoo, output_has=[f"FAIL cifar10/{ROBUST_ID}", "refused", f"cifar10/{ROBUST_ID}_normal"]),
    # --- record files are not trusted blindly
    "records of another model copied in": Case(
        ["report", "{tmp}/run"], ["{tmp}/run/records/m-robust/fog_severity=3.parquet: holds model 'm-normal'"],
        setup=_copied_records, absent=["run/report", "run/summary.csv"],
        output_has=["hint: delete {tmp}/run/records/m-robust/fog_severity=3.parquet"]),
    "records with flipped correct": Case(
        ["report", "{tmp}/run"], ["m-robust/clean.parquet: correct differs from (prediction == label)"],
        setup=_flipped_correct, absent=["run/report", "run/summary.csv"]),
    "damaged record file": Case(
        ["report", "{tmp}/run"], ["m-robust/clean.parquet: not a readable Parquet record file"],
        setup=_damaged_records, absent=["run/report", "run/summary.csv"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]
    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("OVERCONF_DATA", raising=False)
    monkeypatch.delenv("OVERCONF_MODELS", raising=False)
    case.setup(tmp_path)
    defaults = torch._utils._rebuild_tensor_v2.__defaults__
    code, out, err = _run(tmp_path, case, monkeypatch, capsys)
    _check(tmp_path, case, code, out, err)
    assert torch._utils._rebuild_tensor_v2.__defaults__ == defaults


def test_full_disk_names_the_file_and_is_not_a_permission_problem(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from overconf import files

    _records_run(tmp_path)

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full)
    case = Case(["report", "{tmp}/run"], ["No space left on device: {tmp}/run/summary.csv"],
                absent=["run/summary.csv"], output_has=["hint: the disk is full"], output_lacks=["permission"])
    code, out, err = _run(tmp_path, case, monkeypatch, capsys)
    _check(tmp_path, case, code, out, err)


def test_third_party_import_warnings_do_not_reach_the_user(tmp_path: Path) -> None:
    """RobustBench's `import pkg_resources` and torch's `torch.jit.interface` deprecation are silenced on import,
    so a user error stays one line (plus its hint)."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-W", "default::UserWarning", "-W", "default::FutureWarning", "-c",
                           "from overconf._compat import import_robustbench; import_robustbench()"],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "pkg_resources" not in proc.stderr and "torch.jit.interface" not in proc.stderr


def test_a_run_killed_while_replacing_cells_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--overwrite replaces a cell, then the process dies: run.json must not hold the old file's hash, so the
    resume takes the new file as done instead of refusing it as changed."""
    from overconf.run import resume
    from overconf.run.runner import run_spec

    monkeypatch.setenv("OVERCONF_CACHE", str(tmp_path / "cache"))
    _ran(lambda tmp: None)(tmp_path)
    spec = tmp_path / "u" / "spec.toml"
    spec.write_text(spec.read_text().replace('specs = ["clean", "ood-uniform"]',
                                             'specs = ["clean", "ood-uniform"]\nn_examples = { ood = 4 }'))
    real = resume.compute_cell

    def compute_then_die(*args, **kwargs):  # type: ignore[no-untyped-def]
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(resume, "compute_cell", compute_then_die)
    with pytest.raises(KeyboardInterrupt):
        run_spec(spec, overwrite=True, progress=False, report=False)
    monkeypatch.setattr(resume, "compute_cell", real)
    from overconf.store.parquet import read_records

    assert len(read_records(tmp_path / "run")) == 8 + 8 + 4 + 8  # the replaced cell is read, not called changed
    resumed = run_spec(spec, progress=False, report=False, overwrite=True)  # the other cell still to replace
    assert resumed.done_before == 3 and len(resumed.written) == 1
    from overconf.store.verify import verify_run

    assert verify_run(tmp_path / "run") == (4, [])
