"""The pairs a run should have, and their *pair comparisons*: robust-minus-normal differences with intervals.

*Expected pairs* come from ``run.json`` (what the run was asked to evaluate), not from the records that
happen to exist, so that a pair whose records are missing is named instead of silently dropped. A *pair
comparison* is one pair under one perturbation label (``clean``, ``pgd``, ``fog:severity=3``, ...; OOD labels
have no true class and are left out) and one metric: the two models' cells (model × perturbation) are
joined on ``index`` and the metric's difference is estimated on all joined samples with a paired bootstrap
interval (:mod:`overconf.report.intervals`). The report writes them as ``tables/pair_cells.csv`` (a file
name kept from before this vocabulary) and :mod:`overconf.report.claims` judges them.
"""

from __future__ import annotations

import functools
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from overconf.report.calibrators import CALIBRATORS
from overconf.report.calibrators import COLUMNS as CALIBRATED_COLUMNS
from overconf.report.guards import COUNT_COLUMNS, RISE_METRICS
from overconf.report.intervals import (
    N_RESAMPLES,
    Linear,
    Statistic,
    auroc_stat,
    detection_auroc_stat,
    difference_intervals,
    ece_linear,
    linear_sums,
    misclassification_auroc_stat,
    overconfidence_linear,
    percentile_interval,
    underconfidence_linear,
)
from overconf.report.load import CORRUPTIONS_PANEL, RunData, block_groups

#: metric of a pair comparison → what its ``estimate`` is
COMPARISON_METRICS = {
    "overconfidence": "o(f) robust − normal",
    "underconfidence": "u(f) robust − normal",
    "ece": "ECE robust − normal",
    "auroc": "misclassification AUROC robust − normal (Fig. 3: clean, attacks and corruptions)",
    "detection_auroc": "attack-detection AUROC robust − normal (attacks only)",
    "normal_rise": "o(f) of the normal model, attacked − clean, same images (attacks only)",
    "robust_rise": "o(f) of the robust model, attacked − clean, same images (attacks only)",
    "overconfidence_ts": "o(f) after temperature scaling, robust − normal (clean, even indices)",
    "ood_auroc": "OOD-detection AUROC (clean vs OOD inputs, by confidence) robust − normal (OOD sets only)",
    "ood_confidence": "mean confidence on OOD inputs robust − normal (OOD sets only)",
    "overconfidence_iso": "o(f) after isotonic regression, robust − normal (clean, even indices)",
    "overconfidence_hist": "o(f) after histogram binning, robust − normal (clean, even indices)",
}
COMPARISON_COLUMNS = ["dataset", "pair", "robust_model", "normal_model", "perturbation", "family", "metric", "robust",
                      "normal", "attacked", "clean", "estimate", "low", "high", "n", "note", *COUNT_COLUMNS]


@dataclass(frozen=True)
class Pair:
    """A robust model and its normal twin. ``name``: the run's ``pair`` value, or the robust model's name
    where several robust models share one normal twin (as in the paper's zoo)."""

    dataset: str
    name: str
    robust: str
    normal: str


def _pairs_from_models(models: list[dict[str, Any]]) -> list[Pair]:
    groups: dict[tuple[str, str], dict[str, list[str]]] = {}
    for m in models:
        key = (str(m.get("dataset", "")), str(m.get("pair", m.get("model"))))
        groups.setdefault(key, {"robust": [], "normal": []})["robust" if m.get("robust") else "normal"].append(
            str(m["model"]))
    pairs = []
    for (dataset, pair), members in groups.items():
        normal = members["normal"][0] if members["normal"] else ""
        for robust in members["robust"]:
            pairs.append(Pair(dataset, pair if len(members["robust"]) == 1 else robust, robust, normal))
    return pairs


