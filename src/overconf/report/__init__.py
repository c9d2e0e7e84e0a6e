"""The paper's figures, tables (CSV / Markdown / LaTeX) and one self-contained HTML page, from a run's records.

Entry points: :func:`build_report` (``overconf report RUN``), :func:`build_combined_report` (``overconf
report RUN1 RUN2 --out DIR``); :func:`write_summary` writes
``<out>/summary.csv`` alone.

The entry points are imported on first use (PEP 562): ``overconf.report.tables`` alone (the summary a resumed
run prints) does not load the figures and matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from overconf.report.build import build_combined_report, build_report
    from overconf.report.tables import write_summary

__all__ = ["build_combined_report", "build_report", "write_summary"]


def __getattr__(name: str) -> Any:
    if name in ("build_report", "build_combined_report"):
        from overconf.report import build  # lazy: start-up time (figures, matplotlib)

        return getattr(build, name)
    if name == "write_summary":
        from overconf.report.tables import write_summary as found  # lazy: start-up time

        return found
    raise AttributeError(f"module 'overconf.report' has no attribute {name!r}")
