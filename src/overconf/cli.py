"""The ``overconf`` command: a thin Typer app that parses, calls the library and prints.

User errors (:class:`overconf.errors.OverconfError`) become one ``error:`` line plus a ``hint:`` line
and a non-zero exit; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from overconf.errors import OverconfError

app = typer.Typer(
    help="Measure how over-confident image classifiers are: robust models vs their normally trained twins.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(help="Data sets: fetch and inspect.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console(stderr=True)


@data_app.command("fetch")
def data_fetch(
    dataset: Annotated[str, typer.Argument(help="data set to fetch")] = "fashion-mnist",
    data_dir: Annotated[Optional[Path], typer.Option("--data-dir", help="where to look / put it")] = None,
) -> None:
    """Make a data set present locally (Fashion-MNIST: Debian package, else torchvision's download)."""
    from overconf.data import fashion_mnist

    if dataset != fashion_mnist.NAME:
        raise OverconfError(f"`data fetch` knows only {fashion_mnist.NAME!r}, not {dataset!r}",
                            hint="CIFAR and ImageNet are fetched with `overconf zoo fetch`")
    folder = fashion_mnist.fetch(data_dir)
    print(f"{dataset}: {folder}")


def main() -> None:
    try:
        app()
    except OverconfError as exc:
        console.print(f"[bold red]error:[/] {exc.message}", highlight=False)
        if exc.hint:
            console.print(f"[bold]hint:[/] {exc.hint}", highlight=False)
        sys.exit(exc.exit_code)


if __name__ == "__main__":
    main()
