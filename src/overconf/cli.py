"""The ``overconf`` command: a thin Typer app that parses, calls the library and prints.

User errors (:class:`overconf.errors.OverconfError`) become one ``error:`` line plus a ``hint:`` line
and a non-zero exit; anything else is a bug and keeps its traceback. Each command imports the library inside
its body (lazy: start-up time), so that ``overconf --version`` and ``--help`` load none of it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from overconf.errors import ConfigError, OverconfError, describe_os_error
from overconf.validate import check_int, check_name
from overconf.vocabulary import (
    BATCH_SIZE,
    DECODE,
    DECODES,
    DEVICE,
    DEVICES,
    FAMILIES,
    PRECISION,
    PRECISIONS,
    SEED,
)

if TYPE_CHECKING:
    from overconf.run.execute import RunResult
    from overconf.zoo.catalogue import ZooModel

app = typer.Typer(
    help="Measure how over-confident image classifiers are: robust models vs their normally trained twins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Data sets: fetch and inspect.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        from overconf.version import __version__, git_commit

        commit = git_commit()
        print(f"overconf {__version__}" + (f" (git {commit[:12]})" if commit else ""))
        raise typer.Exit()


@app.callback()
def _main(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="print the version (and git commit) and exit")] = False) -> None:
    """Measure how over-confident image classifiers are: robust models vs their normally trained twins."""


OverwriteOpt = Annotated[bool, typer.Option("--overwrite", help="replace cells computed with another configuration")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="print the grid, what is done and an estimated cost; "
                                         "write nothing")]
BackendOpt = Annotated[str, typer.Option("--backend", help="local | ray")]
AddressOpt = Annotated[str | None, typer.Option("--address", help="Ray cluster address (default: start one here)")]


@data_app.command("fetch")
def data_fetch(
    dataset_argument: Annotated[str | None, typer.Argument(metavar="DATASET", help="data set to fetch")] = None,
    dataset_option: Annotated[str | None, typer.Option("--dataset", help="the same, named as elsewhere")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="where to look / put it")] = None,
) -> None:
    """Make a data set present locally (Fashion-MNIST: Debian package, else torchvision's download)."""
    from overconf.data import fashion_mnist

    if dataset_argument and dataset_option and dataset_argument != dataset_option:
        raise ConfigError(f"two data sets given: {dataset_argument!r} and --dataset {dataset_option!r}",
                          hint="give one")
    dataset = dataset_argument or dataset_option or fashion_mnist.NAME
    if dataset != fashion_mnist.NAME:
        hints = {"cifar10": "download https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz and extract it",
                 "cifar100": "download https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz and extract it",
                 "imagenet": "put the ImageNet validation set sorted into class folders (val/<wnid>/*.JPEG)"}
        hint = hints.get(dataset, "name your own data in a spec: [data] dataset = \"imagefolder\" or \"npz\"")
        raise OverconfError(f"`data fetch` downloads only {fashion_mnist.NAME!r}, not {dataset!r}",
                            hint=f"{hint}; then pass that folder with --data-dir or $OVERCONF_DATA "
                            "(`overconf zoo fetch` fetches model weights only)" if dataset in hints else hint)
    folder = fashion_mnist.fetch(data_dir)
    print(f"{dataset}: {folder}")


@app.command("report")
def report(
    runs: Annotated[list[Path], typer.Argument(metavar="RUN", help="run folder(s) holding records/ and run.json")],
    out: Annotated[Path | None, typer.Option("--out", help="folder for the report of several runs combined "
                                             "(default with one run: RUN/report)")] = None,
    n_resamples: Annotated[int, typer.Option("--n-resamples", help="bootstrap resamples for the intervals")] = 1000,
    workers: Annotated[int, typer.Option("--workers", help="processes computing the summary (per model) and the "
                                         "intervals (per pair); about one per core")] = 1,
) -> None:
    """Write the figures, tables, claims.json and report.html of a run, or of several runs combined (from
    their records, one cell at a time; no model needed): `overconf report RUN1 RUN2 --out DIR`."""
    import overconf.report
    from overconf.report.parallel import check_workers

    check_int("--n-resamples", n_resamples)
    check_workers(workers)
    if out is None and len(runs) > 1:
        raise ConfigError(f"{len(runs)} run folders need --out DIR for their combined report",
                          hint="overconf report RUN1 RUN2 --out DIR")
    from contextlib import ExitStack

    from overconf.store.location import opened

    with ExitStack() as stack:  # s3:// runs are read (and the report written) through local mirrors
        folders = [stack.enter_context(opened(run)) for run in runs]
        if out is None:
            built = overconf.report.build_report(folders[0].local, n_resamples=n_resamples, workers=workers)
        else:
            target = stack.enter_context(opened(out))
            built = overconf.report.build_combined_report([f.local for f in folders], target.local,
                                                          n_resamples=n_resamples, workers=workers)
    print(built)


@app.command("run")
def run_command(
    spec: Annotated[Path, typer.Argument(help="experiment spec (TOML), e.g. examples/demo.toml")],
    out: Annotated[Path | None, typer.Option("--out", help="run folder (default: the spec's out)")] = None,
    overwrite: OverwriteOpt = False, dry_run: DryRunOpt = False, backend: BackendOpt = "local",
    address: AddressOpt = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="build the report at the end")] = True,
) -> None:
    """Run the experiment a spec file describes (models × data × perturbations), resumably."""
    from overconf.run.runner import run_spec

    result = run_spec(spec, out=out, command=" ".join(["overconf", *sys.argv[1:]]), overwrite=overwrite,
                      backend=backend, address=address, dry_run=dry_run, report=report, table=True)
    if result.report is not None:
        print(f"report: {result.report}")
    _exit_if_failed(result)


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", help="run folder: records, summary.csv, run.json, report/")] = Path("runs/demo"),
    quick: Annotated[bool, typer.Option("--quick", help="small training and test sets (a cold run, training "
                                        "included: 50 s on 2 CPU cores; 22 s on an H200)")] = False,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="folder with Fashion-MNIST's IDX .gz files")] = None,
    device: Annotated[str, typer.Option("--device", help=DEVICES)] = DEVICE,
    no_report: Annotated[bool, typer.Option("--no-report", help="skip the figures and report.html")] = False,
    overwrite: OverwriteOpt = False, dry_run: DryRunOpt = False, backend: BackendOpt = "local",
    address: AddressOpt = None,
) -> None:
    """Fashion-MNIST demo: robust vs normal twins, trained or loaded from the cache, evaluated and reported
    (the spec examples/demo.toml; --quick: examples/demo-quick.toml)."""
    from overconf.run.demo import run_demo

    result = run_demo(out, quick=quick, data_dir=data_dir, device=device, report=not no_report,
                      overwrite=overwrite, dry_run=dry_run, backend=backend, address=address)
    if not dry_run:
        print(result.out / "summary.csv")  # an s3:// run's local mirror copy
    _exit_if_failed(result)


