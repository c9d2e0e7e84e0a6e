"""Terminal views of a run: the compact table of main numbers per model × perturbation (``overconf show``,
and the end of every run), corruptions pooled into one row per model."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from overconf.report.tables import SUMMARY_CSV, write_summary
from overconf.store.integrity import check_record_hashes
from overconf.store.run_json import read_manifest

#: (summary column, header) of the compact table
COLUMNS = (("n", "n"), ("accuracy", "acc"), ("ece", "ECE"), ("overconfidence", "o(f)"),
           ("underconfidence", "u(f)"), ("auroc", "AUROC"), ("ood_auroc", "OOD AUROC"))


def compact_summary(summary: pd.DataFrame) -> pd.DataFrame:
    """One row per model × perturbation, corruption rows averaged into ``corruptions (k)`` per model."""
    rows = summary[summary["family"] != "corruption"]
    corrupted = summary[summary["family"] == "corruption"]
    columns = [c for c, _ in COLUMNS if c in summary.columns]
    if not corrupted.empty:
        pooled = corrupted.groupby(["model", "pair", "robust"], sort=False)[columns].mean(numeric_only=True).reset_index()
        counts = corrupted.groupby(["model", "pair", "robust"], sort=False).size().reset_index(name="k")
        pooled["perturbation"] = [f"corruptions ({k})" for k in counts["k"]]
        pooled["family"] = "corruption"
        rows = pd.concat([rows, pooled], ignore_index=True)
    order = {"clean": 0, "attack": 1, "corruption": 2, "ood": 3}
    rows = rows.assign(_f=rows["family"].map(order)).sort_values(["pair", "robust", "model", "_f"], kind="stable")
    return rows[["model", "perturbation", *columns]].reset_index(drop=True)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return "–" if math.isnan(value) else (f"{value:.0f}" if value.is_integer() and value > 1 else f"{value:.3f}")
    return str(value)


def print_summary(out: Path, console: Console | None = None, name: str | None = None) -> pd.DataFrame:
    """Print the run's provenance line (the run called ``name``, default ``out``) and compact table (from
    ``summary.csv``, computed if absent)."""
    path = Path(out) / SUMMARY_CSV
    if path.is_file():  # the summary stands for the records: they must be what run.json recorded
        check_record_hashes(sorted(Path(out).glob("records/*/*.parquet")))
    summary = pd.read_csv(path) if path.is_file() else write_summary(out)
    table_rows = compact_summary(summary)
    manifest = read_manifest(out)
    console = console or Console(width=160)
    title = f"{name or out}" + (f" · {manifest.get('command')}" if manifest.get("command") else "")
    if manifest.get("overconf_version"):
        title += f" · overconf {manifest['overconf_version']}" + (f" ({manifest['git_commit'][:10]})" if manifest.get("git_commit") else "")
    table = Table(title=title, title_justify="left")
    headers = ["model", "perturbation", *[h for c, h in COLUMNS if c in table_rows.columns]]
    for header in headers:
        table.add_column(header, justify="left" if header in ("model", "perturbation") else "right")
    for row in table_rows.itertuples(index=False):
        table.add_row(*(_fmt(v) for v in row))
    console.print(table)
    return table_rows
