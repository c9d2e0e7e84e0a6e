"""The paper's figures, tables (CSV / Markdown / LaTeX) and one self-contained HTML page, from a run's records.

Entry points: :func:`build_report` (``overconf report RUN``), :func:`build_combined_report` (``overconf
report RUN1 RUN2 --out DIR``); :func:`write_summary` writes
``<out>/summary.csv`` alone.
"""

from overconf.report.build import build_combined_report, build_report
from overconf.report.tables import write_summary

__all__ = ["build_combined_report", "build_report", "write_summary"]