@app.command("query")
def query_command(
    args: Annotated[list[str], typer.Argument(help='RUN [RUN...] "SQL": run folders, then one SQL query')],
    csv: Annotated[Path | None, typer.Option("--csv", help="write the result to this CSV file")] = None,
) -> None:
    """DuckDB SQL over the records of one or more runs (a view named records, plus a column run)."""
    from overconf.store.query import query_records

    if len(args) < 2:
        raise OverconfError("query needs at least one run folder and a SQL query",
                            hint='overconf query runs/demo "SELECT model, avg(correct::int) FROM records GROUP BY model"')
    result = query_records(args[:-1], args[-1])
    if csv is not None:
        from overconf.files import write_atomic

        write_atomic(csv, lambda tmp: result.to_csv(tmp, index=False))
        print(csv)
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", 200, "display.max_columns", 50, "display.width", 200):
            print(result.to_string(index=False))


@app.command("show")
def show_command(out: Annotated[Path, typer.Argument(metavar="RUN", help="run folder")]) -> None:
    """Print a run's summary: main numbers per model × perturbation (corruptions pooled)."""
    from overconf.run.show import print_summary
    from overconf.store.location import opened

    with opened(out) as folder:  # an s3:// run is read through its local mirror
        print_summary(folder.local, name=folder.name)