def expected_pairs(manifest: dict[str, Any], models: pd.DataFrame) -> list[Pair]:
    """Every robust/normal pair of the run: ``run.json`` ``pairs`` (list of objects with ``robust`` and
    ``normal`` model names) if present, else its ``models`` grouped by ``pair``, else the models that have
    records (a run without ``run.json``)."""
    listed = manifest.get("pairs")
    if isinstance(listed, list) and listed and all(isinstance(p, dict) for p in listed):
        pairs = []
        for p in listed:
            robust = p.get("robust_model", p.get("robust"))
            normal = p.get("normal_model", p.get("normal"))
            if isinstance(robust, str) and isinstance(normal, str):
                pairs.append(Pair(str(p.get("dataset", "")), str(p.get("pair", p.get("name", robust))), robust, normal))
        if pairs:
            return _named_uniquely(pairs)
    entries = [m for m in manifest.get("models", []) if isinstance(m, dict) and "model" in m]
    if not entries:
        entries = models[["model", "pair", "robust", "dataset"]].to_dict("records")
    return _named_uniquely(_pairs_from_models(entries))


def replicate_units(pairs: list[Pair], manifest: dict[str, Any]) -> dict[str, str]:
    """Pair name → its unit in tests across pairs: pairs whose robust *and* normal checkpoints have the same
    SHA-256 (``run.json`` ``models[].sha256``; the same two models evaluated on several data sets or in several
    runs) are one unit, named by their pair names joined with `` = ``; a pair without both hashes is its own unit.

    >>> models = [{"model": m, "sha256": h} for m, h in [("a/r", "1"), ("a/n", "2"), ("b/r", "1"), ("b/n", "2")]]
    >>> replicate_units([Pair("x", "a", "a/r", "a/n"), Pair("y", "b", "b/r", "b/n")], {"models": models})
    {'a': 'a = b', 'b': 'a = b'}
    """
    sha = {str(m.get("model")): m.get("sha256") for m in manifest.get("models", []) if isinstance(m, dict)}
    groups: dict[object, list[str]] = {}
    for pair in pairs:
        r, n = sha.get(pair.robust), sha.get(pair.normal)
        key: object = (r, n) if isinstance(r, str) and r and isinstance(n, str) and n else ("pair", pair.name)
        groups.setdefault(key, []).append(pair.name)
    return {name: " = ".join(dict.fromkeys(names)) for names in groups.values() for name in names}


def _named_uniquely(pairs: list[Pair]) -> list[Pair]:
    names = [p.name for p in pairs]
    return [p if names.count(p.name) == 1 else Pair(p.dataset, p.robust, p.robust, p.normal) for p in pairs]


def _labels(run: RunData, dataset: str) -> list[tuple[str, str]]:
    """``(perturbation, family)`` of a data set's labelled perturbations, clean first, then attacks, then corruptions:
    those with records and those ``run.json`` ``cells`` lists (so a label missing for every model still counts)."""
    found = {p: f for p, f in run.families(dataset).items() if f != "ood"}
    datasets = {str(m.get("model")): str(m.get("dataset")) for m in run.manifest.get("models", []) if isinstance(m, dict)}
    for cell in run.manifest.get("cells", []) or []:
        config = (cell.get("config") or {}).get("perturbation") or {} if isinstance(cell, dict) else {}
        label, family = config.get("label", cell.get("perturbation") if isinstance(cell, dict) else None), config.get("family")
        if datasets.get(str(cell.get("model"))) == dataset and isinstance(label, str) and family in ("clean", "attack", "corruption"):
            found.setdefault(label, str(family))
    order = {"clean": 0, "attack": 1, "corruption": 2}
    panel_rank = {p: i for i, p in enumerate(run.panels)}
    return sorted(found.items(), key=lambda pf: (order.get(pf[1], 9), panel_rank.get(pf[0], 99), pf[0]))


def _join(*cells: pd.DataFrame) -> pd.DataFrame:
    joined = cells[0].add_suffix("_0").rename(columns={"index_0": "index"})
    for k, cell in enumerate(cells[1:], start=1):
        joined = joined.merge(cell.add_suffix(f"_{k}").rename(columns={f"index_{k}": "index"}), on="index")
    return joined


def _arrays(joined: pd.DataFrame, k: int) -> tuple[np.ndarray, np.ndarray]:
    return joined[f"confidence_{k}"].to_numpy(np.float64), joined[f"correct_{k}"].to_numpy(bool)


