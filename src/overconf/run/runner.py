"""Run a spec end to end: resolve, execute (local or Ray), then the summary, report and terminal table."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from rich.console import Console

from overconf.report.tables import summary_is_current, write_summary
from overconf.run.execute import RunResult, execute
from overconf.run.plan import resolve
from overconf.run.show import print_summary
from overconf.run.spec import Spec, load_spec
from overconf.store.location import RunFolder

console = Console(stderr=True)


def run_spec(spec: Spec | Path | str, *, out: Path | str | None = None, command: str = "overconf run",
             overwrite: bool = False, backend: str = "local", address: str | None = None, dry_run: bool = False,
             progress: bool = True, report: bool = True, table: bool = False) -> RunResult:
    """Run ``spec`` (a :class:`Spec` or a TOML file) into ``out`` (default: the spec's ``out``): a local folder or
    an ``s3://`` URI (:mod:`overconf.store.location`)."""
    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    if out is not None:
        spec = replace(spec, out=Path(out))
    folder = RunFolder.open(spec.out)  # s3://... (a Path of it too): worked on through a local mirror
    try:
        folder.pull()
        local = folder.local
        started = time.perf_counter()
        plan = resolve(spec, progress=progress)
        plan.config["out"] = folder.name  # run.json names an s3:// run by its URI, not a Path of it
        result = execute(plan, local, command=command, overwrite=overwrite, backend=backend, address=address,
                         dry_run=dry_run, progress=progress)
        if dry_run:
            return result
        if result.failed and not any((local / "records").glob("*/*.parquet")):
            folder.push_changed()  # the failed models' logs
            return result  # every model failed: nothing to summarise (the caller names the failed models)
        if report:
            from overconf.report.build import build_report  # lazy: start-up time (figures, matplotlib)

            result.report = build_report(local)
        else:
            if result.written or not summary_is_current(local):
                write_summary(local)
        folder.push_changed()
        if table:
            print_summary(local, name=folder.name)
        console.print(f"{folder.name}: {len(result.written)} cells computed, {result.done_before} already done, "
                      f"{time.perf_counter() - started:.0f} s", highlight=False, soft_wrap=True)
        return result
    finally:
        folder.close()  # later writes in the mirror are not this run's