@app.command("verify")
def verify_command(out: Annotated[Path, typer.Argument(metavar="RUN", help="run folder")]) -> None:
    """Check a run folder is untouched: every record file valid, its SHA-256 and configuration as run.json
    recorded them, nothing missing or added (detects edits; not a signature)."""
    from overconf.store.location import opened
    from overconf.store.verify import verify_run

    with opened(out) as folder:  # an s3:// run is checked through its local mirror
        checked, problems = verify_run(folder.local)
    for problem in problems:
        console.print(f"[red]FAIL[/] {escape(problem)}", highlight=False, soft_wrap=True)
    if problems:
        raise OverconfError(f"{out}: {len(problems)} problem(s) in {checked} record files and run.json",
                            hint="a changed or damaged record file: delete it and rerun the run's command to "
                            "recompute it")
    print(f"{out}: ok, {checked} record files match run.json")


zoo_app = typer.Typer(help="The paper's model zoo: robust/normal pairs on CIFAR-10, CIFAR-100, ImageNet.",
                      no_args_is_help=True)
app.add_typer(zoo_app, name="zoo")
DatasetOpt = Annotated[str | None, typer.Option("--dataset", help="cifar10, cifar100 or imagenet (default: all)")]
PairsOpt = Annotated[str | None, typer.Option("--pairs", help="comma-separated robust/normal ids (default: all)")]
CatalogueOpt = Annotated[Path | None, typer.Option("--catalogue", help="pairs CSV/TOML replacing the shipped one")]
AddOpt = Annotated[list[Path] | None, typer.Option("--add", help="extra pairs file (CSV or TOML); repeatable")]
ModelsDirOpt = Annotated[Path | None, typer.Option("--models-dir", help="models folder "
                                                      "(default: $OVERCONF_MODELS or $OVERCONF_CACHE/models)")]


def _zoo_selection(dataset, pairs, catalogue, add):  # type: ignore[no-untyped-def]
    from overconf.zoo import load_catalogue

    names = [p.strip() for p in pairs.split(",") if p.strip()] if pairs else None
    selection = load_catalogue(catalogue, add or ()).select(dataset, names)
    if not selection.pairs:
        raise OverconfError(f"the catalogue has no pairs for dataset {dataset!r}", hint="see `overconf zoo list`")
    return selection


@zoo_app.command("list")
def zoo_list(dataset: DatasetOpt = None, pairs: PairsOpt = None, catalogue: CatalogueOpt = None,
             add: AddOpt = None, models_dir: ModelsDirOpt = None) -> None:
    """Show the pairs and which of their files are present locally."""
    from rich.table import Table

    from overconf.zoo import resolve_models_dir
    from overconf.zoo.manage import status

    folder = resolve_models_dir(models_dir)
    selection = _zoo_selection(dataset, pairs, catalogue, add)
    states = {(s.model.dataset, s.model.name): s.state for s in status(selection, folder)}
    colour = {"present": "green", "partial": "yellow", "missing": "red"}
    table = Table(title=f"{len(selection)} pairs · models folder {folder}")
    for column in ("dataset", "robust", "state", "normal twin", "state", "architecture", "activation", "extra data"):
        table.add_column(column)
    for p in selection.pairs:
        rs, ns = states[(p.dataset, p.robust.name)], states[(p.dataset, p.normal.name)]
        table.add_row(p.dataset, p.robust.model_id, f"[{colour[rs]}]{rs}[/]", f"{p.normal.model_id} ({p.normal.source})",
                      f"[{colour[ns]}]{ns}[/]", p.architecture, p.robust.meta.get("activation", ""),
                      p.robust.meta.get("extra_data", ""))
    Console(width=max(Console().width, 160)).print(table)


@zoo_app.command("fetch")
def zoo_fetch(dataset: DatasetOpt = None, pairs: PairsOpt = None, catalogue: CatalogueOpt = None,
              add: AddOpt = None, models_dir: ModelsDirOpt = None) -> None:
    """Download the missing files of the selected pairs (resumable; hashes recorded in checksums.json)."""
    from overconf.zoo import resolve_models_dir
    from overconf.zoo.manage import fetch

    folder = resolve_models_dir(models_dir)
    results = fetch(_zoo_selection(dataset, pairs, catalogue, add), folder,
                    on_done=lambda s, outcome: console.print(escape(f"{s.path}: {outcome}"), highlight=False,
                                                             soft_wrap=True))
    failed = [r for r in results if r[1] not in ("fetched", "present")]
    if failed:
        raise OverconfError(f"{len(failed)} of {len(results)} files could not be fetched",
                            hint="rerun to resume; or download them by hand to the paths shown")


