"""Records computed on other CPU kernel paths agree with this process's under the reproducibility contract.

``ATEN_CPU_CAPABILITY`` and ``ONEDNN_MAX_CPU_ISA`` are read once when torch starts, so each path runs in a
subprocess; the subprocess reports the capability torch actually used, so the test knows the path differed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from overconf.evaluation.agreement import assert_records_agree

pytestmark = [pytest.mark.usefixtures("pinned_torch_threads"), pytest.mark.reproducibility, pytest.mark.slow]

SPECS = ("clean", "fog", "pgd:steps=3")

#: evaluates the small CNN on each spec, writes ``<i>.parquet``, prints the kernel capability torch used
SCRIPT = """
import json, sys
from pathlib import Path
import torch
torch.backends.mkldnn.enabled = sys.argv[3] == "1"
from overconf.data.base import TensorImageSet
from overconf.evaluation.engine import evaluate
from overconf.evaluation.records import ModelInfo
from overconf.models.cnn import small_cnn
from overconf.perturb import create_perturbation
import pyarrow.parquet as pq
g = torch.Generator().manual_seed(0)
data = TensorImageSet("fashion-mnist", torch.randint(0, 256, (60, 1, 28, 28), generator=g, dtype=torch.uint8),
                      torch.randint(0, 10, (60,), generator=g), 10)
torch.manual_seed(0)
model = small_cnn().eval()
for i, spec in enumerate(json.loads(sys.argv[2])):
    table = evaluate(model, ModelInfo("m", "p", False, "fashion-mnist"), data, create_perturbation(spec, 0.1),
                     batch_size=int(sys.argv[4]), threads=int(sys.argv[5]), progress=False)
    pq.write_table(table, Path(sys.argv[1]) / f"{i}.parquet")
print(json.dumps({"capability": torch.backends.cpu.get_cpu_capability(), "mkldnn": torch.backends.mkldnn.enabled}))
"""

#: (name, environment, mkldnn on, batch size, threads)
PATHS = [
    ("reference", {}, True, 500, 1),
    ("generic ATen kernels, oneDNN at SSE4.1", {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"},
     True, 500, 1),
    ("oneDNN off, batch 7, 2 threads", {}, False, 7, 2),
]


def _evaluate_in_subprocess(folder: Path, env: dict[str, str], mkldnn: bool, batch: int, threads: int) -> dict:
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(folder), json.dumps(SPECS), "1" if mkldnn else "0", str(batch), str(threads)],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_records_agree_across_cpu_kernel_paths(tmp_path: Path) -> None:
    used = [_evaluate_in_subprocess(tmp_path / str(i), env, mkldnn, batch, threads)
            for i, (_, env, mkldnn, batch, threads) in enumerate(PATHS)]
    assert used[1]["capability"] == "DEFAULT" and not used[2]["mkldnn"]  # the paths really differed
    for i, spec in enumerate(SPECS):
        reference = pq.read_table(tmp_path / "0" / f"{i}.parquet")
        for k in range(1, len(PATHS)):
            other = pq.read_table(tmp_path / str(k) / f"{i}.parquet")
            try:
                assert_records_agree(reference, other)
            except AssertionError as err:
                raise AssertionError(f"{spec} on '{PATHS[k][0]}': {err}") from None