def _row(pair: Pair, perturbation: str, family: str, metric: str, **values: Any) -> dict[str, Any]:
    nan = float("nan")
    row = {"dataset": pair.dataset, "pair": pair.name, "robust_model": pair.robust, "normal_model": pair.normal,
           "perturbation": perturbation, "family": family, "metric": metric, "robust": nan, "normal": nan,
           "attacked": nan, "clean": nan, "estimate": nan, "low": nan, "high": nan, "n": 0, "note": "",
           **dict.fromkeys(COUNT_COLUMNS, 0)}
    row.update(values)
    return row


def _values(metric: str, first: float, second: float) -> dict[str, float]:
    """A comparison's two values under their columns: ``attacked``/``clean`` for :data:`~overconf.report.guards.RISE_METRICS`, else
    ``robust``/``normal``."""
    return {"attacked": first, "clean": second} if metric in RISE_METRICS else {"robust": first, "normal": second}


Counts = dict[str, int]
"""The predictions behind a comparison's two values: :data:`overconf.report.guards.COUNT_COLUMNS` → count (for
:data:`RISE_METRICS` ``robust_*`` counts the attacked side and ``normal_*`` the clean one: the README names these
columns)."""


def _counts(first: np.ndarray, second: np.ndarray) -> Counts:
    """Correct and wrong predictions of two sides (robust and normal, or attacked and clean)."""
    return {"robust_correct": int(first.sum()), "robust_wrong": int((~first).sum()),
            "normal_correct": int(second.sum()), "normal_wrong": int((~second).sum())}


def _missing_note(run: RunData, pair: Pair, perturbations: list[str]) -> str:
    absent = [f"{model} · {p}" for model in (pair.robust, pair.normal) for p in perturbations
              if not model or run.cell(model, p).empty]
    if not pair.normal:
        return "no normal twin in the run"
    return f"no records for {', '.join(absent)}" if absent else "no sample index shared by both models"


def _undefined_note(metric: str, value_r: float, value_n: float) -> str:
    """Why a comparison's estimate is NaN, naming the side(s) whose value is undefined."""
    why = {"overconfidence": "no wrong prediction", "overconfidence_ts": "no wrong prediction",
           "overconfidence_iso": "no wrong prediction", "overconfidence_hist": "no wrong prediction",
           "underconfidence": "no correct prediction", "auroc": "only right or only wrong predictions",
           "detection_auroc": "no clean-correct or no attacked-wrong sample",
           "normal_rise": "no wrong prediction", "robust_rise": "no wrong prediction"}.get(metric, "undefined")
    names = ("attacked", "clean") if metric in RISE_METRICS else ("robust model", "normal model")
    who = [side for side, v in zip(names, (value_r, value_n)) if not np.isfinite(v)]
    return f"undefined ({why}{' on the ' + ' and '.join(who) if who else ''})"


Sums = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
"""metric → (point sums robust, point sums normal, resampled sums robust, resampled sums normal)."""
LINEAR = {"overconfidence": overconfidence_linear, "underconfidence": underconfidence_linear, "ece": ece_linear}


