"""A small synthetic run (2 pairs × {clean, pgd, square, fog, ood}), built once per session, and its report."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from overconf.report.load import RunData, load_run

sys.path.insert(0, str(Path(__file__).parent))  # the fake-run fabricator lives beside the tests, not in the library
from synthetic_run import DEFAULT_PERTURBATIONS, make_synthetic_run

PERTURBATIONS = {**DEFAULT_PERTURBATIONS, "gaussian_noise:severity=5": ("corruption", 0.4, 0.6),
                 "ood-uniform": ("ood", 0.0, 0.0)}


@pytest.fixture(scope="session")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_synthetic_run(tmp_path_factory.mktemp("run"), n=300, perturbations=PERTURBATIONS)


@pytest.fixture(scope="session")
def run(out: Path) -> RunData:
    return load_run(out)


@pytest.fixture(scope="session")
def report_html(out: Path) -> Path:
    from overconf.report import build_report

    return build_report(out, n_resamples=200)
