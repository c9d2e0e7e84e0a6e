"""Back ends and concurrency: Ray and local give byte-identical record files; two processes on one folder
never compute the same cell and end with the records one process writes; a dead claimant's cell is redone."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest

from overconf.run.locks import claim_path
from overconf.run.runner import run_spec

# Every process of these tests (this one, Ray's workers, the subprocesses, which inherit the environment) at the
# pinned torch thread count: the record files hold the thread count the engine used (provenance.engine), so the
# bytes compare equal only at equal counts.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("pinned_torch_threads")]


def record_bytes(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.glob("records/*/*.parquet"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory, my_pair_factory,  # type: ignore[no-untyped-def]
              pinned_torch_threads: None) -> tuple[Path, Path]:
    """A 4-cell version of examples/my-pair (clean and PGD-2) and its records written by one local process."""
    root = tmp_path_factory.mktemp("backends")
    spec = my_pair_factory(root)
    spec.write_text(spec.read_text().replace('"fog:severity=3", "ood-uniform"', "").replace("pgd:steps=5", "pgd:steps=2"))
    out = root / "single"
    assert len(run_spec(spec, out=out, progress=False, report=False).written) == 4
    return spec, out


def test_ray_and_local_write_identical_files(reference: tuple[Path, Path], tmp_path: Path) -> None:
    ray = pytest.importorskip("ray")
    spec, single = reference
    (spec.parent / "raisingmodels.py").write_text("def broken():\n    raise ValueError('no weights for you')\n")
    bad = spec.parent / "bad-on-ray.toml"
    bad.write_text(spec.read_text().replace('robust = { entry_point = "mymodels:robust_net", checkpoint = "ckpt/robust.pt" }',
                                            'robust = { entry_point = "raisingmodels:broken" }'))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_spec(spec, out=tmp_path / "ray", backend="ray", progress=False, report=False)
        failing = run_spec(bad, out=tmp_path / "bad", backend="ray", progress=False, report=False)
    finally:
        ray.shutdown()
    assert len(remote.written) == 4
    assert record_bytes(tmp_path / "ray") == record_bytes(single)
    # A model whose constructor raises stops that model only, on a Ray worker as here.
    assert [m for m, _ in failing.failed] == ["mine-robust"] and "ValueError: no weights for you" in failing.failed[0][1]
    assert sorted(p.parent.name for p in failing.written) == ["mine-normal", "mine-normal"]
    assert "ValueError" in (tmp_path / "bad" / "logs" / "mine-robust.log").read_text()


def _overconf_run(spec: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "overconf", "run", str(spec), "--out", str(out), "--no-report"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _computed(stderr: str) -> int:
    line = next(line for line in stderr.splitlines() if "cells computed" in line)
    return int(line.split(": ")[-1].split(" cells computed")[0])


def test_two_processes_share_the_cells(reference: tuple[Path, Path], tmp_path: Path) -> None:
    spec, single = reference
    out = tmp_path / "shared"
    first, second = _overconf_run(spec, out), _overconf_run(spec, out)
    results = [p.communicate(timeout=600) for p in (first, second)]
    assert first.returncode == second.returncode == 0, results[0][1][-2000:] + results[1][1][-2000:]
    assert sum(_computed(err) for _, err in results) == 4
    assert record_bytes(out) == record_bytes(single)


def test_a_killed_claimant_leaves_its_cell_to_the_next(reference: tuple[Path, Path], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A handshake, no clock: another process holds the claim of one cell; this run finds it busy, goes on, and
    comes back to wait for it; the holder is killed only when the run asks to wait (the claim still busy), and
    the run then computes the cell."""
    spec, single = reference
    out = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c", ("import sys; from pathlib import Path; from overconf.run.locks import claim\n"
                                f"with claim(Path({str(out)!r}), 'mine-robust', 'clean', wait=False) as held:\n"
                                "    print('held' if held else 'busy', flush=True); sys.stdin.read()")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        held_lock = os.stat(claim_path(out, "mine-robust", "clean"))
        seen: list[tuple[str, bool]] = []  # this run's requests for the held claim: (try or wait, was it busy)
        flock = fcntl.flock

        def observed_flock(fd: int, operation: int) -> None:  # fcntl.flock, noting this run's requests
            stat = os.fstat(fd)
            if not operation & fcntl.LOCK_UN and (stat.st_dev, stat.st_ino) == (held_lock.st_dev, held_lock.st_ino):
                request = "try" if operation & fcntl.LOCK_NB else "wait"
                try:
                    flock(fd, operation | fcntl.LOCK_NB)
                except BlockingIOError:
                    seen.append((request, True))
                    if request == "try":
                        raise
                    holder.kill()  # the claimant dies while this run asks to wait for its claim ...
                else:
                    seen.append((request, False))
                    return
            flock(fd, operation)  # ... which the kernel frees when the holder is gone

        monkeypatch.setattr(fcntl, "flock", observed_flock)
        result = run_spec(spec, out=out, progress=False, report=False)
    finally:
        holder.kill()
        holder.wait()
    assert seen == [("try", True), ("wait", True)]  # found busy, deferred, then waited for until the holder died
    assert len(result.written) == 4
    assert record_bytes(out) == record_bytes(single) and not list(out.glob("records/*/.*.tmp"))
