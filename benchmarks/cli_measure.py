"""One ``overconf`` command in a fresh interpreter, measured: wall time, CPU time and peak resident memory
(``VmHWM``) of that process, for the benchmarks that time CLI calls (``resume_scale.py``, ``zoo_dry_run.py``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
