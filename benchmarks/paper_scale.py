"""A rehearsal of the paper's grid on this machine: a synthetic run of the paper's shape (78 cells per model:
clean, PGD, Square, 15 corruptions × 5 severities; pairs and samples per cell scaled down, stated in the
output), then ``report``, a cold ``show`` and ``query`` on it, each in its own process, with wall time, CPU
time and peak resident memory (``ru_maxrss``) per stage written to ``benchmarks/results/paper_scale-*.json``
and ``.md``.

Usage: ``.venv/bin/python benchmarks/paper_scale.py [--pairs 4] [--n 2000] [--workers 1,2] [--out DIR] [--tag NAME]``

Not a test: it writes hundreds of record files and takes minutes. The paper: 71 pairs (114 models, so 7.1 %
fewer files than 2 × 71 models), 78 cells, 10,000 samples per cell, about 110 M records.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORRUPTIONS = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur",
               "zoom_blur", "snow", "frost", "fog", "brightness", "contrast", "elastic_transform", "pixelate",
               "jpeg_compression"]
#: (stage, Python run in a fresh process with ``out`` and ``workers`` defined)
STAGES = {
    "check": "from overconf.report.load import load_run; load_run(out)",
    "summary": "from overconf.report.tables import write_summary; write_summary(out)",
    "report": "from overconf.report import build_report; build_report(out, n_resamples=200, "
              "**({'workers': workers} if workers > 1 else {}))",
    "show": "(out / 'summary.csv').unlink(missing_ok=True)\n"
            "from overconf.run.show import print_summary; print_summary(out)",
    "query": "from overconf.store.query import query_records; print(query_records([out], "
             "'SELECT model, perturbation, avg(correct::int) AS acc, avg(confidence) FILTER (WHERE NOT correct) AS of '"
             "'FROM records GROUP BY ALL').shape)",
    "read_records": "from overconf.store.parquet import read_records; "
                    "print(read_records(out, ['model', 'perturbation', 'confidence', 'correct']).shape)",
}
MEASURE = """
import resource, time, json, sys, re
from pathlib import Path
out, workers = Path({out!r}), {workers}
start, cpu = time.perf_counter(), time.process_time()
{code}
wall = time.perf_counter() - start
own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
hwm = int(re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1))
print("MEASURE" + json.dumps({{"wall_s": wall, "cpu_s": own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime,
      "peak_rss_mb": hwm / 1024, "peak_rss_worker_mb": children.ru_maxrss / 1024}}), file=sys.stderr)
"""
#: ``peak_rss_mb``: the stage process's own high-water mark (VmHWM: ``ru_maxrss`` would also count the RSS of
#: the process that forked it). ``peak_rss_worker_mb``: ``ru_maxrss`` of its largest worker, an upper bound
#: (it includes what the stage process held when it started the worker).


def paper_perturbations() -> dict[str, tuple[str, float, float]]:
    """The paper's 78 cells per model: label → (family, accuracy of normal, accuracy of robust)."""
    cells = {"clean": ("clean", 0.94, 0.86), "pgd": ("attack", 0.02, 0.55), "square": ("attack", 0.10, 0.62)}
    for i, name in enumerate(CORRUPTIONS):
        for severity in range(1, 6):
            cells[f"{name}:severity={severity}"] = ("corruption", 0.92 - 0.08 * severity, 0.84 - 0.05 * severity - 0.005 * i)
    return cells


def measure(stage: str, out: Path, workers: int, src: Path) -> dict[str, float]:
    """Run one stage in a fresh interpreter on the sources in ``src`` and return its wall/CPU time and peak memory."""
    code = MEASURE.format(out=str(out), workers=workers, code=STAGES[stage])
    env = {"PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    lines = [line for line in done.stderr.splitlines() if line.startswith("MEASURE")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{stage} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][len("MEASURE"):])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--n", type=int, default=2000, help="samples per cell")
    parser.add_argument("--classes", type=int, default=10, help="classes (width of the logits)")
    parser.add_argument("--cells", type=int, default=78, help="cells per model: the first of the paper's 78")
    parser.add_argument("--workers", default="1", help="comma-separated worker counts for the report stage")
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--out", type=Path, default=None, help="run folder (kept; default: a temporary one)")
    parser.add_argument("--tag", default=None, help="results file name part (default: from the size)")
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="overconf sources the stages run (e.g. another checkout's src, for a before/after)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tests" / "report"))
    sys.path.insert(0, str(ROOT / "src"))
    from synthetic_run import make_synthetic_run

    cells = dict(list(paper_perturbations().items())[:args.cells])
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp) / "run"
        start = time.perf_counter()
        if not (out / "run.json").is_file():
            make_synthetic_run(out, pairs=[f"relu-p{k:03d}" for k in range(args.pairs)], n=args.n, perturbations=cells,
                               accuracy_step=0.1 / max(args.pairs, 1), n_classes=args.classes)
        made = time.perf_counter() - start
        models, records = 2 * args.pairs, 2 * args.pairs * len(cells) * args.n
        results = {"machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores", "pairs": args.pairs,
                   "models": models, "cells_per_model": len(cells), "samples_per_cell": args.n, "classes": args.classes,
                   "record_files": models * len(cells), "records": records, "fabricate_s": made, "src": str(args.src),
                   "stages": {}}
        for stage in args.stages.split(","):
            for workers in ([int(w) for w in args.workers.split(",")] if stage == "report" else [1]):
                name = stage if stage != "report" else f"report (workers={workers})"
                results["stages"][name] = measure(stage, out, workers, args.src)
                print(name, json.dumps(results["stages"][name]), flush=True)
    tag = args.tag or f"{args.pairs}pairs-{args.n}"
    folder = ROOT / "benchmarks" / "results"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"paper_scale-{tag}.json").write_text(json.dumps(results, indent=2) + "\n")
    title = (f"# Paper-scale rehearsal: {args.pairs} pairs ({models} models) × {len(cells)} cells × {args.n} samples "
             f"× {args.classes} classes = {records:,} records in {models * len(cells)} files ({results['machine']})")
    lines = [title, "",
             "| stage | wall s | CPU s | peak RSS MB (main) | peak RSS MB (largest worker) |", "| :-- | --: | --: | --: | --: |"]
    for name, m in results["stages"].items():
        lines.append(f"| {name} | {m['wall_s']:.1f} | {m['cpu_s']:.1f} | {m['peak_rss_mb']:.0f} | {m['peak_rss_worker_mb']:.0f} |")
    (folder / f"paper_scale-{tag}.md").write_text("\n".join(lines) + "\n")
    print(folder / f"paper_scale-{tag}.md")


if __name__ == "__main__":
    main()