@zoo_app.command("verify")
def zoo_verify(dataset: DatasetOpt = None, pairs: PairsOpt = None, catalogue: CatalogueOpt = None,
               add: AddOpt = None, models_dir: ModelsDirOpt = None,
               load: Annotated[bool, typer.Option("--load/--no-load", help="also build each model")] = True,
               accuracy: Annotated[bool, typer.Option("--accuracy", help="also evaluate each present model's clean "
                                                      "accuracy against its published figure")] = False,
               n_examples: Annotated[int, typer.Option("--n-examples", help="first n test images for --accuracy")] = 500,
               data_dir: Annotated[Path | None, typer.Option("--data-dir", help="folder holding the data set")] = None,
               device: Annotated[str, typer.Option("--device", help=DEVICES)] = DEVICE) -> None:
    """Check presence, SHA-256 against checksums.json, and that each model loads; with --accuracy, that its clean
    accuracy on the first N test images is not below its published one (binomial test at 0.001)."""
    from overconf.zoo import resolve_models_dir
    from overconf.zoo.manage import verify

    check_int("--n-examples", n_examples)
    selection = _zoo_selection(dataset, pairs, catalogue, add)
    folder = resolve_models_dir(models_dir)
    checks = verify(selection, folder, load=load)
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[red]FAIL[/]"
        console.print(f"{mark} " + escape(f"{check.model.dataset}/{check.model.name}"
                                          + "".join(f"\n    {p}" for p in check.problems)),
                      highlight=False, soft_wrap=True)
    bad = [c.model.name for c in checks if not c.ok]
    if accuracy:
        from overconf.zoo.accuracy import verify_accuracy

        good = [c.model for c in checks if c.ok]
        for result in verify_accuracy(good, folder, data_dir, n_examples, device=device):
            mark = "[green]ok[/]" if result.ok else "[red]FAIL[/]"
            console.print(f"{mark} " + escape(result.line()), highlight=False, soft_wrap=True)
            bad += [] if result.ok else [result.model.name]
    if bad:
        raise OverconfError(f"{len(bad)} of {len(checks)} models failed verification: {', '.join(bad[:5])}"
                            + (" …" if len(bad) > 5 else ""),
                            hint="fetch missing files with `overconf zoo fetch`; delete corrupt ones first; a model "
                                 "below its published accuracy has wrong weights, normalisation or preprocessing")