def pair_comparisons(run: RunData, pairs: list[Pair], n_resamples: int = N_RESAMPLES, seed: int = 0,
               scaled: pd.DataFrame | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The pair comparisons of every pair × perturbation, and the pooled corruptions panel per pair.

    First table: one row per expected pair × labelled perturbation × metric of :data:`COMPARISON_METRICS` that
    applies (detection AUROC and rises for attacks only, o(f) after calibration for clean). ``robust`` / ``normal``: each
    model's value on the joined samples; ``estimate`` = robust − normal, except for :data:`RISE_METRICS`:
    attacked − clean of one model, whose two o(f) are ``attacked`` and ``clean`` (``robust``/``normal`` NaN;
    ``attacked``/``clean`` are NaN on every other row); ``low``/``high``: 95 % paired percentile bootstrap
    interval; ``n``: joined samples; ``note``: why a value is missing. A pair without records for a
    perturbation gets rows with NaN values and a note, never no row.

    Second table: the same columns for o(f), u(f) and ECE over all corruption labels of a pair pooled
    (``perturbation`` = ``corruptions``), resampled within each label (stratified) by adding the labels' sums.

    ``scaled``: clean records after each post-hoc calibrator
    (:func:`overconf.report.calibrators.calibrated_clean_records`); with any, clean comparisons also get o(f)
    after each. Each pair reads only its two models' cells, one at a time.
    """
    rows: list[dict[str, Any]] = []
    pooled: list[dict[str, Any]] = []
    scaled = scaled if scaled is not None else pd.DataFrame(columns=CALIBRATED_COLUMNS)
    for dataset, pair, labels in pair_tasks(run, pairs):
        pair_rows, pair_pooled = one_pair_comparisons(run, pair, labels, n_resamples, seed, pair_calibrated(scaled, pair))
        rows += pair_rows
        pooled += pair_pooled
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS), pd.DataFrame(pooled, columns=COMPARISON_COLUMNS)


def pair_calibrated(scaled: pd.DataFrame, pair: Pair) -> pd.DataFrame:
    """The rows of :func:`overconf.report.calibrators.calibrated_clean_records` of a pair's two models."""
    return scaled[scaled["model"].isin([pair.robust, pair.normal])]


def pair_tasks(run: RunData, pairs: list[Pair]) -> list[tuple[str, Pair, list[tuple[str, str]]]]:
    """``(dataset, pair, labels)`` in table order: the units of :func:`one_pair_comparisons` (each independent)."""
    tasks = []
    for dataset in dict.fromkeys([*run.datasets, *(p.dataset for p in pairs if p.dataset)]):
        labels = _labels(run, dataset)
        tasks += [(dataset, pair, labels) for pair in pairs if pair.dataset == dataset or not pair.dataset]
    return tasks


def one_pair_comparisons(run: RunData, pair: Pair, labels: list[tuple[str, str]], n_resamples: int, seed: int,
                   scaled: pd.DataFrame) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The :func:`pair_comparisons` rows of one pair (per-perturbation rows, pooled corruption rows)."""
    rows: list[dict[str, Any]] = []
    corruption_sums: list[Sums] = []
    for perturbation, family in labels:
        perturbation_rows, sums = _comparisons_of(run, pair, perturbation, family, n_resamples, seed, scaled)
        rows += perturbation_rows
        if family == "corruption" and sums:
            corruption_sums.append(sums)
    return rows, _pooled_rows(pair, corruption_sums) if corruption_sums else []


def _pooled_rows(pair: Pair, parts: list[Sums]) -> list[dict[str, Any]]:
    rows = []
    n = int(sum(p["ece"][0][0, -1] for p in parts))  # the ECE sums carry the sample count
    finish = {name: make(np.zeros(1), np.zeros(1, bool)).finish for name, make in LINEAR.items()}
    for metric in LINEAR:
        point_r, point_n, boot_r, boot_n = (functools.reduce(operator.add, (p[metric][k] for p in parts))
                                            for k in range(4))
        rows.append(_linear_row(pair, CORRUPTIONS_PANEL, "corruption", metric, finish[metric], point_r, point_n,
                                boot_r, boot_n, n))
    return rows


def _linear_row(pair: Pair, perturbation: str, family: str, metric: str, finish: Any, point_r: np.ndarray,
                point_n: np.ndarray, boot_r: np.ndarray, boot_n: np.ndarray, n: int,
                counts: Counts | None = None) -> dict[str, Any]:
    value_r, value_n = float(finish(point_r)[0]), float(finish(point_n)[0])
    interval = percentile_interval(value_r - value_n, finish(boot_r) - finish(boot_n), n)
    note = ""
    if not np.isfinite(interval.estimate):
        note = _undefined_note(metric, value_r, value_n)
    elif not interval.defined:
        note = "interval undefined: some resample has no wrong (or no correct) prediction"
    return _row(pair, perturbation, family, metric, **_values(metric, value_r, value_n), estimate=interval.estimate,
                low=interval.low, high=interval.high, n=n, note=note, **(counts or {}))


def _linear_comparisons(pair: Pair, perturbation: str, family: str, metrics: dict[str, tuple[Linear, Linear]], n: int,
                  n_resamples: int, seed: int, counts: dict[str, Counts]) -> tuple[list[dict[str, Any]], Sums]:
    names = list(metrics)
    flat = [m for name in names for m in metrics[name]]
    points, boots = linear_sums(flat, n, n_resamples, seed)
    rows, sums = [], {}
    for k, name in enumerate(names):
        point_r, point_n, boot_r, boot_n = points[2 * k], points[2 * k + 1], boots[2 * k], boots[2 * k + 1]
        rows.append(_linear_row(pair, perturbation, family, name, metrics[name][0].finish, point_r, point_n,
                                boot_r, boot_n, n, counts.get(name)))
        sums[name] = (point_r, point_n, boot_r, boot_n)
    return rows, sums


def _comparisons_of(run: RunData, pair: Pair, perturbation: str, family: str, n_resamples: int, seed: int,
              scaled: pd.DataFrame) -> tuple[list[dict[str, Any]], Sums]:
    metrics = ["overconfidence", "underconfidence", "ece", "auroc"]
    if family == "attack":
        metrics += ["detection_auroc", "normal_rise", "robust_rise"]
    if family == "clean" and len(scaled):
        metrics += [metric for metric, _ in CALIBRATORS.values()]
    empty = pd.DataFrame(columns=["index", "confidence", "correct"])
    cell_r = run.cell(pair.robust, perturbation) if pair.robust else empty
    cell_n = run.cell(pair.normal, perturbation) if pair.normal else empty
    joined = _join(cell_r, cell_n) if len(cell_r) and len(cell_n) else pd.DataFrame()
    if joined.empty:
        note = _missing_note(run, pair, [perturbation])
        return [_row(pair, perturbation, family, m, note=note) for m in metrics], {}
    conf_r, ok_r = _arrays(joined, 0)
    conf_n, ok_n = _arrays(joined, 1)
    linear = {name: (make(conf_r, ok_r), make(conf_n, ok_n)) for name, make in LINEAR.items()}
    both = _counts(ok_r, ok_n)
    rows, sums = _linear_comparisons(pair, perturbation, family, linear, len(joined), n_resamples, seed,
                               dict.fromkeys(linear, both))
    auroc: dict[str, tuple[Statistic, Statistic | None]] = {
        "auroc": (misclassification_auroc_stat(conf_r, ok_r), misclassification_auroc_stat(conf_n, ok_n))}
    rows += _interval_rows(pair, perturbation, family, auroc, len(joined), n_resamples, seed, {"auroc": both})
    if family == "attack":
        clean_r, clean_n = run.cell(pair.robust, "clean"), run.cell(pair.normal, "clean")
        four = _join(cell_r, cell_n, clean_r, clean_n) if len(clean_r) and len(clean_n) else pd.DataFrame()
        if four.empty:
            note = _missing_note(run, pair, ["clean"])
            rows += [_row(pair, perturbation, family, m, note=note) for m in ("detection_auroc", "normal_rise", "robust_rise")]
        else:
            a_r, a_n, c_r, c_n = (_arrays(four, k) for k in range(4))
            detection: dict[str, tuple[Statistic, Statistic | None]] = {
                "detection_auroc": (detection_auroc_stat(*c_r, *a_r), detection_auroc_stat(*c_n, *a_n))}
            behind = {"robust_correct": int(c_r[1].sum()), "robust_wrong": int((~a_r[1]).sum()),
                      "normal_correct": int(c_n[1].sum()), "normal_wrong": int((~a_n[1]).sum())}
            rows += _interval_rows(pair, perturbation, family, detection, len(four), n_resamples, seed,
                                   {"detection_auroc": behind})
            rise = {"normal_rise": (overconfidence_linear(*a_n), overconfidence_linear(*c_n)),
                    "robust_rise": (overconfidence_linear(*a_r), overconfidence_linear(*c_r))}
            rise_counts = {"normal_rise": _counts(a_n[1], c_n[1]), "robust_rise": _counts(a_r[1], c_r[1])}
            rows += _linear_comparisons(pair, perturbation, family, rise, len(four), n_resamples, seed, rise_counts)[0]
    if family == "clean" and len(scaled):
        rows += _calibrated_rows(pair, perturbation, family, scaled, n_resamples, seed)
    return rows, sums


def _calibrated_rows(pair: Pair, perturbation: str, family: str, scaled: pd.DataFrame, n_resamples: int,
                     seed: int) -> list[dict[str, Any]]:
    """o(f) after each calibrator of :mod:`overconf.report.calibrators`, robust − normal, on the held-out half."""
    part_r, part_n = scaled[scaled["model"] == pair.robust], scaled[scaled["model"] == pair.normal]
    joined = _join(part_r.drop(columns="model"), part_n.drop(columns="model")) if len(part_r) and len(part_n) else pd.DataFrame()
    rows = []
    for key, (metric, name) in CALIBRATORS.items():
        column = f"confidence_{key}"
        if joined.empty or not np.isfinite(joined[[f"{column}_0", f"{column}_1"]].to_numpy(float)).all():
            why = "no logits or no fitted temperature" if key == "ts" else "no clean records of both halves"
            rows.append(_row(pair, perturbation, family, metric, note=f"no {name} ({why})"))
            continue
        ok_r, ok_n = joined["correct_0"].to_numpy(bool), joined["correct_1"].to_numpy(bool)
        conf_r, conf_n = joined[f"{column}_0"].to_numpy(np.float64), joined[f"{column}_1"].to_numpy(np.float64)
        after = {metric: (overconfidence_linear(conf_r, ok_r), overconfidence_linear(conf_n, ok_n))}
        rows += _linear_comparisons(pair, perturbation, family, after, len(joined), n_resamples, seed,
                              {metric: _counts(ok_r, ok_n)})[0]
    return rows


def _interval_rows(pair: Pair, perturbation: str, family: str, stats: dict[str, tuple[Statistic, Statistic | None]],
                   n: int, n_resamples: int, seed: int, counts: dict[str, Counts]) -> list[dict[str, Any]]:
    intervals = difference_intervals(stats, n, n_resamples=n_resamples, seed=seed)
    ones = np.ones((1, n))
    rows = []
    for metric, (first, second) in stats.items():
        value_r = float(first(ones)[0])
        value_n = float(second(ones)[0]) if second is not None else float("nan")
        interval = intervals[metric]
        note = ""
        if not np.isfinite(interval.estimate):
            note = _undefined_note(metric, value_r, value_n)
        elif not interval.defined:
            note = "interval undefined: some resample has only right or only wrong predictions"
        rows.append(_row(pair, perturbation, family, metric, **_values(metric, value_r, value_n),
                         estimate=interval.estimate, low=interval.low, high=interval.high, n=n, note=note,
                         **counts.get(metric, {})))
    return rows


def ood_comparisons(run: RunData, pairs: list[Pair], n_resamples: int = N_RESAMPLES, seed: int = 0) -> pd.DataFrame:
    """Rows of :data:`COMPARISON_COLUMNS` for every pair × OOD label (family ``ood``): ``ood_auroc`` (clean inputs
    positive, OOD inputs negative, by confidence) and ``ood_confidence`` (mean confidence on the OOD inputs),
    robust − normal. The two models' clean records are joined on ``index``, and so are their OOD records; a
    resample draws from the ``n_clean + n_ood`` joined entries at once (the same weights for both models)."""
    rows: list[dict[str, Any]] = []
    for pair in pairs:
        labels = sorted({f.perturbation for f in run.files if f.family == "ood" and f.model in (pair.robust, pair.normal)})
        for label in labels:
            clean_r, clean_n = run.cell(pair.robust, "clean"), run.cell(pair.normal, "clean")
            ood_r, ood_n = run.cell(pair.robust, label), run.cell(pair.normal, label)
            if min(len(clean_r), len(clean_n), len(ood_r), len(ood_n)) == 0 or not pair.normal:
                note = _missing_note(run, pair, ["clean", label])
                rows += [_row(pair, label, "ood", m, note=note) for m in ("ood_auroc", "ood_confidence")]
                continue
            inside, outside = _join(clean_r, clean_n), _join(ood_r, ood_n)
            n_in, n_out = len(inside), len(outside)
            positive = np.r_[np.ones(n_in, bool), np.zeros(n_out, bool)]
            score_r = np.r_[inside["confidence_0"].to_numpy(np.float64), outside["confidence_0"].to_numpy(np.float64)]
            score_n = np.r_[inside["confidence_1"].to_numpy(np.float64), outside["confidence_1"].to_numpy(np.float64)]
            stats: dict[str, tuple[Statistic, Statistic | None]] = {
                "ood_auroc": (auroc_stat(score_r, positive), auroc_stat(score_n, positive))}
            counts = {"robust_correct": n_in, "robust_wrong": n_out, "normal_correct": n_in, "normal_wrong": n_out}
            rows += _interval_rows(pair, label, "ood", stats, n_in + n_out, n_resamples, seed, {"ood_auroc": counts})
            mean = {"ood_confidence": (_mean_linear(score_r, ~positive), _mean_linear(score_n, ~positive))}
            rows += _linear_comparisons(pair, label, "ood", mean, n_in + n_out, n_resamples, seed, {"ood_confidence": counts})[0]
    return pd.DataFrame(rows, columns=COMPARISON_COLUMNS)


def _mean_linear(values: np.ndarray, member: np.ndarray) -> Linear:
    """The mean of ``values`` over the entries in ``member``, as weighted sums."""
    inside = member.astype(np.float64)
    return Linear(np.column_stack([values * inside, inside]), lambda sums: sums[:, 0] / np.where(sums[:, 1] > 0, sums[:, 1], np.nan))


#: the usual block of each building-block key: the others are compared against it (Figs. 5–6)
STANDARD_BLOCKS = {"downsampling": ("maxpool", "stride", "strided", "conv"), "activation": ("relu",)}


def block_pairs(models: pd.DataFrame) -> list[tuple[str, Pair]]:
    """``(key, Pair)`` per model with a non-standard building block against the standard model of its group
    (:func:`overconf.report.load.block_groups`: same data set and training, differing only in ``key``), for
    normally and for adversarially trained models. The Pair's ``robust`` slot holds the alternative block,
    ``normal`` the standard one; its name says both and the training (``flc vs maxpool · normal``)."""
    out: list[tuple[str, Pair]] = []
    for robust in (False, True):
        members = models[models["robust"].to_numpy(bool) == robust].assign(robust=False)
        configs = dict(zip(members["model"], members["config"]))
        for dataset, key, names in block_groups(members):
            values = {m: str(configs[m][key]) for m in names}
            standard = next((m for m in names if values[m].lower() in STANDARD_BLOCKS.get(key, ())), names[0])
            for model in names:
                if model != standard:
                    name = f"{values[model]} vs {values[standard]} · {'robust' if robust else 'normal'}"
                    out.append((key, Pair(dataset, name, model, standard)))
    return out


def block_comparisons(run: RunData, blocks: list[tuple[str, Pair]], n_resamples: int = N_RESAMPLES,
                seed: int = 0) -> pd.DataFrame:
    """Clean rows of :data:`COMPARISON_COLUMNS` (o(f), u(f), ECE, AUROC) for every :func:`block_pairs` pair, plus a
    ``block`` column naming the key; ``robust``/``normal`` hold the alternative and the standard model."""
    rows = []
    empty = pd.DataFrame(columns=CALIBRATED_COLUMNS)
    for key, pair in blocks:
        rows += [{**r, "block": key} for r in _comparisons_of(run, pair, "clean", "clean", n_resamples, seed, empty)[0]]
    return pd.DataFrame(rows, columns=[*COMPARISON_COLUMNS, "block"])
