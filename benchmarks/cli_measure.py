"""One ``overconf`` command in a fresh interpreter, measured: wall time, CPU time and peak resident memory
(``VmHWM``) of that process, for the benchmarks that time CLI calls (``resume_scale.py``, ``zoo_dry_run.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

MEASURE = """
import json, re, resource, sys, time
from pathlib import Path
start = time.perf_counter()
sys.argv = {argv!r}
from overconf.cli import main
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
wall = time.perf_counter() - start
own = resource.getrusage(resource.RUSAGE_SELF)
hwm = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
print("MEASURE" + json.dumps({{"wall_s": wall, "cpu_s": own.ru_utime + own.ru_stime, "peak_rss_mb": hwm / 1024,
      "exit": code}}), file=sys.stderr)
"""


def measure_cli(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> dict[str, float]:
    """Run ``overconf ARGV`` (``env`` should pin ``OMP_NUM_THREADS`` and set ``PYTHONPATH``) and return
    ``wall_s``, ``cpu_s`` and ``peak_rss_mb``; a failing command stops the benchmark with its stderr."""
    code = MEASURE.format(argv=["overconf", *argv])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, check=False)
    lines = [line for line in done.stderr.splitlines() if line.startswith("MEASURE")]
    result = json.loads(lines[-1][len("MEASURE"):]) if lines else None
    if result is None or result["exit"] not in (0, None):
        raise SystemExit(f"overconf {' '.join(argv)} failed:\n{done.stderr[-3000:]}")
    return result


def write_results(name: str, title: str, results: dict[str, Any], stages: dict[str, dict[str, float]]) -> Path:
    """``benchmarks/results/<name>.json`` (``results`` with ``stages``) and ``<name>.md`` (``title``, then one
    row per stage); returns the Markdown file."""
    folder = Path(__file__).resolve().parent / "results"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps({**results, "stages": stages}, indent=2) + "\n")
    lines = [f"# {title}", "", "| stage | wall s | CPU s | peak RSS MB |", "| :-- | --: | --: | --: |"]
    lines += [f"| {k} | {v['wall_s']:.1f} | {v['cpu_s']:.1f} | {v['peak_rss_mb']:.0f} |" for k, v in stages.items()]
    (folder / f"{name}.md").write_text("\n".join(lines) + "\n")
    return folder / f"{name}.md"