@app.command("evaluate")
def evaluate_command(
    dataset: Annotated[str, typer.Option("--zoo", "--dataset", metavar="DATASET",
                                         help="data set whose zoo pairs to evaluate: cifar10, cifar100, imagenet "
                                         "(--dataset: the same option, named as in zoo list|fetch|verify)")],
    out: Annotated[Path, typer.Option("--out", help="run folder (records/, run.json, report/)")],
    pairs: PairsOpt = None, catalogue: CatalogueOpt = None, add: AddOpt = None, models_dir: ModelsDirOpt = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="folder holding the data set")] = None,
    n_examples: Annotated[list[str] | None, typer.Option(
        "--n-examples", metavar="N | FAMILY=N", help="N: the first n test samples; FAMILY=N: the first n of a "
        f"family ({', '.join(FAMILIES)}), as a spec's [perturbations] n_examples; repeatable")] = None,
    attack_examples: Annotated[int | None, typer.Option("--attack-examples",
                                                        help="deprecated: --n-examples attack=N")] = None,
    perturbations: Annotated[str, typer.Option("--perturbations", help="comma-separated specs, e.g. "
                                               "clean,pgd,square,corruptions")] = "clean,pgd,square",
    eps: Annotated[float | None, typer.Option("--eps", help="L∞ budget (default 8/255 CIFAR, 4/255 ImageNet)")] = None,
    batch_size: Annotated[str | None, typer.Option("--batch-size", help=f"images per batch (default {BATCH_SIZE}), "
                                                   f"or auto (on CUDA the largest that fits; {BATCH_SIZE} on the "
                                                   "CPU)")] = None,
    precision: Annotated[str | None, typer.Option("--precision", help=f"{' | '.join(PRECISIONS)} (default "
                                                  f"{PRECISION}): clean, corrupted and OOD forward passes")] = None,
    attack_precision: Annotated[str | None, typer.Option("--attack-precision", help="precision of the attacks "
                                                         f"(default {PRECISION})")] = None,
    channels_last: Annotated[bool, typer.Option("--channels-last", help="NHWC layout for model and inputs")] = False,
    workers: Annotated[int | None, typer.Option("--workers", help="data-loading worker processes (default: from "
                                                "the core count)")] = None,
    threads: Annotated[int | None, typer.Option("--threads", help="torch threads (default: $OMP_NUM_THREADS, "
                                                "else the free cores)")] = None,
    decode: Annotated[str | None, typer.Option("--decode", help=f"{' | '.join(DECODES)}: where image files are "
                                               f"decoded (default {DECODE})")] = None,
    device: Annotated[str | None, typer.Option("--device", help=f"{DEVICES} (default {DEVICE})")] = None,
    seed: Annotated[int | None, typer.Option("--seed", help=f"default {SEED}")] = None,
    report: Annotated[bool, typer.Option("--report/--no-report", help="build the report at the end")] = True,
    imagenet_order: Annotated[str | None, typer.Option("--imagenet-order", help="robustbench (its 5,000 images; "
                                                       "default) or sorted (every image found)")] = None,
    overwrite: OverwriteOpt = False, dry_run: DryRunOpt = False, backend: BackendOpt = "local",
    address: AddressOpt = None,
) -> None:
    """Run the paper's evaluation on the zoo pairs found locally (missing pairs are skipped and listed)."""
    from overconf.run.zoo import evaluate_zoo

    data_n, families, names = _sample_limits(n_examples or [], attack_examples)
    engine = {"precision": precision, "attack_precision": attack_precision, "channels_last": channels_last,
              "workers": workers, "threads": threads, "decode": decode}
    options: dict[str, Any] = {"n_examples": data_n, "eps": eps, "batch_size": _integer_or_text(batch_size),
                               "device": device, "seed": seed, "imagenet_order": imagenet_order}
    result = evaluate_zoo(
        dataset, out, pairs=[p.strip() for p in pairs.split(",") if p.strip()] if pairs else None, catalogue=catalogue,
        extra_catalogues=add or (), models_dir=models_dir, data_dir=data_dir,
        perturbations={"specs": [s.strip() for s in perturbations.split(",")], "n_examples": families},
        engine={k: v for k, v in engine.items() if v is not None}, names={**EVALUATE_FLAGS, **names},
        report=report, command=" ".join(["overconf", *sys.argv[1:]]), overwrite=overwrite, dry_run=dry_run,
        backend=backend, address=address, **{k: v for k, v in options.items() if v is not None},
    )
    for robust_id, missing in result.skipped[:5]:
        console.print("[yellow]skipped[/] " + escape(f"{robust_id}: no file at {missing}"), highlight=False,
                      soft_wrap=True)
    if len(result.skipped) > 5:
        console.print(f"[yellow]skipped[/] {len(result.skipped) - 5} more pairs (all listed in run.json, "
                      "config.skipped; `overconf zoo list` shows what is present)", highlight=False, soft_wrap=True)
    if not dry_run:
        print(f"{len(result.models)} models evaluated, {len(result.skipped)} pairs skipped; run: {result.out}")
        _warn_below_published(result.out, _zoo_selection(dataset, pairs, catalogue, add).models())
    if result.report is not None:
        print(f"report: {result.report}")
    _exit_if_failed(result)


