"""Metrics of confidence: pure, vectorised functions (numpy arrays in, float out) and a summary table.

Modules: :mod:`~overconf.metrics.calibration` (accuracy, ECE, o(f), u(f), NLL, Brier, reliability diagram),
:mod:`~overconf.metrics.selective` (ROC, AUROC, AUPR, AURC), :mod:`~overconf.metrics.detection` (attack and
OOD detection), :mod:`~overconf.metrics.statistics` (bootstrap, paired test),
:mod:`~overconf.metrics.temperature` (temperature scaling), :mod:`~overconf.metrics.summary`.
Bad inputs raise :class:`overconf.errors.MetricInputError`.
"""

from overconf.metrics.calibration import (
    ReliabilityDiagram,
    accuracy,
    assign_bins,
    bin_edges,
    brier_score,
    expected_calibration_error,
    mean_confidence,
    mean_confidence_correct,
    nll,
    overconfidence,
    reliability_diagram,
    underconfidence,
)
from overconf.metrics.detection import (
    attack_detection_auroc,
    energy_score,
    fpr_at_95_tpr,
    max_logit_score,
    msp_score,
    ood_auroc,
)
from overconf.metrics.selective import (
    aurc,
    auroc,
    average_precision,
    misclassification_aupr,
    misclassification_auroc,
    risk_coverage_curve,
    roc_curve,
)
from overconf.metrics.statistics import BootstrapResult, PairedTestResult, bootstrap_ci, paired_test
from overconf.metrics.summary import summary_table
from overconf.metrics.temperature import (
    apply_temperature,
    fit_temperature,
    log_softmax,
    row_logsumexp,
    softmax,
)

__all__ = [
    "BootstrapResult",
    "PairedTestResult",
    "ReliabilityDiagram",
    "accuracy",
    "apply_temperature",
    "assign_bins",
    "attack_detection_auroc",
    "aurc",
    "auroc",
    "average_precision",
    "bin_edges",
    "bootstrap_ci",
    "brier_score",
    "energy_score",
    "expected_calibration_error",
    "fit_temperature",
    "fpr_at_95_tpr",
    "log_softmax",
    "max_logit_score",
    "mean_confidence",
    "mean_confidence_correct",
    "misclassification_aupr",
    "misclassification_auroc",
    "msp_score",
    "nll",
    "ood_auroc",
    "overconfidence",
    "paired_test",
    "reliability_diagram",
    "risk_coverage_curve",
    "roc_curve",
    "row_logsumexp",
    "softmax",
    "summary_table",
    "underconfidence",
]