#: how ``overconf evaluate``'s errors name the spec keys it sets (spec key path → flag)
EVALUATE_FLAGS = {
    "out": "--out", "seed": "--seed", "device": "--device", "batch_size": "--batch-size", "precision": "--precision",
    "attack_precision": "--attack-precision", "channels_last": "--channels-last", "workers": "--workers",
    "threads": "--threads", "decode": "--decode", "data.dataset": "--zoo", "data.path": "--data-dir",
    "data.n_examples": "--n-examples", "data.order": "--imagenet-order", "zoo.dataset": "--zoo", "zoo.pairs": "--pairs",
    "zoo.catalogue": "--catalogue", "zoo.add": "--add", "zoo.models_dir": "--models-dir",
    "perturbations.specs": "--perturbations", "perturbations.eps": "--eps", "perturbations.n_examples": "--n-examples",
}


def _integer_or_text(text: str | None) -> int | str | None:
    """A flag's text as an int when it reads as one (the spec checks what it must be)."""
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:  # e.g. "auto", or digits int() does not read ("²"): the spec says what it must be
        return text


def _sample_limits(values: list[str], attack_examples: int | None
                   ) -> tuple[int | str | None, dict[str, int | str | None], dict[str, str]]:
    """``--n-examples`` (``N`` or ``FAMILY=N``, repeatable) and the deprecated ``--attack-examples N``: the
    test set's first n, the per-family limits, and how errors name each (spec key path → flag)."""
    data_n: int | str | None = None
    families: dict[str, int | str | None] = {}
    names: dict[str, str] = {}
    for value in values:
        family, sep, n = value.partition("=")
        if not sep:
            if data_n is not None:
                raise ConfigError(f"--n-examples given twice: {data_n} and {value}", hint="give N once")
            data_n = _integer_or_text(value)
        else:
            families[family.strip()] = _integer_or_text(n)
            names[f"perturbations.n_examples.{family.strip()}"] = f"--n-examples {family.strip()}"
    if attack_examples is not None:
        console.print("[yellow]warning:[/] --attack-examples is deprecated: use --n-examples attack=N",
                      highlight=False, soft_wrap=True)
        if "attack" in families:
            raise ConfigError("--attack-examples and --n-examples attack=N both given", hint="give --n-examples attack=N")
        families["attack"] = attack_examples
        names["perturbations.n_examples.attack"] = "--attack-examples"
    return data_n, families, names


@app.command("perturbations")
def perturbations_command(
    family: Annotated[str | None, typer.Option("--family", help="only this family: clean | attack | corruption | ood")] = None,
) -> None:
    """List the registered perturbations: spec name, family, parameters (name:key=value) and what it does."""
    from overconf.perturb.listing import list_perturbations

    if family is not None:
        check_name("perturbation family", family, FAMILIES)
    entries = [e for e in list_perturbations() if family is None or e.family == family]
    for e in entries:
        print(f"{e.name:<18} {e.family:<10} {e.parameters}")
        print(f"{'':<29} {e.summary}")


def _warn_below_published(out: Path, models: list[ZooModel]) -> None:
    """Warn about every model whose clean accuracy in ``out/summary.csv`` is below its published one."""
    from overconf.report.tables import SUMMARY_CSV

    path = out / SUMMARY_CSV
    if not path.is_file():
        return
    import pandas as pd

    from overconf.zoo.accuracy import summary_checks

    for check in summary_checks(pd.read_csv(path), models):
        if not check.ok:
            console.print("[yellow]warning[/] " + escape(check.line()), highlight=False, soft_wrap=True)


def main() -> None:
    try:
        app()
    except OverconfError as exc:
        _fail(exc.message, exc.hint, exc.exit_code)
    except OSError as exc:  # a path the user named that cannot be created, read or written
        _fail(*describe_os_error(exc), 2)


def _exit_if_failed(result: RunResult) -> None:
    """Exit 1 with one line naming the failed models, after everything else ran and was written."""
    summary = result.failure_summary()
    if summary is not None:
        _fail(summary, "fix those models (or drop them from the spec) and rerun: finished cells are kept", 1)


def _fail(message: str, hint: str | None, code: int) -> None:
    """Print ``error: message`` and ``hint: hint`` literally (no console markup inside them) and exit."""
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    if hint:
        console.print(f"[bold]hint:[/] {escape(hint)}", highlight=False, soft_wrap=True)
    sys.exit(code)


if __name__ == "__main__":
    main()
